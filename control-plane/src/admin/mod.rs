//! The admin REST API: AWS API Gateway V2's REST shape under `/v2/…` (so boto3 and the
//! AWS CLI drive it with `--endpoint-url`) and Portico's own resources under `/portico/…`.
//! Each resource module owns its `router()`; `app` puts them together so tests can call
//! it without a socket.
mod apis;
mod audit;
pub mod auth;
mod authorizers;
mod certificates;
mod deployments;
mod domain_names;
mod error;
mod extract;
mod health;
mod integrations;
mod nodes;
mod openapi;
mod operations;
pub mod prometheus;
mod routes;
mod session;
mod settings;
mod stages;
mod tags;
mod test_invoke;
mod usage;
mod users;
mod vpc_links;

use axum::Router;
use axum::http::{Method, Uri};
use axum::routing::any;

pub use certificates::acm_on_root;
pub use error::ApiError;

use crate::service::AdminService;

/// Admin request bodies larger than this are refused (an OpenAPI import is the largest).
const MAX_ADMIN_BODY: usize = 8 * 1024 * 1024;

#[derive(Clone)]
pub struct AdminState {
    pub service: AdminService,
    pub metrics: std::sync::Arc<prometheus::ControlPlaneMetrics>,
    /// True once the replica has been told to stop (`/portico/health` then says 503).
    pub draining: tokio::sync::watch::Receiver<bool>,
}

impl AdminState {
    pub fn new(service: AdminService) -> Self {
        AdminState {
            service,
            metrics: Default::default(),
            draining: tokio::sync::watch::channel(false).1,
        }
    }

    pub fn with_draining(self, draining: tokio::sync::watch::Receiver<bool>) -> Self {
        AdminState { draining, ..self }
    }
}

/// Every route but login requires authentication (`auth`). Unknown paths under `/v2/` and
/// `/portico/` answer the API's JSON 404 even when the console (`console::with_console`)
/// takes over the fallback for everything else.
pub fn app(state: AdminState) -> Router {
    let authenticated = Router::new()
        .merge(apis::router())
        .merge(routes::router())
        .merge(integrations::router())
        .merge(authorizers::router())
        .merge(certificates::router())
        .merge(domain_names::router())
        .merge(stages::router())
        .merge(openapi::router())
        .merge(tags::router())
        .merge(deployments::router())
        .merge(nodes::router())
        .merge(settings::router())
        .merge(usage::router())
        .merge(test_invoke::router())
        .merge(users::router())
        .merge(vpc_links::router())
        .merge(audit::router())
        .merge(session::router())
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            auth::authenticate,
        ));
    authenticated
        .merge(session::public_router())
        .merge(health::public_router())
        .route("/metrics", axum::routing::get(prometheus::scrape))
        .route("/v2/{*rest}", any(not_found))
        .route("/portico/{*rest}", any(not_found))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(axum::extract::DefaultBodyLimit::max(MAX_ADMIN_BODY))
        .layer(axum::middleware::from_fn_with_state(
            state.metrics.clone(),
            prometheus::count_requests,
        ))
        .with_state(state)
}

async fn not_found(method: Method, uri: Uri) -> ApiError {
    match operations::operation_named(method.as_str(), uri.path()) {
        Some(operation) => ApiError::NotImplemented(operation),
        None => ApiError::NotFound(format!("No resource at {method} {}", uri.path())),
    }
}

async fn method_not_allowed(method: Method, uri: Uri) -> ApiError {
    match operations::operation_named(method.as_str(), uri.path()) {
        Some(operation) => ApiError::NotImplemented(operation),
        None => ApiError::MethodNotAllowed(format!("{method} is not allowed on {}", uri.path())),
    }
}
