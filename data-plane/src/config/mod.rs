//! The runtime form of a snapshot: everything a request needs, worked out before the
//! config is swapped in. Host → API, path → stage, `METHOD /path` → route, route →
//! integration with the stage's variables already rendered.
//!
//! Compiling is a pure function of the wire snapshot (wire → runtime); it checks the
//! snapshot's internal consistency (every reference resolves, no duplicates, every URI
//! template valid) so that a snapshot a node cannot apply is rejected whole, with a
//! reason, instead of half-serving. What only a stage's variables break is not such a
//! snapshot: AWS deploys it and answers 500 on the routes it touches, and so does a node
//! ([`StageProblem`]). The control plane runs this same compiler before it publishes.

pub mod access_log;
pub mod authorizers;
pub mod cors;
pub mod domains;
pub mod integration;
pub mod lambda;
pub mod parameter_mapping;
pub mod route_table;
pub mod throttle;
pub mod tls;
pub mod vpc_links;

use foldhash::{HashMap, HashMapExt};
use std::collections::hash_map::Entry;
use std::sync::Arc;

use portico_model::{RouteKey, ValidationError};
use portico_proto::Snapshot;

use crate::runtime::Runtime;
use crate::runtime::meters::RouteMeter;
use access_log::CompiledAccessLog;
use authorizers::{AuthorizerError, DeploymentAuthorizers, RouteAuthError};
use cors::{CompiledCors, CorsError};
use domains::{CompiledDomain, CompiledMapping, DomainError, DomainTable};
use integration::{CompiledIntegration, IntegrationError, IntegrationSpec, InvalidUpstreamUri};
use route_table::{DuplicateRoute, RouteEntry, RouteTable};
use throttle::RouteLimit;

/// The stage that serves paths whose first segment names no other stage.
pub const DEFAULT_STAGE: &str = "$default";

/// Why a snapshot cannot be served. The text goes back to the control plane in the NACK,
/// so it names the resource at fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CompileError {
    #[error("the snapshot has APIs but no execute-api domain")]
    MissingExecuteApiDomain,
    #[error("stage {stage} of api {api_id}: access log: {reason}")]
    AccessLog {
        api_id: String,
        stage: String,
        reason: ValidationError,
    },
    #[error("api {0} appears twice")]
    DuplicateApi(String),
    #[error("deployment {deployment_id} names unknown api {api_id}")]
    DeploymentOfUnknownApi {
        api_id: String,
        deployment_id: String,
    },
    #[error("deployment {deployment_id} of api {api_id} appears twice")]
    DuplicateDeployment {
        api_id: String,
        deployment_id: String,
    },
    #[error("deployment {deployment_id} of api {api_id}: route {route_id}: {reason}")]
    Route {
        api_id: String,
        deployment_id: String,
        route_id: String,
        reason: RouteError,
    },
    #[error("deployment {deployment_id} of api {api_id}: integration {integration_id}: {reason}")]
    Integration {
        api_id: String,
        deployment_id: String,
        integration_id: String,
        reason: IntegrationError,
    },
    #[error("deployment {deployment_id} of api {api_id}: authorizer {authorizer_id}: {reason}")]
    Authorizer {
        api_id: String,
        deployment_id: String,
        authorizer_id: String,
        reason: Box<AuthorizerError>,
    },
    #[error("deployment {deployment_id} of api {api_id}: {reason}")]
    Cors {
        api_id: String,
        deployment_id: String,
        reason: CorsError,
    },
    #[error(
        "deployment {deployment_id} of api {api_id}: integration {integration_id} appears twice"
    )]
    DuplicateIntegration {
        api_id: String,
        deployment_id: String,
        integration_id: String,
    },
    #[error("VPC link {vpc_link_id}: {reason}")]
    VpcLink { vpc_link_id: String, reason: String },
    #[error("domain name {domain_name}: {reason}")]
    Domain {
        domain_name: String,
        reason: DomainError,
    },
    #[error("stage {stage} names unknown api {api_id}")]
    StageOfUnknownApi { api_id: String, stage: String },
    #[error("stage {stage} of api {api_id} appears twice")]
    DuplicateStage { api_id: String, stage: String },
    #[error("stage {stage} of api {api_id} names missing deployment {deployment_id}")]
    MissingDeployment {
        api_id: String,
        stage: String,
        deployment_id: String,
    },
}

