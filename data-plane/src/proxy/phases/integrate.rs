//! Integrate: hand the request to the matched route's integration.

use std::time::SystemTime;

use http::{HeaderValue, Response, Uri};

use crate::config::integration::CompiledIntegration;
use crate::config::route_table::RouteMatch;
use crate::integrations::lambda::LambdaClient;
use crate::integrations::lambda::event::{self, EventRequest};
use crate::integrations::{http_proxy, vpc_link};
use crate::proxy::body::{DownstreamBody, ProxyBody, UpstreamPool};
use crate::proxy::context::{Matched, RequestContext};
use crate::proxy::error::ProxyError;
use crate::proxy::phases::map_request::MappedRequest;

/// What integrate needs of the request beyond its match.
pub struct Outgoing<'r> {
    pub uri: &'r Uri,
    pub forwarded_host: Option<HeaderValue>,
    pub parts: http::request::Parts,
    pub body: DownstreamBody,
    /// What request mapping made of the query string and path.
    pub mapped: MappedRequest,
}

impl Outgoing<'_> {
    /// The query string to send: the mapped one, else the client's.
    fn query(&self) -> Option<&str> {
        match &self.mapped.query {
            Some(q) => Some(q.as_str()),
            None => self.uri.query(),
        }
    }
}

/// The worker's clients, one per kind of integration that keeps connections.
pub struct Integrations<'s> {
    pub upstream: &'s UpstreamPool,
    pub lambda: &'s LambdaClient,
}

pub async fn integrate(
    clients: Integrations<'_>,
    ctx: &RequestContext<'_>,
    matched: Matched<'_>,
    route: RouteMatch<'_, '_>,
    request: Outgoing<'_>,
) -> Result<Response<ProxyBody>, ProxyError> {
    match matched
        .stage
        .integration_for(matched.route)
        .ok_or(ProxyError::NoIntegration)?
    {
        CompiledIntegration::HttpProxy(integration) => {
            let mut upstream_uri = integration
                .uri
                .build(|name| route.param(name), request.query())
                .map_err(ProxyError::UpstreamUri)?;
            if let Some(path) = &request.mapped.path {
                upstream_uri = with_path(upstream_uri, path).map_err(ProxyError::UpstreamUri)?;
            }
            let response = http_proxy::forward(
                clients.upstream,
                integration,
                upstream_uri,
                request.parts,
                request.body,
                &ctx.client.forwarded_for,
                request.forwarded_host,
            )
            .await?;
            Ok(response.map(ProxyBody::Upstream))
        }
        CompiledIntegration::Private(integration) => {
            let mut upstream = vpc_link::upstream_target(
                integration,
                request.uri,
                |name| route.param(name),
                request.query(),
            )
            .map_err(ProxyError::UpstreamUri)?;
            if let Some(path) = &request.mapped.path {
                upstream = with_path(upstream, path).map_err(ProxyError::UpstreamUri)?;
            }
            let response = vpc_link::forward(
                clients.upstream,
                integration,
                upstream,
                request.parts,
                request.body,
                &ctx.client.forwarded_for,
                request.forwarded_host,
            )
            .await?;
            Ok(response.map(ProxyBody::Upstream))
        }
        CompiledIntegration::Lambda(integration) => {
            let Outgoing {
                uri,
                forwarded_host,
                mut parts,
                body,
                ..
            } = request;
            http_proxy::forwarding_headers(&mut parts.headers, &ctx.client.forwarded_for);
            let host = forwarded_host.as_ref().and_then(|h| h.to_str().ok());
            let function = &integration.function;
            let received = SystemTime::now();
            let build_event = |body: &[u8]| {
                event::build(
                    function.payload,
                    &EventRequest {
                        method: &parts.method,
                        uri,
                        version: parts.version,
                        headers: &parts.headers,
                        host,
                        source_ip: ctx.client.addr.ip(),
                        request_id: ctx.request_id.as_str(),
                        api_id: &matched.api.api_id,
                        stage: &matched.stage.name,
                        route,
                        stage_variables: integration.stage_variables.as_deref(),
                        body,
                        received,
                        authorized: ctx.authorized.as_ref(),
                        for_authorizer: None,
                        client_cert: ctx.client_cert(),
                    },
                )
            };
            Ok(clients
                .lambda
                .proxy(function, &parts.headers, body, build_event)
                .await?)
        }
        CompiledIntegration::Unusable(reason) => {
            Err(ProxyError::UnusableIntegration(reason.clone()))
        }
    }
}

/// `overwrite:path`: the mapped path in place of the integration URI's, its query kept.
fn with_path(uri: Uri, path: &str) -> Result<Uri, http::uri::InvalidUri> {
    let mut parts = uri.into_parts();
    let path_and_query = match parts.path_and_query.as_ref().and_then(|pq| pq.query()) {
        Some(q) => format!("{path}?{q}"),
        None => path.to_string(),
    };
    parts.path_and_query = Some(path_and_query.parse()?);
    // Only the path changed, so the parts still make a URI.
    Ok(Uri::from_parts(parts).unwrap_or_default())
}
