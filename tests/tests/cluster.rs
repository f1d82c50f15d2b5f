//! The spine end to end: two `portico serve` replicas on one Postgres database, three
//! `portico-proxy` nodes, a real upstream, the notes API built with the real boto3.
use std::path::Path;
use std::time::Duration;

use portico_tests::postgres::TestDatabase;
use portico_tests::process::Proc;
use portico_tests::{
    admin_token, credentials, free_port, http_client, upstream, wait_for, wait_for_admin,
};
use serde_json::Value;

const TOKEN: &str = "e2e-cluster-token-0123456789abcdef";
const LIMIT: Duration = Duration::from_secs(30);

struct Replica {
    proc: Proc,
    admin: u16,
    grpc: u16,
    /// A session of the bootstrap admin, for `/portico/…` reads.
    token: String,
}

fn start_replica(name: &str, database_url: &str) -> Replica {
    let (admin, grpc) = (free_port(), free_port());
    let proc = Proc::spawn(
        name,
        "portico",
        &[
            "serve".into(),
            "--admin-addr".into(),
            format!("127.0.0.1:{admin}"),
            "--grpc-addr".into(),
            format!("127.0.0.1:{grpc}"),
            "--replica-id".into(),
            name.into(),
        ],
        &[
            credentials::control_plane_env(),
            vec![
                ("PORTICO_DATABASE_URL", database_url.to_string()),
                ("PORTICO_CLUSTER_TOKEN", TOKEN.to_string()),
                (
                    "PORTICO_EXECUTE_API_ENDPOINT",
                    "http://execute-api.localhost:8000".to_string(),
                ),
            ],
        ]
        .concat(),
    );
    Replica {
        proc,
        admin,
        grpc,
        token: String::new(),
    }
}

struct Node {
    proc: Proc,
    name: String,
    proxy: u16,
    metrics: u16,
}

fn start_node(name: &str, grpc_ports: &[u16], cache: &Path, proxy: u16, metrics: u16) -> Node {
    let control_planes: Vec<String> = grpc_ports
        .iter()
        .map(|p| format!("http://127.0.0.1:{p}"))
        .collect();
    let proc = Proc::spawn(
        name,
        "portico-proxy",
        &[
            "--control-plane".into(),
            control_planes.join(","),
            "--node-id".into(),
            name.into(),
            "--cache-dir".into(),
            cache.display().to_string(),
            "--proxy-addr".into(),
            format!("127.0.0.1:{proxy}"),
            "--proxy-tls-addr".into(),
            "127.0.0.1:0".into(),
            "--metrics-addr".into(),
            format!("127.0.0.1:{metrics}"),
        ],
        &[("PORTICO_CLUSTER_TOKEN", TOKEN.to_string())],
    );
    Node {
        proc,
        name: name.to_string(),
        proxy,
        metrics,
    }
}

/// haproxy from Debian's package, round-robin over the nodes, per request.
fn round_robin(nodes: &[Node], dir: &Path) -> (Proc, u16) {
    let port = free_port();
    let servers: String = nodes
        .iter()
        .map(|n| format!("  server {} 127.0.0.1:{}\n", n.name, n.proxy))
        .collect();
    let config = format!(
        "global\n  maxconn 2048\ndefaults\n  mode http\n  timeout connect 2s\n  \
         timeout client 30s\n  timeout server 30s\nfrontend gateway\n  \
         bind 127.0.0.1:{port}\n  default_backend nodes\nbackend nodes\n  balance roundrobin\n{servers}"
    );
    let path = dir.join("haproxy.cfg");
    std::fs::write(&path, config).expect("write haproxy.cfg");
    let child = std::process::Command::new("haproxy")
        .args(["-db", "-f"])
        .arg(&path)
        .stdin(std::process::Stdio::null())
        .spawn()
        .expect("start haproxy (apt-get install haproxy)");
    (Proc::adopt("haproxy", child), port)
}

