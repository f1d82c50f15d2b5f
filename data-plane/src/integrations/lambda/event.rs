//! The event a Lambda proxy integration sends, in AWS's two payload formats
//! (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-integrations-lambda.html).
//!
//! Both are written straight from the request with serde, borrowing wherever the request
//! already holds the text: no intermediate JSON tree, no copy of the headers, and a
//! binary body base64-encoded as it is written.
//!
//! - 2.0: header names lower-cased, repeated headers and query parameters joined with
//!   commas, the `Cookie` headers split into `cookies` (and left out of `headers`),
//!   `rawPath`/`rawQueryString` as the client sent them; fields with nothing in them
//!   are left out.
//! - 1.0: every value in the `multiValue…` maps; in `headers` the last value of each
//!   header and in `queryStringParameters` the first of each parameter, as AWS's 1.0
//!   sample shows them; fields with nothing in them are `null`.
//!
//! A body goes as text when its media type is textual and it is UTF-8, else base64
//! with `isBase64Encoded: true`, as AWS sends binary bodies.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;
use std::net::IpAddr;
use std::time::SystemTime;

use base64::display::Base64Display;
use base64::engine::general_purpose::STANDARD;
use http::header::{CONTENT_TYPE, COOKIE, GetAll, HOST, HeaderValue, USER_AGENT};
use http::{HeaderMap, Method, Uri, Version};
use percent_encoding::percent_decode_str;
use portico_model::RouteKey;
use serde::Serialize;
use serde::ser::{SerializeMap, SerializeSeq, Serializer};

use crate::config::lambda::PayloadFormat;
use crate::config::route_table::RouteMatch;
use crate::proxy::client_tls::ClientCert;
use crate::proxy::context::{Authorized, write_json_text};
use crate::proxy::request_time;

/// What an event is made of: the request as the client sent it, and what the gateway
/// knows about it.
pub struct EventRequest<'a> {
    pub method: &'a Method,
    /// The path (stage prefix included) and query as the client sent them.
    pub uri: &'a Uri,
    pub version: Version,
    /// The client's headers; `host` is added from [`EventRequest::host`].
    pub headers: &'a HeaderMap,
    /// The host the client asked for, port and all.
    pub host: Option<&'a str>,
    pub source_ip: IpAddr,
    pub request_id: &'a str,
    pub api_id: &'a str,
    pub stage: &'a str,
    pub route: RouteMatch<'a, 'a>,
    pub stage_variables: Option<&'a BTreeMap<String, String>>,
    pub body: &'a [u8],
    pub received: SystemTime,
    /// What the route's authorizer found, for `requestContext.authorizer`.
    pub authorized: Option<&'a Authorized>,
    /// Set for a Lambda authorizer's event rather than an integration's.
    pub for_authorizer: Option<ForAuthorizer<'a>>,
    /// The mutual-TLS client certificate, for `authentication.clientCert` (2.0) and
    /// `identity.clientCert` (1.0).
    pub client_cert: Option<&'a ClientCert>,
}

/// AWS's `clientCert` block
/// (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-mutual-tls.html).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ClientCertEvent<'a> {
    client_cert_pem: &'a str,
    #[serde(rename = "subjectDN")]
    subject_dn: &'a str,
    #[serde(rename = "issuerDN")]
    issuer_dn: &'a str,
    serial_number: &'a str,
    validity: Validity<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Validity<'a> {
    not_before: &'a str,
    not_after: &'a str,
}

impl<'a> ClientCertEvent<'a> {
    fn new(c: &'a ClientCert) -> Self {
        ClientCertEvent {
            client_cert_pem: &c.pem,
            subject_dn: &c.subject_dn,
            issuer_dn: &c.issuer_dn,
            serial_number: &c.serial_number,
            validity: Validity {
                not_before: &c.not_before,
                not_after: &c.not_after,
            },
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Authentication<'a> {
    client_cert: ClientCertEvent<'a>,
}

/// What a Lambda authorizer's event adds to the request's
/// (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-lambda-authorizer.html).
#[derive(Clone, Copy)]
pub struct ForAuthorizer<'a> {
    /// `arn:aws:execute-api:{region}:{account}:{apiId}/{stage}/{METHOD}{path}`: 2.0's
    /// `routeArn`, 1.0's `methodArn`.
    pub route_arn: &'a str,
    /// The identity sources' values, in the authorizer's order.
    pub identity: &'a [String],
}

/// `requestContext.authorizer` as each payload format shapes it.
struct AuthorizerContext<'a> {
    authorized: &'a Authorized,
    format: PayloadFormat,
}

/// Claims as AWS passes them on: every value a string.
struct ClaimTexts<'a>(&'a serde_json::Map<String, serde_json::Value>);