/// Something a stage serves but that cannot work: the stage is served, and requests that
/// reach the broken part get AWS's 500. Nodes log these; the control plane reports them
/// on the stage and its deployment.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("stage {stage} of api {api_id}: integration {integration_id}: {reason}")]
pub struct StageProblem {
    pub api_id: String,
    pub stage: String,
    pub deployment_id: String,
    pub integration_id: String,
    pub reason: InvalidUpstreamUri,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RouteError {
    #[error("{0}")]
    InvalidKey(ValidationError),
    #[error("names missing integration {0}")]
    MissingIntegration(String),
    #[error("{0}")]
    Duplicate(DuplicateRoute),
    #[error("{0}")]
    Auth(RouteAuthError),
}

/// One node's whole runtime config. Swapped in as one unit, so a request that loaded it
/// sees one consistent version from start to end.
#[derive(Debug, Clone)]
pub struct CompiledConfig {
    /// 0 with an empty hash until the first snapshot is live.
    pub version: u64,
    pub content_hash: String,
    /// Shared between versions that carry the same content, so adopting a new version
    /// number for unchanged content is a pointer copy.
    routing: Arc<Routing>,
}

#[derive(Debug, Default)]
struct Routing {
    /// `.{execute_api_domain}`, ASCII-lowercased.
    execute_api_suffix: String,
    /// By ASCII-lowercased API id.
    apis: HashMap<String, CompiledApi>,
    /// Custom domain names: their TLS configs and API mappings.
    domains: DomainTable,
    problems: Vec<StageProblem>,
}

#[derive(Debug)]
pub struct CompiledApi {
    pub api_id: String,
    execute_api_enabled: bool,
    stages: HashMap<String, CompiledStage>,
}

#[derive(Debug)]
pub struct CompiledStage {
    pub name: String,
    pub deployment_id: String,
    routes: Arc<RouteTable>,
    /// Index-aligned with the deployment's integrations, rendered for this stage.
    integrations: Box<[CompiledIntegration]>,
    /// The deployment's CORS configuration, if it has one.
    cors: Option<Arc<CompiledCors>>,
    /// Index-aligned with the routes: the stage's limit on each.
    limits: Box<[Option<RouteLimit>]>,
    /// The deployment's authorizers, which routes name by index.
    authorizers: Arc<DeploymentAuthorizers>,
    /// For identity sources and authorizer events; empty when the stage has none.
    pub stage_variables: Arc<std::collections::BTreeMap<String, String>>,
    /// Index-aligned with the routes: each route's meter.
    meters: Box<[Arc<RouteMeter>]>,
    /// The meter of the stage's requests that match no route.
    unmatched_meter: Arc<RouteMeter>,
    access_log: Option<Arc<CompiledAccessLog>>,
}

/// Counts for logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConfigStats {
    pub apis: usize,
    pub stages: usize,
    pub domains: usize,
}

struct CompiledDeployment {
    routes: Arc<RouteTable>,
    integrations: Vec<IntegrationSpec>,
    cors: Option<Arc<CompiledCors>>,
    authorizers: Arc<DeploymentAuthorizers>,
}

impl CompiledConfig {
    /// What a node serves before any snapshot: nothing, and not ready.
    pub fn empty() -> Self {
        CompiledConfig {
            version: 0,
            content_hash: String::new(),
            routing: Arc::default(),
        }
    }

    /// Compiles a snapshot; what must outlive the swap (token buckets) comes from
    /// `runtime`.
    pub fn compile(
        snapshot: &Snapshot,
        version: u64,
        content_hash: String,
        runtime: &Runtime,
    ) -> Result<Self, CompileError> {
        // Meters of routes no config has served since the last compile go, once reported.
        runtime.meters.prune();
        Ok(CompiledConfig {
            version,
            content_hash,
            routing: Arc::new(Routing::compile(snapshot, runtime)?),
        })
    }

    /// Whether a snapshot (from the cache or a control plane) is being served.
    pub fn is_live(&self) -> bool {
        !self.content_hash.is_empty()
    }

    /// The same content under a new version number.
    pub fn with_version(&self, version: u64) -> Self {
        CompiledConfig {
            version,
            content_hash: self.content_hash.clone(),
            routing: self.routing.clone(),
        }
    }

    /// What compiled but will answer 500, in snapshot order.
    pub fn problems(&self) -> &[StageProblem] {
        &self.routing.problems
    }

    pub fn stats(&self) -> ConfigStats {
        ConfigStats {
            apis: self.routing.apis.len(),
            stages: self.routing.apis.values().map(|a| a.stages.len()).sum(),
            domains: self.routing.domains.len(),
        }
    }

