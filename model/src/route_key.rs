use std::fmt;

use crate::ValidationError;

/// An HTTP method a route can name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum HttpMethod {
    Get,
    Post,
    Put,
    Patch,
    Delete,
    Head,
    Options,
}

impl HttpMethod {
    pub const ALL: [HttpMethod; 7] = [
        HttpMethod::Get,
        HttpMethod::Post,
        HttpMethod::Put,
        HttpMethod::Patch,
        HttpMethod::Delete,
        HttpMethod::Head,
        HttpMethod::Options,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            HttpMethod::Get => "GET",
            HttpMethod::Post => "POST",
            HttpMethod::Put => "PUT",
            HttpMethod::Patch => "PATCH",
            HttpMethod::Delete => "DELETE",
            HttpMethod::Head => "HEAD",
            HttpMethod::Options => "OPTIONS",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|m| m.as_str() == s)
    }

    /// The method a request carries, if a route key can name it (TRACE and custom
    /// methods cannot: only `ANY` matches them).
    pub fn from_http(m: &http::Method) -> Option<Self> {
        Some(match *m {
            http::Method::GET => HttpMethod::Get,
            http::Method::POST => HttpMethod::Post,
            http::Method::PUT => HttpMethod::Put,
            http::Method::PATCH => HttpMethod::Patch,
            http::Method::DELETE => HttpMethod::Delete,
            http::Method::HEAD => HttpMethod::Head,
            http::Method::OPTIONS => HttpMethod::Options,
            _ => return None,
        })
    }
}

impl From<HttpMethod> for http::Method {
    fn from(m: HttpMethod) -> Self {
        match m {
            HttpMethod::Get => http::Method::GET,
            HttpMethod::Post => http::Method::POST,
            HttpMethod::Put => http::Method::PUT,
            HttpMethod::Patch => http::Method::PATCH,
            HttpMethod::Delete => http::Method::DELETE,
            HttpMethod::Head => http::Method::HEAD,
            HttpMethod::Options => http::Method::OPTIONS,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RouteMethod {
    Any,
    Method(HttpMethod),
}

impl RouteMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            RouteMethod::Any => "ANY",
            RouteMethod::Method(m) => m.as_str(),
        }
    }
}

/// One segment of a route path.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Segment {
    Literal(String),
    /// `{name}`: exactly one segment.
    Param(String),
    /// `{name+}`: one or more segments; only ever the last one.
    Greedy(String),
}

/// The path of a route key, e.g. `/items/{id}/{proxy+}`; `/` has no segments.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RoutePath {
    pub segments: Vec<Segment>,
}

impl RoutePath {
    /// The path with parameter names erased: two routes with the same shape and method
    /// would match exactly the same requests, so they conflict.
    pub fn shape(&self) -> String {
        let mut out = String::new();
        for seg in &self.segments {
            out.push('/');
            match seg {
                Segment::Literal(l) => out.push_str(l),
                Segment::Param(_) => out.push_str("{}"),
                Segment::Greedy(_) => out.push_str("{+}"),
            }
        }
        if out.is_empty() {
            out.push('/');
        }
        out
    }

    pub fn params(&self) -> impl Iterator<Item = &str> {
        self.segments.iter().filter_map(|s| match s {
            Segment::Param(n) | Segment::Greedy(n) => Some(n.as_str()),
            Segment::Literal(_) => None,
        })
    }
}

impl fmt::Display for RoutePath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.segments.is_empty() {
            return f.write_str("/");
        }
        for seg in &self.segments {
            match seg {
                Segment::Literal(l) => write!(f, "/{l}")?,
                Segment::Param(n) => write!(f, "/{{{n}}}")?,
                Segment::Greedy(n) => write!(f, "/{{{n}+}}")?,
            }
        }
        Ok(())
    }
}

/// A parsed AWS route key: `GET /notes`, `ANY /items/{proxy+}` or `$default`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum RouteKey {
    Default,
    Route {
        method: RouteMethod,
        path: RoutePath,
    },
}

const MAX_ROUTE_KEY_LEN: usize = 1024;

fn literal_char_ok(c: char) -> bool {
    // RFC 3986 pchar without the characters route keys reserve for parameters.
    c.is_ascii_alphanumeric()
        || matches!(
            c,
            '-' | '.'
                | '_'
                | '~'
                | '!'
                | '$'
                | '&'
                | '\''
                | '('
                | ')'
                | '*'
                | ','
                | ';'
                | '='
                | ':'
                | '@'
                | '%'
        )
}

fn param_name_ok(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.')
}

impl RouteKey {
    pub fn parse(key: &str) -> Result<Self, ValidationError> {
        let err = |m: String| ValidationError::new("routeKey", m);
        if key == "$default" {
            return Ok(RouteKey::Default);
        }
        if key.len() > MAX_ROUTE_KEY_LEN {
            return Err(err(format!(
                "Route key must be at most {MAX_ROUTE_KEY_LEN} characters"
            )));
        }
        let Some((method, path)) = key.split_once(' ') else {
            return Err(err(format!(
                "Invalid route key '{key}': expected '$default' or 'METHOD /path', e.g. 'GET /notes'"
            )));
        };
        let method = if method == "ANY" {
            RouteMethod::Any
        } else {
            match HttpMethod::parse(method) {
                Some(m) => RouteMethod::Method(m),
                None => {
                    return Err(err(format!(
                        "Invalid route key '{key}': unknown method '{method}' (use ANY, GET, POST, PUT, PATCH, DELETE, HEAD or OPTIONS)"
                    )));
                }
            }
        };
        let path =
            RoutePath::parse(path).map_err(|m| err(format!("Invalid route key '{key}': {m}")))?;
        Ok(RouteKey::Route { method, path })
    }