/// Sends requests from `workers` loops for `run`, each to `port` with `host`; counts
/// the 200s and 429s (anything else fails the test). Bounded by `run` and by the count.
async fn hammer(port: u16, host: &str, path: &str, workers: usize, run: Duration) -> (u64, u64) {
    let until = tokio::time::Instant::now() + run;
    let tasks: Vec<_> = (0..workers)
        .map(|_| {
            let (client, host, url) = (
                http_client(),
                host.to_string(),
                format!("http://127.0.0.1:{port}{path}"),
            );
            tokio::spawn(async move {
                let (mut ok, mut throttled) = (0u64, 0u64);
                for _ in 0..100_000 {
                    if tokio::time::Instant::now() >= until {
                        break;
                    }
                    let res = client.get(&url).header("host", &host).send().await;
                    match res.map(|r| r.status().as_u16()) {
                        Ok(200) => ok += 1,
                        Ok(429) => throttled += 1,
                        other => panic!("unexpected answer {other:?}"),
                    }
                }
                (ok, throttled)
            })
        })
        .collect();
    let mut total = (0, 0);
    for t in tasks {
        let (ok, throttled) = t.await.expect("load worker");
        total = (total.0 + ok, total.1 + throttled);
    }
    total
}

/// "Throttle requests to your HTTP APIs": a route's rate and burst are the totals of the
/// whole fleet. Through a round-robin balancer the three nodes together admit
/// `burst + rate × seconds`; when all traffic moves to one node, that node gets
/// (nearly) the whole limit within a second or two, as the control planes re-divide it.
async fn cluster_wide_throttle(replica: &Replica, api_id: &str, host: &str, fleet: &[Node]) {
    const RATE: f64 = 50.0;
    const BURST: u64 = 20;
    let route = "ANY /items/{proxy+}";
    let updated = portico_tests::e2e_script(
        "policies.py",
        &[
            "throttle",
            "--endpoint",
            &format!("http://127.0.0.1:{}", replica.admin),
            "--api-id",
            api_id,
            "--stage",
            "dev",
            "--route-key",
            route,
            "--rate",
            &RATE.to_string(),
            "--burst",
            &BURST.to_string(),
        ],
        &[],
    );
    assert_eq!(
        updated["routeSettings"][route]["ThrottlingBurstLimit"],
        BURST
    );
    // Every node serves the new limit (the version moved on) before the clock starts.
    let version = stored_version_via(replica).await;
    wait_for("every node to apply the throttle", LIMIT, || async {
        let list = nodes(replica).await;
        list.iter()
            .all(|n| n["appliedVersion"].as_u64() >= Some(version))
            .then_some(())
    })
    .await;
    // Load reports come twice a second: give the control planes one to see all nodes.
    tokio::time::sleep(Duration::from_millis(1500)).await;

    let dir = tempfile::tempdir().expect("haproxy dir");
    let (_haproxy, port) = round_robin(fleet, dir.path());
    wait_for("haproxy to answer", LIMIT, || async {
        let res = http_client()
            .get(format!("http://127.0.0.1:{port}/dev/notes"))
            .header("host", host)
            .send()
            .await
            .ok()?;
        (res.status() != 503).then_some(())
    })
    .await;

    let run = Duration::from_secs(4);
    let started = std::time::Instant::now();
    let (admitted, throttled) = hammer(port, host, "/dev/items/x", 8, run).await;
    let seconds = started.elapsed().as_secs_f64();
    let expected = BURST as f64 + RATE * seconds;
    println!(
        "cluster-wide throttle, 3 nodes behind haproxy round-robin: admitted {admitted} \
         (throttled {throttled}) in {seconds:.2} s; expected burst + rate × seconds = \
         {expected:.0} ± 5%"
    );
    assert!(
        (admitted as f64 - expected).abs() <= expected * 0.05,
        "admitted {admitted}, expected {expected:.0} ± 5%"
    );

    // All traffic to node 1: within 2 s it holds (nearly) the whole rate.
    let first = &fleet[0];
    hammer(first.proxy, host, "/dev/items/x", 8, Duration::from_secs(2)).await;
    let started = std::time::Instant::now();
    let (admitted, throttled) =
        hammer(first.proxy, host, "/dev/items/x", 8, Duration::from_secs(3)).await;
    let seconds = started.elapsed().as_secs_f64();
    let expected = RATE * seconds;
    println!(
        "cluster-wide throttle, all traffic on {}: admitted {admitted} (throttled \
         {throttled}) in {seconds:.2} s after 2 s; expected rate × seconds = {expected:.0} ± 10%",
        first.name
    );
    assert!(
        (admitted as f64 - expected).abs() <= expected * 0.10,
        "admitted {admitted}, expected {expected:.0} ± 10%"
    );
}