    /// What a `Host` header (or HTTP/2 authority) names, any port ignored,
    /// case-insensitive: a custom domain name, else `{apiId}.{execute_api_domain}`.
    pub fn target_for_host(&self, host: &str) -> Option<HostTarget<'_>> {
        let host = strip_port(host);
        if let Some(domain) = self.routing.domains.lookup(host) {
            return Some(HostTarget::Domain(domain));
        }
        let suffix = self.routing.execute_api_suffix.as_str();
        let host = host.strip_suffix('.').unwrap_or(host);
        if suffix.len() <= 1 || host.len() <= suffix.len() {
            return None;
        }
        let split = host.len() - suffix.len();
        if !host.is_char_boundary(split) || !host[split..].eq_ignore_ascii_case(suffix) {
            return None;
        }
        let id = &host[..split];
        let api = if id.bytes().any(|b| b.is_ascii_uppercase()) {
            self.routing.apis.get(&id.to_ascii_lowercase())
        } else {
            self.routing.apis.get(id)
        }?;
        Some(if api.execute_api_enabled {
            HostTarget::ExecuteApi(api)
        } else {
            HostTarget::DisabledExecuteApi
        })
    }

    /// The domain a TLS handshake's SNI names.
    pub fn domain_for_sni(&self, server_name: &str) -> Option<&Arc<CompiledDomain>> {
        self.routing.domains.lookup(server_name)
    }

    /// The API and stage a mapping points at, if the snapshot serves them (a stage with no
    /// deployment yet is not in it).
    pub fn mapped_stage(
        &self,
        mapping: &CompiledMapping,
    ) -> Option<(&CompiledApi, &CompiledStage)> {
        let api = self.routing.apis.get(&*mapping.api_id)?;
        Some((api, api.stages.get(&*mapping.stage)?))
    }
}

/// What a request's host names.
#[derive(Debug, Clone, Copy)]
pub enum HostTarget<'cfg> {
    ExecuteApi(&'cfg CompiledApi),
    /// `{apiId}.execute-api…` of an API that turned that endpoint off: AWS answers 403.
    DisabledExecuteApi,
    Domain(&'cfg Arc<CompiledDomain>),
}

/// `host[:port]` → `host`; `[v6]:port` → `[v6]`.
pub(crate) fn strip_port(host: &str) -> &str {
    if host.starts_with('[') {
        return host.find(']').map_or(host, |i| &host[..=i]);
    }
    host.split_once(':').map_or(host, |(h, _)| h)
}

impl CompiledApi {
    /// Splits a request path into its stage and the path the routes see: `/dev/notes` →
    /// stage `dev`, `/notes`; `/dev` → `/`. A first segment that names no stage sends the
    /// whole path to the `$default` stage, if the API has one.
    pub fn stage_for_path<'p>(&self, path: &'p str) -> Option<(&CompiledStage, &'p str)> {
        let after = path.strip_prefix('/')?;
        let (first, rest) = match after.find('/') {
            Some(i) => after.split_at(i),
            None => (after, "/"),
        };
        if first != DEFAULT_STAGE
            && let Some(stage) = self.stages.get(first)
        {
            return Some((stage, rest));
        }
        self.stages.get(DEFAULT_STAGE).map(|s| (s, path))
    }
}

impl CompiledStage {
    pub fn routes(&self) -> &RouteTable {
        &self.routes
    }

    /// The route's integration as rendered for this stage; `None` for a route without
    /// a target.
    pub fn integration_for(&self, route: &RouteEntry) -> Option<&CompiledIntegration> {
        route.integration.and_then(|i| self.integrations.get(i))
    }

    pub fn cors(&self) -> Option<&CompiledCors> {
        self.cors.as_deref()
    }

    /// The stage's throttle on `route`, if any.
    pub fn limit_for(&self, route: &RouteEntry) -> Option<&RouteLimit> {
        self.limits.get(route.index)?.as_ref()
    }

    pub fn authorizers(&self) -> &DeploymentAuthorizers {
        &self.authorizers
    }

    /// The meter of `route`, or of the stage's unmatched requests.
    pub fn meter(&self, route: Option<&RouteEntry>) -> &Arc<RouteMeter> {
        route
            .and_then(|r| self.meters.get(r.index))
            .unwrap_or(&self.unmatched_meter)
    }

    pub fn access_log(&self) -> Option<&Arc<CompiledAccessLog>> {
        self.access_log.as_ref()
    }
}

