//! Invoke calls signed with SigV4 (service `lambda`, the function's region) by
//! `aws-sigv4`, the signer the AWS SDK for Rust uses, so what AWS checks is what an SDK
//! would have sent. Credentials come from the standard environment variables.

use std::time::SystemTime;

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;
use http::Request;

/// The node's AWS credentials, read once at start.
#[derive(Clone)]
pub struct LambdaCredentials {
    identity: Identity,
    access_key_id: String,
    session_token: bool,
}

/// Never prints the secret.
impl std::fmt::Debug for LambdaCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LambdaCredentials")
            .field("access_key_id", &self.access_key_id)
            .field("session_token", &self.session_token)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, thiserror::Error)]
#[error("cannot sign the Invoke request: {0}")]
pub struct SigningError(String);

/// A credential that cannot go in a header (a stray CR from an `.env` file, say): the
/// signer would fail on every request, so the node refuses to start instead.
#[derive(Debug, thiserror::Error)]
#[error("{0} contains characters that cannot be sent in a header")]
pub struct InvalidCredentials(&'static str);

impl LambdaCredentials {
    pub fn new(
        access_key_id: &str,
        secret_access_key: &str,
        session_token: Option<&str>,
    ) -> Result<Self, InvalidCredentials> {
        let printable = |v: &str| !v.is_empty() && v.bytes().all(|b| b.is_ascii_graphic());
        if !printable(access_key_id) {
            return Err(InvalidCredentials("AWS_ACCESS_KEY_ID"));
        }
        if !printable(secret_access_key) {
            return Err(InvalidCredentials("AWS_SECRET_ACCESS_KEY"));
        }
        if session_token.is_some_and(|t| !printable(t)) {
            return Err(InvalidCredentials("AWS_SESSION_TOKEN"));
        }
        let credentials = Credentials::new(
            access_key_id,
            secret_access_key,
            session_token.map(str::to_string),
            None,
            "portico",
        );
        Ok(LambdaCredentials {
            identity: credentials.into(),
            access_key_id: access_key_id.to_string(),
            session_token: session_token.is_some(),
        })
    }

    /// `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY` and `AWS_SESSION_TOKEN` (surrounding
    /// whitespace trimmed); `None` when the first two are not both set. They are read
    /// once: a session token that expires is not renewed.
    pub fn from_env() -> Result<Option<Self>, InvalidCredentials> {
        let var = |name| {
            std::env::var(name)
                .ok()
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };
        let (Some(id), Some(secret)) = (var("AWS_ACCESS_KEY_ID"), var("AWS_SECRET_ACCESS_KEY"))
        else {
            return Ok(None);
        };
        Self::new(&id, &secret, var("AWS_SESSION_TOKEN").as_deref()).map(Some)
    }

    pub fn has_session_token(&self) -> bool {
        self.session_token
    }

    pub fn access_key_id(&self) -> &str {
        &self.access_key_id
    }

    /// Adds `Authorization`, `X-Amz-Date` and (with a session token)
    /// `X-Amz-Security-Token` to a request whose headers are all in place.
    pub fn sign(
        &self,
        request: &mut Request<bytes::Bytes>,
        region: &str,
    ) -> Result<(), SigningError> {
        let params = v4::SigningParams::builder()
            .identity(&self.identity)
            .region(region)
            .name("lambda")
            .time(SystemTime::now())
            .settings(SigningSettings::default())
            .build()
            .map_err(|e| SigningError(e.to_string()))?
            .into();
        let uri = request.uri().to_string();
        let headers = request
            .headers()
            .iter()
            .filter_map(|(k, v)| Some((k.as_str(), v.to_str().ok()?)));
        let signable = SignableRequest::new(
            request.method().as_str(),
            &uri,
            headers,
            SignableBody::Bytes(request.body()),
        )
        .map_err(|e| SigningError(e.to_string()))?;
        let (instructions, _signature) = sign(signable, &params)
            .map_err(|e| SigningError(e.to_string()))?
            .into_parts();
        instructions.apply_to_request_http1x(request);
        Ok(())
    }
}
