//! The proxy listeners: HTTP/1.1 and cleartext HTTP/2 on one port, HTTPS with SNI on
//! another, every request through the pipeline.

use std::convert::Infallible;
use std::sync::Arc;

use http::header::{CONNECTION, HeaderValue};
use hyper::service::service_fn;
use tokio::net::TcpListener;

use super::pipeline::{self, ClientConnection, ProxyState};
use crate::node::listener::{self, Signals, Transport};

pub(crate) async fn serve(
    listener: TcpListener,
    transport: Transport,
    state: Arc<ProxyState>,
    signals: Signals,
) {
    let name = match transport {
        Transport::Plain => "proxy",
        Transport::Tls(_) => "proxy-tls",
    };
    listener::serve(
        listener,
        name,
        transport,
        signals,
        move |client_addr, tls| {
            let state = state.clone();
            let client = Arc::new(ClientConnection::new(client_addr, tls));
            service_fn(move |req| {
                let state = state.clone();
                let client = client.clone();
                async move {
                    let http1 = req.version() < http::Version::HTTP_2;
                    let mut response = pipeline::handle(&state, req, &client).await;
                    // A draining node sheds HTTP/1.1 connections one answer at a time (see
                    // `node::lifecycle`); HTTP/2 ones got GOAWAY instead.
                    if http1 && state.lifecycle.is_draining() {
                        response
                            .headers_mut()
                            .insert(CONNECTION, HeaderValue::from_static("close"));
                    }
                    Ok::<_, Infallible>(response)
                }
            })
        },
    )
    .await;
}
