//! Resolve: host → API → stage, then `METHOD /path` → route, against the compiled
//! tables. The host is a custom domain name (its API mappings pick the API and stage by
//! the path's leading segments) or `{apiId}.execute-api…` (the path's first segment
//! names the stage). The two halves are separate because CORS preflights are answered
//! between them, before any route is looked at.

use http::{Method, Uri};

use crate::config::route_table::RouteMatch;
use crate::config::{CompiledApi, CompiledConfig, CompiledStage, HostTarget};
use crate::proxy::client_tls::ClientTls;
use crate::proxy::context::Matched;
use crate::proxy::error::ProxyError;

/// The API the host names and the stage the path selects, with the path the routes see
/// and, through a custom domain, the API mapping key that matched.
/// A mutual-TLS domain is only served on a connection whose handshake was for it with a
/// verified client certificate, so another domain's SNI (or plain HTTP) cannot reach it.
/// An API whose execute-api endpoint is disabled answers 403 there, as AWS does
/// (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-disable-default-endpoint.html).
pub fn resolve_stage<'cfg, 'r>(
    config: &'cfg CompiledConfig,
    host: Option<&str>,
    uri: &'r Uri,
    tls: Option<&ClientTls>,
) -> Result<
    (
        &'cfg CompiledApi,
        &'cfg CompiledStage,
        &'r str,
        Option<&'cfg str>,
    ),
    ProxyError,
> {
    match config
        .target_for_host(host.ok_or(ProxyError::NotFound)?)
        .ok_or(ProxyError::NotFound)?
    {
        HostTarget::ExecuteApi(api) => {
            let (stage, path) = api.stage_for_path(uri.path()).ok_or(ProxyError::NotFound)?;
            Ok((api, stage, path, None))
        }
        HostTarget::DisabledExecuteApi => {
            Err(ProxyError::Forbidden("execute-api endpoint disabled"))
        }
        HostTarget::Domain(domain) => {
            if domain.mutual_tls
                && !tls.is_some_and(|t| *t.domain == *domain.name && t.client_cert.is_some())
            {
                return Err(ProxyError::Forbidden(
                    "mutual TLS domain reached without its handshake",
                ));
            }
            let (mapping, path) = domain.mapping_for(uri.path()).ok_or(ProxyError::NotFound)?;
            let (api, stage) = config.mapped_stage(mapping).ok_or(ProxyError::NotFound)?;
            Ok((api, stage, path, Some(mapping.key())))
        }
    }
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
