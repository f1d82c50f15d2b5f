//! `GET` and `PATCH /portico/settings`: the cluster settings every replica serves.
use axum::routing::get;
use axum::{Extension, Json, Router, extract::State};
use portico_model::{ClusterSettings, UpdateClusterSettings};

use super::extract::AwsJson;
use super::{AdminState, ApiError};
use crate::identity::Caller;

pub fn router() -> Router<AdminState> {
    Router::new().route("/portico/settings", get(read).patch(update))
}

async fn read(
    State(s): State<AdminState>,
    Extension(caller): Extension<Caller>,
) -> Result<Json<ClusterSettings>, ApiError> {
    Ok(Json(s.service.get_settings(&caller).await?))
}

async fn update(
    State(s): State<AdminState>,
    Extension(caller): Extension<Caller>,
    AwsJson(input): AwsJson<UpdateClusterSettings>,
) -> Result<Json<ClusterSettings>, ApiError> {
    Ok(Json(s.service.update_settings(&caller, input).await?))
}
