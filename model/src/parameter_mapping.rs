//! Parameter mapping for HTTP API integrations: the `requestParameters` map that changes a
//! request before it reaches the backend, and the `responseParameters` map that changes the
//! backend's response before it reaches the client. The rules follow AWS's "Transform API
//! requests and responses for HTTP APIs in API Gateway" (http-api-parameter-mapping.html).
//!
//! The control plane parses both maps on every write so that a mapping the proxy could not
//! apply is refused up front; the proxy keeps the parsed form and, per request, only
//! renders values into buffers it already owns.
//!
//! Order: AWS documents no order in which the mappings of one integration apply, so the
//! parsers keep the map's key order (for requests: every `append:`, then every
//! `overwrite:`, then every `remove:`). AWS's own "rename a request header" example
//! (`append:header.header2` from `$request.header.header1` plus `remove:header.header1`)
//! only works if every value is rendered from the request as the client sent it, so the
//! caller should read sources from the original request, not from one it is rewriting.

use std::collections::BTreeMap;
use std::fmt;

use crate::ValidationError;

const REQUEST_FIELD: &str = "requestParameters";
const RESPONSE_FIELD: &str = "responseParameters";

/// What a mapping does to its target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MappingAction {
    Append,
    Overwrite,
    Remove,
}

impl MappingAction {
    pub fn as_str(self) -> &'static str {
        match self {
            MappingAction::Append => "append",
            MappingAction::Overwrite => "overwrite",
            MappingAction::Remove => "remove",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        match s {
            "append" => Some(MappingAction::Append),
            "overwrite" => Some(MappingAction::Overwrite),
            "remove" => Some(MappingAction::Remove),
            _ => None,
        }
    }
}

/// The part of the backend request a request mapping changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RequestTarget {
    /// ASCII-lowercased, because header names compare case-insensitively.
    Header(String),
    /// As given: AWS treats query string names as case-sensitive. The proxy
    /// percent-encodes it when it writes the query string.
    QueryString(String),
    /// The whole request path (`overwrite:path`).
    Path,
}

/// The part of the client response a response mapping changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResponseTarget {
    /// ASCII-lowercased, because header names compare case-insensitively.
    Header(String),
    StatusCode,
}

/// The `$context` variables Portico can fill in a mapping, beside the authorizer's
/// (`ValuePart::Authorizer`). AWS offers more (integration latency, …); those are
/// refused rather than rendered as empty text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ContextVar {
    RequestId,
    ExtendedRequestId,
    RouteKey,
    Stage,
    ApiId,
    AccountId,
    DomainName,
    DomainPrefix,
    HttpMethod,
    Path,
    Protocol,
    SourceIp,
    UserAgent,
    RequestTime,
    RequestTimeEpoch,
    /// The access key of a request an `AWS_IAM` route let through.
    IdentityAccessKey,
    /// The Portico user that access key belongs to.
    IdentityUser,
    /// The client certificate of a mutual-TLS connection, as AWS names its parts.
    ClientCertPem,
    ClientCertSubjectDn,
    ClientCertIssuerDn,
    ClientCertSerialNumber,
    ClientCertNotBefore,
    ClientCertNotAfter,
}

impl ContextVar {
    pub const ALL: [ContextVar; 23] = [
        ContextVar::RequestId,
        ContextVar::ExtendedRequestId,
        ContextVar::RouteKey,
        ContextVar::Stage,
        ContextVar::ApiId,
        ContextVar::AccountId,
        ContextVar::DomainName,
        ContextVar::DomainPrefix,
        ContextVar::HttpMethod,
        ContextVar::Path,
        ContextVar::Protocol,
        ContextVar::SourceIp,
        ContextVar::UserAgent,
        ContextVar::RequestTime,
        ContextVar::RequestTimeEpoch,
        ContextVar::IdentityAccessKey,
        ContextVar::IdentityUser,
        ContextVar::ClientCertPem,
        ContextVar::ClientCertSubjectDn,
        ContextVar::ClientCertIssuerDn,
        ContextVar::ClientCertSerialNumber,
        ContextVar::ClientCertNotBefore,
        ContextVar::ClientCertNotAfter,
    ];

    /// The name after `$context.`, as AWS spells it.
    pub fn name(&self) -> &'static str {
        match self {
            ContextVar::RequestId => "requestId",
            ContextVar::ExtendedRequestId => "extendedRequestId",
            ContextVar::RouteKey => "routeKey",
            ContextVar::Stage => "stage",
            ContextVar::ApiId => "apiId",
            ContextVar::AccountId => "accountId",
            ContextVar::DomainName => "domainName",
            ContextVar::DomainPrefix => "domainPrefix",
            ContextVar::HttpMethod => "httpMethod",
            ContextVar::Path => "path",
            ContextVar::Protocol => "protocol",
            ContextVar::SourceIp => "identity.sourceIp",
            ContextVar::UserAgent => "identity.userAgent",
            ContextVar::RequestTime => "requestTime",
            ContextVar::RequestTimeEpoch => "requestTimeEpoch",
            ContextVar::IdentityAccessKey => "identity.accessKey",
            ContextVar::IdentityUser => "identity.user",
            ContextVar::ClientCertPem => "identity.clientCert.clientCertPem",
            ContextVar::ClientCertSubjectDn => "identity.clientCert.subjectDN",
            ContextVar::ClientCertIssuerDn => "identity.clientCert.issuerDN",
            ContextVar::ClientCertSerialNumber => "identity.clientCert.serialNumber",
            ContextVar::ClientCertNotBefore => "identity.clientCert.validity.notBefore",
            ContextVar::ClientCertNotAfter => "identity.clientCert.validity.notAfter",
        }
    }

    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.name() == name)
    }
}

/// One piece of a mapping value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ValuePart {
    Static(String),
    /// `$request.header.NAME`, NAME lowercased.
    RequestHeader(String),
    /// `$request.querystring.NAME`, NAME as given (case-sensitive).
    RequestQueryString(String),
    /// `$request.path.NAME`: a path parameter of the route.
    RequestPathParam(String),
    /// `$request.path`: the request path without the stage name.
    RequestPath,
    /// `$response.header.NAME`, NAME lowercased.
    ResponseHeader(String),
    Context(ContextVar),
    /// `$context.authorizer.claims.NAME` (`claim`: a JWT's claim) or
    /// `$context.authorizer.NAME` (a Lambda authorizer's context value, `principalId`).
    Authorizer {
        claim: bool,
        name: String,
    },
    StageVariable(String),
}

