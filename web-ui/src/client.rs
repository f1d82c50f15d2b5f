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
    Patch,
    Delete,
}

impl Verb {
    pub fn as_str(self) -> &'static str {
        match self {
            Verb::Get => "GET",
            Verb::Post => "POST",
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

    pub async fn delete(&self, path: &str) -> Result<(), ApiFailure> {
        self.send(Verb::Delete, path, None).await.map(|_| ())
    }

    /// Sends one request and returns the body of a 2xx answer.
    pub async fn send(
        &self,
        verb: Verb,
        path: &str,
        body: Option<serde_json::Value>,
    ) -> Result<String, ApiFailure> {
        let (status, error_type, text) = self.exchange(verb, path, body).await?;
        if (200..300).contains(&status) {
            Ok(text)
        } else {
            Err(failure(status, error_type, &text))
        }
    }

    #[cfg(feature = "ssr")]
    async fn exchange(
        &self,
        verb: Verb,
        path: &str,
        body: Option<serde_json::Value>,
    ) -> Result<(u16, Option<String>, String), ApiFailure> {
        use http_body_util::BodyExt;
        use tower::ServiceExt;

        let Some((AdminRouter(router), parts)) = &self.server else {
            return Err(ApiFailure::transport(
                "the console's server side has no admin API",
            ));
        };
        let mut request = http::Request::builder().method(verb.as_str()).uri(path);
        // Only what authenticates the visitor is passed on: their cookies.
        for cookie in parts.headers.get_all(http::header::COOKIE) {
            request = request.header(http::header::COOKIE, cookie);
        }
        if let Some(connect_info) = parts
            .extensions
            .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        {
            request = request.extension(*connect_info);
        }
        let request = match body {
            Some(b) => request
                .header(http::header::CONTENT_TYPE, "application/json")
                .body(axum::body::Body::from(b.to_string())),
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
        verb: Verb,
        path: &str,
        body: Option<serde_json::Value>,
    ) -> Result<(u16, Option<String>, String), ApiFailure> {
        #[cfg(feature = "hydrate")]
        {
            // gloo's futures are not Send; the browser has one thread, so this is sound.
            send_wrapper::SendWrapper::new(browser::exchange(verb, path.to_owned(), body)).await
        }
        #[cfg(not(feature = "hydrate"))]
        {
            let _ = (verb, path, body);
            Err(ApiFailure::transport("built without a transport"))
        }
    }
}

#[cfg(feature = "hydrate")]
mod browser {
    use gloo_net::http::{Method, RequestBuilder};
    use wasm_bindgen::JsCast;

    use super::{ApiFailure, Verb};

    pub async fn exchange(
        verb: Verb,
        path: String,
        body: Option<serde_json::Value>,
    ) -> Result<(u16, Option<String>, String), ApiFailure> {
        let method = match verb {
            Verb::Get => Method::GET,
            Verb::Post => Method::POST,
            Verb::Patch => Method::PATCH,
            Verb::Delete => Method::DELETE,
        };
        let mut builder = RequestBuilder::new(&path)
            .method(method)
            .header("accept", "application/json");
        if verb != Verb::Get
            && let Some(token) = csrf_token()
        {
            builder = builder.header("x-csrf-token", &token);
        }
        let request = match body {
            Some(b) => builder
                .header("content-type", "application/json")
                .body(b.to_string()),
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

    /// The CSRF cookie set at login (not HttpOnly, so the page can echo it).
    fn csrf_token() -> Option<String> {
        let document = web_sys::window()?.document()?;
        let cookies = document
            .dyn_into::<web_sys::HtmlDocument>()
            .ok()?
            .cookie()
            .ok()?;
        cookies
            .split(';')
            .filter_map(|pair| pair.trim().split_once('='))
            .find(|(name, _)| *name == "portico_csrf")
            .map(|(_, value)| value.to_owned())
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
    }
    let shape = serde_json::from_str::<Shape>(body).ok();
    let error_type = error_type
        .map(|t| t.split(':').next().unwrap_or_default().to_owned())
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
