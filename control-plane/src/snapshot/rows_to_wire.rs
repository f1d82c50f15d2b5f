//! Rows → wire: a pure function from stored rows (and the snapshot published before
//! them) to the wire snapshot, checked by the node's own compiler on the way
//! (`admission`). Same rows and history in, same bytes and hash out, whichever replica
//! builds it.
use std::sync::Arc;

use portico_data_plane::CompileError;
use portico_model::{
    AUTHORIZATION_AWS_IAM, AUTHORIZATION_CUSTOM, AUTHORIZATION_JWT, AUTHORIZATION_NONE,
    AUTHORIZER_JWT, AUTHORIZER_REQUEST, Authorizer, Cors, DeployedApi, HEALTH_CHECK_HTTPS,
    INTEGRATION_AWS_PROXY, INTEGRATION_HTTP_PROXY, Integration, LOAD_BALANCING_LEAST_REQUEST,
    Route, RouteSettings, Stage,
};
use portico_proto as wire;

use super::admission::{self, PublishReport};
use super::served_since::ServedSince;
use crate::store::SnapshotSource;

#[derive(Debug, Clone, PartialEq)]
pub struct PublishedSnapshot {
    pub version: u64,
    /// Hex SHA-256 of the encoded snapshot.
    pub content_hash: String,
    pub snapshot: Arc<wire::Snapshot>,
    /// `snapshot` encoded once: every node stream pushes these same bytes.
    pub encoded: bytes::Bytes,
    /// What was held back or will answer 500, for the admin API.
    pub report: Arc<PublishReport>,
    /// Since which version each stage is published as it is now.
    pub served_since: Arc<ServedSince>,
}

fn wire_route(route: &Route) -> wire::Route {
    wire::Route {
        route_id: route.route_id.clone(),
        route_key: route.route_key.clone(),
        integration_id: route
            .target
            .as_deref()
            .map(|t| t.strip_prefix("integrations/").unwrap_or(t).to_string())
            .unwrap_or_default(),
        authorization_type: match route.authorization_type.as_str() {
            AUTHORIZATION_NONE => wire::AuthorizationType::None as i32,
            AUTHORIZATION_JWT => wire::AuthorizationType::Jwt as i32,
            AUTHORIZATION_CUSTOM => wire::AuthorizationType::Custom as i32,
            AUTHORIZATION_AWS_IAM => wire::AuthorizationType::AwsIam as i32,
            // Never NONE for a type this compiler does not know: nodes refuse the value.
            _ => -1,
        },
        authorizer_id: route.authorizer_id.clone().unwrap_or_default(),
        authorization_scopes: route.authorization_scopes.clone(),
    }
}

fn wire_authorizer(authorizer: &Authorizer) -> wire::Authorizer {
    let authorizer_type = match authorizer.authorizer_type.as_str() {
        AUTHORIZER_JWT => wire::AuthorizerType::Jwt,
        AUTHORIZER_REQUEST => wire::AuthorizerType::Request,
        _ => wire::AuthorizerType::Unspecified,
    };
    let jwt = authorizer.jwt_configuration.clone().unwrap_or_default();
    wire::Authorizer {
        authorizer_id: authorizer.authorizer_id.clone(),
        authorizer_type: authorizer_type as i32,
        identity_source: authorizer.identity_source.clone(),
        issuer: jwt.issuer.unwrap_or_default(),
        audience: jwt.audience,
        uri: authorizer.authorizer_uri.clone().unwrap_or_default(),
        payload_format_version: authorizer
            .authorizer_payload_format_version
            .clone()
            .unwrap_or_default(),
        enable_simple_responses: authorizer.enable_simple_responses.unwrap_or(false),
        result_ttl_seconds: authorizer.authorizer_result_ttl_in_seconds.unwrap_or(0),
    }
}

