//! A deployment's authorizers in the form the authorize phase reads: a JWT authorizer
//! with its issuer's keys (kept fresh in `runtime::jwks`), a Lambda authorizer with its
//! function and its result cache (`runtime::authorizer_cache`), and each route's
//! [`RouteAuth`].
use std::sync::Arc;
use std::time::Duration;

use foldhash::{HashMap, HashMapExt};
use jsonwebtoken::Algorithm;
use portico_model::{IdentitySource, ValidationError, validate_issuer};
use portico_proto::{AuthorizationType, Authorizer, AuthorizerType};

use super::lambda::{LambdaFunction, LambdaSpecError, PayloadFormat};
use crate::runtime::Runtime;
use crate::runtime::authorizer_cache::AuthorizerCache;
use crate::runtime::jwks::IssuerKeys;

/// AWS gives a Lambda authorizer 10 seconds to answer.
pub const LAMBDA_AUTHORIZER_TIMEOUT: Duration = Duration::from_secs(10);

/// How far the node's clock and the issuer's may disagree.
pub const JWT_LEEWAY_SECONDS: u64 = 60;

/// The algorithms a JWT authorizer verifies: RSA (AWS's), and ECDSA and EdDSA.
pub const JWT_ALGORITHMS: [Algorithm; 9] = [
    Algorithm::RS256,
    Algorithm::RS384,
    Algorithm::RS512,
    Algorithm::PS256,
    Algorithm::PS384,
    Algorithm::PS512,
    Algorithm::ES256,
    Algorithm::ES384,
    Algorithm::EdDSA,
];

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthorizerError {
    #[error("unknown authorizer type {0}")]
    UnknownType(i32),
    #[error("{0}")]
    Invalid(ValidationError),
    #[error("{0}")]
    Lambda(LambdaSpecError),
    #[error("a JWT authorizer needs exactly one identity source")]
    JwtSource,
}

