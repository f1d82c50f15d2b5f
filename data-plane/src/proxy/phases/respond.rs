//! Respond: the upstream's response streams through; every error becomes its AWS-shaped
//! response here, with the detail logged rather than sent. Both carry the request's
//! `apigw-requestid`, and on an API with CORS, the API's CORS headers in place of any
//! the backend sent.

use http::Response;
use tracing::{debug, warn};

use crate::error_chain::ErrorChain;
use crate::proxy::body::ProxyBody;
use crate::proxy::context::RequestContext;
use crate::proxy::error::{ErrorOrigin, ProxyError};
use crate::proxy::request_id::APIGW_REQUEST_ID;

pub fn respond(
    ctx: &RequestContext<'_>,
    outcome: Result<Response<ProxyBody>, ProxyError>,
) -> Response<ProxyBody> {
    let (api, stage, route) = match &ctx.matched {
        Some(m) => (
            m.api.api_id.as_str(),
            m.stage.name.as_str(),
            m.route.route_id.as_str(),
        ),
        None => ("-", "-", "-"),
    };
    let mut response = match outcome {
        Ok(response) => {
            // Off unless asked for (RUST_LOG=portico_data_plane=debug): then one line per
            // request served, at its response head. Access logs are their own phase.
            debug!(
                api,
                stage,
                route,
                status = response.status().as_u16(),
                request_id = ctx.request_id.as_str(),
                elapsed_us = ctx.received_at.elapsed().as_micros() as u64,
                "served"
            );
            response
        }
        Err(e) => {
            let spec = e.spec();
            match spec.origin {
                ErrorOrigin::Downstream => {
                    debug!(
                        api,
                        stage,
                        route,
                        request_id = ctx.request_id.as_str(),
                        status = spec.status.as_u16(),
                        "{e}"
                    );
                }
                ErrorOrigin::Upstream | ErrorOrigin::Internal => {
                    warn!(
                        api,
                        stage,
                        route,
                        request_id = ctx.request_id.as_str(),
                        version = ctx.config_version,
                        status = spec.status.as_u16(),
                        response_type = spec.response_type,
                        elapsed_ms = ctx.received_at.elapsed().as_millis() as u64,
                        "{}",
                        ErrorChain(&e)
                    );
                }
            }
            e.into_response()
        }
    };
    if let Some(cors) = &ctx.cors {
        cors.apply(response.headers_mut());
    }
    // The backend's own `apigw-requestid`, if it sent one, is not the gateway's.
    response
        .headers_mut()
        .insert(APIGW_REQUEST_ID, ctx.request_id.header_value());
    response
}
