//! The proxy listeners: HTTP/1.1 and cleartext HTTP/2 on one port, HTTPS with SNI on
//! another, every request through the pipeline once it has passed the node's client
//! limits.

use std::convert::Infallible;
use std::sync::Arc;

use http::header::{CONNECTION, HeaderValue, TRANSFER_ENCODING};
use http::{Request, StatusCode};
use http_body_util::Either;
use hyper::body::Incoming;
use hyper::service::service_fn;
use tokio::net::TcpListener;

use super::body::DownstreamBody;
use super::error::ProxyError;
use super::pipeline::{self, ClientConnection, ProxyState};
use crate::integrations::declared_length;
use crate::node::limits::ClientLimits;
use crate::node::listener::{self, ListenerLimits, Signals, Transport};

pub(crate) async fn serve(
    listener: TcpListener,
    transport: Transport,
    state: Arc<ProxyState>,
    limits: ListenerLimits,
    signals: Signals,
) {
    let name = match transport {
        Transport::Plain => "proxy",
        Transport::Tls(_) => "proxy-tls",
    };
    let client_limits = Arc::new(limits.client.clone());
    listener::serve(
        listener,
        name,
        transport,
        signals,
        limits,
        move |client_addr, tls| {
            let state = state.clone();
            let client_limits = client_limits.clone();
            let client = Arc::new(ClientConnection::new(client_addr, tls));
            service_fn(move |req| {
                let state = state.clone();
                let client = client.clone();
                let refused = refuse(&req, &client_limits);
                async move {
                    let http1 = req.version() < http::Version::HTTP_2;
                    let was_refused = refused.is_some();
                    let mut response = match refused {
                        Some(refusal) => {
                            let (parts, body) = req.into_parts();
                            // Dropped at once: a body still on its way is read off for a
                            // bounded time, so that the client sees the answer.
                            drop(DownstreamBody::new(
                                body,
                                parts.version,
                                state.body_read_timeout,
                                state.max_body_bytes,
                            ));
                            refusal.into_response().map(Either::Right)
                        }
                        None => pipeline::handle(&state, req, &client)
                            .await
                            .map(Either::Left),
                    };
                    // A draining node sheds HTTP/1.1 connections one answer at a time (see
                    // `node::lifecycle`); HTTP/2 ones got GOAWAY instead. A client refused
                    // by the limits, or too slow with its body, gets no second request.
                    let closing = was_refused
                        || response.status() == StatusCode::REQUEST_TIMEOUT
                        || state.lifecycle.is_draining();
                    if http1 && closing {
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

/// The node's own checks on a request head, before any phase runs: what hyper does not
/// already refuse (HTTP/1.1 heads over the size or count limit get hyper's 431, HTTP/2
/// header lists over the size limit a stream reset).
fn refuse(req: &Request<Incoming>, limits: &ClientLimits) -> Option<ProxyError> {
    let target = req.uri().path_and_query().map_or(0, |p| p.as_str().len());
    if target > limits.max_uri_bytes as usize {
        return Some(ProxyError::UriTooLong);
    }
    if req.headers().len() > usize::from(limits.max_headers) {
        return Some(ProxyError::TooManyHeaders);
    }
    // hyper takes any list of codings that ends in `chunked` as chunked; nginx refuses
    // every coding but `chunked` alone. An upstream that honoured a coding the node
    // ignored (or the reverse) would read the body differently.
    let mut codings = req.headers().get_all(TRANSFER_ENCODING).iter();
    if let Some(first) = codings.next() {
        let chunked = first
            .as_bytes()
            .trim_ascii()
            .eq_ignore_ascii_case(b"chunked");
        if !chunked || codings.next().is_some() {
            return Some(ProxyError::UnsupportedTransferCoding);
        }
    }
    // hyper has already refused a Content-Length that does not parse.
    if declared_length(req.headers()).is_some_and(|len| len > limits.max_body_bytes) {
        return Some(ProxyError::DeclaredBodyTooLarge);
    }
    None
}
