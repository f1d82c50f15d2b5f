//! Portico's own observability resources: an API's traffic series, the month's usage
//! and cost, the price table, budgets and their alerts (`/portico/…`; AWS has these in
//! CloudWatch and AWS Budgets, which the admin API does not imitate).
use std::collections::BTreeMap;

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Extension, Json, Router};
use portico_model::{
    ApiMetrics, Budget, BudgetAlert, MetricsQuery, Pricing, PutBudget, UsageReport,
};

use super::extract::{AwsJson, AwsPath, QueryMap};
use super::{AdminState, ApiError};
use crate::identity::Caller;

pub fn router() -> Router<AdminState> {
    Router::new()
        .route("/portico/apis/{api_id}/metrics", get(metrics))
        .route(
            "/portico/apis/{api_id}/budget",
            get(get_budget).put(put_budget).delete(delete_budget),
        )
        .route("/portico/usage", get(usage))
        .route("/portico/pricing", get(get_pricing).put(put_pricing))
        .route("/portico/budgets/alerts", get(alerts))
}

fn seconds(map: &BTreeMap<String, String>, name: &str) -> Result<Option<i64>, ApiError> {
    map.get(name)
        .map(|v| {
            v.parse::<i64>().map_err(|_| {
                ApiError::from(crate::service::ServiceError::invalid(
                    if name == "period" { "period" } else { "window" },
                    format!("{name} must be a whole number of seconds, not '{v}'"),
                ))
            })
        })
        .transpose()
}

async fn metrics(
    State(s): State<AdminState>,
    Extension(caller): Extension<Caller>,
    AwsPath(api_id): AwsPath<String>,
    QueryMap(map): QueryMap,
) -> Result<Json<ApiMetrics>, ApiError> {
    let query = MetricsQuery {
        stage: map.get("stage").filter(|s| !s.is_empty()).cloned(),
        // An empty route is the requests that matched no route, not "every route".
        route: map.get("route").cloned(),
        period: seconds(&map, "period")?,
        window: seconds(&map, "window")?,
    };
    Ok(Json(s.service.api_metrics(&caller, &api_id, query).await?))
}

async fn usage(
    State(s): State<AdminState>,
    Extension(caller): Extension<Caller>,
    QueryMap(map): QueryMap,
) -> Result<Json<UsageReport>, ApiError> {
    let month = map.get("month").filter(|m| !m.is_empty());
    Ok(Json(
        s.service.usage(&caller, month.map(String::as_str)).await?,
    ))
}

async fn get_pricing(
    State(s): State<AdminState>,
    Extension(caller): Extension<Caller>,
) -> Result<Json<Pricing>, ApiError> {
    Ok(Json(s.service.pricing(&caller).await?))
}

async fn put_pricing(
    State(s): State<AdminState>,
    Extension(caller): Extension<Caller>,
    AwsJson(pricing): AwsJson<Pricing>,
) -> Result<Json<Pricing>, ApiError> {
    Ok(Json(s.service.put_pricing(&caller, pricing).await?))
}

async fn get_budget(
    State(s): State<AdminState>,
    Extension(caller): Extension<Caller>,
    AwsPath(api_id): AwsPath<String>,
) -> Result<Json<Budget>, ApiError> {
    Ok(Json(s.service.budget(&caller, &api_id).await?))
}

async fn put_budget(
    State(s): State<AdminState>,
    Extension(caller): Extension<Caller>,
    AwsPath(api_id): AwsPath<String>,
    AwsJson(input): AwsJson<PutBudget>,
) -> Result<Json<Budget>, ApiError> {
    Ok(Json(s.service.put_budget(&caller, &api_id, input).await?))
}

async fn delete_budget(
    State(s): State<AdminState>,
    Extension(caller): Extension<Caller>,
    AwsPath(api_id): AwsPath<String>,
) -> Result<StatusCode, ApiError> {
    s.service.delete_budget(&caller, &api_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(serde::Serialize)]
struct AlertList {
    alerts: Vec<BudgetAlert>,
}

async fn alerts(
    State(s): State<AdminState>,
    Extension(caller): Extension<Caller>,
    QueryMap(map): QueryMap,
) -> Result<Json<AlertList>, ApiError> {
    let month = map.get("month").filter(|m| !m.is_empty());
    let alerts = s
        .service
        .budget_alerts(&caller, month.map(String::as_str))
        .await?;
    Ok(Json(AlertList { alerts }))
}
