//! `/v2/vpclinks` in AWS's REST shape (CreateVpcLink 201, GetVpcLink(s), UpdateVpcLink,
//! DeleteVpcLink 202 with an empty body, as botocore's apigatewayv2 model has them), and
//! Portico's `/portico/vpclinks/{vpcLinkId}/targets`.
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Extension, Json, Router, extract::State};
use portico_model::{
    CreateVpcLink, Page, PutVpcLinkTargets, UpdateVpcLink, VpcLink, VpcLinkTargetsView,
};

use super::extract::{AwsJson, AwsPath, ListQuery};
use super::{AdminState, ApiError};
use crate::identity::Caller;

pub fn router() -> Router<AdminState> {
    Router::new()
        .route("/v2/vpclinks", get(list).post(create))
        .route(
            "/v2/vpclinks/{vpc_link_id}",
            get(read).patch(update).delete(delete),
        )
        .route(
            "/portico/vpclinks/{vpc_link_id}/targets",
            get(read_targets).put(put_targets),
        )
}

async fn create(
    State(s): State<AdminState>,
    Extension(caller): Extension<Caller>,
    AwsJson(input): AwsJson<CreateVpcLink>,
) -> Result<(StatusCode, Json<VpcLink>), ApiError> {
    let created = s.service.create_vpc_link(&caller, input).await?;
    Ok((StatusCode::CREATED, Json(created)))
}

async fn list(
    State(s): State<AdminState>,
    Extension(caller): Extension<Caller>,
    ListQuery(q): ListQuery,
) -> Result<Json<Page<VpcLink>>, ApiError> {
    Ok(Json(s.service.list_vpc_links(&caller, q).await?))
}

async fn read(
    State(s): State<AdminState>,
    Extension(caller): Extension<Caller>,
    AwsPath(id): AwsPath<String>,
) -> Result<Json<VpcLink>, ApiError> {
    Ok(Json(s.service.get_vpc_link(&caller, &id).await?))
}

async fn update(
    State(s): State<AdminState>,
    Extension(caller): Extension<Caller>,
    AwsPath(id): AwsPath<String>,
    AwsJson(input): AwsJson<UpdateVpcLink>,
) -> Result<Json<VpcLink>, ApiError> {
    Ok(Json(s.service.update_vpc_link(&caller, &id, input).await?))
}

async fn delete(
    State(s): State<AdminState>,
    Extension(caller): Extension<Caller>,
    AwsPath(id): AwsPath<String>,
) -> Result<StatusCode, ApiError> {
    s.service.delete_vpc_link(&caller, &id).await?;
    Ok(StatusCode::ACCEPTED)
}

async fn read_targets(
    State(s): State<AdminState>,
    Extension(caller): Extension<Caller>,
    AwsPath(id): AwsPath<String>,
) -> Result<Json<VpcLinkTargetsView>, ApiError> {
    Ok(Json(s.service.get_vpc_link_targets(&caller, &id).await?))
}

async fn put_targets(
    State(s): State<AdminState>,
    Extension(caller): Extension<Caller>,
    AwsPath(id): AwsPath<String>,
    AwsJson(input): AwsJson<PutVpcLinkTargets>,
) -> Result<Json<VpcLinkTargetsView>, ApiError> {
    Ok(Json(
        s.service.put_vpc_link_targets(&caller, &id, input).await?,
    ))
}
