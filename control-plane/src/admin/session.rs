use axum::extract::{FromRequest, Request, State};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use portico_model::{Identity, LoginRequest};

use super::auth::{CSRF_COOKIE, SESSION_COOKIE, client_source};
use super::extract::AwsJson;
use super::{AdminState, ApiError};
use crate::identity::Caller;

/// Routes that need no credentials.
pub fn public_router() -> Router<AdminState> {
    Router::new().route("/portico/login", post(login))
}

pub fn router() -> Router<AdminState> {
    Router::new()
        .route("/portico/logout", post(logout))
        .route("/portico/me", get(me))
}

/// `Secure` when the client reached us over TLS (directly, or through a proxy that says so).
fn secure(request: &Request) -> bool {
    request.uri().scheme_str() == Some("https")
        || request
            .headers()
            .get("x-forwarded-proto")
            .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"https"))
}

fn cookie(name: &str, value: &str, http_only: bool, max_age: i64, secure: bool) -> HeaderValue {
    let mut c = format!("{name}={value}; Path=/; SameSite=Strict; Max-Age={max_age}");
    if http_only {
        c.push_str("; HttpOnly");
    }
    if secure {
        c.push_str("; Secure");
    }
    HeaderValue::from_str(&c).unwrap_or_else(|_| HeaderValue::from_static(""))
}

async fn login(State(s): State<AdminState>, request: Request) -> Result<Response, ApiError> {
    let source = client_source(&request);
    let secure = secure(&request);
    let AwsJson(input): AwsJson<LoginRequest> = AwsJson::from_request(request, &s).await?;
    let session = s
        .service
        .login(&input.user_name, &input.password, &source)
        .await?;
    let max_age = s.service.identity().session_ttl.num_seconds();
    let mut response = (StatusCode::OK, Json(&session)).into_response();
    let headers = response.headers_mut();
    headers.append(
        http::header::SET_COOKIE,
        cookie(SESSION_COOKIE, &session.token, true, max_age, secure),
    );
    // The console reads this one to send it back in X-CSRF-Token.
    headers.append(
        http::header::SET_COOKIE,
        cookie(CSRF_COOKIE, &session.csrf_token, false, max_age, secure),
    );
    Ok(response)
}

async fn logout(
    State(s): State<AdminState>,
    Extension(caller): Extension<Caller>,
) -> Result<Response, ApiError> {
    s.service.logout(&caller).await?;
    let mut response = StatusCode::NO_CONTENT.into_response();
    let headers = response.headers_mut();
    headers.append(
        http::header::SET_COOKIE,
        cookie(SESSION_COOKIE, "", true, 0, false),
    );
    headers.append(
        http::header::SET_COOKIE,
        cookie(CSRF_COOKIE, "", false, 0, false),
    );
    Ok(response)
}

async fn me(State(s): State<AdminState>, Extension(caller): Extension<Caller>) -> Json<Identity> {
    Json(s.service.whoami(&caller))
}
