//! The service layer's rules (validation, conflicts, auto-deploy, deployments), each run
//! against Postgres and SQLite.
mod support;

use std::collections::BTreeMap;

use portico_control_plane::service::{ListParams, ServiceError};
use portico_control_plane::store::Store;
use portico_model::*;

fn integration_input(uri: &str) -> CreateIntegration {
    CreateIntegration {
        integration_type: "HTTP_PROXY".into(),
        integration_uri: Some(uri.into()),
        ..Default::default()
    }
}

fn route_input(key: &str, integration_id: &str) -> CreateRoute {
    CreateRoute {
        route_key: key.into(),
        target: Some(format!("integrations/{integration_id}")),
        ..Default::default()
    }
}

fn api_input(name: &str) -> CreateApi {
    CreateApi {
        name: name.into(),
        protocol_type: "HTTP".into(),
        ..Default::default()
    }
}

async fn notes_api_deploys_like_aws(store: Store) {
    let svc = support::service(store.clone());
    let api = svc
        .create_api(&support::admin(), api_input("notes"))
        .await
        .unwrap();
    assert_eq!(
        api.api_endpoint.as_deref(),
        Some(format!("http://{}.execute-api.localhost:8000", api.api_id).as_str())
    );
    let id = api.api_id.as_str();
    let notes = svc
        .create_integration(
            &support::admin(),
            id,
            integration_input("http://127.0.0.1:8080/notes"),
        )
        .await
        .unwrap();
    for key in [
        "GET /notes",
        "POST /notes",
        "ANY /items/{proxy+}",
        "$default",
    ] {
        svc.create_route(
            &support::admin(),
            id,
            route_input(key, &notes.integration_id),
        )
        .await
        .unwrap();
    }
    let mut vars = BTreeMap::new();
    vars.insert("backend".to_string(), "127.0.0.1:8080".to_string());
    let dev = svc
        .create_stage(
            &support::admin(),
            id,
            CreateStage {
                stage_name: "dev".into(),
                auto_deploy: Some(true),
                stage_variables: Some(vars),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let first = dev
        .deployment_id
        .clone()
        .expect("auto-deploy stage is deployed at once");
    let prod = svc
        .create_stage(
            &support::admin(),
            id,
            CreateStage {
                stage_name: "prod".into(),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert!(prod.deployment_id.is_none());

    // A change redeploys the auto-deploy stage and leaves prod alone.
    svc.create_route(
        &support::admin(),
        id,
        route_input("DELETE /notes/{id}", &notes.integration_id),
    )
    .await
    .unwrap();
    let dev = svc.get_stage(&support::admin(), id, "dev").await.unwrap();
    assert_ne!(dev.deployment_id.as_deref(), Some(first.as_str()));
    assert!(
        svc.get_deployment(&support::admin(), id, dev.deployment_id.as_deref().unwrap())
            .await
            .unwrap()
            .auto_deployed
    );

    let deployment = svc
        .create_deployment(
            &support::admin(),
            id,
            CreateDeployment {
                stage_name: Some("prod".into()),
                description: Some("v1".into()),
            },
        )
        .await
        .unwrap();
    assert!(!deployment.auto_deployed);
    assert_eq!(
        svc.get_stage(&support::admin(), id, "prod")
            .await
            .unwrap()
            .deployment_id,
        Some(deployment.deployment_id.clone())
    );

    let mut tx = store.read().await.unwrap();
    let source = tx.snapshot_source().await.unwrap();
    let prod_frozen = source
        .deployments
        .iter()
        .find(|(_, d, _)| *d == deployment.deployment_id)
        .unwrap();
    assert_eq!(prod_frozen.2.routes.len(), 5);
    assert_eq!(prod_frozen.2.integrations.len(), 1);

    // Rolling prod back to the first deployment is pointing it there.
    let rolled = svc
        .update_stage(
            &support::admin(),
            id,
            "prod",
            UpdateStage {
                deployment_id: Some(first.clone()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(rolled.deployment_id, Some(first));
}

async fn bad_input_gets_clear_errors(store: Store) {
    let svc = support::service(store);
    let a = svc
        .create_api(&support::admin(), api_input("a"))
        .await
        .unwrap()
        .api_id;
    let b = svc
        .create_api(&support::admin(), api_input("b"))
        .await
        .unwrap()
        .api_id;
    let ia = svc
        .create_integration(&support::admin(), &a, integration_input("http://h/a"))
        .await
        .unwrap()
        .integration_id;
    let ib = svc
        .create_integration(&support::admin(), &b, integration_input("http://h/b"))
        .await
        .unwrap()
        .integration_id;

    let invalid = |e: ServiceError| match e {
        ServiceError::Invalid(v) => v.field,
        other => panic!("expected a validation error, got {other:?}"),
    };
    assert_eq!(
        invalid(
            svc.create_route(&support::admin(), &a, route_input("GET notes", &ia))
                .await
                .unwrap_err()
        ),
        "routeKey"
    );
    assert_eq!(
        invalid(
            svc.create_api(&support::admin(), api_input(""))
                .await
                .unwrap_err()
        ),
        "name"
    );
    assert_eq!(
        invalid(
            svc.create_integration(&support::admin(), &a, integration_input("ftp://h/"))
                .await
                .unwrap_err()
        ),
        "integrationUri"
    );
    assert_eq!(
        invalid(
            svc.create_stage(
                &support::admin(),
                &a,
                CreateStage {
                    stage_name: "a/b".into(),
                    ..Default::default()
                }
            )
            .await
            .unwrap_err()
        ),
        "stageName"
    );

    svc.create_route(&support::admin(), &a, route_input("GET /pets/{id}", &ia))
        .await
        .unwrap();
    for dup in ["GET /pets/{id}", "GET /pets/{petId}"] {
        assert!(matches!(
            svc.create_route(&support::admin(), &a, route_input(dup, &ia))
                .await
                .unwrap_err(),
            ServiceError::Conflict(_)
        ));
    }
    // Another method on the same path is a different route.
    svc.create_route(
        &support::admin(),
        &a,
        route_input("DELETE /pets/{petId}", &ia),
    )
    .await
    .unwrap();
    // Targets must name an integration of the same API.
    assert!(matches!(
        svc.create_route(&support::admin(), &a, route_input("GET /x", &ib))
            .await
            .unwrap_err(),
        ServiceError::BadRequest(_)
    ));
    assert!(matches!(
        svc.create_route(&support::admin(), &a, route_input("GET /y", "nope"))
            .await
            .unwrap_err(),
        ServiceError::BadRequest(_)
    ));
    assert!(matches!(
        svc.get_api(&support::admin(), "missing").await.unwrap_err(),
        ServiceError::NotFound(_)
    ));
    assert!(matches!(
        svc.get_route(&support::admin(), &a, "missing")
            .await
            .unwrap_err(),
        ServiceError::NotFound(_)
    ));
    assert!(matches!(
        svc.create_route(&support::admin(), "missing", route_input("GET /z", &ia))
            .await
            .unwrap_err(),
        ServiceError::NotFound(_)
    ));
    // An integration in use cannot go.
    assert!(matches!(
        svc.delete_integration(&support::admin(), &a, &ia)
            .await
            .unwrap_err(),
        ServiceError::Conflict(_)
    ));

    svc.create_stage(
        &support::admin(),
        &a,
        CreateStage {
            stage_name: "auto".into(),
            auto_deploy: Some(true),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert!(matches!(
        svc.create_deployment(
            &support::admin(),
            &a,
            CreateDeployment {
                stage_name: Some("auto".into()),
                description: None
            }
        )
        .await
        .unwrap_err(),
        ServiceError::BadRequest(_)
    ));
    assert!(matches!(
        svc.create_stage(
            &support::admin(),
            &a,
            CreateStage {
                stage_name: "auto".into(),
                ..Default::default()
            }
        )
        .await
        .unwrap_err(),
        ServiceError::Conflict(_)
    ));
    let used = svc
        .get_stage(&support::admin(), &a, "auto")
        .await
        .unwrap()
        .deployment_id
        .unwrap();
    assert!(matches!(
        svc.delete_deployment(&support::admin(), &a, &used)
            .await
            .unwrap_err(),
        ServiceError::BadRequest(_)
    ));
    assert!(matches!(
        svc.update_stage(
            &support::admin(),
            &a,
            "auto",
            UpdateStage {
                deployment_id: Some("nope".into()),
                ..Default::default()
            }
        )
        .await
        .unwrap_err(),
        ServiceError::BadRequest(_)
    ));
}

async fn lists_page_with_tokens(store: Store) {
    let svc = support::service(store);
    let a = svc
        .create_api(&support::admin(), api_input("a"))
        .await
        .unwrap()
        .api_id;
    let i = svc
        .create_integration(&support::admin(), &a, integration_input("http://h/"))
        .await
        .unwrap()
        .integration_id;
    for n in 0..5 {
        svc.create_route(
            &support::admin(),
            &a,
            route_input(&format!("GET /r{n}"), &i),
        )
        .await
        .unwrap();
    }
    let mut seen = Vec::new();
    let mut token = None;
    loop {
        let page = svc
            .list_routes(
                &support::admin(),
                &a,
                ListParams {
                    max_results: Some(2),
                    next_token: token,
                },
            )
            .await
            .unwrap();
        assert!(page.items.len() <= 2);
        seen.extend(page.items.into_iter().map(|r| r.route_key));
        token = page.next_token;
        if token.is_none() {
            break;
        }
    }
    seen.sort();
    assert_eq!(
        seen,
        ["GET /r0", "GET /r1", "GET /r2", "GET /r3", "GET /r4"]
    );
    assert!(
        svc.list_routes(
            &support::admin(),
            &a,
            ListParams {
                max_results: Some(0),
                next_token: None
            }
        )
        .await
        .is_err()
    );
}

async fn quick_create_makes_a_default_stage(store: Store) {
    let svc = support::service(store);
    let api = svc
        .create_api(
            &support::admin(),
            CreateApi {
                target: Some("http://127.0.0.1:8080".into()),
                ..api_input("quick")
            },
        )
        .await
        .unwrap();
    let routes = svc
        .list_routes(&support::admin(), &api.api_id, ListParams::default())
        .await
        .unwrap();
    assert_eq!(routes.items.len(), 1);
    assert_eq!(routes.items[0].route_key, "$default");
    let stage = svc
        .get_stage(&support::admin(), &api.api_id, "$default")
        .await
        .unwrap();
    assert!(stage.auto_deploy && stage.deployment_id.is_some());
}

async fn identity_rules_hold(store: Store) {
    use portico_control_plane::identity::{AuthMethod, Caller, Role};
    let svc = support::service(store.clone());
    let token = support::admin_token(&svc).await;
    assert!(!token.is_empty());
    let admin = support::admin();

    svc.create_user(
        &admin,
        CreateUser {
            user_name: "vera".into(),
            role: "viewer".into(),
            password: Some("vera's long password".into()),
        },
    )
    .await
    .unwrap();
    let editor = svc
        .create_user(
            &admin,
            CreateUser {
                user_name: "eddie".into(),
                role: "editor".into(),
                password: None,
            },
        )
        .await
        .unwrap();
    assert!(!editor.has_password);
    assert!(matches!(
        svc.create_user(
            &admin,
            CreateUser {
                user_name: "vera".into(),
                role: "viewer".into(),
                password: None
            }
        )
        .await
        .unwrap_err(),
        ServiceError::Conflict(_)
    ));
    let invalid = svc
        .create_user(
            &admin,
            CreateUser {
                user_name: "x".into(),
                role: "root".into(),
                password: None,
            },
        )
        .await
        .unwrap_err();
    assert!(
        matches!(invalid, ServiceError::Invalid(ref v) if v.field == "role"),
        "{invalid:?}"
    );

    // Keys: the secret is shown once and stored sealed.
    let key = svc.create_access_key(&admin, "eddie").await.unwrap();
    let secret = key.secret_access_key.clone().unwrap();
    let listed = svc.list_access_keys(&admin, "eddie").await.unwrap();
    assert_eq!(listed.items.len(), 1);
    assert!(listed.items[0].secret_access_key.is_none());
    let stored = store
        .key_for_auth(&key.access_key_id)
        .await
        .unwrap()
        .unwrap();
    assert!(!stored.sealed_secret.contains(&secret));
    assert_eq!(
        svc.identity()
            .master_key
            .open(&key.access_key_id, &stored.sealed_secret)
            .unwrap(),
        secret
    );

    // Roles: a viewer reads, an editor edits APIs but not users.
    let as_user = |name: &str, role| Caller {
        user_name: name.into(),
        role,
        source: "test".into(),
        via: AuthMethod::Bootstrap,
    };
    let viewer = as_user("vera", Role::Viewer);
    let editor = as_user("eddie", Role::Editor);
    svc.list_apis(&viewer, ListParams::default()).await.unwrap();
    assert!(matches!(
        svc.create_api(&viewer, api_input("v")).await.unwrap_err(),
        ServiceError::Forbidden(_)
    ));
    svc.create_api(&editor, api_input("e")).await.unwrap();
    assert!(matches!(
        svc.create_access_key(&editor, "eddie").await.unwrap_err(),
        ServiceError::Forbidden(_)
    ));
    assert!(matches!(
        svc.update_user(
            &editor,
            "vera",
            UpdateUser {
                role: Some("admin".into()),
                ..Default::default()
            }
        )
        .await
        .unwrap_err(),
        ServiceError::Forbidden(_)
    ));

    // Logins: the right password opens a session; a wrong one, a disabled user or an
    // unknown one does not.
    let session = svc
        .login("vera", "vera's long password", "10.0.0.1")
        .await
        .unwrap();
    assert_eq!(session.role, "viewer");
    assert!(matches!(
        svc.login("vera", "wrong password!!", "10.0.0.1")
            .await
            .unwrap_err(),
        ServiceError::Unauthorized(_)
    ));
    assert!(matches!(
        svc.login("nobody", "whatever password", "10.0.0.1")
            .await
            .unwrap_err(),
        ServiceError::Unauthorized(_)
    ));
    let claims = svc.identity().sessions.verify(&session.token).unwrap();
    svc.update_user(
        &admin,
        "vera",
        UpdateUser {
            disabled: Some(true),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let revoked = store.session_for_auth(&claims.sid).await.unwrap().unwrap();
    assert!(
        revoked.revoked && revoked.disabled,
        "disabling a user ends their sessions"
    );
    assert!(matches!(
        svc.login("vera", "vera's long password", "10.0.0.1")
            .await
            .unwrap_err(),
        ServiceError::Unauthorized(_)
    ));

    // The last active admin cannot be removed or demoted.
    assert!(matches!(
        svc.delete_user(&admin, "admin").await.unwrap_err(),
        ServiceError::BadRequest(_)
    ));
    assert!(matches!(
        svc.update_user(
            &admin,
            "admin",
            UpdateUser {
                role: Some("viewer".into()),
                ..Default::default()
            }
        )
        .await
        .unwrap_err(),
        ServiceError::BadRequest(_)
    ));

    // Every change is in the audit log, newest first, with who and how.
    let audit = svc
        .list_audit(
            &admin,
            ListParams {
                max_results: Some(3),
                next_token: None,
            },
        )
        .await
        .unwrap();
    assert_eq!(audit.items[0].action, "UpdateUser");
    assert_eq!(audit.items[1].action, "Login");
    assert_eq!(audit.items[1].actor, "vera");
    assert_eq!(
        (
            audit.items[2].action.as_str(),
            audit.items[2].actor.as_str()
        ),
        ("CreateApi", "eddie")
    );
    assert!(audit.items[0].seq > audit.items[2].seq);
    let older = svc
        .list_audit(
            &admin,
            ListParams {
                max_results: Some(100),
                next_token: audit.next_token,
            },
        )
        .await
        .unwrap();
    assert!(
        older
            .items
            .iter()
            .any(|e| e.action == "CreateAccessKey" && e.actor == "portico")
    );
    assert!(older.items.iter().all(|e| e.seq < audit.items[2].seq));
}

/// The Test panel's refusals: bad input names its field, unknown ids are NotFound, and
/// with no proxy node connected there is nothing to send through (503).
async fn test_invoke_refuses_clearly(store: Store) {
    let svc = support::service(store);
    let admin = support::admin();
    let api = svc.create_api(&admin, api_input("t")).await.unwrap().api_id;
    svc.create_stage(
        &admin,
        &api,
        CreateStage {
            stage_name: "dev".into(),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let request = |method: &str, path: &str, stage: &str| TestInvokeRequest {
        stage_name: stage.into(),
        http_method: method.into(),
        path_with_query_string: path.into(),
        ..Default::default()
    };
    let field = |e: ServiceError| match e {
        ServiceError::Invalid(v) => v.field,
        other => panic!("expected a validation error, got {other:?}"),
    };
    assert_eq!(
        field(
            svc.test_invoke(&admin, &api, request("FETCH", "/", "dev"))
                .await
                .unwrap_err()
        ),
        "httpMethod"
    );
    assert_eq!(
        field(
            svc.test_invoke(&admin, &api, request("GET", "notes", "dev"))
                .await
                .unwrap_err()
        ),
        "pathWithQueryString"
    );
    let mut bad_header = request("GET", "/", "dev");
    bad_header.headers.insert("bad header".into(), "x".into());
    assert_eq!(
        field(svc.test_invoke(&admin, &api, bad_header).await.unwrap_err()),
        "headers"
    );
    assert!(matches!(
        svc.test_invoke(&admin, "nope", request("GET", "/", "dev"))
            .await,
        Err(ServiceError::NotFound(_))
    ));
    assert!(matches!(
        svc.test_invoke(&admin, &api, request("GET", "/", "prod"))
            .await,
        Err(ServiceError::NotFound(_))
    ));
    assert!(matches!(
        svc.test_invoke(&admin, &api, request("GET", "/", "dev"))
            .await,
        Err(ServiceError::Unavailable(_))
    ));
    let nodes = svc.list_nodes(&admin, false).await.unwrap();
    assert!(nodes.items.is_empty());
    assert!(
        nodes.current_version > 0,
        "creating the API and stage bumped the version"
    );
}

/// Deployments freeze every integration, targeted or not, so deleting one redeploys the
/// auto-deploy stages: afterwards no stage carries it
/// (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-stages.html).
async fn deleting_an_integration_redeploys_auto_deploy_stages(store: Store) {
    let svc = support::service(store.clone());
    let admin = support::admin();
    let api = svc.create_api(&admin, api_input("a")).await.unwrap();
    let id = api.api_id.as_str();
    let broken = svc
        .create_integration(
            &admin,
            id,
            integration_input("http://${stageVariables.x}/y"),
        )
        .await
        .unwrap();
    let auto = |name: &str| CreateStage {
        stage_name: name.into(),
        auto_deploy: Some(true),
        ..Default::default()
    };
    let dev = svc.create_stage(&admin, id, auto("dev")).await.unwrap();
    svc.delete_integration(&admin, id, &broken.integration_id)
        .await
        .unwrap();
    let after = svc.get_stage(&admin, id, "dev").await.unwrap();
    assert_ne!(after.deployment_id, dev.deployment_id, "redeployed");
    let mut tx = store.read().await.unwrap();
    let source = tx.snapshot_source().await.unwrap();
    let (_, _, frozen) = source
        .deployments
        .iter()
        .find(|(_, d, _)| Some(d) == after.deployment_id.as_ref())
        .expect("the stage's deployment");
    assert!(frozen.integrations.is_empty(), "{frozen:?}");
}

/// ImportApi of a 1,000-path document is one transaction; export → reimport onto itself
/// changes nothing; an import that fails (an upstream the SSRF rule forbids, warnings
/// with failOnWarnings) leaves no API behind; the diff names what a change did.
/// "Working with OpenAPI definitions for HTTP APIs":
/// https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-open-api.html
async fn openapi_import_export_and_diff(store: Store) {
    use portico_control_plane::service::{ExportRequest, ImportOptions, OutputType};
    let svc = support::service(store.clone());
    let admin = support::admin();
    let mut paths = serde_json::Map::new();
    for n in 0..1000 {
        paths.insert(
            format!("/items{n}/{{id}}"),
            serde_json::json!({ "get": { "x-amazon-apigateway-integration": {
                "$ref": "#/components/x-amazon-apigateway-integrations/backend" } },
              "post": { "x-amazon-apigateway-integration": {
                "type": "http_proxy", "httpMethod": "POST",
                "uri": format!("https://items.example.com/{n}"), "payloadFormatVersion": "1.0" } } }),
        );
    }
    let doc = serde_json::json!({
        "openapi": "3.0.1",
        "info": { "title": "big", "version": "1" },
        "paths": paths,
        "components": { "x-amazon-apigateway-integrations": { "backend": {
            "type": "http_proxy", "httpMethod": "GET", "uri": "https://items.example.com/",
            "payloadFormatVersion": "1.0" } } }
    })
    .to_string();
    let started = std::time::Instant::now();
    let imported = svc
        .import_api(&admin, &doc, ImportOptions::default())
        .await
        .unwrap();
    println!(
        "imported 1,000 paths (2,000 routes, 1,001 integrations) in {:?} on {:?}",
        started.elapsed(),
        store.backend()
    );
    assert!(imported.warnings.is_empty(), "{:?}", imported.warnings);
    let id = imported.api.api_id.clone();
    let mut tx = store.read().await.unwrap();
    let routes: Vec<Route> = tx
        .all(portico_control_plane::store::ResourceKind::Route, &id)
        .await
        .unwrap();
    let integrations: Vec<Integration> = tx
        .all(portico_control_plane::store::ResourceKind::Integration, &id)
        .await
        .unwrap();
    drop(tx);
    assert_eq!(routes.len(), 2000);
    assert_eq!(integrations.len(), 1001);

    let export = |svc: portico_control_plane::service::AdminService, id: String| async move {
        let request = ExportRequest {
            output_type: OutputType::Json,
            stage_name: None,
            include_extensions: true,
        };
        svc.export_api(&support::admin(), &id, "OAS30", request)
            .await
            .unwrap()
    };
    let first = export(svc.clone(), id.clone()).await;
    svc.create_stage(
        &admin,
        &id,
        CreateStage {
            stage_name: "dev".into(),
            auto_deploy: Some(true),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let before = svc.get_stage(&admin, &id, "dev").await.unwrap();
    svc.reimport_api(&admin, &id, &first, ImportOptions::default())
        .await
        .unwrap();
    assert_eq!(
        export(svc.clone(), id.clone()).await,
        first,
        "reimport changed nothing"
    );
    let after = svc.get_stage(&admin, &id, "dev").await.unwrap();
    assert_ne!(
        before.deployment_id, after.deployment_id,
        "auto-deploy redeployed"
    );
    let from = before.deployment_id.unwrap();
    let diff = svc
        .diff_deployments(&admin, &id, &from, &after.deployment_id.unwrap())
        .await
        .unwrap();
    // Same routes by key, new integration ids: every route's target changed.
    assert!(diff.routes.iter().all(|c| c.change == ChangeKind::Changed));
    let route = svc
        .list_routes(&admin, &id, ListParams::default())
        .await
        .unwrap()
        .items
        .remove(0);
    svc.delete_route(&admin, &id, &route.route_id)
        .await
        .unwrap();
    let diff = svc
        .diff_deployments(&admin, &id, &from, "current")
        .await
        .unwrap();
    assert!(
        diff.routes
            .iter()
            .any(|c| c.change == ChangeKind::Removed && c.key == route.route_key),
        "{diff:?}"
    );
    assert!(matches!(
        svc.diff_deployments(&admin, &id, "nope", "current").await,
        Err(ServiceError::NotFound(_))
    ));

    let count = |store: Store| async move {
        let mut tx = store.read().await.unwrap();
        tx.list_apis(None, 1000).await.unwrap().len()
    };
    let apis = count(store.clone()).await;
    let forbidden = doc.replace("https://items.example.com/", "http://169.254.169.254/");
    assert!(
        svc.import_api(&admin, &forbidden, ImportOptions::default())
            .await
            .is_err()
    );
    let warned =
        r#"{"openapi":"3.0.1","info":{"title":"w"},"paths":{},"x-amazon-apigateway-policy":{}}"#;
    let strict = ImportOptions {
        fail_on_warnings: true,
        ..Default::default()
    };
    match svc.import_api(&admin, warned, strict).await {
        Err(ServiceError::BadRequest(m)) => {
            assert!(m.contains("x-amazon-apigateway-policy"), "{m}")
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        count(store.clone()).await,
        apis,
        "failed imports leave nothing"
    );

    let arn = format!("arn:aws:apigateway:us-east-1::/apis/{id}");
    svc.tag_resource(&admin, &arn, BTreeMap::from([("team".into(), "a".into())]))
        .await
        .unwrap();
    assert_eq!(svc.get_tags(&admin, &arn).await.unwrap()["team"], "a");
    svc.untag_resource(&admin, &arn, &["team".to_string()])
        .await
        .unwrap();
    assert!(svc.get_tags(&admin, &arn).await.unwrap().is_empty());
    assert!(matches!(
        svc.get_tags(&admin, "arn:aws:apigateway:us-east-1::/apis/missing")
            .await,
        Err(ServiceError::NotFound(_))
    ));
}

store_cases!(
    openapi_import_export_and_diff,
    deleting_an_integration_redeploys_auto_deploy_stages,
    test_invoke_refuses_clearly,
    identity_rules_hold,
    notes_api_deploys_like_aws,
    bad_input_gets_clear_errors,
    lists_page_with_tokens,
    quick_create_makes_a_default_stage,
);
