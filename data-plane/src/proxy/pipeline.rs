//! The request pipeline: a short list of named phases run in a fixed order, with one
//! [`RequestContext`] carried from phase to phase.
//!
//! 1. **match**: `Host` → API → stage → route ([`match_route`]).
//! 2. *(authorize: JWT and Lambda authorizers; not yet)*
//! 3. *(throttle: stage and route limits; not yet)*
//! 4. *(CORS: preflight answers and response headers; not yet)*
//! 5. **integrate**: call the route's integration; HTTP_PROXY today ([`integrate`]).
//! 6. **respond**: turn the outcome into the client's response; every error becomes its
//!    AWS-shaped response here and nowhere else ([`respond`]).
//! 7. *(log: access log and metrics; not yet)*
//!
//! A new phase is one function taking the context, called in [`run_phases`] at its
//! place in this list; a phase that answers the request itself (a CORS preflight, a 401)
//! returns early with a `ProxyError` or, later, a local response.
//!
//! The config is loaded once per request and that `Arc` is held to the end, so a
//! request never sees two versions even when a push lands while it is in flight.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use arc_swap::ArcSwap;
use http::header::{HOST, HeaderValue};
use http::{Request, Response, Uri};
use hyper::body::Incoming;
use tracing::{debug, warn};

use super::body::{DownstreamBody, ProxyBody};
use super::error::{ErrorOrigin, ProxyError};
use crate::config::integration::CompiledIntegration;
use crate::config::route_table::{RouteEntry, RouteMatch};
use crate::config::{CompiledApi, CompiledConfig, CompiledStage};
use crate::error_chain::ErrorChain;
use crate::integrations::http_proxy;
use crate::proxy::body::{UpstreamPool, UpstreamResponseBody};

/// What every request shares: the live config and the upstream connection pool.
pub struct ProxyState {
    pub config: Arc<ArcSwap<CompiledConfig>>,
    pub upstream: UpstreamPool,
}

/// The client's connection, as worked out once when it connects rather than per request.
#[derive(Debug)]
pub struct ClientConnection {
    pub addr: SocketAddr,
    /// The client's address as `X-Forwarded-For` carries it.
    pub forwarded_for: HeaderValue,
}

impl ClientConnection {
    pub fn new(addr: SocketAddr) -> Self {
        let ip = addr.ip().to_canonical().to_string();
        ClientConnection {
            addr,
            // An address always makes a valid header value.
            forwarded_for: HeaderValue::try_from(ip)
                .unwrap_or_else(|_| HeaderValue::from_static("unknown")),
        }
    }
}

/// What the phases learn about one request, borrowed from the config it loaded.
#[derive(Debug)]
pub struct RequestContext<'cfg> {
    pub client: &'cfg ClientConnection,
    pub received_at: Instant,
    pub config_version: u64,
    pub api: Option<&'cfg CompiledApi>,
    pub stage: Option<&'cfg CompiledStage>,
    pub route: Option<&'cfg RouteEntry>,
}

impl<'cfg> RequestContext<'cfg> {
    fn new(client: &'cfg ClientConnection, config: &'cfg CompiledConfig) -> Self {
        RequestContext {
            client,
            received_at: Instant::now(),
            config_version: config.version,
            api: None,
            stage: None,
            route: None,
        }
    }
}

pub async fn handle(
    state: &ProxyState,
    req: Request<Incoming>,
    client: &ClientConnection,
) -> Response<ProxyBody> {
    let config = state.config.load_full();
    let mut ctx = RequestContext::new(client, &config);
    let outcome = run_phases(state, &config, &mut ctx, req).await;
    respond(&ctx, outcome)
}

