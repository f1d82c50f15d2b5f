use axum::http::StatusCode;
use axum::routing::get;
use axum::{Extension, Json, Router, extract::State};
use portico_model::{CreateStage, Page, Stage, UpdateStage};

use super::extract::{AwsJson, AwsPath, ListQuery};
use super::{AdminState, ApiError};
use crate::identity::Caller;

pub fn router() -> Router<AdminState> {
    Router::new()
        .route("/v2/apis/{api_id}/stages", get(list).post(create))
        .route(
            "/v2/apis/{api_id}/stages/{stage_name}",
            get(read).patch(update).delete(delete),
        )
        .route(
            "/v2/apis/{api_id}/stages/{stage_name}/routesettings/{route_key}",
            axum::routing::delete(delete_route_settings),
        )
}

async fn delete_route_settings(
    State(s): State<AdminState>,
    Extension(caller): Extension<Caller>,
    AwsPath((api_id, stage, route_key)): AwsPath<(String, String, String)>,
) -> Result<StatusCode, ApiError> {
    s.service
        .delete_route_settings(&caller, &api_id, &stage, &route_key)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn create(
    State(s): State<AdminState>,
    Extension(caller): Extension<Caller>,
    AwsPath(api_id): AwsPath<String>,
    AwsJson(input): AwsJson<CreateStage>,
) -> Result<(StatusCode, Json<Stage>), ApiError> {
    let created = s.service.create_stage(&caller, &api_id, input).await?;
    Ok((StatusCode::CREATED, Json(created)))
}

async fn list(
    State(s): State<AdminState>,
    Extension(caller): Extension<Caller>,
    AwsPath(api_id): AwsPath<String>,
    ListQuery(q): ListQuery,
) -> Result<Json<Page<Stage>>, ApiError> {
    Ok(Json(s.service.list_stages(&caller, &api_id, q).await?))
}

async fn read(
    State(s): State<AdminState>,
    Extension(caller): Extension<Caller>,
    AwsPath((api_id, id)): AwsPath<(String, String)>,
) -> Result<Json<Stage>, ApiError> {
    Ok(Json(s.service.get_stage(&caller, &api_id, &id).await?))
}

async fn update(
    State(s): State<AdminState>,
    Extension(caller): Extension<Caller>,
    AwsPath((api_id, id)): AwsPath<(String, String)>,
    AwsJson(input): AwsJson<UpdateStage>,
) -> Result<Json<Stage>, ApiError> {
    Ok(Json(
        s.service.update_stage(&caller, &api_id, &id, input).await?,
    ))
}

async fn delete(
    State(s): State<AdminState>,
    Extension(caller): Extension<Caller>,
    AwsPath((api_id, id)): AwsPath<(String, String)>,
) -> Result<StatusCode, ApiError> {
    s.service.delete_stage(&caller, &api_id, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
