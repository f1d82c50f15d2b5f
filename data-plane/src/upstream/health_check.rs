//! One active health check: `GET path` on a new connection to the endpoint, passed by any
//! 2xx or 3xx answer within the timeout (an ALB target group's default matcher is 200;
//! redirects pass here because a backend that redirects its health path is up).
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::header::{CONNECTION, HOST, USER_AGENT};
use http::{HeaderValue, Request};
use http_body_util::Empty;
use rustls::ClientConfig;
use rustls::pki_types::ServerName;

use super::dial::{DialTls, dial};

#[derive(Debug, Clone)]
pub struct CheckTarget {
    pub addr: SocketAddr,
    pub host: HeaderValue,
    pub path: String,
    pub tls: Option<(Arc<ClientConfig>, ServerName<'static>)>,
    pub timeout: Duration,
}

/// `Ok` when the endpoint passed; the reason it failed otherwise.
pub async fn check(t: &CheckTarget) -> Result<(), String> {
    match tokio::time::timeout(t.timeout, attempt(t)).await {
        Ok(outcome) => outcome,
        Err(_) => Err(format!("no answer within {:?}", t.timeout)),
    }
}

async fn attempt(t: &CheckTarget) -> Result<(), String> {
    let tls = t.tls.as_ref().map(|(config, name)| DialTls {
        config: config.clone(),
        server_name: name.clone(),
        id: 0,
    });
    let mut sender = dial::<Empty<Bytes>>(t.addr, tls.as_ref())
        .await
        .map_err(|e| crate::error_chain::ErrorChain(&e).to_string())?;
    let request = Request::get(t.path.as_str())
        .header(HOST, t.host.clone())
        .header(USER_AGENT, "portico-health-check")
        .header(CONNECTION, "close")
        .body(Empty::new())
        .map_err(|e| e.to_string())?;
    let response = sender
        .send_request(request)
        .await
        .map_err(|e| crate::error_chain::ErrorChain(&e).to_string())?;
    let status = response.status();
    if status.is_success() || status.is_redirection() {
        Ok(())
    } else {
        Err(format!("status {}", status.as_u16()))
    }
}