/// A parsed mapping value: static text and references, in order. Adjacent static text is
/// merged, so a static value has at most one part.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MappingValue {
    pub parts: Vec<ValuePart>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestParameter {
    pub action: MappingAction,
    pub target: RequestTarget,
    /// Empty for `remove:` mappings, whose value AWS's examples set to `''` and Portico
    /// ignores.
    pub value: MappingValue,
    /// The key as the user wrote it, for messages and for writing the map back.
    pub key: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResponseParameter {
    pub action: MappingAction,
    pub target: ResponseTarget,
    /// Empty for `remove:` mappings.
    pub value: MappingValue,
    pub key: String,
}

/// The mappings that apply when the integration answers with `status`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResponseMapping {
    pub status: u16,
    pub parameters: Vec<ResponseParameter>,
}

/// Where the proxy finds the data a mapping value refers to.
pub trait MappingSource {
    fn request_header(&self, lowercase_name: &str) -> Option<&str>;
    fn request_querystring(&self, name: &str) -> Option<&str>;
    fn path_param(&self, name: &str) -> Option<&str>;
    fn request_path(&self) -> &str;
    fn response_header(&self, lowercase_name: &str) -> Option<&str>;
    /// Appends the variable's value to `out`; context variables always have a value.
    fn context(&self, var: ContextVar, out: &mut String);
    fn stage_variable(&self, name: &str) -> Option<&str>;
    /// Appends what the route's authorizer said of `name`; `false` when it said nothing.
    fn authorizer(&self, _claim: bool, _name: &str, _out: &mut String) -> bool {
        false
    }
}

impl MappingValue {
    /// Appends the rendered value to `out`. A reference whose source is missing renders as
    /// empty text; the result is `false` when that happened, so the caller can choose to
    /// skip the mapping instead. AWS's page does not say what it does with a missing
    /// source, so the choice is left to the caller rather than guessed here.
    pub fn render(&self, source: &dyn MappingSource, out: &mut String) -> bool {
        let mut complete = true;
        for part in &self.parts {
            let text = match part {
                ValuePart::Static(s) => Some(s.as_str()),
                ValuePart::RequestHeader(name) => source.request_header(name),
                ValuePart::RequestQueryString(name) => source.request_querystring(name),
                ValuePart::RequestPathParam(name) => source.path_param(name),
                ValuePart::RequestPath => Some(source.request_path()),
                ValuePart::ResponseHeader(name) => source.response_header(name),
                ValuePart::StageVariable(name) => source.stage_variable(name),
                ValuePart::Context(var) => {
                    source.context(*var, out);
                    continue;
                }
                ValuePart::Authorizer { claim, name } => {
                    if !source.authorizer(*claim, name, out) {
                        complete = false;
                    }
                    continue;
                }
            };
            match text {
                Some(text) => out.push_str(text),
                None => complete = false,
            }
        }
        complete
    }

    /// True when the value refers to nothing, so it can be rendered once and reused.
    pub fn is_static(&self) -> bool {
        self.parts.iter().all(|p| matches!(p, ValuePart::Static(_)))
    }

    pub fn as_static(&self) -> Option<&str> {
        match self.parts.as_slice() {
            [] => Some(""),
            [ValuePart::Static(s)] => Some(s),
            _ => None,
        }
    }
}

/// Reads a status code that `overwrite:statuscode` produced. Only 200..=599 is accepted:
/// that is the range AWS documents for the status codes of this feature (the
/// `responseParameters` keys), and a 1xx code cannot be a final response. At request
/// time `None` means the status is left as the integration sent it.
pub fn parse_status_override(text: &str) -> Option<u16> {
    parse_three_digit_status(text)
}

fn parse_three_digit_status(text: &str) -> Option<u16> {
    if text.len() != 3 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let code: u16 = text.parse().ok()?;
    (200..=599).contains(&code).then_some(code)
}

/// Parses and validates an integration's `requestParameters`.
pub fn parse_request_parameters(
    map: &BTreeMap<String, String>,
) -> Result<Vec<RequestParameter>, ValidationError> {
    let err = |message: String| ValidationError::new(REQUEST_FIELD, message);
    let mut out: Vec<RequestParameter> = Vec::with_capacity(map.len());
    for (key, raw) in map {
        let loc = Location { key, status: None };
        let (action, target) = parse_request_key(key).map_err(|why| err(bad_key(loc, &why)))?;
        if let Some(prev) = out
            .iter()
            .find(|p| p.action == action && p.target == target)
        {
            return Err(err(duplicate(&prev.key, key)));
        }
        let value = if action == MappingAction::Remove {
            MappingValue { parts: Vec::new() }
        } else {
            let value = parse_value(raw, Side::Request).map_err(|e| err(e.message(loc, raw)))?;
            let rule = match target {
                RequestTarget::Header(_) => StaticRule::HeaderValue,
                RequestTarget::QueryString(_) => StaticRule::QueryString,
                RequestTarget::Path => StaticRule::Path,
            };
            check_static(&value, rule).map_err(|why| err(bad_value(loc, raw, &why)))?;
            value
        };
        out.push(RequestParameter {
            action,
            target,
            value,
            key: key.clone(),
        });
    }
    Ok(out)
}

/// Parses and validates an integration's `responseParameters`, in status code order.
pub fn parse_response_parameters(
    map: &BTreeMap<String, BTreeMap<String, String>>,
) -> Result<Vec<ResponseMapping>, ValidationError> {
    let err = |message: String| ValidationError::new(RESPONSE_FIELD, message);
    let mut out = Vec::with_capacity(map.len());
    for (status_key, params) in map {
        let Some(status) = parse_three_digit_status(status_key) else {
            return Err(err(format!(
                "Invalid status code specified: '{status_key}': responseParameters are keyed by the integration's status code, from 200 to 599"
            )));
        };
        let mut parameters: Vec<ResponseParameter> = Vec::with_capacity(params.len());
        for (key, raw) in params {
            let loc = Location {
                key,
                status: Some(status_key),
            };
            let (action, target) =
                parse_response_key(key).map_err(|why| err(bad_key(loc, &why)))?;
            if let Some(prev) = parameters
                .iter()
                .find(|p| p.action == action && p.target == target)
            {
                return Err(err(duplicate(&prev.key, key)));
            }
            let value = if action == MappingAction::Remove {
                MappingValue { parts: Vec::new() }
            } else {
                let value =
                    parse_value(raw, Side::Response).map_err(|e| err(e.message(loc, raw)))?;
                let rule = match target {
                    ResponseTarget::Header(_) => StaticRule::HeaderValue,
                    ResponseTarget::StatusCode => StaticRule::StatusCode,
                };
                check_static(&value, rule).map_err(|why| err(bad_value(loc, raw, &why)))?;
                value
            };
            parameters.push(ResponseParameter {
                action,
                target,
                value,
                key: key.clone(),
            });
        }
        out.push(ResponseMapping { status, parameters });
    }
    Ok(out)
}

// ---- keys ----

const REQUEST_KEY_FORMS: &str = "expected append:, overwrite: or remove: followed by header.NAME or querystring.NAME, or overwrite:path";
const RESPONSE_KEY_FORMS: &str =
    "expected append:, overwrite: or remove: followed by header.NAME, or overwrite:statuscode";

