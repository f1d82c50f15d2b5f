//! Authentication of admin requests, in the three ways callers prove who they are:
//! - SigV4 (`Authorization: AWS4-HMAC-SHA256 …`) with a Portico access key: boto3, awscli;
//! - a session token as a bearer (`Authorization: Bearer …`): scripts after `POST /portico/login`;
//! - the session cookie: the console; changes must echo the session's CSRF token in
//!   `X-CSRF-Token`, so another site cannot make the browser change anything.
//!
//! The result is the `Caller` the handlers pass to the service layer, which decides what
//! the caller's role allows.
use std::net::SocketAddr;

use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http::Method;
use subtle::ConstantTimeEq;

use portico_sigv4::{self as sigv4, SigV4Authorization, SignedRequest};

use super::{AdminState, ApiError, MAX_ADMIN_BODY};
use crate::identity::{AuthMethod, Caller, Role};

/// The signing name botocore uses for apigatewayv2.
const SIGNING_NAME: &str = "apigateway";
/// The signing name botocore uses for ACM.
const ACM_SIGNING_NAME: &str = "acm";

pub const SESSION_COOKIE: &str = "portico_session";
pub const CSRF_COOKIE: &str = "portico_csrf";
pub const CSRF_HEADER: &str = "x-csrf-token";

/// The client's address as the admin listener saw it.
pub fn client_source(request: &Request) -> String {
    request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map_or_else(|| "-".to_string(), |c| c.0.ip().to_canonical().to_string())
}

