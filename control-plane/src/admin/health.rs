//! `GET /portico/health`, unauthenticated, for load balancers and Kubernetes probes in
//! front of the replicas: 200 while this replica serves and reaches its store, 503 while
//! it drains on its way out (so the balancer moves the console and admin traffic to
//! another replica before this one stops) or when the store does not answer.
use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::json;

use super::AdminState;

pub fn public_router() -> Router<AdminState> {
    Router::new().route("/portico/health", get(health))
}

async fn health(State(state): State<AdminState>) -> Response {
    if *state.draining.borrow() {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({"status": "DRAINING", "message": "This replica is shutting down"})),
        )
            .into_response();
    }
    match state.service.store().snapshot_version().await {
        Ok(version) => (
            StatusCode::OK,
            Json(json!({"status": "SERVING", "storeVersion": version})),
        )
            .into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "health check: the store does not answer");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(
                    json!({"status": "STORE_UNAVAILABLE", "message": "The store does not answer"}),
                ),
            )
                .into_response()
        }
    }
}