fn split_key<'k>(key: &'k str, forms: &str) -> Result<(MappingAction, &'k str), String> {
    let Some((action, target)) = key.split_once(':') else {
        return Err(forms.to_string());
    };
    match MappingAction::parse(action) {
        Some(action) => Ok((action, target)),
        None => Err(format!("unknown action '{action}'; {forms}")),
    }
}

/// `header.NAME` → `Some(Ok(NAME))`; `header` alone → the empty-name error; anything
/// else → `None`.
fn named<'t>(target: &'t str, kind: &str) -> Option<Result<&'t str, String>> {
    let rest = target.strip_prefix(kind)?;
    if rest.is_empty() {
        return Some(Err(format!("the {kind} name is empty")));
    }
    let name = rest.strip_prefix('.')?;
    if name.is_empty() {
        return Some(Err(format!("the {kind} name is empty")));
    }
    Some(Ok(name))
}

fn parse_request_key(key: &str) -> Result<(MappingAction, RequestTarget), String> {
    let (action, target) = split_key(key, REQUEST_KEY_FORMS)?;
    if target == "path" {
        return if action == MappingAction::Overwrite {
            Ok((action, RequestTarget::Path))
        } else {
            Err("the path can only be overwritten: use 'overwrite:path'".into())
        };
    }
    if target == "statuscode" {
        return Err("the status code can only be mapped in responseParameters".into());
    }
    if let Some(name) = named(target, "header") {
        return Ok((action, RequestTarget::Header(target_header_name(name?)?)));
    }
    if let Some(name) = named(target, "querystring") {
        let name = name?;
        if let Some(c) = name.chars().find(|c| c.is_control()) {
            return Err(format!(
                "the query string name contains the control character {c:?}"
            ));
        }
        return Ok((action, RequestTarget::QueryString(name.to_string())));
    }
    Err(format!("unknown target '{target}'; {REQUEST_KEY_FORMS}"))
}

fn parse_response_key(key: &str) -> Result<(MappingAction, ResponseTarget), String> {
    let (action, target) = split_key(key, RESPONSE_KEY_FORMS)?;
    if target == "statuscode" {
        return if action == MappingAction::Overwrite {
            Ok((action, ResponseTarget::StatusCode))
        } else {
            Err("the status code can only be overwritten: use 'overwrite:statuscode'".into())
        };
    }
    if target == "path" || named(target, "querystring").is_some() {
        return Err(
            "a response has no path or query string; map header.NAME or overwrite:statuscode"
                .into(),
        );
    }
    if let Some(name) = named(target, "header") {
        return Ok((action, ResponseTarget::Header(target_header_name(name?)?)));
    }
    Err(format!("unknown target '{target}'; {RESPONSE_KEY_FORMS}"))
}

fn target_header_name(name: &str) -> Result<String, String> {
    if !name.bytes().all(is_tchar) {
        return Err(format!(
            "'{name}' is not a valid HTTP header name (letters, digits and !#$%&'*+-.^_`|~)"
        ));
    }
    let lower = name.to_ascii_lowercase();
    if is_reserved_header(&lower) {
        return Err(format!("header '{name}' is reserved and can't be mapped"));
    }
    Ok(lower)
}

/// AWS's "Reserved headers" list (http-api-parameter-mapping.html), for requests and
/// responses alike. `Host` is not on it.
fn is_reserved_header(lower: &str) -> bool {
    const EXACT: [&str; 18] = [
        "authorization",
        "connection",
        "content-encoding",
        "content-length",
        "content-location",
        "forwarded",
        "keep-alive",
        "origin",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailers",
        "transfer-encoding",
        "upgrade",
        "x-forwarded-for",
        "x-forwarded-host",
        "x-forwarded-proto",
        "via",
    ];
    const PREFIXES: [&str; 4] = ["access-control-", "apigw-", "x-amz-", "x-amzn-"];
    EXACT.contains(&lower) || PREFIXES.iter().any(|p| lower.starts_with(p))
}

/// RFC 9110 `tchar`: what a header field name is made of.
fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

// ---- values ----

#[derive(Clone, Copy, PartialEq, Eq)]
enum Side {
    Request,
    Response,
}

impl Side {
    fn sources(self) -> &'static str {
        match self {
            Side::Request => {
                "$request.header.NAME, $request.querystring.NAME, $request.path, $request.path.NAME, $context.NAME, $stageVariables.NAME"
            }
            Side::Response => "$response.header.NAME, $context.NAME, $stageVariables.NAME",
        }
    }
}

/// A value that failed to parse: the reference at fault (empty when it is the whole
/// value) and why.
struct ValueError {
    expr: String,
    why: String,
}

impl ValueError {
    fn message(&self, loc: Location<'_>, raw: &str) -> String {
        let shown = if self.expr.is_empty() {
            raw
        } else {
            &self.expr
        };
        bad_value(loc, shown, &self.why)
    }
}

/// Parses static text and `$source.name` / `${source.name}` references. Without braces a
/// reference runs as far as its name's characters go, so `$request.header.a-b` reads
/// header `a-b`; braces, as AWS recommends for several variables in one value, end it
/// exactly. A `$` not followed by a letter or `{` is static text, so `$5` stays literal.
fn parse_value(raw: &str, side: Side) -> Result<MappingValue, ValueError> {
    if raw.is_empty() {
        // AWS's update-integration deletes a mapping whose value is empty; storing one
        // would send an empty parameter instead.
        return Err(ValueError {
            expr: String::new(),
            why: "the value is empty; use remove: to drop a parameter".into(),
        });
    }
    let mut parts = Vec::new();
    let mut text = String::new();
    let mut rest = raw;
    while let Some(pos) = rest.find('$') {
        text.push_str(&rest[..pos]);
        let at = &rest[pos..];
        let tail = &at[1..];
        let (part, consumed) = if let Some(inner) = tail.strip_prefix('{') {
            let Some(end) = inner.find('}') else {
                return Err(ValueError {
                    expr: at.to_string(),
                    why: "'${' is not closed by '}'".into(),
                });
            };
            let expr = &inner[..end];
            let shown = &at[..end + 3];
            let fail = |why: String| ValueError {
                expr: shown.to_string(),
                why,
            };
            let (part, used) = parse_reference(expr, side, true).map_err(fail)?;
            if used != expr.len() {
                return Err(fail(format!(
                    "unexpected '{}' after '{}'",
                    &expr[used..],
                    &expr[..used]
                )));
            }
            (part, end + 2)
        } else if tail.starts_with(|c: char| c.is_ascii_alphabetic()) {
            parse_reference(tail, side, false).map_err(|why| ValueError {
                expr: unbraced_extent(at).to_string(),
                why,
            })?
        } else {
            text.push('$');
            rest = tail;
            continue;
        };
        if !text.is_empty() {
            parts.push(ValuePart::Static(std::mem::take(&mut text)));
        }
        parts.push(part);
        rest = &tail[consumed..];
    }
    text.push_str(rest);
    if !text.is_empty() {
        parts.push(ValuePart::Static(text));
    }
    Ok(MappingValue { parts })
}

