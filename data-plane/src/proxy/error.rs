//! Everything that can stop a request, and the one place it becomes a response. Bodies
//! are AWS's (`{"message":"…"}`) and never say anything internal; the detail goes to the
//! log instead.

use std::sync::Arc;
use std::time::Duration;

use http::header::{CONTENT_TYPE, HeaderValue};
use http::{Response, StatusCode};

use super::body::ProxyBody;
use crate::config::integration::InvalidUpstreamUri;

/// Largest request body the node forwards, as in AWS HTTP APIs (10 MB).
pub const MAX_BODY_BYTES: usize = 10_485_760;

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
    #[error("the request body exceeds {MAX_BODY_BYTES} bytes")]
    PayloadTooLarge,
    #[error("no response head from upstream within {0:?}")]
    UpstreamTimeout(Duration),
    #[error("upstream request failed: {0}")]
    Upstream(#[source] crate::upstream::pool::UpstreamError),
    #[error("cannot build the upstream URI: {0}")]
    UpstreamUri(#[source] http::uri::InvalidUri),
    /// The stage's variables leave the route's integration without a usable URI.
    #[error("the integration cannot be used on this stage: {0}")]
    UnusableIntegration(Arc<InvalidUpstreamUri>),
}

impl ProxyError {
    pub fn status(&self) -> StatusCode {
        match self {
            ProxyError::NotFound | ProxyError::NoIntegration => StatusCode::NOT_FOUND,
            ProxyError::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ProxyError::UpstreamTimeout(_) => StatusCode::GATEWAY_TIMEOUT,
            ProxyError::Upstream(_) => StatusCode::BAD_GATEWAY,
            ProxyError::UpstreamUri(_) | ProxyError::UnusableIntegration(_) => {
                StatusCode::INTERNAL_SERVER_ERROR
            }
        }
    }

    pub fn origin(&self) -> ErrorOrigin {
        match self {
            ProxyError::NotFound | ProxyError::NoIntegration | ProxyError::PayloadTooLarge => {
                ErrorOrigin::Downstream
            }
            ProxyError::UpstreamTimeout(_) | ProxyError::Upstream(_) => ErrorOrigin::Upstream,
            ProxyError::UpstreamUri(_) | ProxyError::UnusableIntegration(_) => {
                ErrorOrigin::Internal
            }
        }
    }

    fn body(&self) -> &'static [u8] {
        match self {
            ProxyError::NotFound | ProxyError::NoIntegration => br#"{"message":"Not Found"}"#,
            ProxyError::PayloadTooLarge => br#"{"message":"Request Entity Too Large"}"#,
            ProxyError::UpstreamTimeout(_) => br#"{"message":"Endpoint request timed out"}"#,
            ProxyError::Upstream(_) => br#"{"message":"Bad Gateway"}"#,
            ProxyError::UpstreamUri(_) | ProxyError::UnusableIntegration(_) => {
                br#"{"message":"Internal Server Error"}"#
            }
        }
    }

    pub fn into_response(self) -> Response<ProxyBody> {
        let mut response = Response::new(ProxyBody::from_static(self.body()));
        *response.status_mut() = self.status();
        response
            .headers_mut()
            .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        response
    }
}

#[cfg(test)]
mod tests {
    use http_body_util::BodyExt;

    use super::*;

    #[tokio::test]
    async fn responses_use_the_aws_shape() {
        for (err, status, body) in [
            (ProxyError::NotFound, 404, r#"{"message":"Not Found"}"#),
            (ProxyError::NoIntegration, 404, r#"{"message":"Not Found"}"#),
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
        ] {
            let r = err.into_response();
            assert_eq!(r.status().as_u16(), status);
            assert_eq!(r.headers()[CONTENT_TYPE], "application/json");
            let bytes = r.into_body().collect().await.expect("body").to_bytes();
            assert_eq!(bytes, body.as_bytes());
        }
    }
}