async fn stored_version_via(replica: &Replica) -> u64 {
    admin_get(replica, "/portico/nodes").await["currentVersion"]
        .as_u64()
        .expect("currentVersion")
}

fn python(args: &[&str]) -> Value {
    portico_tests::e2e_script("notes_api.py", args, &[])
}

/// Sends a request through a node; returns the status and the body as JSON (or Null).
async fn call(
    node: &Node,
    method: &str,
    host: &str,
    path: &str,
    body: Option<&str>,
) -> Option<(u16, Value)> {
    let client = http_client();
    let mut req = client
        .request(
            method.parse().ok()?,
            format!("http://127.0.0.1:{}{path}", node.proxy),
        )
        .header("host", host);
    if let Some(b) = body {
        req = req.body(b.to_string());
    }
    let res = req.send().await.ok()?;
    let status = res.status().as_u16();
    let json = res.json::<Value>().await.unwrap_or(Value::Null);
    Some((status, json))
}

/// Waits until the node answers `path` from the upstream at `upstream_path`.
async fn until_served(
    node: &Node,
    method: &str,
    host: &str,
    path: &str,
    upstream_path: &str,
) -> Value {
    wait_for(
        &format!(
            "{} to serve {method} {path} from {upstream_path}",
            node.name
        ),
        LIMIT,
        || async {
            match call(node, method, host, path, None).await {
                Some((200, body)) if body["path"] == upstream_path => Some(body),
                _ => None,
            }
        },
    )
    .await
}

async fn nodes(replica: &Replica) -> Vec<Value> {
    let body: Value = http_client()
        .get(format!("http://127.0.0.1:{}/portico/nodes", replica.admin))
        .bearer_auth(&replica.token)
        .send()
        .await
        .expect("GET /portico/nodes")
        .json()
        .await
        .expect("nodes JSON");
    body["items"].as_array().cloned().unwrap_or_default()
}

async fn admin_get(replica: &Replica, path: &str) -> Value {
    http_client()
        .get(format!("http://127.0.0.1:{}{path}", replica.admin))
        .bearer_auth(&replica.token)
        .send()
        .await
        .expect("admin GET")
        .json()
        .await
        .expect("admin JSON")
}

