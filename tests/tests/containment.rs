//! A mistake in one API stays in that API. `portico up` with two external
//! `portico-proxy` nodes, driven by the real boto3: an integration that its stage's
//! variables break, then a deployment damaged straight in the database. Neither stops any
//! other API, no node ever NACKs, and each is reported on its stage and deployment
//! (`LastDeploymentStatusMessage`, `DeploymentStatus`/`DeploymentStatusMessage`, as in
//! https://docs.aws.amazon.com/apigatewayv2/latest/api-reference/apis-apiid-deployments-deploymentid.html).
use std::time::{Duration, Instant};

use portico_tests::process::{Proc, UpPorts, portico_up};
use portico_tests::{admin_token, free_port, http_client, upstream, wait_for};
use serde_json::Value;

const TOKEN: &str = "e2e-containment-token-0123456789abcdef";
const LIMIT: Duration = Duration::from_secs(30);

fn boto3(step: &str, admin: u16, args: &[&str]) -> Value {
    let endpoint = format!("http://127.0.0.1:{admin}");
    let args = [&[step, "--endpoint", &endpoint][..], args].concat();
    portico_tests::e2e_script("containment.py", &args, &[])
}

async fn get(proxy: u16, host: &str, path: &str) -> Option<(u16, Value)> {
    let res = http_client()
        .get(format!("http://127.0.0.1:{proxy}{path}"))
        .header("host", host)
        .send()
        .await
        .ok()?;
    let status = res.status().as_u16();
    Some((status, res.json().await.unwrap_or(Value::Null)))
}

/// Waits until every node answers `path` with `status` (and, for 200, the upstream path).
async fn until_all(nodes: &[u16], host: &str, path: &str, status: u16, upstream_path: &str) {
    for &proxy in nodes {
        wait_for(
            &format!("node :{proxy} to answer {path} with {status}"),
            LIMIT,
            || async {
                let (got, body) = get(proxy, host, path).await?;
                let right = got == status && (status != 200 || body["path"] == upstream_path);
                right.then_some(())
            },
        )
        .await;
    }
}

