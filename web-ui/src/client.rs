//! The console's one way to the admin API. In the browser it is `fetch` against the same
//! origin (the session cookie rides along; changes echo the CSRF cookie in
//! `X-CSRF-Token`). On the server it is the admin API's axum router called in-process
//! with the visitor's cookies, so a server-rendered page sees exactly what the browser
//! would.
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// An admin API error as the console shows it: AWS's error type and message, and the
/// request field it is about when the API names one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, thiserror::Error)]
#[error("{message}")]
pub struct ApiFailure {
    pub status: u16,
    pub error_type: String,
    pub message: String,
    pub field: Option<String>,
}

impl ApiFailure {
    fn transport(message: impl Into<String>) -> Self {
        ApiFailure {
            status: 0,
            error_type: "NetworkError".into(),
            message: message.into(),
            field: None,
        }
    }

    /// A field error found before sending, shaped as the API would answer it.
    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        ApiFailure {
            status: 400,
            error_type: "BadRequestException".into(),
            message: message.into(),
            field: Some(field.into()),
        }
    }

    pub fn is_unauthenticated(&self) -> bool {
        self.status == 401
            || self.error_type == "MissingAuthenticationTokenException"
            || self.error_type == "UnrecognizedClientException"
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verb {
    Get,
    Post,
    Put,
    Patch,
    Delete,
}

impl Verb {
    pub fn as_str(self) -> &'static str {
        match self {
            Verb::Get => "GET",
            Verb::Post => "POST",
            Verb::Put => "PUT",
            Verb::Patch => "PATCH",
            Verb::Delete => "DELETE",
        }
    }
}

/// The server side's handle on the admin API, provided as context by the control plane.
#[cfg(feature = "ssr")]
#[derive(Clone)]
pub struct AdminRouter(pub axum::Router);

/// Made while a component is created (it reads context), used later from async code.
#[derive(Clone)]
pub struct AdminClient {
    #[cfg(feature = "ssr")]
    server: Option<(AdminRouter, http::request::Parts)>,
}

impl Default for AdminClient {
    fn default() -> Self {
        Self::new()
    }
}

impl AdminClient {
    pub fn new() -> Self {
        AdminClient {
            #[cfg(feature = "ssr")]
            server: leptos::prelude::use_context::<AdminRouter>()
                .zip(leptos::prelude::use_context::<http::request::Parts>()),
        }
    }

    pub async fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T, ApiFailure> {
        let body = self.send(Verb::Get, path, None).await?;
        decode(&body)
    }

    pub async fn post<T: DeserializeOwned>(
        &self,
        path: &str,
        body: serde_json::Value,
    ) -> Result<T, ApiFailure> {
        let body = self.send(Verb::Post, path, Some(body)).await?;
        decode(&body)
    }

    pub async fn patch<T: DeserializeOwned>(
        &self,
        path: &str,
        body: serde_json::Value,
    ) -> Result<T, ApiFailure> {
        let body = self.send(Verb::Patch, path, Some(body)).await?;
        decode(&body)
    }

    /// PUTs `body` as JSON: a whole resource replaced (the price table, a budget).
    pub async fn put<T: DeserializeOwned>(
        &self,
        path: &str,
        body: serde_json::Value,
    ) -> Result<T, ApiFailure> {
        let body = self.send(Verb::Put, path, Some(body)).await?;
        decode(&body)
    }

    pub async fn delete(&self, path: &str) -> Result<(), ApiFailure> {
        self.send(Verb::Delete, path, None).await.map(|_| ())
    }

    /// PUTs `text` as the body (a PEM bundle, say) and reads the JSON answer.
    pub async fn put_text<T: DeserializeOwned>(
        &self,
        path: &str,
        text: String,
    ) -> Result<T, ApiFailure> {
        let body = self
            .send_outgoing(Outgoing {
                verb: Verb::Put,
                path: path.to_owned(),
                headers: Vec::new(),
                body: Some(("text/plain; charset=utf-8", text)),
                read_only: false,
            })
            .await?;
        decode(&body)
    }

    /// One AWS Certificate Manager operation (`ImportCertificate`, `ListCertificates`, …)
    /// in ACM's JSON 1.1 protocol, which the admin API answers at `POST /`: PascalCase
    /// members in, PascalCase members out, errors as `{"__type", "message"}`.
    pub async fn acm<T: DeserializeOwned>(
        &self,
        operation: &str,
        body: serde_json::Value,
    ) -> Result<T, ApiFailure> {
        let body = self
            .send_outgoing(Outgoing {
                verb: Verb::Post,
                path: "/".to_owned(),
                headers: vec![("x-amz-target", format!("CertificateManager.{operation}"))],
                body: Some(("application/x-amz-json-1.1", body.to_string())),
                // ACM reads with POST too; only these may run while a page renders.
                read_only: matches!(operation, "ListCertificates" | "DescribeCertificate"),
            })
            .await?;
        decode(&body)
    }

