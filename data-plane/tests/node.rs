//! A real node against a real (in-test) control plane and a real upstream, all on
//! loopback: config stream with ACK/NACK, HTTP/1.1 and h2c proxying, the on-disk cache,
//! and the AWS-shaped failures.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::Path;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use portico_data_plane::{Node, NodeArgs, content_hash};
use portico_proto::config_service_server::{ConfigService, ConfigServiceServer};
use portico_proto::node_message::Kind;
use portico_proto::{
    Ack, Api, ConfigPush, ControlMessage, Deployment, Integration, IntegrationType, Nack,
    NodeMessage, Route, Snapshot, Stage, control_message,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::sync::{mpsc, oneshot, watch};
use tokio::task::JoinHandle;
use tokio_stream::wrappers::{ReceiverStream, TcpListenerStream};

const TOKEN: &str = "test-token";
const API_HOST: &str = "api1.execute-api.localhost";
/// Every test finishes well within this, or fails.
const TEST_LIMIT: Duration = Duration::from_secs(60);
const MAX_BODY: usize = 10_485_760;

// ---------------------------------------------------------------- upstream

/// Answers with what it received, one `name=value` per line; `/slow` takes 5 s.
async fn start_upstream() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind upstream");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            tokio::spawn(async move {
                let service = service_fn(|req: Request<Incoming>| async move {
                    if req.uri().path().starts_with("/slow") {
                        tokio::time::sleep(Duration::from_secs(5)).await;
                    }
                    let header = |name: &str| {
                        req.headers()
                            .get_all(name)
                            .iter()
                            .map(|v| v.to_str().unwrap_or("?").to_string())
                            .collect::<Vec<_>>()
                            .join("|")
                    };
                    let mut text = format!(
                        "method={}\nuri={}\nhost={}\nxff={}\nxfp={}\nxfh={}\nx-hop={}\nconnection={}\n",
                        req.method(),
                        req.uri(),
                        header("host"),
                        header("x-forwarded-for"),
                        header("x-forwarded-proto"),
                        header("x-forwarded-host"),
                        header("x-hop"),
                        header("connection"),
                    );
                    let body = req.into_body().collect().await.map(|b| b.to_bytes().len());
                    text.push_str(&format!("body-len={}\n", body.unwrap_or(usize::MAX)));
                    let response = Response::builder()
                        .header("x-upstream", "yes")
                        .header("proxy-secret", "must not leak")
                        .body(Full::new(Bytes::from(text)))
                        .expect("response");
                    Ok::<_, Infallible>(response)
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    addr
}

fn echoed(text: &str, name: &str) -> String {
    text.lines()
        .find_map(|l| l.strip_prefix(name).and_then(|r| r.strip_prefix('=')))
        .unwrap_or_else(|| panic!("no {name} in {text}"))
        .to_string()
}

/// A loopback port with nothing listening on it.
async fn closed_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    l.local_addr().expect("addr").port()
}

// ----------------------------------------------------------- control plane

/// Sends every stream the latest push and each newer one, like a real control plane,
/// and hands everything the node says to the test.
struct TestConfigService {
    latest: watch::Sender<Option<ConfigPush>>,
    from_node: mpsc::UnboundedSender<NodeMessage>,
    /// Bumped to end every open stream, as a control plane restart would.
    kick: watch::Sender<u64>,
}

#[tonic::async_trait]
impl ConfigService for TestConfigService {
    type StreamConfigStream = ReceiverStream<Result<ControlMessage, tonic::Status>>;

    async fn stream_config(
        &self,
        request: tonic::Request<tonic::Streaming<NodeMessage>>,
    ) -> Result<tonic::Response<Self::StreamConfigStream>, tonic::Status> {
        let auth = request
            .metadata()
            .get("authorization")
            .and_then(|v| v.to_str().ok());
        if auth != Some(&format!("Bearer {TOKEN}")) {
            return Err(tonic::Status::unauthenticated("bad cluster token"));
        }
        let mut inbound = request.into_inner();
        let from_node = self.from_node.clone();
        tokio::spawn(async move {
            while let Ok(Some(m)) = inbound.message().await {
                // Load reports come twice a second whatever happens; the tests here
                // are about the node's answers to pushes.
                if !matches!(m.kind, Some(Kind::Load(_))) {
                    let _ = from_node.send(m);
                }
            }
        });
        let mut latest = self.latest.subscribe();
        let mut kick = self.kick.subscribe();
        let (tx, rx) = mpsc::channel(4);
        tokio::spawn(async move {
            loop {
                let push = latest.borrow_and_update().clone();
                if let Some(push) = push
                    && tx
                        .send(Ok(ControlMessage {
                            kind: Some(control_message::Kind::Push(push)),
                        }))
                        .await
                        .is_err()
                {
                    return;
                }
                tokio::select! {
                    changed = latest.changed() => if changed.is_err() { return },
                    _ = kick.changed() => return,
                }
            }
        });
        Ok(tonic::Response::new(ReceiverStream::new(rx)))
    }
}

struct ControlPlane {
    url: String,
    latest: watch::Sender<Option<ConfigPush>>,
    kick: watch::Sender<u64>,
    from_node: mpsc::UnboundedReceiver<NodeMessage>,
    stop: Option<oneshot::Sender<()>>,
}

async fn start_control_plane() -> ControlPlane {
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind control plane");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    let (latest, _) = watch::channel(None);
    let (to_test, from_node) = mpsc::unbounded_channel();
    let (kick, _) = watch::channel(0);
    let service = TestConfigService {
        latest: latest.clone(),
        from_node: to_test,
        kick: kick.clone(),
    };
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(
        tonic::transport::Server::builder()
            .add_service(ConfigServiceServer::new(service))
            .serve_with_incoming_shutdown(TcpListenerStream::new(listener), async {
                let _ = stopped.await;
            }),
    );
    ControlPlane {
        url,
        latest,
        kick,
        from_node,
        stop: Some(stop),
    }
}

impl ControlPlane {
    fn push(&self, version: u64, nonce: &str, snapshot: Snapshot) {
        let content_hash = content_hash(&snapshot);
        self.push_raw(ConfigPush {
            version,
            nonce: nonce.into(),
            content_hash,
            snapshot: Some(snapshot),
        });
    }

    /// Pushes `snapshot` and checks the node ACKs exactly that version and nonce.
    async fn push_acked(&mut self, version: u64, nonce: &str, snapshot: Snapshot) {
        self.push(version, nonce, snapshot);
        assert_eq!(
            self.reply().await,
            Kind::Ack(Ack {
                version,
                nonce: nonce.into()
            })
        );
    }

    fn push_raw(&self, push: ConfigPush) {
        self.latest.send_replace(Some(push));
    }

    /// The node's next ACK or NACK (hellos are skipped).
    async fn reply(&mut self) -> Kind {
        loop {
            let m = tokio::time::timeout(Duration::from_secs(15), self.from_node.recv())
                .await
                .expect("node answers within 15 s")
                .expect("stream open");
            match m.kind {
                Some(Kind::Hello(_)) | None => continue,
                Some(other) => return other,
            }
        }
    }

    async fn hello(&mut self) -> portico_proto::NodeHello {
        let m = tokio::time::timeout(Duration::from_secs(15), self.from_node.recv())
            .await
            .expect("node says hello within 15 s")
            .expect("stream open");
        match m.kind {
            Some(Kind::Hello(h)) => h,
            other => panic!("expected hello, got {other:?}"),
        }
    }

    /// Ends every open stream; the node should come back on its own.
    fn disconnect(&self) {
        self.kick.send_modify(|k| *k += 1);
    }

    fn stop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

// ------------------------------------------------------------------- node

struct RunningNode {
    proxy: SocketAddr,
    health: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<anyhow::Result<()>>>,
}

async fn start_node(control_plane: &str, cache_dir: &Path) -> RunningNode {
    start_node_with(&[control_plane], cache_dir).await
}

async fn start_node_with(control_planes: &[&str], cache_dir: &Path) -> RunningNode {
    start_node_draining(control_planes, cache_dir, 0).await
}

async fn start_node_draining(
    control_planes: &[&str],
    cache_dir: &Path,
    drain_seconds: u64,
) -> RunningNode {
    let args = NodeArgs {
        control_plane: control_planes
            .iter()
            .map(|u| u.parse().expect("url"))
            .collect(),
        cluster_token: Some(TOKEN.into()),
        node_id: Some("test-node".into()),
        cache_dir: cache_dir.to_path_buf(),
        proxy_addr: "127.0.0.1:0".parse().expect("addr"),
        proxy_tls_addr: "127.0.0.1:0".parse().expect("addr"),
        metrics_addr: "127.0.0.1:0".parse().expect("addr"),
        drain_seconds,
        advertise_addr: (drain_seconds > 0).then(|| "node-1.internal:8000".to_string()),
        ..NodeArgs::default()
    };
    let node = Node::bind(args).await.expect("node binds");
    let (proxy, health) = (node.proxy_addr(), node.metrics_addr());
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(node.run(async {
        let _ = stopped.await;
    }));
    RunningNode {
        proxy,
        health,
        stop: Some(stop),
        task: Some(task),
    }
}

impl RunningNode {
    fn url(&self, host: &str, path: &str) -> String {
        format!("http://{host}:{}{path}", self.proxy.port())
    }

    /// Says SIGTERM; [`RunningNode::shutdown`] then waits for the exit.
    fn begin_shutdown(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }

    async fn shutdown(&mut self) {
        self.begin_shutdown();
        if let Some(task) = self.task.take() {
            tokio::time::timeout(Duration::from_secs(15), task)
                .await
                .expect("node stops within 15 s")
                .expect("node task")
                .expect("node ran cleanly");
        }
    }

    async fn ready(&self) -> (u16, String) {
        let r = plain_client()
            .get(format!("http://{}/ready", self.health))
            .send()
            .await
            .expect("ready answers");
        (r.status().as_u16(), r.text().await.expect("body"))
    }
}

fn plain_client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(15))
        .build()
        .expect("client")
}