impl Serialize for ClaimTexts<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.0.len()))?;
        let mut text = String::new();
        for (k, v) in self.0 {
            text.clear();
            write_json_text(v, &mut text);
            map.serialize_entry(k, &text)?;
        }
        map.end()
    }
}

impl Serialize for AuthorizerContext<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Jwt<'a> {
            claims: ClaimTexts<'a>,
            scopes: Option<&'a [String]>,
        }
        #[derive(Serialize)]
        #[serde(rename_all = "camelCase")]
        struct Iam<'a> {
            access_key: &'a str,
            account_id: &'static str,
            caller_id: &'a str,
            principal_org_id: Option<()>,
            user_arn: Option<()>,
            user_id: &'a str,
        }
        let mut map = s.serialize_map(None)?;
        match (self.authorized, self.format) {
            (Authorized::Jwt(token), format) => {
                let jwt = Jwt {
                    claims: ClaimTexts(&token.claims),
                    scopes: (!token.scopes.is_empty()).then_some(token.scopes.as_slice()),
                };
                match format {
                    PayloadFormat::V2 => map.serialize_entry("jwt", &jwt)?,
                    PayloadFormat::V1 => {
                        map.serialize_entry("claims", &jwt.claims)?;
                        map.serialize_entry("scopes", &jwt.scopes)?;
                    }
                }
            }
            (Authorized::Lambda(answer), PayloadFormat::V2) => {
                map.serialize_entry("lambda", answer.context())?;
            }
            (Authorized::Lambda(answer), PayloadFormat::V1) => {
                for (k, v) in answer.context() {
                    map.serialize_entry(k, v)?;
                }
                if let Some(p) = answer.principal_id() {
                    map.serialize_entry("principalId", p)?;
                }
            }
            (Authorized::Iam { access_key, user }, PayloadFormat::V2) => {
                let iam = Iam {
                    access_key,
                    account_id: "",
                    caller_id: user,
                    principal_org_id: None,
                    user_arn: None,
                    user_id: user,
                };
                map.serialize_entry("iam", &iam)?;
            }
            (Authorized::Iam { .. }, PayloadFormat::V1) => {
                map.serialize_entry("claims", &None::<()>)?;
                map.serialize_entry("scopes", &None::<()>)?;
            }
        }
        map.end()
    }
}

/// The event, serialized.
pub fn build(format: PayloadFormat, req: &EventRequest<'_>) -> Vec<u8> {
    // Base64 takes 4 bytes for every 3.
    let mut out = Vec::with_capacity(1024 + req.body.len() / 3 * 4);
    let written = match format {
        PayloadFormat::V2 => serde_json::to_writer(
            &mut out,
            &V2Event {
                common: Common::new(req),
                req,
            },
        ),
        PayloadFormat::V1 => serde_json::to_writer(
            &mut out,
            &V1Event {
                common: Common::new(req),
                req,
            },
        ),
    };
    // Writing to a Vec cannot fail, and every value above is serializable.
    debug_assert!(written.is_ok());
    out
}

/// Whether AWS would send this body as text: a textual media type and valid UTF-8.
fn text_body<'b>(headers: &HeaderMap, body: &'b [u8]) -> Option<&'b str> {
    let media = headers.get(CONTENT_TYPE)?.to_str().ok()?;
    let (kind, sub) = media.split(';').next()?.trim().split_once('/')?;
    let is = |a: &str, b: &str| a.eq_ignore_ascii_case(b);
    let ends = |s: &str, suffix: &str| {
        s.len() >= suffix.len() && s[s.len() - suffix.len()..].eq_ignore_ascii_case(suffix)
    };
    let textual = is(kind, "text")
        || (is(kind, "application")
            && (is(sub, "json")
                || is(sub, "xml")
                || is(sub, "javascript")
                || ends(sub, "+json")
                || ends(sub, "+xml")));
    if textual {
        std::str::from_utf8(body).ok()
    } else {
        None
    }
}

#[derive(Clone, Copy)]
enum EventBody<'a> {
    Text(&'a str),
    Binary(&'a [u8]),
}

impl<'a> EventBody<'a> {
    fn new(headers: &HeaderMap, body: &'a [u8]) -> Option<Self> {
        if body.is_empty() {
            return None;
        }
        Some(match text_body(headers, body) {
            Some(text) => EventBody::Text(text),
            None => EventBody::Binary(body),
        })
    }

    fn base64(body: Option<Self>) -> bool {
        matches!(body, Some(EventBody::Binary(_)))
    }
}

impl Serialize for EventBody<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            EventBody::Text(t) => s.serialize_str(t),
            EventBody::Binary(b) => s.collect_str(&Base64Display::new(b, &STANDARD)),
        }
    }
}

