//! Resolve: host → API → stage → route, against the compiled tables.

use http::{Method, Uri};

use crate::config::CompiledConfig;
use crate::config::route_table::RouteMatch;
use crate::proxy::context::Matched;
use crate::proxy::error::ProxyError;

/// Finds the route for `method` `uri` on `host`: the match every later phase takes,
/// and the route's path parameters for the integrate phase.
pub fn resolve<'cfg, 'r>(
    config: &'cfg CompiledConfig,
    method: &Method,
    host: Option<&str>,
    uri: &'r Uri,
) -> Result<(Matched<'cfg>, RouteMatch<'cfg, 'r>), ProxyError> {
    let api = config
        .api_for_host(host.ok_or(ProxyError::NotFound)?)
        .ok_or(ProxyError::NotFound)?;
    let (stage, path) = api.stage_for_path(uri.path()).ok_or(ProxyError::NotFound)?;
    let route = stage
        .routes()
        .lookup(method, path)
        .ok_or(ProxyError::NotFound)?;
    let matched = Matched {
        api,
        stage,
        route: route.route,
    };
    Ok((matched, route))
}
