//! Reading the SigV4 `Authorization` header that AWS clients send with every request.
//! Verifying the signature belongs to admin identity; here the header is parsed so that a
//! malformed one is refused the way AWS refuses it and the caller's key is known.
use axum::extract::Request;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::ApiError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SigV4Authorization {
    pub access_key_id: String,
    pub date: String,
    pub region: String,
    pub service: String,
    pub signed_headers: Vec<String>,
    pub signature: String,
}

const ALGORITHM: &str = "AWS4-HMAC-SHA256";

impl SigV4Authorization {
    pub fn parse(header: &str) -> Result<Self, String> {
        let rest = header
            .strip_prefix(ALGORITHM)
            .ok_or_else(|| format!("Authorization header must use {ALGORITHM}"))?;
        let (mut credential, mut signed, mut signature) = (None, None, None);
        for part in rest.split(',') {
            let part = part.trim();
            if let Some(v) = part.strip_prefix("Credential=") {
                credential = Some(v);
            } else if let Some(v) = part.strip_prefix("SignedHeaders=") {
                signed = Some(v);
            } else if let Some(v) = part.strip_prefix("Signature=") {
                signature = Some(v);
            }
        }
        let credential =
            credential.ok_or("Authorization header requires 'Credential' parameter")?;
        let signed = signed.ok_or("Authorization header requires 'SignedHeaders' parameter")?;
        let signature = signature.ok_or("Authorization header requires 'Signature' parameter")?;
        let scope: Vec<&str> = credential.split('/').collect();
        let [key, date, region, service, terminator] = scope[..] else {
            return Err(format!(
                "Credential should be scoped to a valid region and service: '{credential}'"
            ));
        };
        if key.is_empty() || terminator != "aws4_request" || date.len() != 8 {
            return Err(format!("Credential is malformed: '{credential}'"));
        }
        if signature.len() != 64 || !signature.chars().all(|c| c.is_ascii_hexdigit()) {
            return Err("Signature must be 64 hexadecimal characters".into());
        }
        Ok(SigV4Authorization {
            access_key_id: key.to_string(),
            date: date.to_string(),
            region: region.to_string(),
            service: service.to_string(),
            signed_headers: signed.split(';').map(str::to_string).collect(),
            signature: signature.to_string(),
        })
    }
}

/// Parses the header if there is one and keeps it in the request's extensions.
pub async fn read_sigv4(mut request: Request, next: Next) -> Response {
    if let Some(value) = request.headers().get(http::header::AUTHORIZATION) {
        let parsed = value
            .to_str()
            .map_err(|_| "Authorization header is not ASCII".to_string())
            .and_then(SigV4Authorization::parse);
        match parsed {
            Ok(auth) => {
                request.extensions_mut().insert(auth);
            }
            Err(message) => return ApiError::IncompleteSignature(message).into_response(),
        }
    }
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_botocore_headers() {
        let h = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261125/us-east-1/apigateway/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7";
        let a = SigV4Authorization::parse(h).unwrap();
        assert_eq!(a.access_key_id, "AKIDEXAMPLE");
        assert_eq!(a.region, "us-east-1");
        assert_eq!(a.service, "apigateway");
        assert_eq!(a.signed_headers, ["content-type", "host", "x-amz-date"]);
    }

    #[test]
    fn refuses_malformed_headers() {
        for h in [
            "Basic abc",
            "AWS4-HMAC-SHA256 SignedHeaders=host, Signature=00",
            "AWS4-HMAC-SHA256 Credential=AK/2026/us/apigateway/aws4_request, SignedHeaders=host, Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7",
            "AWS4-HMAC-SHA256 Credential=AK/20261125/us-east-1/apigateway/aws4_request, SignedHeaders=host, Signature=xyz",
        ] {
            assert!(SigV4Authorization::parse(h).is_err(), "{h}");
        }
    }
}
