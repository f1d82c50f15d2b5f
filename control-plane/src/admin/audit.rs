use axum::routing::get;
use axum::{Extension, Json, Router, extract::State};
use portico_model::{AuditEntry, Page};

use super::extract::ListQuery;
use super::{AdminState, ApiError};
use crate::identity::Caller;

pub fn router() -> Router<AdminState> {
    Router::new().route("/portico/audit", get(list))
}

async fn list(
    State(s): State<AdminState>,
    Extension(caller): Extension<Caller>,
    ListQuery(q): ListQuery,
) -> Result<Json<Page<AuditEntry>>, ApiError> {
    Ok(Json(s.service.list_audit(&caller, q).await?))
}