fn lossy(v: &HeaderValue) -> Cow<'_, str> {
    String::from_utf8_lossy(v.as_bytes())
}

fn domain_prefix(domain: &str) -> &str {
    domain.split('.').next().unwrap_or("")
}

fn protocol(v: Version) -> &'static str {
    match v {
        Version::HTTP_2 => "HTTP/2.0",
        Version::HTTP_10 => "HTTP/1.0",
        _ => "HTTP/1.1",
    }
}

fn time_clf(t: SystemTime) -> String {
    let mut s = String::with_capacity(26);
    request_time::write_clf(&mut s, t);
    s
}

/// The query string's parameters, decoded, each with its values in order.
type QueryParams<'a> = BTreeMap<Cow<'a, str>, Vec<Cow<'a, str>>>;

fn query_params(uri: &Uri) -> QueryParams<'_> {
    let mut params = QueryParams::new();
    for (k, v) in form_urlencoded::parse(uri.query().unwrap_or("").as_bytes()) {
        params.entry(k).or_default().push(v);
    }
    params
}

fn path_params<'a>(route: &RouteMatch<'a, 'a>) -> Vec<(&'a str, Cow<'a, str>)> {
    route
        .params()
        .map(|(name, raw)| (name, percent_decode_str(raw).decode_utf8_lossy()))
        .collect()
}

/// Which of a name's values a map holds: all of them joined with commas, the first, the
/// last, or the list.
#[derive(Clone, Copy)]
enum Values {
    Joined,
    First,
    Last,
    All,
}

/// Values joined with commas, written without building the joined string.
struct Joined<'a>(GetAll<'a, HeaderValue>);

impl fmt::Display for Joined<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, v) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            f.write_str(&lossy(v))?;
        }
        Ok(())
    }
}

/// The request's headers as an event map: `host` first (the client's, which the proxy
/// took off the request), then the rest in the order they came, `cookie` left out where
/// 2.0 takes it apart.
struct HeaderEntries<'a> {
    host: Option<&'a str>,
    headers: &'a HeaderMap,
    skip_cookie: bool,
    values: Values,
}

impl Serialize for HeaderEntries<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(None)?;
        if let Some(host) = self.host {
            match self.values {
                Values::All => map.serialize_entry("host", &[host])?,
                _ => map.serialize_entry("host", host)?,
            }
        }
        for name in self.headers.keys() {
            if (self.skip_cookie && name == COOKIE) || name == HOST {
                continue;
            }
            let all = self.headers.get_all(name);
            match self.values {
                Values::All => map.serialize_entry(name.as_str(), &AllValues(all))?,
                Values::Last => map.serialize_entry(
                    name.as_str(),
                    all.iter().next_back().map(lossy).as_deref().unwrap_or(""),
                )?,
                Values::First => map.serialize_entry(
                    name.as_str(),
                    all.iter().next().map(lossy).as_deref().unwrap_or(""),
                )?,
                Values::Joined => map.serialize_entry(name.as_str(), &Shown(&Joined(all)))?,
            }
        }
        map.end()
    }
}

/// A header's values as a JSON list.
struct AllValues<'a>(GetAll<'a, HeaderValue>);

impl Serialize for AllValues<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(None)?;
        for v in self.0.iter() {
            seq.serialize_element(&lossy(v))?;
        }
        seq.end()
    }
}

/// The query parameters as an event map.
struct QueryEntries<'q, 'a> {
    params: &'q QueryParams<'a>,
    values: Values,
}

impl Serialize for QueryEntries<'_, '_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.params.len()))?;
        for (k, vs) in self.params {
            let k = k.as_ref();
            match self.values {
                Values::All => map.serialize_entry(k, vs)?,
                Values::First => map.serialize_entry(k, vs.first().map_or("", AsRef::as_ref))?,
                Values::Last => map.serialize_entry(k, vs.last().map_or("", AsRef::as_ref))?,
                Values::Joined if vs.len() == 1 => map.serialize_entry(k, vs[0].as_ref())?,
                Values::Joined => map.serialize_entry(k, &vs.join(","))?,
            }
        }
        map.end()
    }
}

struct PathParams<'p, 'a>(&'p [(&'a str, Cow<'a, str>)]);

impl Serialize for PathParams<'_, '_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(self.0.iter().map(|(k, v)| (k, v.as_ref())))
    }
}

/// A value written with its `Display`, without a String in between.
struct Shown<'a, T: fmt::Display>(&'a T);

impl<T: fmt::Display> Serialize for Shown<'_, T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self.0)
    }
}

/// The pieces both formats read, worked out once.
struct Common<'a> {
    domain: &'a str,
    query: QueryParams<'a>,
    path_params: Vec<(&'a str, Cow<'a, str>)>,
    user_agent: Cow<'a, str>,
    body: Option<EventBody<'a>>,
    source_ip: String,
}

