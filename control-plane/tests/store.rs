//! The store's cases, each run against Postgres and SQLite.
mod support;

use std::collections::BTreeMap;

use portico_control_plane::store::{ResourceKind, Store, StoreError, TargetHealthRow, VpcLinkUser};
use portico_model::{
    Api, Authorizer, DeployedApi, Deployment, Integration, JwtConfiguration, Node, Route, Stage,
};

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

fn route(id: &str, key: &str) -> Route {
    Route {
        route_id: id.into(),
        route_key: key.into(),
        target: None,
        authorization_type: "NONE".into(),
        authorizer_id: None,
        authorization_scopes: Vec::new(),
        api_key_required: false,
        operation_name: None,
    }
}

fn integration(id: &str) -> Integration {
    Integration {
        integration_id: id.into(),
        integration_type: "HTTP_PROXY".into(),
        integration_uri: "http://127.0.0.1:1/x".into(),
        integration_method: "ANY".into(),
        payload_format_version: "1.0".into(),
        timeout_in_millis: 30_000,
        connection_type: "INTERNET".into(),
        connection_id: None,
        tls_config: None,
        description: None,
        request_parameters: Default::default(),
        response_parameters: Default::default(),
    }
}

fn authorizer(id: &str) -> Authorizer {
    Authorizer {
        authorizer_id: id.into(),
        name: "users".into(),
        authorizer_type: "JWT".into(),
        identity_source: vec!["$request.header.Authorization".into()],
        jwt_configuration: Some(JwtConfiguration {
            audience: vec!["app".into()],
            issuer: Some("https://issuer.example".into()),
        }),
        authorizer_uri: None,
        authorizer_payload_format_version: None,
        enable_simple_responses: None,
        authorizer_result_ttl_in_seconds: None,
        authorizer_credentials_arn: None,
    }
}

