//! The admin API's one error type, answered in AWS's shape: the error type in the
//! `x-amzn-ErrorType` header and `{"message": …}` in the body, which is what botocore reads
//! to raise `NotFoundException`, `ConflictException`, … Details of 5xx errors are logged,
//! never sent.
use axum::Json;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::service::ServiceError;
use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{message}")]
    BadRequest {
        message: String,
        /// The request field the message is about, for forms.
        field: Option<&'static str>,
    },
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    PayloadTooLarge(String),
    #[error("{0}")]
    MethodNotAllowed(String),
    /// An apigatewayv2 operation Portico does not have (yet), by name.
    #[error("{0} is not implemented by Portico")]
    NotImplemented(&'static str),
    #[error("{0}")]
    IncompleteSignature(String),
    #[error("{0}")]
    InvalidSignature(String),
    #[error("The security token included in the request is invalid.")]
    UnrecognizedClient,
    #[error("Missing Authentication Token")]
    MissingAuthenticationToken,
    #[error("{0}")]
    AccessDenied(String),
    #[error("{0}")]
    Unauthorized(String),
    #[error("{message}")]
    TooManyRequests {
        message: String,
        retry_after_secs: u64,
    },
    #[error("{0}")]
    ServiceUnavailable(String),
    #[error("the configuration store is unavailable: {0}")]
    Unavailable(StoreError),
    #[error("internal error: {0}")]
    Internal(String),
}

impl ApiError {
    pub fn bad_request(message: impl Into<String>) -> Self {
        ApiError::BadRequest {
            message: message.into(),
            field: None,
        }
    }
}

impl From<portico_sigv4::SigV4Error> for ApiError {
    fn from(e: portico_sigv4::SigV4Error) -> Self {
        use portico_sigv4::SigV4Error;
        match e {
            SigV4Error::Incomplete(m) => ApiError::IncompleteSignature(m),
            SigV4Error::Invalid(m) => ApiError::InvalidSignature(m),
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        ServiceError::from(e).into()
    }
}

impl From<portico_model::ValidationError> for ApiError {
    fn from(e: portico_model::ValidationError) -> Self {
        ServiceError::from(e).into()
    }
}

impl From<ServiceError> for ApiError {
    fn from(e: ServiceError) -> Self {
        match e {
            ServiceError::Invalid(v) => ApiError::BadRequest {
                message: v.message,
                field: Some(v.field),
            },
            ServiceError::BadRequest(m) => ApiError::bad_request(m),
            ServiceError::NotFound(m) => ApiError::NotFound(m),
            ServiceError::Conflict(m) => ApiError::Conflict(m),
            ServiceError::Forbidden(m) => ApiError::AccessDenied(m),
            ServiceError::Unauthorized(m) => ApiError::Unauthorized(m),
            ServiceError::TooManyRequests {
                message,
                retry_after,
            } => ApiError::TooManyRequests {
                message,
                retry_after_secs: retry_after.as_secs().max(1),
            },
            ServiceError::Unavailable(m) => ApiError::ServiceUnavailable(m),
            ServiceError::Store(e @ StoreError::Corrupt { .. }) => {
                ApiError::Internal(e.to_string())
            }
            ServiceError::Store(e) => ApiError::Unavailable(e),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, error_type) = match &self {
            ApiError::BadRequest { .. } => (StatusCode::BAD_REQUEST, "BadRequestException"),
            ApiError::NotFound(_) => (StatusCode::NOT_FOUND, "NotFoundException"),
            ApiError::Conflict(_) => (StatusCode::CONFLICT, "ConflictException"),
            ApiError::PayloadTooLarge(_) => (StatusCode::PAYLOAD_TOO_LARGE, "BadRequestException"),
            ApiError::NotImplemented(_) => (StatusCode::NOT_IMPLEMENTED, "NotImplementedException"),
            ApiError::MethodNotAllowed(_) => {
                (StatusCode::METHOD_NOT_ALLOWED, "MethodNotAllowedException")
            }
            ApiError::IncompleteSignature(_) => {
                (StatusCode::FORBIDDEN, "IncompleteSignatureException")
            }
            ApiError::InvalidSignature(_) => (StatusCode::FORBIDDEN, "InvalidSignatureException"),
            ApiError::UnrecognizedClient => (StatusCode::FORBIDDEN, "UnrecognizedClientException"),
            ApiError::MissingAuthenticationToken => {
                (StatusCode::FORBIDDEN, "MissingAuthenticationTokenException")
            }
            ApiError::AccessDenied(_) => (StatusCode::FORBIDDEN, "AccessDeniedException"),
            ApiError::Unauthorized(_) => (StatusCode::UNAUTHORIZED, "UnauthorizedException"),
            ApiError::TooManyRequests { .. } => {
                (StatusCode::TOO_MANY_REQUESTS, "TooManyRequestsException")
            }
            ApiError::ServiceUnavailable(_) => (
                StatusCode::SERVICE_UNAVAILABLE,
                "ServiceUnavailableException",
            ),
            ApiError::Unavailable(_) => (
                StatusCode::SERVICE_UNAVAILABLE,
                "ServiceUnavailableException",
            ),
            ApiError::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "InternalFailure"),
        };
        let body = match &self {
            ApiError::Unavailable(e) => {
                tracing::error!(error = %e, "admin request failed: store unavailable");
                json!({ "message": "The configuration store is unavailable; try again later" })
            }
            ApiError::Internal(e) => {
                tracing::error!(error = %e, "admin request failed");
                json!({ "message": "Internal server error" })
            }
            ApiError::BadRequest {
                message,
                field: Some(field),
            } => json!({ "message": message, "field": field }),
            other => json!({ "message": other.to_string() }),
        };
        let mut response = (status, Json(body)).into_response();
        response
            .headers_mut()
            .insert("x-amzn-ErrorType", HeaderValue::from_static(error_type));
        if let ApiError::TooManyRequests {
            retry_after_secs, ..
        } = self
        {
            response.headers_mut().insert(
                http::header::RETRY_AFTER,
                HeaderValue::from(retry_after_secs),
            );
        }
        response
    }
}
