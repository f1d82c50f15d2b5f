use axum::extract::State;
use axum::routing::get;
use axum::{Extension, Json, Router};
use portico_model::{ApiServing, NodeList};

use super::extract::AwsPath;
use super::{AdminState, ApiError};
use crate::identity::Caller;

pub fn router() -> Router<AdminState> {
    Router::new()
        .route("/portico/nodes", get(list))
        .route("/portico/apis/{api_id}/serving", get(serving))
}

async fn list(
    State(s): State<AdminState>,
    Extension(caller): Extension<Caller>,
) -> Result<Json<NodeList>, ApiError> {
    Ok(Json(s.service.list_nodes(&caller).await?))
}

async fn serving(
    State(s): State<AdminState>,
    Extension(caller): Extension<Caller>,
    AwsPath(api_id): AwsPath<String>,
) -> Result<Json<ApiServing>, ApiError> {
    Ok(Json(s.service.api_serving(&caller, &api_id).await?))
}