fn stage(name: &str, deployment: Option<&str>) -> Stage {
    Stage {
        stage_name: name.into(),
        deployment_id: deployment.map(String::from),
        auto_deploy: false,
        stage_variables: BTreeMap::new(),
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

fn deployment(id: &str) -> Deployment {
    Deployment {
        deployment_id: id.into(),
        deployment_status: "DEPLOYED".into(),
        deployment_status_message: None,
        created_date: "2026-11-25T00:00:00Z".into(),
        description: None,
        auto_deployed: false,
    }
}

async fn versions_follow_commits(store: Store) {
    assert_eq!(store.snapshot_version().await.unwrap(), 0);
    let (tx, v1) = store.write().await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(v1, 1);
    let (mut tx, v2) = store.write().await.unwrap();
    tx.insert_api(&api("rolledback")).await.unwrap();
    drop(tx);
    assert_eq!(v2, 2);
    // The rolled-back write took neither its version nor its rows.
    assert_eq!(store.snapshot_version().await.unwrap(), 1);
    let mut tx = store.read().await.unwrap();
    assert!(tx.get_api("rolledback").await.unwrap().is_none());
}

async fn apis_round_trip_and_page(store: Store) {
    let (mut tx, _) = store.write().await.unwrap();
    for id in ["e", "a", "c", "b", "d"] {
        tx.insert_api(&api(id)).await.unwrap();
    }
    tx.commit().await.unwrap();
    let mut tx = store.read().await.unwrap();
    let first: Vec<String> = tx
        .list_apis(None, 2)
        .await
        .unwrap()
        .into_iter()
        .map(|a| a.api_id)
        .collect();
    assert_eq!(first, ["a", "b"]);
    let next: Vec<String> = tx
        .list_apis(Some("b"), 10)
        .await
        .unwrap()
        .into_iter()
        .map(|a| a.api_id)
        .collect();
    assert_eq!(next, ["c", "d", "e"]);
    assert_eq!(tx.get_api("c").await.unwrap().unwrap(), api("c"));
    drop(tx);

    let (mut tx, _) = store.write().await.unwrap();
    let mut changed = api("c");
    changed.name = "renamed".into();
    tx.update_api(&changed).await.unwrap();
    assert!(tx.delete_api("e").await.unwrap());
    assert!(!tx.delete_api("nope").await.unwrap());
    tx.commit().await.unwrap();
    let mut tx = store.read().await.unwrap();
    assert_eq!(tx.get_api("c").await.unwrap().unwrap().name, "renamed");
    assert!(tx.get_api("e").await.unwrap().is_none());
}

async fn deleting_an_api_deletes_its_resources(store: Store) {
    let (mut tx, _) = store.write().await.unwrap();
    tx.insert_api(&api("a")).await.unwrap();
    tx.upsert_integration("a", &integration("i1"))
        .await
        .unwrap();
    tx.upsert_route("a", &route("r1", "GET /x")).await.unwrap();
    tx.upsert_authorizer("a", &authorizer("au1")).await.unwrap();
    let frozen = DeployedApi {
        routes: vec![route("r1", "GET /x")],
        integrations: vec![],
        cors: None,
        authorizers: vec![authorizer("au1")],
    };
    tx.insert_deployment("a", &deployment("d1"), &frozen)
        .await
        .unwrap();
    tx.insert_stage("a", &stage("dev", Some("d1")))
        .await
        .unwrap();
    tx.commit().await.unwrap();

    let mut tx = store.read().await.unwrap();
    let stored: Option<Authorizer> = tx.get(ResourceKind::Authorizer, "a", "au1").await.unwrap();
    assert_eq!(stored, Some(authorizer("au1")));
    let source = tx.snapshot_source().await.unwrap();
    assert_eq!(source.deployments[0].2.authorizers, vec![authorizer("au1")]);
    drop(tx);

    let (mut tx, _) = store.write().await.unwrap();
    assert!(tx.delete_api("a").await.unwrap());
    tx.commit().await.unwrap();
    let mut tx = store.read().await.unwrap();
    for kind in [
        ResourceKind::Route,
        ResourceKind::Integration,
        ResourceKind::Authorizer,
        ResourceKind::Stage,
        ResourceKind::Deployment,
    ] {
        let left: Vec<serde_json::Value> = tx.all(kind, "a").await.unwrap();
        assert!(left.is_empty(), "{kind:?} survived its API");
    }
}

async fn route_keys_are_unique_per_api(store: Store) {
    let (mut tx, _) = store.write().await.unwrap();
    tx.insert_api(&api("a")).await.unwrap();
    tx.insert_api(&api("b")).await.unwrap();
    tx.upsert_route("a", &route("r1", "GET /x")).await.unwrap();
    // The same key in another API is fine.
    tx.upsert_route("b", &route("r2", "GET /x")).await.unwrap();
    let err = tx
        .upsert_route("a", &route("r3", "GET /x"))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Unique(_)), "{err:?}");
}

async fn stages_and_deployments(store: Store) {
    let (mut tx, _) = store.write().await.unwrap();
    tx.insert_api(&api("a")).await.unwrap();
    let frozen = DeployedApi {
        routes: vec![],
        integrations: vec![integration("i1")],
        cors: None,
        authorizers: Vec::new(),
    };
    tx.insert_deployment("a", &deployment("d1"), &frozen)
        .await
        .unwrap();
    tx.insert_deployment("a", &deployment("d2"), &frozen)
        .await
        .unwrap();
    tx.insert_stage("a", &stage("dev", Some("d1")))
        .await
        .unwrap();
    tx.insert_stage("a", &stage("prod", Some("d1")))
        .await
        .unwrap();
    tx.insert_stage("a", &stage("idle", None)).await.unwrap();
    tx.commit().await.unwrap();
    // A failed statement ends a Postgres transaction, so the duplicate gets its own.
    let (mut tx, _) = store.write().await.unwrap();
    assert!(matches!(
        tx.insert_stage("a", &stage("dev", None)).await.unwrap_err(),
        StoreError::Unique(_)
    ));
    drop(tx);

    let (mut tx, _) = store.write().await.unwrap();
    assert_eq!(tx.stages_using("a", "d1").await.unwrap(), ["dev", "prod"]);
    let mut prod = stage("prod", Some("d2"));
    prod.stage_variables
        .insert("backend".into(), "127.0.0.1:9".into());
    tx.update_stage("a", &prod).await.unwrap();
    tx.commit().await.unwrap();

    let mut tx = store.read().await.unwrap();
    let source = tx.snapshot_source().await.unwrap();
    assert_eq!(source.version, 2);
    assert_eq!(source.stages.len(), 3);
    let deployed: Vec<&str> = source
        .deployments
        .iter()
        .map(|(_, d, _)| d.as_str())
        .collect();
    assert_eq!(deployed, ["d1", "d2"]);
    assert_eq!(source.deployments[0].2, frozen);
    let got: Stage = tx
        .get(ResourceKind::Stage, "a", "prod")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(got, prod);
}

