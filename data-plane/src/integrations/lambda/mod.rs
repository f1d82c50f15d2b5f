//! The AWS_PROXY integration: the request becomes an event (`event.rs`), the event goes
//! to the function through the Lambda Invoke API
//! (`POST /2015-03-31/functions/{function}/invocations`, https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html),
//! signed with SigV4 when the node has credentials (`signing.rs`), and the function's
//! output becomes the response (`response.rs`).
//!
//! Calls go to AWS's endpoint for the function's region, or to the node's
//! `--lambda-endpoint` (the Lambda runtime interface emulator, or any service that speaks
//! the Invoke API), over each worker's own keep-alive pool. The whole exchange, from the
//! client's body to the function's last byte, is bounded by the integration's timeout.

pub mod authorizer;
pub mod event;
pub mod response;
pub mod signing;

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::header::{CONTENT_TYPE, HOST, HeaderValue, USER_AGENT};
use http::uri::{Authority, PathAndQuery, Scheme};
use http::{HeaderName, Method, Request, Response, StatusCode, Uri};
use http_body::Body;
use http_body_util::Full;

use self::response::InvalidResponse;
pub use self::signing::LambdaCredentials;
use self::signing::SigningError;
use super::{MAX_BODY_BYTES, ReadError, declared_length, read_to_end};
use crate::config::lambda::LambdaFunction;
use crate::proxy::body::ProxyBody;
use crate::upstream::pool::{UpstreamError, UpstreamPool};

/// The largest event a synchronous invocation takes and the largest output it returns
/// (Lambda's quota, https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html).
pub const MAX_PAYLOAD_BYTES: usize = 6_291_556;

static FUNCTION_ERROR: HeaderName = HeaderName::from_static("x-amz-function-error");
static ERROR_TYPE: HeaderName = HeaderName::from_static("x-amzn-errortype");

/// Where a node sends Invoke calls instead of AWS: `--lambda-endpoint`.
#[derive(Debug, Clone)]
pub struct LambdaEndpoint {
    scheme: Scheme,
    authority: Authority,
    host: HeaderValue,
}

#[derive(Debug, thiserror::Error)]
#[error("invalid Lambda endpoint '{uri}': {reason}")]
pub struct InvalidEndpoint {
    uri: String,
    reason: &'static str,
}

impl LambdaEndpoint {
    pub fn parse(uri: &Uri) -> Result<Self, InvalidEndpoint> {
        let invalid = |reason| InvalidEndpoint {
            uri: uri.to_string(),
            reason,
        };
        let scheme = match uri.scheme_str() {
            Some("http") => Scheme::HTTP,
            Some("https") => Scheme::HTTPS,
            _ => return Err(invalid("use an http:// or https:// URL")),
        };
        let authority = uri
            .authority()
            .filter(|a| !a.host().is_empty())
            .ok_or_else(|| invalid("it has no host"))?
            .clone();
        if authority.as_str().contains('@') {
            return Err(invalid(
                "credentials do not go in the URL; set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY",
            ));
        }
        if !matches!(uri.path(), "" | "/") || uri.query().is_some() {
            return Err(invalid(
                "give only scheme, host and port: the Invoke API's path is added to it",
            ));
        }
        let host = HeaderValue::from_str(authority.as_str())
            .map_err(|_| invalid("its host cannot be sent as Host"))?;
        Ok(LambdaEndpoint {
            scheme,
            authority,
            host,
        })
    }
}

/// What every worker's Lambda client shares: where to call and with which credentials.
#[derive(Debug, Default)]
pub struct LambdaSettings {
    pub endpoint: Option<LambdaEndpoint>,
    /// Without credentials, calls go unsigned: enough for the runtime interface
    /// emulator, refused by AWS.
    pub credentials: Option<LambdaCredentials>,
}

