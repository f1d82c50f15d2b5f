use axum::routing::get;
use axum::{Extension, Json, Router, extract::State};
use portico_model::NodeList;

use super::{AdminState, ApiError};
use crate::identity::Caller;

pub fn router() -> Router<AdminState> {
    Router::new().route("/portico/nodes", get(list))
}

async fn list(
    State(s): State<AdminState>,
    Extension(caller): Extension<Caller>,
) -> Result<Json<NodeList>, ApiError> {
    Ok(Json(s.service.list_nodes(&caller).await?))
}
