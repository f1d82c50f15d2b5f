//! An API's CORS configuration as the request path uses it: the origin test and every
//! header value made once, when the deployment compiles.
//!
//! The rules are AWS's for HTTP APIs ("Configuring CORS for an HTTP API"): the gateway
//! answers a preflight (`OPTIONS` with `Origin` and `Access-Control-Request-Method`)
//! itself, before routing, whether or not an OPTIONS route exists; other requests with an
//! allowed `Origin` get the allow-origin, credentials and expose headers on whatever the
//! response is; CORS headers from the backend are dropped; a request whose origin is not
//! allowed gets no CORS headers at all.
use http::header::{
    ACCESS_CONTROL_ALLOW_CREDENTIALS, ACCESS_CONTROL_ALLOW_HEADERS, ACCESS_CONTROL_ALLOW_METHODS,
    ACCESS_CONTROL_ALLOW_ORIGIN, ACCESS_CONTROL_EXPOSE_HEADERS, ACCESS_CONTROL_MAX_AGE, VARY,
};
use http::{HeaderMap, HeaderValue};
use portico_proto::Cors;

/// Why a deployment's CORS configuration cannot be served (the admin API refuses these
/// before they are stored; a node checks again).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid CORS {field}: '{value}'")]
pub struct CorsError {
    pub field: &'static str,
    pub value: String,
}

#[derive(Debug)]
pub struct CompiledCors {
    origins: AllowedOrigins,
    /// `None` with `*`: the preflight's requested method is echoed, which browsers take
    /// with credentials too (they read a literal `*` as a method name then).
    allow_methods: Option<HeaderValue>,
    /// `None` with `*`: the requested headers are echoed, for the same reason.
    allow_headers: Option<HeaderValue>,
    expose_headers: Option<HeaderValue>,
    max_age: Option<HeaderValue>,
    credentials: bool,
}

#[derive(Debug, Default)]
struct AllowedOrigins {
    any: bool,
    /// ASCII-lowercased `scheme://host[:port]`.
    exact: Vec<Box<str>>,
    /// `https://*` and `https://*.example.com`: the text before and after the `*`.
    patterns: Vec<(Box<str>, Box<str>)>,
}

impl AllowedOrigins {
    fn allows(&self, origin: &str) -> bool {
        if self.any {
            return true;
        }
        if self.exact.iter().any(|o| o.eq_ignore_ascii_case(origin)) {
            return true;
        }
        let lower;
        let origin = if origin.bytes().any(|b| b.is_ascii_uppercase()) {
            lower = origin.to_ascii_lowercase();
            lower.as_str()
        } else {
            origin
        };
        self.patterns.iter().any(|(prefix, suffix)| {
            origin.len() > prefix.len() + suffix.len()
                && origin.starts_with(&**prefix)
                && origin.ends_with(&**suffix)
        })
    }
}

/// `Origin` and the preflight's `Access-Control-Request-*` values as the client sent them.
#[derive(Debug, Clone, Copy)]
pub struct Preflight<'r> {
    pub origin: &'r HeaderValue,
    pub request_method: &'r HeaderValue,
    pub request_headers: Option<&'r HeaderValue>,
}

fn joined(field: &'static str, values: &[String]) -> Result<Option<HeaderValue>, CorsError> {
    if values.is_empty() {
        return Ok(None);
    }
    let text = values.join(",");
    HeaderValue::from_str(&text)
        .map(Some)
        .map_err(|_| CorsError { field, value: text })
}

impl TryFrom<&Cors> for CompiledCors {
    type Error = CorsError;

    fn try_from(c: &Cors) -> Result<Self, CorsError> {
        let mut origins = AllowedOrigins::default();
        for o in &c.allow_origins {
            let lower = o.to_ascii_lowercase();
            if o == "*" {
                origins.any = true;
            } else if let Some((prefix, suffix)) = lower.split_once('*') {
                if suffix.contains('*') || !prefix.contains("://") {
                    return Err(CorsError {
                        field: "allowOrigins",
                        value: o.clone(),
                    });
                }
                origins.patterns.push((prefix.into(), suffix.into()));
            } else {
                origins.exact.push(lower.into());
            }
        }
        let any = |l: &[String]| l.iter().any(|v| v == "*");
        let upper: Vec<String> = c
            .allow_methods
            .iter()
            .map(|m| m.to_ascii_uppercase())
            .collect();
        Ok(CompiledCors {
            origins,
            allow_methods: if any(&upper) {
                None
            } else {
                joined("allowMethods", &upper)?
            },
            allow_headers: if any(&c.allow_headers) {
                None
            } else {
                joined("allowHeaders", &c.allow_headers)?
            },
            expose_headers: joined("exposeHeaders", &c.expose_headers)?,
            max_age: match c.max_age {
                // AWS's -1 turns caching off; browsers read 0 that way.
                -1 => Some(HeaderValue::from_static("0")),
                n if n >= 0 => Some(HeaderValue::from(n)),
                n => {
                    return Err(CorsError {
                        field: "maxAge",
                        value: n.to_string(),
                    });
                }
            },
            credentials: c.allow_credentials,
        })
    }
}