/// What to quote of a bad unbraced reference: up to the next `$` or space.
fn unbraced_extent(at: &str) -> &str {
    let end = at[1..]
        .find(|c: char| c == '$' || c.is_whitespace())
        .map_or(at.len(), |i| i + 1);
    &at[..end]
}

fn run(s: &str, ok: impl Fn(char) -> bool) -> usize {
    s.find(|c: char| !ok(c)).unwrap_or(s.len())
}

fn is_path_param_char(c: char) -> bool {
    // The characters route keys allow in `{name}`.
    c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.')
}

/// Reads one reference (without its `$` or braces) from the start of `s`; returns it and
/// how many bytes it used. `braced` lets a query string name hold any character but `}`,
/// since the brace marks its end.
fn parse_reference(s: &str, side: Side, braced: bool) -> Result<(ValuePart, usize), String> {
    let root_len = run(s, |c| c.is_ascii_alphanumeric());
    let root = &s[..root_len];
    match (root, side) {
        ("context" | "stageVariables", _)
        | ("request", Side::Request)
        | ("response", Side::Response) => {}
        ("response", Side::Request) => {
            return Err(format!(
                "$response values only exist in responseParameters; use {}",
                side.sources()
            ));
        }
        ("request", Side::Response) => {
            return Err(format!(
                "responseParameters can't read the request; use {}",
                side.sources()
            ));
        }
        _ => {
            return Err(format!(
                "unknown source '${root}'; use {} or static text",
                side.sources()
            ));
        }
    }
    let Some(body) = s[root_len..].strip_prefix('.') else {
        return Err(format!("'${root}' must be followed by '.' and a name"));
    };
    let base = root_len + 1;
    match root {
        "context" => {
            // AWS: "Only the special characters . and _ are supported" in context names.
            let n = run(body, |c| c.is_ascii_alphanumeric() || c == '.' || c == '_');
            // A trailing dot is punctuation after the name, not part of it.
            let name = body[..n].trim_end_matches('.');
            if name.is_empty() {
                return Err("the context variable name is empty".into());
            }
            if let Some(rest) = name.strip_prefix("authorizer.") {
                let (claim, field) = match rest.strip_prefix("claims.") {
                    Some(claim) => (true, claim),
                    None => (false, rest),
                };
                if field.is_empty() || field == "claims" {
                    return Err(format!(
                        "'$context.{name}' needs a name: $context.authorizer.claims.NAME or $context.authorizer.NAME"
                    ));
                }
                let part = ValuePart::Authorizer {
                    claim,
                    name: field.to_string(),
                };
                return Ok((part, base + name.len()));
            }
            let Some(var) = ContextVar::from_name(name) else {
                let supported: Vec<&str> = ContextVar::ALL.iter().map(|v| v.name()).collect();
                return Err(format!(
                    "context variable '$context.{name}' is not supported; use one of: {}",
                    supported.join(", ")
                ));
            };
            Ok((ValuePart::Context(var), base + name.len()))
        }
        "stageVariables" => {
            // The characters stage variable names may use.
            let n = run(body, |c| c.is_ascii_alphanumeric() || c == '_');
            if n == 0 {
                return Err("the stage variable name is empty".into());
            }
            Ok((ValuePart::StageVariable(body[..n].to_string()), base + n))
        }
        _ => {
            let src_len = run(body, |c| c.is_ascii_alphabetic());
            let src = &body[..src_len];
            let after = &body[src_len..];
            let base = base + src_len;
            match (side, src) {
                (_, "body") => Err(format!(
                    "'${root}.body' mappings (JSON paths into the body) are not supported by Portico"
                )),
                (_, "header") => {
                    let name = reference_name(root, src, after, |c| {
                        c.is_ascii() && c != '$' && is_tchar(c as u8)
                    })?;
                    let lower = name.to_ascii_lowercase();
                    let part = match side {
                        Side::Request => ValuePart::RequestHeader(lower),
                        Side::Response => ValuePart::ResponseHeader(lower),
                    };
                    Ok((part, base + 1 + name.len()))
                }
                (Side::Request, "querystring") => {
                    let name = if braced {
                        reference_name(root, src, after, |c| !c.is_control())?
                    } else {
                        reference_name(root, src, after, |c| {
                            c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_' | '~')
                        })?
                    };
                    Ok((
                        ValuePart::RequestQueryString(name.to_string()),
                        base + 1 + name.len(),
                    ))
                }
                (Side::Request, "path") => {
                    if let Some(name) = after.strip_prefix('.')
                        && name.starts_with(is_path_param_char)
                    {
                        let n = run(name, is_path_param_char);
                        Ok((
                            ValuePart::RequestPathParam(name[..n].to_string()),
                            base + 1 + n,
                        ))
                    } else {
                        Ok((ValuePart::RequestPath, base))
                    }
                }
                _ => Err(format!(
                    "unknown source '${root}.{src}'; use {} or static text",
                    side.sources()
                )),
            }
        }
    }
}

/// The `NAME` of `$root.src.NAME`, from `after` (what follows `src`).
fn reference_name<'a>(
    root: &str,
    src: &str,
    after: &'a str,
    ok: impl Fn(char) -> bool,
) -> Result<&'a str, String> {
    let Some(name) = after.strip_prefix('.') else {
        return Err(format!(
            "'${root}.{src}' must be followed by '.' and a name"
        ));
    };
    let n = run(name, ok);
    if n == 0 {
        return Err(format!("the name after '${root}.{src}.' is empty"));
    }
    Ok(&name[..n])
}

#[derive(Clone, Copy)]
enum StaticRule {
    HeaderValue,
    QueryString,
    Path,
    StatusCode,
}

/// Static text is checked once here so the proxy never has to refuse it per request.
fn check_static(value: &MappingValue, rule: StaticRule) -> Result<(), String> {
    if let StaticRule::StatusCode = rule
        && let Some(text) = value.as_static()
        && parse_three_digit_status(text).is_none()
    {
        return Err("a static status code must be a number from 200 to 599".into());
    }
    for part in &value.parts {
        let ValuePart::Static(text) = part else {
            continue;
        };
        let bad = match rule {
            // RFC 9110 field values may hold tabs but no other control character.
            StaticRule::HeaderValue => text.chars().find(|&c| c.is_control() && c != '\t'),
            StaticRule::QueryString | StaticRule::StatusCode => {
                text.chars().find(|c| c.is_control())
            }
            StaticRule::Path => text
                .chars()
                .find(|&c| c.is_control() || c.is_whitespace() || c == '?' || c == '#'),
        };
        if let Some(c) = bad {
            let what = match rule {
                StaticRule::HeaderValue => "a header value",
                StaticRule::QueryString => "a query string value",
                StaticRule::Path => "a path",
                StaticRule::StatusCode => "a status code",
            };
            return Err(format!(
                "the static text has {c:?}, which {what} can't carry"
            ));
        }
    }
    Ok(())
}

