//! Who gets configuration: a `portico serve` replica with TLS on its gRPC config port
//! (`--grpc-tls-cert/--grpc-tls-key`) and `portico-proxy` nodes that present the right or
//! a wrong cluster token, and trust the right CA, another CA or only the public roots.
//! Only the node with the right token and the right CA is ever served. Also: TLS flags
//! that do not go together stop the control plane at startup, and `portico up`'s own
//! node connects to its TLS config port.
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use portico_tests::postgres::TestDatabase;
use portico_tests::process::{Proc, UpPorts, bin, up_args};
use portico_tests::{credentials, free_port, http_client, upstream, wait_for};
use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair};
use reqwest::Method;
use serde_json::{Value, json};

const TOKEN: &str = "e2e-grpc-auth-token-0123456789abcdef";
const WRONG_TOKEN: &str = "e2e-grpc-auth-token-not-the-right-one";
/// `portico serve` needs one; any 64 hex characters do for a test.
const MASTER_KEY: &str = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
const LIMIT: Duration = Duration::from_secs(30);

/// A test CA, a server certificate it signed, and a CA that signed nothing here, as PEM
/// files in a temporary directory.
struct Pki {
    dir: tempfile::TempDir,
}

impl Pki {
    /// The server certificate names `server_names` (DNS names or IP addresses).
    fn new(server_names: &[&str]) -> Pki {
        let dir = tempfile::tempdir().expect("PKI dir");
        let ca = new_ca("Portico e2e CA");
        let server_key = KeyPair::generate().expect("server key");
        let mut params = CertificateParams::new(
            server_names
                .iter()
                .map(|n| n.to_string())
                .collect::<Vec<_>>(),
        )
        .expect("server params");
        params
            .distinguished_name
            .push(DnType::CommonName, server_names[0]);
        let server = params.signed_by(&server_key, &ca).expect("sign server");
        let other = new_ca("Some other CA");
        let write = |name: &str, pem: String| {
            std::fs::write(dir.path().join(name), pem).expect("write PEM");
        };
        write("ca.pem", ca.pem());
        write("other-ca.pem", other.pem());
        write("grpc.pem", server.pem());
        write("grpc.key", server_key.serialize_pem());
        write(
            "unrelated.key",
            KeyPair::generate().expect("key").serialize_pem(),
        );
        Pki { dir }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
}

fn new_ca(name: &str) -> CertifiedIssuer<'static, KeyPair> {
    let mut params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.distinguished_name.push(DnType::CommonName, name);
    CertifiedIssuer::self_signed(params, KeyPair::generate().expect("CA key")).expect("CA")
}

/// Every admin API request goes through here: the one place that adds credentials.
async fn admin_request(
    client: &reqwest::Client,
    method: Method,
    url: &str,
    body: Option<&Value>,
) -> reqwest::Result<reqwest::Response> {
    // Log in as the bootstrap admin on the replica the URL names; a replica that is not
    // up yet fails here like any other request would.
    let base: String = url.splitn(4, '/').take(3).collect::<Vec<_>>().join("/");
    let login: Value = client
        .post(format!("{base}/portico/login"))
        .json(&serde_json::json!({"userName": "admin", "password": credentials::ADMIN_PASSWORD}))
        .send()
        .await?
        .json()
        .await?;
    let token = login["token"].as_str().unwrap_or_default().to_string();
    let mut request = client.request(method, url).bearer_auth(token);
    if let Some(body) = body {
        request = request.json(body);
    }
    request.send().await
}

/// An admin API call that must succeed; its JSON answer (Null when empty).
async fn admin(client: &reqwest::Client, method: Method, url: &str, body: Option<Value>) -> Value {
    let res = admin_request(client, method.clone(), url, body.as_ref())
        .await
        .unwrap_or_else(|e| panic!("{method} {url}: {e}"));
    let status = res.status();
    let text = res.text().await.unwrap_or_default();
    assert!(status.is_success(), "{method} {url}: {status}: {text}");
    if text.trim().is_empty() {
        return Value::Null;
    }
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{method} {url}: not JSON ({e}): {text}"))
}

struct Replica {
    _proc: Proc,
    admin: String,
    grpc: u16,
}

