//! The request pipeline: a short list of named phases run in a fixed order, with one
//! [`RequestContext`] carried from phase to phase.
//!
//! 1. **resolve**: `Host` → custom domain and API mapping, or execute-api host → API →
//!    stage (`phases/resolve.rs`).
//! 2. **CORS**: a preflight is answered here, before routing and any authorizer, when
//!    the stage's deployment has CORS (`phases/cors.rs`); then the route is resolved.
//! 3. **throttle**: the stage's limit on the route, a share of the cluster-wide total
//!    (`phases/throttle.rs`).
//! 4. **authorize**: the route's JWT, Lambda or IAM authorizer (`phases/authorize/`).
//! 5. **map request**: the integration's `requestParameters` (`phases/map_request.rs`).
//! 6. **integrate**: call the route's integration: an HTTP backend, or a Lambda function
//!    through the Invoke API (`phases/integrate.rs`, `integrations/`).
//! 7. **map response**: the integration's `responseParameters` for the backend's status
//!    (`phases/map_response.rs`); the CORS headers are put on in respond, so that the
//!    gateway's own errors carry them too.
//! 8. **respond**: turn the outcome into the client's response; every error becomes its
//!    AWS-shaped response here and nowhere else, and every response gets the request's
//!    `apigw-requestid` and, on a CORS-enabled API, its CORS headers (`phases/respond.rs`).
//! 9. **log**: at the end of the response body, the stage's access-log line, the route's
//!    meters and the request's spans (`phases/log.rs`).
//!
//! This file only orders the phases; each is a file in `phases/` with the contract
//! written in `phases/mod.rs`. A new phase is a new file there, called here at its place.
//!
//! The config is loaded once per request and that `Arc` is held to the end, so a
//! request never sees two versions even when a push lands while it is in flight.

use std::sync::Arc;
use std::time::Instant;

use arc_swap::ArcSwap;
use http::header::{CONTENT_LENGTH, HOST, HeaderValue};
use http::{Request, Response, Uri};
use hyper::body::Incoming;

use super::body::{DownstreamBody, ProxyBody, UpstreamPool};
pub use super::context::ClientConnection;
use super::context::{IntegrationTiming, RequestContext, RequestFacts};
use super::error::ProxyError;
use super::phases::authorize::{Guarded, Guards, authorize};
use super::phases::cors;
use super::phases::integrate::{Integrations, Outgoing, integrate};
use super::phases::log::{self, LoggedBody};
use super::phases::map_request::{self, MappedRequest, map_request};
use super::phases::map_response::map_response;
use super::phases::resolve::{resolve_route, resolve_stage};
use super::phases::respond::respond;
use super::phases::throttle::throttle;
use super::trace_context::{TRACEPARENT, TraceContext};
use crate::config::CompiledConfig;
use crate::config::integration::CompiledIntegration;
use crate::integrations::lambda::LambdaClient;

/// What every request of a worker shares: the live config, the upstream connection
/// pool, the Lambda client and the node's runtime state (the keys AWS_IAM routes check).
pub struct ProxyState {
    pub config: Arc<ArcSwap<CompiledConfig>>,
    /// Whether the node is draining (its HTTP/1.1 answers then close their connection).
    pub lifecycle: Arc<crate::node::lifecycle::Lifecycle>,
    pub upstream: UpstreamPool,
    pub lambda: LambdaClient,
    pub runtime: Arc<crate::runtime::Runtime>,
    /// How long the client may send nothing of a request body (`--body-read-timeout`).
    pub body_read_timeout: std::time::Duration,
    /// The node's `--max-body-bytes`, for bodies that declare no length.
    pub max_body_bytes: u64,
}

pub async fn handle(
    state: &ProxyState,
    req: Request<Incoming>,
    client: &ClientConnection,
) -> Response<LoggedBody> {
    let config = state.config.load_full();
    let (mut parts, body) = req.into_parts();
    let trace = TraceContext::for_request(parts.headers.get(&TRACEPARENT));
    let mut ctx = RequestContext::new(client, &config, trace);
    // Resolve borrows the path and the host while the rest of the request moves on
    // upstream; the upstream gets its own Host anyway.
    let uri = std::mem::take(&mut parts.uri);
    let host_header = parts.headers.remove(HOST);
    // The host the client asked for: the request target's authority (HTTP/2
    // `:authority`, or an absolute-form HTTP/1.1 target), else the `Host` header.
    let host = match uri.authority() {
        Some(a) => Some(a.as_str()),
        None => host_header.as_ref().and_then(|h| h.to_str().ok()),
    };
    let request = ResolvableRequest {
        parts,
        body,
        uri: &uri,
        host,
        host_header: host_header.as_ref(),
    };
    let mut facts = None;
    let outcome = run_phases(state, &config, &mut ctx, request, &mut facts).await;
    let finish = log::begin(&state.runtime, &ctx, facts.as_ref(), &outcome);
    log::attach(respond(&ctx, outcome), finish)
}

