//! Integrations as the request path uses them (Lambda's own part is `lambda.rs`). Everything that depends only on the
//! deployment or the stage (the URI template, stage variables, method, timeout) is worked
//! out when a snapshot compiles, so a request only fills in its path parameters and query.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use http::{HeaderValue, Method, Uri};
use portico_model::{HttpMethod, UriPart, UriTemplate, ValidationError};
use portico_proto::{Integration, IntegrationType};

use rustls::pki_types::ServerName;

use super::lambda::{LambdaFunction, LambdaIntegration, LambdaSpecError};
use super::parameter_mapping::{CompiledMappings, MappingSpec};
use super::vpc_links::{CompiledVpcLink, VpcLinks};
use crate::upstream::dial::DialTls;

/// AWS's default (and maximum) integration timeout for HTTP APIs.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_millis(30_000);

/// Why a deployment's integration cannot be used at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IntegrationError {
    #[error("unsupported integration type {0} (HTTP_PROXY and AWS_PROXY are supported)")]
    UnsupportedType(i32),
    #[error("{0}")]
    InvalidUri(#[from] ValidationError),
    #[error("invalid integration method '{0}' (use ANY or an HTTP method such as GET)")]
    InvalidMethod(String),
    #[error("{0}")]
    Mapping(Box<ValidationError>),
    #[error("{0}")]
    Lambda(Box<LambdaSpecError>),
}

impl From<LambdaSpecError> for IntegrationError {
    fn from(e: LambdaSpecError) -> Self {
        // Boxed, as `Mapping` is: compile errors travel in `Result`s.
        IntegrationError::Lambda(Box::new(e))
    }
}

/// The integration URI did not come out as an absolute http(s) URI once the stage's
/// variables were filled in.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid URI after stage variables '{uri}': {reason}")]
pub struct InvalidUpstreamUri {
    pub uri: String,
    pub reason: String,
}

/// A deployment's integration, parsed once and rendered for each stage that serves it.
#[derive(Debug, Clone)]
pub struct IntegrationSpec {
    pub integration_id: String,
    kind: SpecKind,
}

#[derive(Debug, Clone)]
enum SpecKind {
    Http(HttpSpec),
    Lambda(Arc<LambdaFunction>),
    Private(PrivateSpec),
}

/// A `VPC_LINK` integration: the URL (or, for an ELB / Cloud Map ARN, none: the client's
/// path goes as is) and the link that carries it.
#[derive(Debug, Clone)]
struct PrivateSpec {
    link_id: String,
    /// The URI as stored, for problems.
    uri: String,
    template: Option<UriTemplate>,
    method: Option<Method>,
    timeout: Duration,
    mappings: MappingSpec,
    tls: bool,
    server_name: Option<String>,
}

#[derive(Debug, Clone)]
struct HttpSpec {
    template: UriTemplate,
    method: Option<Method>,
    timeout: Duration,
    mappings: MappingSpec,
}

impl TryFrom<&Integration> for IntegrationSpec {
    type Error = IntegrationError;

    fn try_from(i: &Integration) -> Result<Self, Self::Error> {
        let kind = match IntegrationType::try_from(i.integration_type) {
            Ok(IntegrationType::HttpProxy) if !i.connection_id.is_empty() => {
                SpecKind::Private(PrivateSpec::try_from(i)?)
            }
            Ok(IntegrationType::HttpProxy) => SpecKind::Http(HttpSpec::try_from(i)?),
            Ok(IntegrationType::AwsProxy) => {
                SpecKind::Lambda(Arc::new(LambdaFunction::try_from(i)?))
            }
            Ok(IntegrationType::Unspecified) | Err(_) => {
                return Err(IntegrationError::UnsupportedType(i.integration_type));
            }
        };
        Ok(IntegrationSpec {
            integration_id: i.integration_id.clone(),
            kind,
        })
    }
}

impl TryFrom<&Integration> for PrivateSpec {
    type Error = IntegrationError;

    fn try_from(i: &Integration) -> Result<Self, Self::Error> {
        let template = match portico_model::PrivateIntegrationUri::parse(&i.uri)? {
            portico_model::PrivateIntegrationUri::Url => Some(UriTemplate::parse(&i.uri)?),
            portico_model::PrivateIntegrationUri::Arn => None,
        };
        let (method, timeout, mappings) = common_fields(i)?;
        Ok(PrivateSpec {
            link_id: i.connection_id.clone(),
            uri: i.uri.clone(),
            tls: i.tls || i.uri.starts_with("https://"),
            server_name: Some(i.server_name_to_verify.clone()).filter(|n| !n.is_empty()),
            template,
            method,
            timeout,
            mappings,
        })
    }
}

