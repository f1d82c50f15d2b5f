//! What every control-plane replica agrees on, whichever one serves a node or a client:
//! the execute-api endpoint lives in the store (two replicas can never publish different
//! domains under one version), and the Nodes list is the fleet seen recently, with nodes
//! gone for a while kept in its history.
mod support;

use std::time::{Duration, Instant};

use axum::http::StatusCode;
use portico_control_plane::admin::{AdminState, app};
use portico_control_plane::identity::{AuthMethod, Caller, MasterKey, Role};
use portico_control_plane::server::{BoundAddrs, ControlPlaneConfig, run_control_plane};
use portico_control_plane::service::{
    EndpointAtStart, ExecuteApiEndpoint, ServiceError, settle_execute_api_endpoint,
};
use portico_control_plane::snapshot::SnapshotPublisher;
use portico_control_plane::store::{Backend, Store};
use portico_model::{Node, NodeState, UpdateClusterSettings};
use portico_tests::{admin_token, credentials, http_client, wait_for};
use serde_json::{Value, json};
use support::Reply;
use tokio::sync::oneshot;

const FIRST: &str = "http://execute-api.first.example:8000";
const SECOND: &str = "https://execute-api.second.example";

fn endpoint(url: &str) -> ExecuteApiEndpoint {
    ExecuteApiEndpoint::parse(url).expect("endpoint")
}

struct Replica {
    addrs: BoundAddrs,
    stop: oneshot::Sender<()>,
    task: tokio::task::JoinHandle<anyhow::Result<()>>,
}

impl Replica {
    async fn stop(self) {
        let _ = self.stop.send(());
        let ended = tokio::time::timeout(Duration::from_secs(10), self.task).await;
        ended
            .expect("the replica stops")
            .expect("join")
            .expect("ran");
    }
}

/// Starts a replica on `store`'s database; `Err` is the start's own error.
async fn start(
    store: &Store,
    key: &MasterKey,
    name: &str,
    flag: EndpointAtStart,
) -> anyhow::Result<Replica> {
    let config = ControlPlaneConfig {
        database_url: store.url().to_string(),
        cluster_token: "a-cluster-token-for-tests".into(),
        admin_addr: "127.0.0.1:0".parse().unwrap(),
        grpc_addr: "127.0.0.1:0".parse().unwrap(),
        execute_api_endpoint: flag,
        node_history_after: Duration::from_secs(600),
        replica_id: name.into(),
        grpc_tls: None,
        master_key: key.clone(),
        allow_upstream: vec![],
        console_dir: None,
        bootstrap_password: Some(credentials::ADMIN_PASSWORD.into()),
        bootstrap_access_key: None,
        drain: std::time::Duration::ZERO,
        keep_deployments: 100,
    };
    let (stop, stopped) = oneshot::channel::<()>();
    let (bound_tx, bound_rx) = oneshot::channel();
    let task = tokio::spawn(run_control_plane(
        config,
        async move {
            let _ = stopped.await;
        },
        Some(bound_tx),
    ));
    match bound_rx.await {
        Ok(addrs) => Ok(Replica { addrs, stop, task }),
        Err(_) => Err(task.await.expect("join").expect_err("ended before binding")),
    }
}

async fn admin_get(replica: &Replica, token: &str, path: &str) -> Value {
    let res = http_client()
        .get(format!("http://{}{path}", replica.addrs.admin))
        .bearer_auth(token)
        .send()
        .await
        .expect("GET");
    assert_eq!(res.status(), 200, "GET {path}");
    res.json().await.expect("JSON")
}

/// `serve --execute-api-endpoint X` on a store holding Y refuses to start and names both;
/// without the flag it serves what is stored; `up` (which owns its store) writes its own.
async fn replicas_never_serve_two_endpoints(store: Store) {
    let key = MasterKey::generate();
    let first = start(
        &store,
        &key,
        "a",
        EndpointAtStart::Seed(Some(endpoint(FIRST))),
    )
    .await
    .expect("the first replica seeds the store");
    let refused = start(
        &store,
        &key,
        "b",
        EndpointAtStart::Seed(Some(endpoint(SECOND))),
    )
    .await
    .err()
    .expect("a replica with another endpoint does not start");
    let message = format!("{refused:#}");
    assert!(
        message.contains(FIRST) && message.contains(SECOND),
        "{message}"
    );
    assert!(message.contains("PATCH /portico/settings"), "{message}");

    let same = start(
        &store,
        &key,
        "c",
        EndpointAtStart::Seed(Some(endpoint(FIRST))),
    )
    .await
    .expect("the same value starts");
    let unflagged = start(&store, &key, "d", EndpointAtStart::Seed(None))
        .await
        .expect("no flag starts");
    let token = admin_token(unflagged.addrs.admin.port()).await;
    let settings = admin_get(&unflagged, &token, "/portico/settings").await;
    assert_eq!(settings, json!({ "executeApiEndpoint": FIRST }));
    for r in [first, same, unflagged] {
        r.stop().await;
    }

    // `portico up` owns its store: its value replaces the stored one.
    let owned = settle_execute_api_endpoint(&store, EndpointAtStart::Own(endpoint(SECOND)))
        .await
        .expect("up writes its endpoint");
    assert_eq!(owned.url(), SECOND);
    let seeded = settle_execute_api_endpoint(&store, EndpointAtStart::Seed(None))
        .await
        .expect("serve without the flag");
    assert_eq!(seeded.url(), SECOND);
}

