//! Authorize: the route's guard, after throttle and before request mapping, as AWS
//! orders them. A JWT route checks the token against its issuer's keys (`jwt.rs`), a
//! CUSTOM route asks its Lambda authorizer (`lambda.rs`), an AWS_IAM route checks the
//! request's SigV4 signature (`iam.rs`). What the guard learnt about the caller goes into
//! the context for `$context.authorizer.*` and the Lambda event.
//!
//! A missing identity source is 401 without asking anyone, as AWS answers it.
mod iam;
/// Public for the verification benchmark (`benches/jwt_verify.rs`).
pub mod jwt;
mod lambda;

use std::borrow::Cow;

use http::Uri;
use http::request::Parts;
use portico_model::{ContextVar, IdentitySource};

use crate::config::authorizers::{CompiledAuthorizer, RouteAuth};
use crate::config::route_table::RouteMatch;
use crate::integrations::lambda::LambdaClient;
use crate::integrations::{MAX_BODY_BYTES, ReadError};
use crate::proxy::body::DownstreamBody;
use crate::proxy::context::{Matched, RequestContext};
use crate::proxy::error::ProxyError;
use crate::proxy::phases::map_request;
use crate::runtime::invoke_keys::InvokeKeyring;

/// The request as the guard reads it.
pub struct Guarded<'r> {
    pub parts: &'r Parts,
    pub uri: &'r Uri,
    pub host: Option<&'r str>,
    /// The path the routes see (without the stage).
    pub path: &'r str,
}

/// What the guards call on: the worker's Lambda client and the node's invoke keys.
pub struct Guards<'s> {
    pub lambda: &'s LambdaClient,
    pub invoke_keys: &'s InvokeKeyring,
}

pub async fn authorize<'cfg>(
    guards: Guards<'_>,
    ctx: &mut RequestContext<'cfg>,
    matched: Matched<'cfg>,
    route: &RouteMatch<'_, '_>,
    request: &Guarded<'_>,
    body: &mut DownstreamBody,
) -> Result<(), ProxyError> {
    let authorizers = matched.stage.authorizers();
    let authorized = match &matched.route.auth {
        RouteAuth::None => return Ok(()),
        RouteAuth::Jwt { authorizer, scopes } => {
            let Some(CompiledAuthorizer::Jwt(a)) = authorizers.get(*authorizer) else {
                return Err(ProxyError::Unauthorized(
                    "the route's authorizer is missing",
                ));
            };
            let token = identity_value(&a.source, ctx, matched, request);
            jwt::verify(a, scopes, token.as_deref()).await?
        }
        RouteAuth::Custom { authorizer } => {
            let Some(CompiledAuthorizer::Lambda(a)) = authorizers.get(*authorizer) else {
                return Err(ProxyError::Unauthorized(
                    "the route's authorizer is missing",
                ));
            };
            let mut values = Vec::with_capacity(a.sources.len());
            for source in a.sources.iter() {
                match identity_value(source, ctx, matched, request) {
                    Some(v) => values.push(v.into_owned()),
                    None => return Err(ProxyError::Unauthorized("an identity source is missing")),
                }
            }
            lambda::ask(a, guards.lambda, ctx, matched, route, request, &values).await?
        }
        RouteAuth::Iam => {
            if crate::integrations::declared_length(&request.parts.headers)
                .is_some_and(|len| len > MAX_BODY_BYTES as u64)
            {
                return Err(ProxyError::PayloadTooLarge);
            }
            let whole = body.read_whole(MAX_BODY_BYTES).await.map_err(|e| match e {
                ReadError::TooLarge => ProxyError::PayloadTooLarge,
                ReadError::Failed(e) => ProxyError::RequestBody(e),
            })?;
            iam::verify(guards.invoke_keys, request, &whole)?
        }
    };
    ctx.authorized = Some(authorized);
    Ok(())
}

/// An identity source's value; `None` when it is missing or empty.
fn identity_value<'r>(
    source: &IdentitySource,
    ctx: &RequestContext<'_>,
    matched: Matched<'_>,
    request: &Guarded<'r>,
) -> Option<Cow<'r, str>> {
    let value: Cow<'r, str> = match source {
        IdentitySource::Header(name) => {
            let mut values = request.parts.headers.get_all(name.as_str()).iter();
            let first = values.next()?.to_str().ok()?;
            match values.next() {
                None => Cow::Borrowed(first),
                // Repeated headers count as one value, comma-joined, as HTTP allows.
                Some(second) => {
                    let mut joined = format!("{first},{}", second.to_str().ok()?);
                    for v in values {
                        joined.push(',');
                        joined.push_str(v.to_str().ok()?);
                    }
                    Cow::Owned(joined)
                }
            }
        }
        IdentitySource::QueryString(name) => {
            let query = request.uri.query()?;
            form_urlencoded::parse(query.as_bytes())
                .find(|(n, _)| n == name)
                .map(|(_, v)| Cow::Owned(v.into_owned()))?
        }
        IdentitySource::Context(name) => {
            let var = ContextVar::from_name(name)?;
            let facts = map_request::facts(request.parts, request.uri, request.host);
            let mut out = String::new();
            ctx.write_variable(var, matched, &facts, &mut out);
            Cow::Owned(out)
        }
        IdentitySource::StageVariable(name) => {
            Cow::Owned(matched.stage.stage_variables.get(name)?.clone())
        }
    };
    (!value.is_empty()).then_some(value)
}