/// Why the function gave no answer the client can have.
#[derive(Debug, thiserror::Error)]
pub enum InvokeError {
    #[error("{0}")]
    Sign(#[from] SigningError),
    #[error("cannot reach the Lambda endpoint")]
    Unreachable(#[source] UpstreamError),
    #[error("reading the Invoke response failed")]
    ResponseBody(#[source] Box<dyn std::error::Error + Send + Sync>),
    #[error("the function's output is larger than {MAX_PAYLOAD_BYTES} bytes")]
    ResponseTooLarge,
    /// Lambda would refuse it (413); not sent.
    #[error("the event is {0} bytes, more than the {MAX_PAYLOAD_BYTES} Lambda takes")]
    EventTooLarge(usize),
    #[error("Lambda throttled the invocation (429 {0})")]
    Throttled(String),
    #[error("Lambda refused the invocation ({status} {error_type}): {message}")]
    Rejected {
        status: StatusCode,
        error_type: String,
        message: String,
    },
    #[error("the function failed ({kind}): {output}")]
    Function { kind: String, output: String },
}

/// Everything that can stop a Lambda proxy request; the proxy turns each into AWS's
/// answer.
#[derive(Debug, thiserror::Error)]
pub enum LambdaError {
    #[error("the request body exceeds {MAX_BODY_BYTES} bytes")]
    PayloadTooLarge,
    #[error("reading the request body failed")]
    RequestBody(#[source] Box<dyn std::error::Error + Send + Sync>),
    #[error("no answer from the function within {0:?}")]
    Timeout(Duration),
    #[error(transparent)]
    Invoke(#[from] InvokeError),
    #[error(transparent)]
    Invalid(#[from] InvalidResponse),
}

/// One worker's Lambda client: the shared settings and the worker's own pool.
#[derive(Clone)]
pub struct LambdaClient {
    settings: Arc<LambdaSettings>,
    pool: UpstreamPool<Full<Bytes>>,
}

impl LambdaClient {
    pub fn new(settings: Arc<LambdaSettings>) -> Result<Self, rustls::Error> {
        Ok(LambdaClient {
            settings,
            pool: UpstreamPool::new()?,
        })
    }

    pub fn prune_idle(&self) {
        self.pool.prune_idle();
    }

    /// Reads the client's body, builds the event from it, invokes the function and reads
    /// its output as a response, all within the integration's timeout.
    pub async fn proxy<B>(
        &self,
        function: &LambdaFunction,
        declared: &http::HeaderMap,
        body: B,
        build_event: impl FnOnce(&[u8]) -> Vec<u8>,
    ) -> Result<Response<ProxyBody>, LambdaError>
    where
        B: Body<Data = Bytes>,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        if declared_length(declared).is_some_and(|len| len > MAX_BODY_BYTES as u64) {
            return Err(LambdaError::PayloadTooLarge);
        }
        let exchange = async {
            let body = read_to_end(body, MAX_BODY_BYTES)
                .await
                .map_err(|e| match e {
                    ReadError::TooLarge => LambdaError::PayloadTooLarge,
                    ReadError::Failed(e) => LambdaError::RequestBody(e),
                })?;
            let event = build_event(&body);
            let output = self.invoke(function, Bytes::from(event)).await?;
            Ok(response::read(function.payload, output)?)
        };
        match tokio::time::timeout(function.timeout, exchange).await {
            Ok(outcome) => outcome,
            Err(_elapsed) => Err(LambdaError::Timeout(function.timeout)),
        }
    }

    /// One synchronous invocation; the function's output on success.
    pub async fn invoke(
        &self,
        function: &LambdaFunction,
        event: Bytes,
    ) -> Result<Bytes, InvokeError> {
        if event.len() > MAX_PAYLOAD_BYTES {
            return Err(InvokeError::EventTooLarge(event.len()));
        }
        let (scheme, authority, host) = match &self.settings.endpoint {
            Some(e) => (e.scheme.clone(), e.authority.clone(), e.host.clone()),
            None => (
                Scheme::HTTPS,
                function.aws_authority.clone(),
                function.aws_host.clone(),
            ),
        };
        let uri = Uri::builder()
            .scheme(scheme)
            .authority(authority)
            .path_and_query(PathAndQuery::clone(&function.invoke_path))
            .build()
            .unwrap_or_default();
        let mut request = Request::new(event);
        *request.method_mut() = Method::POST;
        *request.uri_mut() = uri;
        let headers = request.headers_mut();
        // hyper's bare client connection writes no Host of its own.
        headers.insert(HOST, host);
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        headers.insert(USER_AGENT, HeaderValue::from_static("portico"));
        if let Some(credentials) = &self.settings.credentials {
            credentials.sign(&mut request, &function.arn.region)?;
        }
        let response = self
            .pool
            .send(request.map(Full::new))
            .await
            .map_err(InvokeError::Unreachable)?;
        let (parts, body) = response.into_parts();
        let output = read_to_end(body, MAX_PAYLOAD_BYTES)
            .await
            .map_err(|e| match e {
                ReadError::TooLarge => InvokeError::ResponseTooLarge,
                ReadError::Failed(e) => InvokeError::ResponseBody(e),
            })?;
        let header = |name: &HeaderName| {
            parts
                .headers
                .get(name)
                .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
        };
        let shown = || String::from_utf8_lossy(&output[..output.len().min(1024)]).into_owned();
        match parts.status {
            StatusCode::OK => match header(&FUNCTION_ERROR) {
                Some(kind) => Err(InvokeError::Function {
                    kind,
                    output: shown(),
                }),
                None => Ok(output),
            },
            StatusCode::TOO_MANY_REQUESTS => Err(InvokeError::Throttled(
                header(&ERROR_TYPE).unwrap_or_default(),
            )),
            status => Err(InvokeError::Rejected {
                status,
                error_type: header(&ERROR_TYPE).unwrap_or_default(),
                message: shown(),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_are_scheme_host_and_port() {
        for ok in [
            "http://127.0.0.1:9002",
            "https://lambda.example.com/",
            "http://[::1]:9",
        ] {
            LambdaEndpoint::parse(&ok.parse().expect("uri")).expect(ok);
        }
        for (bad, why) in [
            ("ftp://h", "http:// or https://"),
            ("http://u:p@h:1", "credentials do not go in the URL"),
            ("http://h/base", "only scheme, host and port"),
            ("http://h/?x=1", "only scheme, host and port"),
        ] {
            let err = LambdaEndpoint::parse(&bad.parse().expect("uri")).expect_err(bad);
            assert!(err.to_string().contains(why), "{bad}: {err}");
        }
    }

    #[test]
    fn credentials_that_cannot_be_sent_are_refused_at_start() {
        assert!(LambdaCredentials::new("AKID", "secret", Some("token")).is_ok());
        for (id, secret, token, which) in [
            ("AKID\r", "secret", None, "AWS_ACCESS_KEY_ID"),
            ("AKID", "sec ret", None, "AWS_SECRET_ACCESS_KEY"),
            ("AKID", "secret", Some("tok\nen"), "AWS_SESSION_TOKEN"),
        ] {
            let err = LambdaCredentials::new(id, secret, token).expect_err(which);
            assert!(err.to_string().contains(which), "{err}");
        }
    }
}
