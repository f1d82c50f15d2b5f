use axum::http::StatusCode;
use axum::routing::{delete, get, post};
use axum::{Extension, Json, Router, extract::State};
use portico_model::{AccessKey, CreateUser, Page, UpdateUser, User};

use super::extract::{AwsJson, AwsPath};
use super::{AdminState, ApiError};
use crate::identity::Caller;

pub fn router() -> Router<AdminState> {
    Router::new()
        .route("/portico/users", get(list).post(create))
        .route(
            "/portico/users/{user_name}",
            get(read).patch(update).delete(remove),
        )
        .route(
            "/portico/users/{user_name}/access-keys",
            get(list_keys).post(create_key),
        )
        .route(
            "/portico/users/{user_name}/access-keys/{key_id}",
            delete(delete_key),
        )
        .route(
            "/portico/users/{user_name}/access-keys/{key_id}/rotate",
            post(rotate_key),
        )
}

async fn create(
    State(s): State<AdminState>,
    Extension(caller): Extension<Caller>,
    AwsJson(input): AwsJson<CreateUser>,
) -> Result<(StatusCode, Json<User>), ApiError> {
    Ok((
        StatusCode::CREATED,
        Json(s.service.create_user(&caller, input).await?),
    ))
}

async fn list(
    State(s): State<AdminState>,
    Extension(caller): Extension<Caller>,
) -> Result<Json<Page<User>>, ApiError> {
    Ok(Json(s.service.list_users(&caller).await?))
}

async fn read(
    State(s): State<AdminState>,
    Extension(caller): Extension<Caller>,
    AwsPath(name): AwsPath<String>,
) -> Result<Json<User>, ApiError> {
    Ok(Json(s.service.get_user(&caller, &name).await?))
}

async fn update(
    State(s): State<AdminState>,
    Extension(caller): Extension<Caller>,
    AwsPath(name): AwsPath<String>,
    AwsJson(input): AwsJson<UpdateUser>,
) -> Result<Json<User>, ApiError> {
    Ok(Json(s.service.update_user(&caller, &name, input).await?))
}

async fn remove(
    State(s): State<AdminState>,
    Extension(caller): Extension<Caller>,
    AwsPath(name): AwsPath<String>,
) -> Result<StatusCode, ApiError> {
    s.service.delete_user(&caller, &name).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn create_key(
    State(s): State<AdminState>,
    Extension(caller): Extension<Caller>,
    AwsPath(name): AwsPath<String>,
) -> Result<(StatusCode, Json<AccessKey>), ApiError> {
    Ok((
        StatusCode::CREATED,
        Json(s.service.create_access_key(&caller, &name).await?),
    ))
}

async fn list_keys(
    State(s): State<AdminState>,
    Extension(caller): Extension<Caller>,
    AwsPath(name): AwsPath<String>,
) -> Result<Json<Page<AccessKey>>, ApiError> {
    Ok(Json(s.service.list_access_keys(&caller, &name).await?))
}

async fn rotate_key(
    State(s): State<AdminState>,
    Extension(caller): Extension<Caller>,
    AwsPath((name, key_id)): AwsPath<(String, String)>,
) -> Result<(StatusCode, Json<AccessKey>), ApiError> {
    Ok((
        StatusCode::CREATED,
        Json(s.service.rotate_access_key(&caller, &name, &key_id).await?),
    ))
}

async fn delete_key(
    State(s): State<AdminState>,
    Extension(caller): Extension<Caller>,
    AwsPath((name, key_id)): AwsPath<(String, String)>,
) -> Result<StatusCode, ApiError> {
    s.service.delete_access_key(&caller, &name, &key_id).await?;
    Ok(StatusCode::NO_CONTENT)
}
