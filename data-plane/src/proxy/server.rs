//! The proxy listeners: HTTP/1.1 and cleartext HTTP/2 on one port, HTTPS with SNI on
//! another, every request through the pipeline.

use std::convert::Infallible;
use std::sync::Arc;

use hyper::service::service_fn;
use tokio::net::TcpListener;
use tokio::sync::watch;

use super::pipeline::{self, ClientConnection, ProxyState};
use crate::node::listener::{self, Transport};

pub(crate) async fn serve(
    listener: TcpListener,
    transport: Transport,
    state: Arc<ProxyState>,
    stop: watch::Receiver<bool>,
) {
    let name = match transport {
        Transport::Plain => "proxy",
        Transport::Tls(_) => "proxy-tls",
    };
    listener::serve(listener, name, transport, stop, move |client_addr, tls| {
        let state = state.clone();
        let client = Arc::new(ClientConnection::new(client_addr, tls));
        service_fn(move |req| {
            let state = state.clone();
            let client = client.clone();
            async move { Ok::<_, Infallible>(pipeline::handle(&state, req, &client).await) }
        })
    })
    .await;
}
