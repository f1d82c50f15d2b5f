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
    /// Parses `http://execute-api.localhost:8000`.
    pub fn parse(url: &str) -> Result<Self, String> {
        let (scheme, rest) = url.split_once("://").ok_or_else(|| {
            format!("'{url}' is not a URL like http://execute-api.localhost:8000")
        })?;
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
        Ok(ExecuteApiEndpoint {
            scheme: scheme.to_string(),
            domain: domain.to_ascii_lowercase(),
            port,
        })
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
        assert!(ExecuteApiEndpoint::parse("example.com").is_err());
        assert!(ExecuteApiEndpoint::parse("http://h/x").is_err());
        assert!(ExecuteApiEndpoint::parse("http://h:x").is_err());
    }
}
