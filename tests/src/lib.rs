//! The harness for Portico's end-to-end tests: it finds the built binaries, starts them
//! as child processes on loopback ports (killed when dropped), makes fresh Postgres
//! databases, runs a real upstream HTTP server, a misbehaving one and a Lambda-compatible
//! function server, runs the real AWS clients (boto3, awscli), and runs a fleet behind
//! haproxy that can be restarted piece by piece under a steady load. Every wait is bounded.
#![forbid(unsafe_code)]

pub mod faulty_upstream;
pub mod fleet;
pub mod lambda_functions;
pub mod load;
pub mod oidc_issuer;
pub mod postgres;
pub mod process;
pub mod raw_http;
pub mod upstream;
pub mod vpc_upstream;

use std::future::Future;
use std::time::{Duration, Instant};

/// A loopback port nobody listens on right now.
pub fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind an ephemeral port");
    listener.local_addr().expect("local addr").port()
}

/// Polls `check` until it returns `Some`, or fails after `limit` with `what`. A check that
/// never finishes (a browser that hangs, a peer that accepts and says nothing) fails at
/// `limit` too.
pub async fn wait_for<T, F, Fut>(what: &str, limit: Duration, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let start = Instant::now();
    loop {
        let left = limit.saturating_sub(start.elapsed());
        if let Ok(Some(v)) = tokio::time::timeout(left, check()).await {
            return v;
        }
        if start.elapsed() >= limit {
            panic!("timed out after {limit:?} waiting for {what}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// An HTTP client that never goes through a proxy and gives up after 10 s.
pub fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(10))
        .build()
        .expect("http client")
}

/// The credentials every end-to-end control plane starts with (`PORTICO_*` bootstrap).
pub mod credentials {
    pub const MASTER_KEY: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
    pub const ADMIN_PASSWORD: &str = "e2e admin password, long enough";
    pub const ADMIN_KEY: &str = "PKIAE2EADMINKEY00001";
    pub const ADMIN_SECRET: &str = "e2e-admin-secret-access-key-0123456789";

    /// Environment for `portico serve` / `portico up`.
    pub fn control_plane_env() -> Vec<(&'static str, String)> {
        vec![
            ("PORTICO_MASTER_KEY", MASTER_KEY.to_string()),
            ("PORTICO_ADMIN_PASSWORD", ADMIN_PASSWORD.to_string()),
            ("PORTICO_ADMIN_ACCESS_KEY_ID", ADMIN_KEY.to_string()),
            ("PORTICO_ADMIN_SECRET_ACCESS_KEY", ADMIN_SECRET.to_string()),
        ]
    }

    /// Environment for the AWS clients, signing as the bootstrap admin.
    pub fn aws_env() -> Vec<(&'static str, String)> {
        vec![
            ("AWS_ACCESS_KEY_ID", ADMIN_KEY.to_string()),
            ("AWS_SECRET_ACCESS_KEY", ADMIN_SECRET.to_string()),
            ("PORTICO_ADMIN_ACCESS_KEY_ID", ADMIN_KEY.to_string()),
            ("PORTICO_ADMIN_SECRET_ACCESS_KEY", ADMIN_SECRET.to_string()),
            ("AWS_DEFAULT_REGION", "us-east-1".to_string()),
            ("AWS_EC2_METADATA_DISABLED", "true".to_string()),
        ]
    }
}

/// Runs `tests/e2e/{script}` with `args`, the real AWS clients signing as the bootstrap
/// admin (plus `env`); the script prints one JSON object, which is returned.
pub fn e2e_script(script: &str, args: &[&str], env: &[(&str, &str)]) -> serde_json::Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("e2e")
        .join(script);
    let out = std::process::Command::new("python3")
        .arg(path)
        .args(args)
        .envs(credentials::aws_env())
        .envs(env.iter().copied())
        .output()
        .expect("run python3 (pip install boto3 awscli)");
    assert!(
        out.status.success(),
        "{script} {args:?} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("the script prints JSON")
}

/// Logs in as the bootstrap admin; a bearer token for `Authorization: Bearer …`.
pub async fn admin_token(admin_port: u16) -> String {
    let res = http_client()
        .post(format!("http://127.0.0.1:{admin_port}/portico/login"))
        .json(&serde_json::json!({
            "userName": "admin",
            "password": credentials::ADMIN_PASSWORD,
        }))
        .send()
        .await
        .expect("POST /portico/login");
    assert_eq!(res.status(), 200, "admin login");
    let body: serde_json::Value = res.json().await.expect("login JSON");
    body["token"].as_str().expect("token").to_string()
}

/// Waits until the admin API answers at all (any status: most routes need credentials).
pub async fn wait_for_admin(admin_port: u16, limit: Duration) {
    wait_for("the admin API", limit, || async {
        http_client()
            .get(format!("http://127.0.0.1:{admin_port}/portico/me"))
            .send()
            .await
            .ok()
            .map(|_| ())
    })
    .await;
}