impl<'a> Common<'a> {
    fn new(req: &EventRequest<'a>) -> Self {
        Common {
            domain: crate::config::strip_port(req.host.unwrap_or("")),
            query: query_params(req.uri),
            path_params: path_params(&req.route),
            user_agent: req.headers.get(USER_AGENT).map(lossy).unwrap_or_default(),
            body: EventBody::new(req.headers, req.body),
            source_ip: req.source_ip.to_canonical().to_string(),
        }
    }

    fn query(&self, values: Values) -> Option<QueryEntries<'_, 'a>> {
        (!self.query.is_empty()).then_some(QueryEntries {
            params: &self.query,
            values,
        })
    }

    fn path_parameters(&self) -> Option<PathParams<'_, 'a>> {
        (!self.path_params.is_empty()).then_some(PathParams(&self.path_params))
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct V2<'a> {
    version: &'static str,
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    kind: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    route_arn: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    identity_source: Option<&'a [String]>,
    route_key: Shown<'a, RouteKey>,
    raw_path: &'a str,
    raw_query_string: &'a str,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    cookies: Vec<&'a str>,
    headers: HeaderEntries<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    query_string_parameters: Option<QueryEntries<'a, 'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    path_parameters: Option<PathParams<'a, 'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    stage_variables: Option<&'a BTreeMap<String, String>>,
    request_context: V2Context<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    body: Option<EventBody<'a>>,
    /// Left out of an authorizer's event, which carries no body.
    #[serde(skip_serializing_if = "Option::is_none")]
    is_base64_encoded: Option<bool>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct V2Context<'a> {
    /// A self-hosted gateway belongs to no AWS account (as `$context.accountId`).
    account_id: &'static str,
    api_id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    authentication: Option<Authentication<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    authorizer: Option<AuthorizerContext<'a>>,
    domain_name: &'a str,
    domain_prefix: &'a str,
    http: V2Http<'a>,
    request_id: &'a str,
    route_key: Shown<'a, RouteKey>,
    stage: &'a str,
    time: String,
    time_epoch: u64,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct V2Http<'a> {
    method: &'a str,
    path: &'a str,
    protocol: &'static str,
    source_ip: &'a str,
    user_agent: &'a str,
}

/// The 2.0 event: the request and what was worked out of it, which the serialized
/// struct borrows.
struct V2Event<'a> {
    common: Common<'a>,
    req: &'a EventRequest<'a>,
}

impl Serialize for V2Event<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let (req, c) = (self.req, &self.common);
        let cookies = req
            .headers
            .get_all(COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(';'))
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .collect();
        let authorizing = req.for_authorizer;
        let event = V2 {
            version: "2.0",
            kind: authorizing.map(|_| "REQUEST"),
            route_arn: authorizing.map(|a| a.route_arn),
            identity_source: authorizing.map(|a| a.identity),
            route_key: Shown(&req.route.route.key),
            raw_path: req.uri.path(),
            raw_query_string: req.uri.query().unwrap_or(""),
            cookies,
            headers: HeaderEntries {
                host: req.host,
                headers: req.headers,
                skip_cookie: true,
                values: Values::Joined,
            },
            query_string_parameters: c.query(Values::Joined),
            path_parameters: c.path_parameters(),
            stage_variables: req.stage_variables,
            request_context: V2Context {
                account_id: "",
                api_id: req.api_id,
                authentication: req.client_cert.map(|c| Authentication {
                    client_cert: ClientCertEvent::new(c),
                }),
                authorizer: req.authorized.map(|authorized| AuthorizerContext {
                    authorized,
                    format: PayloadFormat::V2,
                }),
                domain_name: c.domain,
                domain_prefix: domain_prefix(c.domain),
                http: V2Http {
                    method: req.method.as_str(),
                    path: req.uri.path(),
                    protocol: protocol(req.version),
                    source_ip: &c.source_ip,
                    user_agent: &c.user_agent,
                },
                request_id: req.request_id,
                route_key: Shown(&req.route.route.key),
                stage: req.stage,
                time: time_clf(req.received),
                time_epoch: request_time::epoch_millis(req.received),
            },
            body: c.body,
            is_base64_encoded: authorizing.is_none().then(|| EventBody::base64(c.body)),
        };
        event.serialize(s)
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct V1<'a> {
    version: &'static str,
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    kind: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    method_arn: Option<&'a str>,
    /// 1.0 joins the identity sources' values with commas.
    #[serde(skip_serializing_if = "Option::is_none")]
    identity_source: Option<String>,
    resource: Resource<'a>,
    path: &'a str,
    http_method: &'a str,
    headers: HeaderEntries<'a>,
    multi_value_headers: HeaderEntries<'a>,
    query_string_parameters: Option<QueryEntries<'a, 'a>>,
    multi_value_query_string_parameters: Option<QueryEntries<'a, 'a>>,
    request_context: V1Context<'a>,
    path_parameters: Option<PathParams<'a, 'a>>,
    stage_variables: Option<&'a BTreeMap<String, String>>,
    body: Option<EventBody<'a>>,
    is_base64_encoded: bool,
}