fn wire_integration(integration: &Integration) -> wire::Integration {
    let integration_type = match integration.integration_type.as_str() {
        INTEGRATION_HTTP_PROXY => wire::IntegrationType::HttpProxy,
        INTEGRATION_AWS_PROXY => wire::IntegrationType::AwsProxy,
        // A type this compiler does not know reaches nodes as unspecified; they refuse it.
        _ => wire::IntegrationType::Unspecified,
    };
    wire::Integration {
        integration_id: integration.integration_id.clone(),
        integration_type: integration_type as i32,
        uri: integration.integration_uri.clone(),
        method: integration.integration_method.clone(),
        timeout_millis: integration.timeout_in_millis,
        payload_format_version: integration.payload_format_version.clone(),
        connection_id: integration.connection_id.clone().unwrap_or_default(),
        tls: integration.tls_config.is_some(),
        server_name_to_verify: integration
            .tls_config
            .as_ref()
            .and_then(|t| t.server_name_to_verify.clone())
            .unwrap_or_default(),
        request_parameters: integration.request_parameters.clone(),
        response_parameters: integration
            .response_parameters
            .iter()
            // The admin API only stores status codes 200..599.
            .filter_map(|(status, parameters)| {
                Some(wire::ResponseParameters {
                    status_code: status.parse().ok()?,
                    parameters: parameters.clone(),
                })
            })
            .collect(),
    }
}

fn wire_cors(cors: &Cors) -> wire::Cors {
    let list = |l: &Option<Vec<String>>| l.clone().unwrap_or_default();
    wire::Cors {
        allow_origins: list(&cors.allow_origins),
        allow_methods: list(&cors.allow_methods),
        allow_headers: list(&cors.allow_headers),
        expose_headers: list(&cors.expose_headers),
        max_age: cors.max_age.unwrap_or(-1),
        allow_credentials: cors.allow_credentials.unwrap_or(false),
    }
}

fn wire_throttle(settings: &RouteSettings) -> Option<wire::Throttle> {
    settings.is_throttled().then_some(wire::Throttle {
        rate_limit: settings.throttling_rate_limit,
        burst_limit: settings.throttling_burst_limit,
    })
}

fn wire_deployment(api_id: &str, deployment_id: &str, frozen: &DeployedApi) -> wire::Deployment {
    let mut routes: Vec<wire::Route> = frozen.routes.iter().map(wire_route).collect();
    routes.sort_by(|a, b| a.route_id.cmp(&b.route_id));
    let mut integrations: Vec<wire::Integration> =
        frozen.integrations.iter().map(wire_integration).collect();
    integrations.sort_by(|a, b| a.integration_id.cmp(&b.integration_id));
    let mut authorizers: Vec<wire::Authorizer> =
        frozen.authorizers.iter().map(wire_authorizer).collect();
    authorizers.sort_by(|a, b| a.authorizer_id.cmp(&b.authorizer_id));
    wire::Deployment {
        api_id: api_id.to_string(),
        deployment_id: deployment_id.to_string(),
        routes,
        integrations,
        cors: frozen.cors.as_ref().map(wire_cors),
        authorizers,
    }
}

fn wire_stage(api_id: &str, stage: &Stage) -> Option<wire::Stage> {
    Some(wire::Stage {
        api_id: api_id.to_string(),
        stage_name: stage.stage_name.clone(),
        deployment_id: stage.deployment_id.clone()?,
        stage_variables: stage
            .stage_variables
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
        default_throttle: stage
            .default_route_settings
            .as_ref()
            .and_then(wire_throttle),
        route_throttles: stage
            .route_settings
            .iter()
            .filter_map(|(key, s)| Some((key.clone(), wire_throttle(s)?)))
            .collect(),
        access_log: stage.access_log_settings.as_ref().and_then(wire_access_log),
    })
}

/// Settings every write checked; ones that no longer parse (stored by an older
/// version) leave the stage without a log rather than failing the publish.
fn wire_access_log(settings: &portico_model::AccessLogSettings) -> Option<wire::AccessLog> {
    let (log_group, _) = portico_model::validate_access_log_settings(settings).ok()??;
    Some(wire::AccessLog {
        log_group,
        format: settings.format.clone()?,
    })
}