/// How a route is guarded.
#[derive(Debug, Clone, Default)]
pub enum RouteAuth {
    #[default]
    None,
    /// The deployment's authorizer at this index (a JWT one), and the route's scopes.
    Jwt {
        authorizer: usize,
        scopes: Arc<[String]>,
    },
    /// The deployment's Lambda authorizer at this index.
    Custom { authorizer: usize },
    /// SigV4 with an access key of Portico's (`execute-api`).
    Iam,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RouteAuthError {
    #[error("unknown authorization type {0}")]
    UnknownType(i32),
    #[error("names missing authorizer {0}")]
    MissingAuthorizer(String),
    #[error("authorization type {wanted} needs a {wanted} authorizer; {id} is not one")]
    WrongKind { wanted: &'static str, id: String },
    #[error("authorization type {0} takes no authorizer")]
    Unexpected(&'static str),
}

#[derive(Debug)]
pub enum CompiledAuthorizer {
    Jwt(JwtAuthorizer),
    Lambda(Box<LambdaAuthorizer>),
}

#[derive(Debug)]
pub struct JwtAuthorizer {
    pub authorizer_id: String,
    pub source: IdentitySource,
    pub issuer: String,
    pub audience: Box<[String]>,
    pub keys: Arc<IssuerKeys>,
}

#[derive(Debug)]
pub struct LambdaAuthorizer {
    pub authorizer_id: String,
    pub function: LambdaFunction,
    pub simple_responses: bool,
    pub sources: Box<[IdentitySource]>,
    pub ttl: Duration,
    /// `None` when the TTL is 0: every request asks the function.
    pub cache: Option<Arc<AuthorizerCache>>,
}

impl LambdaAuthorizer {
    pub fn payload(&self) -> PayloadFormat {
        self.function.payload
    }
}

/// The deployment's authorizers, and where each is found by id.
#[derive(Debug, Default)]
pub struct DeploymentAuthorizers {
    pub list: Box<[CompiledAuthorizer]>,
    by_id: HashMap<String, usize>,
}

impl DeploymentAuthorizers {
    pub fn compile(
        api_id: &str,
        authorizers: &[Authorizer],
        runtime: &Runtime,
    ) -> Result<Self, (String, AuthorizerError)> {
        let mut list = Vec::with_capacity(authorizers.len());
        let mut by_id = HashMap::with_capacity(authorizers.len());
        for a in authorizers {
            let compiled =
                compile_one(api_id, a, runtime).map_err(|e| (a.authorizer_id.clone(), e))?;
            by_id.insert(a.authorizer_id.clone(), list.len());
            list.push(compiled);
        }
        Ok(DeploymentAuthorizers {
            list: list.into(),
            by_id,
        })
    }

    pub fn get(&self, index: usize) -> Option<&CompiledAuthorizer> {
        self.list.get(index)
    }

    /// A route's guard, checked against these authorizers.
    pub fn route_auth(&self, route: &portico_proto::Route) -> Result<RouteAuth, RouteAuthError> {
        let kind = AuthorizationType::try_from(route.authorization_type)
            .map_err(|_| RouteAuthError::UnknownType(route.authorization_type))?;
        let find = |wanted: &'static str| {
            let id = &route.authorizer_id;
            let &i = self
                .by_id
                .get(id)
                .ok_or_else(|| RouteAuthError::MissingAuthorizer(id.clone()))?;
            let right_kind = matches!(
                (wanted, &self.list[i]),
                ("JWT", CompiledAuthorizer::Jwt(_)) | ("REQUEST", CompiledAuthorizer::Lambda(_))
            );
            if !right_kind {
                return Err(RouteAuthError::WrongKind {
                    wanted,
                    id: id.clone(),
                });
            }
            Ok(i)
        };
        let no_authorizer = |name| {
            if route.authorizer_id.is_empty() {
                Ok(())
            } else {
                Err(RouteAuthError::Unexpected(name))
            }
        };
        Ok(match kind {
            AuthorizationType::None => {
                no_authorizer("NONE")?;
                RouteAuth::None
            }
            AuthorizationType::AwsIam => {
                no_authorizer("AWS_IAM")?;
                RouteAuth::Iam
            }
            AuthorizationType::Jwt => RouteAuth::Jwt {
                authorizer: find("JWT")?,
                scopes: route.authorization_scopes.clone().into(),
            },
            AuthorizationType::Custom => RouteAuth::Custom {
                authorizer: find("REQUEST")?,
            },
        })
    }
}

fn compile_one(
    api_id: &str,
    a: &Authorizer,
    runtime: &Runtime,
) -> Result<CompiledAuthorizer, AuthorizerError> {
    let sources = a
        .identity_source
        .iter()
        .map(|s| IdentitySource::parse(s))
        .collect::<Result<Vec<_>, _>>()
        .map_err(AuthorizerError::Invalid)?;
    match AuthorizerType::try_from(a.authorizer_type) {
        Ok(AuthorizerType::Jwt) => {
            validate_issuer(&a.issuer).map_err(AuthorizerError::Invalid)?;
            let [source] =
                <[IdentitySource; 1]>::try_from(sources).map_err(|_| AuthorizerError::JwtSource)?;
            Ok(CompiledAuthorizer::Jwt(JwtAuthorizer {
                authorizer_id: a.authorizer_id.clone(),
                source,
                issuer: a.issuer.clone(),
                audience: a.audience.clone().into(),
                keys: runtime.jwks.issuer(&a.issuer),
            }))
        }
        Ok(AuthorizerType::Request) => {
            let function = LambdaFunction::new(
                &a.authorizer_id,
                &a.uri,
                &a.payload_format_version,
                LAMBDA_AUTHORIZER_TIMEOUT,
            )
            .map_err(AuthorizerError::Lambda)?;
            let ttl = Duration::from_secs(u64::from(a.result_ttl_seconds));
            // A new function or payload format starts a new cache: answers of the old
            // one must not stand in for the new one.
            let cache = (a.result_ttl_seconds > 0).then(|| {
                runtime.authorizer_cache.cache(&format!(
                    "{api_id}/{}/{}/{}/{}",
                    a.authorizer_id, a.uri, a.payload_format_version, a.enable_simple_responses
                ))
            });
            Ok(CompiledAuthorizer::Lambda(Box::new(LambdaAuthorizer {
                authorizer_id: a.authorizer_id.clone(),
                function,
                simple_responses: a.enable_simple_responses,
                sources: sources.into(),
                ttl,
                cache,
            })))
        }
        _ => Err(AuthorizerError::UnknownType(a.authorizer_type)),
    }
}