/// A store nothing seeded serves the documented default.
async fn an_empty_store_is_seeded_with_the_default(store: Store) {
    let seeded = settle_execute_api_endpoint(&store, EndpointAtStart::Seed(None))
        .await
        .expect("seed");
    assert_eq!(seeded.url(), ExecuteApiEndpoint::DEFAULT);
    let mut tx = store.read().await.unwrap();
    let source = tx.snapshot_source().await.unwrap();
    assert_eq!(
        source.execute_api_endpoint.as_deref(),
        Some(ExecuteApiEndpoint::DEFAULT)
    );
}

/// A PATCH through one replica bumps the version, the snapshot carries the new domain
/// from that version on, and the other replica's `apiEndpoint` shows it (Postgres
/// notifies at once; SQLite, one replica's store, is polled every 5 s).
async fn a_settings_change_reaches_every_replica(store: Store) {
    let key = MasterKey::generate();
    let a = start(
        &store,
        &key,
        "a",
        EndpointAtStart::Seed(Some(endpoint(FIRST))),
    )
    .await
    .expect("a");
    let b = start(&store, &key, "b", EndpointAtStart::Seed(None))
        .await
        .expect("b");
    let token_a = admin_token(a.addrs.admin.port()).await;
    let token_b = admin_token(b.addrs.admin.port()).await;
    let client = http_client();
    let created: Value = client
        .post(format!("http://{}/v2/apis", a.addrs.admin))
        .bearer_auth(&token_a)
        .json(&json!({ "name": "notes", "protocolType": "HTTP" }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let api_id = created["apiId"].as_str().expect("apiId").to_string();
    assert_eq!(
        created["apiEndpoint"],
        json!(format!("http://{api_id}.execute-api.first.example:8000"))
    );
    let before = store.snapshot_version().await.unwrap();

    let patched = client
        .patch(format!("http://{}/portico/settings", a.addrs.admin))
        .bearer_auth(&token_a)
        .json(&json!({ "executeApiEndpoint": "HTTPS://Execute-API.Second.Example/" }))
        .send()
        .await
        .unwrap();
    assert_eq!(patched.status(), 200);
    let patched: Value = patched.json().await.unwrap();
    assert_eq!(
        patched,
        json!({ "executeApiEndpoint": SECOND }),
        "stored normalised"
    );
    let after = store.snapshot_version().await.unwrap();
    assert!(
        after > before,
        "the change is a new version ({before} → {after})"
    );

    // The replica that made the change answers with it at once.
    let wanted = json!(format!("https://{api_id}.execute-api.second.example"));
    let own = admin_get(&a, &token_a, &format!("/v2/apis/{api_id}")).await;
    assert_eq!(own["apiEndpoint"], wanted);

    let changed = Instant::now();
    let limit = match store.backend() {
        Backend::Postgres => Duration::from_secs(2),
        Backend::Sqlite => Duration::from_secs(7),
    };
    wait_for("the other replica's apiEndpoint", limit, || async {
        let api = admin_get(&b, &token_b, &format!("/v2/apis/{api_id}")).await;
        (api["apiEndpoint"] == wanted).then_some(())
    })
    .await;
    println!(
        "{:?}: replica b showed the new apiEndpoint {} ms after the PATCH",
        store.backend(),
        changed.elapsed().as_millis()
    );
    let listed = admin_get(&b, &token_b, "/v2/apis").await;
    assert_eq!(listed["items"][0]["apiEndpoint"], wanted);
    a.stop().await;
    b.stop().await;

    // What nodes receive from that version on: the new domain, read in the same
    // transaction as the rest of the snapshot.
    let publisher = SnapshotPublisher::new(store.clone(), endpoint(FIRST), Duration::from_secs(60));
    publisher.refresh(&mut None).await.expect("publish");
    let published = publisher.handle().current().expect("published");
    assert!(published.version >= after);
    assert_eq!(
        published.snapshot.execute_api_domain,
        "execute-api.second.example"
    );
    assert_eq!(publisher.handle().execute_api_endpoint().url(), SECOND);
}

async fn call(router: &axum::Router, token: &str, method: &str, path: &str, body: &str) -> Reply {
    support::call(router, token, method, path, Some(body)).await
}

/// A bad endpoint is refused in AWS's error shape naming the field, nothing changes, and
/// only admins may change it.
async fn bad_settings_are_refused(store: Store) {
    let service = support::service(store.clone());
    let token = support::admin_token(&service).await;
    let router = app(AdminState::new(service.clone()));
    let version = store.snapshot_version().await.unwrap();
    for bad in [
        "execute-api.example.com",
        "ftp://x.example",
        "http://x.example/path",
        "http://:80",
    ] {
        let r = call(
            &router,
            &token,
            "PATCH",
            "/portico/settings",
            &json!({ "executeApiEndpoint": bad }).to_string(),
        )
        .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{bad}: {:?}", r.body);
        assert_eq!(
            r.error_type.as_deref(),
            Some("BadRequestException"),
            "{bad}"
        );
        let message = r.body["message"].as_str().unwrap_or_default();
        assert!(message.contains("executeApiEndpoint"), "{bad}: {message}");
        assert_eq!(r.body["field"], json!("executeApiEndpoint"), "{bad}");
    }
    let r = call(
        &router,
        &token,
        "PATCH",
        "/portico/settings",
        r#"{"domain":"x"}"#,
    )
    .await;
    assert_eq!(r.error_type.as_deref(), Some("BadRequestException"));
    assert_eq!(
        store.snapshot_version().await.unwrap(),
        version,
        "nothing was written"
    );
    let r = call(&router, &token, "GET", "/portico/settings", "").await;
    assert_eq!(
        r.body,
        json!({ "executeApiEndpoint": ExecuteApiEndpoint::DEFAULT })
    );

    let editor = Caller {
        user_name: "ed".into(),
        role: Role::Editor,
        source: "-".into(),
        via: AuthMethod::Bootstrap,
    };
    let change = UpdateClusterSettings {
        execute_api_endpoint: Some(SECOND.into()),
    };
    assert!(matches!(
        service.update_settings(&editor, change).await,
        Err(ServiceError::Forbidden(_))
    ));
    assert!(
        service.get_settings(&editor).await.is_ok(),
        "anyone may read it"
    );
}

fn node(id: &str, connected: bool, seen_ago: Duration) -> Node {
    let seen = chrono::Utc::now() - chrono::TimeDelta::from_std(seen_ago).unwrap();
    Node {
        node_id: id.into(),
        address: "127.0.0.1:8000".into(),
        applied_version: 0,
        last_status: Some("ACK".into()),
        last_error: None,
        rejected_version: None,
        connected,
        control_plane: "cp".into(),
        last_seen: seen.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
    }
}

/// The Nodes list shows nodes seen within the window (10 minutes here); `?history=true`
/// every node ever seen. A row that says connected but was not refreshed for three
/// heartbeats (its replica died) is LOST, and no fleet count includes it.
async fn stale_nodes_leave_the_list(store: Store) {
    let service = support::service(store.clone());
    let token = support::admin_token(&service).await;
    let router = app(AdminState::new(service.clone()));
    let minute = Duration::from_secs(60);
    for n in [
        node("fresh", true, Duration::from_secs(3)),
        node("lost", true, 2 * minute),
        node("closed", false, 2 * minute),
        node("gone", true, 20 * minute),
    ] {
        store.record_node(&n).await.unwrap();
    }
    let state_of = |body: &Value| -> Vec<(String, String)> {
        body["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| {
                (
                    n["nodeId"].as_str().unwrap().to_string(),
                    n["state"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    };
    let r = call(&router, &token, "GET", "/portico/nodes", "").await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(
        state_of(&r.body),
        [
            ("closed", "DISCONNECTED"),
            ("fresh", "CONNECTED"),
            ("lost", "LOST")
        ]
        .map(|(a, b)| (a.to_string(), b.to_string()))
    );
    let lost = &r.body["items"][2];
    assert_eq!(
        lost["connected"],
        json!(false),
        "a lost node is not connected"
    );
    assert!(lost["secondsSinceSeen"].as_i64().unwrap() >= 119);

    let r = call(&router, &token, "GET", "/portico/nodes?history=true", "").await;
    let all = state_of(&r.body);
    assert_eq!(all.len(), 4);
    assert_eq!(all[2], ("gone".to_string(), "LOST".to_string()));
    let r = call(&router, &token, "GET", "/portico/nodes?history=maybe", "").await;
    assert_eq!(r.error_type.as_deref(), Some("BadRequestException"));

    // The fleet a deployment's status counts: the fresh node alone.
    let admin = support::admin();
    let api = service
        .create_api(
            &admin,
            serde_json::from_value(json!({ "name": "a", "protocolType": "HTTP" })).unwrap(),
        )
        .await
        .unwrap();
    service
        .create_stage(
            &admin,
            &api.api_id,
            serde_json::from_value(json!({ "stageName": "prod" })).unwrap(),
        )
        .await
        .unwrap();
    let serving = service.api_serving(&admin, &api.api_id).await.unwrap();
    assert_eq!(serving.stages[0].nodes, 1);

    // A shorter window moves the disconnected ones to history too.
    let short = service.with_node_history_after(Duration::from_secs(30));
    let listed = short.list_nodes(&admin, false).await.unwrap();
    let ids: Vec<_> = listed
        .items
        .iter()
        .map(|n| n.node.node_id.as_str())
        .collect();
    assert_eq!(ids, ["fresh"]);
    assert_eq!(listed.items[0].state, NodeState::Connected);
}

store_cases!(
    replicas_never_serve_two_endpoints,
    an_empty_store_is_seeded_with_the_default,
    a_settings_change_reaches_every_replica,
    bad_settings_are_refused,
    stale_nodes_leave_the_list,
);