/// The route's path (`/notes/{id}`), or the request's own path for `$default`, as in
/// AWS's 1.0 sample.
#[derive(Clone, Copy)]
struct Resource<'a> {
    key: &'a RouteKey,
    path: &'a str,
}

impl Serialize for Resource<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.key {
            RouteKey::Route { path, .. } => s.collect_str(path),
            RouteKey::Default => s.serialize_str(self.path),
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct V1Context<'a> {
    account_id: &'static str,
    api_id: &'a str,
    authorizer: V1Authorizer<'a>,
    domain_name: &'a str,
    domain_prefix: &'a str,
    extended_request_id: &'a str,
    http_method: &'a str,
    identity: V1Identity<'a>,
    path: &'a str,
    protocol: &'static str,
    request_id: &'a str,
    request_time: String,
    request_time_epoch: u64,
    resource_id: Option<&'a str>,
    resource_path: Resource<'a>,
    stage: &'a str,
}

/// What the route's authorizer found, or AWS's sample shape when none ran.
#[derive(Serialize)]
#[serde(untagged)]
enum V1Authorizer<'a> {
    None {
        claims: Option<()>,
        scopes: Option<()>,
    },
    Some(AuthorizerContext<'a>),
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct V1Identity<'a> {
    access_key: Option<&'a str>,
    account_id: Option<&'a str>,
    caller: Option<&'a str>,
    /// Only with mutual TLS, as in AWS's samples.
    #[serde(skip_serializing_if = "Option::is_none")]
    client_cert: Option<ClientCertEvent<'a>>,
    cognito_authentication_provider: Option<&'a str>,
    cognito_authentication_type: Option<&'a str>,
    cognito_identity_id: Option<&'a str>,
    cognito_identity_pool_id: Option<&'a str>,
    principal_org_id: Option<&'a str>,
    source_ip: &'a str,
    user: Option<&'a str>,
    user_agent: &'a str,
    user_arn: Option<&'a str>,
}

/// The 1.0 event, as [`V2Event`].
struct V1Event<'a> {
    common: Common<'a>,
    req: &'a EventRequest<'a>,
}

