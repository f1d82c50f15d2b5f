use axum::routing::post;
use axum::{Extension, Json, Router, extract::State};
use portico_model::{TestInvokeRequest, TestInvokeResponse};

use super::extract::{AwsJson, AwsPath};
use super::{AdminState, ApiError};
use crate::identity::Caller;

pub fn router() -> Router<AdminState> {
    Router::new().route("/portico/apis/{api_id}/test-invoke", post(invoke))
}

async fn invoke(
    State(s): State<AdminState>,
    Extension(caller): Extension<Caller>,
    AwsPath(api_id): AwsPath<String>,
    AwsJson(input): AwsJson<TestInvokeRequest>,
) -> Result<Json<TestInvokeResponse>, ApiError> {
    Ok(Json(s.service.test_invoke(&caller, &api_id, input).await?))
}
