//! A Lambda (REQUEST) authorizer: the function gets AWS's authorizer event through the
//! same Lambda client, endpoint, credentials and signing as Lambda integrations, and its
//! answer is cached for the authorizer's TTL by the stage and the identity values.
use std::fmt::Write;
use std::sync::Arc;
use std::time::{Instant, SystemTime};

use bytes::Bytes;

use crate::config::authorizers::LambdaAuthorizer;
use crate::config::route_table::RouteMatch;
use crate::integrations::lambda::LambdaClient;
use crate::integrations::lambda::authorizer::{AuthorizerAnswer, AuthorizerFailure};
use crate::integrations::lambda::event::{self, EventRequest, ForAuthorizer};
use crate::proxy::context::{Authorized, Matched, RequestContext};
use crate::proxy::error::ProxyError;

use super::Guarded;

/// The route's ARN as AWS gives it to authorizers:
/// `arn:{partition}:execute-api:{region}:{account}:{apiId}/{stage}/{METHOD}{path}`. A
/// self-hosted API has no region or account of its own; the authorizer function's are
/// used, so a policy written for AWS reads the same here.
fn route_arn(a: &LambdaAuthorizer, matched: Matched<'_>, request: &Guarded<'_>) -> String {
    let arn = &a.function.arn;
    format!(
        "arn:{}:execute-api:{}:{}:{}/{}/{}{}",
        arn.partition,
        arn.region,
        arn.account_id,
        matched.api.api_id,
        matched.stage.name,
        request.parts.method,
        request.path
    )
}

pub async fn ask(
    a: &LambdaAuthorizer,
    client: &LambdaClient,
    ctx: &RequestContext<'_>,
    matched: Matched<'_>,
    route: &RouteMatch<'_, '_>,
    request: &Guarded<'_>,
    values: &[String],
) -> Result<Authorized, ProxyError> {
    let route_arn = route_arn(a, matched, request);
    // Each value with its length first, so that no two lists of values make one key.
    let cache_key = a.cache.as_ref().map(|_| {
        let mut key = String::with_capacity(64);
        key.push_str(&matched.stage.name);
        for v in values {
            let _ = write!(key, "\0{}:{v}", v.len());
        }
        key
    });
    let now = Instant::now();
    let cached = match (&a.cache, &cache_key) {
        (Some(cache), Some(key)) => cache.get(key, now),
        _ => None,
    };
    let answer = match cached {
        Some(answer) => answer,
        None => {
            let event = event::build(
                a.payload(),
                &EventRequest {
                    method: &request.parts.method,
                    uri: request.uri,
                    version: request.parts.version,
                    headers: &request.parts.headers,
                    host: request.host,
                    source_ip: ctx.client.addr.ip(),
                    request_id: ctx.request_id.as_str(),
                    api_id: &matched.api.api_id,
                    stage: &matched.stage.name,
                    route: *route,
                    stage_variables: (!matched.stage.stage_variables.is_empty())
                        .then_some(matched.stage.stage_variables.as_ref()),
                    body: &[],
                    received: SystemTime::now(),
                    authorized: None,
                    for_authorizer: Some(ForAuthorizer {
                        route_arn: &route_arn,
                        identity: values,
                    }),
                    client_cert: ctx.client_cert(),
                },
            );
            let timeout = a.function.timeout;
            let output =
                tokio::time::timeout(timeout, client.invoke(&a.function, Bytes::from(event)))
                    .await
                    .map_err(|_| AuthorizerFailure::Timeout(timeout))?
                    .map_err(AuthorizerFailure::from)?;
            let answer = Arc::new(
                AuthorizerAnswer::read(&output, a.simple_responses)
                    .map_err(AuthorizerFailure::from)?,
            );
            if let (Some(cache), Some(key)) = (&a.cache, &cache_key) {
                cache.put(key, answer.clone(), a.ttl, now);
            }
            answer
        }
    };
    if answer.allows(&route_arn) {
        Ok(Authorized::Lambda(answer))
    } else {
        Err(ProxyError::Forbidden(
            "the Lambda authorizer refused the request",
        ))
    }
}
