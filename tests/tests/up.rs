//! `portico up` as the README runs it: one process on SQLite, the notes API built with
//! the real `aws` CLI, served by the built-in node, and still there after a restart.
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use portico_tests::process::{Proc, UpPorts, portico_up};
use portico_tests::{credentials, http_client, wait_for, wait_for_admin};
use serde_json::Value;

const LIMIT: Duration = Duration::from_secs(30);

fn start(data_dir: &Path, p: &UpPorts) -> Proc {
    portico_up(data_dir, p, &[])
}

fn aws(admin: u16, args: &[&str]) -> Value {
    let out = Command::new("aws")
        .args([
            "apigatewayv2",
            "--endpoint-url",
            &format!("http://127.0.0.1:{admin}"),
            "--output",
            "json",
        ])
        .args(args)
        .envs(credentials::aws_env())
        .output()
        .expect("run aws (pip install awscli)");
    assert!(
        out.status.success(),
        "aws {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    if out.stdout.iter().all(u8::is_ascii_whitespace) {
        return Value::Null;
    }
    serde_json::from_slice(&out.stdout).expect("aws prints JSON")
}

async fn ready(p: &UpPorts) {
    wait_for_admin(p.admin, LIMIT).await;
}

async fn served(p: &UpPorts, host: &str, path: &str) -> Value {
    wait_for(&format!("the node to serve {path}"), LIMIT, || async {
        let res = http_client()
            .get(format!("http://127.0.0.1:{}{path}", p.proxy))
            .header("host", host)
            .send()
            .await
            .ok()?;
        if res.status() != 200 {
            return None;
        }
        res.json::<Value>().await.ok()
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn up_serves_the_notes_api_and_survives_a_restart() {
    let upstream = portico_tests::upstream::start().await;
    let data = tempfile::tempdir().expect("data dir");
    let ports = UpPorts::free();
    let mut up = start(data.path(), &ports);
    ready(&ports).await;
    // The store holds password hashes and sealed secrets: owner-only, like the token
    // and master key beside it, and so are SQLite's WAL files.
    {
        use std::os::unix::fs::PermissionsExt;
        for file in ["portico.db", "portico.db-wal", "portico.db-shm"] {
            let path = data.path().join(file);
            let mode = std::fs::metadata(&path)
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600, "{file} is {:o}", mode & 0o777);
        }
    }

    let api = aws(
        ports.admin,
        &["create-api", "--name", "notes", "--protocol-type", "HTTP"],
    );
    let api_id = api["ApiId"].as_str().expect("ApiId").to_string();
    assert_eq!(
        api["ApiEndpoint"],
        format!("http://{api_id}.execute-api.localhost:{}", ports.proxy)
    );
    let integration = aws(
        ports.admin,
        &[
            "create-integration",
            "--api-id",
            &api_id,
            "--integration-type",
            "HTTP_PROXY",
            "--integration-method",
            "ANY",
            "--payload-format-version",
            "1.0",
            "--integration-uri",
            &format!("http://{upstream}/notes"),
        ],
    );
    let integration_id = integration["IntegrationId"]
        .as_str()
        .expect("IntegrationId");
    aws(
        ports.admin,
        &[
            "create-route",
            "--api-id",
            &api_id,
            "--route-key",
            "GET /notes",
            "--target",
            &format!("integrations/{integration_id}"),
        ],
    );
    aws(
        ports.admin,
        &[
            "create-stage",
            "--api-id",
            &api_id,
            "--stage-name",
            "dev",
            "--auto-deploy",
        ],
    );

    let host = format!("{api_id}.execute-api.localhost:{}", ports.proxy);
    let echo = served(&ports, &host, "/dev/notes").await;
    assert_eq!(echo["path"], "/notes");

    // The cluster token is made once and kept private.
    let token = data.path().join("cluster-token");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&token)
            .expect("token file")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let token_before = std::fs::read_to_string(&token).expect("token");

    up.stop();
    let mut up = start(data.path(), &ports);
    ready(&ports).await;
    let apis = aws(ports.admin, &["get-apis"]);
    assert_eq!(apis["Items"][0]["ApiId"], api_id.as_str());
    let routes = aws(ports.admin, &["get-routes", "--api-id", &api_id]);
    assert_eq!(routes["Items"][0]["RouteKey"], "GET /notes");
    assert_eq!(served(&ports, &host, "/dev/notes").await["path"], "/notes");
    assert_eq!(
        std::fs::read_to_string(&token).expect("token"),
        token_before
    );

    // A change after the restart reaches the node too.
    aws(
        ports.admin,
        &[
            "update-integration",
            "--api-id",
            &api_id,
            "--integration-id",
            integration_id,
            "--integration-uri",
            &format!("http://{upstream}/v2/notes"),
        ],
    );
    wait_for(
        "the node to serve the changed integration",
        LIMIT,
        || async {
            let res = http_client()
                .get(format!("http://127.0.0.1:{}/dev/notes", ports.proxy))
                .header("host", &host)
                .send()
                .await
                .ok()?;
            let body: Value = res.json().await.ok()?;
            (body["path"] == "/v2/notes").then_some(())
        },
    )
    .await;
    up.stop();
}
