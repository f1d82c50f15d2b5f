//! Resolve: host → API → stage, then `METHOD /path` → route, against the compiled
//! tables. The two halves are separate because CORS preflights are answered between
//! them, before any route is looked at.

use http::{Method, Uri};

use crate::config::route_table::RouteMatch;
use crate::config::{CompiledApi, CompiledConfig, CompiledStage};
use crate::proxy::context::Matched;
use crate::proxy::error::ProxyError;

/// The API the host names and the stage the path's first segment names, with the path
/// the routes see.
pub fn resolve_stage<'cfg, 'r>(
    config: &'cfg CompiledConfig,
    host: Option<&str>,
    uri: &'r Uri,
) -> Result<(&'cfg CompiledApi, &'cfg CompiledStage, &'r str), ProxyError> {
    let api = config
        .api_for_host(host.ok_or(ProxyError::NotFound)?)
        .ok_or(ProxyError::NotFound)?;
    let (stage, path) = api.stage_for_path(uri.path()).ok_or(ProxyError::NotFound)?;
    Ok((api, stage, path))
}

/// Finds the stage's route for `method` `path`: the match every later phase takes, and
/// the route's path parameters for mapping and integrate.
pub fn resolve_route<'cfg, 'r>(
    api: &'cfg CompiledApi,
    stage: &'cfg CompiledStage,
    method: &Method,
    path: &'r str,
) -> Result<(Matched<'cfg>, RouteMatch<'cfg, 'r>), ProxyError> {
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