impl Routing {
    fn compile(snapshot: &Snapshot, runtime: &Runtime) -> Result<Self, CompileError> {
        let domain = snapshot.execute_api_domain.trim_matches('.');
        if domain.is_empty() && !snapshot.apis.is_empty() {
            return Err(CompileError::MissingExecuteApiDomain);
        }
        let execute_api_suffix = if domain.is_empty() {
            String::new()
        } else {
            format!(".{}", domain.to_ascii_lowercase())
        };

        let mut apis = HashMap::with_capacity(snapshot.apis.len());
        for api in &snapshot.apis {
            let compiled = CompiledApi {
                api_id: api.api_id.clone(),
                execute_api_enabled: !api.disable_execute_api_endpoint,
                stages: HashMap::new(),
            };
            match apis.entry(api.api_id.to_ascii_lowercase()) {
                Entry::Occupied(_) => return Err(CompileError::DuplicateApi(api.api_id.clone())),
                Entry::Vacant(v) => v.insert(compiled),
            };
        }

        let links = vpc_links::compile(&snapshot.vpc_links, &runtime.vpc_links).map_err(
            |(vpc_link_id, reason)| CompileError::VpcLink {
                vpc_link_id,
                reason,
            },
        )?;

        let mut deployments: HashMap<(&str, &str), CompiledDeployment> = HashMap::new();
        for d in &snapshot.deployments {
            let (api_id, deployment_id) = (d.api_id.as_str(), d.deployment_id.as_str());
            if !apis.contains_key(&api_id.to_ascii_lowercase()) {
                return Err(CompileError::DeploymentOfUnknownApi {
                    api_id: api_id.into(),
                    deployment_id: deployment_id.into(),
                });
            }
            let compiled = compile_deployment(d, runtime)?;
            match deployments.entry((api_id, deployment_id)) {
                Entry::Occupied(_) => {
                    return Err(CompileError::DuplicateDeployment {
                        api_id: api_id.into(),
                        deployment_id: deployment_id.into(),
                    });
                }
                Entry::Vacant(v) => v.insert(compiled),
            };
        }

        let mut problems = Vec::new();
        for s in &snapshot.stages {
            let (api_id, stage) = (s.api_id.as_str(), s.stage_name.as_str());
            let Some(api) = apis.get_mut(&api_id.to_ascii_lowercase()) else {
                return Err(CompileError::StageOfUnknownApi {
                    api_id: api_id.into(),
                    stage: stage.into(),
                });
            };
            // A stage that points at no deployment yet exists but serves nothing.
            let (routes, integrations, cors, authorizers) = if s.deployment_id.is_empty() {
                (Arc::default(), Box::default(), None, Arc::default())
            } else {
                let Some(d) = deployments.get(&(api_id, s.deployment_id.as_str())) else {
                    return Err(CompileError::MissingDeployment {
                        api_id: api_id.into(),
                        stage: stage.into(),
                        deployment_id: s.deployment_id.clone(),
                    });
                };
                let integrations = d
                    .integrations
                    .iter()
                    .map(|spec| {
                        let compiled = spec.for_stage(s, &links);
                        if let CompiledIntegration::Unusable(reason) = &compiled {
                            problems.push(StageProblem {
                                api_id: api_id.into(),
                                stage: stage.into(),
                                deployment_id: s.deployment_id.clone(),
                                integration_id: spec.integration_id.clone(),
                                reason: InvalidUpstreamUri::clone(reason),
                            });
                        }
                        compiled
                    })
                    .collect();
                (
                    d.routes.clone(),
                    integrations,
                    d.cors.clone(),
                    d.authorizers.clone(),
                )
            };
            let limits = throttle::stage_limits(s, &routes, &runtime.throttle);
            let meters = routes
                .entries()
                .iter()
                .map(|e| runtime.meters.meter(api_id, stage, &e.key.to_string()))
                .collect();
            let access_log = match &s.access_log {
                Some(log) => Some(access_log::compile(log, &runtime.access_logs).map_err(
                    |reason| CompileError::AccessLog {
                        api_id: api_id.into(),
                        stage: stage.into(),
                        reason,
                    },
                )?),
                None => None,
            };
            let compiled = CompiledStage {
                meters,
                unmatched_meter: runtime.meters.meter(api_id, stage, ""),
                access_log,
                name: stage.into(),
                deployment_id: s.deployment_id.clone(),
                routes,
                integrations,
                cors,
                limits,
                authorizers,
                stage_variables: Arc::new(s.stage_variables.clone()),
            };
            match api.stages.entry(stage.to_string()) {
                Entry::Occupied(_) => {
                    return Err(CompileError::DuplicateStage {
                        api_id: api_id.into(),
                        stage: stage.into(),
                    });
                }
                Entry::Vacant(v) => v.insert(compiled),
            };
        }

        let domains = DomainTable::compile(snapshot, &runtime.tls_sessions).map_err(
            |(domain_name, reason)| CompileError::Domain {
                domain_name,
                reason,
            },
        )?;
        Ok(Routing {
            execute_api_suffix,
            apis,
            domains,
            problems,
        })
    }
}

