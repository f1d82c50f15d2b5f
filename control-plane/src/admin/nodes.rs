use axum::extract::State;
use axum::routing::get;
use axum::{Extension, Json, Router};
use portico_model::{ApiServing, NodeList};

use super::extract::{AwsPath, QueryMap};
use super::{AdminState, ApiError};
use crate::identity::Caller;

pub fn router() -> Router<AdminState> {
    Router::new()
        .route("/portico/nodes", get(list))
        .route("/portico/apis/{api_id}/serving", get(serving))
}

/// `?history=true` lists every node ever seen, not only those seen recently.
async fn list(
    State(s): State<AdminState>,
    Extension(caller): Extension<Caller>,
    QueryMap(query): QueryMap,
) -> Result<Json<NodeList>, ApiError> {
    let history = match query.get("history").map(String::as_str) {
        None | Some("false") => false,
        Some("true") => true,
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "Invalid history '{other}': true or false"
            )));
        }
    };
    Ok(Json(s.service.list_nodes(&caller, history).await?))
}

async fn serving(
    State(s): State<AdminState>,
    Extension(caller): Extension<Caller>,
    AwsPath(api_id): AwsPath<String>,
) -> Result<Json<ApiServing>, ApiError> {
    Ok(Json(s.service.api_serving(&caller, &api_id).await?))
}
