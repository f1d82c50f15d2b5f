//! Integrate: hand the request to the matched route's integration.

use http::{HeaderValue, Response, Uri};

use crate::config::integration::CompiledIntegration;
use crate::config::route_table::RouteMatch;
use crate::integrations::http_proxy;
use crate::proxy::body::{DownstreamBody, UpstreamPool, UpstreamResponseBody};
use crate::proxy::context::{Matched, RequestContext};
use crate::proxy::error::ProxyError;

/// What integrate needs of the request beyond its match.
pub struct Outgoing<'r> {
    pub uri: &'r Uri,
    pub forwarded_host: Option<HeaderValue>,
    pub parts: http::request::Parts,
    pub body: DownstreamBody,
}

pub async fn integrate(
    upstream: &UpstreamPool,
    ctx: &RequestContext<'_>,
    matched: Matched<'_>,
    route: RouteMatch<'_, '_>,
    request: Outgoing<'_>,
) -> Result<Response<UpstreamResponseBody>, ProxyError> {
    match matched
        .stage
        .integration_for(matched.route)
        .ok_or(ProxyError::NoIntegration)?
    {
        CompiledIntegration::HttpProxy(integration) => {
            let upstream_uri = integration
                .uri
                .build(|name| route.param(name), request.uri.query())
                .map_err(ProxyError::UpstreamUri)?;
            http_proxy::forward(
                upstream,
                integration,
                upstream_uri,
                request.parts,
                request.body,
                &ctx.client.forwarded_for,
                request.forwarded_host,
            )
            .await
            .map_err(ProxyError::from)
        }
        CompiledIntegration::Unusable(reason) => {
            Err(ProxyError::UnusableIntegration(reason.clone()))
        }
    }
}
