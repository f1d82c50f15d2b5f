//! `/v2/domainnames` and their API mappings in AWS's REST shape, and Portico's
//! `/portico/truststores` for mutual TLS.
use axum::body::Bytes;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Extension, Json, Router, extract::State};
use portico_model::{
    ApiMapping, CreateApiMapping, CreateDomainName, DomainName, Page, Truststore, UpdateApiMapping,
    UpdateDomainName,
};
use serde_json::{Value, json};

use super::extract::{AwsJson, AwsPath, ListQuery};
use super::{AdminState, ApiError};
use crate::identity::Caller;

pub fn router() -> Router<AdminState> {
    Router::new()
        .route("/v2/domainnames", get(list).post(create))
        .route(
            "/v2/domainnames/{domain_name}",
            get(read).patch(update).delete(delete),
        )
        .route(
            "/v2/domainnames/{domain_name}/apimappings",
            get(list_mappings).post(create_mapping),
        )
        .route(
            "/v2/domainnames/{domain_name}/apimappings/{mapping_id}",
            get(read_mapping)
                .patch(update_mapping)
                .delete(delete_mapping),
        )
        .route("/portico/truststores", get(list_truststores))
        .route(
            "/portico/truststores/{*name}",
            get(read_truststore)
                .put(put_truststore)
                .delete(delete_truststore),
        )
}

async fn create(
    State(s): State<AdminState>,
    Extension(caller): Extension<Caller>,
    AwsJson(input): AwsJson<CreateDomainName>,
) -> Result<(StatusCode, Json<DomainName>), ApiError> {
    let created = s.service.create_domain_name(&caller, input).await?;
    Ok((StatusCode::CREATED, Json(created)))
}

async fn list(
    State(s): State<AdminState>,
    Extension(caller): Extension<Caller>,
    ListQuery(q): ListQuery,
) -> Result<Json<Page<DomainName>>, ApiError> {
    Ok(Json(s.service.list_domain_names(&caller, q).await?))
}

async fn read(
    State(s): State<AdminState>,
    Extension(caller): Extension<Caller>,
    AwsPath(name): AwsPath<String>,
) -> Result<Json<DomainName>, ApiError> {
    Ok(Json(s.service.get_domain_name(&caller, &name).await?))
}

async fn update(
    State(s): State<AdminState>,
    Extension(caller): Extension<Caller>,
    AwsPath(name): AwsPath<String>,
    AwsJson(input): AwsJson<UpdateDomainName>,
) -> Result<Json<DomainName>, ApiError> {
    Ok(Json(
        s.service.update_domain_name(&caller, &name, input).await?,
    ))
}

async fn delete(
    State(s): State<AdminState>,
    Extension(caller): Extension<Caller>,
    AwsPath(name): AwsPath<String>,
) -> Result<StatusCode, ApiError> {
    s.service.delete_domain_name(&caller, &name).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn create_mapping(
    State(s): State<AdminState>,
    Extension(caller): Extension<Caller>,
    AwsPath(domain): AwsPath<String>,
    AwsJson(input): AwsJson<CreateApiMapping>,
) -> Result<(StatusCode, Json<ApiMapping>), ApiError> {
    let created = s
        .service
        .create_api_mapping(&caller, &domain, input)
        .await?;
    Ok((StatusCode::CREATED, Json(created)))
}

async fn list_mappings(
    State(s): State<AdminState>,
    Extension(caller): Extension<Caller>,
    AwsPath(domain): AwsPath<String>,
    ListQuery(q): ListQuery,
) -> Result<Json<Page<ApiMapping>>, ApiError> {
    Ok(Json(
        s.service.list_api_mappings(&caller, &domain, q).await?,
    ))
}

async fn read_mapping(
    State(s): State<AdminState>,
    Extension(caller): Extension<Caller>,
    AwsPath((domain, id)): AwsPath<(String, String)>,
) -> Result<Json<ApiMapping>, ApiError> {
    Ok(Json(
        s.service.get_api_mapping(&caller, &domain, &id).await?,
    ))
}

async fn update_mapping(
    State(s): State<AdminState>,
    Extension(caller): Extension<Caller>,
    AwsPath((domain, id)): AwsPath<(String, String)>,
    AwsJson(input): AwsJson<UpdateApiMapping>,
) -> Result<Json<ApiMapping>, ApiError> {
    Ok(Json(
        s.service
            .update_api_mapping(&caller, &domain, &id, input)
            .await?,
    ))
}

async fn delete_mapping(
    State(s): State<AdminState>,
    Extension(caller): Extension<Caller>,
    AwsPath((domain, id)): AwsPath<(String, String)>,
) -> Result<StatusCode, ApiError> {
    s.service.delete_api_mapping(&caller, &domain, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn list_truststores(
    State(s): State<AdminState>,
    Extension(caller): Extension<Caller>,
) -> Result<Json<Value>, ApiError> {
    let items = s.service.list_truststores(&caller).await?;
    Ok(Json(json!({ "items": items })))
}

async fn read_truststore(
    State(s): State<AdminState>,
    Extension(caller): Extension<Caller>,
    AwsPath(name): AwsPath<String>,
) -> Result<Json<Truststore>, ApiError> {
    Ok(Json(s.service.get_truststore(&caller, &name).await?))
}

/// The body is the PEM bundle itself, whatever its content type.
async fn put_truststore(
    State(s): State<AdminState>,
    Extension(caller): Extension<Caller>,
    AwsPath(name): AwsPath<String>,
    body: Bytes,
) -> Result<Json<Truststore>, ApiError> {
    let pem = String::from_utf8(body.to_vec()).map_err(|_| ApiError::BadRequest {
        message: "The truststore must be PEM text".into(),
        field: Some("truststore"),
    })?;
    Ok(Json(s.service.put_truststore(&caller, &name, pem).await?))
}

async fn delete_truststore(
    State(s): State<AdminState>,
    Extension(caller): Extension<Caller>,
    AwsPath(name): AwsPath<String>,
) -> Result<StatusCode, ApiError> {
    s.service.delete_truststore(&caller, &name).await?;
    Ok(StatusCode::NO_CONTENT)
}