async fn stored_version(db: &TestDatabase) -> u64 {
    let mut conn = db.connect().await;
    let v: i64 = sqlx::query_scalar("SELECT snapshot_version FROM cluster_state WHERE id = 1")
        .fetch_one(&mut conn)
        .await
        .expect("read version");
    v as u64
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_replicas_three_nodes_serve_the_notes_api() {
    let db = TestDatabase::create("cluster").await;
    let upstream = upstream::start().await;
    let cache = tempfile::tempdir().expect("cache dir");

    let mut a = start_replica("cp-a", &db.url);
    let mut b = start_replica("cp-b", &db.url);
    for r in [&mut a, &mut b] {
        wait_for_admin(r.admin, LIMIT).await;
        r.token = admin_token(r.admin).await;
    }
    // Nodes 1 and 3 prefer replica A, node 2 prefers B: changes made through one replica
    // must reach nodes connected to the other.
    let mut nodes_up: Vec<Node> = (1..=3)
        .map(|i| {
            let order = if i == 2 {
                [b.grpc, a.grpc]
            } else {
                [a.grpc, b.grpc]
            };
            start_node(
                &format!("node-{i}"),
                &order,
                &cache.path().join(format!("n{i}")),
                free_port(),
                free_port(),
            )
        })
        .collect();

    let built = python(&[
        "build",
        "--endpoint",
        &format!("http://127.0.0.1:{}", a.admin),
        "--upstream",
        &upstream.to_string(),
    ]);
    let api_id = built["apiId"].as_str().expect("apiId").to_string();
    assert_eq!(
        built["apiEndpoint"],
        format!("http://{api_id}.execute-api.localhost:8000")
    );
    let host = format!("{api_id}.execute-api.localhost:8000");

    for node in &nodes_up {
        let echo = until_served(node, "GET", &host, "/dev/notes", "/notes").await;
        assert_eq!(echo["headers"]["x-forwarded-for"], "127.0.0.1");
        assert_eq!(echo["headers"]["x-forwarded-proto"], "http");
        assert_eq!(echo["headers"]["x-forwarded-host"], host.as_str());
        until_served(node, "GET", &host, "/prod/notes", "/notes").await;
        // Greedy path parameter through a stage variable, query string kept.
        let (status, echo) = call(node, "GET", &host, "/dev/items/a/b%20c?x=1&y=2", None)
            .await
            .expect("items");
        assert_eq!(status, 200, "{echo}");
        assert_eq!(echo["path"], "/items/a/b%20c");
        assert_eq!(echo["query"], "x=1&y=2");
        // The $default route catches what no other route matches.
        let (status, echo) = call(node, "DELETE", &host, "/dev/anything/else", None)
            .await
            .expect("default");
        assert_eq!((status, echo["path"].as_str()), (200, Some("/fallback")));
        let (status, echo) = call(node, "POST", &host, "/dev/notes", Some("{\"text\":\"hi\"}"))
            .await
            .expect("post");
        assert_eq!(
            (status, echo["body"].as_str()),
            (200, Some("{\"text\":\"hi\"}"))
        );
        // Unknown APIs and stages get AWS's 404.
        let (status, body) = call(
            node,
            "GET",
            "nope.execute-api.localhost",
            "/dev/notes",
            None,
        )
        .await
        .expect("404");
        assert_eq!((status, body["message"].as_str()), (404, Some("Not Found")));
        let (status, _) = call(node, "GET", &host, "/staging/notes", None)
            .await
            .expect("404");
        assert_eq!(status, 404);
    }

    // Every node reports the same version, ACKed, on either replica.
    let version = stored_version(&db).await;
    for r in [&a, &b] {
        wait_for("every node to ACK the current version", LIMIT, || async {
            let list = nodes(r).await;
            let done = list.len() == 3
                && list.iter().all(|n| {
                    n["appliedVersion"] == version
                        && n["lastStatus"] == "ACK"
                        && n["connected"] == true
                });
            done.then_some(())
        })
        .await;
    }

    // A route deleted through replica B stops serving on every node; `prod`, deployed
    // explicitly, keeps its frozen routes until it is deployed again.
    python(&[
        "delete-route",
        "--endpoint",
        &format!("http://127.0.0.1:{}", b.admin),
        "--api-id",
        &api_id,
        "--route-key",
        "GET /notes",
    ]);
    for node in &nodes_up {
        until_served(node, "GET", &host, "/dev/notes", "/fallback").await;
        let (status, echo) = call(node, "GET", &host, "/prod/notes", None)
            .await
            .expect("prod");
        assert_eq!((status, echo["path"].as_str()), (200, Some("/notes")));
    }
    let good_version = stored_version(&db).await;
    for r in [&a, &b] {
        wait_for("every node to ACK the deletion", LIMIT, || async {
            let list = nodes(r).await;
            list.iter()
                .all(|n| n["appliedVersion"] == good_version)
                .then_some(())
        })
        .await;
    }

    cluster_wide_throttle(&a, &api_id, &host, &nodes_up).await;

    // A deployment damaged behind the control plane's back, which nodes could not compile,
    // is held back by the control plane: the stage keeps serving what it served, the
    // reason is on the stage and the deployment, and no node NACKs.
    let dev_deployment: String = {
        let mut conn = db.connect().await;
        let id: String =
            sqlx::query_scalar("SELECT deployment_id FROM stages WHERE stage_name = 'dev'")
                .fetch_one(&mut conn)
                .await
                .expect("dev deployment");
        let damaged = sqlx::query(
            "UPDATE deployments SET frozen = replace(frozen, '/fallback', '/fall back')
             WHERE deployment_id = $1",
        )
        .bind(&id)
        .execute(&mut conn)
        .await
        .expect("damage a deployment");
        assert_eq!(damaged.rows_affected(), 1);
        sqlx::query("UPDATE cluster_state SET snapshot_version = snapshot_version + 1")
            .execute(&mut conn)
            .await
            .expect("bump version");
        sqlx::query("SELECT pg_notify('portico_config', 'test')")
            .execute(&mut conn)
            .await
            .expect("notify");
        id
    };
    let held_version = stored_version(&db).await;
    for r in [&a, &b] {
        let reported = wait_for(
            "every node to ACK the held-back snapshot",
            LIMIT,
            || async {
                let list = nodes(r).await;
                let done = list.len() == 3
                    && list
                        .iter()
                        .all(|n| n["lastStatus"] == "ACK" && n["appliedVersion"] == held_version);
                done.then_some(list)
            },
        )
        .await;
        assert!(reported.iter().all(|n| n["rejectedVersion"].is_null()));
        let stage = admin_get(r, &format!("/v2/apis/{api_id}/stages/dev")).await;
        let message = stage["lastDeploymentStatusMessage"]
            .as_str()
            .unwrap_or_default();
        assert!(
            message.starts_with(&format!("Deployment {dev_deployment} cannot be served:"))
                && message.contains("Invalid integration URI")
                && message.ends_with("as last published."),
            "{stage}"
        );
        let deployment = admin_get(
            r,
            &format!("/v2/apis/{api_id}/deployments/{dev_deployment}"),
        )
        .await;
        assert_eq!(deployment["deploymentStatus"], "FAILED", "{deployment}");
    }
    for node in &nodes_up {
        let (status, echo) = call(node, "GET", &host, "/dev/notes", None)
            .await
            .expect("old config");
        assert_eq!((status, echo["path"].as_str()), (200, Some("/fallback")));
    }

    // With every control plane gone the nodes keep serving, and a node restarted
    // meanwhile serves from its cache.
    a.proc.kill();
    b.proc.kill();
    for node in &nodes_up {
        let (status, _) = call(node, "GET", &host, "/prod/notes", None)
            .await
            .expect("serving without control plane");
        assert_eq!(status, 200);
    }
    let old = nodes_up.pop().expect("node 3");
    let (name, proxy, metrics) = (old.name.clone(), old.proxy, old.metrics);
    drop(old);
    let restarted = start_node(
        &name,
        &[a.grpc, b.grpc],
        &cache.path().join("n3"),
        proxy,
        metrics,
    );
    wait_for(
        "the restarted node to be ready from its cache",
        LIMIT,
        || async {
            let res = http_client()
                .get(format!("http://127.0.0.1:{metrics}/ready"))
                .send()
                .await
                .ok()?;
            (res.status() == 200).then_some(())
        },
    )
    .await;
    until_served(&restarted, "GET", &host, "/dev/notes", "/fallback").await;
    until_served(&restarted, "GET", &host, "/prod/notes", "/notes").await;
    assert!(nodes_up.iter_mut().all(|n| n.proc.is_running()));

    drop(restarted);
    drop(nodes_up);
    db.drop_db().await;
}
