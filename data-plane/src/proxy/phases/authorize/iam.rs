//! AWS_IAM routes: the request is signed with SigV4 for the `execute-api` service with a
//! Portico access key whose user may invoke APIs
//! (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-access-control-iam.html).
//! The node checks the signature with the key's date key, which the control plane sends
//! instead of the secret (`runtime::invoke_keys`); the signature covers the body, so the
//! body was read before this check. Anything unsigned or badly signed is AWS's 403.
use http::HeaderValue;
use http::header::HOST;
use portico_sigv4::{self as sigv4, SigV4Authorization, SignedRequest};

use crate::proxy::context::Authorized;
use crate::proxy::error::ProxyError;
use crate::runtime::invoke_keys::InvokeKeyring;

use super::Guarded;

/// The signing name clients use for API Gateway's invoke endpoint.
pub const SIGNING_NAME: &str = "execute-api";

pub fn verify(
    keys: &InvokeKeyring,
    request: &Guarded<'_>,
    body: &[u8],
) -> Result<Authorized, ProxyError> {
    let forbidden = ProxyError::Forbidden;
    let header = request
        .parts
        .headers
        .get(http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .ok_or(forbidden("the request is not signed"))?;
    let auth = SigV4Authorization::parse(header)
        .map_err(|_| forbidden("the Authorization header is not SigV4"))?;
    let ring = keys.current();
    let key = ring
        .get(&auth.access_key_id)
        .ok_or(forbidden("the access key may not invoke APIs"))?;
    let date_key = key
        .date_key(&auth.date)
        .ok_or(forbidden("the signature's date is not around today"))?;
    // The signed `host` is the one the client named; the pipeline took the header out.
    let mut headers = request.parts.headers.clone();
    if let Some(host) = request.host.and_then(|h| HeaderValue::from_str(h).ok()) {
        headers.insert(HOST, host);
    }
    sigv4::verify_with_date_key(
        &auth,
        &SignedRequest {
            method: request.parts.method.as_str(),
            raw_path: request.uri.path(),
            raw_query: request.uri.query(),
            headers: &headers,
            body,
        },
        SIGNING_NAME,
        date_key,
        chrono::Utc::now(),
    )
    .map_err(|_| forbidden("the signature does not match"))?;
    Ok(Authorized::Iam {
        access_key: auth.access_key_id,
        user: key.user_name.clone(),
    })
}
