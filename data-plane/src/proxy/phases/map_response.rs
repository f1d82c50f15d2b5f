//! Map response: the integration's `responseParameters` for the status the backend
//! answered with, applied to its response on the way to the client: headers appended,
//! overwritten or removed, and the status code overwritten. Values are rendered from the
//! backend's response as it arrived.

use http::{HeaderMap, Response, StatusCode};
use portico_model::{ContextVar, MappingSource, parse_status_override};

use super::map_request::{apply_headers, header_values, render};
use crate::config::parameter_mapping::CompiledMappings;
use crate::proxy::context::{Matched, RequestContext, RequestFacts};

struct Source<'a> {
    ctx: &'a RequestContext<'a>,
    matched: Matched<'a>,
    facts: &'a RequestFacts<'a>,
    headers: &'a HeaderMap,
}

impl MappingSource for Source<'_> {
    fn request_header(&self, _: &str) -> Option<&str> {
        // The parser refuses `$request.*` in response mappings.
        None
    }

    fn request_querystring(&self, _: &str) -> Option<&str> {
        None
    }

    fn path_param(&self, _: &str) -> Option<&str> {
        None
    }

    fn request_path(&self) -> &str {
        ""
    }

    fn response_header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
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

pub fn map_response<B>(
    mappings: &CompiledMappings,
    ctx: &RequestContext<'_>,
    matched: Matched<'_>,
    facts: &RequestFacts<'_>,
    response: &mut Response<B>,
) {
    let Some(mapping) = mappings.for_status(response.status().as_u16()) else {
        return;
    };
    let source = Source {
        ctx,
        matched,
        facts,
        headers: response.headers(),
    };
    let rendered = header_values(&mapping.headers, &source, &ctx.request_id);
    // A code that does not come out as 200..599 leaves the status as the backend sent it.
    let status = mapping
        .status_code
        .as_ref()
        .and_then(|v| parse_status_override(&render(v, &source)))
        .and_then(|code| StatusCode::from_u16(code).ok());
    apply_headers(response.headers_mut(), &mapping.headers, rendered);
    if let Some(status) = status {
        *response.status_mut() = status;
    }
}