/// What every HTTP integration has besides its URI.
fn common_fields(
    i: &Integration,
) -> Result<(Option<Method>, Duration, MappingSpec), IntegrationError> {
    let method = match i.method.as_str() {
        "" | "ANY" => None,
        m => match HttpMethod::parse(m) {
            Some(m) => Some(Method::from(m)),
            None => return Err(IntegrationError::InvalidMethod(i.method.clone())),
        },
    };
    let timeout = match i.timeout_millis {
        0 => DEFAULT_TIMEOUT,
        ms => Duration::from_millis(u64::from(ms)),
    };
    let mappings = MappingSpec::try_from(i).map_err(|e| IntegrationError::Mapping(Box::new(e)))?;
    Ok((method, timeout, mappings))
}

impl TryFrom<&Integration> for HttpSpec {
    type Error = IntegrationError;

    fn try_from(i: &Integration) -> Result<Self, Self::Error> {
        let template = UriTemplate::parse(&i.uri)?;
        let (method, timeout, mappings) = common_fields(i)?;
        Ok(HttpSpec {
            template,
            method,
            timeout,
            mappings,
        })
    }
}

impl IntegrationSpec {
    /// Renders the integration for one stage. A stage variable the stage does not define
    /// renders as the empty string, as in AWS.
    pub fn for_stage(&self, stage: &portico_proto::Stage, links: &VpcLinks) -> CompiledIntegration {
        let http = match &self.kind {
            SpecKind::Http(http) => http,
            SpecKind::Lambda(function) => {
                return CompiledIntegration::Lambda(LambdaIntegration::for_stage(function, stage));
            }
            SpecKind::Private(private) => return self.private_for_stage(private, stage, links),
        };
        match UpstreamUri::render(&http.template, &stage.stage_variables) {
            Ok(uri) => CompiledIntegration::HttpProxy(HttpProxyIntegration {
                integration_id: self.integration_id.clone(),
                uri,
                method: http.method.clone(),
                timeout: http.timeout,
                mappings: http.mappings.for_stage(stage),
            }),
            Err(reason) => CompiledIntegration::Unusable(Arc::new(reason)),
        }
    }
}

impl IntegrationSpec {
    fn private_for_stage(
        &self,
        spec: &PrivateSpec,
        stage: &portico_proto::Stage,
        links: &VpcLinks,
    ) -> CompiledIntegration {
        let unusable = |reason: String| {
            CompiledIntegration::Unusable(Arc::new(InvalidUpstreamUri {
                uri: spec.uri.clone(),
                reason,
            }))
        };
        let Some(link) = links.get(&spec.link_id) else {
            return unusable(format!("its VPC link {} does not exist", spec.link_id));
        };
        let uri = match &spec.template {
            Some(t) => match UpstreamUri::render(t, &stage.stage_variables) {
                Ok(uri) => Some(uri),
                Err(e) => return CompiledIntegration::Unusable(Arc::new(e)),
            },
            None => None,
        };
        // The name the target's certificate must carry: tlsConfig's, else the URL's host;
        // an ARN without one is verified against each target's own host.
        let url_host = uri
            .as_ref()
            .and_then(|u| u.host_header())
            .and_then(|h| h.to_str().ok())
            .map(|h| super::strip_port(h).to_string());
        let tls = match (spec.tls, spec.server_name.clone().or(url_host)) {
            (false, _) => PrivateTls::Plain,
            (true, None) => PrivateTls::TargetName,
            (true, Some(name)) => match ServerName::try_from(name.clone()) {
                Ok(server_name) => PrivateTls::Name(DialTls {
                    config: link.tls.clone(),
                    server_name,
                    id: tls_id(&spec.link_id, &name),
                }),
                Err(_) => return unusable(format!("'{name}' is not a server name TLS can verify")),
            },
        };
        CompiledIntegration::Private(PrivateIntegration {
            integration_id: self.integration_id.clone(),
            uri,
            method: spec.method.clone(),
            timeout: spec.timeout,
            mappings: spec.mappings.for_stage(stage),
            link: link.clone(),
            tls,
        })
    }
}