/// The request as resolve left it: the head without its URI and `Host`, which are
/// borrowed from the caller so that the log phase still has them.
struct ResolvableRequest<'r> {
    parts: http::request::Parts,
    body: Incoming,
    uri: &'r Uri,
    host: Option<&'r str>,
    host_header: Option<&'r HeaderValue>,
}

async fn run_phases<'cfg, 'r>(
    state: &ProxyState,
    config: &'cfg CompiledConfig,
    ctx: &mut RequestContext<'cfg>,
    request: ResolvableRequest<'r>,
    facts: &mut Option<RequestFacts<'r>>,
) -> Result<Response<ProxyBody>, ProxyError> {
    let ResolvableRequest {
        mut parts,
        body,
        uri,
        host,
        host_header,
    } = request;
    let mut body = DownstreamBody::new(
        body,
        parts.version,
        state.body_read_timeout,
        state.max_body_bytes,
    );
    ctx.bytes_in = parts
        .headers
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse().ok())
        .unwrap_or(0);

    let (api, stage, path, base_path) = resolve_stage(config, host, uri, ctx.client.tls.as_ref())?;
    ctx.stage = Some((api, stage));
    ctx.base_path = base_path;
    if stage.access_log().is_some() {
        *facts = Some(map_request::facts(&parts, uri, host));
    }
    if let Some(c) = stage.cors() {
        if let Some(answer) = cors::preflight(c, &parts.method, &parts.headers) {
            return Ok(answer);
        }
        ctx.cors = Some(cors::for_response(c, &parts.headers));
    }
    let (matched, route) = resolve_route(api, stage, &parts.method, path)?;
    ctx.matched = Some(matched);
    throttle(ctx, matched)?;
    let guarded = Guarded {
        parts: &parts,
        uri,
        host,
        path,
    };
    let guards = Guards {
        lambda: &state.lambda,
        invoke_keys: &state.runtime.invoke_keys,
    };
    let started = Instant::now();
    let authorized = authorize(guards, ctx, matched, &route, &guarded, &mut body).await;
    if authorized.is_err() || ctx.authorized.is_some() {
        ctx.authorizer_timing = Some((started, started.elapsed()));
    }
    authorized?;
    let mappings = stage
        .integration_for(matched.route)
        .and_then(CompiledIntegration::mappings);
    // `$context` values outlive the request head, which moves on to the integration.
    if mappings.is_some() && facts.is_none() {
        *facts = Some(map_request::facts(&parts, uri, host));
    }
    let mapped = match (mappings, &*facts) {
        (Some(m), Some(facts)) if !m.request.is_empty() => map_request(
            &m.request,
            ctx,
            matched,
            &route,
            facts,
            path,
            uri.query(),
            &mut parts.headers,
        ),
        _ => MappedRequest::default(),
    };
    let forwarded_host = match uri.authority() {
        Some(a) => HeaderValue::from_str(a.as_str()).ok(),
        None => host_header.cloned(),
    };
    // The integration continues the trace from the gateway's span.
    parts
        .headers
        .insert(TRACEPARENT.clone(), ctx.trace.header_value());
    let outgoing = Outgoing {
        uri,
        forwarded_host,
        parts,
        body,
        mapped,
    };
    let clients = Integrations {
        upstream: &state.upstream,
        lambda: &state.lambda,
    };
    let started = Instant::now();
    let integrated = integrate(clients, ctx, matched, route, outgoing).await;
    ctx.integration = Some(IntegrationTiming {
        started,
        latency: started.elapsed(),
        status: integrated.as_ref().ok().map(|r| r.status().as_u16()),
    });
    let mut response = integrated?;
    if let (Some(m), Some(facts)) = (mappings, &*facts) {
        map_response(m, ctx, matched, facts, &mut response);
    }
    Ok(response)
}
