//! The TLS listener's handshake: the ClientHello's SNI picks a custom domain from the
//! live config and that domain's server config (certificate, TLS versions, ALPN, client
//! verification) finishes the handshake. A name no domain serves — or no name — is
//! refused before any certificate is sent. A snapshot that changes a certificate takes
//! effect at the next handshake; open connections keep the one they negotiated.

use arc_swap::ArcSwap;
use tokio::net::TcpStream;
use tokio_rustls::LazyConfigAcceptor;
use tokio_rustls::server::TlsStream;
use tracing::debug;

use crate::config::CompiledConfig;
use crate::proxy::client_tls::{ClientCert, ClientTls};

pub(crate) async fn accept(
    stream: TcpStream,
    config: &ArcSwap<CompiledConfig>,
) -> Option<(TlsStream<TcpStream>, ClientTls)> {
    let peer = stream.peer_addr().ok();
    let start = match LazyConfigAcceptor::new(rustls::server::Acceptor::default(), stream).await {
        Ok(start) => start,
        Err(e) => {
            debug!(?peer, "tls: no ClientHello: {e}");
            return None;
        }
    };
    let chosen = {
        let hello = start.client_hello();
        let Some(name) = hello.server_name() else {
            debug!(?peer, "tls: refused a ClientHello without SNI");
            return None;
        };
        let live = config.load();
        match live.domain_for_sni(name) {
            Some(domain) => (domain.tls.clone(), domain.name.clone()),
            None => {
                debug!(
                    ?peer,
                    server_name = name,
                    "tls: refused an unknown server name"
                );
                return None;
            }
        }
    };
    let (server_config, domain) = chosen;
    let stream = match start.into_stream(server_config).await {
        Ok(stream) => stream,
        Err(e) => {
            debug!(?peer, %domain, "tls: handshake failed: {e}");
            return None;
        }
    };
    let client_cert = stream
        .get_ref()
        .1
        .peer_certificates()
        .and_then(|chain| chain.first())
        .and_then(|leaf| ClientCert::from_der(leaf));
    Some((
        stream,
        ClientTls {
            domain,
            client_cert,
        },
    ))
}
