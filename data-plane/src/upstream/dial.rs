//! Connections to one address chosen by the caller (a VPC-link endpoint) rather than to
//! the host a URI names: plain TCP, or TLS with the name the certificate must carry, which
//! is also the SNI. Both the pool and the health checks dial this way.
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use hyper::client::conn::http1;
use hyper_util::rt::TokioIo;
use rustls::ClientConfig;
use rustls::pki_types::ServerName;
use tokio::net::TcpStream;
use tracing::debug;

/// A target that does not even answer the handshake is given up on this soon, so the
/// request can go to another one well inside its integration timeout.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);

/// TLS to an endpoint: the link's roots and the name to verify.
#[derive(Debug, Clone)]
pub struct DialTls {
    pub config: Arc<ClientConfig>,
    pub server_name: ServerName<'static>,
    /// Tells idle connections made with different TLS settings apart.
    pub id: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum DialError {
    #[error("connect timed out after {0:?}")]
    Timeout(Duration),
    #[error("connect failed")]
    Connect(#[source] std::io::Error),
    #[error("TLS handshake failed")]
    Tls(#[source] std::io::Error),
    #[error("HTTP/1.1 handshake failed")]
    Handshake(#[source] hyper::Error),
}

/// Connects and readies an HTTP/1.1 connection; the connection's task runs on the
/// current runtime.
pub async fn dial<B>(
    addr: SocketAddr,
    tls: Option<&DialTls>,
) -> Result<http1::SendRequest<B>, DialError>
where
    B: http_body::Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let tcp = match tokio::time::timeout(CONNECT_TIMEOUT, TcpStream::connect(addr)).await {
        Err(_) => return Err(DialError::Timeout(CONNECT_TIMEOUT)),
        Ok(Err(e)) => return Err(DialError::Connect(e)),
        Ok(Ok(tcp)) => tcp,
    };
    // Requests are small writes that must not wait for an ACK.
    let _ = tcp.set_nodelay(true);
    match tls {
        None => handshake(TokioIo::new(tcp), addr).await,
        Some(tls) => {
            let connector = tokio_rustls::TlsConnector::from(tls.config.clone());
            let stream = tokio::time::timeout(
                CONNECT_TIMEOUT,
                connector.connect(tls.server_name.clone(), tcp),
            )
            .await
            .map_err(|_| DialError::Timeout(CONNECT_TIMEOUT))?
            .map_err(DialError::Tls)?;
            handshake(TokioIo::new(stream), addr).await
        }
    }
}

async fn handshake<IO, B>(io: IO, addr: SocketAddr) -> Result<http1::SendRequest<B>, DialError>
where
    IO: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
    B: http_body::Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let (sender, connection) = http1::Builder::new()
        .handshake(io)
        .await
        .map_err(DialError::Handshake)?;
    tokio::spawn(async move {
        if let Err(e) = connection.await {
            debug!(%addr, "endpoint connection ended: {e}");
        }
    });
    Ok(sender)
}
