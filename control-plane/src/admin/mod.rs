//! The admin REST API: AWS API Gateway V2's REST shape under `/v2/…` (so boto3 and the
//! AWS CLI drive it with `--endpoint-url`) and Portico's own resources under `/portico/…`.
//! Each resource module owns its `router()`; `app` puts them together so tests can call
//! it without a socket.
mod apis;
mod deployments;
mod error;
mod extract;
mod integrations;
mod nodes;
mod routes;
mod sigv4;
mod stages;

use axum::Router;
use axum::http::{Method, Uri};

pub use error::ApiError;
pub use sigv4::SigV4Authorization;

use crate::service::AdminService;

/// Admin request bodies larger than this are refused (an OpenAPI import is the largest).
const MAX_ADMIN_BODY: usize = 8 * 1024 * 1024;

#[derive(Clone)]
pub struct AdminState {
    pub service: AdminService,
}

pub fn app(state: AdminState) -> Router {
    Router::new()
        .merge(apis::router())
        .merge(routes::router())
        .merge(integrations::router())
        .merge(stages::router())
        .merge(deployments::router())
        .merge(nodes::router())
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(axum::middleware::from_fn(sigv4::read_sigv4))
        .layer(axum::extract::DefaultBodyLimit::max(MAX_ADMIN_BODY))
        .with_state(state)
}

async fn not_found(method: Method, uri: Uri) -> ApiError {
    ApiError::NotFound(format!("No resource at {method} {}", uri.path()))
}

async fn method_not_allowed(method: Method, uri: Uri) -> ApiError {
    ApiError::MethodNotAllowed(format!("{method} is not allowed on {}", uri.path()))
}
