use axum::http::StatusCode;
use axum::routing::get;
use axum::{Extension, Json, Router, extract::State};
use portico_model::{Api, CreateApi, Page, UpdateApi};

use super::extract::{AwsJson, AwsPath, ListQuery};
use super::{AdminState, ApiError};
use crate::identity::Caller;

pub fn router() -> Router<AdminState> {
    Router::new()
        .route(
            "/v2/apis",
            get(list).post(create).put(super::openapi::import),
        )
        .route(
            "/v2/apis/{api_id}",
            get(read)
                .patch(update)
                .delete(delete)
                .put(super::openapi::reimport),
        )
        .route(
            "/v2/apis/{api_id}/cors",
            axum::routing::delete(delete_cors_configuration),
        )
}

async fn create(
    State(s): State<AdminState>,
    Extension(caller): Extension<Caller>,
    AwsJson(input): AwsJson<CreateApi>,
) -> Result<(StatusCode, Json<Api>), ApiError> {
    Ok((
        StatusCode::CREATED,
        Json(s.service.create_api(&caller, input).await?),
    ))
}

async fn list(
    State(s): State<AdminState>,
    Extension(caller): Extension<Caller>,
    ListQuery(q): ListQuery,
) -> Result<Json<Page<Api>>, ApiError> {
    Ok(Json(s.service.list_apis(&caller, q).await?))
}

async fn read(
    State(s): State<AdminState>,
    Extension(caller): Extension<Caller>,
    AwsPath(api_id): AwsPath<String>,
) -> Result<Json<Api>, ApiError> {
    Ok(Json(s.service.get_api(&caller, &api_id).await?))
}

async fn update(
    State(s): State<AdminState>,
    Extension(caller): Extension<Caller>,
    AwsPath(api_id): AwsPath<String>,
    AwsJson(input): AwsJson<UpdateApi>,
) -> Result<Json<Api>, ApiError> {
    Ok(Json(s.service.update_api(&caller, &api_id, input).await?))
}

async fn delete(
    State(s): State<AdminState>,
    Extension(caller): Extension<Caller>,
    AwsPath(api_id): AwsPath<String>,
) -> Result<StatusCode, ApiError> {
    s.service.delete_api(&caller, &api_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn delete_cors_configuration(
    State(s): State<AdminState>,
    Extension(caller): Extension<Caller>,
    AwsPath(api_id): AwsPath<String>,
) -> Result<StatusCode, ApiError> {
    s.service
        .delete_cors_configuration(&caller, &api_id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
