use axum::http::StatusCode;
use axum::routing::get;
use axum::{Extension, Json, Router, extract::State};
use portico_model::{Authorizer, CreateAuthorizer, Page, UpdateAuthorizer};

use super::extract::{AwsJson, AwsPath, ListQuery};
use super::{AdminState, ApiError};
use crate::identity::Caller;

pub fn router() -> Router<AdminState> {
    Router::new()
        .route("/v2/apis/{api_id}/authorizers", get(list).post(create))
        .route(
            "/v2/apis/{api_id}/authorizers/{authorizer_id}",
            get(read).patch(update).delete(delete),
        )
}

async fn create(
    State(s): State<AdminState>,
    Extension(caller): Extension<Caller>,
    AwsPath(api_id): AwsPath<String>,
    AwsJson(input): AwsJson<CreateAuthorizer>,
) -> Result<(StatusCode, Json<Authorizer>), ApiError> {
    let created = s.service.create_authorizer(&caller, &api_id, input).await?;
    Ok((StatusCode::CREATED, Json(created)))
}

async fn list(
    State(s): State<AdminState>,
    Extension(caller): Extension<Caller>,
    AwsPath(api_id): AwsPath<String>,
    ListQuery(q): ListQuery,
) -> Result<Json<Page<Authorizer>>, ApiError> {
    Ok(Json(s.service.list_authorizers(&caller, &api_id, q).await?))
}

async fn read(
    State(s): State<AdminState>,
    Extension(caller): Extension<Caller>,
    AwsPath((api_id, id)): AwsPath<(String, String)>,
) -> Result<Json<Authorizer>, ApiError> {
    Ok(Json(s.service.get_authorizer(&caller, &api_id, &id).await?))
}

async fn update(
    State(s): State<AdminState>,
    Extension(caller): Extension<Caller>,
    AwsPath((api_id, id)): AwsPath<(String, String)>,
    AwsJson(input): AwsJson<UpdateAuthorizer>,
) -> Result<Json<Authorizer>, ApiError> {
    Ok(Json(
        s.service
            .update_authorizer(&caller, &api_id, &id, input)
            .await?,
    ))
}

async fn delete(
    State(s): State<AdminState>,
    Extension(caller): Extension<Caller>,
    AwsPath((api_id, id)): AwsPath<(String, String)>,
) -> Result<StatusCode, ApiError> {
    s.service.delete_authorizer(&caller, &api_id, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
