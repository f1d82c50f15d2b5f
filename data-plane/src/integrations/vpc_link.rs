//! Private integrations: an HTTP proxy whose connection goes to one of a VPC link's
//! targets, chosen by the link's balancer among the endpoints that may serve. The URL's
//! host is sent as `Host` (and SNI); an ELB listener or Cloud Map ARN sends the client's
//! path, with the target as `Host`. A request that never left (the endpoint refused the
//! connection) is sent to another endpoint, and the refusal ejects the endpoint at once.
use std::sync::Arc;

use http::header::HOST;
use http::request::Parts;
use http::uri::PathAndQuery;
use http::{HeaderValue, Request, Response, Uri};
use http_body_util::Limited;

use super::http_proxy::{ForwardError, caused_by_body_limit, finish, prepare};
use super::{MAX_BODY_BYTES, declared_length};
use crate::config::integration::{PrivateIntegration, PrivateTls};
use crate::error_chain::ErrorChain;
use crate::runtime::vpc_links::Endpoint;
use crate::upstream::dial::{DialError, DialTls};
use crate::upstream::pool::{
    RequestBody, SendFailure, UpstreamError, UpstreamPool, UpstreamResponseBody,
};

/// Endpoints one request is tried on at most.
const MAX_ATTEMPTS: usize = 3;

/// Why a private integration had nowhere to send the request (AWS: 503).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum NoTarget {
    #[error("no target of the VPC link is healthy")]
    NoneHealthy,
    #[error("this node is outside every group of the VPC link (--vpc-link-group)")]
    Unreachable,
}

/// Why a private integration failed: an HTTP proxy's reasons, and a link's own.
#[derive(Debug, thiserror::Error)]
pub enum PrivateError {
    #[error("{0}")]
    NoTarget(NoTarget),
    /// A target's certificate does not carry the name to verify.
    #[error("the target's certificate failed verification")]
    TlsVerification(#[source] UpstreamError),
    #[error(transparent)]
    Forward(#[from] ForwardError),
}

/// Sends the request to one of the link's endpoints and waits for the response head,
/// within the integration's timeout over every attempt.
#[allow(clippy::too_many_arguments)]
pub async fn forward<B>(
    pool: &UpstreamPool<Limited<B>>,
    integration: &PrivateIntegration,
    upstream: Uri,
    mut parts: Parts,
    body: B,
    client_ip: &HeaderValue,
    forwarded_host: Option<HeaderValue>,
) -> Result<Response<UpstreamResponseBody<Limited<B>>>, PrivateError>
where
    Limited<B>: RequestBody,
{
    let link = integration
        .link
        .runtime
        .as_ref()
        .ok_or(PrivateError::NoTarget(NoTarget::Unreachable))?;
    if declared_length(&parts.headers).is_some_and(|len| len > MAX_BODY_BYTES as u64) {
        return Err(ForwardError::PayloadTooLarge.into());
    }
    let url_host = integration
        .uri
        .as_ref()
        .and_then(|u| u.host_header())
        .cloned();
    let host_is_ours = prepare(
        &mut parts,
        client_ip,
        url_host.clone(),
        forwarded_host,
        integration.method.as_ref(),
    );
    parts.uri = upstream
        .path_and_query()
        .cloned()
        .map_or_else(|| Uri::from_static("/"), Uri::from);
    let mut request = Request::from_parts(parts, Limited::new(body, MAX_BODY_BYTES));
    let deadline = tokio::time::Instant::now() + integration.timeout;

    // Only a failed attempt allocates.
    let mut tried: Vec<Arc<Endpoint>> = Vec::new();
    loop {
        let endpoint = link
            .pick(&tried)
            .ok_or(PrivateError::NoTarget(NoTarget::NoneHealthy))?;
        if host_is_ours && url_host.is_none() {
            request
                .headers_mut()
                .insert(HOST, endpoint.target_host.clone());
        }
        let per_target;
        let tls = match &integration.tls {
            PrivateTls::Plain => None,
            PrivateTls::Name(tls) => Some(tls),
            PrivateTls::TargetName => {
                per_target = target_tls(integration, &endpoint);
                per_target.as_ref()
            }
        };
        let in_flight = endpoint.start();
        let sent = tokio::time::timeout_at(
            deadline,
            pool.send_to(endpoint.addr, &endpoint.authority, tls, request),
        )
        .await;
        drop(in_flight);
        match sent {
            Err(_elapsed) => return Err(ForwardError::Timeout(integration.timeout).into()),
            Ok(Ok(mut response)) => {
                link.record_status(&endpoint, response.status().as_u16());
                response.body_mut().set_read_timeout(integration.timeout);
                return finish(response).map_err(Into::into);
            }
            Ok(Err(SendFailure { error, unsent })) => {
                if caused_by_body_limit(&error) {
                    return Err(ForwardError::PayloadTooLarge.into());
                }
                if failed_verification(&error) {
                    // The certificate does not carry this integration's name (or chain to
                    // the link's roots): a configuration fault, not the target's, so it
                    // neither ejects the target for the link's other integrations nor
                    // tries the next one. AWS answers 500.
                    return Err(PrivateError::TlsVerification(error));
                }
                match unsent {
                    // Refused, reset or failed its handshake before anything was sent.
                    Some(again) => {
                        link.record_connect_failure(&endpoint, &ErrorChain(&error));
                        if tried.len() + 1 >= MAX_ATTEMPTS {
                            return Err(ForwardError::Upstream(error).into());
                        }
                        tried.push(endpoint);
                        request = again;
                    }
                    // Broke off after the request went: a gateway error, as a 502 counts.
                    None => {
                        link.record_status(&endpoint, 502);
                        return Err(ForwardError::Upstream(error).into());
                    }
                }
            }
        }
    }
}

/// Whether the TLS handshake failed because of the certificate the target presented.
fn failed_verification(error: &UpstreamError) -> bool {
    let UpstreamError::Connect(cause) = error else {
        return false;
    };
    let Some(DialError::Tls(io)) = cause.downcast_ref::<DialError>() else {
        return false;
    };
    io.get_ref()
        .and_then(|e| e.downcast_ref::<rustls::Error>())
        .is_some_and(|e| matches!(e, rustls::Error::InvalidCertificate(_)))
}

/// TLS verified against the endpoint's own host, for an ARN integration with no server
/// name to verify.
fn target_tls(integration: &PrivateIntegration, endpoint: &Endpoint) -> Option<DialTls> {
    let server_name = endpoint.check_name.clone()?;
    let id = crate::config::integration::tls_id(&integration.link.id, &endpoint.target);
    Some(DialTls {
        config: integration.link.tls.clone(),
        server_name,
        id,
    })
}

/// The path and query a private integration sends: the URL's, with the request's
/// parameters, or for an ARN the client's own.
pub fn upstream_target<'a>(
    integration: &PrivateIntegration,
    client: &Uri,
    param: impl Fn(&str) -> Option<&'a str>,
    query: Option<&str>,
) -> Result<Uri, http::uri::InvalidUri> {
    match &integration.uri {
        Some(u) => u.build(param, query),
        None => {
            let path = client.path();
            let pq = match query.filter(|q| !q.is_empty()) {
                Some(q) => format!("{path}?{q}"),
                None => path.to_string(),
            };
            Ok(Uri::from(pq.parse::<PathAndQuery>()?))
        }
    }
}