const ANY_ORIGIN: HeaderValue = HeaderValue::from_static("*");
const TRUE: HeaderValue = HeaderValue::from_static("true");
const ORIGIN: HeaderValue = HeaderValue::from_static("origin");

impl CompiledCors {
    /// The origin, when it is allowed: what the response's allow-origin header says.
    pub fn allowed_origin(&self, origin: &HeaderValue) -> Option<AllowedOrigin> {
        let text = origin.to_str().ok()?;
        if !self.origins.allows(text) {
            return None;
        }
        // A credentialed response may not say `*` (and AWS refuses `*` with credentials
        // anyway); a specific origin is echoed, so caches must key on it.
        Some(if self.origins.any && !self.credentials {
            AllowedOrigin::Any
        } else {
            AllowedOrigin::Echo(origin.clone())
        })
    }

    /// The headers of the gateway's own answer to a preflight, or `None` when the origin
    /// is not allowed (the answer then carries no CORS headers at all).
    pub fn preflight(&self, p: Preflight<'_>, headers: &mut HeaderMap) -> bool {
        let Some(origin) = self.allowed_origin(p.origin) else {
            return false;
        };
        self.decorate(&origin, headers);
        headers.insert(
            ACCESS_CONTROL_ALLOW_METHODS,
            self.allow_methods
                .clone()
                .unwrap_or_else(|| p.request_method.clone()),
        );
        match (&self.allow_headers, p.request_headers) {
            (Some(allowed), _) => {
                headers.insert(ACCESS_CONTROL_ALLOW_HEADERS, allowed.clone());
            }
            (None, Some(requested)) => {
                headers.insert(ACCESS_CONTROL_ALLOW_HEADERS, requested.clone());
            }
            (None, None) => {}
        }
        if let Some(age) = &self.max_age {
            headers.insert(ACCESS_CONTROL_MAX_AGE, age.clone());
        }
        // Preflights have no body to expose headers of.
        headers.remove(ACCESS_CONTROL_EXPOSE_HEADERS);
        true
    }

    /// Puts the CORS headers of an actual response in place, after [`strip`].
    pub fn decorate(&self, origin: &AllowedOrigin, headers: &mut HeaderMap) {
        match origin {
            AllowedOrigin::Any => {
                headers.insert(ACCESS_CONTROL_ALLOW_ORIGIN, ANY_ORIGIN);
            }
            AllowedOrigin::Echo(o) => {
                headers.insert(ACCESS_CONTROL_ALLOW_ORIGIN, o.clone());
                headers.append(VARY, ORIGIN);
            }
        }
        if self.credentials {
            headers.insert(ACCESS_CONTROL_ALLOW_CREDENTIALS, TRUE);
        }
        if let Some(expose) = &self.expose_headers {
            headers.insert(ACCESS_CONTROL_EXPOSE_HEADERS, expose.clone());
        }
    }
}

/// What the allow-origin header of a response says. The echoed value is the request's
/// own header, shared rather than copied.
#[derive(Debug, Clone)]
pub enum AllowedOrigin {
    Any,
    Echo(HeaderValue),
}

