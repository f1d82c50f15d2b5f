//! Where clients reach an API: the execute-api endpoint the invoke URLs are made from.
/// Where clients reach an API: `{scheme}://{apiId}.{domain}[:{port}]`, AWS's
/// `https://{apiId}.execute-api.{region}.amazonaws.com` on the user's own machines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecuteApiEndpoint {
    pub scheme: String,
    pub domain: String,
    pub port: Option<u16>,
}

impl ExecuteApiEndpoint {
    /// What a store nothing seeded serves (`portico serve`'s default; `portico up`
    /// derives its own from its proxy port).
    pub const DEFAULT: &str = "http://execute-api.localhost:8000";

    /// The stored value, or the default when none is stored. A stored value always
    /// parsed when it was written; one that does not was written behind Portico's back.
    pub fn from_stored(stored: Option<&str>) -> Result<Self, String> {
        Self::parse(stored.unwrap_or(Self::DEFAULT))
    }

    /// Parses `http://execute-api.localhost:8000`.
    pub fn parse(url: &str) -> Result<Self, String> {
        let (scheme, rest) = url.split_once("://").ok_or_else(|| {
            format!("'{url}' is not a URL like http://execute-api.localhost:8000")
        })?;
        // Schemes are case-insensitive (RFC 3986 §3.1); stored in lower case.
        let scheme = scheme.to_ascii_lowercase();
        if scheme != "http" && scheme != "https" {
            return Err(format!("'{url}': scheme must be http or https"));
        }
        let rest = rest.trim_end_matches('/');
        if rest.is_empty() || rest.contains('/') {
            return Err(format!(
                "'{url}' must be scheme://domain[:port] with no path"
            ));
        }
        let (domain, port) = match rest.rsplit_once(':') {
            Some((d, p)) => (
                d,
                Some(
                    p.parse::<u16>()
                        .map_err(|_| format!("'{url}': bad port '{p}'"))?,
                ),
            ),
            None => (rest, None),
        };
        // Every API's host is `{apiId}.{domain}`: the domain must be a host name.
        let valid_name = |c: char| c.is_ascii_alphanumeric() || c == '.' || c == '-';
        if domain.is_empty() || !domain.chars().all(valid_name) {
            return Err(format!("'{url}': '{domain}' is not a domain name"));
        }
        Ok(ExecuteApiEndpoint {
            scheme,
            domain: domain.to_ascii_lowercase(),
            port,
        })
    }

    /// The URL again, in the one spelling that is stored and shown.
    pub fn url(&self) -> String {
        match self.port {
            Some(p) => format!("{}://{}:{p}", self.scheme, self.domain),
            None => format!("{}://{}", self.scheme, self.domain),
        }
    }

    pub fn for_api(&self, api_id: &str) -> String {
        match self.port {
            Some(p) => format!("{}://{api_id}.{}:{p}", self.scheme, self.domain),
            None => format!("{}://{api_id}.{}", self.scheme, self.domain),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn execute_api_endpoint() {
        let e = ExecuteApiEndpoint::parse("http://execute-api.localhost:8000").unwrap();
        assert_eq!(e.for_api("abc"), "http://abc.execute-api.localhost:8000");
        let e = ExecuteApiEndpoint::parse("https://API.example.com/").unwrap();
        assert_eq!(e.for_api("abc"), "https://abc.api.example.com");
        assert_eq!(e.url(), "https://api.example.com");
        assert_eq!(
            ExecuteApiEndpoint::from_stored(None).unwrap().url(),
            ExecuteApiEndpoint::DEFAULT
        );
        assert!(ExecuteApiEndpoint::parse("example.com").is_err());
        assert!(ExecuteApiEndpoint::parse("http://h/x").is_err());
        assert!(ExecuteApiEndpoint::parse("http://h:x").is_err());
        assert!(ExecuteApiEndpoint::parse("http://:8000").is_err());
        assert!(ExecuteApiEndpoint::parse("http://a b.example").is_err());
    }
}