/// Every node is connected, serves the store's version, and has ACKed it.
async fn all_acked(admin: u16, token: &str, nodes: usize) {
    wait_for("every node to ACK the current version", LIMIT, || async {
        let body: Value = http_client()
            .get(format!("http://127.0.0.1:{admin}/portico/nodes"))
            .bearer_auth(token)
            .send()
            .await
            .ok()?
            .json()
            .await
            .ok()?;
        let items = body["items"].as_array()?;
        for n in items {
            assert_ne!(n["lastStatus"], "NACK", "a node NACKed: {n}");
            assert!(
                n["rejectedVersion"].is_null(),
                "a node rejected a version: {n}"
            );
        }
        let done = items.len() == nodes
            && items
                .iter()
                .all(|n| n["appliedVersion"] == body["currentVersion"] && n["lastStatus"] == "ACK");
        done.then_some(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broken_api_never_stops_another() {
    let upstream = upstream::start().await;
    let data = tempfile::tempdir().expect("data dir");
    let ports = UpPorts::free();
    let (admin, grpc) = (ports.admin, ports.grpc);
    let _up = portico_up(
        data.path(),
        &ports,
        &[("PORTICO_CLUSTER_TOKEN", TOKEN.to_string())],
    );
    let nodes: Vec<u16> = vec![free_port(), free_port()];
    let caches = tempfile::tempdir().expect("caches");
    let _external: Vec<Proc> = nodes
        .iter()
        .enumerate()
        .map(|(i, proxy)| {
            Proc::spawn(
                &format!("node-{i}"),
                "portico-proxy",
                &[
                    "--control-plane".into(),
                    format!("http://127.0.0.1:{grpc}"),
                    "--node-id".into(),
                    format!("node-{i}"),
                    "--cache-dir".into(),
                    caches.path().join(format!("n{i}")).display().to_string(),
                    "--proxy-addr".into(),
                    format!("127.0.0.1:{proxy}"),
                    "--proxy-tls-addr".into(),
                    "127.0.0.1:0".into(),
                    "--metrics-addr".into(),
                    format!("127.0.0.1:{}", free_port()),
                ],
                &[("PORTICO_CLUSTER_TOKEN", TOKEN.to_string())],
            )
        })
        .collect();
    portico_tests::wait_for_admin(admin, LIMIT).await;
    let token = admin_token(admin).await;
    let upstream = upstream.to_string();
    // The built-in node and the two external ones.
    let node_count = 3;

    // 1. An integration that its auto-deploy stage's variables leave without a host: the
    //    stage deploys, its route answers 500 (as AWS does), the rest of the stage serves.
    let bad = boto3("bad-api", admin, &["--upstream", &upstream]);
    let bad_id = bad["apiId"].as_str().expect("apiId").to_string();
    let bad_host = format!("{bad_id}.execute-api.localhost");
    let message = bad["stage"]["LastDeploymentStatusMessage"]
        .as_str()
        .unwrap_or_else(|| panic!("the stage reports the broken integration: {bad}"));
    assert!(
        message.contains("invalid URI after stage variables 'http:///x': it has no host")
            && message.contains("answer 500"),
        "{message}"
    );
    assert_eq!(bad["deployment"]["DeploymentStatus"], "DEPLOYED", "{bad}");
    let deployment_message = bad["deployment"]["DeploymentStatusMessage"]
        .as_str()
        .unwrap_or_default();
    assert!(
        deployment_message.starts_with("Stage dev: Integration"),
        "{bad}"
    );
    until_all(&nodes, &bad_host, "/dev/ok", 200, "/ok").await;
    for &proxy in &nodes {
        let (status, body) = get(proxy, &bad_host, "/dev/x").await.expect("answer");
        assert_eq!(status, 500);
        assert_eq!(
            body,
            serde_json::json!({"message": "Internal Server Error"})
        );
    }
    all_acked(admin, &token, node_count).await;

    // 2. A second API created afterwards serves on every node within a second.
    let notes = boto3("notes-api", admin, &["--upstream", &upstream]);
    let created = Instant::now();
    let notes_id = notes["apiId"].as_str().expect("apiId").to_string();
    let notes_host = format!("{notes_id}.execute-api.localhost");
    until_all(&nodes, &notes_host, "/dev/notes", 200, "/notes").await;
    let reached = created.elapsed();
    println!("a new API served on every external node {reached:?} after create_stage returned");
    assert!(
        reached < Duration::from_secs(1),
        "took {reached:?} to reach every node"
    );
    assert!(
        notes["stage"]["LastDeploymentStatusMessage"].is_null(),
        "{notes}"
    );
    all_acked(admin, &token, node_count).await;

    // 3. Deleting the route and the broken integration recovers the stage at once.
    boto3("remove-bad", admin, &["--api-id", &bad_id]);
    let fixed = wait_for("the stage's report to clear", LIMIT, || async {
        let fixed = boto3("stage", admin, &["--api-id", &bad_id]);
        fixed["stage"]["LastDeploymentStatusMessage"]
            .is_null()
            .then_some(fixed)
    })
    .await;
    assert!(
        fixed["deployment"]["DeploymentStatusMessage"].is_null(),
        "{fixed}"
    );
    until_all(&nodes, &bad_host, "/dev/x", 404, "").await;
    until_all(&nodes, &bad_host, "/dev/ok", 200, "/ok").await;
    all_acked(admin, &token, node_count).await;

    // 4. A row damaged straight in the database: the stage is held at what it served,
    //    reported, and an unrelated change to another API still reaches every node.
    let damaged_deployment = fixed["stage"]["DeploymentId"]
        .as_str()
        .expect("deployment id")
        .to_string();
    {
        use sqlx::Connection;
        let url = format!("sqlite://{}", data.path().join("portico.db").display());
        let mut db = sqlx::SqliteConnection::connect(&url)
            .await
            .expect("open portico.db");
        let done = sqlx::query(
            "UPDATE deployments SET frozen = '{\"routes\": [' WHERE api_id = $1 AND deployment_id = $2",
        )
        .bind(&bad_id)
        .bind(&damaged_deployment)
        .execute(&mut db)
        .await
        .expect("damage the deployment");
        assert_eq!(done.rows_affected(), 1);
    }
    let changed = boto3(
        "add-route",
        admin,
        &[
            "--api-id",
            &notes_id,
            "--route-key",
            "GET /later",
            "--upstream",
            &upstream,
        ],
    );
    until_all(&nodes, &notes_host, "/dev/later", 200, "/later").await;
    assert!(changed["stage"]["LastDeploymentStatusMessage"].is_null());
    until_all(&nodes, &bad_host, "/dev/ok", 200, "/ok").await;
    let held = wait_for("the damaged stage to be reported", LIMIT, || async {
        let held = boto3("stage", admin, &["--api-id", &bad_id]);
        held["stage"]["LastDeploymentStatusMessage"]
            .is_string()
            .then_some(held)
    })
    .await;
    let message = held["stage"]["LastDeploymentStatusMessage"]
        .as_str()
        .unwrap_or_default();
    assert!(
        message.starts_with(&format!(
            "Deployment {damaged_deployment} cannot be served: its stored record is damaged"
        )) && message.ends_with(&format!(
            "The stage keeps serving deployment {damaged_deployment}, as last published."
        )),
        "{message}"
    );
    assert_eq!(held["deployment"]["DeploymentStatus"], "FAILED", "{held}");
    all_acked(admin, &token, node_count).await;

    // 5. The next change to the damaged API deploys it afresh, and the report clears.
    let recovered = boto3(
        "add-route",
        admin,
        &[
            "--api-id",
            &bad_id,
            "--route-key",
            "GET /again",
            "--upstream",
            &upstream,
        ],
    );
    until_all(&nodes, &bad_host, "/dev/again", 200, "/again").await;
    let again = boto3("stage", admin, &["--api-id", &bad_id]);
    assert!(
        again["stage"]["LastDeploymentStatusMessage"].is_null(),
        "{again}"
    );
    assert_eq!(again["deployment"]["DeploymentStatus"], "DEPLOYED");
    assert_ne!(
        recovered["stage"]["DeploymentId"],
        damaged_deployment.as_str()
    );
    all_acked(admin, &token, node_count).await;
}
