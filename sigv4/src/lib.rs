//! AWS Signature Version 4, pure (no I/O), for every place Portico checks a signature:
//! the admin API's access keys, and the nodes' IAM authorizer, which is given each key's
//! date keys (`kDate`) and never its secret.
//!
//! Checked the way botocore signs: the canonical request takes
//! the path as sent and percent-encodes it again (botocore's `quote(path, safe='/~')` over
//! an already-quoted path, so `$default` is signed as `%2524default`), the query as sent
//! with its pairs sorted, the signed headers with whitespace folded, and the SHA-256 of
//! the body, which the server computes itself because botocore sends no
//! `X-Amz-Content-SHA256` for this service.
#![forbid(unsafe_code)]

use chrono::{DateTime, NaiveDateTime, TimeDelta, Utc};
use hmac::{Hmac, Mac};
use http::HeaderMap;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

pub const ALGORITHM: &str = "AWS4-HMAC-SHA256";
const MAX_SKEW: TimeDelta = TimeDelta::minutes(15);
const AMZ_DATE_FORMAT: &str = "%Y%m%dT%H%M%SZ";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SigV4Error {
    /// The header is not a SigV4 authorization (AWS: IncompleteSignatureException).
    #[error("{0}")]
    Incomplete(String),
    /// Anything that makes the signature not count (AWS: InvalidSignatureException).
    #[error("{0}")]
    Invalid(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SigV4Authorization {
    pub access_key_id: String,
    pub date: String,
    pub region: String,
    pub service: String,
    pub signed_headers: Vec<String>,
    pub signature: String,
}

impl SigV4Authorization {
    pub fn parse(header: &str) -> Result<Self, SigV4Error> {
        let incomplete = |m: String| SigV4Error::Incomplete(m);
        let rest = header
            .strip_prefix(ALGORITHM)
            .ok_or_else(|| incomplete(format!("Authorization header must use {ALGORITHM}")))?;
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
        let missing =
            |p: &str| incomplete(format!("Authorization header requires '{p}' parameter"));
        let credential = credential.ok_or_else(|| missing("Credential"))?;
        let signed = signed.ok_or_else(|| missing("SignedHeaders"))?;
        let signature = signature.ok_or_else(|| missing("Signature"))?;
        let scope: Vec<&str> = credential.split('/').collect();
        let [key, date, region, service, terminator] = scope[..] else {
            return Err(incomplete(format!(
                "Credential should be scoped to a valid region and service: '{credential}'"
            )));
        };
        if key.is_empty() || terminator != "aws4_request" || date.len() != 8 || region.is_empty() {
            return Err(incomplete(format!(
                "Credential is malformed: '{credential}'"
            )));
        }
        if signature.len() != 64 || !signature.chars().all(|c| c.is_ascii_hexdigit()) {
            return Err(incomplete(
                "Signature must be 64 hexadecimal characters".into(),
            ));
        }
        let signed_headers: Vec<String> = signed.split(';').map(str::to_ascii_lowercase).collect();
        if !signed_headers.iter().any(|h| h == "host") {
            return Err(incomplete("SignedHeaders must include 'host'".into()));
        }
        Ok(SigV4Authorization {
            access_key_id: key.to_string(),
            date: date.to_string(),
            region: region.to_string(),
            service: service.to_string(),
            signed_headers,
            signature: signature.to_ascii_lowercase(),
        })
    }

    pub fn scope(&self) -> String {
        format!(
            "{}/{}/{}/aws4_request",
            self.date, self.region, self.service
        )
    }
}

/// The parts of a received request that its signature covers.
pub struct SignedRequest<'a> {
    pub method: &'a str,
    /// The path exactly as sent (still percent-encoded).
    pub raw_path: &'a str,
    pub raw_query: Option<&'a str>,
    pub headers: &'a HeaderMap,
    pub body: &'a [u8],
}

fn uri_encode_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len() + 8);
    for b in path.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~' | b'/') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn canonical_query(raw: Option<&str>) -> String {
    let Some(raw) = raw.filter(|q| !q.is_empty()) else {
        return String::new();
    };
    let mut pairs: Vec<(&str, &str)> = raw
        .split('&')
        .map(|pair| pair.split_once('=').unwrap_or((pair, "")))
        .collect();
    pairs.sort_unstable();
    pairs
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&")
}

