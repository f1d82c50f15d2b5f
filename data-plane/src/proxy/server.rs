//! The proxy listener: HTTP/1.1 and cleartext HTTP/2 on one port, every request through
//! the pipeline.

use std::convert::Infallible;
use std::sync::Arc;

use hyper::service::service_fn;
use tokio::net::TcpListener;
use tokio::sync::watch;

use super::pipeline::{self, ClientConnection, ProxyState};
use crate::node::listener;

pub(crate) async fn serve(
    listener: TcpListener,
    state: Arc<ProxyState>,
    stop: watch::Receiver<bool>,
) {
    listener::serve(listener, "proxy", stop, move |client_addr| {
        let state = state.clone();
        let client = Arc::new(ClientConnection::new(client_addr));
        service_fn(move |req| {
            let state = state.clone();
            let client = client.clone();
            async move { Ok::<_, Infallible>(pipeline::handle(&state, req, &client).await) }
        })
    })
    .await;
}