fn compile_deployment(
    d: &portico_proto::Deployment,
    runtime: &Runtime,
) -> Result<CompiledDeployment, CompileError> {
    let authorizers = DeploymentAuthorizers::compile(&d.api_id, &d.authorizers, runtime).map_err(
        |(authorizer_id, reason)| CompileError::Authorizer {
            api_id: d.api_id.clone(),
            deployment_id: d.deployment_id.clone(),
            authorizer_id,
            reason: Box::new(reason),
        },
    )?;
    let mut integrations = Vec::with_capacity(d.integrations.len());
    let mut by_id: HashMap<&str, usize> = HashMap::with_capacity(d.integrations.len());
    for i in &d.integrations {
        let integration_error = |reason| CompileError::Integration {
            api_id: d.api_id.clone(),
            deployment_id: d.deployment_id.clone(),
            integration_id: i.integration_id.clone(),
            reason,
        };
        if by_id
            .insert(&i.integration_id, integrations.len())
            .is_some()
        {
            return Err(CompileError::DuplicateIntegration {
                api_id: d.api_id.clone(),
                deployment_id: d.deployment_id.clone(),
                integration_id: i.integration_id.clone(),
            });
        }
        integrations.push(IntegrationSpec::try_from(i).map_err(integration_error)?);
    }

    let mut routes = RouteTable::default();
    for r in &d.routes {
        let route_error = |reason| CompileError::Route {
            api_id: d.api_id.clone(),
            deployment_id: d.deployment_id.clone(),
            route_id: r.route_id.clone(),
            reason,
        };
        let key =
            RouteKey::parse(&r.route_key).map_err(|e| route_error(RouteError::InvalidKey(e)))?;
        let integration = if r.integration_id.is_empty() {
            None
        } else {
            match by_id.get(r.integration_id.as_str()) {
                Some(&i) => Some(i),
                None => {
                    return Err(route_error(RouteError::MissingIntegration(
                        r.integration_id.clone(),
                    )));
                }
            }
        };
        let auth = authorizers
            .route_auth(r)
            .map_err(|e| route_error(RouteError::Auth(e)))?;
        routes
            .insert(RouteEntry {
                route_id: r.route_id.clone(),
                key,
                integration,
                auth,
                index: 0,
            })
            .map_err(|e| route_error(RouteError::Duplicate(e)))?;
    }
    let cors = match &d.cors {
        None => None,
        Some(c) => Some(Arc::new(CompiledCors::try_from(c).map_err(|reason| {
            CompileError::Cors {
                api_id: d.api_id.clone(),
                deployment_id: d.deployment_id.clone(),
                reason,
            }
        })?)),
    };
    Ok(CompiledDeployment {
        routes: Arc::new(routes),
        integrations,
        cors,
        authorizers: Arc::new(authorizers),
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use std::collections::BTreeMap;

    use http::Method;
    use portico_proto::{Api, Deployment, Integration, IntegrationType, Route, Stage};

    use super::*;

    pub(crate) fn http_integration(id: &str, uri: &str) -> Integration {
        Integration {
            integration_id: id.into(),
            integration_type: IntegrationType::HttpProxy as i32,
            uri: uri.into(),
            method: "ANY".into(),
            timeout_millis: 0,
            payload_format_version: "1.0".into(),
            ..Default::default()
        }
    }

    pub(crate) fn route(id: &str, key: &str, integration: &str) -> Route {
        Route {
            route_id: id.into(),
            route_key: key.into(),
            integration_id: integration.into(),
            ..Default::default()
        }
    }

    fn stage(api: &str, name: &str, deployment: &str, vars: &[(&str, &str)]) -> Stage {
        Stage {
            api_id: api.into(),
            stage_name: name.into(),
            deployment_id: deployment.into(),
            stage_variables: vars
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect::<BTreeMap<_, _>>(),
            ..Default::default()
        }
    }

    /// Two APIs the way a control plane would send them: a notes API with a `dev` and a
    /// `prod` stage on different deployments and stage variables, and a catch-all API on
    /// `$default` whose execute-api endpoint is only reachable by its stage.
    pub(crate) fn realistic_snapshot() -> Snapshot {
        let notes_v1 = Deployment {
            api_id: "notes1".into(),
            deployment_id: "d1".into(),
            routes: vec![
                route("r1", "GET /notes", "list"),
                route("r2", "GET /notes/{id}", "one"),
                route("r3", "ANY /notes/{proxy+}", "rest"),
                route("r4", "DELETE /notes/{id}", ""),
            ],
            integrations: vec![
                http_integration("list", "http://${stageVariables.backend}/notes"),
                http_integration(
                    "one",
                    "http://${stageVariables.backend}/notes/{id}?v=${stageVariables.v}",
                ),
                http_integration("rest", "https://${stageVariables.backend}/more/{proxy}"),
            ],
            ..Default::default()
        };
        let notes_v2 = Deployment {
            deployment_id: "d2".into(),
            routes: vec![
                route("r1", "GET /notes", "list"),
                route("r9", "$default", "list"),
            ],
            integrations: vec![http_integration(
                "list",
                "http://${stageVariables.backend}/v2/notes",
            )],
            ..notes_v1.clone()
        };
        let catch_all = Deployment {
            api_id: "AbCd2".into(),
            deployment_id: "d1".into(),
            routes: vec![route("r1", "ANY /{proxy+}", "i1")],
            integrations: vec![http_integration("i1", "http://catch.internal/{proxy}")],
            ..Default::default()
        };
        Snapshot {
            execute_api_domain: "execute-api.localhost".into(),
            apis: vec![
                Api {
                    api_id: "notes1".into(),
                    name: "notes".into(),
                    disable_execute_api_endpoint: false,
                },
                Api {
                    api_id: "AbCd2".into(),
                    name: "all".into(),
                    disable_execute_api_endpoint: false,
                },
                Api {
                    api_id: "hidden".into(),
                    name: "h".into(),
                    disable_execute_api_endpoint: true,
                },
            ],
            deployments: vec![notes_v1, notes_v2, catch_all],
            stages: vec![
                stage(
                    "notes1",
                    "dev",
                    "d1",
                    &[("backend", "dev.internal:8080"), ("v", "1")],
                ),
                stage("notes1", "prod", "d2", &[("backend", "prod.internal")]),
                stage("AbCd2", "$default", "d1", &[]),
                stage("hidden", "$default", "", &[]),
            ],
            ..Default::default()
        }
    }

    fn compile(s: &Snapshot) -> Result<CompiledConfig, CompileError> {
        CompiledConfig::compile(s, 7, "hash".into(), &Runtime::default())
    }

    /// Host, method, path → (stage, route id, upstream URI) or None for 404.
    fn resolve(
        c: &CompiledConfig,
        host: &str,
        method: Method,
        path_and_query: &str,
    ) -> Option<(String, String, Option<String>)> {
        let uri: http::Uri = path_and_query.parse().expect("uri");
        let HostTarget::ExecuteApi(api) = c.target_for_host(host)? else {
            return None;
        };
        let (stage, path) = api.stage_for_path(uri.path())?;
        let m = stage.routes().lookup(&method, path)?;
        let upstream = stage.integration_for(m.route).map(|i| match i {
            CompiledIntegration::HttpProxy(h) => h
                .uri
                .build(|n| m.param(n), uri.query())
                .expect("uri")
                .to_string(),
            CompiledIntegration::Lambda(l) => l.function.arn.to_string(),
            CompiledIntegration::Private(p) => format!("vpc link {}", p.link.id),
            CompiledIntegration::Unusable(reason) => format!("500: {reason}"),
        });
        Some((stage.name.clone(), m.route.route_id.clone(), upstream))
    }

    #[test]
    fn compiles_a_realistic_snapshot() {
        let c = compile(&realistic_snapshot()).expect("compiles");
        assert!(c.is_live());
        assert_eq!(
            c.stats(),
            ConfigStats {
                apis: 3,
                stages: 4,
                domains: 0
            }
        );
        let host = "notes1.execute-api.localhost:8000";
        let some = |stage: &str, route: &str, up: Option<&str>| {
            Some((stage.to_string(), route.to_string(), up.map(str::to_string)))
        };
        let cases = [
            (
                host,
                Method::GET,
                "/dev/notes",
                some("dev", "r1", Some("http://dev.internal:8080/notes")),
            ),
            (
                host,
                Method::GET,
                "/dev/notes?limit=5",
                some("dev", "r1", Some("http://dev.internal:8080/notes?limit=5")),
            ),
            (
                host,
                Method::GET,
                "/dev/notes/42?x=1",
                some(
                    "dev",
                    "r2",
                    Some("http://dev.internal:8080/notes/42?v=1&x=1"),
                ),
            ),
            (
                host,
                Method::POST,
                "/dev/notes/42",
                some("dev", "r3", Some("https://dev.internal:8080/more/42")),
            ),
            (
                host,
                Method::GET,
                "/dev/notes/42/tags",
                some("dev", "r3", Some("https://dev.internal:8080/more/42/tags")),
            ),
            // A route without an integration still matches; the pipeline answers 404.
            (
                host,
                Method::DELETE,
                "/dev/notes/42",
                some("dev", "r4", None),
            ),
            (
                host,
                Method::GET,
                "/prod/notes",
                some("prod", "r1", Some("http://prod.internal/v2/notes")),
            ),
            (
                host,
                Method::GET,
                "/prod/other",
                some("prod", "r9", Some("http://prod.internal/v2/notes")),
            ),
            (
                host,
                Method::GET,
                "/prod",
                some("prod", "r9", Some("http://prod.internal/v2/notes")),
            ),
            (host, Method::GET, "/dev", None),
            (host, Method::GET, "/staging/notes", None),
            (host, Method::GET, "/", None),
            (
                "NOTES1.Execute-API.localhost",
                Method::GET,
                "/dev/notes",
                some("dev", "r1", Some("http://dev.internal:8080/notes")),
            ),
            // The $default stage takes the whole path, with no prefix.
            (
                "abcd2.execute-api.localhost",
                Method::PUT,
                "/dev/x",
                some("$default", "r1", Some("http://catch.internal/dev/x")),
            ),
            (
                "abcd2.execute-api.localhost.",
                Method::GET,
                "/a%20b/c",
                some("$default", "r1", Some("http://catch.internal/a%20b/c")),
            ),
            ("abcd2.execute-api.localhost", Method::GET, "/", None),
            // Unknown or disabled APIs, other domains.
            ("hidden.execute-api.localhost", Method::GET, "/x", None),
            (
                "nope.execute-api.localhost",
                Method::GET,
                "/dev/notes",
                None,
            ),
            ("notes1.example.com", Method::GET, "/dev/notes", None),
            ("execute-api.localhost", Method::GET, "/dev/notes", None),
            (".execute-api.localhost", Method::GET, "/dev/notes", None),
            (
                "x.notes1.execute-api.localhost",
                Method::GET,
                "/dev/notes",
                None,
            ),
        ];
        for (host, method, path, expected) in cases {
            assert_eq!(
                resolve(&c, host, method.clone(), path),
                expected,
                "{host} {method} {path}"
            );
        }
    }

    #[test]
    fn same_content_new_version_shares_the_routing() {
        let c = compile(&realistic_snapshot()).expect("compiles");
        let c2 = c.with_version(8);
        assert_eq!(c2.version, 8);
        assert_eq!(c2.content_hash, c.content_hash);
        assert!(Arc::ptr_eq(&c.routing, &c2.routing));
        assert!(!CompiledConfig::empty().is_live());
    }

    #[test]
    fn reports_what_is_wrong() {
        type Breaker = fn(&mut Snapshot);
        let cases: [(Breaker, &str); 12] = [
            (
                |s| s.deployments[0].routes[0].route_key = "FETCH /x".into(),
                "deployment d1 of api notes1: route r1: Invalid route key 'FETCH /x': unknown method 'FETCH'",
            ),
            (
                |s| s.deployments[0].routes[1].integration_id = "i9".into(),
                "deployment d1 of api notes1: route r2: names missing integration i9",
            ),
            (
                |s| {
                    s.deployments[0]
                        .routes
                        .push(route("r5", "GET /notes/{noteId}", "one"))
                },
                "deployment d1 of api notes1: route r5: route key 'GET /notes/{noteId}' duplicates route r2",
            ),
            (
                |s| s.deployments[0].integrations[0].uri = "ftp://x".into(),
                "deployment d1 of api notes1: integration list: Invalid integration URI 'ftp://x'",
            ),
            (
                |s| s.deployments[0].integrations[0].integration_type = 0,
                "deployment d1 of api notes1: integration list: unsupported integration type 0",
            ),
            (
                |s| {
                    s.deployments[0]
                        .integrations
                        .push(http_integration("list", "http://h/"))
                },
                "deployment d1 of api notes1: integration list appears twice",
            ),
            (
                |s| s.stages[1].deployment_id = "d9".into(),
                "stage prod of api notes1 names missing deployment d9",
            ),
            (
                |s| s.stages[0].api_id = "zzz".into(),
                "stage dev names unknown api zzz",
            ),
            (
                |s| s.stages.push(s.stages[0].clone()),
                "stage dev of api notes1 appears twice",
            ),
            (
                |s| s.deployments[2].api_id = "zzz".into(),
                "deployment d1 names unknown api zzz",
            ),
            (
                |s| s.apis.push(s.apis[1].clone()),
                "api AbCd2 appears twice",
            ),
            (
                |s| s.execute_api_domain.clear(),
                "the snapshot has APIs but no execute-api domain",
            ),
        ];
        for (breaker, expected) in cases {
            let mut s = realistic_snapshot();
            breaker(&mut s);
            let err = compile(&s).expect_err(expected).to_string();
            assert!(err.starts_with(expected), "got: {err}\nwant: {expected}");
        }
    }

    /// A stage whose variables break one integration is still served: that integration's
    /// routes answer 500 and everything else works, as AWS deploys such a stage
    /// (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-stages.stage-variables-reference.html).
    #[test]
    fn a_stage_variable_that_breaks_an_integration_breaks_only_its_routes() {
        let mut s = realistic_snapshot();
        s.stages[0].stage_variables.remove("backend");
        let c = compile(&s).expect("still compiles");
        let host = "notes1.execute-api.localhost";
        let (_, route, upstream) =
            resolve(&c, host, Method::GET, "/dev/notes").expect("route still matches");
        assert_eq!(route, "r1");
        assert_eq!(
            upstream.as_deref(),
            Some("500: invalid URI after stage variables 'http:///notes': it has no host")
        );
        // The other stage of the same API, on the same deployment's integrations, serves.
        let (_, _, upstream) = resolve(&c, host, Method::GET, "/prod/notes").expect("prod");
        assert_eq!(upstream.as_deref(), Some("http://prod.internal/v2/notes"));
        let problems: Vec<String> = c.problems().iter().map(ToString::to_string).collect();
        assert_eq!(
            problems,
            [
                "stage dev of api notes1: integration list: invalid URI after stage variables 'http:///notes': it has no host",
                "stage dev of api notes1: integration one: invalid URI after stage variables 'http:///notes/{id}?v=1': it has no host",
                "stage dev of api notes1: integration rest: invalid URI after stage variables 'https:///more/{proxy}': it has no host",
            ]
        );
        assert!(c.problems().iter().all(|p| p.deployment_id == "d1"));
    }

    /// https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-integrations-private.html
    #[test]
    fn private_integrations_find_their_link_or_are_reported() {
        let mut s = realistic_snapshot();
        let link = |id: &str, groups: &[&str]| portico_proto::VpcLink {
            vpc_link_id: id.into(),
            groups: groups.iter().map(|g| g.to_string()).collect(),
            targets: vec![portico_proto::VpcLinkTarget {
                address: "127.0.0.1:9".into(),
                weight: 1,
            }],
            ..Default::default()
        };
        s.vpc_links = vec![link("east1", &["east"]), link("west1", &["west"])];
        let private = |id: &str, link: &str, uri: &str| Integration {
            connection_id: link.into(),
            ..http_integration(id, uri)
        };
        let d = &mut s.deployments[0];
        d.integrations
            .push(private("p1", "east1", "https://orders.internal/v1"));
        d.integrations.push(private(
            "p2",
            "west1",
            "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/lb/1/2",
        ));
        d.integrations
            .push(private("p3", "gone", "http://orders.internal"));
        for (i, (key, target)) in [("GET /p1", "p1"), ("GET /p2", "p2"), ("GET /p3", "p3")]
            .iter()
            .enumerate()
        {
            d.routes.push(route(&format!("rp{i}"), key, target));
        }
        let runtime = Runtime {
            vpc_links: crate::runtime::vpc_links::VpcLinkRegistry::new(vec!["east".into()], None),
            ..Runtime::default()
        };
        let c = CompiledConfig::compile(&s, 1, "h".into(), &runtime).expect("compiles");
        let problems: Vec<String> = c.problems().iter().map(|p| p.to_string()).collect();
        assert!(
            problems
                .iter()
                .any(|p| p.contains("VPC link gone does not exist")),
            "{problems:?}"
        );
        let api = s.apis[0].api_id.clone();
        let stage = &s.stages[0].stage_name;
        let private_of = |path: &str| {
            let HostTarget::ExecuteApi(a) = c
                .target_for_host(&format!("{api}.execute-api.localhost"))
                .expect("host")
            else {
                panic!("execute-api host");
            };
            let full = format!("/{stage}{path}");
            let (st, rest) = a.stage_for_path(&full).expect("stage");
            let m = st.routes().lookup(&http::Method::GET, rest).expect("route");
            match st.integration_for(m.route) {
                Some(CompiledIntegration::Private(p)) => p.clone(),
                other => panic!("{path}: {other:?}"),
            }
        };
        let p1 = private_of("/p1");
        assert!(p1.link.runtime.is_some(), "the node is in the east group");
        assert!(
            matches!(p1.tls, integration::PrivateTls::Name(_)),
            "https URL"
        );
        let p2 = private_of("/p2");
        assert!(
            p2.link.runtime.is_none(),
            "west is out of this node's reach"
        );
        assert!(p2.uri.is_none(), "an ARN sends the client's path");
        assert_eq!(
            runtime.vpc_links.report().len(),
            1,
            "only reachable links run"
        );
    }

    #[test]
    fn an_empty_snapshot_compiles() {
        let c = compile(&Snapshot::default()).expect("compiles");
        assert_eq!(
            c.stats(),
            ConfigStats {
                apis: 0,
                stages: 0,
                domains: 0
            }
        );
        assert!(c.target_for_host("x.execute-api.localhost").is_none());
    }
}