/// A client that finds `host` on the node's proxy port, so the URL (and thus `Host` or
/// `:authority`) names the API as a real client would.
fn client_for(node: &RunningNode, hosts: &[&str], h2c: bool) -> reqwest::Client {
    let mut b = reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(15));
    for host in hosts {
        b = b.resolve(host, node.proxy);
    }
    if h2c {
        b = b.http2_prior_knowledge();
    } else {
        b = b.http1_only();
    }
    b.build().expect("client")
}

// --------------------------------------------------------------- snapshots

fn integration(id: &str, uri: &str, timeout_millis: u32) -> Integration {
    Integration {
        integration_id: id.into(),
        integration_type: IntegrationType::HttpProxy as i32,
        uri: uri.into(),
        method: "ANY".into(),
        timeout_millis,
        payload_format_version: "1.0".into(),
        ..Default::default()
    }
}

fn route(id: &str, key: &str, integration: &str) -> Route {
    Route {
        route_id: id.into(),
        route_key: key.into(),
        integration_id: integration.into(),
        ..Default::default()
    }
}

fn snapshot(upstream: SocketAddr, down_port: u16) -> Snapshot {
    Snapshot {
        execute_api_domain: "execute-api.localhost".into(),
        apis: vec![Api {
            api_id: "api1".into(),
            name: "notes".into(),
            disable_execute_api_endpoint: false,
        }],
        deployments: vec![Deployment {
            api_id: "api1".into(),
            deployment_id: "d1".into(),
            routes: vec![
                route("r1", "GET /notes/{id}", "notes"),
                route("r2", "ANY /{proxy+}", "any"),
                route("r3", "GET /slow", "slow"),
                route("r4", "GET /down", "down"),
            ],
            integrations: vec![
                integration(
                    "notes",
                    "http://${stageVariables.upstream}/backend/notes/{id}?src=stage",
                    0,
                ),
                integration("any", "http://${stageVariables.upstream}/any/{proxy}", 0),
                integration("slow", "http://${stageVariables.upstream}/slow", 300),
                integration("down", &format!("http://127.0.0.1:{down_port}/x"), 2000),
            ],
            ..Default::default()
        }],
        stages: vec![Stage {
            api_id: "api1".into(),
            stage_name: "dev".into(),
            deployment_id: "d1".into(),
            stage_variables: [("upstream".to_string(), upstream.to_string())]
                .into_iter()
                .collect(),
            ..Default::default()
        }],
        ..Default::default()
    }
}