    /// Sends one request and returns the body of a 2xx answer.
    pub async fn send(
        &self,
        verb: Verb,
        path: &str,
        body: Option<serde_json::Value>,
    ) -> Result<String, ApiFailure> {
        self.send_outgoing(Outgoing {
            verb,
            path: path.to_owned(),
            headers: Vec::new(),
            body: body.map(|b| ("application/json", b.to_string())),
            read_only: verb == Verb::Get,
        })
        .await
    }

    async fn send_outgoing(&self, outgoing: Outgoing) -> Result<String, ApiFailure> {
        let (status, error_type, text) = self.exchange(outgoing).await?;
        if (200..300).contains(&status) {
            Ok(text)
        } else {
            Err(failure(status, error_type, &text))
        }
    }

    #[cfg(feature = "ssr")]
    async fn exchange(
        &self,
        outgoing: Outgoing,
    ) -> Result<(u16, Option<String>, String), ApiFailure> {
        use http_body_util::BodyExt;
        use tower::ServiceExt;

        let Some((AdminRouter(router), parts)) = &self.server else {
            return Err(ApiFailure::transport(
                "the console's server side has no admin API",
            ));
        };
        let mut request = http::Request::builder()
            .method(outgoing.verb.as_str())
            .uri(outgoing.path.as_str());
        // Only what authenticates the visitor is passed on: their cookies.
        for cookie in parts.headers.get_all(http::header::COOKIE) {
            request = request.header(http::header::COOKIE, cookie);
        }
        // A read the API takes by POST (ACM's List and Describe) needs the CSRF token the
        // browser would echo; changes never run while a page renders, so they get none.
        if outgoing.read_only
            && outgoing.verb != Verb::Get
            && let Some(token) = csrf_from_cookies(
                parts
                    .headers
                    .get_all(http::header::COOKIE)
                    .iter()
                    .filter_map(|v| v.to_str().ok()),
            )
        {
            request = request.header(CSRF_HEADER, token);
        }
        for (name, value) in &outgoing.headers {
            request = request.header(*name, value.as_str());
        }
        if let Some(connect_info) = parts
            .extensions
            .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        {
            request = request.extension(*connect_info);
        }
        let request = match outgoing.body {
            Some((content_type, text)) => request
                .header(http::header::CONTENT_TYPE, content_type)
                .body(axum::body::Body::from(text)),
            None => request.body(axum::body::Body::empty()),
        }
        .map_err(|e| ApiFailure::transport(e.to_string()))?;
        let response = router
            .clone()
            .oneshot(request)
            .await
            .map_err(|e| ApiFailure::transport(e.to_string()))?;
        let status = response.status().as_u16();
        let error_type = response
            .headers()
            .get("x-amzn-errortype")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let bytes = response
            .into_body()
            .collect()
            .await
            .map_err(|e| ApiFailure::transport(e.to_string()))?
            .to_bytes();
        Ok((
            status,
            error_type,
            String::from_utf8_lossy(&bytes).into_owned(),
        ))
    }

    #[cfg(not(feature = "ssr"))]
    async fn exchange(
        &self,
        outgoing: Outgoing,
    ) -> Result<(u16, Option<String>, String), ApiFailure> {
        #[cfg(feature = "hydrate")]
        {
            // gloo's futures are not Send; the browser has one thread, so this is sound.
            send_wrapper::SendWrapper::new(browser::exchange(outgoing)).await
        }
        #[cfg(not(feature = "hydrate"))]
        {
            let _ = outgoing;
            Err(ApiFailure::transport("built without a transport"))
        }
    }
}

/// One request to the admin API.
#[cfg_attr(not(any(feature = "ssr", feature = "hydrate")), allow(dead_code))]
struct Outgoing {
    verb: Verb,
    path: String,
    /// Headers besides the ones every request gets (ACM's `X-Amz-Target`).
    headers: Vec<(&'static str, String)>,
    /// The content type and the body.
    body: Option<(&'static str, String)>,
    /// A read, whatever its verb: only reads run while the server renders a page.
    #[cfg_attr(not(feature = "ssr"), allow(dead_code))]
    read_only: bool,
}

/// The header that echoes the session's CSRF cookie on a change.
#[cfg(any(feature = "ssr", feature = "hydrate"))]
const CSRF_HEADER: &str = "x-csrf-token";
/// The CSRF cookie set at login (not HttpOnly, so the page can echo it).
#[cfg(any(feature = "ssr", feature = "hydrate"))]
const CSRF_COOKIE: &str = "portico_csrf";

/// The CSRF token among `Cookie` header values (`a=1; portico_csrf=…`).
#[cfg(any(feature = "ssr", feature = "hydrate"))]
fn csrf_from_cookies<'a>(headers: impl IntoIterator<Item = &'a str>) -> Option<String> {
    headers
        .into_iter()
        .flat_map(|h| h.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == CSRF_COOKIE)
        .map(|(_, value)| value.to_owned())
}

#[cfg(feature = "hydrate")]
mod browser {
    use gloo_net::http::{Method, RequestBuilder};
    use wasm_bindgen::JsCast;

