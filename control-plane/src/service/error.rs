//! The service layer's one error type, and how store errors map onto it.
use portico_model::ValidationError;

use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error(transparent)]
    Invalid(#[from] ValidationError),
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    /// The caller may not do this (AWS: AccessDeniedException).
    #[error("{0}")]
    Forbidden(String),
    /// Wrong user name or password.
    #[error("{0}")]
    Unauthorized(String),
    #[error("{message}")]
    TooManyRequests {
        message: String,
        retry_after: std::time::Duration,
    },
    /// Something the call needs is not there to ask (no proxy node connected, say).
    #[error("{0}")]
    Unavailable(String),
    #[error(transparent)]
    Store(StoreError),
}

impl ServiceError {
    /// Bad input in `field` (camelCase, as in the JSON), for the admin API to name.
    pub fn invalid(field: &'static str, message: impl Into<String>) -> Self {
        ServiceError::Invalid(ValidationError::new(field, message))
    }
}

impl From<StoreError> for ServiceError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Unique(c) if c.contains("route_key") => {
                ServiceError::Conflict("A route with this routeKey already exists".into())
            }
            StoreError::Unique(_) => {
                ServiceError::Conflict("A resource with this identifier already exists".into())
            }
            other => ServiceError::Store(other),
        }
    }
}

pub type ServiceResult<T> = Result<T, ServiceError>;