fn start_replica(database_url: &str, pki: &Pki) -> Replica {
    let (admin, grpc) = (free_port(), free_port());
    let proc = Proc::spawn(
        "cp-tls",
        "portico",
        &[
            "serve".into(),
            "--admin-addr".into(),
            format!("127.0.0.1:{admin}"),
            "--grpc-addr".into(),
            format!("127.0.0.1:{grpc}"),
            "--replica-id".into(),
            "cp-tls".into(),
            "--grpc-tls-cert".into(),
            pki.path("grpc.pem").display().to_string(),
            "--grpc-tls-key".into(),
            pki.path("grpc.key").display().to_string(),
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
        _proc: proc,
        admin: format!("http://127.0.0.1:{admin}"),
        grpc,
    }
}

struct Node {
    proc: Proc,
    name: String,
    proxy: u16,
    metrics: u16,
}

fn start_node(
    name: &str,
    control_plane: &str,
    ca: Option<&Path>,
    token: &str,
    cache: &Path,
) -> Node {
    let (proxy, metrics) = (free_port(), free_port());
    let mut args: Vec<String> = vec![
        "--control-plane".into(),
        control_plane.into(),
        "--node-id".into(),
        name.into(),
        "--cache-dir".into(),
        cache.join(name).display().to_string(),
        "--proxy-addr".into(),
        format!("127.0.0.1:{proxy}"),
        "--proxy-tls-addr".into(),
        "127.0.0.1:0".into(),
        "--metrics-addr".into(),
        format!("127.0.0.1:{metrics}"),
    ];
    if let Some(ca) = ca {
        args.extend(["--ca".into(), ca.display().to_string()]);
    }
    let proc = Proc::spawn(
        name,
        "portico-proxy",
        &args,
        &[("PORTICO_CLUSTER_TOKEN", token.to_string())],
    );
    Node {
        proc,
        name: name.to_string(),
        proxy,
        metrics,
    }
}

/// The node's `/ready` status, or None while it does not answer.
async fn ready_status(metrics: u16) -> Option<u16> {
    let res = http_client()
        .get(format!("http://127.0.0.1:{metrics}/ready"))
        .send()
        .await
        .ok()?;
    Some(res.status().as_u16())
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
async fn only_nodes_with_the_token_and_the_ca_get_config_over_tls() {
    let db = TestDatabase::create("grpc_auth").await;
    let upstream = upstream::start().await;
    let pki = Pki::new(&["localhost", "127.0.0.1"]);
    let cache = tempfile::tempdir().expect("cache dir");
    let client = http_client();

    let cp = start_replica(&db.url, &pki);
    wait_for("the admin API", LIMIT, || async {
        let res = admin_request(&client, Method::GET, &format!("{}/v2/apis", cp.admin), None)
            .await
            .ok()?;
        (res.status() == 200).then_some(())
    })
    .await;

    let tls_url = format!("https://localhost:{}", cp.grpc);
    let ca = pki.path("ca.pem");
    let good = start_node("good", &tls_url, Some(&ca), TOKEN, cache.path());
    let refused: Vec<Node> = vec![
        start_node(
            "wrong-token",
            &tls_url,
            Some(&ca),
            WRONG_TOKEN,
            cache.path(),
        ),
        // The public roots built into the binary do not know the test CA.
        start_node("no-ca", &tls_url, None, TOKEN, cache.path()),
        start_node(
            "wrong-ca",
            &tls_url,
            Some(&pki.path("other-ca.pem")),
            TOKEN,
            cache.path(),
        ),
        // h2c against the TLS port.
        start_node(
            "plaintext",
            &format!("http://127.0.0.1:{}", cp.grpc),
            None,
            TOKEN,
            cache.path(),
        ),
    ];

    // A route, through the admin API.
    let api = admin(
        &client,
        Method::POST,
        &format!("{}/v2/apis", cp.admin),
        Some(json!({"name": "tls", "protocolType": "HTTP"})),
    )
    .await;
    let api_id = api["apiId"].as_str().expect("apiId").to_string();
    let integration = admin(
        &client,
        Method::POST,
        &format!("{}/v2/apis/{api_id}/integrations", cp.admin),
        Some(json!({
            "integrationType": "HTTP_PROXY",
            "integrationUri": format!("http://{upstream}/x"),
        })),
    )
    .await;
    let integration_id = integration["integrationId"]
        .as_str()
        .expect("integrationId");
    admin(
        &client,
        Method::POST,
        &format!("{}/v2/apis/{api_id}/routes", cp.admin),
        Some(json!({"routeKey": "GET /x", "target": format!("integrations/{integration_id}")})),
    )
    .await;
    admin(
        &client,
        Method::POST,
        &format!("{}/v2/apis/{api_id}/stages", cp.admin),
        Some(json!({"stageName": "dev", "autoDeploy": true})),
    )
    .await;

    // (a) The right token and the right CA: the node is served over TLS.
    let host = format!("{api_id}.execute-api.localhost:8000");
    let echo = wait_for("the good node to serve GET /dev/x", LIMIT, || async {
        let res = http_client()
            .get(format!("http://127.0.0.1:{}/dev/x", good.proxy))
            .header("host", &host)
            .send()
            .await
            .ok()?;
        if res.status() != 200 {
            return None;
        }
        res.json::<Value>().await.ok()
    })
    .await;
    assert_eq!(echo["path"], "/x");
    assert_eq!(ready_status(good.metrics).await, Some(200));

    // (b), (c) Everyone else has had as long, and keeps getting nothing: not ready, for
    // a few more seconds, and still running (they keep retrying).
    let until = Instant::now() + Duration::from_secs(3);
    while Instant::now() < until {
        for node in &refused {
            assert_eq!(
                ready_status(node.metrics).await,
                Some(503),
                "{} must not be ready",
                node.name
            );
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }

    let version = stored_version(&db).await;
    let listed = wait_for(
        "the good node to ACK the current version",
        LIMIT,
        || async {
            let body = admin(
                &client,
                Method::GET,
                &format!("{}/portico/nodes", cp.admin),
                None,
            )
            .await;
            let items = body["items"].as_array().cloned().unwrap_or_default();
            let acked = items.iter().any(|n| {
                n["nodeId"] == "good"
                    && n["appliedVersion"] == version
                    && n["lastStatus"] == "ACK"
                    && n["connected"] == true
            });
            acked.then_some(items)
        },
    )
    .await;
    for node in &refused {
        if let Some(seen) = listed.iter().find(|n| n["nodeId"] == node.name.as_str()) {
            assert!(
                seen["appliedVersion"] == 0 && seen.get("lastStatus").is_none(),
                "{} appears to have applied configuration: {seen}",
                node.name
            );
        }
    }

    let mut all = refused;
    all.push(good);
    for node in &mut all {
        assert!(node.proc.is_running(), "{} exited", node.name);
    }
    drop(all);
    db.drop_db().await;
}

/// Runs `portico` to its (prompt) exit; its status and standard error.
fn run_portico(args: &[String], envs: &[(&str, String)]) -> (bool, String) {
    let mut child = Command::new(bin("portico"))
        .args(args)
        .envs(envs.iter().map(|(k, v)| (k, v)))
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start portico");
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if start.elapsed() > LIMIT {
            let _ = child.kill();
            let _ = child.wait();
            panic!("portico {args:?} did not exit");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let mut stderr = String::new();
    if let Some(mut pipe) = child.stderr.take() {
        use std::io::Read;
        let _ = pipe.read_to_string(&mut stderr);
    }
    (status.success(), stderr)
}

#[test]
fn tls_flags_that_do_not_fit_stop_the_control_plane() {
    let pki = Pki::new(&["localhost"]);
    let path = |name: &str| pki.path(name).display().to_string();
    let serve = |tls: &[String]| {
        let mut args: Vec<String> = vec![
            "serve".into(),
            "--admin-addr".into(),
            format!("127.0.0.1:{}", free_port()),
            "--grpc-addr".into(),
            format!("127.0.0.1:{}", free_port()),
        ];
        args.extend_from_slice(tls);
        // Nothing listens on port 1: a replica that got as far as the store would fail
        // there instead, with another message.
        run_portico(
            &args,
            &[
                (
                    "PORTICO_DATABASE_URL",
                    "postgres://nobody@127.0.0.1:1/none".to_string(),
                ),
                ("PORTICO_CLUSTER_TOKEN", TOKEN.to_string()),
                ("PORTICO_MASTER_KEY", MASTER_KEY.to_string()),
            ],
        )
    };

    let (ok, stderr) = serve(&["--grpc-tls-cert".into(), path("grpc.pem")]);
    assert!(!ok && stderr.contains("--grpc-tls-key"), "{stderr}");

    let (ok, stderr) = serve(&[
        "--grpc-tls-cert".into(),
        path("grpc.pem"),
        "--grpc-tls-key".into(),
        path("unrelated.key"),
    ]);
    assert!(
        !ok && stderr.contains("unrelated.key") && stderr.contains("does not belong"),
        "{stderr}"
    );

    let (ok, stderr) = serve(&[
        "--grpc-tls-cert".into(),
        path("missing.pem"),
        "--grpc-tls-key".into(),
        path("grpc.key"),
    ]);
    assert!(!ok && stderr.contains("missing.pem"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn up_connects_its_own_node_over_tls() {
    // The certificate names neither localhost nor 127.0.0.1: `up`'s node trusts exactly
    // the certificate its process serves, whatever names it carries.
    let pki = Pki::new(&["config.portico.internal"]);
    let data = tempfile::tempdir().expect("data dir");
    let ports = UpPorts::free();
    let metrics = ports.metrics;
    let mut up = Proc::spawn(
        "portico up (TLS)",
        "portico",
        &[
            up_args(data.path(), &ports),
            vec![
                "--grpc-tls-cert".into(),
                pki.path("grpc.pem").display().to_string(),
                "--grpc-tls-key".into(),
                pki.path("grpc.key").display().to_string(),
            ],
        ]
        .concat(),
        &credentials::control_plane_env(),
    );
    // A fresh store publishes its empty configuration (version 0): the node is ready
    // only once that snapshot came through the TLS stream.
    wait_for(
        "up's node to get its first snapshot over TLS",
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
    assert!(up.is_running());
    up.stop();
}