impl Serialize for V1Event<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let (req, c) = (self.req, &self.common);
        let resource = Resource {
            key: &req.route.route.key,
            path: req.uri.path(),
        };
        let headers = |values| HeaderEntries {
            host: req.host,
            headers: req.headers,
            skip_cookie: false,
            values,
        };
        let authorizing = req.for_authorizer;
        let iam = match req.authorized {
            Some(Authorized::Iam { access_key, user }) => {
                Some((access_key.as_str(), user.as_str()))
            }
            _ => None,
        };
        let event = V1 {
            version: "1.0",
            kind: authorizing.map(|_| "REQUEST"),
            method_arn: authorizing.map(|a| a.route_arn),
            identity_source: authorizing.map(|a| a.identity.join(",")),
            resource,
            path: req.uri.path(),
            http_method: req.method.as_str(),
            headers: headers(Values::Last),
            multi_value_headers: headers(Values::All),
            query_string_parameters: c.query(Values::First),
            multi_value_query_string_parameters: c.query(Values::All),
            request_context: V1Context {
                account_id: "",
                api_id: req.api_id,
                authorizer: match req.authorized {
                    Some(authorized) => V1Authorizer::Some(AuthorizerContext {
                        authorized,
                        format: PayloadFormat::V1,
                    }),
                    None => V1Authorizer::None {
                        claims: None,
                        scopes: None,
                    },
                },
                domain_name: c.domain,
                domain_prefix: domain_prefix(c.domain),
                extended_request_id: req.request_id,
                http_method: req.method.as_str(),
                identity: V1Identity {
                    access_key: iam.map(|(key, _)| key),
                    account_id: None,
                    caller: None,
                    client_cert: req.client_cert.map(ClientCertEvent::new),
                    cognito_authentication_provider: None,
                    cognito_authentication_type: None,
                    cognito_identity_id: None,
                    cognito_identity_pool_id: None,
                    principal_org_id: None,
                    source_ip: &c.source_ip,
                    user: iam.map(|(_, user)| user),
                    user_agent: &c.user_agent,
                    user_arn: None,
                },
                path: req.uri.path(),
                protocol: protocol(req.version),
                request_id: req.request_id,
                request_time: time_clf(req.received),
                request_time_epoch: request_time::epoch_millis(req.received),
                resource_id: None,
                resource_path: resource,
                stage: req.stage,
            },
            path_parameters: c.path_parameters(),
            stage_variables: req.stage_variables,
            body: c.body,
            is_base64_encoded: EventBody::base64(c.body),
        };
        event.serialize(s)
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, UNIX_EPOCH};

    use base64::Engine;
    use serde_json::{Value, json};

    use super::*;
    use crate::config::route_table::{self, RouteEntry, RouteTable};

    fn table(keys: &[&str]) -> RouteTable {
        route_table::build(keys.iter().enumerate().map(|(i, k)| RouteEntry {
            route_id: format!("r{i}"),
            key: RouteKey::parse(k).expect("route key"),
            integration: Some(0),
            auth: Default::default(),
            index: 0,
        }))
        .expect("table")
    }

    struct Case {
        method: Method,
        uri: Uri,
        version: Version,
        headers: HeaderMap,
        body: Vec<u8>,
        vars: Option<BTreeMap<String, String>>,
    }

    fn case(method: &str, uri: &str, headers: &[(&str, &str)], body: &[u8]) -> Case {
        let mut map = HeaderMap::new();
        for (k, v) in headers {
            map.append(
                http::HeaderName::from_bytes(k.as_bytes()).expect("name"),
                http::HeaderValue::from_str(v).expect("value"),
            );
        }
        Case {
            method: method.parse().expect("method"),
            uri: uri.parse().expect("uri"),
            version: Version::HTTP_11,
            headers: map,
            body: body.to_vec(),
            vars: None,
        }
    }

    /// 2020-03-12T19:03:58.390Z, the time of AWS's sample event.
    fn sample_time() -> SystemTime {
        UNIX_EPOCH + Duration::from_millis(1_584_039_838_390)
    }

    fn event(format: PayloadFormat, routes: &RouteTable, stage: &str, c: &Case) -> Value {
        event_with_cert(format, routes, stage, c, None)
    }

    fn event_with_cert(
        format: PayloadFormat,
        routes: &RouteTable,
        stage: &str,
        c: &Case,
        client_cert: Option<&ClientCert>,
    ) -> Value {
        let path = c.uri.path();
        let route_path = match stage {
            "$default" => path,
            s => path.strip_prefix(&format!("/{s}")[..]).unwrap_or(path),
        };
        let route = routes.lookup(&c.method, route_path).expect("route");
        let req = EventRequest {
            method: &c.method,
            uri: &c.uri,
            version: c.version,
            headers: &c.headers,
            host: Some("id.execute-api.us-east-1.amazonaws.com"),
            source_ip: "192.0.2.1".parse().expect("ip"),
            request_id: "JKJaXmPLvHcESHA=",
            api_id: "id",
            stage,
            route,
            stage_variables: c.vars.as_ref(),
            body: &c.body,
            received: sample_time(),
            authorized: None,
            for_authorizer: None,
            client_cert,
        };
        serde_json::from_slice(&build(format, &req)).expect("the event is JSON")
    }

    /// With mutual TLS, 2.0 carries `requestContext.authentication.clientCert` and 1.0
    /// `requestContext.identity.clientCert`, in the shape of AWS's samples
    /// (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-mutual-tls.html).
    #[test]
    fn mutual_tls_puts_the_client_certificate_in_both_formats() {
        let routes = table(&["$default"]);
        let c = case("GET", "/my/path", &[], b"");
        let cert = ClientCert {
            pem: "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n".into(),
            subject_dn: "CN=partner-1,O=Partners".into(),
            issuer_dn: "CN=Partners CA".into(),
            serial_number: "0a:bc:01".into(),
            not_before: "May 28 12:30:02 2019 GMT".into(),
            not_after: "Aug  5 09:36:04 2031 GMT".into(),
        };
        let expected = json!({
            "clientCertPem": cert.pem,
            "subjectDN": "CN=partner-1,O=Partners",
            "issuerDN": "CN=Partners CA",
            "serialNumber": "0a:bc:01",
            "validity": {
                "notBefore": "May 28 12:30:02 2019 GMT",
                "notAfter": "Aug  5 09:36:04 2031 GMT"
            }
        });
        let v2 = event_with_cert(PayloadFormat::V2, &routes, "$default", &c, Some(&cert));
        assert_eq!(
            v2["requestContext"]["authentication"]["clientCert"],
            expected
        );
        let v1 = event_with_cert(PayloadFormat::V1, &routes, "$default", &c, Some(&cert));
        assert_eq!(v1["requestContext"]["identity"]["clientCert"], expected);
        // Without mutual TLS neither block is there, as in AWS's samples.
        let plain = event(PayloadFormat::V2, &routes, "$default", &c);
        assert!(plain["requestContext"].get("authentication").is_none());
    }

    /// AWS's sample 2.0 event, field by field (the page this module's doc names; the
    /// `authentication` and `authorizer` blocks come with mutual TLS and authorizers).
    #[test]
    fn v2_matches_the_aws_sample() {
        let routes = table(&["$default"]);
        let mut c = case(
            "POST",
            "/my/path?parameter1=value1&parameter1=value2&parameter2=value",
            &[
                ("header1", "value1"),
                ("header2", "value1"),
                ("header2", "value2"),
                ("cookie", "cookie1; cookie2"),
                ("user-agent", "agent"),
                ("content-type", "text/plain"),
            ],
            b"Hello from Lambda",
        );
        c.vars = Some(BTreeMap::from([
            ("stageVariable1".to_string(), "value1".to_string()),
            ("stageVariable2".to_string(), "value2".to_string()),
        ]));
        let got = event(PayloadFormat::V2, &routes, "$default", &c);
        let expected = json!({
            "version": "2.0",
            "routeKey": "$default",
            "rawPath": "/my/path",
            "rawQueryString": "parameter1=value1&parameter1=value2&parameter2=value",
            "cookies": ["cookie1", "cookie2"],
            "headers": {
                "host": "id.execute-api.us-east-1.amazonaws.com",
                "header1": "value1",
                "header2": "value1,value2",
                "user-agent": "agent",
                "content-type": "text/plain"
            },
            "queryStringParameters": {"parameter1": "value1,value2", "parameter2": "value"},
            "requestContext": {
                "accountId": "",
                "apiId": "id",
                "domainName": "id.execute-api.us-east-1.amazonaws.com",
                "domainPrefix": "id",
                "http": {
                    "method": "POST",
                    "path": "/my/path",
                    "protocol": "HTTP/1.1",
                    "sourceIp": "192.0.2.1",
                    "userAgent": "agent"
                },
                "requestId": "JKJaXmPLvHcESHA=",
                "routeKey": "$default",
                "stage": "$default",
                "time": "12/Mar/2020:19:03:58 +0000",
                "timeEpoch": 1_584_039_838_390u64
            },
            "body": "Hello from Lambda",
            "isBase64Encoded": false,
            "stageVariables": {"stageVariable1": "value1", "stageVariable2": "value2"}
        });
        assert_eq!(got, expected);
    }

    /// AWS's sample 1.0 event, field by field.
    #[test]
    fn v1_matches_the_aws_sample() {
        let routes = table(&["GET /my/path"]);
        let c = case(
            "GET",
            "/my/path?parameter1=value1&parameter1=value2&parameter2=value",
            &[
                ("header1", "value1"),
                ("header2", "value1"),
                ("header2", "value2"),
                ("user-agent", "user-agent"),
                ("content-type", "text/plain"),
            ],
            b"Hello from Lambda!",
        );
        let got = event(PayloadFormat::V1, &routes, "$default", &c);
        let expected = json!({
            "version": "1.0",
            "resource": "/my/path",
            "path": "/my/path",
            "httpMethod": "GET",
            "headers": {
                "host": "id.execute-api.us-east-1.amazonaws.com",
                "header1": "value1",
                "header2": "value2",
                "user-agent": "user-agent",
                "content-type": "text/plain"
            },
            "multiValueHeaders": {
                "host": ["id.execute-api.us-east-1.amazonaws.com"],
                "header1": ["value1"],
                "header2": ["value1", "value2"],
                "user-agent": ["user-agent"],
                "content-type": ["text/plain"]
            },
            // The first of a repeated parameter, the last of a repeated header: both as
            // in AWS's sample.
            "queryStringParameters": {"parameter1": "value1", "parameter2": "value"},
            "multiValueQueryStringParameters": {
                "parameter1": ["value1", "value2"],
                "parameter2": ["value"]
            },
            "requestContext": {
                "accountId": "",
                "apiId": "id",
                "authorizer": {"claims": null, "scopes": null},
                "domainName": "id.execute-api.us-east-1.amazonaws.com",
                "domainPrefix": "id",
                "extendedRequestId": "JKJaXmPLvHcESHA=",
                "httpMethod": "GET",
                "identity": {
                    "accessKey": null,
                    "accountId": null,
                    "caller": null,
                    "cognitoAuthenticationProvider": null,
                    "cognitoAuthenticationType": null,
                    "cognitoIdentityId": null,
                    "cognitoIdentityPoolId": null,
                    "principalOrgId": null,
                    "sourceIp": "192.0.2.1",
                    "user": null,
                    "userAgent": "user-agent",
                    "userArn": null
                },
                "path": "/my/path",
                "protocol": "HTTP/1.1",
                "requestId": "JKJaXmPLvHcESHA=",
                "requestTime": "12/Mar/2020:19:03:58 +0000",
                "requestTimeEpoch": 1_584_039_838_390u64,
                "resourceId": null,
                "resourcePath": "/my/path",
                "stage": "$default"
            },
            "pathParameters": null,
            "stageVariables": null,
            "body": "Hello from Lambda!",
            "isBase64Encoded": false
        });
        assert_eq!(got, expected);
    }

    /// Path parameters (greedy ones too) decoded, the stage in the raw path, an empty
    /// request with nothing in the optional fields, and what 1.0 writes as null.
    #[test]
    fn path_parameters_stages_and_empty_requests() {
        let routes = table(&["GET /notes/{id}", "ANY /files/{proxy+}"]);
        let c = case("GET", "/dev/notes/a%20b", &[], b"");
        let v2 = event(PayloadFormat::V2, &routes, "dev", &c);
        assert_eq!(v2["rawPath"], "/dev/notes/a%20b");
        assert_eq!(v2["routeKey"], "GET /notes/{id}");
        assert_eq!(v2["pathParameters"], json!({"id": "a b"}));
        assert_eq!(v2["requestContext"]["stage"], "dev");
        for absent in ["cookies", "queryStringParameters", "stageVariables", "body"] {
            assert!(v2.get(absent).is_none(), "{absent} in {v2}");
        }
        assert_eq!(v2["rawQueryString"], "");
        assert_eq!(v2["isBase64Encoded"], false);

        let v1 = event(PayloadFormat::V1, &routes, "dev", &c);
        assert_eq!(v1["resource"], "/notes/{id}");
        assert_eq!(v1["requestContext"]["resourcePath"], "/notes/{id}");
        for null in [
            "queryStringParameters",
            "multiValueQueryStringParameters",
            "stageVariables",
            "body",
        ] {
            assert!(v1[null].is_null(), "{null} in {v1}");
        }

        let greedy = case("PUT", "/files/a/b/c.txt", &[], b"");
        let v2 = event(PayloadFormat::V2, &routes, "$default", &greedy);
        assert_eq!(v2["pathParameters"], json!({"proxy": "a/b/c.txt"}));
        assert_eq!(v2["routeKey"], "ANY /files/{proxy+}");
    }

    /// Text bodies go as text, anything else (or text that is not UTF-8) as base64.
    #[test]
    fn binary_bodies_are_base64() {
        let routes = table(&["$default"]);
        for (content_type, body, base64) in [
            ("application/json; charset=utf-8", &b"{\"a\":1}"[..], false),
            ("text/html", b"<p>", false),
            ("application/problem+json", b"{}", false),
            ("application/xml", b"<a/>", false),
            ("image/png", b"\x89PNG\r\n", true),
            ("application/octet-stream", b"abc", true),
            ("application/x-www-form-urlencoded", b"a=1", true),
            ("text/plain", b"\xff\xfe", true),
            ("TEXT/Plain; charset=utf-8", b"mixed case", false),
            ("Application/Vnd.Api+JSON", b"{}", false),
        ] {
            let c = case("POST", "/", &[("content-type", content_type)], body);
            let v2 = event(PayloadFormat::V2, &routes, "$default", &c);
            assert_eq!(v2["isBase64Encoded"], base64, "{content_type}");
            let sent = v2["body"].as_str().expect("body");
            let decoded = if base64 {
                STANDARD.decode(sent).expect("base64")
            } else {
                sent.as_bytes().to_vec()
            };
            assert_eq!(decoded, body, "{content_type}");
        }
    }

    #[test]
    fn http2_and_repeated_cookie_headers() {
        let routes = table(&["$default"]);
        let mut c = case(
            "GET",
            "/?q=a+b&q=%2F",
            &[("cookie", "a=1"), ("cookie", "b=2; c=3")],
            b"",
        );
        c.version = Version::HTTP_2;
        let v2 = event(PayloadFormat::V2, &routes, "$default", &c);
        assert_eq!(v2["cookies"], json!(["a=1", "b=2", "c=3"]));
        assert!(v2["headers"].get("cookie").is_none());
        assert_eq!(v2["queryStringParameters"]["q"], "a b,/");
        assert_eq!(v2["requestContext"]["http"]["protocol"], "HTTP/2.0");
        let v1 = event(PayloadFormat::V1, &routes, "$default", &c);
        assert_eq!(
            v1["multiValueHeaders"]["cookie"],
            json!(["a=1", "b=2; c=3"])
        );
        // 1.0's `resource` for `$default` is the request's own path, as in AWS's sample.
        assert_eq!(v1["resource"], "/");
    }
}