/// The custom domains nodes serve and the certificates they use, with the keys the
/// publisher unsealed. A domain whose certificate or key is missing is left out: it
/// cannot be served, and the rest of the snapshot can.
fn wire_custom_domains(source: &SnapshotSource) -> (Vec<wire::Certificate>, Vec<wire::DomainName>) {
    let mut certificates: Vec<wire::Certificate> = Vec::new();
    let mut domains = Vec::new();
    for d in &source.custom_domains.domains {
        let Some(arn) = d.domain.certificate_arn() else {
            continue;
        };
        let stored = source
            .custom_domains
            .certificates
            .iter()
            .find(|c| c.detail.certificate_arn == arn);
        let (Some(stored), Some(key)) = (stored, source.opened_keys.get(arn)) else {
            tracing::warn!(domain = %d.domain.domain_name, certificate = arn, "domain left out of the snapshot: its certificate or key is unavailable");
            continue;
        };
        if d.domain.truststore_name().is_some() && d.truststore_pem.is_none() {
            tracing::warn!(domain = %d.domain.domain_name, "domain left out of the snapshot: its truststore is gone");
            continue;
        }
        // Imports are checked with these same functions; a row changed behind the admin
        // API's back costs only its domain, never the rest of the snapshot.
        let chain = format!("{}{}", stored.certificate_pem, stored.chain_pem);
        let unusable = portico_data_plane::config::tls::certified_key(&chain, key)
            .err()
            .or_else(|| {
                d.truststore_pem
                    .as_deref()
                    .and_then(|pem| portico_data_plane::config::tls::client_roots(pem).err())
            });
        if let Some(e) = unusable {
            tracing::error!(domain = %d.domain.domain_name, "domain left out of the snapshot: {e}");
            continue;
        }
        if !certificates.iter().any(|c| c.certificate_arn == arn) {
            certificates.push(wire::Certificate {
                certificate_arn: arn.to_string(),
                chain_pem: chain,
                private_key_pem: key.clone(),
            });
        }
        let config = d.domain.domain_name_configurations.first();
        let mut api_mappings: Vec<wire::ApiMapping> = d
            .mappings
            .iter()
            .map(|m| wire::ApiMapping {
                api_mapping_id: m.api_mapping_id.clone(),
                api_id: m.api_id.clone(),
                stage: m.stage.clone(),
                api_mapping_key: m.api_mapping_key.clone(),
            })
            .collect();
        api_mappings.sort_by(|a, b| a.api_mapping_id.cmp(&b.api_mapping_id));
        domains.push(wire::DomainName {
            domain_name: d.domain.domain_name.clone(),
            certificate_arn: arn.to_string(),
            security_policy: config
                .and_then(|c| c.security_policy.clone())
                .unwrap_or_else(|| portico_model::SECURITY_POLICY_TLS_1_2.to_string()),
            truststore_pem: d.truststore_pem.clone().unwrap_or_default(),
            api_mappings,
        });
    }
    certificates.sort_by(|a, b| a.certificate_arn.cmp(&b.certificate_arn));
    domains.sort_by(|a, b| a.domain_name.cmp(&b.domain_name));
    (certificates, domains)
}

/// Every VPC link, with or without targets (one without answers 503 on the nodes), in id
/// order. A link's targets are the link's, not a deployment's: they change every stage
/// that uses it at once, as changing an ALB's targets does on AWS.
fn wire_vpc_links(source: &SnapshotSource) -> Vec<wire::VpcLink> {
    let mut links: Vec<wire::VpcLink> = source
        .vpc_links
        .iter()
        .map(|l| {
            let t = l.targets.clone().unwrap_or_default();
            wire::VpcLink {
                vpc_link_id: l.link.vpc_link_id.clone(),
                groups: l.link.subnet_ids.clone(),
                targets: t
                    .targets
                    .iter()
                    .map(|t| wire::VpcLinkTarget {
                        address: t.address.clone(),
                        weight: t.weight,
                    })
                    .collect(),
                health_check: Some(wire::HealthCheck {
                    https: t.health_check.protocol == HEALTH_CHECK_HTTPS,
                    path: t.health_check.path.clone(),
                    interval_seconds: t.health_check.interval_seconds,
                    timeout_seconds: t.health_check.timeout_seconds,
                    healthy_threshold: t.health_check.healthy_threshold,
                    unhealthy_threshold: t.health_check.unhealthy_threshold,
                }),
                load_balancing: if t.load_balancing == LOAD_BALANCING_LEAST_REQUEST {
                    wire::LoadBalancing::LeastRequest as i32
                } else {
                    wire::LoadBalancing::RoundRobin as i32
                },
                passive_ejection: Some(wire::PassiveEjection {
                    consecutive_5xx: t.passive_ejection.consecutive_5xx,
                    base_ejection_seconds: t.passive_ejection.base_ejection_seconds,
                    max_ejection_seconds: t.passive_ejection.max_ejection_seconds,
                }),
                ca_bundle_pem: t.ca_bundle_pem.unwrap_or_default(),
            }
        })
        .collect();
    links.sort_by(|a, b| a.vpc_link_id.cmp(&b.vpc_link_id));
    links
}

