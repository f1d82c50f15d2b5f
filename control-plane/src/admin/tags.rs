//! `/v2/tags/{resource-arn}`: TagResource (POST), UntagResource (DELETE) and GetTags
//! (GET). The ARN is one path segment when the SDKs percent-encode it, several when a
//! client sends its slashes as they are; both are read.
use axum::extract::Query;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Extension, Json, Router, extract::State};
use portico_model::{ResourceTags, TagResourceBody};
use serde_json::{Value, json};

use super::extract::{AwsJson, AwsPath};
use super::{AdminState, ApiError};
use crate::identity::Caller;

pub fn router() -> Router<AdminState> {
    Router::new().route(
        "/v2/tags/{*resource_arn}",
        get(get_tags).post(tag).delete(untag),
    )
}

async fn get_tags(
    State(s): State<AdminState>,
    Extension(caller): Extension<Caller>,
    AwsPath(arn): AwsPath<String>,
) -> Result<Json<ResourceTags>, ApiError> {
    let tags = s.service.get_tags(&caller, &arn).await?;
    Ok(Json(ResourceTags { tags }))
}

async fn tag(
    State(s): State<AdminState>,
    Extension(caller): Extension<Caller>,
    AwsPath(arn): AwsPath<String>,
    AwsJson(input): AwsJson<TagResourceBody>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    s.service.tag_resource(&caller, &arn, input.tags).await?;
    Ok((StatusCode::CREATED, Json(json!({}))))
}

async fn untag(
    State(s): State<AdminState>,
    Extension(caller): Extension<Caller>,
    AwsPath(arn): AwsPath<String>,
    Query(query): Query<Vec<(String, String)>>,
) -> Result<StatusCode, ApiError> {
    let keys: Vec<String> = query
        .into_iter()
        .filter(|(k, _)| k == "tagKeys")
        .map(|(_, v)| v)
        .collect();
    s.service.untag_resource(&caller, &arn, &keys).await?;
    Ok(StatusCode::NO_CONTENT)
}
