//! An HTTP API's CORS configuration (`CorsConfiguration` on create/update API), in AWS's
//! shape, and the rules AWS applies to it before it is stored ("Configuring CORS for an
//! HTTP API" in the API Gateway developer guide; botocore's `Cors` shape).
use serde::{Deserialize, Serialize};

use crate::ValidationError;

/// Longest `MaxAge` AWS accepts: one day. `-1` turns preflight caching off.
pub const CORS_MAX_AGE_LIMIT: i32 = 86_400;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Cors {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allow_credentials: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allow_headers: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allow_methods: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allow_origins: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expose_headers: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_age: Option<i32>,
}

const CORS_METHODS: [&str; 8] = [
    "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "*",
];

fn is_token(name: &str) -> bool {
    !name.is_empty() && http::HeaderName::from_bytes(name.as_bytes()).is_ok()
}

/// An origin as AWS takes it: `*`, `scheme://*` (any host of that scheme), or
/// `scheme://host[:port]` with no path, query or trailing slash.
fn origin_is_valid(origin: &str) -> bool {
    if origin == "*" {
        return true;
    }
    let Some((scheme, rest)) = origin.split_once("://") else {
        return false;
    };
    let scheme_ok = !scheme.is_empty()
        && scheme.starts_with(|c: char| c.is_ascii_alphabetic())
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    if !scheme_ok {
        return false;
    }
    if rest == "*" {
        return true;
    }
    !rest.is_empty()
        && rest
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | ':' | '[' | ']' | '*'))
        && !rest.ends_with(':')
}

fn check_list(
    field: &'static str,
    values: Option<&Vec<String>>,
    valid: impl Fn(&str) -> bool,
    what: &str,
) -> Result<(), ValidationError> {
    for v in values.into_iter().flatten() {
        if v.is_empty() || v.len() > 1024 || !valid(v) {
            return Err(ValidationError::new(
                field,
                format!("Invalid {what} '{v}' in {field}"),
            ));
        }
    }
    Ok(())
}

/// AWS's checks on a CORS configuration; the error names the field at fault.
pub fn validate_cors(cors: &Cors) -> Result<(), ValidationError> {
    check_list(
        "allowOrigins",
        cors.allow_origins.as_ref(),
        origin_is_valid,
        "origin",
    )?;
    check_list(
        "allowMethods",
        cors.allow_methods.as_ref(),
        |m| CORS_METHODS.iter().any(|k| k.eq_ignore_ascii_case(m)),
        "method",
    )?;
    check_list(
        "allowHeaders",
        cors.allow_headers.as_ref(),
        |h| h == "*" || is_token(h),
        "header name",
    )?;
    check_list(
        "exposeHeaders",
        cors.expose_headers.as_ref(),
        |h| h == "*" || is_token(h),
        "header name",
    )?;
    if let Some(age) = cors.max_age
        && !(-1..=CORS_MAX_AGE_LIMIT).contains(&age)
    {
        return Err(ValidationError::new(
            "maxAge",
            format!("maxAge must be between -1 and {CORS_MAX_AGE_LIMIT}, got {age}"),
        ));
    }
    // Browsers refuse a credentialed response whose allowed origin is `*`, so AWS
    // refuses the configuration rather than serve one no browser would accept.
    if cors.allow_credentials == Some(true) && cors.allow_origins.iter().flatten().any(|o| o == "*")
    {
        return Err(ValidationError::new(
            "allowCredentials",
            "allow-credentials is not supported if 'allow-origin' is *",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cors(origins: &[&str]) -> Cors {
        Cors {
            allow_origins: Some(origins.iter().map(|s| s.to_string()).collect()),
            ..Default::default()
        }
    }

    /// "Configuring CORS for an HTTP API": origins are `*`, `scheme://*` or exact origins.
    #[test]
    fn origins() {
        for ok in [
            "*",
            "https://*",
            "http://*",
            "https://www.example.com",
            "http://localhost:3000",
            "http://[::1]:8080",
        ] {
            validate_cors(&cors(&[ok])).unwrap_or_else(|e| panic!("{ok}: {e}"));
        }
        for bad in [
            "",
            "example.com",
            "https://",
            "https://a.com/path",
            "ftp://a b",
        ] {
            let e = validate_cors(&cors(&[bad])).unwrap_err();
            assert_eq!(e.field, "allowOrigins", "{bad}");
        }
    }

    #[test]
    fn credentials_with_any_origin_are_refused() {
        let mut c = cors(&["*"]);
        c.allow_credentials = Some(true);
        let e = validate_cors(&c).unwrap_err();
        assert_eq!(e.field, "allowCredentials");
        assert_eq!(
            e.message,
            "allow-credentials is not supported if 'allow-origin' is *"
        );
        c.allow_origins = Some(vec!["https://app.example.com".into()]);
        validate_cors(&c).unwrap();
    }

    #[test]
    fn methods_headers_and_max_age() {
        let mut c = Cors {
            allow_methods: Some(vec!["GET".into(), "post".into(), "*".into()]),
            allow_headers: Some(vec!["content-type".into(), "*".into()]),
            expose_headers: Some(vec!["x-request-id".into()]),
            max_age: Some(86_400),
            ..Default::default()
        };
        validate_cors(&c).unwrap();
        c.max_age = Some(-1);
        validate_cors(&c).unwrap();
        c.max_age = Some(86_401);
        assert_eq!(validate_cors(&c).unwrap_err().field, "maxAge");
        c.max_age = Some(-2);
        assert_eq!(validate_cors(&c).unwrap_err().field, "maxAge");
        c.max_age = None;
        c.allow_methods = Some(vec!["FETCH".into()]);
        assert_eq!(validate_cors(&c).unwrap_err().field, "allowMethods");
        c.allow_methods = None;
        c.allow_headers = Some(vec!["bad header".into()]);
        assert_eq!(validate_cors(&c).unwrap_err().field, "allowHeaders");
        c.allow_headers = None;
        c.expose_headers = Some(vec!["x:y".into()]);
        assert_eq!(validate_cors(&c).unwrap_err().field, "exposeHeaders");
    }
}
