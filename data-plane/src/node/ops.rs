//! The node's ops listener (`--metrics-addr`): `GET /health` says the process is up,
//! `GET /ready` says whether it serves a snapshot and is not draining, for load balancers
//! to route on, and `GET /metrics` is for Prometheus.

use std::convert::Infallible;
use std::sync::Arc;

use arc_swap::ArcSwap;
use bytes::Bytes;
use http::header::{CONTENT_TYPE, HeaderValue};
use http::{Method, Request, Response, StatusCode};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::service::service_fn;
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::config::CompiledConfig;
use crate::node::lifecycle::Lifecycle;
use crate::node::{listener, prometheus};
use crate::runtime::Runtime;

pub(crate) async fn serve(
    listener: TcpListener,
    config: Arc<ArcSwap<CompiledConfig>>,
    runtime: Arc<Runtime>,
    lifecycle: Arc<Lifecycle>,
    stop: watch::Receiver<bool>,
) {
    let registry = Arc::new(prometheus::registry(
        runtime,
        config.clone(),
        lifecycle.clone(),
    ));
    // Through the drain this listener keeps answering: `/ready` must say 503 until the end.
    let signals = listener::Signals { drain: None, stop };
    listener::serve(
        listener,
        "health",
        listener::Transport::Plain,
        signals,
        // The default client limits, and no cap: the ops endpoint must answer a
        // balancer even when the proxy listeners are full.
        listener::ListenerLimits::default(),
        move |_peer, _| {
            let (config, registry, lifecycle) =
                (config.clone(), registry.clone(), lifecycle.clone());
            service_fn(move |req| {
                let response = answer(&req, &config.load(), &lifecycle, &registry);
                async move { Ok::<_, Infallible>(response) }
            })
        },
    )
    .await;
}

fn answer(
    req: &Request<Incoming>,
    config: &CompiledConfig,
    lifecycle: &Lifecycle,
    registry: &prometheus_client::registry::Registry,
) -> Response<Full<Bytes>> {
    if !matches!(*req.method(), Method::GET | Method::HEAD) {
        return reply(
            StatusCode::METHOD_NOT_ALLOWED,
            "text/plain",
            "method not allowed\n".into(),
        );
    }
    match req.uri().path() {
        "/health" => reply(StatusCode::OK, "text/plain", "ok".into()),
        "/metrics" => reply(
            StatusCode::OK,
            prometheus::CONTENT_TYPE,
            prometheus::encode(registry),
        ),
        "/ready" if lifecycle.is_draining() => reply(
            StatusCode::SERVICE_UNAVAILABLE,
            "application/json",
            r#"{"message":"Draining"}"#.into(),
        ),
        "/ready" if config.is_live() => reply(
            StatusCode::OK,
            "application/json",
            // The hash is hex, so it needs no JSON escaping.
            format!(
                r#"{{"version":{},"contentHash":"{}"}}"#,
                config.version, config.content_hash
            ),
        ),
        "/ready" => reply(
            StatusCode::SERVICE_UNAVAILABLE,
            "application/json",
            r#"{"message":"No snapshot yet"}"#.into(),
        ),
        _ => reply(StatusCode::NOT_FOUND, "text/plain", "not found\n".into()),
    }
}

fn reply(status: StatusCode, content_type: &'static str, body: String) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(Bytes::from(body)));
    *r.status_mut() = status;
    r.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    r
}
