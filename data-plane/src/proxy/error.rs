//! Everything that can stop a request, and the one place it becomes a response. Bodies
//! are AWS's (`{"message":"…"}`) and never say anything internal; the detail goes to the
//! log instead.

use std::sync::Arc;
use std::time::Duration;

use http::header::{CONTENT_TYPE, HeaderValue};
use http::{Response, StatusCode};

use super::body::{DownstreamError, ProxyBody};
use crate::config::integration::InvalidUpstreamUri;

pub use crate::integrations::MAX_BODY_BYTES;
use crate::integrations::http_proxy::{ForwardError, RefusedResponse};
use crate::integrations::lambda::LambdaError;
use crate::integrations::vpc_link::PrivateError;

/// Which side of the proxy a failure came from, for logs and metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorOrigin {
    /// The client's request cannot be served (no route, too large).
    Downstream,
    /// The integration's server failed or was too slow.
    Upstream,
    /// A bug or a config the compiler should have refused.
    Internal,
}

#[derive(Debug, thiserror::Error)]
pub enum ProxyError {
    #[error("no API, stage or route matches the request")]
    NotFound,
    #[error("the matched route has no integration")]
    NoIntegration,
    /// The stage's or route's throttle has no token for the request.
    #[error("throttled by the limit {}", .0.key())]
    Throttled(Arc<crate::runtime::TokenBucket>),
    #[error("the request body exceeds {MAX_BODY_BYTES} bytes")]
    PayloadTooLarge,
    #[error("no response head from upstream within {0:?}")]
    UpstreamTimeout(Duration),
    // Causes are sources, never also part of the message: the log shows each once.
    #[error("upstream request failed")]
    Upstream(#[source] crate::upstream::pool::UpstreamError),
    /// The upstream answered with a head the node will not pass on.
    #[error("upstream response refused")]
    UpstreamResponse(#[source] RefusedResponse),
    #[error("cannot build the upstream URI")]
    UpstreamUri(#[source] http::uri::InvalidUri),
    /// The stage's variables leave the route's integration without a usable URI.
    #[error("the integration cannot be used on this stage: {0}")]
    UnusableIntegration(Arc<InvalidUpstreamUri>),
    #[error("Lambda integration failed")]
    Lambda(#[source] LambdaError),
    /// The client's body broke off before a phase that needs it whole had it.
    #[error("reading the request body failed")]
    RequestBody(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// The route's authorizer found no valid identity (the reason is for the log).
    #[error("unauthorized: {0}")]
    Unauthorized(&'static str),
    /// A JWT route's token is missing ("") or bad; the reason also goes to the client in
    /// `WWW-Authenticate`, as AWS sends it.
    #[error("invalid token: {0}")]
    InvalidToken(&'static str),
    /// The caller is known but may not call this route.
    #[error("forbidden: {0}")]
    Forbidden(&'static str),
    /// A VPC link has no endpoint that may serve, or this node cannot reach the link.
    #[error("no VPC-link target: {0}")]
    NoTarget(crate::integrations::vpc_link::NoTarget),
    #[error("the VPC-link target's certificate failed verification")]
    TargetCertificate(#[source] crate::upstream::pool::UpstreamError),
    #[error("the Lambda authorizer failed")]
    AuthorizerFailed(#[source] crate::integrations::lambda::authorizer::AuthorizerFailure),
    /// Refused before the pipeline by the node's client limits (`node::limits`).
    #[error("the request target is longer than the node's limit")]
    UriTooLong,
    #[error("the request has more header fields than the node's limit")]
    TooManyHeaders,
    #[error("the request declares a body larger than the node's limit")]
    DeclaredBodyTooLarge,
    #[error("the request's Transfer-Encoding is not `chunked` alone")]
    UnsupportedTransferCoding,
}

impl From<crate::integrations::lambda::authorizer::AuthorizerFailure> for ProxyError {
    fn from(e: crate::integrations::lambda::authorizer::AuthorizerFailure) -> Self {
        ProxyError::AuthorizerFailed(e)
    }
}

impl From<LambdaError> for ProxyError {
    fn from(e: LambdaError) -> Self {
        match e {
            LambdaError::PayloadTooLarge => ProxyError::PayloadTooLarge,
            other => ProxyError::Lambda(other),
        }
    }
}

impl From<ForwardError> for ProxyError {
    fn from(e: ForwardError) -> Self {
        match e {
            ForwardError::PayloadTooLarge => ProxyError::PayloadTooLarge,
            ForwardError::Timeout(after) => ProxyError::UpstreamTimeout(after),
            ForwardError::Upstream(e) => ProxyError::Upstream(e),
            ForwardError::Refused(why) => ProxyError::UpstreamResponse(why),
        }
    }
}

impl From<PrivateError> for ProxyError {
    fn from(e: PrivateError) -> Self {
        match e {
            PrivateError::NoTarget(why) => ProxyError::NoTarget(why),
            PrivateError::TlsVerification(e) => ProxyError::TargetCertificate(e),
            PrivateError::Forward(e) => e.into(),
        }
    }
}

/// How one kind of failure reaches the client and the logs: the one table every
/// `ProxyError` is read through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ErrorSpec {
    pub status: StatusCode,
    /// AWS's gateway response type, as `$context.error.responseType` names it
    /// (https://docs.aws.amazon.com/apigateway/latest/developerguide/supported-gateway-response-types.html).
    pub response_type: &'static str,
    pub body: &'static [u8],
    pub origin: ErrorOrigin,
    /// Whether the request may be sent again elsewhere (another target of a VPC link):
    /// only when nothing of it can have reached an upstream.
    pub retryable: bool,
}

const NOT_FOUND: &[u8] = br#"{"message":"Not Found"}"#;
const INTERNAL: &[u8] = br#"{"message":"Internal Server Error"}"#;
const BAD_GATEWAY: &[u8] = br#"{"message":"Bad Gateway"}"#;

/// A client that stopped sending its body, wherever that surfaced (the upstream request
/// it was streamed into, a phase reading it whole).
const BODY_STALLED: ErrorSpec = ErrorSpec {
    status: StatusCode::REQUEST_TIMEOUT,
    response_type: "DEFAULT_4XX",
    body: br#"{"message":"Request Timeout"}"#,
    origin: ErrorOrigin::Downstream,
    retryable: false,
};

/// A client body that broke off or was malformed (a bad chunk size), wherever that
/// surfaced: the client's fault, not the upstream's.
const BODY_BROKEN: ErrorSpec = ErrorSpec {
    status: StatusCode::BAD_REQUEST,
    response_type: "BAD_REQUEST_BODY",
    body: br#"{"message":"Bad Request"}"#,
    origin: ErrorOrigin::Downstream,
    retryable: false,
};

impl ProxyError {
    pub fn spec(&self) -> ErrorSpec {
        use ErrorOrigin::{Downstream, Internal, Upstream};
        if let Some(cause) = std::error::Error::source(self) {
            match DownstreamError::in_chain(cause) {
                Some(DownstreamError::Stalled(_)) => return BODY_STALLED,
                Some(DownstreamError::TooLarge(_)) => return ProxyError::PayloadTooLarge.spec(),
                Some(DownstreamError::Read(_)) => return BODY_BROKEN,
                None => {}
            }
        }
        let (status, response_type, body, origin, retryable) = match self {
            ProxyError::NotFound | ProxyError::NoIntegration => (
                StatusCode::NOT_FOUND,
                "RESOURCE_NOT_FOUND",
                NOT_FOUND,
                Downstream,
                false,
            ),
            ProxyError::Throttled(_) => (
                StatusCode::TOO_MANY_REQUESTS,
                "THROTTLED",
                &br#"{"message":"Too Many Requests"}"#[..],
                Downstream,
                false,
            ),
            ProxyError::PayloadTooLarge | ProxyError::DeclaredBodyTooLarge => (
                StatusCode::PAYLOAD_TOO_LARGE,
                "REQUEST_TOO_LARGE",
                &br#"{"message":"Request Entity Too Large"}"#[..],
                Downstream,
                false,
            ),
            ProxyError::UpstreamTimeout(_) => (
                StatusCode::GATEWAY_TIMEOUT,
                "INTEGRATION_TIMEOUT",
                &br#"{"message":"Endpoint request timed out"}"#[..],
                Upstream,
                false,
            ),
            ProxyError::Upstream(e) => (
                StatusCode::BAD_GATEWAY,
                "INTEGRATION_FAILURE",
                BAD_GATEWAY,
                Upstream,
                e.nothing_sent(),
            ),
            // AWS answers 500 for a backend payload over 10 MB
            // (https://repost.aws/knowledge-center/api-gateway-5xx-error).
            ProxyError::UpstreamResponse(RefusedResponse::TooLarge(_)) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "INTEGRATION_FAILURE",
                INTERNAL,
                Upstream,
                false,
            ),
            ProxyError::UpstreamResponse(RefusedResponse::AmbiguousLength) => (
                StatusCode::BAD_GATEWAY,
                "INTEGRATION_FAILURE",
                BAD_GATEWAY,
                Upstream,
                false,
            ),
            // Every failure to get a response out of a function (an error it raised,
            // output that is no response, a refused or throttled invocation) is AWS's
            // 500 (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-troubleshooting-lambda.html,
            // https://docs.aws.amazon.com/lambda/latest/dg/services-apigateway-errors.html).
            // A function past the integration's timeout is 503 "Service Unavailable":
            // AWS documents no body for it; that is what HTTP API users report getting
            // (e.g. github.com/sst/sst/issues/2232).
            ProxyError::Lambda(LambdaError::Timeout(_)) => (
                StatusCode::SERVICE_UNAVAILABLE,
                "INTEGRATION_TIMEOUT",
                &br#"{"message":"Service Unavailable"}"#[..],
                Upstream,
                false,
            ),
            ProxyError::Lambda(LambdaError::RequestBody(_)) => (
                StatusCode::BAD_REQUEST,
                "BAD_REQUEST_BODY",
                &br#"{"message":"Bad Request"}"#[..],
                Downstream,
                false,
            ),
            ProxyError::Lambda(e) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "INTEGRATION_FAILURE",
                INTERNAL,
                Upstream,
                matches!(
                    e,
                    LambdaError::Invoke(crate::integrations::lambda::InvokeError::Unreachable(u))
                        if u.nothing_sent()
                ),
            ),
            // "Controlling access to HTTP APIs": 401 for a missing or bad identity,
            // 403 for one that may not call the route, 500 when the authorizer failed
            // (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-troubleshooting-lambda-authorizer.html).
            ProxyError::RequestBody(_) => (
                StatusCode::BAD_REQUEST,
                "BAD_REQUEST_BODY",
                &br#"{"message":"Bad Request"}"#[..],
                Downstream,
                false,
            ),
            ProxyError::Unauthorized(_) | ProxyError::InvalidToken(_) => (
                StatusCode::UNAUTHORIZED,
                "UNAUTHORIZED",
                &br#"{"message":"Unauthorized"}"#[..],
                Downstream,
                false,
            ),
            ProxyError::Forbidden(_) => (
                StatusCode::FORBIDDEN,
                "ACCESS_DENIED",
                &br#"{"message":"Forbidden"}"#[..],
                Downstream,
                false,
            ),
            ProxyError::AuthorizerFailed(_) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "AUTHORIZER_FAILURE",
                INTERNAL,
                Upstream,
                false,
            ),
            // What a load balancer with no healthy target answers, and what AWS passes
            // on from the ALB behind a VPC link.
            ProxyError::NoTarget(_) => (
                StatusCode::SERVICE_UNAVAILABLE,
                "INTEGRATION_FAILURE",
                &br#"{"message":"Service Unavailable"}"#[..],
                Upstream,
                false,
            ),
            // A certificate that does not match the private integration's name to verify
            // (https://repost.aws/knowledge-center/api-gateway-500-error-vpc).
            ProxyError::TargetCertificate(_) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "INTEGRATION_FAILURE",
                INTERNAL,
                Upstream,
                false,
            ),
            // AWS answers these with its own edge's text; the node keeps the JSON shape.
            ProxyError::UriTooLong => (
                StatusCode::URI_TOO_LONG,
                "REQUEST_TOO_LARGE",
                &br#"{"message":"URI Too Long"}"#[..],
                Downstream,
                false,
            ),
            ProxyError::UnsupportedTransferCoding => (
                StatusCode::BAD_REQUEST,
                "BAD_REQUEST_BODY",
                &br#"{"message":"Bad Request"}"#[..],
                Downstream,
                false,
            ),
            ProxyError::TooManyHeaders => (
                StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
                "REQUEST_TOO_LARGE",
                &br#"{"message":"Request Header Fields Too Large"}"#[..],
                Downstream,
                false,
            ),
            ProxyError::UpstreamUri(_) | ProxyError::UnusableIntegration(_) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "DEFAULT_5XX",
                INTERNAL,
                Internal,
                false,
            ),
        };
        ErrorSpec {
            status,
            response_type,
            body,
            origin,
            retryable,
        }
    }

    pub fn into_response(self) -> Response<ProxyBody> {
        let spec = self.spec();
        let mut response = Response::new(ProxyBody::from_static(spec.body));
        *response.status_mut() = spec.status;
        response
            .headers_mut()
            .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        // RFC 6750 §3, in AWS's words ("Troubleshooting issues with HTTP API JWT
        // authorizers"): `Bearer` alone without a token, else why the token failed.
        if let ProxyError::InvalidToken(why) = self {
            let challenge = if why.is_empty() {
                HeaderValue::from_static("Bearer")
            } else {
                HeaderValue::from_str(&format!(
                    "Bearer scope=\"\" error=\"invalid_token\" error_description=\"{why}\""
                ))
                .unwrap_or_else(|_| HeaderValue::from_static("Bearer"))
            };
            response
                .headers_mut()
                .insert(http::header::WWW_AUTHENTICATE, challenge);
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use http_body_util::BodyExt;

    use super::*;

    /// https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-troubleshooting-jwt.html
    #[test]
    fn a_bad_token_says_why_in_www_authenticate() {
        let r =
            ProxyError::InvalidToken("the token does not have a valid audience").into_response();
        assert_eq!(r.status(), 401);
        assert_eq!(
            r.headers()["www-authenticate"],
            r#"Bearer scope="" error="invalid_token" error_description="the token does not have a valid audience""#
        );
        let r = ProxyError::InvalidToken("").into_response();
        assert_eq!(r.headers()["www-authenticate"], "Bearer");
        let r = ProxyError::Unauthorized("an identity source is missing").into_response();
        assert!(r.headers().get("www-authenticate").is_none());
    }

    #[tokio::test]
    async fn responses_use_the_aws_shape() {
        for (err, status, body) in [
            (ProxyError::NotFound, 404, r#"{"message":"Not Found"}"#),
            (ProxyError::NoIntegration, 404, r#"{"message":"Not Found"}"#),
            (
                ProxyError::Throttled(crate::runtime::ThrottleRegistry::default().bucket("k")),
                429,
                r#"{"message":"Too Many Requests"}"#,
            ),
            (
                ProxyError::PayloadTooLarge,
                413,
                r#"{"message":"Request Entity Too Large"}"#,
            ),
            (
                ProxyError::UpstreamTimeout(Duration::from_secs(1)),
                504,
                r#"{"message":"Endpoint request timed out"}"#,
            ),
            (
                ProxyError::UpstreamResponse(RefusedResponse::TooLarge(11_000_000)),
                500,
                r#"{"message":"Internal Server Error"}"#,
            ),
            (
                ProxyError::UpstreamResponse(RefusedResponse::AmbiguousLength),
                502,
                r#"{"message":"Bad Gateway"}"#,
            ),
            (
                ProxyError::Lambda(LambdaError::Timeout(Duration::from_secs(1))),
                503,
                r#"{"message":"Service Unavailable"}"#,
            ),
            (
                ProxyError::Lambda(LambdaError::Invalid(
                    crate::integrations::lambda::response::InvalidResponse("not JSON".into()),
                )),
                500,
                r#"{"message":"Internal Server Error"}"#,
            ),
            (
                ProxyError::Lambda(LambdaError::Invoke(
                    crate::integrations::lambda::InvokeError::Throttled(
                        "TooManyRequestsException".into(),
                    ),
                )),
                500,
                r#"{"message":"Internal Server Error"}"#,
            ),
        ] {
            let r = err.into_response();
            assert_eq!(r.status().as_u16(), status);
            assert_eq!(r.headers()[CONTENT_TYPE], "application/json");
            let bytes = r.into_body().collect().await.expect("body").to_bytes();
            assert_eq!(bytes, body.as_bytes());
        }
    }

    /// The gateway response types AWS logs for each failure
    /// (https://docs.aws.amazon.com/apigateway/latest/developerguide/supported-gateway-response-types.html).
    #[test]
    fn every_failure_has_its_aws_response_type() {
        let unusable = InvalidUpstreamUri {
            uri: "http:///x".into(),
            reason: "it has no host".into(),
        };
        for (err, response_type, origin) in [
            (
                ProxyError::NotFound,
                "RESOURCE_NOT_FOUND",
                ErrorOrigin::Downstream,
            ),
            (
                ProxyError::NoIntegration,
                "RESOURCE_NOT_FOUND",
                ErrorOrigin::Downstream,
            ),
            (
                ProxyError::PayloadTooLarge,
                "REQUEST_TOO_LARGE",
                ErrorOrigin::Downstream,
            ),
            (
                ProxyError::UpstreamTimeout(Duration::from_secs(1)),
                "INTEGRATION_TIMEOUT",
                ErrorOrigin::Upstream,
            ),
            (
                ProxyError::UnusableIntegration(Arc::new(unusable)),
                "DEFAULT_5XX",
                ErrorOrigin::Internal,
            ),
        ] {
            let spec = err.spec();
            assert_eq!(
                (spec.response_type, spec.origin),
                (response_type, origin),
                "{err}"
            );
            assert!(!spec.retryable, "{err}");
        }
    }

    /// Each cause appears once in the log line, however the errors wrap each other.
    #[test]
    fn the_log_names_each_cause_once() {
        let io = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "connection refused");
        let e = ProxyError::Upstream(crate::upstream::pool::UpstreamError::Connect(Box::new(io)));
        assert_eq!(
            crate::error_chain::ErrorChain(&e).to_string(),
            "upstream request failed: cannot connect to the upstream: connection refused"
        );
    }
}