/// Compiles what the store holds into the snapshot nodes serve. Stages with no
/// deployment serve nothing and are left out, as are deployments no stage points at.
/// What nodes could not serve is held back at what `previous` gave it (see `admission`).
pub fn rows_to_wire(
    source: &SnapshotSource,
    execute_api_domain: &str,
    previous: Option<&PublishedSnapshot>,
) -> Result<PublishedSnapshot, CompileError> {
    let apis: Vec<wire::Api> = source
        .apis
        .iter()
        .map(|a| wire::Api {
            api_id: a.api_id.clone(),
            name: a.name.clone(),
            disable_execute_api_endpoint: a.disable_execute_api_endpoint,
        })
        .collect();
    let stages: Vec<wire::Stage> = source
        .stages
        .iter()
        .filter_map(|(api_id, s)| wire_stage(api_id, s))
        .collect();

    let deployments: Vec<wire::Deployment> = source
        .deployments
        .iter()
        .filter(|(api_id, id, _)| {
            stages
                .iter()
                .any(|s| &s.api_id == api_id && &s.deployment_id == id)
        })
        .map(|(api_id, id, frozen)| wire_deployment(api_id, id, frozen))
        .collect();
    let (certificates, domain_names) = wire_custom_domains(source);
    let mut snapshot = wire::Snapshot {
        execute_api_domain: execute_api_domain.to_string(),
        apis,
        deployments,
        stages,
        certificates,
        domain_names,
        vpc_links: wire_vpc_links(source),
    };
    admission::sort(&mut snapshot);
    snapshot
        .deployments
        .dedup_by(|a, b| a.api_id == b.api_id && a.deployment_id == b.deployment_id);
    let (snapshot, report) = admission::admit(
        snapshot,
        &source.damaged,
        previous.map(|p| p.snapshot.as_ref()),
    )?;
    let served_since = ServedSince::after(
        previous.map(|p| p.served_since.as_ref()),
        &snapshot,
        source.version,
    );
    let encoded = wire::EncodedSnapshot::encode(&snapshot);
    Ok(PublishedSnapshot {
        version: source.version,
        content_hash: encoded.content_hash,
        encoded: encoded.bytes,
        snapshot: Arc::new(snapshot),
        report: Arc::new(report),
        served_since: Arc::new(served_since),
    })
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use portico_model::{Api, DeployedApi};
    use prost::Message;

    use super::*;

    fn api(id: &str) -> Api {
        Api {
            api_id: id.into(),
            name: format!("api {id}"),
            protocol_type: "HTTP".into(),
            api_endpoint: None,
            api_key_selection_expression: "$request.header.x-api-key".into(),
            route_selection_expression: "${request.method} ${request.path}".into(),
            created_date: "2026-11-25T00:00:00Z".into(),
            description: None,
            disable_execute_api_endpoint: false,
            version: None,
            tags: BTreeMap::new(),
            cors_configuration: None,
        }
    }

    fn stage(name: &str, deployment: Option<&str>, vars: &[(&str, &str)]) -> Stage {
        Stage {
            stage_name: name.into(),
            deployment_id: deployment.map(String::from),
            auto_deploy: false,
            stage_variables: vars
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            description: None,
            created_date: "2026-11-25T00:00:00Z".into(),
            last_updated_date: "2026-11-25T00:00:00Z".into(),
            tags: BTreeMap::new(),
            last_deployment_status_message: None,
            default_route_settings: None,
            route_settings: Default::default(),
            access_log_settings: None,
        }
    }

    fn route(id: &str, key: &str, target: &str) -> Route {
        Route {
            route_id: id.into(),
            route_key: key.into(),
            target: Some(format!("integrations/{target}")),
            authorization_type: "NONE".into(),
            authorizer_id: None,
            authorization_scopes: Vec::new(),
            api_key_required: false,
            operation_name: None,
        }
    }

    fn integration(id: &str, uri: &str) -> Integration {
        Integration {
            integration_id: id.into(),
            integration_type: "HTTP_PROXY".into(),
            integration_uri: uri.into(),
            integration_method: "ANY".into(),
            payload_format_version: "1.0".into(),
            timeout_in_millis: 30_000,
            connection_id: None,
            tls_config: None,
            connection_type: "INTERNET".into(),
            description: None,
            request_parameters: Default::default(),
            response_parameters: Default::default(),
        }
    }

    fn source() -> SnapshotSource {
        let frozen = DeployedApi {
            routes: vec![
                route("r2", "POST /notes", "i1"),
                route("r1", "GET /notes", "i1"),
            ],
            integrations: vec![integration("i1", "http://127.0.0.1:8080/notes")],
            cors: None,
            authorizers: Vec::new(),
        };
        SnapshotSource {
            version: 7,
            apis: vec![api("b"), api("a")],
            stages: vec![
                (
                    "a".into(),
                    stage("prod", Some("d1"), &[("x", "1"), ("a", "2")]),
                ),
                ("a".into(), stage("dev", Some("d1"), &[])),
                ("a".into(), stage("empty", None, &[])),
            ],
            deployments: vec![
                ("a".into(), "d1".into(), frozen.clone()),
                ("a".into(), "d0".into(), frozen),
            ],
            damaged: vec![],
            ..Default::default()
        }
    }

    #[test]
    fn same_rows_give_same_bytes_and_hash() {
        let one = rows_to_wire(&source(), "execute-api.localhost", None).expect("compiles");
        let mut shuffled = source();
        shuffled.apis.reverse();
        shuffled.stages.reverse();
        shuffled.deployments.reverse();
        for d in &mut shuffled.deployments {
            d.2.routes.reverse();
        }
        let two = rows_to_wire(&shuffled, "execute-api.localhost", None).expect("compiles");
        assert_eq!(one.content_hash, two.content_hash);
        assert_eq!(one.snapshot.encode_to_vec(), two.snapshot.encode_to_vec());
        assert_eq!(one.version, 7);
    }

    #[test]
    fn content_changes_change_the_hash() {
        let one = rows_to_wire(&source(), "execute-api.localhost", None).expect("compiles");
        let mut changed = source();
        changed.stages[0]
            .1
            .stage_variables
            .insert("x".into(), "9".into());
        assert_ne!(
            one.content_hash,
            rows_to_wire(&changed, "execute-api.localhost", None)
                .expect("compiles")
                .content_hash
        );
        assert_ne!(
            one.content_hash,
            rows_to_wire(&source(), "other.domain", None)
                .expect("compiles")
                .content_hash
        );
    }

    #[test]
    fn converts_to_wire_types() {
        let c = rows_to_wire(&source(), "execute-api.localhost", None).expect("compiles");
        let s = &c.snapshot;
        assert_eq!(
            s.apis.iter().map(|a| a.api_id.as_str()).collect::<Vec<_>>(),
            ["a", "b"]
        );
        // The stage without a deployment and the deployment no stage uses are left out.
        assert_eq!(
            s.stages
                .iter()
                .map(|s| s.stage_name.as_str())
                .collect::<Vec<_>>(),
            ["dev", "prod"]
        );
        assert_eq!(s.deployments.len(), 1);
        let d = &s.deployments[0];
        assert_eq!(d.routes[0].route_id, "r1");
        assert_eq!(d.routes[0].integration_id, "i1");
        assert_eq!(
            d.integrations[0].integration_type,
            wire::IntegrationType::HttpProxy as i32
        );
        assert_eq!(d.integrations[0].timeout_millis, 30_000);
        assert_eq!(
            s.stages[1].stage_variables.get("x").map(String::as_str),
            Some("1")
        );
    }

    #[test]
    fn unknown_integration_types_reach_nodes_as_unspecified() {
        let mut i = integration("i9", "http://h/");
        i.integration_type = "MOCK".into();
        assert_eq!(
            wire_integration(&i).integration_type,
            wire::IntegrationType::Unspecified as i32
        );
    }

    /// A domain whose stored certificate or key no longer works is left out; the APIs
    /// and the other domains are still published.
    #[test]
    fn an_unusable_domain_costs_only_itself() {
        use crate::store::{SourceDomain, StoredCertificate};
        let key = rcgen::KeyPair::generate().expect("key");
        let cert = rcgen::CertificateParams::new(vec!["api.example.com".to_string()])
            .expect("params")
            .self_signed(&key)
            .expect("cert");
        let stored = |arn: &str| StoredCertificate {
            detail: portico_model::CertificateDetail {
                certificate_arn: arn.into(),
                ..Default::default()
            },
            certificate_pem: cert.pem(),
            chain_pem: String::new(),
            sealed_key: String::new(),
        };
        let domain = |name: &str, arn: &str| SourceDomain {
            domain: portico_model::DomainName {
                domain_name: name.into(),
                domain_name_arn: portico_model::domain_name_arn(name),
                api_mapping_selection_expression: "$request.basepath".into(),
                domain_name_configurations: vec![portico_model::DomainNameConfiguration {
                    certificate_arn: Some(arn.into()),
                    ..Default::default()
                }],
                mutual_tls_authentication: None,
                tags: BTreeMap::new(),
            },
            mappings: Vec::new(),
            truststore_pem: None,
        };
        let mut s = source();
        s.custom_domains.certificates = vec![stored("arn:good"), stored("arn:bad")];
        s.custom_domains.domains = vec![
            domain("api.example.com", "arn:good"),
            domain("other.example.com", "arn:bad"),
        ];
        s.opened_keys.insert("arn:good".into(), key.serialize_pem());
        let other = rcgen::KeyPair::generate().expect("key");
        s.opened_keys
            .insert("arn:bad".into(), other.serialize_pem());
        let c = rows_to_wire(&s, "execute-api.localhost", None).expect("compiles");
        let names: Vec<&str> = c
            .snapshot
            .domain_names
            .iter()
            .map(|d| d.domain_name.as_str())
            .collect();
        assert_eq!(names, ["api.example.com"]);
        assert_eq!(c.snapshot.certificates.len(), 1);
        assert_eq!(c.snapshot.stages.len(), 2);
    }

    /// Every link reaches nodes, with or without targets, in id order; the health check
    /// says https for HTTPS; a link's targets count in the stages that use it.
    #[test]
    fn vpc_links_are_published_and_count_in_their_stages() {
        use crate::store::SourceVpcLink;
        let link = |id: &str, targets: Option<portico_model::VpcLinkTargets>| SourceVpcLink {
            link: portico_model::VpcLink {
                vpc_link_id: id.into(),
                name: id.into(),
                subnet_ids: vec!["private-east".into()],
                security_group_ids: Vec::new(),
                tags: BTreeMap::new(),
                created_date: String::new(),
                vpc_link_status: "AVAILABLE".into(),
                vpc_link_status_message: String::new(),
                vpc_link_version: "V2".into(),
            },
            targets,
        };
        let mut targets = portico_model::VpcLinkTargets {
            targets: vec![portico_model::VpcLinkTarget {
                address: "10.0.0.1:80".into(),
                weight: 2,
            }],
            load_balancing: "LEAST_REQUEST".into(),
            ..Default::default()
        };
        targets.health_check.protocol = "HTTPS".into();
        let mut s = source();
        s.vpc_links = vec![link("vl2", None), link("vl1", Some(targets.clone()))];
        s.deployments[0].2.integrations[0].connection_type = "VPC_LINK".into();
        s.deployments[0].2.integrations[0].connection_id = Some("vl1".into());
        let one = rows_to_wire(&s, "execute-api.localhost", None).expect("compiles");
        assert!(one.report.is_empty(), "{:?}", one.report);
        let links = &one.snapshot.vpc_links;
        assert_eq!(links.len(), 2);
        assert_eq!(links[0].vpc_link_id, "vl1");
        assert_eq!(links[0].groups, ["private-east"]);
        assert_eq!(links[0].targets[0].weight, 2);
        assert!(links[0].health_check.as_ref().is_some_and(|h| h.https));
        assert_eq!(
            links[0].load_balancing,
            wire::LoadBalancing::LeastRequest as i32
        );
        assert!(links[1].targets.is_empty());
        assert!(links[1].health_check.as_ref().is_some_and(|h| !h.https));

        // New targets: the stages on the deployment that uses the link serve anew.
        let mut changed = s.clone();
        changed.version = 8;
        targets.targets[0].weight = 5;
        changed.vpc_links[1].targets = Some(targets);
        let two = rows_to_wire(&changed, "execute-api.localhost", Some(&one)).expect("compiles");
        assert_ne!(one.content_hash, two.content_hash);
        assert_eq!(two.served_since.served("a", "prod"), Some(("d1", 8)));
    }
}
