//! CORS: the gateway's own answer to a preflight, before routing and before any
//! authorizer, and the headers every other response of a CORS-enabled API carries.

use http::header::{ACCESS_CONTROL_REQUEST_HEADERS, ACCESS_CONTROL_REQUEST_METHOD, ORIGIN};
use http::{HeaderMap, Method, Response, StatusCode};

use crate::config::cors::{self, AllowedOrigin, CompiledCors, Preflight};
use crate::proxy::body::ProxyBody;

/// What respond must do to the response of a request on a CORS-enabled API.
#[derive(Debug, Clone)]
pub struct ResponseCors<'cfg> {
    cors: &'cfg CompiledCors,
    /// `None`: the request had no allowed `Origin`, so the response gets no CORS
    /// headers, the backend's included.
    origin: Option<AllowedOrigin>,
}

/// Answers a preflight (`OPTIONS` with `Origin` and `Access-Control-Request-Method`) with
/// 204 and, when the origin is allowed, the CORS headers; AWS answers it whether or not
/// an OPTIONS route exists. Anything else goes on to routing.
pub fn preflight(
    cors: &CompiledCors,
    method: &Method,
    headers: &HeaderMap,
) -> Option<Response<ProxyBody>> {
    if method != Method::OPTIONS {
        return None;
    }
    let origin = headers.get(ORIGIN)?;
    let request_method = headers.get(ACCESS_CONTROL_REQUEST_METHOD)?;
    let mut response = Response::new(ProxyBody::from_static(b""));
    *response.status_mut() = StatusCode::NO_CONTENT;
    cors.preflight(
        Preflight {
            origin,
            request_method,
            request_headers: headers.get(ACCESS_CONTROL_REQUEST_HEADERS),
        },
        response.headers_mut(),
    );
    Some(response)
}

/// What the response of this (not preflight) request will need.
pub fn for_response<'cfg>(cors: &'cfg CompiledCors, headers: &HeaderMap) -> ResponseCors<'cfg> {
    ResponseCors {
        cors,
        origin: headers.get(ORIGIN).and_then(|o| cors.allowed_origin(o)),
    }
}

impl ResponseCors<'_> {
    /// Replaces whatever CORS headers the response has with the API's own.
    pub fn apply(&self, headers: &mut HeaderMap) {
        cors::strip(headers);
        if let Some(origin) = &self.origin {
            self.cors.decorate(origin, headers);
        }
    }
}