// ---- messages ----

#[derive(Clone, Copy)]
struct Location<'a> {
    key: &'a str,
    /// The `responseParameters` status code the key sits under.
    status: Option<&'a str>,
}

impl fmt::Display for Location<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.status {
            None => write!(f, "'{}'", self.key),
            Some(status) => write!(f, "'{}' of status code '{status}'", self.key),
        }
    }
}

fn bad_key(loc: Location<'_>, why: &str) -> String {
    format!("Invalid mapping key specified: {loc}: {why}")
}

fn bad_value(loc: Location<'_>, shown: &str, why: &str) -> String {
    // Debug-quote only when the text holds something unprintable, so the usual message
    // shows the value exactly as written.
    let shown = if shown.chars().any(char::is_control) {
        format!("{shown:?}")
    } else {
        format!("'{shown}'")
    };
    format!("Invalid mapping expression specified: {shown} for key {loc}: {why}")
}

fn duplicate(first: &str, second: &str) -> String {
    format!(
        "Duplicate mapping key specified: '{first}' and '{second}' map the same header (header names are case-insensitive)"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn req(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn resp(pairs: &[(&str, &[(&str, &str)])]) -> BTreeMap<String, BTreeMap<String, String>> {
        pairs
            .iter()
            .map(|(s, inner)| (s.to_string(), req(inner)))
            .collect()
    }

    fn one_request(key: &str, value: &str) -> Result<RequestParameter, ValidationError> {
        parse_request_parameters(&req(&[(key, value)])).map(|mut v| v.remove(0))
    }

    fn request_value(value: &str) -> Result<MappingValue, ValidationError> {
        one_request("overwrite:header.x-test", value).map(|p| p.value)
    }

    fn response_value(key: &str, value: &str) -> Result<MappingValue, ValidationError> {
        parse_response_parameters(&resp(&[("200", &[(key, value)])]))
            .map(|mut v| v.remove(0).parameters.remove(0).value)
    }

    fn assert_err(
        result: Result<impl fmt::Debug, ValidationError>,
        field: &str,
        fragments: &[&str],
    ) {
        let err = result.expect_err("expected an error");
        assert_eq!(err.field, field, "{}", err.message);
        for fragment in fragments {
            assert!(
                err.message.contains(fragment),
                "'{}' lacks '{fragment}'",
                err.message
            );
        }
    }

    use ValuePart::*;

    fn s(text: &str) -> ValuePart {
        Static(text.to_string())
    }

    // Doc: "Transform API requests and responses for HTTP APIs in API Gateway"
    // (http-api-parameter-mapping.html), "Transforming API requests": the keys are
    // append|overwrite|remove:header.headername, append|overwrite|remove:querystring.name
    // and overwrite:path; header names are case-insensitive, query string names are
    // case-sensitive.
    #[test]
    fn parses_valid_request_keys() {
        use MappingAction::*;
        let cases = [
            (
                "append:header.X-Custom",
                Append,
                RequestTarget::Header("x-custom".into()),
            ),
            (
                "overwrite:header.x-custom",
                Overwrite,
                RequestTarget::Header("x-custom".into()),
            ),
            (
                "remove:header.X-Old",
                Remove,
                RequestTarget::Header("x-old".into()),
            ),
            (
                "append:querystring.Page",
                Append,
                RequestTarget::QueryString("Page".into()),
            ),
            (
                "overwrite:querystring.q",
                Overwrite,
                RequestTarget::QueryString("q".into()),
            ),
            (
                "remove:querystring.debug",
                Remove,
                RequestTarget::QueryString("debug".into()),
            ),
            ("overwrite:path", Overwrite, RequestTarget::Path),
            // Not on AWS's reserved list.
            (
                "overwrite:header.Host",
                Overwrite,
                RequestTarget::Header("host".into()),
            ),
            (
                "append:header.x_weird!#$%&'*+.^`|~",
                Append,
                RequestTarget::Header("x_weird!#$%&'*+.^`|~".into()),
            ),
        ];
        for (key, action, target) in cases {
            let p = one_request(key, "v").unwrap_or_else(|e| panic!("{key}: {e}"));
            assert_eq!(
                (p.action, &p.target, p.key.as_str()),
                (action, &target, key)
            );
        }
    }

    // Doc: http-api-parameter-mapping.html, "Transforming API requests" (the key table
    // has only header, querystring and overwrite:path) and "Transforming API responses"
    // (statuscode is a response key).
    #[test]
    fn rejects_invalid_request_keys() {
        let cases = [
            ("", "expected append:, overwrite: or remove:"),
            ("header.x", "expected append:, overwrite: or remove:"),
            ("add:header.x", "unknown action 'add'"),
            ("Append:header.x", "unknown action 'Append'"),
            (":header.x", "unknown action ''"),
            ("append:body.x", "unknown target 'body.x'"),
            ("append:headers.x", "unknown target 'headers.x'"),
            ("append:", "unknown target ''"),
            ("append:header", "the header name is empty"),
            ("append:header.", "the header name is empty"),
            ("overwrite:querystring.", "the querystring name is empty"),
            ("remove:querystring", "the querystring name is empty"),
            (
                "append:path",
                "can only be overwritten: use 'overwrite:path'",
            ),
            (
                "remove:path",
                "can only be overwritten: use 'overwrite:path'",
            ),
            ("overwrite:path.x", "unknown target 'path.x'"),
            (
                "overwrite:statuscode",
                "only be mapped in responseParameters",
            ),
            ("append:header.x y", "'x y' is not a valid HTTP header name"),
            ("append:header.x:y", "'x:y' is not a valid HTTP header name"),
            ("append:header.caf\u{e9}", "is not a valid HTTP header name"),
            ("append:querystring.a\u{7}", "control character"),
        ];
        for (key, fragment) in cases {
            let result = one_request(key, "v");
            let shown = format!("Invalid mapping key specified: '{key}'");
            assert_err(result, "requestParameters", &[&shown, fragment]);
        }
    }

    // Doc: http-api-parameter-mapping.html, "Reserved headers": "You can't configure
    // request or response mappings for these headers."
    #[test]
    fn rejects_reserved_headers_in_requests_and_responses() {
        let names = [
            "Access-Control-Allow-Origin",
            "access-control-x",
            "apigw-requestid",
            "Authorization",
            "Connection",
            "Content-Encoding",
            "Content-Length",
            "Content-Location",
            "Forwarded",
            "Keep-Alive",
            "Origin",
            "Proxy-Authenticate",
            "Proxy-Authorization",
            "TE",
            "Trailers",
            "Transfer-Encoding",
            "Upgrade",
            "x-amz-date",
            "X-Amzn-Trace-Id",
            "X-Forwarded-For",
            "X-Forwarded-Host",
            "X-Forwarded-Proto",
            "Via",
        ];
        for name in names {
            for action in ["append", "overwrite", "remove"] {
                let key = format!("{action}:header.{name}");
                let reserved = format!("header '{name}' is reserved");
                assert_err(
                    one_request(&key, "v"),
                    "requestParameters",
                    &[&key, &reserved],
                );
                let map = resp(&[("200", &[(&key, "v")])]);
                assert_err(
                    parse_response_parameters(&map),
                    "responseParameters",
                    &[&key, &reserved],
                );
            }
        }
        // Near misses are ordinary headers.
        for name in [
            "x-amzfoo",
            "apigw",
            "access-control",
            "tea",
            "originator",
            "x-forwarded-port",
        ] {
            one_request(&format!("append:header.{name}"), "v")
                .unwrap_or_else(|e| panic!("{name}: {e}"));
        }
    }

    // Doc: http-api-parameter-mapping.html, "Transforming API requests", the values table:
    // $request.header.name or ${request.header.name}, $request.querystring.name,
    // $request.path, $request.path.name, $context.variableName, $stageVariables.name,
    // static strings; and the note "To use multiple variables in a selection expression,
    // enclose the variable in brackets".
    #[test]
    fn parses_request_values() {
        let cases: Vec<(&str, Vec<ValuePart>)> = vec![
            ("static text", vec![s("static text")]),
            ("''", vec![s("''")]),
            ("$request.header.X-Id", vec![RequestHeader("x-id".into())]),
            ("${request.header.X-Id}", vec![RequestHeader("x-id".into())]),
            (
                "$request.querystring.Page",
                vec![RequestQueryString("Page".into())],
            ),
            (
                "${request.querystring.filter[name]}",
                vec![RequestQueryString("filter[name]".into())],
            ),
            ("$request.path", vec![RequestPath]),
            ("${request.path}", vec![RequestPath]),
            (
                "$request.path.petId",
                vec![RequestPathParam("petId".into())],
            ),
            (
                "${request.path.petId}",
                vec![RequestPathParam("petId".into())],
            ),
            ("$context.requestId", vec![Context(ContextVar::RequestId)]),
            (
                "${context.identity.sourceIp}",
                vec![Context(ContextVar::SourceIp)],
            ),
            ("$stageVariables.env", vec![StageVariable("env".into())]),
            ("${stageVariables.env}", vec![StageVariable("env".into())]),
            (
                "$context.authorizer.claims.sub",
                vec![Authorizer {
                    claim: true,
                    name: "sub".into(),
                }],
            ),
            (
                "${context.authorizer.tier}",
                vec![Authorizer {
                    claim: false,
                    name: "tier".into(),
                }],
            ),
            (
                "$context.identity.accessKey",
                vec![Context(ContextVar::IdentityAccessKey)],
            ),
            (
                "prefix-${request.header.x}-$context.requestId",
                vec![
                    s("prefix-"),
                    RequestHeader("x".into()),
                    s("-"),
                    Context(ContextVar::RequestId),
                ],
            ),
            (
                "${request.path.name} ${request.path.id}",
                vec![
                    RequestPathParam("name".into()),
                    s(" "),
                    RequestPathParam("id".into()),
                ],
            ),
            (
                "$request.header.a,$request.header.b",
                vec![RequestHeader("a".into()), s(","), RequestHeader("b".into())],
            ),
            // Unbraced names run as far as their characters go; '-' belongs to headers.
            (
                "$request.header.x-$context.requestId",
                vec![RequestHeader("x-".into()), Context(ContextVar::RequestId)],
            ),
            (
                "id=$context.requestId.",
                vec![s("id="), Context(ContextVar::RequestId), s(".")],
            ),
            ("$request.path/suffix", vec![RequestPath, s("/suffix")]),
            ("/v2$request.path", vec![s("/v2"), RequestPath]),
            (
                "$stageVariables.env-x",
                vec![StageVariable("env".into()), s("-x")],
            ),
            ("cost: $5, $", vec![s("cost: $5, $")]),
            ("$$context.stage", vec![s("$"), Context(ContextVar::Stage)]),
        ];
        for (raw, parts) in cases {
            let value = request_value(raw).unwrap_or_else(|e| panic!("{raw}: {e}"));
            assert_eq!(value.parts, parts, "{raw}");
        }
        for var in ContextVar::ALL {
            let raw = format!("$context.{}", var.name());
            assert_eq!(
                request_value(&raw).map(|v| v.parts),
                Ok(vec![Context(var)]),
                "{raw}"
            );
        }
    }

    // Doc: http-api-parameter-mapping.html, values table. AWS supports $request.body JSON
    // paths; Portico does not, and says so. Unknown sources and context variables are
    // refused instead of rendering as empty text.
    #[test]
    fn rejects_invalid_request_values() {
        let cases = [
            (
                "$request.body.name",
                "'$request.body.name'",
                "are not supported",
            ),
            ("${request.body}", "'${request.body}'", "are not supported"),
            ("a $request.body b", "'$request.body'", "are not supported"),
            (
                "$context.foo",
                "'$context.foo'",
                "'$context.foo' is not supported",
            ),
            (
                "$context.authorizer.claims.",
                "'$context.authorizer.claims.'",
                "needs a name",
            ),
            (
                "$context.",
                "'$context.'",
                "the context variable name is empty",
            ),
            ("$context", "'$context'", "must be followed by '.'"),
            (
                "$response.header.x",
                "'$response.header.x'",
                "only exist in responseParameters",
            ),
            ("$foo.bar", "'$foo.bar'", "unknown source '$foo'"),
            ("$request", "'$request'", "must be followed by '.'"),
            (
                "$request.headers.x",
                "'$request.headers.x'",
                "unknown source '$request.headers'",
            ),
            ("$request.header.", "'$request.header.'", "is empty"),
            (
                "$request.header",
                "'$request.header'",
                "must be followed by '.'",
            ),
            (
                "$stageVariables.",
                "'$stageVariables.'",
                "the stage variable name is empty",
            ),
            ("${request.header.x", "'${request.header.x'", "not closed"),
            (
                "${request.header.x y}",
                "'${request.header.x y}'",
                "unexpected ' y'",
            ),
            (
                "${context.requestId.}",
                "'${context.requestId.}'",
                "unexpected '.'",
            ),
            ("${}", "'${}'", "unknown source '$'"),
            ("", "''", "the value is empty"),
            ("a\nb", "\"a\\nb\"", "a header value can't carry"),
            ("a\u{7f}", "\"a\\u{7f}\"", "a header value can't carry"),
        ];
        for (raw, shown, fragment) in cases {
            let prefix = format!(
                "Invalid mapping expression specified: {shown} for key 'overwrite:header.x-test'"
            );
            assert_err(
                request_value(raw),
                "requestParameters",
                &[&prefix, fragment],
            );
        }
        // A tab is a legal header value character.
        assert_eq!(request_value("a\tb").map(|v| v.parts), Ok(vec![s("a\tb")]));
    }

    #[test]
    fn static_text_is_checked_against_its_target() {
        assert_err(
            one_request("overwrite:path", "/a b"),
            "requestParameters",
            &["'overwrite:path'", "a path can't carry"],
        );
        assert_err(
            one_request("overwrite:path", "/a?b"),
            "requestParameters",
            &["a path can't carry"],
        );
        assert_err(
            one_request("overwrite:path", "/a#b"),
            "requestParameters",
            &["a path can't carry"],
        );
        assert_err(
            one_request("append:querystring.q", "a\u{0}"),
            "requestParameters",
            &["a query string value can't carry"],
        );
        // The rule covers static text only; rendered sources are the proxy's business.
        let p = one_request("overwrite:path", "/v2/${request.path.proxy}").expect("path");
        assert_eq!(
            p.value.parts,
            vec![s("/v2/"), RequestPathParam("proxy".into())]
        );
        one_request("append:querystring.q", "a b&c=d").expect("query values are encoded later");
    }

    // Doc: http-api-parameter-mapping.html, "Rename a request header" example, which
    // gives remove: the value "''": the value of a remove: mapping is not used.
    #[test]
    fn remove_ignores_its_value() {
        for value in ["''", "", "$request.body.x", "${unterminated"] {
            let p = one_request("remove:header.header1", value)
                .unwrap_or_else(|e| panic!("{value}: {e}"));
            assert_eq!(p.value, MappingValue { parts: vec![] });
            assert_eq!(p.value.as_static(), Some(""));
        }
        let rename = parse_request_parameters(&req(&[
            ("append:header.header2", "$request.header.header1"),
            ("remove:header.header1", "''"),
        ]))
        .expect("AWS's rename example");
        assert_eq!(rename.len(), 2);
        assert_eq!(rename[0].value.parts, vec![RequestHeader("header1".into())]);
    }

    #[test]
    fn rejects_the_same_header_twice_in_any_case() {
        let map = req(&[("append:header.X-A", "1"), ("append:header.x-a", "2")]);
        assert_err(
            parse_request_parameters(&map),
            "requestParameters",
            &["'append:header.X-A' and 'append:header.x-a'"],
        );
        // Different actions on one header, and query names differing in case, are distinct.
        parse_request_parameters(&req(&[
            ("append:header.x-a", "1"),
            ("overwrite:header.X-A", "2"),
        ]))
        .expect("distinct actions");
        parse_request_parameters(&req(&[
            ("append:querystring.q", "1"),
            ("append:querystring.Q", "2"),
        ]))
        .expect("query names are case-sensitive");
        let map = resp(&[(
            "200",
            &[("append:header.X-A", "1"), ("append:header.x-a", "2")],
        )]);
        assert_err(
            parse_response_parameters(&map),
            "responseParameters",
            &["'append:header.X-A' and 'append:header.x-a'"],
        );
    }

    // No order of application is documented (http-api-parameter-mapping.html), so the
    // map's key order is kept.
    #[test]
    fn keeps_map_order() {
        let map = req(&[
            ("remove:header.a", "''"),
            ("overwrite:path", "/x"),
            ("append:querystring.q", "1"),
            ("append:header.b", "2"),
        ]);
        let keys: Vec<String> = parse_request_parameters(&map)
            .expect("valid")
            .into_iter()
            .map(|p| p.key)
            .collect();
        assert_eq!(
            keys,
            [
                "append:header.b",
                "append:querystring.q",
                "overwrite:path",
                "remove:header.a"
            ]
        );
    }

    // Doc: http-api-parameter-mapping.html, "Change the response from an integration"
    // example, and "Transforming API responses": keys append|overwrite|remove:header.name
    // and overwrite:statuscode; values $response.header.name, $context, $stageVariables,
    // static. Status keys 200-599: CreateIntegration / AWS::ApiGatewayV2::Integration
    // ResponseParameter ("The selection key must be a valid HTTP status code within the
    // range of 200-599").
    #[test]
    fn parses_response_parameters() {
        let map = resp(&[
            (
                "500",
                &[
                    ("append:header.header1", "$context.requestId"),
                    ("overwrite:statuscode", "403"),
                ],
            ),
            (
                "404",
                &[("append:header.error", "$stageVariables.environmentId")],
            ),
            (
                "200",
                &[
                    (
                        "overwrite:header.X-Upstream",
                        "${response.header.Server}/v1",
                    ),
                    ("remove:header.Server", "''"),
                    ("overwrite:statuscode", "$response.header.x-status"),
                ],
            ),
            ("599", &[]),
        ]);
        let parsed = parse_response_parameters(&map).expect("valid");
        let statuses: Vec<u16> = parsed.iter().map(|m| m.status).collect();
        assert_eq!(statuses, [200, 404, 500, 599]);
        let p200 = &parsed[0].parameters;
        assert_eq!(p200[0].key, "overwrite:header.X-Upstream");
        assert_eq!(p200[0].target, ResponseTarget::Header("x-upstream".into()));
        assert_eq!(
            p200[0].value.parts,
            vec![ResponseHeader("server".into()), s("/v1")]
        );
        assert_eq!(p200[1].target, ResponseTarget::StatusCode);
        assert_eq!(p200[1].value.parts, vec![ResponseHeader("x-status".into())]);
        assert_eq!(
            (p200[2].action, &p200[2].target),
            (
                MappingAction::Remove,
                &ResponseTarget::Header("server".into())
            )
        );
        let p500 = &parsed[2].parameters;
        assert_eq!(p500[0].value.parts, vec![Context(ContextVar::RequestId)]);
        assert_eq!(
            (p500[1].action, &p500[1].target),
            (MappingAction::Overwrite, &ResponseTarget::StatusCode)
        );
        assert_eq!(p500[1].value.as_static(), Some("403"));
        assert_eq!(
            parsed[1].parameters[0].value.parts,
            vec![StageVariable("environmentId".into())]
        );
        assert!(parsed[3].parameters.is_empty());
    }

    // Doc: AWS::ApiGatewayV2::Integration ResponseParameter / CreateIntegration
    // responseParameters: "a valid HTTP status code within the range of 200-599".
    #[test]
    fn rejects_invalid_status_keys() {
        for key in [
            "199", "600", "100", "20", "2000", "0200", "abc", "", "+20", "2xx", " 200",
        ] {
            let map = resp(&[(key, &[("append:header.x", "v")])]);
            let shown = format!("Invalid status code specified: '{key}'");
            assert_err(
                parse_response_parameters(&map),
                "responseParameters",
                &[&shown, "200 to 599"],
            );
        }
    }

    // Doc: http-api-parameter-mapping.html, "Transforming API responses" key table.
    #[test]
    fn rejects_invalid_response_keys() {
        let cases = [
            ("append:statuscode", "use 'overwrite:statuscode'"),
            ("remove:statuscode", "use 'overwrite:statuscode'"),
            ("overwrite:status", "unknown target 'status'"),
            ("overwrite:querystring.q", "no path or query string"),
            ("overwrite:path", "no path or query string"),
            ("set:header.x", "unknown action 'set'"),
            ("append:header.", "the header name is empty"),
            ("append:header.a b", "not a valid HTTP header name"),
        ];
        for (key, fragment) in cases {
            let map = resp(&[("500", &[(key, "v")])]);
            let shown = format!("Invalid mapping key specified: '{key}' of status code '500'");
            assert_err(
                parse_response_parameters(&map),
                "responseParameters",
                &[&shown, fragment],
            );
        }
    }

    // Doc: http-api-parameter-mapping.html, "Transforming API responses" values table
    // (no $request sources; $response.body is a JSON path Portico does not support).
    #[test]
    fn rejects_invalid_response_values() {
        let cases = [
            (
                "append:header.x",
                "$request.header.x",
                "can't read the request",
            ),
            ("append:header.x", "$request.path", "can't read the request"),
            (
                "append:header.x",
                "$response.body.error",
                "are not supported",
            ),
            ("append:header.x", "${response.body}", "are not supported"),
            (
                "append:header.x",
                "$response.querystring.q",
                "unknown source '$response.querystring'",
            ),
            ("append:header.x", "$context.nope", "is not supported"),
            ("append:header.x", "a\rb", "a header value can't carry"),
            ("overwrite:statuscode", "99", "from 200 to 599"),
            ("overwrite:statuscode", "600", "from 200 to 599"),
            ("overwrite:statuscode", "103", "from 200 to 599"),
            ("overwrite:statuscode", "2000", "from 200 to 599"),
            ("overwrite:statuscode", "abc", "from 200 to 599"),
            ("overwrite:statuscode", " 403", "from 200 to 599"),
            ("overwrite:statuscode", "", "the value is empty"),
        ];
        for (key, raw, fragment) in cases {
            let result = response_value(key, raw);
            let shown = format!("for key '{key}' of status code '200'");
            assert_err(
                result,
                "responseParameters",
                &["Invalid mapping expression specified:", &shown, fragment],
            );
        }
        for raw in [
            "200",
            "403",
            "599",
            "4${stageVariables.minor}",
            "$response.header.x",
        ] {
            response_value("overwrite:statuscode", raw).unwrap_or_else(|e| panic!("{raw}: {e}"));
        }
    }

    #[test]
    fn parses_status_overrides() {
        for (text, code) in [("200", Some(200)), ("403", Some(403)), ("599", Some(599))] {
            assert_eq!(parse_status_override(text), code, "{text}");
        }
        for text in [
            "", "99", "199", "600", "abc", "40", "4033", "+40", " 403", "403 ",
        ] {
            assert_eq!(parse_status_override(text), None, "{text}");
        }
    }

    #[test]
    fn context_var_names_round_trip() {
        for var in ContextVar::ALL {
            assert_eq!(ContextVar::from_name(var.name()), Some(var));
        }
        let mut names: Vec<&str> = ContextVar::ALL.iter().map(|v| v.name()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), ContextVar::ALL.len());
        assert_eq!(ContextVar::SourceIp.name(), "identity.sourceIp");
        assert_eq!(ContextVar::from_name("RequestId"), None);
    }

    struct TestSource {
        request_headers: HashMap<&'static str, &'static str>,
        query: HashMap<&'static str, &'static str>,
        path_params: HashMap<&'static str, &'static str>,
        response_headers: HashMap<&'static str, &'static str>,
        stage_variables: HashMap<&'static str, &'static str>,
    }

    impl MappingSource for TestSource {
        fn request_header(&self, lowercase_name: &str) -> Option<&str> {
            self.request_headers.get(lowercase_name).copied()
        }
        fn request_querystring(&self, name: &str) -> Option<&str> {
            self.query.get(name).copied()
        }
        fn path_param(&self, name: &str) -> Option<&str> {
            self.path_params.get(name).copied()
        }
        fn request_path(&self) -> &str {
            "/pets/7"
        }
        fn response_header(&self, lowercase_name: &str) -> Option<&str> {
            self.response_headers.get(lowercase_name).copied()
        }
        fn context(&self, var: ContextVar, out: &mut String) {
            match var {
                ContextVar::RequestId => out.push_str("req-1"),
                other => {
                    out.push('<');
                    out.push_str(other.name());
                    out.push('>');
                }
            }
        }
        fn stage_variable(&self, name: &str) -> Option<&str> {
            self.stage_variables.get(name).copied()
        }
    }

    fn source() -> TestSource {
        TestSource {
            request_headers: HashMap::from([("x-id", "abc")]),
            query: HashMap::from([("Page", "2")]),
            path_params: HashMap::from([("petId", "7")]),
            response_headers: HashMap::from([("server", "nginx")]),
            stage_variables: HashMap::from([("env", "prod")]),
        }
    }

    #[test]
    fn renders_values() {
        let src = source();
        let cases = [
            ("static", "static", true),
            (
                "prefix-${request.header.X-Id}-$context.requestId",
                "prefix-abc-req-1",
                true,
            ),
            ("$request.querystring.Page/$request.path.petId", "2/7", true),
            ("/v2$request.path", "/v2/pets/7", true),
            (
                "${stageVariables.env}:$context.identity.sourceIp",
                "prod:<identity.sourceIp>",
                true,
            ),
            ("[$request.header.missing]", "[]", false),
            ("$request.querystring.page", "", false),
            ("$stageVariables.nope-x", "-x", false),
        ];
        for (raw, expected, complete) in cases {
            let value = request_value(raw).unwrap_or_else(|e| panic!("{raw}: {e}"));
            let mut out = String::from(">");
            assert_eq!(value.render(&src, &mut out), complete, "{raw}");
            assert_eq!(out, format!(">{expected}"), "{raw}");
        }
        let value =
            response_value("append:header.x", "via ${response.header.Server}").expect("valid");
        let mut out = String::new();
        assert!(value.render(&src, &mut out));
        assert_eq!(out, "via nginx");
    }

    #[test]
    fn reports_static_values() {
        let value = request_value("plain").expect("valid");
        assert!(value.is_static());
        assert_eq!(value.as_static(), Some("plain"));
        let value = request_value("a $5 b").expect("valid");
        assert_eq!(value.as_static(), Some("a $5 b"));
        let value = request_value("x-$context.stage").expect("valid");
        assert!(!value.is_static());
        assert_eq!(value.as_static(), None);
    }
}