async fn run_phases<'cfg>(
    state: &ProxyState,
    config: &'cfg CompiledConfig,
    ctx: &mut RequestContext<'cfg>,
    req: Request<Incoming>,
) -> Result<Response<UpstreamResponseBody>, ProxyError> {
    let (mut parts, body) = req.into_parts();
    let body = DownstreamBody::new(body, parts.version);
    // The match borrows the path and the host while the rest of the request moves on
    // upstream; the upstream gets its own Host anyway.
    let uri = std::mem::take(&mut parts.uri);
    let host_header = parts.headers.remove(HOST);
    // The host the client asked for: the request target's authority (HTTP/2
    // `:authority`, or an absolute-form HTTP/1.1 target), else the `Host` header.
    let host = match uri.authority() {
        Some(a) => Some(a.as_str()),
        None => host_header.as_ref().and_then(|h| h.to_str().ok()),
    };

    let route = match_route(config, ctx, &parts.method, host, &uri)?;
    // authorize, throttle and CORS go here.
    let forwarded_host = match uri.authority() {
        Some(a) => HeaderValue::from_str(a.as_str()).ok(),
        None => host_header,
    };
    integrate(state, ctx, route, &uri, forwarded_host, parts, body).await
}

/// Phase 1, match: host → API → stage → route.
pub fn match_route<'cfg, 'r>(
    config: &'cfg CompiledConfig,
    ctx: &mut RequestContext<'cfg>,
    method: &http::Method,
    host: Option<&str>,
    uri: &'r Uri,
) -> Result<RouteMatch<'cfg, 'r>, ProxyError> {
    let api = config
        .api_for_host(host.ok_or(ProxyError::NotFound)?)
        .ok_or(ProxyError::NotFound)?;
    ctx.api = Some(api);
    let (stage, path) = api.stage_for_path(uri.path()).ok_or(ProxyError::NotFound)?;
    ctx.stage = Some(stage);
    let matched = stage
        .routes()
        .lookup(method, path)
        .ok_or(ProxyError::NotFound)?;
    ctx.route = Some(matched.route);
    Ok(matched)
}

/// Phase 5, integrate: hand the request to the route's integration.
async fn integrate(
    state: &ProxyState,
    ctx: &RequestContext<'_>,
    route: RouteMatch<'_, '_>,
    uri: &Uri,
    forwarded_host: Option<HeaderValue>,
    parts: http::request::Parts,
    body: DownstreamBody,
) -> Result<Response<UpstreamResponseBody>, ProxyError> {
    let stage = ctx.stage.ok_or(ProxyError::NotFound)?;
    match stage
        .integration_for(route.route)
        .ok_or(ProxyError::NoIntegration)?
    {
        CompiledIntegration::HttpProxy(integration) => {
            let upstream_uri = integration
                .uri
                .build(|name| route.param(name), uri.query())
                .map_err(ProxyError::UpstreamUri)?;
            http_proxy::forward(
                &state.upstream,
                integration,
                upstream_uri,
                parts,
                body,
                &ctx.client.forwarded_for,
                forwarded_host,
            )
            .await
        }
        CompiledIntegration::Unusable(reason) => {
            Err(ProxyError::UnusableIntegration(reason.clone()))
        }
    }
}

/// Phase 6, respond: the upstream's response streams through; errors become AWS-shaped
/// responses, with the detail logged here rather than sent.
fn respond(
    ctx: &RequestContext<'_>,
    outcome: Result<Response<UpstreamResponseBody>, ProxyError>,
) -> Response<ProxyBody> {
    match outcome {
        Ok(response) => response.map(ProxyBody::Upstream),
        Err(e) => {
            let api = ctx.api.map_or("-", |a| a.api_id.as_str());
            let stage = ctx.stage.map_or("-", |s| s.name.as_str());
            let route = ctx.route.map_or("-", |r| r.route_id.as_str());
            match e.origin() {
                ErrorOrigin::Downstream => {
                    debug!(api, stage, route, status = e.status().as_u16(), "{e}");
                }
                ErrorOrigin::Upstream | ErrorOrigin::Internal => {
                    warn!(
                        api,
                        stage,
                        route,
                        version = ctx.config_version,
                        status = e.status().as_u16(),
                        elapsed_ms = ctx.received_at.elapsed().as_millis() as u64,
                        "{}",
                        ErrorChain(&e)
                    );
                }
            }
            e.into_response()
        }
    }
}