fn canonical_headers(signed: &[String], headers: &HeaderMap) -> Result<String, SigV4Error> {
    let mut out = String::new();
    for name in signed {
        let values: Vec<String> = headers
            .get_all(name.as_str())
            .iter()
            .map(|v| {
                String::from_utf8_lossy(v.as_bytes())
                    .split_whitespace()
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .collect();
        if values.is_empty() {
            return Err(SigV4Error::Invalid(format!(
                "The request does not carry the signed header '{name}'"
            )));
        }
        out.push_str(name);
        out.push(':');
        out.push_str(&values.join(","));
        out.push('\n');
    }
    Ok(out)
}

pub fn canonical_request(
    auth: &SigV4Authorization,
    req: &SignedRequest<'_>,
) -> Result<String, SigV4Error> {
    let path = if req.raw_path.is_empty() {
        "/"
    } else {
        req.raw_path
    };
    let payload = hex::encode(Sha256::digest(req.body));
    if let Some(claimed) = req.headers.get("x-amz-content-sha256")
        && claimed.as_bytes() != payload.as_bytes()
        && claimed.as_bytes() != b"UNSIGNED-PAYLOAD"
    {
        return Err(SigV4Error::Invalid(
            "The provided x-amz-content-sha256 header does not match what was computed".into(),
        ));
    }
    Ok(format!(
        "{}\n{}\n{}\n{}\n{}\n{}",
        req.method,
        uri_encode_path(path),
        canonical_query(req.raw_query),
        canonical_headers(&auth.signed_headers, req.headers)?,
        auth.signed_headers.join(";"),
        payload
    ))
}

type HmacSha256 = Hmac<Sha256>;

fn hmac(key: &[u8], data: &[u8]) -> [u8; 32] {
    let mut mac = <HmacSha256 as Mac>::new_from_slice(key)
        .unwrap_or_else(|e| unreachable!("HMAC takes any key length: {e}"));
    mac.update(data);
    mac.finalize().into_bytes().into()
}

pub fn signature(
    secret: &str,
    auth: &SigV4Authorization,
    amz_date: &str,
    canonical: &str,
) -> String {
    signature_with_date_key(&date_key(secret, &auth.date), auth, amz_date, canonical)
}

/// SigV4's first derived key, `kDate = HMAC("AWS4" + secret, YYYYMMDD)`: enough to check
/// every signature of that day (any region, any service) without the secret itself.
pub fn date_key(secret: &str, date: &str) -> [u8; 32] {
    hmac(format!("AWS4{secret}").as_bytes(), date.as_bytes())
}

/// [`signature`] from the day's `kDate` rather than the secret.
pub fn signature_with_date_key(
    k_date: &[u8; 32],
    auth: &SigV4Authorization,
    amz_date: &str,
    canonical: &str,
) -> String {
    let string_to_sign = format!(
        "{ALGORITHM}\n{amz_date}\n{}\n{}",
        auth.scope(),
        hex::encode(Sha256::digest(canonical.as_bytes()))
    );
    let k_region = hmac(k_date, auth.region.as_bytes());
    let k_service = hmac(&k_region, auth.service.as_bytes());
    let k_signing = hmac(&k_service, b"aws4_request");
    hex::encode(hmac(&k_signing, string_to_sign.as_bytes()))
}

/// Checks the request's signature with the key's secret, its scope against `service`
/// (the signing name, such as `apigateway` for the admin API), and its date against `now`.
pub fn verify(
    auth: &SigV4Authorization,
    req: &SignedRequest<'_>,
    service: &str,
    secret: &str,
    now: DateTime<Utc>,
) -> Result<(), SigV4Error> {
    verify_with_date_key(auth, req, service, &date_key(secret, &auth.date), now)
}

/// [`verify`] with the day's `kDate` ([`date_key`]) in place of the secret, for a
/// checker that is given date keys and never secrets (the nodes' IAM authorizer).
pub fn verify_with_date_key(
    auth: &SigV4Authorization,
    req: &SignedRequest<'_>,
    service: &str,
    k_date: &[u8; 32],
    now: DateTime<Utc>,
) -> Result<(), SigV4Error> {
    let invalid = |m: String| SigV4Error::Invalid(m);
    if auth.service != service {
        return Err(invalid(format!(
            "Credential should be scoped to correct service: '{service}'."
        )));
    }
    let amz_date = req
        .headers
        .get("x-amz-date")
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| SigV4Error::Incomplete("Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.".into()))?;
    let at = NaiveDateTime::parse_from_str(amz_date, AMZ_DATE_FORMAT)
        .map_err(|_| invalid(format!("Invalid X-Amz-Date '{amz_date}'")))?
        .and_utc();
    if !amz_date.starts_with(&auth.date) {
        return Err(invalid(format!(
            "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '{}' != '{}'",
            auth.date,
            &amz_date[..8]
        )));
    }
    let show = |t: DateTime<Utc>| t.format(AMZ_DATE_FORMAT).to_string();
    if at < now - MAX_SKEW {
        return Err(invalid(format!(
            "Signature expired: {amz_date} is now earlier than {} ({} - 15 min.)",
            show(now - MAX_SKEW),
            show(now)
        )));
    }
    if at > now + MAX_SKEW {
        return Err(invalid(format!(
            "Signature not yet current: {amz_date} is still later than {} ({} + 15 min.)",
            show(now + MAX_SKEW),
            show(now)
        )));
    }
    let canonical = canonical_request(auth, req)?;
    let expected = signature_with_date_key(k_date, auth, amz_date, &canonical);
    if bool::from(expected.as_bytes().ct_eq(auth.signature.as_bytes())) {
        Ok(())
    } else {
        Err(invalid(
            "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.".into(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use http::HeaderValue;

    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    fn at(s: &str) -> DateTime<Utc> {
        NaiveDateTime::parse_from_str(s, AMZ_DATE_FORMAT)
            .unwrap()
            .and_utc()
    }

    /// AWS's published `get-vanilla` case (service name "service").
    #[test]
    fn aws_test_suite_get_vanilla() {
        let h = headers(&[
            ("host", "example.amazonaws.com"),
            ("x-amz-date", "20150830T123600Z"),
        ]);
        let auth = SigV4Authorization::parse("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31").unwrap();
        let req = SignedRequest {
            method: "GET",
            raw_path: "/",
            raw_query: None,
            headers: &h,
            body: b"",
        };
        let canonical = canonical_request(&auth, &req).unwrap();
        assert_eq!(
            canonical,
            "GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(
            signature(
                "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
                &auth,
                "20150830T123600Z",
                &canonical
            ),
            auth.signature
        );
    }

    /// Signed by botocore 1.43 (`SigV4Auth(creds, "apigateway", "eu-west-1")`) for
    /// `PATCH http://127.0.0.1:9000/v2/apis/abc/stages/%24default?b=2&a=1` with a JSON body.
    #[test]
    fn botocore_signed_request_with_double_encoded_path() {
        let body = br#"{"description": "x"}"#;
        let h = headers(&[
            ("host", "127.0.0.1:9000"),
            ("x-amz-date", "20261125T030703Z"),
            ("content-type", "application/json"),
        ]);
        let auth = SigV4Authorization::parse(BOTOCORE_AUTHORIZATION).unwrap();
        let req = SignedRequest {
            method: "PATCH",
            raw_path: "/v2/apis/abc/stages/%24default",
            raw_query: Some("b=2&a=1"),
            headers: &h,
            body,
        };
        let now = at("20261125T031000Z");
        verify(&auth, &req, "apigateway", "test-secret-key", now).unwrap();

        let tampered = SignedRequest {
            body: br#"{"description": "y"}"#,
            ..req
        };
        assert!(matches!(
            verify(&auth, &tampered, "apigateway", "test-secret-key", now),
            Err(SigV4Error::Invalid(_))
        ));
        let req = SignedRequest {
            method: "PATCH",
            raw_path: "/v2/apis/abc/stages/%24default",
            raw_query: Some("b=2&a=1"),
            headers: &h,
            body,
        };
        assert!(verify(&auth, &req, "apigateway", "wrong-secret", now).is_err());
        let err = verify(
            &auth,
            &req,
            "apigateway",
            "test-secret-key",
            at("20261125T032300Z"),
        )
        .unwrap_err();
        assert!(err.to_string().starts_with("Signature expired"), "{err}");
        let err = verify(
            &auth,
            &req,
            "apigateway",
            "test-secret-key",
            at("20261125T025000Z"),
        )
        .unwrap_err();
        assert!(
            err.to_string().starts_with("Signature not yet current"),
            "{err}"
        );
    }

    const BOTOCORE_AUTHORIZATION: &str = include_str!("sigv4_botocore_vector.txt");

    #[test]
    fn refuses_malformed_headers() {
        for h in [
            "Basic abc",
            "AWS4-HMAC-SHA256 SignedHeaders=host, Signature=00",
            "AWS4-HMAC-SHA256 Credential=AK/2026/us/apigateway/aws4_request, SignedHeaders=host, Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7",
            "AWS4-HMAC-SHA256 Credential=AK/20261125/us-east-1/apigateway/aws4_request, SignedHeaders=host, Signature=xyz",
            "AWS4-HMAC-SHA256 Credential=AK/20261125/us-east-1/apigateway/aws4_request, SignedHeaders=x-amz-date, Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7",
        ] {
            assert!(
                matches!(SigV4Authorization::parse(h), Err(SigV4Error::Incomplete(_))),
                "{h}"
            );
        }
    }

    #[test]
    fn query_pairs_sort_as_sent() {
        assert_eq!(
            canonical_query(Some("maxResults=2&nextToken=ab%3D")),
            "maxResults=2&nextToken=ab%3D"
        );
        assert_eq!(canonical_query(Some("b=2&a=1&a=0")), "a=0&a=1&b=2");
        assert_eq!(canonical_query(Some("flag")), "flag=");
        assert_eq!(
            uri_encode_path("/v2/apis/x/stages/%24default"),
            "/v2/apis/x/stages/%2524default"
        );
    }
}