/// Keys idle connections by link and name, so two integrations that verify different
/// names never share a TLS connection.
pub(crate) fn tls_id(link: &str, name: &str) -> u64 {
    use std::hash::{BuildHasher, Hash, Hasher};
    let mut h = foldhash::fast::FixedState::with_seed(0x5eed).build_hasher();
    link.hash(&mut h);
    name.hash(&mut h);
    h.finish() | 1
}

/// A private integration ready for the request path.
#[derive(Debug, Clone)]
pub struct PrivateIntegration {
    pub integration_id: String,
    /// The URL with the stage's variables in place; `None` for an ARN, which sends the
    /// client's path.
    pub uri: Option<UpstreamUri>,
    pub method: Option<Method>,
    pub timeout: Duration,
    pub mappings: Option<Arc<CompiledMappings>>,
    pub link: Arc<CompiledVpcLink>,
    pub tls: PrivateTls,
}

#[derive(Debug, Clone)]
pub enum PrivateTls {
    Plain,
    /// Verify this name (and send it as SNI) whichever target serves.
    Name(DialTls),
    /// Verify each target's own host.
    TargetName,
}

/// An integration ready for the request path.
#[derive(Debug, Clone)]
pub enum CompiledIntegration {
    HttpProxy(HttpProxyIntegration),
    Lambda(LambdaIntegration),
    /// Through a VPC link to one of its targets.
    Private(PrivateIntegration),
    /// The stage's variables leave the integration without a usable URI. AWS deploys such
    /// a stage and answers 500 on the routes that target it; so does a node, and every
    /// other route of the stage, and every other stage, serves as usual.
    Unusable(Arc<InvalidUpstreamUri>),
}

impl CompiledIntegration {
    /// The integration's parameter mappings, if it has any (Lambda integrations take
    /// none, as on AWS).
    pub fn mappings(&self) -> Option<&CompiledMappings> {
        match self {
            CompiledIntegration::HttpProxy(i) => i.mappings.as_deref(),
            CompiledIntegration::Private(i) => i.mappings.as_deref(),
            CompiledIntegration::Lambda(_) | CompiledIntegration::Unusable(_) => None,
        }
    }
}

#[derive(Debug, Clone)]
pub struct HttpProxyIntegration {
    pub integration_id: String,
    pub uri: UpstreamUri,
    /// `None` forwards the client's method (integration method `ANY`).
    pub method: Option<Method>,
    /// The whole upstream response head must arrive within this.
    pub timeout: Duration,
    /// `None` when the integration maps no parameters.
    pub mappings: Option<Arc<CompiledMappings>>,
}

/// An integration URI with the stage variables already in place: literal text and path
/// parameter names, in order.
#[derive(Debug, Clone)]
pub struct UpstreamUri {
    pieces: Box<[Piece]>,
    /// The upstream `Host`, ready to send, when no path parameter is part of it (the
    /// usual case), so requests need not build it.
    host_header: Option<HeaderValue>,
    literal_len: usize,
    /// The template has its own query string, so the client's is joined with '&'.
    has_query: bool,
}

#[derive(Debug, Clone)]
enum Piece {
    Literal(Box<str>),
    Param(Box<str>),
}

impl UpstreamUri {
    pub fn render(
        template: &UriTemplate,
        stage_variables: &BTreeMap<String, String>,
    ) -> Result<Self, InvalidUpstreamUri> {
        let rendered = template.for_stage(stage_variables);
        let mut pieces = Vec::with_capacity(rendered.parts.len());
        for part in rendered.parts {
            pieces.push(match part {
                UriPart::Literal(l) => Piece::Literal(l.into()),
                UriPart::PathParam(p) => Piece::Param(p.into()),
                // Every stage variable was given a value above.
                UriPart::StageVariable(v) => {
                    Piece::Literal(format!("${{stageVariables.{v}}}").into())
                }
            });
        }
        let literal_len = pieces
            .iter()
            .map(|p| match p {
                Piece::Literal(l) => l.len(),
                Piece::Param(_) => 0,
            })
            .sum();
        let has_query = pieces
            .iter()
            .any(|p| matches!(p, Piece::Literal(l) if l.contains('?')));
        let host_header = match pieces.first() {
            Some(Piece::Literal(first)) => {
                let after_scheme = first.split_once("://").map_or("", |(_, rest)| rest);
                match after_scheme.find(['/', '?', '#']) {
                    Some(end) => host_header_for(&after_scheme[..end]),
                    None if pieces.len() == 1 => host_header_for(after_scheme),
                    None => None,
                }
            }
            _ => None,
        };
        let uri = UpstreamUri {
            pieces: pieces.into(),
            host_header,
            literal_len,
            has_query,
        };
        uri.validate()?;
        Ok(uri)
    }

