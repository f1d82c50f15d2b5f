//! Map request: the integration's `requestParameters` applied to the request on its way
//! to the backend: headers appended, overwritten or removed, query string parameters
//! likewise, and the path overwritten. Every value is rendered from the request as the
//! client sent it, before any mapping changes it, so a mapping can move a header to a
//! new name and remove the old one (AWS's own example).

use std::borrow::Cow;

use http::header::{HeaderMap, HeaderValue, USER_AGENT};
use percent_encoding::{AsciiSet, CONTROLS, utf8_percent_encode};
use portico_model::{ContextVar, MappingAction, MappingSource};

use crate::config::parameter_mapping::{HeaderMapping, MappedValue, RequestMapping};
use crate::config::route_table::RouteMatch;
use crate::proxy::context::{Matched, RequestContext, RequestFacts};
use crate::proxy::request_id::RequestId;

/// Query components: everything but unreserved characters is escaped.
const QUERY: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'&')
    .add(b'+')
    .add(b'=')
    .add(b'%')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'[')
    .add(b']')
    .add(b'`')
    .add(b'{')
    .add(b'}')
    .add(b'|')
    .add(b'\\')
    .add(b'^');
/// A mapped path keeps its slashes.
const PATH: &AsciiSet = &QUERY.remove(b'&').remove(b'=').remove(b'+');

/// What mapping changed beyond the headers, for integrate to build the upstream URI with.
#[derive(Debug, Default)]
pub struct MappedRequest {
    /// The whole new query string (without `?`), when a mapping touched it.
    pub query: Option<String>,
    /// The new path, when `overwrite:path` applied.
    pub path: Option<String>,
}

/// The request as the client sent it, for rendering values.
struct Source<'a, 'r> {
    ctx: &'a RequestContext<'a>,
    matched: Matched<'a>,
    facts: &'a RequestFacts<'r>,
    headers: &'a HeaderMap,
    query: Vec<(Cow<'r, str>, Cow<'r, str>)>,
    route: &'a RouteMatch<'a, 'r>,
    path: &'r str,
}

impl MappingSource for Source<'_, '_> {
    fn request_header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    fn request_querystring(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_ref())
    }

    fn path_param(&self, name: &str) -> Option<&str> {
        self.route.param(name)
    }

    fn request_path(&self) -> &str {
        self.path
    }

    fn response_header(&self, _: &str) -> Option<&str> {
        // The parser refuses `$response.*` in request mappings.
        None
    }

    fn context(&self, var: ContextVar, out: &mut String) {
        self.ctx.write_variable(var, self.matched, self.facts, out);
    }

    fn stage_variable(&self, _: &str) -> Option<&str> {
        // Filled in when the stage compiled.
        None
    }

    fn authorizer(&self, claim: bool, name: &str, out: &mut String) -> bool {
        self.ctx
            .authorized
            .as_ref()
            .is_some_and(|a| a.write_value(claim, name, out))
    }
}

/// The value as text; static values are copied, dynamic ones rendered from `source`.
pub(super) fn render(value: &MappedValue, source: &dyn MappingSource) -> String {
    match value {
        MappedValue::Static(text, _) => text.to_string(),
        MappedValue::RequestId => {
            let mut out = String::new();
            source.context(ContextVar::RequestId, &mut out);
            out
        }
        MappedValue::Dynamic(v) => {
            let mut out = String::new();
            v.render(source, &mut out);
            out
        }
    }
}

/// What each header mapping will write, rendered before any of them changes anything.
/// A value that makes no valid header (a control character from a query parameter)
/// maps to nothing rather than failing the request.
pub(super) fn header_values(
    mappings: &[HeaderMapping],
    source: &dyn MappingSource,
    request_id: &RequestId,
) -> Vec<Option<HeaderValue>> {
    mappings
        .iter()
        .map(|m| match (m.action, &m.value) {
            (MappingAction::Remove, _) => None,
            (_, MappedValue::Static(_, h)) => h.clone(),
            (_, MappedValue::RequestId) => Some(request_id.header_value()),
            (_, value) => HeaderValue::try_from(render(value, source)).ok(),
        })
        .collect()
}

/// Applies header mappings with the values [`header_values`] rendered for them.
pub(super) fn apply_headers(
    headers: &mut HeaderMap,
    mappings: &[HeaderMapping],
    values: Vec<Option<HeaderValue>>,
) {
    for (m, value) in mappings.iter().zip(values) {
        match (m.action, value) {
            (MappingAction::Remove, _) => {
                headers.remove(&m.name);
            }
            (MappingAction::Overwrite, Some(v)) => {
                headers.insert(m.name.clone(), v);
            }
            (MappingAction::Append, Some(v)) => {
                headers.append(m.name.clone(), v);
            }
            (_, None) => {}
        }
    }
}

#[allow(clippy::too_many_arguments)]
pub fn map_request<'r>(
    mapping: &RequestMapping,
    ctx: &RequestContext<'_>,
    matched: Matched<'_>,
    route: &RouteMatch<'_, 'r>,
    facts: &RequestFacts<'r>,
    path: &'r str,
    query: Option<&'r str>,
    headers: &mut HeaderMap,
) -> MappedRequest {
    let source = Source {
        ctx,
        matched,
        facts,
        headers,
        query: query
            .map(|q| form_urlencoded::parse(q.as_bytes()).collect())
            .unwrap_or_default(),
        route,
        path,
    };
    let rendered = header_values(&mapping.headers, &source, &ctx.request_id);
    let mut mapped = MappedRequest::default();
    if !mapping.query.is_empty() {
        let mut pairs: Vec<(Cow<'_, str>, Cow<'_, str>)> = source.query.clone();
        for m in mapping.query.iter() {
            let name: &str = &m.name;
            match m.action {
                MappingAction::Remove => pairs.retain(|(n, _)| n != name),
                MappingAction::Overwrite => {
                    pairs.retain(|(n, _)| n != name);
                    pairs.push((Cow::Borrowed(name), Cow::Owned(render(&m.value, &source))));
                }
                MappingAction::Append => {
                    pairs.push((Cow::Borrowed(name), Cow::Owned(render(&m.value, &source))));
                }
            }
        }
        let mut out = String::new();
        for (n, v) in &pairs {
            if !out.is_empty() {
                out.push('&');
            }
            out.extend(utf8_percent_encode(n, QUERY));
            out.push('=');
            out.extend(utf8_percent_encode(v, QUERY));
        }
        mapped.query = Some(out);
    }
    if let Some(value) = &mapping.path {
        let text = render(value, &source);
        let mut out = String::with_capacity(text.len() + 1);
        if !text.starts_with('/') {
            out.push('/');
        }
        out.extend(utf8_percent_encode(&text, PATH));
        mapped.path = Some(out);
    }
    drop(source);
    apply_headers(headers, &mapping.headers, rendered);
    mapped
}

/// What `$context` needs of the request head, taken before the head moves on.
pub fn facts<'r>(
    parts: &http::request::Parts,
    uri: &'r http::Uri,
    host: Option<&'r str>,
) -> RequestFacts<'r> {
    RequestFacts {
        method: parts.method.clone(),
        uri,
        host,
        version: parts.version,
        user_agent: parts.headers.get(USER_AGENT).cloned(),
    }
}
