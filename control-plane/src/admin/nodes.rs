use axum::routing::get;
use axum::{Json, Router, extract::State};
use portico_model::{Node, Page};

use super::{AdminState, ApiError};

pub fn router() -> Router<AdminState> {
    Router::new().route("/portico/nodes", get(list))
}

async fn list(State(s): State<AdminState>) -> Result<Json<Page<Node>>, ApiError> {
    Ok(Json(s.service.list_nodes().await?))
}
