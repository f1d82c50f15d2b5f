//! What a matched route calls: `HTTP_PROXY` (`http_proxy.rs`) and Lambda functions
//! through the Invoke API (`lambda/`); VPC links are a further file here.
pub mod http_proxy;
pub mod lambda;

use http::HeaderMap;
use http::header::CONTENT_LENGTH;

/// Largest request body an integration is sent, as in AWS HTTP APIs (10 MB).
pub const MAX_BODY_BYTES: usize = 10_485_760;

/// The request's `Content-Length`, when it declares one that parses.
pub fn declared_length(headers: &HeaderMap) -> Option<u64> {
    headers
        .get(CONTENT_LENGTH)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()
}