/// Drops every CORS header a backend sent: an API with CORS configured answers with its
/// own (AWS ignores the backend's).
pub fn strip(headers: &mut HeaderMap) {
    if !headers
        .keys()
        .any(|k| k.as_str().starts_with("access-control-"))
    {
        return;
    }
    for name in [
        ACCESS_CONTROL_ALLOW_ORIGIN,
        ACCESS_CONTROL_ALLOW_CREDENTIALS,
        ACCESS_CONTROL_ALLOW_HEADERS,
        ACCESS_CONTROL_ALLOW_METHODS,
        ACCESS_CONTROL_EXPOSE_HEADERS,
        ACCESS_CONTROL_MAX_AGE,
    ] {
        headers.remove(name);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cors(origins: &[&str], credentials: bool) -> CompiledCors {
        CompiledCors::try_from(&Cors {
            allow_origins: origins.iter().map(|s| s.to_string()).collect(),
            allow_methods: vec!["GET".into(), "post".into()],
            allow_headers: vec!["content-type".into(), "x-api-key".into()],
            expose_headers: vec!["x-request-id".into()],
            max_age: 300,
            allow_credentials: credentials,
        })
        .expect("valid")
    }

    fn preflight(c: &CompiledCors, origin: &str, requested: Option<&str>) -> Option<HeaderMap> {
        let origin = HeaderValue::from_str(origin).unwrap();
        let method = HeaderValue::from_static("POST");
        let requested = requested.map(|r| HeaderValue::from_str(r).unwrap());
        let mut headers = HeaderMap::new();
        c.preflight(
            Preflight {
                origin: &origin,
                request_method: &method,
                request_headers: requested.as_ref(),
            },
            &mut headers,
        )
        .then_some(headers)
    }

    fn get<'h>(h: &'h HeaderMap, name: &str) -> Option<&'h str> {
        h.get(name).map(|v| v.to_str().unwrap())
    }

    /// "Configuring CORS for an HTTP API": origins are matched as configured, `*` allows
    /// any, `https://*` any https origin; everything else gets no CORS headers.
    #[test]
    fn origins_as_aws_documents_them() {
        let cases: &[(&[&str], &str, bool)] = &[
            (
                &["https://www.example.com"],
                "https://www.example.com",
                true,
            ),
            (
                &["https://www.example.com"],
                "https://WWW.example.com",
                true,
            ),
            (
                &["https://www.example.com"],
                "http://www.example.com",
                false,
            ),
            (
                &["https://www.example.com"],
                "https://evil.example.com",
                false,
            ),
            (
                &["https://www.example.com"],
                "https://www.example.com.evil",
                false,
            ),
            (&["*"], "http://anything:8080", true),
            (&["https://*"], "https://a.b", true),
            (&["https://*"], "http://a.b", false),
            (&["http://*"], "http://localhost:3000", true),
            (&["https://*.example.com"], "https://app.example.com", true),
            (&["https://*.example.com"], "https://example.com", false),
            (
                &["https://*.example.com"],
                "https://app.example.com.evil.io",
                false,
            ),
            (&["https://a.com", "https://b.com"], "https://b.com", true),
        ];
        for (origins, origin, allowed) in cases {
            let c = cors(origins, false);
            assert_eq!(
                c.allowed_origin(&HeaderValue::from_static(origin))
                    .is_some(),
                *allowed,
                "{origins:?} {origin}"
            );
        }
    }

    #[test]
    fn preflight_headers() {
        let c = cors(&["https://app.example.com"], true);
        let h = preflight(&c, "https://app.example.com", Some("content-type")).unwrap();
        assert_eq!(
            get(&h, "access-control-allow-origin"),
            Some("https://app.example.com")
        );
        assert_eq!(get(&h, "access-control-allow-methods"), Some("GET,POST"));
        assert_eq!(
            get(&h, "access-control-allow-headers"),
            Some("content-type,x-api-key")
        );
        assert_eq!(get(&h, "access-control-max-age"), Some("300"));
        assert_eq!(get(&h, "access-control-allow-credentials"), Some("true"));
        assert_eq!(get(&h, "vary"), Some("origin"));
        assert_eq!(get(&h, "access-control-expose-headers"), None);
        assert!(preflight(&c, "https://other.example.com", None).is_none());
    }

    #[test]
    fn wildcards_echo_what_was_asked() {
        let c = CompiledCors::try_from(&Cors {
            allow_origins: vec!["*".into()],
            allow_methods: vec!["*".into()],
            allow_headers: vec!["*".into()],
            max_age: -1,
            ..Default::default()
        })
        .unwrap();
        let h = preflight(&c, "https://x.io", Some("authorization,x-custom")).unwrap();
        assert_eq!(get(&h, "access-control-allow-origin"), Some("*"));
        assert_eq!(get(&h, "access-control-allow-methods"), Some("POST"));
        assert_eq!(
            get(&h, "access-control-allow-headers"),
            Some("authorization,x-custom")
        );
        assert_eq!(get(&h, "access-control-max-age"), Some("0"));
        // `*` needs no Vary: the answer is the same for every origin.
        assert_eq!(get(&h, "vary"), None);
        assert_eq!(get(&h, "access-control-allow-credentials"), None);
    }

    #[test]
    fn actual_responses_replace_the_backends_cors_headers() {
        let c = cors(&["https://app.example.com"], false);
        let mut h = HeaderMap::new();
        h.insert("access-control-allow-origin", HeaderValue::from_static("*"));
        h.insert(
            "access-control-allow-methods",
            HeaderValue::from_static("DELETE"),
        );
        h.insert("vary", HeaderValue::from_static("accept-encoding"));
        strip(&mut h);
        let origin = HeaderValue::from_static("https://app.example.com");
        c.decorate(&c.allowed_origin(&origin).unwrap(), &mut h);
        assert_eq!(
            get(&h, "access-control-allow-origin"),
            Some("https://app.example.com")
        );
        assert_eq!(
            get(&h, "access-control-expose-headers"),
            Some("x-request-id")
        );
        assert_eq!(get(&h, "access-control-allow-methods"), None);
        let vary: Vec<_> = h.get_all("vary").iter().collect();
        assert_eq!(vary, ["accept-encoding", "origin"]);
    }
}
