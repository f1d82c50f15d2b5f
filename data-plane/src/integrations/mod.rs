//! What a matched route calls: `HTTP_PROXY` today; Lambda (the Invoke API) and VPC links
//! are further files here.
pub mod http_proxy;

/// Largest request body an integration is sent, as in AWS HTTP APIs (10 MB).
pub const MAX_BODY_BYTES: usize = 10_485_760;