async fn nodes_are_recorded(store: Store) {
    let mut node = Node {
        node_id: "n1".into(),
        address: "127.0.0.1:8000".into(),
        applied_version: 3,
        last_status: Some("ACK".into()),
        last_error: None,
        rejected_version: None,
        connected: true,
        control_plane: "cp-a".into(),
        last_seen: "2026-11-25T00:00:00Z".into(),
    };
    store.record_node(&node).await.unwrap();
    node.last_status = Some("NACK".into());
    node.last_error = Some("bad route".into());
    node.rejected_version = Some(4);
    store.record_node(&node).await.unwrap();
    let nodes = store.list_nodes(None).await.unwrap();
    assert_eq!(nodes, vec![node]);
}

async fn corrupt_rows_are_reported_not_hidden(store: Store) {
    let (mut tx, _) = store.write().await.unwrap();
    tx.insert_api(&api("a")).await.unwrap();
    tx.commit().await.unwrap();
    sqlx::query("UPDATE apis SET body = 'not json'")
        .execute(store.pool())
        .await
        .unwrap();
    let mut tx = store.read().await.unwrap();
    assert!(matches!(
        tx.get_api("a").await.unwrap_err(),
        StoreError::Corrupt { .. }
    ));
}

/// The snapshot read leaves out what no longer parses and says so, so that one damaged
/// row cannot stop every API from being published.
async fn the_snapshot_read_reports_damaged_rows_and_keeps_the_rest(store: Store) {
    let (mut tx, _) = store.write().await.unwrap();
    let frozen = DeployedApi {
        routes: vec![],
        integrations: vec![integration("i1")],
        cors: None,
        authorizers: Vec::new(),
    };
    for id in ["a", "b", "c"] {
        tx.insert_api(&api(id)).await.unwrap();
        tx.insert_deployment(id, &deployment("d1"), &frozen)
            .await
            .unwrap();
        tx.insert_stage(id, &stage("dev", Some("d1")))
            .await
            .unwrap();
    }
    tx.commit().await.unwrap();
    for damage in [
        "UPDATE apis SET body = '{' WHERE api_id = 'a'",
        "UPDATE deployments SET frozen = '[1' WHERE api_id = 'b'",
        "UPDATE stages SET body = 'null' WHERE api_id = 'c'",
    ] {
        sqlx::query(damage).execute(store.pool()).await.unwrap();
    }
    let mut tx = store.read().await.unwrap();
    let source = tx.snapshot_source().await.unwrap();
    let damaged: Vec<(ResourceKind, &str, &str)> = source
        .damaged
        .iter()
        .map(|d| (d.kind, d.api_id.as_str(), d.key.as_str()))
        .collect();
    assert_eq!(
        damaged,
        [
            (ResourceKind::Api, "a", "a"),
            (ResourceKind::Stage, "c", "dev"),
            (ResourceKind::Deployment, "b", "d1"),
        ]
    );
    assert!(source.damaged.iter().all(|d| d.error.contains("corrupt")));
    let apis: Vec<&str> = source.apis.iter().map(|a| a.api_id.as_str()).collect();
    assert_eq!(apis, ["b", "c"]);
    let stages: Vec<&str> = source.stages.iter().map(|(a, _)| a.as_str()).collect();
    assert_eq!(stages, ["a", "b"]);
    let deployments: Vec<&str> = source
        .deployments
        .iter()
        .map(|(a, _, _)| a.as_str())
        .collect();
    assert_eq!(deployments, ["a", "c"]);
}