    pub fn is_default(&self) -> bool {
        matches!(self, RouteKey::Default)
    }
}

impl RoutePath {
    fn parse(path: &str) -> Result<Self, String> {
        if !path.starts_with('/') {
            return Err("the path must start with '/'".into());
        }
        if path == "/" {
            return Ok(RoutePath { segments: vec![] });
        }
        let raw: Vec<&str> = path[1..].split('/').collect();
        let mut segments = Vec::with_capacity(raw.len());
        let mut names: Vec<&str> = Vec::new();
        for (i, seg) in raw.iter().enumerate() {
            if seg.is_empty() {
                return Err("empty path segment (a '//' or a trailing '/')".into());
            }
            if let Some(inner) = seg.strip_prefix('{') {
                let Some(inner) = inner.strip_suffix('}') else {
                    return Err(format!("segment '{seg}' opens '{{' without closing it"));
                };
                let (name, greedy) = match inner.strip_suffix('+') {
                    Some(n) => (n, true),
                    None => (inner, false),
                };
                if !param_name_ok(name) {
                    return Err(format!(
                        "invalid path parameter '{seg}': names use letters, digits, '_', '-' and '.'"
                    ));
                }
                if names.contains(&name) {
                    return Err(format!("path parameter '{name}' appears twice"));
                }
                names.push(name);
                if greedy {
                    if i != raw.len() - 1 {
                        return Err(format!("greedy parameter '{seg}' must be the last segment"));
                    }
                    segments.push(Segment::Greedy(name.to_string()));
                } else {
                    segments.push(Segment::Param(name.to_string()));
                }
            } else {
                if let Some(c) = seg.chars().find(|c| !literal_char_ok(*c)) {
                    return Err(format!("character '{c}' is not allowed in segment '{seg}'"));
                }
                segments.push(Segment::Literal((*seg).to_string()));
            }
        }
        Ok(RoutePath { segments })
    }
}

impl fmt::Display for RouteKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RouteKey::Default => f.write_str("$default"),
            RouteKey::Route { method, path } => write!(f, "{} {path}", method.as_str()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn methods_convert_both_ways_with_http() {
        for m in HttpMethod::ALL {
            let wire = http::Method::from(m);
            assert_eq!(wire.as_str(), m.as_str());
            assert_eq!(HttpMethod::from_http(&wire), Some(m));
        }
        assert_eq!(HttpMethod::from_http(&http::Method::TRACE), None);
        assert_eq!(HttpMethod::from_http(&http::Method::CONNECT), None);
    }

    #[test]
    fn parses_valid_keys() {
        let cases = [
            ("$default", "$default"),
            ("GET /notes", "GET /notes"),
            ("POST /", "POST /"),
            ("ANY /items/{proxy+}", "ANY /items/{proxy+}"),
            ("DELETE /notes/{id}", "DELETE /notes/{id}"),
            ("GET /a/{b}/c/{d}", "GET /a/{b}/c/{d}"),
            ("ANY /{proxy+}", "ANY /{proxy+}"),
            ("GET /v1.0/items~x", "GET /v1.0/items~x"),
        ];
        for (input, shown) in cases {
            let key = RouteKey::parse(input).unwrap_or_else(|e| panic!("{input}: {e}"));
            assert_eq!(key.to_string(), shown);
        }
    }

    #[test]
    fn rejects_invalid_keys() {
        let cases = [
            ("", "expected"),
            ("GET", "expected"),
            ("get /notes", "unknown method"),
            ("FETCH /notes", "unknown method"),
            ("GET notes", "must start with '/'"),
            ("GET /notes/", "empty path segment"),
            ("GET //notes", "empty path segment"),
            ("GET /{proxy+}/x", "must be the last segment"),
            ("GET /{id}/{id}", "appears twice"),
            ("GET /{id", "without closing"),
            ("GET /{}", "invalid path parameter"),
            ("GET /a b", "not allowed"),
            ("GET /a?b", "not allowed"),
            ("$Default", "expected"),
        ];
        for (input, fragment) in cases {
            let err = RouteKey::parse(input).expect_err(input);
            assert_eq!(err.field, "routeKey");
            assert!(
                err.message.contains(fragment),
                "{input}: '{}' lacks '{fragment}'",
                err.message
            );
        }
    }

    #[test]
    fn shape_ignores_parameter_names() {
        let a = RouteKey::parse("GET /pets/{id}").unwrap();
        let b = RouteKey::parse("GET /pets/{petId}").unwrap();
        let (RouteKey::Route { path: pa, .. }, RouteKey::Route { path: pb, .. }) = (a, b) else {
            unreachable!()
        };
        assert_eq!(pa.shape(), pb.shape());
        assert_eq!(pa.shape(), "/pets/{}");
    }
}
