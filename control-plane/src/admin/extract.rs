//! Extractors whose rejections are `ApiError`s, so a malformed body, query or path gets
//! the same AWS-shaped answer as every other error.
use std::collections::BTreeMap;

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Path, Query, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use super::ApiError;
use crate::service::ListParams;

/// A JSON body, whatever its content type (AWS clients are not all consistent about it).
/// An empty body reads as `{}`.
pub struct AwsJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for AwsJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = Bytes::from_request(req, state).await.map_err(|e| {
            if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::PayloadTooLarge("Request body is too large".into())
            } else {
                ApiError::bad_request(format!("Cannot read request body: {}", e.body_text()))
            }
        })?;
        let slice: &[u8] = if bytes.iter().all(u8::is_ascii_whitespace) {
            b"{}"
        } else {
            &bytes
        };
        serde_json::from_slice(slice)
            .map(AwsJson)
            .map_err(|e| ApiError::bad_request(format!("Invalid request body: {e}")))
    }
}

/// Path parameters.
pub struct AwsPath<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for AwsPath<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Path::<T>::from_request_parts(parts, state)
            .await
            .map(|Path(t)| AwsPath(t))
            .map_err(|e| ApiError::bad_request(format!("Invalid path: {}", e.body_text())))
    }
}

/// `?maxResults=…&nextToken=…` of list calls.
pub struct ListQuery(pub ListParams);

/// The query string as names and values.
pub struct QueryMap(pub BTreeMap<String, String>);

impl<S: Send + Sync> FromRequestParts<S> for QueryMap {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let Query(map) = Query::<BTreeMap<String, String>>::from_request_parts(parts, state)
            .await
            .map_err(|e| {
                ApiError::bad_request(format!("Invalid query string: {}", e.body_text()))
            })?;
        Ok(QueryMap(map))
    }
}

impl<S: Send + Sync> FromRequestParts<S> for ListQuery {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let QueryMap(map) = QueryMap::from_request_parts(parts, state).await?;
        let max_results = map
            .get("maxResults")
            .map(|v| {
                v.parse::<u32>()
                    .map_err(|_| ApiError::bad_request(format!("Invalid maxResults '{v}'")))
            })
            .transpose()?;
        Ok(ListQuery(ListParams {
            max_results,
            next_token: map.get("nextToken").cloned(),
        }))
    }
}
