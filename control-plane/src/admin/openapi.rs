//! `GET /v2/apis/{apiId}/exports/{specification}` (ExportApi), `PUT /v2/apis` (ImportApi,
//! routed in `apis`), `PUT /v2/apis/{apiId}` (ReimportApi, likewise) and Portico's
//! `GET /portico/apis/{apiId}/diff`.
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Extension, Json, Router, extract::State};
use portico_model::openapi::Basepath;
use portico_model::{ApiDiff, ImportApiBody, ImportedApi, ValidationError};

use super::extract::{AwsJson, AwsPath, QueryMap};
use super::{AdminState, ApiError};
use crate::identity::Caller;
use crate::service::{ExportRequest, ImportOptions, OutputType};

pub fn router() -> Router<AdminState> {
    Router::new()
        .route("/v2/apis/{api_id}/exports/{specification}", get(export))
        .route("/portico/apis/{api_id}/diff", get(diff))
}

/// A query-string boolean: `true` or `false`, as the SDKs write them.
fn flag(query: &QueryMap, name: &'static str, default: bool) -> Result<bool, ValidationError> {
    match query.0.get(name).map(String::as_str) {
        None => Ok(default),
        Some("true") => Ok(true),
        Some("false") => Ok(false),
        Some(other) => Err(ValidationError::new(
            name,
            format!("Invalid {name} '{other}': use true or false"),
        )),
    }
}

async fn export(
    State(s): State<AdminState>,
    Extension(caller): Extension<Caller>,
    AwsPath((api_id, specification)): AwsPath<(String, String)>,
    query: QueryMap,
) -> Result<Response, ApiError> {
    let output_type = OutputType::parse(query.0.get("outputType").map(String::as_str))?;
    if let Some(v) = query.0.get("exportVersion")
        && v != portico_model::openapi::IMPORT_EXPORT_VERSION
    {
        return Err(ApiError::BadRequest {
            message: format!("Invalid exportVersion '{v}': 1.0 is the only one"),
            field: Some("exportVersion"),
        });
    }
    let request = ExportRequest {
        output_type,
        stage_name: query.0.get("stageName").cloned(),
        include_extensions: flag(&query, "includeExtensions", true)?,
    };
    let text = s
        .service
        .export_api(&caller, &api_id, &specification, request)
        .await?;
    Ok(([(header::CONTENT_TYPE, output_type.content_type())], text).into_response())
}

fn import_options(query: &QueryMap) -> Result<ImportOptions, ApiError> {
    let basepath = match query.0.get("basepath") {
        Some(b) => Basepath::parse(b)?,
        None => Basepath::Ignore,
    };
    Ok(ImportOptions {
        basepath,
        fail_on_warnings: flag(query, "failOnWarnings", false)?,
    })
}

pub(super) async fn import(
    State(s): State<AdminState>,
    Extension(caller): Extension<Caller>,
    query: QueryMap,
    AwsJson(input): AwsJson<ImportApiBody>,
) -> Result<(StatusCode, Json<ImportedApi>), ApiError> {
    let options = import_options(&query)?;
    let imported = s.service.import_api(&caller, &input.body, options).await?;
    Ok((StatusCode::CREATED, Json(imported)))
}

pub(super) async fn reimport(
    State(s): State<AdminState>,
    Extension(caller): Extension<Caller>,
    AwsPath(api_id): AwsPath<String>,
    query: QueryMap,
    AwsJson(input): AwsJson<ImportApiBody>,
) -> Result<(StatusCode, Json<ImportedApi>), ApiError> {
    let options = import_options(&query)?;
    let imported = s
        .service
        .reimport_api(&caller, &api_id, &input.body, options)
        .await?;
    Ok((StatusCode::CREATED, Json(imported)))
}

async fn diff(
    State(s): State<AdminState>,
    Extension(caller): Extension<Caller>,
    AwsPath(api_id): AwsPath<String>,
    query: QueryMap,
) -> Result<Json<ApiDiff>, ApiError> {
    let from = query.0.get("from").ok_or_else(|| ApiError::BadRequest {
        message: "from is required: the deployment to compare from".into(),
        field: Some("from"),
    })?;
    let to = query.0.get("to").map_or("current", String::as_str);
    Ok(Json(
        s.service
            .diff_deployments(&caller, &api_id, from, to)
            .await?,
    ))
}
