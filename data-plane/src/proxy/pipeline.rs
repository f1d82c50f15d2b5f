//! The request pipeline: a short list of named phases run in a fixed order, with one
//! [`RequestContext`] carried from phase to phase.
//!
//! 1. **resolve**: `Host` → API → stage → route (`phases/resolve.rs`).
//! 2. *(CORS preflight: answered before any authorizer; not yet)*
//! 3. *(throttle: stage and route limits; not yet)*
//! 4. *(authorize: JWT, Lambda and IAM authorizers; not yet)*
//! 5. *(map request: parameter mapping; not yet)*
//! 6. **integrate**: call the route's integration; HTTP_PROXY today
//!    (`phases/integrate.rs`).
//! 7. *(map response and CORS headers; not yet)*
//! 8. **respond**: turn the outcome into the client's response; every error becomes its
//!    AWS-shaped response here and nowhere else, and every response gets the request's
//!    `apigw-requestid` (`phases/respond.rs`).
//! 9. *(log: access log and metrics at the end of the response body; not yet)*
//!
//! This file only orders the phases; each is a file in `phases/` with the contract
//! written in `phases/mod.rs`. A new phase is a new file there, called here at its place.
//!
//! The config is loaded once per request and that `Arc` is held to the end, so a
//! request never sees two versions even when a push lands while it is in flight.

use std::sync::Arc;

use arc_swap::ArcSwap;
use http::header::{HOST, HeaderValue};
use http::{Request, Response};
use hyper::body::Incoming;

use super::body::{DownstreamBody, ProxyBody, UpstreamPool, UpstreamResponseBody};
pub use super::context::ClientConnection;
use super::context::RequestContext;
use super::error::ProxyError;
use super::phases::integrate::{Outgoing, integrate};
use super::phases::resolve::resolve;
use super::phases::respond::respond;
use crate::config::CompiledConfig;

/// What every request shares: the live config and the upstream connection pool.
pub struct ProxyState {
    pub config: Arc<ArcSwap<CompiledConfig>>,
    pub upstream: UpstreamPool,
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

    let (matched, route) = resolve(config, &parts.method, host, &uri)?;
    ctx.matched = Some(matched);
    // CORS preflight, throttle, authorize and request mapping go here.
    let forwarded_host = match uri.authority() {
        Some(a) => HeaderValue::from_str(a.as_str()).ok(),
        None => host_header,
    };
    let outgoing = Outgoing {
        uri: &uri,
        forwarded_host,
        parts,
        body,
    };
    integrate(&state.upstream, ctx, matched, route, outgoing).await
}