async fn within_limit(test: impl Future<Output = ()>) {
    tokio::time::timeout(TEST_LIMIT, test)
        .await
        .expect("test finished in time");
}

// ------------------------------------------------------------------ tests

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn proxies_over_http1_and_h2c_after_acking_the_push() {
    within_limit(async {
        let upstream = start_upstream().await;
        let mut cp = start_control_plane().await;
        let cache = tempfile::tempdir().expect("tempdir");
        let mut node = start_node(&cp.url, cache.path()).await;

        let hello = cp.hello().await;
        assert_eq!(hello.node_id, "test-node");
        assert_eq!(hello.address, node.proxy.to_string());
        assert_eq!(
            (hello.serving_version, hello.serving_hash.as_str()),
            (0, "")
        );

        let (status, _) = node.ready().await;
        assert_eq!(status, 503, "not ready before a snapshot");

        cp.push_acked(1, "n1", snapshot(upstream, closed_port().await))
            .await;
        let (status, body) = node.ready().await;
        assert_eq!(status, 200);
        assert!(
            body.starts_with(r#"{"version":1,"contentHash":""#),
            "{body}"
        );

        // HTTP/1.1: path parameter, stage variable, query join, X-Forwarded-*, hop-by-hop.
        let h1 = client_for(&node, &[API_HOST], false);
        let r = h1
            .get(node.url(API_HOST, "/dev/notes/42?x=1"))
            .header("x-forwarded-for", "203.0.113.9")
            .header("connection", "x-hop")
            .header("x-hop", "secret")
            .send()
            .await
            .expect("h1 request");
        assert_eq!(r.status(), 200);
        assert_eq!(r.version(), reqwest::Version::HTTP_11);
        assert_eq!(r.headers()["x-upstream"], "yes");
        assert!(r.headers().get("proxy-secret").is_none());
        let text = r.text().await.expect("body");
        assert_eq!(echoed(&text, "method"), "GET");
        assert_eq!(echoed(&text, "uri"), "/backend/notes/42?src=stage&x=1");
        assert_eq!(echoed(&text, "host"), upstream.to_string());
        assert_eq!(echoed(&text, "xff"), "203.0.113.9, 127.0.0.1");
        assert_eq!(echoed(&text, "xfp"), "http");
        assert_eq!(
            echoed(&text, "xfh"),
            format!("{API_HOST}:{}", node.proxy.port())
        );
        assert_eq!(echoed(&text, "x-hop"), "");

        // h2c with prior knowledge: greedy parameter (raw, slashes kept), body streamed.
        let h2 = client_for(&node, &[API_HOST], true);
        let r = h2
            .post(node.url(API_HOST, "/dev/a/b%20c/d?q=1"))
            .body("hello")
            .send()
            .await
            .expect("h2 request");
        assert_eq!(r.status(), 200);
        assert_eq!(r.version(), reqwest::Version::HTTP_2);
        let text = r.text().await.expect("body");
        assert_eq!(echoed(&text, "method"), "POST");
        assert_eq!(echoed(&text, "uri"), "/any/a/b%20c/d?q=1");
        assert_eq!(echoed(&text, "body-len"), "5");
        assert_eq!(echoed(&text, "xff"), "127.0.0.1");
        assert_eq!(
            echoed(&text, "xfh"),
            format!("{API_HOST}:{}", node.proxy.port())
        );

        // No API, no stage, no route: AWS's 404.
        let other = "nope.execute-api.localhost";
        let c = client_for(&node, &[API_HOST, other], false);
        for url in [
            node.url(other, "/dev/notes/1"),
            node.url(API_HOST, "/prod/notes/1"),
            node.url(API_HOST, "/dev"),
        ] {
            let r = c.get(&url).send().await.expect("request");
            assert_eq!(r.status(), 404, "{url}");
            assert_eq!(r.headers()["content-type"], "application/json");
            assert_eq!(r.text().await.expect("body"), r#"{"message":"Not Found"}"#);
        }

        drop((h1, h2, c));
        node.shutdown().await;
        cp.stop();
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nacks_what_it_cannot_serve_and_keeps_the_old_config() {
    within_limit(async {
        let upstream = start_upstream().await;
        let mut cp = start_control_plane().await;
        let cache = tempfile::tempdir().expect("tempdir");
        let mut node = start_node(&cp.url, cache.path()).await;
        let down = closed_port().await;

        cp.push_acked(1, "n1", snapshot(upstream, down)).await;

        let mut bad = snapshot(upstream, down);
        bad.deployments[0].routes[0].route_key = "FETCH /notes".into();
        cp.push(2, "n2", bad);
        match cp.reply().await {
            Kind::Nack(Nack {
                version,
                nonce,
                rejected_version,
                error,
            }) => {
                assert_eq!((version, nonce.as_str(), rejected_version), (1, "n2", 2));
                assert!(
                    error.contains(
                        "deployment d1 of api api1: route r1: Invalid route key 'FETCH /notes'"
                    ),
                    "{error}"
                );
            }
            other => panic!("expected a NACK, got {other:?}"),
        }

        let mut tampered = ConfigPush {
            version: 3,
            nonce: "n3".into(),
            content_hash: content_hash(&snapshot(upstream, down)),
            snapshot: Some(snapshot(upstream, down)),
        };
        tampered.snapshot.as_mut().expect("snapshot").stages[0].stage_name = "prod".into();
        cp.push_raw(tampered);
        match cp.reply().await {
            Kind::Nack(n) => {
                assert_eq!(
                    (n.version, n.nonce.as_str(), n.rejected_version),
                    (1, "n3", 3)
                );
                assert!(n.error.contains("content hash mismatch"), "{}", n.error);
            }
            other => panic!("expected a NACK, got {other:?}"),
        }

        // Version 1 still serves.
        let (status, body) = node.ready().await;
        assert_eq!(status, 200);
        assert!(body.starts_with(r#"{"version":1,"#), "{body}");
        let c = client_for(&node, &[API_HOST], false);
        let r = c
            .get(node.url(API_HOST, "/dev/notes/7"))
            .send()
            .await
            .expect("request");
        assert_eq!(r.status(), 200);

        // Same content, new version: adopted and ACKed.
        cp.push_acked(4, "n4", snapshot(upstream, down)).await;
        let (_, body) = node.ready().await;
        assert!(body.starts_with(r#"{"version":4,"#), "{body}");

        // A version-only push for the content the node serves moves the version on...
        cp.push_raw(ConfigPush {
            version: 5,
            nonce: "n5".into(),
            content_hash: content_hash(&snapshot(upstream, down)),
            snapshot: None,
        });
        assert_eq!(
            cp.reply().await,
            Kind::Ack(Ack {
                version: 5,
                nonce: "n5".into()
            })
        );
        // ...and one for content it does not serve is refused.
        cp.push_raw(ConfigPush {
            version: 6,
            nonce: "n6".into(),
            content_hash: "0".repeat(64),
            snapshot: None,
        });
        match cp.reply().await {
            Kind::Nack(n) => {
                assert_eq!((n.version, n.rejected_version), (5, 6));
                assert!(n.error.contains("no snapshot"), "{}", n.error);
            }
            other => panic!("expected a NACK, got {other:?}"),
        }
        let (_, body) = node.ready().await;
        assert!(body.starts_with(r#"{"version":5,"#), "{body}");

        drop(c);
        node.shutdown().await;
        cp.stop();
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotates_through_control_planes_and_reconnects_after_a_stream_ends() {
    within_limit(async {
        let upstream = start_upstream().await;
        let mut cp = start_control_plane().await;
        let cache = tempfile::tempdir().expect("tempdir");
        let nowhere = format!("http://127.0.0.1:{}", closed_port().await);
        let mut node = start_node_with(&[&nowhere, &cp.url], cache.path()).await;

        let snap = snapshot(upstream, closed_port().await);
        cp.push(1, "n1", snap.clone());
        assert_eq!(cp.hello().await.serving_version, 0);
        assert_eq!(
            cp.reply().await,
            Kind::Ack(Ack {
                version: 1,
                nonce: "n1".into()
            })
        );

        // The stream ends; the node comes back (after trying the dead URL again), says
        // what it serves, and ACKs the unchanged push it is sent again.
        cp.disconnect();
        let hello = cp.hello().await;
        assert_eq!(hello.serving_version, 1);
        assert_eq!(hello.serving_hash, content_hash(&snap));
        assert_eq!(
            cp.reply().await,
            Kind::Ack(Ack {
                version: 1,
                nonce: "n1".into()
            })
        );

        node.shutdown().await;
        cp.stop();
    })
    .await;
}

/// One HTTP/1.1 request on a raw keep-alive connection; the response head and body,
/// read up to `content-length`.
async fn raw_get(conn: &mut tokio::net::TcpStream, path: &str) -> String {
    let request = format!("GET {path} HTTP/1.1\r\nhost: {API_HOST}\r\n\r\n");
    conn.write_all(request.as_bytes()).await.expect("write");
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let n = conn.read(&mut buf).await.expect("read");
        assert!(n > 0, "connection closed before a whole response: {got:?}");
        got.extend_from_slice(&buf[..n]);
        let text = String::from_utf8_lossy(&got).to_string();
        if let Some((head, body)) = text.split_once("\r\n\r\n") {
            let length = head
                .lines()
                .find_map(|l| {
                    l.to_ascii_lowercase()
                        .strip_prefix("content-length: ")
                        .map(str::to_owned)
                })
                .and_then(|v| v.trim().parse::<usize>().ok())
                .expect("content-length");
            if body.len() >= length {
                return text;
            }
        }
    }
}

/// SIGTERM on a node behind a balancer: `/ready` turns 503 at once while everything
/// that still arrives is served; HTTP/1.1 answers carry `Connection: close` and HTTP/2
/// connections get GOAWAY; after the drain the node stops accepting and exits.
/// (The probe-driven removal this serves is Kubernetes' "Termination of Pods" and an
/// ALB target group's deregistration delay: the target stops getting new requests
/// while in-flight ones complete.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drains_before_it_stops() {
    within_limit(async {
        let upstream = start_upstream().await;
        let mut cp = start_control_plane().await;
        let cache = tempfile::tempdir().expect("tempdir");
        let mut node = start_node_draining(&[&cp.url], cache.path(), 2).await;
        assert_eq!(
            cp.hello().await.address,
            "node-1.internal:8000",
            "the advertised address"
        );
        cp.push_acked(1, "n1", snapshot(upstream, closed_port().await))
            .await;
        assert_eq!(node.ready().await.0, 200);

        // A keep-alive HTTP/1.1 connection and an h2c one, both open before the drain.
        let mut h1 = tokio::net::TcpStream::connect(node.proxy)
            .await
            .expect("connect");
        let first = raw_get(&mut h1, "/dev/notes/1").await;
        assert!(first.starts_with("HTTP/1.1 200"), "{first}");
        assert!(
            !first.to_ascii_lowercase().contains("connection: close"),
            "{first}"
        );
        let h2_stream = tokio::net::TcpStream::connect(node.proxy)
            .await
            .expect("connect");
        let (mut h2, h2_conn) = hyper::client::conn::http2::handshake(
            hyper_util::rt::TokioExecutor::new(),
            TokioIo::new(h2_stream),
        )
        .await
        .expect("h2c handshake");
        let h2_done = tokio::spawn(h2_conn);
        let get = || {
            Request::get(format!("http://{API_HOST}/dev/notes/2"))
                .body(Full::new(Bytes::new()))
                .expect("request")
        };
        assert_eq!(
            h2.send_request(get()).await.expect("h2 request").status(),
            200
        );

        let started = Instant::now();
        node.begin_shutdown();
        let (status, body) = loop {
            let (status, body) = node.ready().await;
            if status == 503 || started.elapsed() > Duration::from_secs(1) {
                break (status, body);
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        };
        assert_eq!((status, body.as_str()), (503, r#"{"message":"Draining"}"#));
        let metrics = plain_client()
            .get(format!("http://{}/metrics", node.health))
            .send()
            .await
            .expect("metrics")
            .text()
            .await
            .expect("metrics body");
        assert!(metrics.contains("portico_node_draining 1"), "{metrics}");

        // Still served while draining; the old HTTP/1.1 connection is told to go and goes.
        let during = raw_get(&mut h1, "/dev/notes/3").await;
        assert!(during.starts_with("HTTP/1.1 200"), "{during}");
        assert!(
            during.to_ascii_lowercase().contains("connection: close"),
            "{during}"
        );
        let mut rest = [0u8; 16];
        assert_eq!(
            h1.read(&mut rest).await.expect("read"),
            0,
            "closed after the answer"
        );
        // The HTTP/2 connection got GOAWAY: it ends once its streams are done.
        tokio::time::timeout(Duration::from_secs(1), h2_done)
            .await
            .expect("the h2 connection ends at the drain's start")
            .expect("join")
            .expect("a clean GOAWAY, not an error");
        // A new connection in the drain is still served.
        let mut late = tokio::net::TcpStream::connect(node.proxy)
            .await
            .expect("still accepting");
        let answer = raw_get(&mut late, "/dev/notes/4").await;
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");

        node.shutdown().await;
        let took = started.elapsed();
        assert!(
            took >= Duration::from_secs(2),
            "the node waited out the drain: {took:?}"
        );
        assert!(
            tokio::net::TcpStream::connect(node.proxy).await.is_err(),
            "not accepting after the drain"
        );
        cp.stop();
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serves_from_the_cache_when_no_control_plane_answers() {
    within_limit(async {
        let upstream = start_upstream().await;
        let mut cp = start_control_plane().await;
        let cache = tempfile::tempdir().expect("tempdir");
        let mut node = start_node(&cp.url, cache.path()).await;
        cp.push_acked(5, "n5", snapshot(upstream, closed_port().await))
            .await;
        node.shutdown().await;
        cp.stop();
        assert!(cache.path().join("snapshot.pb").is_file());

        let nowhere = format!("http://127.0.0.1:{}", closed_port().await);
        let mut node = start_node(&nowhere, cache.path()).await;
        let (status, body) = node.ready().await;
        assert_eq!(status, 200, "the cached snapshot is live right after start");
        assert!(body.starts_with(r#"{"version":5,"#), "{body}");
        let c = client_for(&node, &[API_HOST], false);
        let r = c
            .get(node.url(API_HOST, "/dev/notes/9"))
            .send()
            .await
            .expect("request");
        assert_eq!(r.status(), 200);
        assert_eq!(
            echoed(&r.text().await.expect("body"), "uri"),
            "/backend/notes/9?src=stage"
        );
        drop(c);
        node.shutdown().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn is_not_ready_without_a_snapshot_and_ignores_a_corrupt_cache() {
    within_limit(async {
        let cache = tempfile::tempdir().expect("tempdir");
        std::fs::write(cache.path().join("snapshot.pb"), b"\xff\xff\xffgarbage").expect("write");
        let nowhere = format!("http://127.0.0.1:{}", closed_port().await);
        let mut node = start_node(&nowhere, cache.path()).await;

        let r = plain_client()
            .get(format!("http://{}/health", node.health))
            .send()
            .await
            .expect("health");
        assert_eq!(r.status(), 200);
        assert_eq!(r.text().await.expect("body"), "ok");
        assert_eq!(node.ready().await.0, 503);
        let c = client_for(&node, &[API_HOST], false);
        let r = c
            .get(node.url(API_HOST, "/dev/notes/1"))
            .send()
            .await
            .expect("request");
        assert_eq!(r.status(), 404);
        drop(c);
        node.shutdown().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upstream_failures_and_oversize_bodies_get_aws_answers() {
    within_limit(async {
        let upstream = start_upstream().await;
        let mut cp = start_control_plane().await;
        let cache = tempfile::tempdir().expect("tempdir");
        let mut node = start_node(&cp.url, cache.path()).await;
        cp.push_acked(1, "n1", snapshot(upstream, closed_port().await))
            .await;
        let c = client_for(&node, &[API_HOST], false);

        // The upstream takes 5 s; the integration allows 300 ms.
        let started = Instant::now();
        let r = c
            .get(node.url(API_HOST, "/dev/slow"))
            .send()
            .await
            .expect("request");
        assert_eq!(r.status(), 504);
        // Every response names its request in `apigw-requestid`, the gateway's own errors
        // too, as AWS HTTP APIs answer: it is `$context.requestId`
        // (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-logging-variables.html).
        let timed_out_id = r.headers()["apigw-requestid"].clone();
        assert_eq!(timed_out_id.len(), 16);
        assert!(
            started.elapsed() < Duration::from_secs(3),
            "{:?}",
            started.elapsed()
        );
        assert_eq!(
            r.text().await.expect("body"),
            r#"{"message":"Endpoint request timed out"}"#
        );

        let r = c
            .get(node.url(API_HOST, "/dev/down"))
            .send()
            .await
            .expect("request");
        assert_eq!(r.status(), 502);
        assert_eq!(r.headers()["content-type"], "application/json");
        assert_ne!(r.headers()["apigw-requestid"], timed_out_id);
        assert_eq!(
            r.text().await.expect("body"),
            r#"{"message":"Bad Gateway"}"#
        );

        // Declared too large: refused up front.
        let r = c
            .post(node.url(API_HOST, "/dev/upload"))
            .body(vec![b'x'; MAX_BODY + 1])
            .send()
            .await
            .expect("request");
        assert_eq!(r.status(), 413);
        assert_eq!(
            r.text().await.expect("body"),
            r#"{"message":"Request Entity Too Large"}"#
        );

        // Exactly at the limit: forwarded.
        let r = c
            .post(node.url(API_HOST, "/dev/upload"))
            .body(vec![b'x'; MAX_BODY])
            .send()
            .await
            .expect("request");
        assert_eq!(r.status(), 200);
        assert_eq!(
            echoed(&r.text().await.expect("body"), "body-len"),
            MAX_BODY.to_string()
        );

        // Streamed (chunked, no length) past the limit: cut off and refused.
        assert_eq!(chunked_upload(node.proxy, MAX_BODY + 64 * 1024).await, 413);

        drop(c);
        node.shutdown().await;
        cp.stop();
    })
    .await;
}

/// Sends a chunked body of `total` bytes over a raw connection and returns the status
/// code of the response, which may arrive before the body is fully sent.
async fn chunked_upload(proxy: SocketAddr, total: usize) -> u16 {
    let stream = tokio::net::TcpStream::connect(proxy)
        .await
        .expect("connect");
    let (mut read, mut write) = stream.into_split();
    let writer = tokio::spawn(async move {
        let head = format!(
            "POST /dev/upload HTTP/1.1\r\nhost: {API_HOST}\r\ntransfer-encoding: chunked\r\n\r\n"
        );
        write.write_all(head.as_bytes()).await?;
        let chunk = vec![b'y'; 64 * 1024];
        let mut sent = 0;
        while sent < total {
            write
                .write_all(format!("{:x}\r\n", chunk.len()).as_bytes())
                .await?;
            write.write_all(&chunk).await?;
            write.write_all(b"\r\n").await?;
            sent += chunk.len();
        }
        write.write_all(b"0\r\n\r\n").await?;
        // Handing the write half back keeps it open: hyper treats a half-close as the
        // end of the connection, and a real client would not close it early either.
        Ok::<_, std::io::Error>(write)
    });
    let mut buf = Vec::new();
    let mut scratch = [0u8; 4096];
    while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = read.read(&mut scratch).await.expect("read");
        assert!(
            n > 0,
            "connection closed before a response: {:?}",
            String::from_utf8_lossy(&buf)
        );
        buf.extend_from_slice(&scratch[..n]);
    }
    drop(writer);
    let head = String::from_utf8_lossy(&buf);
    head.split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("bad response: {head}"))
}