pub fn cookie<'a>(request: &'a Request, name: &str) -> Option<&'a str> {
    request
        .headers()
        .get_all(http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

pub async fn authenticate(
    State(state): State<AdminState>,
    request: Request,
    next: Next,
) -> Response {
    match authenticated(&state, request).await {
        Ok(request) => next.run(request).await,
        Err(e) => e.into_response(),
    }
}

async fn authenticated(state: &AdminState, mut request: Request) -> Result<Request, ApiError> {
    let source = client_source(&request);
    let header = request
        .headers()
        .get(http::header::AUTHORIZATION)
        .map(|v| v.to_str().map(str::to_string))
        .transpose()
        .map_err(|_| ApiError::IncompleteSignature("Authorization header is not ASCII".into()))?;
    let caller = match header {
        Some(h) if h.starts_with(sigv4::ALGORITHM) => {
            let (caller, rebuilt) = by_signature(state, request, &h, source).await?;
            request = rebuilt;
            caller
        }
        Some(h) => match h.strip_prefix("Bearer ") {
            Some(token) => by_session(state, token, source).await?.0,
            None => {
                return Err(ApiError::IncompleteSignature(
                    "Unsupported Authorization scheme: use AWS4-HMAC-SHA256 or Bearer".into(),
                ));
            }
        },
        None => match cookie(&request, SESSION_COOKIE).map(str::to_string) {
            Some(token) => {
                let (caller, csrf) = by_session(state, &token, source).await?;
                check_csrf(&request, &csrf)?;
                caller
            }
            None => return Err(ApiError::MissingAuthenticationToken),
        },
    };
    request.extensions_mut().insert(caller);
    Ok(request)
}

async fn by_signature(
    state: &AdminState,
    request: Request,
    header: &str,
    source: String,
) -> Result<(Caller, Request), ApiError> {
    let auth = SigV4Authorization::parse(header)?;
    let (parts, body) = request.into_parts();
    // The signature covers the body, so it is read here, within the admin body limit.
    let bytes = axum::body::to_bytes(body, MAX_ADMIN_BODY)
        .await
        .map_err(|_| ApiError::PayloadTooLarge("Request body is too large".into()))?;
    let store = state.service.store();
    let key = store
        .key_for_auth(&auth.access_key_id)
        .await?
        .ok_or(ApiError::UnrecognizedClient)?;
    let secret = state
        .service
        .identity()
        .master_key
        .open(&auth.access_key_id, &key.sealed_secret)
        .map_err(|e| ApiError::Internal(format!("access key {}: {e}", auth.access_key_id)))?;
    // ACM's calls were signed for `POST /` with ACM's signing name.
    let acm = parts
        .extensions
        .get::<super::certificates::AcmCall>()
        .is_some();
    sigv4::verify(
        &auth,
        &SignedRequest {
            method: parts.method.as_str(),
            raw_path: if acm { "/" } else { parts.uri.path() },
            raw_query: parts.uri.query(),
            headers: &parts.headers,
            body: &bytes,
        },
        if acm { ACM_SIGNING_NAME } else { SIGNING_NAME },
        &secret,
        chrono::Utc::now(),
    )?;
    if key.disabled {
        return Err(ApiError::AccessDenied(format!(
            "User {} is disabled",
            key.user_name
        )));
    }
    let now = chrono::Utc::now();
    let recently_used = key
        .last_used_date
        .as_deref()
        .and_then(|d| chrono::DateTime::parse_from_rfc3339(d).ok())
        .is_some_and(|t| now - t.to_utc() < chrono::TimeDelta::minutes(1));
    if !recently_used {
        // Best effort: a failed bookkeeping write must not fail the call.
        let _ = store
            .touch_access_key(&auth.access_key_id, &crate::service::now())
            .await;
    }
    let caller = Caller {
        user_name: key.user_name,
        role: Role::parse(&key.role).unwrap_or(Role::Viewer),
        source,
        via: AuthMethod::AccessKey(auth.access_key_id),
    };
    Ok((caller, Request::from_parts(parts, Body::from(bytes))))
}

/// Whether the session cookie names a live session: the console's check before it renders
/// a page. An expired or unknown session is `false`; only a store failure is an error.
/// (Takes the request's parts, not the request: a body is not `Sync`, so a borrowed request
/// would make the caller's future not `Send`.)
pub async fn has_console_session(
    state: &AdminState,
    session_cookie: Option<&str>,
    source: String,
) -> Result<bool, ApiError> {
    let Some(token) = session_cookie else {
        return Ok(false);
    };
    match by_session(state, token, source).await {
        Ok(_) => Ok(true),
        Err(ApiError::Unauthorized(_)) => Ok(false),
        Err(e) => Err(e),
    }
}

/// The caller a session token names, and the session's CSRF token.
async fn by_session(
    state: &AdminState,
    token: &str,
    source: String,
) -> Result<(Caller, String), ApiError> {
    let expired =
        || ApiError::Unauthorized("The session is invalid or has expired; log in again".into());
    let claims = state
        .service
        .identity()
        .sessions
        .verify(token)
        .ok_or_else(expired)?;
    let session = state
        .service
        .store()
        .session_for_auth(&claims.sid)
        .await?
        .ok_or_else(expired)?;
    if session.revoked || session.disabled || session.expires_at <= chrono::Utc::now().timestamp() {
        return Err(expired());
    }
    let caller = Caller {
        user_name: session.user_name,
        role: Role::parse(&session.role).unwrap_or(Role::Viewer),
        source,
        via: AuthMethod::Session(claims.sid),
    };
    Ok((caller, claims.csrf))
}

/// Cookie-authenticated changes must carry the session's CSRF token in a header, which a
/// page on another origin can neither read nor set.
fn check_csrf(request: &Request, expected: &str) -> Result<(), ApiError> {
    if matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    ) {
        return Ok(());
    }
    let given = request
        .headers()
        .get(CSRF_HEADER)
        .map(|v| v.as_bytes())
        .unwrap_or_default();
    if !expected.is_empty() && bool::from(given.ct_eq(expected.as_bytes())) {
        Ok(())
    } else {
        Err(ApiError::AccessDenied(format!(
            "Missing or invalid {CSRF_HEADER} header for a cookie-authenticated change"
        )))
    }
}