    /// The `Host` to send upstream, when it does not depend on the request.
    pub fn host_header(&self) -> Option<&HeaderValue> {
        self.host_header.as_ref()
    }

    /// Checks the URI with every path parameter set to a harmless value: what is left to
    /// fill in at request time cannot turn a broken URI into a good one.
    fn validate(&self) -> Result<(), InvalidUpstreamUri> {
        let shown = self.to_string();
        let invalid = |reason: &str| InvalidUpstreamUri {
            uri: shown.clone(),
            reason: reason.into(),
        };
        let text = self.fill(|_| Some("x"), None);
        let after_scheme = text.split_once("://").map_or("", |(_, rest)| rest);
        if after_scheme.is_empty() || after_scheme.starts_with(['/', '?', '#']) {
            return Err(invalid("it has no host"));
        }
        let uri = Uri::try_from(text).map_err(|e| invalid(&e.to_string()))?;
        match uri.scheme_str() {
            Some("http" | "https") => {}
            _ => return Err(invalid("the scheme must be http or https")),
        }
        let Some(authority) = uri.authority().filter(|a| !a.host().is_empty()) else {
            return Err(invalid("it has no host"));
        };
        // `http::Uri` takes any text after the last ':' as the port.
        let host_port = authority.as_str().rsplit('@').next().unwrap_or("");
        if !host_port.ends_with(']')
            && let Some((_, port)) = host_port.rsplit_once(':')
            && port.parse::<u16>().is_err()
        {
            return Err(invalid("invalid port"));
        }
        Ok(())
    }

    /// Builds the upstream URI for one request: path parameters are the raw request path
    /// pieces (still percent-encoded) and the client's query string is appended.
    pub fn build<'a>(
        &self,
        param: impl Fn(&str) -> Option<&'a str>,
        query: Option<&str>,
    ) -> Result<Uri, http::uri::InvalidUri> {
        Uri::try_from(self.fill(param, query))
    }

    fn fill<'a>(&self, param: impl Fn(&str) -> Option<&'a str>, query: Option<&str>) -> String {
        let query = query.filter(|q| !q.is_empty());
        let mut params_len = 0;
        for p in self.pieces.iter() {
            if let Piece::Param(name) = p {
                params_len += param(name).map_or(0, str::len);
            }
        }
        let mut out =
            String::with_capacity(self.literal_len + params_len + query.map_or(0, |q| q.len() + 1));
        for p in self.pieces.iter() {
            match p {
                Piece::Literal(l) => out.push_str(l),
                // A parameter the route does not have renders empty, like a missing
                // stage variable.
                Piece::Param(name) => out.push_str(param(name).unwrap_or("")),
            }
        }
        if let Some(q) = query {
            if !self.has_query {
                out.push('?');
            } else if !out.ends_with(['?', '&']) {
                out.push('&');
            }
            out.push_str(q);
        }
        out
    }
}

/// `Host` for an authority: userinfo is not part of it.
pub fn host_header_for(authority: &str) -> Option<HeaderValue> {
    let host = authority.rsplit('@').next().unwrap_or(authority);
    HeaderValue::from_str(host)
        .ok()
        .filter(|_| !host.is_empty())
}