fn domain(name: &str, cert: &str, truststore: Option<&str>) -> portico_model::DomainName {
    portico_model::DomainName {
        domain_name: name.into(),
        domain_name_arn: portico_model::domain_name_arn(name),
        api_mapping_selection_expression: "$request.basepath".into(),
        domain_name_configurations: vec![portico_model::DomainNameConfiguration {
            certificate_arn: Some(cert.into()),
            ..Default::default()
        }],
        mutual_tls_authentication: truststore.map(|t| portico_model::MutualTlsAuthentication {
            truststore_uri: Some(format!("s3://{t}")),
            ..Default::default()
        }),
        tags: BTreeMap::new(),
    }
}

/// Certificates, truststores, domains and mappings: what the snapshot reads of them, and
/// mappings going with the domain, the stage or the API they belong to.
async fn custom_domains_and_their_mappings(store: Store) {
    use portico_control_plane::store::{StoredCertificate, StoredTruststore};
    let cert = StoredCertificate {
        detail: portico_model::CertificateDetail {
            certificate_arn: "arn:aws:acm:us-east-1:000000000000:certificate/c1".into(),
            domain_name: "api.example.com".into(),
            ..Default::default()
        },
        certificate_pem: "LEAF".into(),
        chain_pem: "CHAIN".into(),
        sealed_key: "SEALED".into(),
    };
    let arn = cert.detail.certificate_arn.clone();
    let (mut tx, _) = store.write().await.unwrap();
    tx.insert_api(&api("a")).await.unwrap();
    tx.insert_stage("a", &stage("prod", None)).await.unwrap();
    tx.insert_stage("a", &stage("dev", None)).await.unwrap();
    tx.upsert_certificate(&cert).await.unwrap();
    tx.upsert_truststore(&StoredTruststore {
        truststore: portico_model::Truststore {
            name: "partners/ca.pem".into(),
            ..Default::default()
        },
        bundle_pem: "BUNDLE".into(),
    })
    .await
    .unwrap();
    tx.insert_domain_name(&domain("api.example.com", &arn, None))
        .await
        .unwrap();
    tx.insert_domain_name(&domain("*.example.com", &arn, Some("partners/ca.pem")))
        .await
        .unwrap();
    for (id, key, stage) in [("m1", "", "prod"), ("m2", "v1/orders", "dev")] {
        let m = portico_model::ApiMapping {
            api_id: "a".into(),
            api_mapping_id: id.into(),
            api_mapping_key: key.into(),
            stage: stage.into(),
        };
        tx.upsert_api_mapping("api.example.com", &m).await.unwrap();
    }
    tx.commit().await.unwrap();

    let mut tx = store.read().await.unwrap();
    let source = tx.snapshot_source().await.unwrap();
    let domains = &source.custom_domains.domains;
    assert_eq!(domains.len(), 2);
    assert_eq!(domains[0].domain.domain_name, "*.example.com");
    assert_eq!(domains[0].truststore_pem.as_deref(), Some("BUNDLE"));
    assert_eq!(domains[1].mappings.len(), 2);
    assert_eq!(source.custom_domains.certificates, vec![cert.clone()]);
    assert_eq!(
        tx.domains_using_certificate(&arn).await.unwrap(),
        ["*.example.com", "api.example.com"]
    );
    assert_eq!(
        tx.domains_using_truststore("partners/ca.pem")
            .await
            .unwrap(),
        ["*.example.com"]
    );
    drop(tx);

    // A deleted stage takes its mappings; a deleted API takes the rest.
    let (mut tx, _) = store.write().await.unwrap();
    assert!(tx.delete(ResourceKind::Stage, "a", "dev").await.unwrap());
    tx.commit().await.unwrap();
    let mut tx = store.read().await.unwrap();
    let left = tx
        .list_api_mappings("api.example.com", None, 10)
        .await
        .unwrap();
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].api_mapping_id, "m1");
    drop(tx);
    let (mut tx, _) = store.write().await.unwrap();
    assert!(tx.delete_api("a").await.unwrap());
    assert!(tx.delete_domain_name("*.example.com").await.unwrap());
    tx.commit().await.unwrap();
    let mut tx = store.read().await.unwrap();
    assert!(
        tx.list_api_mappings("api.example.com", None, 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(tx.list_domain_names(None, 10).await.unwrap().len(), 1);
}

fn route_metrics(stage: &str, route: &str, requests: u64) -> portico_proto::RouteMetrics {
    let mut latency = vec![0; portico_model::LATENCY_BUCKETS];
    latency[2] = requests;
    portico_proto::RouteMetrics {
        api_id: "a".into(),
        stage: stage.into(),
        route_key: route.into(),
        requests,
        status_4xx: 1,
        status_5xx: 0,
        throttled: 1,
        unauthorized: 0,
        bytes_in: 10,
        bytes_out: 100,
        latency_buckets: latency.clone(),
        latency_sum_ms: 1.5 * requests as f64,
        integration_latency_buckets: latency,
        integration_latency_sum_ms: 1.0,
    }
}

/// Reports from several nodes add up, in the minute and in the month; pruning drops old
/// minutes only; budgets and alerts round-trip and an alert fires once.
async fn metrics_usage_and_budgets(store: Store) {
    let (mut tx, _) = store.write().await.unwrap();
    tx.insert_api(&api("a")).await.unwrap();
    tx.commit().await.unwrap();
    let minute = 1_764_547_200; // 2025-12-01T00:00:00Z
    let report = |minute, routes| portico_proto::MetricsReport {
        minute,
        routes,
        access_log_dropped: 0,
    };
    store
        .record_metrics(&report(
            minute,
            vec![
                route_metrics("dev", "GET /x", 3),
                route_metrics("dev", "", 1),
            ],
        ))
        .await
        .unwrap();
    // A second node, the same minute and route.
    store
        .record_metrics(&report(minute, vec![route_metrics("dev", "GET /x", 2)]))
        .await
        .unwrap();
    store
        .record_metrics(&report(
            minute + 60,
            vec![route_metrics("prod", "GET /x", 4)],
        ))
        .await
        .unwrap();

    let rows = store.metric_rows("a", None, None, minute).await.unwrap();
    assert_eq!(rows.len(), 3);
    let x = rows
        .iter()
        .find(|r| r.stage == "dev" && r.route_key == "GET /x")
        .unwrap();
    assert_eq!(
        (x.requests, x.c4xx, x.throttled, x.bytes_out),
        (5, 2, 2, 200)
    );
    assert_eq!(x.latency[2], 5);
    assert!((x.latency_sum - 7.5).abs() < 1e-9);
    let unmatched = store
        .metric_rows("a", Some("dev"), Some(""), minute)
        .await
        .unwrap();
    assert_eq!(
        unmatched.len(),
        1,
        "the empty route key is a filter of its own"
    );
    assert_eq!(unmatched[0].requests, 1);
    let prod = store
        .metric_rows("a", Some("prod"), None, minute)
        .await
        .unwrap();
    assert_eq!(prod.len(), 1);

    let usage = store.usage_for_month("2025-12").await.unwrap();
    assert_eq!(usage.len(), 1);
    assert_eq!(
        (usage[0].requests, usage[0].bytes_in, usage[0].bytes_out),
        (10, 40, 400)
    );
    assert!(store.usage_for_month("2025-11").await.unwrap().is_empty());

    assert_eq!(store.prune_metrics(minute + 60).await.unwrap(), 2);
    assert_eq!(
        store.metric_rows("a", None, None, 0).await.unwrap().len(),
        1
    );
    assert_eq!(
        store.usage_for_month("2025-12").await.unwrap()[0].requests,
        10,
        "monthly usage outlives the minutes"
    );

    assert_eq!(store.pricing().await.unwrap(), None);
    let pricing = portico_model::Pricing {
        http_requests_per_million: 1.25,
        ..Default::default()
    };
    store.put_pricing(&pricing).await.unwrap();
    store.put_pricing(&pricing).await.unwrap();
    assert_eq!(store.pricing().await.unwrap(), Some(pricing));

    let budget = portico_model::Budget {
        api_id: "a".into(),
        limit: 5.0,
        notifications: vec![portico_model::BudgetNotification {
            notification_type: portico_model::NotificationType::Actual,
            threshold: 80.0,
        }],
        ..Default::default()
    };
    store.put_budget(&budget).await.unwrap();
    assert_eq!(store.budgets().await.unwrap(), vec![budget]);
    let alert = portico_model::BudgetAlert {
        api_id: "a".into(),
        month: "2025-12".into(),
        threshold: 80.0,
        ..Default::default()
    };
    assert!(store.insert_alert(&alert, 1).await.unwrap());
    assert!(!store.insert_alert(&alert, 2).await.unwrap(), "fires once");
    let delivered = portico_model::BudgetAlert {
        delivery: portico_model::DeliveryStatus::Delivered,
        attempts: 1,
        ..alert
    };
    store.update_alert(&delivered).await.unwrap();
    assert_eq!(
        store.alerts_for_month("2025-12").await.unwrap(),
        vec![delivered]
    );

    // Deleting the API takes its budget.
    let (mut tx, _) = store.write().await.unwrap();
    assert!(tx.delete_api("a").await.unwrap());
    tx.commit().await.unwrap();
    assert!(store.budgets().await.unwrap().is_empty());
    assert!(!store.delete_budget("a").await.unwrap());
}

fn vpc_link(id: &str) -> portico_model::VpcLink {
    portico_model::VpcLink {
        vpc_link_id: id.into(),
        name: format!("link {id}"),
        subnet_ids: vec!["private-east".into()],
        security_group_ids: Vec::new(),
        tags: BTreeMap::new(),
        created_date: "2026-11-25T00:00:00Z".into(),
        vpc_link_status: "AVAILABLE".into(),
        vpc_link_status_message: "VPC link is ready to route traffic".into(),
        vpc_link_version: "V2".into(),
    }
}

fn health_row(link: &str, endpoint: &str, state: &str) -> TargetHealthRow {
    TargetHealthRow {
        vpc_link_id: link.into(),
        target: "orders.internal:80".into(),
        endpoint: endpoint.into(),
        state: state.into(),
        reason: String::new(),
    }
}

async fn vpc_links_targets_users_and_health(store: Store) {
    let (mut tx, _) = store.write().await.unwrap();
    for id in ["l3", "l1", "l2"] {
        tx.insert_vpc_link(&vpc_link(id)).await.unwrap();
    }
    tx.commit().await.unwrap();
    // A failed statement ends a Postgres transaction: the duplicate gets its own.
    let (mut tx, _) = store.write().await.unwrap();
    assert!(matches!(
        tx.insert_vpc_link(&vpc_link("l1")).await,
        Err(StoreError::Unique(_))
    ));
    drop(tx);

    let (mut tx, _) = store.write().await.unwrap();
    let ids: Vec<String> = tx
        .list_vpc_links(Some("l1"), 10)
        .await
        .unwrap()
        .into_iter()
        .map(|l| l.vpc_link_id)
        .collect();
    assert_eq!(ids, ["l2", "l3"]);
    let mut renamed = vpc_link("l1");
    renamed.name = "orders".into();
    assert!(tx.update_vpc_link(&renamed).await.unwrap());
    assert!(!tx.update_vpc_link(&vpc_link("nope")).await.unwrap());
    assert_eq!(tx.get_vpc_link("l1").await.unwrap(), Some(renamed.clone()));
    assert_eq!(tx.get_vpc_link("nope").await.unwrap(), None);

    // Targets: none until PUT, then what was PUT; the link's own fields stay apart.
    assert_eq!(tx.get_vpc_link_targets("l1").await.unwrap(), Some(None));
    assert_eq!(tx.get_vpc_link_targets("nope").await.unwrap(), None);
    let targets = portico_model::VpcLinkTargets {
        targets: vec![portico_model::VpcLinkTarget {
            address: "orders.internal:80".into(),
            weight: 3,
        }],
        ..Default::default()
    };
    assert!(tx.put_vpc_link_targets("l1", &targets).await.unwrap());
    assert!(!tx.put_vpc_link_targets("nope", &targets).await.unwrap());
    assert_eq!(
        tx.get_vpc_link_targets("l1").await.unwrap(),
        Some(Some(targets.clone()))
    );
    assert!(tx.update_vpc_link(&renamed).await.unwrap());
    assert_eq!(
        tx.get_vpc_link_targets("l1").await.unwrap(),
        Some(Some(targets.clone()))
    );

    // Users: a current integration, and one only in a deployment a stage serves; one in
    // a deployment no stage serves does not count.
    tx.insert_api(&api("a")).await.unwrap();
    let mut private = integration("i1");
    private.connection_type = "VPC_LINK".into();
    private.connection_id = Some("l1".into());
    tx.upsert_integration("a", &private).await.unwrap();
    let mut gone = private.clone();
    gone.integration_id = "i0".into();
    let frozen = |i: &Integration| DeployedApi {
        routes: Vec::new(),
        integrations: vec![integration("other"), i.clone()],
        cors: None,
        authorizers: Vec::new(),
    };
    tx.insert_deployment("a", &deployment("d1"), &frozen(&gone))
        .await
        .unwrap();
    tx.insert_deployment("a", &deployment("d2"), &frozen(&private))
        .await
        .unwrap();
    tx.insert_stage("a", &stage("prod", Some("d1")))
        .await
        .unwrap();
    let users = tx.vpc_link_users("l1").await.unwrap();
    assert_eq!(
        users,
        vec![
            VpcLinkUser {
                api_id: "a".into(),
                integration_id: "i0".into(),
                deployment_id: Some("d1".into()),
            },
            VpcLinkUser {
                api_id: "a".into(),
                integration_id: "i1".into(),
                deployment_id: None,
            },
        ]
    );
    // `l1` is a prefix of no other id here, but the match is on the whole id.
    assert!(tx.vpc_link_users("l").await.unwrap().is_empty());
    assert!(tx.vpc_link_users("l2").await.unwrap().is_empty());

    let source = tx.vpc_link_source().await.unwrap();
    let ids: Vec<&str> = source.iter().map(|l| l.link.vpc_link_id.as_str()).collect();
    assert_eq!(ids, ["l1", "l2", "l3"]);
    assert_eq!(source[0].targets, Some(targets));
    assert_eq!(source[1].targets, None);
    tx.commit().await.unwrap();

    // Health: each report replaces the node's rows; other nodes' rows stay.
    store
        .record_target_health(
            "n1",
            &[
                health_row("l1", "10.0.0.2:80", "HEALTHY"),
                health_row("l1", "10.0.0.1:80", "UNKNOWN"),
                health_row("l2", "10.0.0.9:80", "HEALTHY"),
            ],
            "2026-11-25T00:00:00Z",
        )
        .await
        .unwrap();
    store
        .record_target_health(
            "n0",
            &[health_row("l1", "10.0.0.1:80", "EJECTED")],
            "2026-11-25T00:00:01Z",
        )
        .await
        .unwrap();
    let mut ejected = health_row("l1", "10.0.0.1:80", "UNHEALTHY");
    ejected.reason = "connection refused".into();
    store
        .record_target_health("n1", &[ejected.clone(), ejected], "2026-11-25T00:00:02Z")
        .await
        .unwrap();
    let health = store.target_health("l1").await.unwrap();
    let seen: Vec<(&str, &str, &str, &str)> = health
        .iter()
        .map(|h| {
            (
                h.node_id.as_str(),
                h.endpoint.as_str(),
                h.state.as_str(),
                h.updated.as_str(),
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            ("n0", "10.0.0.1:80", "EJECTED", "2026-11-25T00:00:01Z"),
            ("n1", "10.0.0.1:80", "UNHEALTHY", "2026-11-25T00:00:02Z"),
        ]
    );
    assert_eq!(health[1].reason, "connection refused");
    assert!(store.target_health("l2").await.unwrap().is_empty());

    // Deleting a link takes its targets and health rows.
    let (mut tx, _) = store.write().await.unwrap();
    assert!(tx.delete_vpc_link("l1").await.unwrap());
    assert!(!tx.delete_vpc_link("l1").await.unwrap());
    assert_eq!(tx.get_vpc_link_targets("l1").await.unwrap(), None);
    tx.commit().await.unwrap();
    assert!(store.target_health("l1").await.unwrap().is_empty());
}

store_cases!(
    metrics_usage_and_budgets,
    the_snapshot_read_reports_damaged_rows_and_keeps_the_rest,
    versions_follow_commits,
    apis_round_trip_and_page,
    deleting_an_api_deletes_its_resources,
    route_keys_are_unique_per_api,
    stages_and_deployments,
    nodes_are_recorded,
    corrupt_rows_are_reported_not_hidden,
    custom_domains_and_their_mappings,
    vpc_links_targets_users_and_health,
);