    use super::{ApiFailure, CSRF_HEADER, Outgoing, Verb, csrf_from_cookies};

    pub(super) async fn exchange(
        outgoing: Outgoing,
    ) -> Result<(u16, Option<String>, String), ApiFailure> {
        let verb = outgoing.verb;
        let method = match verb {
            Verb::Get => Method::GET,
            Verb::Post => Method::POST,
            Verb::Put => Method::PUT,
            Verb::Patch => Method::PATCH,
            Verb::Delete => Method::DELETE,
        };
        let mut builder = RequestBuilder::new(&outgoing.path)
            .method(method)
            .header("accept", "application/json");
        if verb != Verb::Get
            && let Some(token) = csrf_token()
        {
            builder = builder.header(CSRF_HEADER, &token);
        }
        for (name, value) in &outgoing.headers {
            builder = builder.header(name, value);
        }
        let request = match outgoing.body {
            Some((content_type, text)) => builder.header("content-type", content_type).body(text),
            None => builder.build(),
        }
        .map_err(|e| ApiFailure::transport(e.to_string()))?;
        let response = request
            .send()
            .await
            .map_err(|e| ApiFailure::transport(format!("the admin API is unreachable: {e}")))?;
        let status = response.status();
        let error_type = response.headers().get("x-amzn-errortype");
        let text = response
            .text()
            .await
            .map_err(|e| ApiFailure::transport(e.to_string()))?;
        Ok((status, error_type, text))
    }

    /// The CSRF cookie set at login, which the page can read.
    fn csrf_token() -> Option<String> {
        let document = web_sys::window()?.document()?;
        let cookies = document
            .dyn_into::<web_sys::HtmlDocument>()
            .ok()?
            .cookie()
            .ok()?;
        csrf_from_cookies([cookies.as_str()])
    }
}

fn decode<T: DeserializeOwned>(body: &str) -> Result<T, ApiFailure> {
    // A 204 has no body; `()` and `Option<_>` read "null".
    let body = if body.trim().is_empty() { "null" } else { body };
    serde_json::from_str(body)
        .map_err(|e| ApiFailure::transport(format!("unexpected answer from the admin API: {e}")))
}

/// Reads the AWS error shape: `x-amzn-ErrorType` and `{"message", "field"}`.
fn failure(status: u16, error_type: Option<String>, body: &str) -> ApiFailure {
    #[derive(Deserialize)]
    struct Shape {
        #[serde(default, alias = "Message")]
        message: Option<String>,
        #[serde(default)]
        field: Option<String>,
        /// The JSON protocols' (ACM's) error code, when no header names it.
        #[serde(default, rename = "__type")]
        code: Option<String>,
    }
    let shape = serde_json::from_str::<Shape>(body).ok();
    let error_type = error_type
        .map(|t| t.split(':').next().unwrap_or_default().to_owned())
        .or_else(|| {
            // `com.amazonaws.acm#ResourceInUseException` names the same code.
            let code = shape.as_ref()?.code.as_deref()?;
            Some(code.rsplit('#').next().unwrap_or(code).to_owned())
        })
        .filter(|t| !t.is_empty())
        .unwrap_or_else(|| format!("HTTP {status}"));
    ApiFailure {
        status,
        message: shape
            .as_ref()
            .and_then(|s| s.message.clone())
            .unwrap_or_else(|| format!("The admin API answered {status}")),
        field: shape.and_then(|s| s.field),
        error_type,
    }
}

/// Standard base64 with padding: how AWS's JSON protocols carry blobs (ACM's
/// `Certificate`, `PrivateKey` and `CertificateChain`).
pub fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for (i, shift) in [18u32, 12, 6, 0].into_iter().enumerate() {
            if i <= chunk.len() {
                out.push(ALPHABET[((n >> shift) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Percent-encodes one path segment (stage names such as `$default` need it).
pub fn segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blobs_are_standard_base64() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
        assert_eq!(base64(b"foobar"), "Zm9vYmFy");
        assert_eq!(base64(&[0xfb, 0xff, 0xfe]), "+//+");
    }

    #[test]
    fn acm_errors_read_their_code_from_the_body() {
        let f = failure(
            400,
            None,
            r#"{"__type":"ResourceInUseException","message":"in use by a domain"}"#,
        );
        assert_eq!(f.error_type, "ResourceInUseException");
        assert_eq!(f.message, "in use by a domain");
        let f = failure(
            400,
            None,
            r#"{"__type":"com.amazonaws.acm#ValidationException"}"#,
        );
        assert_eq!(f.error_type, "ValidationException");
        let f = failure(
            400,
            Some("ValidationException:http://internal.amazon.com/".into()),
            r#"{"__type":"Other","message":"m"}"#,
        );
        assert_eq!(f.error_type, "ValidationException");
    }
}
