//! The rules that keep the control plane's writes O(1) in an API's size (#19): route
//! conflicts by match key, the backfill of keys stored before it, deployment pruning,
//! keyset paging, and writes nodes cannot see leaving the snapshot version alone. Each
//! case runs against Postgres and SQLite.
mod support;

use std::collections::BTreeMap;

use portico_control_plane::service::{AdminService, ListParams, ServiceError};
use portico_control_plane::store::Store;
use portico_model::*;
use sqlx::Row;

fn api_input(name: &str) -> CreateApi {
    CreateApi {
        name: name.into(),
        protocol_type: "HTTP".into(),
        ..Default::default()
    }
}

fn route_input(key: &str) -> CreateRoute {
    CreateRoute {
        route_key: key.into(),
        ..Default::default()
    }
}

async fn new_api(svc: &AdminService, name: &str) -> String {
    svc.create_api(&support::admin(), api_input(name))
        .await
        .expect("create API")
        .api_id
}

async fn route(svc: &AdminService, api: &str, key: &str) -> Result<Route, ServiceError> {
    svc.create_route(&support::admin(), api, route_input(key))
        .await
}

/// AWS: "Working with routes for HTTP APIs" — routes are matched by method and path, path
/// variables (`{id}`) match any one segment whatever they are called, so `GET /a/{id}`
/// and `GET /a/{x}` are the same route; `$default` is a route of its own.
async fn route_keys_that_match_the_same_requests_conflict(store: Store) {
    let svc = support::service(store);
    let api = new_api(&svc, "conflicts").await;
    let first = route(&svc, &api, "GET /a/{id}").await.unwrap();
    let err = route(&svc, &api, "GET /a/{x}").await.unwrap_err();
    let ServiceError::Conflict(message) = &err else {
        panic!("expected ConflictException, got {err:?}");
    };
    assert!(
        message.contains(&first.route_id) && message.contains("GET /a/{id}"),
        "the conflict names the existing route: {message}"
    );
    // The same key exactly is the same conflict.
    assert!(matches!(
        route(&svc, &api, "GET /a/{id}").await,
        Err(ServiceError::Conflict(_))
    ));
    // A greedy parameter, another method, ANY, a literal and $default are all other routes.
    for other in [
        "GET /a/{proxy+}",
        "POST /a/{id}",
        "ANY /a/{id}",
        "GET /a/b",
        "$default",
    ] {
        route(&svc, &api, other)
            .await
            .unwrap_or_else(|e| panic!("{other}: {e:?}"));
    }
    assert!(matches!(
        route(&svc, &api, "$default").await,
        Err(ServiceError::Conflict(_))
    ));
    assert!(matches!(
        route(&svc, &api, "GET /a/{rest+}").await,
        Err(ServiceError::Conflict(_))
    ));
    // Another API has its own keys.
    let other_api = new_api(&svc, "other").await;
    route(&svc, &other_api, "GET /a/{x}").await.unwrap();

    // UpdateRoute: onto another route's key is a conflict naming it; renaming a route's
    // own parameter is not.
    let second = route(&svc, &api, "GET /b/{id}").await.unwrap();
    let err = svc
        .update_route(
            &support::admin(),
            &api,
            &second.route_id,
            UpdateRoute {
                route_key: Some("GET /a/{other}".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap_err();
    let ServiceError::Conflict(message) = &err else {
        panic!("expected ConflictException, got {err:?}");
    };
    assert!(message.contains(&first.route_id), "{message}");
    let renamed = svc
        .update_route(
            &support::admin(),
            &api,
            &second.route_id,
            UpdateRoute {
                route_key: Some("GET /b/{renamed}".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(renamed.route_key, "GET /b/{renamed}");
    // The old key is free again once the route moved off it.
    svc.update_route(
        &support::admin(),
        &api,
        &second.route_id,
        UpdateRoute {
            route_key: Some("GET /c".into()),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    route(&svc, &api, "GET /b/{id}").await.unwrap();
}

/// Rows from before migration 0008 have no match key: the store fills them in when it
/// opens, and from then on they conflict like any other.
async fn match_keys_of_older_routes_are_filled_in_at_open(store: Store) {
    let svc = support::service(store.clone());
    let api = new_api(&svc, "older").await;
    let old = route(&svc, &api, "GET /pets/{petId}").await.unwrap();
    route(&svc, &api, "$default").await.unwrap();
    sqlx::query("UPDATE routes SET match_key = NULL")
        .execute(store.pool())
        .await
        .unwrap();
    // Without its key the old route is invisible to the check (this is what the backfill
    // is for).
    let reopened = Store::connect(store.url()).await.expect("reopen the store");
    let keys: Vec<(String, Option<String>)> =
        sqlx::query("SELECT route_key, match_key FROM routes ORDER BY route_key")
            .fetch_all(reopened.pool())
            .await
            .unwrap()
            .iter()
            .map(|r| (r.get(0), r.get(1)))
            .collect();
    assert_eq!(
        keys,
        [
            ("$default".to_string(), Some("$default".to_string())),
            (
                "GET /pets/{petId}".to_string(),
                Some("GET /pets/{}".to_string())
            ),
        ]
    );
    let svc = support::service(reopened.clone());
    let err = route(&svc, &api, "GET /pets/{id}").await.unwrap_err();
    assert!(
        matches!(&err, ServiceError::Conflict(m) if m.contains(&old.route_id)),
        "{err:?}"
    );
    // A second open has nothing left to fill.
    let again = reopened.backfill_route_match_keys().await.unwrap();
    assert_eq!(again.filled, 0);
    assert!(again.skipped.is_empty());

    // Two rows that match the same requests, written behind the control plane's back:
    // one gets the key, the other is reported and left without (it keeps working).
    sqlx::query("UPDATE routes SET match_key = NULL")
        .execute(reopened.pool())
        .await
        .unwrap();
    sqlx::query(
        "INSERT INTO routes (api_id, route_id, route_key, body) VALUES ($1, 'zzzzzzz', 'GET /pets/{other}', $2)",
    )
    .bind(&api)
    .bind(
        serde_json::json!({
            "routeId": "zzzzzzz", "routeKey": "GET /pets/{other}",
            "authorizationType": "NONE", "apiKeyRequired": false, "authorizationScopes": []
        })
        .to_string(),
    )
    .execute(reopened.pool())
    .await
    .unwrap();
    let filled = reopened.backfill_route_match_keys().await.unwrap();
    assert_eq!(filled.filled, 2);
    assert_eq!(filled.skipped, [(api.clone(), "zzzzzzz".to_string())]);
    reopened.close().await;
}

async fn deployment_ids(svc: &AdminService, api: &str) -> Vec<String> {
    let mut ids = Vec::new();
    let mut token = None;
    for _ in 0..100 {
        let page = svc
            .list_deployments(
                &support::admin(),
                api,
                ListParams {
                    max_results: Some(100),
                    next_token: token,
                },
            )
            .await
            .unwrap();
        ids.extend(page.items.into_iter().map(|d| d.deployment_id));
        token = page.next_token;
        if token.is_none() {
            break;
        }
    }
    ids.sort();
    ids
}

async fn deploy(svc: &AdminService, api: &str, stage: Option<&str>) -> String {
    svc.create_deployment(
        &support::admin(),
        api,
        CreateDeployment {
            stage_name: stage.map(String::from),
            description: None,
        },
    )
    .await
    .expect("create deployment")
    .deployment_id
}

/// AWS keeps every deployment (its HTTP API quota page, "Quotas for configuring and
/// running an HTTP API in API Gateway", lists no deployments-per-API limit); Portico
/// keeps the newest `--keep-deployments` and any a stage uses, however old.
async fn old_deployments_are_pruned_but_never_one_a_stage_uses(store: Store) {
    let svc = support::service(store).with_keep_deployments(3);
    let api = new_api(&svc, "pruned").await;
    svc.create_stage(
        &support::admin(),
        &api,
        CreateStage {
            stage_name: "pinned".into(),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    // The oldest deployment is the one the stage serves.
    let pinned = deploy(&svc, &api, Some("pinned")).await;
    let mut made = Vec::new();
    for _ in 0..5 {
        made.push(deploy(&svc, &api, None).await);
    }
    let mut expected: Vec<String> = made[2..].to_vec();
    expected.push(pinned.clone());
    expected.sort();
    assert_eq!(deployment_ids(&svc, &api).await, expected);

    // Moving the stage onto the newest lets the old one go with the next deployment.
    svc.update_stage(
        &support::admin(),
        &api,
        "pinned",
        UpdateStage {
            deployment_id: Some(made[4].clone()),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let newest = deploy(&svc, &api, None).await;
    let mut expected = vec![made[3].clone(), made[4].clone(), newest];
    expected.sort();
    assert_eq!(deployment_ids(&svc, &api).await, expected);

    // An auto-deploy stage deploys on every change; the API keeps the newest 3, which
    // include the auto stage's own, and the pinned stage's older one.
    let auto = svc
        .create_stage(
            &support::admin(),
            &api,
            CreateStage {
                stage_name: "auto".into(),
                auto_deploy: Some(true),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert!(auto.deployment_id.is_some());
    for n in 0..6 {
        route(&svc, &api, &format!("GET /r{n}")).await.unwrap();
    }
    let ids = deployment_ids(&svc, &api).await;
    assert_eq!(ids.len(), 4, "{ids:?}");
    let auto = svc
        .get_stage(&support::admin(), &api, "auto")
        .await
        .unwrap();
    assert!(ids.contains(auto.deployment_id.as_ref().unwrap()));
    assert!(
        ids.contains(&made[4]),
        "the pinned stage's deployment stays"
    );

    // 0 keeps everything.
    let keep_all = svc.clone().with_keep_deployments(0);
    for _ in 0..4 {
        deploy(&keep_all, &api, None).await;
    }
    assert_eq!(deployment_ids(&keep_all, &api).await.len(), 8);
}

/// Lists page by key (`WHERE key > $after ORDER BY key LIMIT`): every route once, in key
/// order, across pages, with no token after the last.
async fn routes_page_by_key(store: Store) {
    let svc = support::service(store);
    let api = new_api(&svc, "paged").await;
    let mut made = Vec::new();
    for n in 0..250 {
        made.push(
            route(&svc, &api, &format!("GET /r{n}"))
                .await
                .unwrap()
                .route_id,
        );
    }
    made.sort();
    let mut seen = Vec::new();
    let mut sizes = Vec::new();
    let mut token = None;
    for _ in 0..10 {
        let page = svc
            .list_routes(
                &support::admin(),
                &api,
                ListParams {
                    max_results: Some(100),
                    next_token: token,
                },
            )
            .await
            .unwrap();
        sizes.push(page.items.len());
        seen.extend(page.items.into_iter().map(|r| r.route_id));
        token = page.next_token;
        if token.is_none() {
            break;
        }
    }
    assert_eq!(sizes, [100, 100, 50]);
    assert_eq!(seen, made, "every route once, in id order");
}

/// Routes reach nodes only through deployments: creating one on an API with no
/// auto-deploy stage leaves the snapshot version (and every replica's compile) alone; with
/// an auto-deploy stage it is a new deployment and a new version.
async fn writes_nodes_cannot_see_keep_the_snapshot_version(store: Store) {
    let svc = support::service(store.clone());
    let api = new_api(&svc, "quiet").await;
    let before = store.snapshot_version().await.unwrap();
    for n in 0..5 {
        route(&svc, &api, &format!("GET /q{n}")).await.unwrap();
    }
    svc.create_integration(
        &support::admin(),
        &api,
        CreateIntegration {
            integration_type: "HTTP_PROXY".into(),
            integration_uri: Some("http://127.0.0.1:8080/".into()),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(store.snapshot_version().await.unwrap(), before);
    // The audit log still has them.
    let audited: i64 = sqlx::query("SELECT COUNT(*) FROM audit_log WHERE action = 'CreateRoute'")
        .fetch_one(store.pool())
        .await
        .unwrap()
        .get(0);
    assert_eq!(audited, 5);

    svc.create_stage(
        &support::admin(),
        &api,
        CreateStage {
            stage_name: "live".into(),
            auto_deploy: Some(true),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let staged = store.snapshot_version().await.unwrap();
    assert!(staged > before, "a new stage is something nodes serve");
    route(&svc, &api, "GET /seen").await.unwrap();
    assert!(store.snapshot_version().await.unwrap() > staged);
}

/// A stage write checks the SSRF rule on the integrations its variables can point
/// elsewhere; route settings name routes by key.
async fn stage_writes_check_what_they_can_change(store: Store) {
    let svc = support::service(store);
    let api = new_api(&svc, "staged").await;
    svc.create_integration(
        &support::admin(),
        &api,
        CreateIntegration {
            integration_type: "HTTP_PROXY".into(),
            integration_uri: Some("http://${stageVariables.backend}/x".into()),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    route(&svc, &api, "GET /known").await.unwrap();
    let stage_with = |backend: &str, key: &str| {
        let mut vars = BTreeMap::new();
        vars.insert("backend".to_string(), backend.to_string());
        let mut settings = BTreeMap::new();
        settings.insert(key.to_string(), RouteSettings::default());
        CreateStage {
            stage_name: "s".into(),
            stage_variables: Some(vars),
            route_settings: Some(settings),
            ..Default::default()
        }
    };
    // The support service's admin API listens on 127.0.0.1:9000.
    let err = svc
        .create_stage(
            &support::admin(),
            &api,
            stage_with("127.0.0.1:9000", "GET /known"),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(err, ServiceError::Invalid(ref v) if v.field == "integrationUri"),
        "{err:?}"
    );
    let err = svc
        .create_stage(
            &support::admin(),
            &api,
            stage_with("127.0.0.1:8080", "GET /unknown"),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, ServiceError::NotFound(_)), "{err:?}");
    svc.create_stage(
        &support::admin(),
        &api,
        stage_with("127.0.0.1:8080", "GET /known"),
    )
    .await
    .unwrap();
    // Pointing the variable at the control plane later is refused too.
    let mut vars = BTreeMap::new();
    vars.insert("backend".to_string(), "127.0.0.1:9001".to_string());
    let err = svc
        .update_stage(
            &support::admin(),
            &api,
            "s",
            UpdateStage {
                stage_variables: Some(vars),
                ..Default::default()
            },
        )
        .await
        .unwrap_err();
    assert!(matches!(err, ServiceError::Invalid(_)), "{err:?}");
}

store_cases!(
    route_keys_that_match_the_same_requests_conflict,
    match_keys_of_older_routes_are_filled_in_at_open,
    old_deployments_are_pruned_but_never_one_a_stage_uses,
    routes_page_by_key,
    writes_nodes_cannot_see_keep_the_snapshot_version,
    stage_writes_check_what_they_can_change,
);
