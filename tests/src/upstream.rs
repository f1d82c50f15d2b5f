//! A real upstream HTTP server that answers every request with what it received, as JSON,
//! so tests can see exactly what the proxy sent. A request header
//! `x-echo-response-header: name: value` (any number of them) makes it answer with that
//! header too, so tests can see what the gateway does with a backend's headers.
use std::net::SocketAddr;

use axum::body::Bytes;
use axum::extract::Request;
use axum::http::HeaderMap;
use axum::response::IntoResponse;
use serde_json::json;

async fn echo(req: Request) -> impl IntoResponse {
    let (parts, body) = req.into_parts();
    let body = axum::body::to_bytes(body, 64 * 1024 * 1024)
        .await
        .unwrap_or_else(|_| Bytes::new());
    let headers: serde_json::Map<String, serde_json::Value> = parts
        .headers
        .iter()
        .map(|(k, v)| (k.to_string(), json!(v.to_str().unwrap_or(""))))
        .collect();
    let mut out = HeaderMap::new();
    out.insert("x-upstream", "echo".parse().expect("header"));
    for asked in parts.headers.get_all("x-echo-response-header") {
        if let Some((name, value)) = asked.to_str().ok().and_then(|a| a.split_once(':'))
            && let (Ok(name), Ok(value)) = (
                axum::http::HeaderName::try_from(name.trim()),
                axum::http::HeaderValue::try_from(value.trim()),
            )
        {
            out.append(name, value);
        }
    }
    (
        out,
        axum::Json(json!({
            "method": parts.method.as_str(),
            "path": parts.uri.path(),
            "query": parts.uri.query(),
            "headers": headers,
            "bodyLength": body.len(),
            "body": String::from_utf8_lossy(&body),
        })),
    )
}

/// Starts the echo server on a loopback port; it runs until the test's runtime ends.
pub async fn start() -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind upstream");
    let addr = listener.local_addr().expect("upstream addr");
    let app = axum::Router::new().fallback(echo);
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    addr
}