impl std::fmt::Display for UpstreamUri {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for p in self.pieces.iter() {
            match p {
                Piece::Literal(l) => f.write_str(l)?,
                Piece::Param(n) => write!(f, "{{{n}}}")?,
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn render(uri: &str, v: &[(&str, &str)]) -> Result<UpstreamUri, InvalidUpstreamUri> {
        UpstreamUri::render(&UriTemplate::parse(uri).expect("template"), &vars(v))
    }

    #[test]
    fn renders_stage_variables_then_params_and_query() {
        let params = [("id", "42"), ("proxy", "a/b%20c")];
        let lookup = |n: &str| params.iter().find(|(k, _)| *k == n).map(|(_, v)| *v);
        /// (template, stage variables, client query, upstream URI)
        type Case<'a> = (&'a str, &'a [(&'a str, &'a str)], Option<&'a str>, &'a str);
        let cases: &[Case] = &[
            ("http://h/notes/{id}", &[], None, "http://h/notes/42"),
            ("http://h/notes/{id}", &[], Some(""), "http://h/notes/42"),
            (
                "http://h/notes/{id}",
                &[],
                Some("a=1&b=2"),
                "http://h/notes/42?a=1&b=2",
            ),
            ("http://h/n?v=1", &[], Some("a=1"), "http://h/n?v=1&a=1"),
            ("http://h/n?", &[], Some("a=1"), "http://h/n?a=1"),
            ("http://h/n?v=1&", &[], Some("a=1"), "http://h/n?v=1&a=1"),
            ("http://h/{proxy+}", &[], None, "http://h/a/b%20c"),
            ("http://h/${request.path.id}", &[], None, "http://h/42"),
            (
                "https://${stageVariables.host}/v/${stageVariables.ver}/{id}",
                &[("host", "api.example.com:8443"), ("ver", "2")],
                Some("x=y"),
                "https://api.example.com:8443/v/2/42?x=y",
            ),
            // A missing stage variable renders empty.
            (
                "http://h/a${stageVariables.missing}/b",
                &[],
                None,
                "http://h/a/b",
            ),
            (
                "http://h/?q=${stageVariables.q}",
                &[("q", "s")],
                Some("z=1"),
                "http://h/?q=s&z=1",
            ),
            // Parameters the route does not have render empty.
            ("http://h/{nope}/x", &[], None, "http://h//x"),
        ];
        for (template, v, query, expected) in cases {
            let uri = render(template, v).unwrap_or_else(|e| panic!("{template}: {e}"));
            let built = uri.build(lookup, *query).expect("valid");
            assert_eq!(built.to_string(), *expected, "{template} {v:?} {query:?}");
        }
    }

    #[test]
    fn precomputes_the_host_header_when_it_is_literal() {
        let host = |uri: &str, v: &[(&str, &str)]| {
            render(uri, v)
                .expect("valid")
                .host_header()
                .map(|h| h.to_str().expect("ascii").to_string())
        };
        assert_eq!(host("http://h:81/x/{id}", &[]).as_deref(), Some("h:81"));
        assert_eq!(host("http://user:pw@h/x", &[]).as_deref(), Some("h"));
        assert_eq!(host("http://h", &[]).as_deref(), Some("h"));
        assert_eq!(host("http://h?x={id}", &[]).as_deref(), Some("h"));
        assert_eq!(
            host("http://${stageVariables.b}/x", &[("b", "b:9")]).as_deref(),
            Some("b:9")
        );
        assert_eq!(host("http://{sub}.example.com/x", &[]), None);
    }

    #[test]
    fn rejects_uris_broken_by_stage_variables() {
        for (template, v, fragment) in [
            ("http://${stageVariables.host}/x", &[][..], "no host"),
            (
                "http://${stageVariables.host}/x",
                &[("host", "a b")][..],
                "invalid",
            ),
            (
                "http://h:${stageVariables.port}/x",
                &[("port", "http")][..],
                "invalid",
            ),
        ] {
            let err = render(template, v).expect_err(template);
            assert!(
                err.to_string()
                    .contains("invalid URI after stage variables"),
                "{err}"
            );
            assert!(err.reason.contains(fragment), "{template}: {err}");
        }
    }

    #[test]
    fn spec_from_proto() {
        let base = Integration {
            integration_id: "i1".into(),
            integration_type: IntegrationType::HttpProxy as i32,
            uri: "http://h/x".into(),
            method: "ANY".into(),
            timeout_millis: 0,
            payload_format_version: "1.0".into(),
            ..Default::default()
        };
        let spec = HttpSpec::try_from(&base).expect("valid");
        assert_eq!(spec.method, None);
        assert_eq!(spec.timeout, DEFAULT_TIMEOUT);

        let spec = HttpSpec::try_from(&Integration {
            method: "POST".into(),
            timeout_millis: 250,
            ..base.clone()
        })
        .expect("valid");
        assert_eq!(spec.method, Some(Method::POST));
        assert_eq!(spec.timeout, Duration::from_millis(250));

        let err = IntegrationSpec::try_from(&Integration {
            method: "get".into(),
            ..base.clone()
        });
        assert!(matches!(err, Err(IntegrationError::InvalidMethod(_))));
        let err = IntegrationSpec::try_from(&Integration {
            integration_type: 0,
            ..base.clone()
        });
        assert!(matches!(err, Err(IntegrationError::UnsupportedType(0))));
        let err = IntegrationSpec::try_from(&Integration {
            uri: "ftp://h".into(),
            ..base
        });
        assert!(matches!(err, Err(IntegrationError::InvalidUri(_))));
    }
}
