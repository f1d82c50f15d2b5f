//! Hostile clients against a proxy node (#20): request smuggling and malformed heads
//! over raw sockets, the node's size limits, slow clients (slowloris among them), the
//! connection cap, HTTP/2 attacks with a real h2 client and raw frames, and a second
//! node started on an address one already serves. One `portico up` (control plane and
//! its own node) and `portico-proxy` nodes started with short limits; the API routes
//! `ANY /{proxy+}` to an upstream that records every request it gets, so each case can
//! show that nothing smuggled reached it. Every case checks the status, that the
//! connection closed where it must, and that the node still serves afterwards.
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use bytes::Bytes;
use portico_tests::process::{Proc, UpPorts, portico_up};
use portico_tests::raw_http::{self, RecordingUpstream, exchange};
use portico_tests::{admin_token, free_port, http_client, wait_for, wait_for_admin};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const TOKEN: &str = "e2e-hostile-cluster-token-0123456789";
const LIMIT: Duration = Duration::from_secs(30);
/// The test node's timeouts, short so that the suite runs fast.
const HEADER_TIMEOUT: Duration = Duration::from_secs(2);
const BODY_TIMEOUT: Duration = Duration::from_secs(2);
const IDLE_TIMEOUT: Duration = Duration::from_secs(3);
/// A refusal must come at once, well before any of the node's timeouts.
const PROMPTLY: Duration = Duration::from_millis(1500);

/// The control plane, the API and its recording upstream.
struct Gateway {
    _up: Proc,
    _data: tempfile::TempDir,
    caches: tempfile::TempDir,
    grpc: u16,
    host: String,
    upstream: RecordingUpstream,
}

/// A `portico-proxy` process.
struct TestNode {
    proc: Proc,
    addr: SocketAddr,
}

impl Gateway {
    async fn start() -> Gateway {
        let upstream = RecordingUpstream::start().await;
        let data = tempfile::tempdir().expect("data dir");
        let ports = UpPorts::free();
        let up = portico_up(
            data.path(),
            &ports,
            &[("PORTICO_CLUSTER_TOKEN", TOKEN.to_string())],
        );
        wait_for_admin(ports.admin, LIMIT).await;
        let token = admin_token(ports.admin).await;
        let base = format!("http://127.0.0.1:{}", ports.admin);
        let post = |path: String, body: Value| {
            let token = token.clone();
            async move {
                let res = http_client()
                    .post(path.clone())
                    .bearer_auth(token)
                    .json(&body)
                    .send()
                    .await
                    .unwrap_or_else(|e| panic!("POST {path}: {e}"));
                assert_eq!(res.status(), 201, "POST {path}");
                res.json::<Value>().await.expect("JSON")
            }
        };
        let api = post(
            format!("{base}/v2/apis"),
            json!({ "name": "hostile", "protocolType": "HTTP" }),
        )
        .await;
        let api_id = api["apiId"].as_str().expect("apiId").to_string();
        let integration = post(
            format!("{base}/v2/apis/{api_id}/integrations"),
            json!({
                "integrationType": "HTTP_PROXY",
                "integrationMethod": "ANY",
                "integrationUri": format!("http://{}/{{proxy}}", upstream.addr),
                "payloadFormatVersion": "1.0",
            }),
        )
        .await;
        let target = format!(
            "integrations/{}",
            integration["integrationId"].as_str().expect("id")
        );
        post(
            format!("{base}/v2/apis/{api_id}/routes"),
            json!({ "routeKey": "ANY /{proxy+}", "target": target }),
        )
        .await;
        post(
            format!("{base}/v2/apis/{api_id}/stages"),
            json!({ "stageName": "$default", "autoDeploy": true }),
        )
        .await;
        Gateway {
            _up: up,
            _data: data,
            caches: tempfile::tempdir().expect("caches"),
            grpc: ports.grpc,
            host: format!("{api_id}.execute-api.localhost"),
            upstream,
        }
    }

    /// A node's command line on `addr` with `extra` flags (later flags win).
    fn node_args(&self, name: &str, addr: SocketAddr, extra: &[String]) -> Vec<String> {
        let defaults = [
            ("--control-plane", format!("http://127.0.0.1:{}", self.grpc)),
            ("--node-id", name.to_string()),
            (
                "--cache-dir",
                self.caches.path().join(name).display().to_string(),
            ),
            ("--proxy-addr", addr.to_string()),
            ("--proxy-tls-addr", "127.0.0.1:0".to_string()),
            ("--metrics-addr", "127.0.0.1:0".to_string()),
            // Two workers at most: the machines running these tests have two cores.
            ("--proxy-workers", "2".to_string()),
        ];
        let mut args: Vec<String> = defaults
            .into_iter()
            .filter(|(flag, _)| !extra.iter().any(|e| e == flag))
            .flat_map(|(flag, value)| [flag.to_string(), value])
            .collect();
        args.extend(extra.iter().cloned());
        args
    }

    /// Starts a node on a fresh port with `extra` flags.
    fn spawn_node(&self, name: &str, extra: &[String]) -> TestNode {
        let addr: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().expect("addr");
        let args = self.node_args(name, addr, extra);
        let proc = Proc::spawn(
            name,
            "portico-proxy",
            &args,
            &[("PORTICO_CLUSTER_TOKEN", TOKEN.to_string())],
        );
        TestNode { proc, addr }
    }

    /// A node with the suite's short timeouts, serving the API.
    async fn node(&self, name: &str, extra: &[&str]) -> TestNode {
        let secs = |d: Duration| format!("{}", d.as_secs_f64());
        let mut args = vec![
            "--header-read-timeout".to_string(),
            secs(HEADER_TIMEOUT),
            "--body-read-timeout".into(),
            secs(BODY_TIMEOUT),
            "--idle-timeout".into(),
            secs(IDLE_TIMEOUT),
        ];
        args.extend(extra.iter().map(|s| s.to_string()));
        let node = self.spawn_node(name, &args);
        self.wait_serving(&node).await;
        node
    }

    async fn wait_serving(&self, node: &TestNode) {
        wait_for(
            &format!("{} to serve the API", node.proc.name),
            LIMIT,
            || async { (self.get(node, "/ready-check").await? == 200).then_some(()) },
        )
        .await;
    }

    /// A well-behaved request on a fresh connection; its status.
    async fn get(&self, node: &TestNode, path: &str) -> Option<u16> {
        let res = http_client()
            .get(format!("http://{}{path}", node.addr))
            .header("host", &self.host)
            .send()
            .await
            .ok()?;
        Some(res.status().as_u16())
    }

    async fn still_serves(&self, node: &TestNode, after: &str) {
        assert_eq!(
            self.get(node, "/still-serving").await,
            Some(200),
            "the node serves a normal request after {after}"
        );
    }
}

/// How a node must answer a hostile request.
#[derive(Debug, Clone, Copy)]
enum Expect {
    /// This 4xx, one response, and the connection closed at once.
    Refused(u16),
    /// Served as chunked by Transfer-Encoding alone (RFC 9112 §6.1), one response, and
    /// the connection closed after it, so that no byte after the chunked body is read
    /// as a request.
    ChunkedThenClosed,
}

fn smuggled(host: &str, name: &str) -> String {
    format!("GET /smuggled-{name} HTTP/1.1\r\nHost: {host}\r\n\r\n")
}

/// Request smuggling (CL.TE, TE.CL, TE.TE) and malformed heads, after PortSwigger's and
/// RFC 9112 §6.1, §6.3, §7.1's cases. Each embeds a second request that must never reach
/// the upstream.
fn smuggling_cases(host: &str) -> Vec<(&'static str, String, Expect)> {
    use Expect::{ChunkedThenClosed, Refused};
    let s = |name| smuggled(host, name);
    let h = format!("Host: {host}\r\n");
    vec![
        (
            "cl-cl-differing",
            format!(
                "POST /a HTTP/1.1\r\n{h}Content-Length: 5\r\nContent-Length: 6\r\n\r\nhello{}",
                s("cl-cl-differing")
            ),
            Refused(400),
        ),
        (
            "cl-list-differing",
            format!(
                "POST /a HTTP/1.1\r\n{h}Content-Length: 5, 6\r\n\r\nhello{}",
                s("cl-list-differing")
            ),
            Refused(400),
        ),
        (
            "cl-plus-sign",
            format!(
                "POST /a HTTP/1.1\r\n{h}Content-Length: +5\r\n\r\nhello{}",
                s("cl-plus-sign")
            ),
            Refused(400),
        ),
        (
            "cl-negative",
            format!(
                "POST /a HTTP/1.1\r\n{h}Content-Length: -1\r\n\r\n{}",
                s("cl-negative")
            ),
            Refused(400),
        ),
        (
            "cl-overflow",
            format!(
                "POST /a HTTP/1.1\r\n{h}Content-Length: 99999999999999999999999\r\n\r\n{}",
                s("cl-overflow")
            ),
            Refused(400),
        ),
        (
            "cl-hex",
            format!(
                "POST /a HTTP/1.1\r\n{h}Content-Length: 0x5\r\n\r\nhello{}",
                s("cl-hex")
            ),
            Refused(400),
        ),
        // CL.TE: a front end that reads Content-Length would pass the smuggled request
        // on inside the body; this node frames by Transfer-Encoding and closes.
        (
            "cl-te",
            format!(
                "POST /cl-te HTTP/1.1\r\n{h}Content-Length: 60\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n{}",
                s("cl-te")
            ),
            ChunkedThenClosed,
        ),
        // TE.CL: the same with the headers the other way round.
        (
            "te-cl",
            format!(
                "POST /te-cl HTTP/1.1\r\n{h}Transfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n{:x}\r\n{}\r\n0\r\n\r\n",
                s("te-cl").len(),
                s("te-cl")
            ),
            ChunkedThenClosed,
        ),
        (
            "te-chunked-identity",
            format!(
                "POST /a HTTP/1.1\r\n{h}Transfer-Encoding: chunked, identity\r\nContent-Length: 5\r\n\r\nhello{}",
                s("te-chunked-identity")
            ),
            Refused(400),
        ),
        (
            "te-identity-chunked",
            format!(
                "POST /a HTTP/1.1\r\n{h}Transfer-Encoding: identity, chunked\r\n\r\n0\r\n\r\n{}",
                s("te-identity-chunked")
            ),
            Refused(400),
        ),
        (
            "te-gzip-chunked",
            format!(
                "POST /a HTTP/1.1\r\n{h}Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n{}",
                s("te-gzip-chunked")
            ),
            Refused(400),
        ),
        (
            "te-xchunked",
            format!(
                "POST /a HTTP/1.1\r\n{h}Transfer-Encoding: xchunked\r\nContent-Length: 5\r\n\r\nhello{}",
                s("te-xchunked")
            ),
            Refused(400),
        ),
        (
            "te-space-before-colon",
            format!(
                "POST /a HTTP/1.1\r\n{h}Transfer-Encoding : chunked\r\nContent-Length: 5\r\n\r\nhello{}",
                s("te-space-before-colon")
            ),
            Refused(400),
        ),
        (
            "te-two-headers-chunked-first",
            format!(
                "POST /a HTTP/1.1\r\n{h}Transfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\n\r\n0\r\n\r\n{}",
                s("te-two-headers-chunked-first")
            ),
            Refused(400),
        ),
        (
            "te-two-headers-chunked-last",
            format!(
                "POST /a HTTP/1.1\r\n{h}Transfer-Encoding: identity\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n{}",
                s("te-two-headers-chunked-last")
            ),
            Refused(400),
        ),
        (
            "te-vertical-tab",
            format!(
                "POST /a HTTP/1.1\r\n{h}Transfer-Encoding:\x0bchunked\r\nContent-Length: 5\r\n\r\nhello{}",
                s("te-vertical-tab")
            ),
            Refused(400),
        ),
        (
            "te-http10",
            format!(
                "POST /a HTTP/1.0\r\n{h}Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n{}",
                s("te-http10")
            ),
            Refused(400),
        ),
        // Optional whitespace and case are not obfuscation to a parser that follows the
        // grammar: each is plain chunked, and with a Content-Length beside it the
        // connection closes after the answer.
        (
            "te-leading-spaces",
            format!(
                "POST /te-leading-spaces HTTP/1.1\r\n{h}Transfer-Encoding:   chunked\r\nContent-Length: 60\r\n\r\n0\r\n\r\n{}",
                s("te-leading-spaces")
            ),
            ChunkedThenClosed,
        ),
        (
            "te-tab",
            format!(
                "POST /te-tab HTTP/1.1\r\n{h}Transfer-Encoding:\tchunked\r\nContent-Length: 60\r\n\r\n0\r\n\r\n{}",
                s("te-tab")
            ),
            ChunkedThenClosed,
        ),
        (
            "te-mixed-case",
            format!(
                "POST /te-mixed-case HTTP/1.1\r\n{h}TRANSFER-encoding: cHuNkEd\r\nContent-Length: 60\r\n\r\n0\r\n\r\n{}",
                s("te-mixed-case")
            ),
            ChunkedThenClosed,
        ),
        (
            "chunk-size-overflow",
            format!(
                "POST /a HTTP/1.1\r\n{h}Transfer-Encoding: chunked\r\n\r\nfffffffffffffffffffff\r\nhello\r\n0\r\n\r\n{}",
                s("chunk-size-overflow")
            ),
            Refused(400),
        ),
        (
            "chunk-size-invalid",
            format!(
                "POST /a HTTP/1.1\r\n{h}Transfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n{}",
                s("chunk-size-invalid")
            ),
            Refused(400),
        ),
        (
            "chunk-size-bare-lf",
            format!(
                "POST /a HTTP/1.1\r\n{h}Transfer-Encoding: chunked\r\n\r\n5\nhello\r\n0\r\n\r\n{}",
                s("chunk-size-bare-lf")
            ),
            Refused(400),
        ),
        (
            "chunk-data-longer-than-size",
            format!(
                "POST /a HTTP/1.1\r\n{h}Transfer-Encoding: chunked\r\n\r\n2\r\nhello\r\n0\r\n\r\n{}",
                s("chunk-data-longer-than-size")
            ),
            Refused(400),
        ),
        (
            "obs-fold",
            format!(
                "GET /a HTTP/1.1\r\n{h}X-Folded: a\r\n b\r\n\r\n{}",
                s("obs-fold")
            ),
            Refused(400),
        ),
        (
            "obs-fold-te",
            format!(
                "POST /a HTTP/1.1\r\n{h}X-Folded: a\r\n Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\nhello{}",
                s("obs-fold-te")
            ),
            Refused(400),
        ),
        (
            "nul-in-header-value",
            format!(
                "GET /a HTTP/1.1\r\n{h}X-Nul: a\0b\r\n\r\n{}",
                s("nul-in-header-value")
            ),
            Refused(400),
        ),
        (
            "cr-in-header-value",
            format!(
                "GET /a HTTP/1.1\r\n{h}X-Cr: a\rTransfer-Encoding: chunked\r\n\r\n{}",
                s("cr-in-header-value")
            ),
            Refused(400),
        ),
        (
            "space-in-header-name",
            format!(
                "GET /a HTTP/1.1\r\n{h}X Bad: a\r\n\r\n{}",
                s("space-in-header-name")
            ),
            Refused(400),
        ),
        (
            "header-without-colon",
            format!(
                "GET /a HTTP/1.1\r\n{h}X-No-Colon\r\n\r\n{}",
                s("header-without-colon")
            ),
            Refused(400),
        ),
        (
            "request-line-double-space",
            format!(
                "GET  /a HTTP/1.1\r\n{h}\r\n{}",
                s("request-line-double-space")
            ),
            Refused(400),
        ),
        (
            "request-line-no-version",
            format!("GET /a\r\n{h}\r\n{}", s("request-line-no-version")),
            Refused(400),
        ),
        (
            "request-line-unknown-version",
            format!(
                "GET /a HTTP/1.2\r\n{h}\r\n{}",
                s("request-line-unknown-version")
            ),
            Refused(400),
        ),
        (
            "request-line-lowercase-protocol",
            format!(
                "GET /a http/1.1\r\n{h}\r\n{}",
                s("request-line-lowercase-protocol")
            ),
            Refused(400),
        ),
        (
            "request-line-space-in-target",
            format!(
                "GET /a b HTTP/1.1\r\n{h}\r\n{}",
                s("request-line-space-in-target")
            ),
            Refused(400),
        ),
        (
            "request-line-control-char",
            format!(
                "GET /a\x01b HTTP/1.1\r\n{h}\r\n{}",
                s("request-line-control-char")
            ),
            Refused(400),
        ),
        (
            "method-with-separator",
            format!("GE(T /a HTTP/1.1\r\n{h}\r\n{}", s("method-with-separator")),
            Refused(400),
        ),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_clients_against_a_node() {
    raw_http::raise_open_files_limit();
    let gw = Gateway::start().await;
    // Limits small enough to reach cheaply; the defaults are checked by the data
    // plane's own tests.
    let node = gw.node("hostile", &["--max-body-bytes", "1048576"]).await;

    smuggling(&gw, &node).await;
    limits(&gw, &node).await;
    slow_clients(&gw, &node).await;
    http2(&gw, &node).await;
    slowloris(&gw, &node).await;
    connection_cap(&gw).await;
    address_in_use(&gw, &node).await;
    no_huge_pages(&node);
}

/// The node turns transparent huge pages off for its process: its allocator asks for
/// them, and each costs 2 MB for a heap of a few (an idle node held 31.5 MB with them,
/// 15 MB without; BENCHMARKS.md).
fn no_huge_pages(node: &TestNode) {
    let pid = node.proc.pid().expect("the node is running");
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("status");
    // Linux 5.0 and later say whether the process may have huge pages.
    match status.lines().find_map(|l| l.strip_prefix("THP_enabled:")) {
        Some(v) => assert_eq!(v.trim(), "0", "the node's THP_enabled"),
        None => println!("this kernel does not report THP_enabled; not checked"),
    }
}

async fn smuggling(gw: &Gateway, node: &TestNode) {
    let mut outcomes = Vec::new();
    for (name, request, expect) in smuggling_cases(&gw.host) {
        let before = gw.upstream.complete();
        let got = exchange(node.addr, request.as_bytes(), Duration::from_secs(4)).await;
        outcomes.push(format!("{name}: {:?}", got.status));
        let fast = got.closed_after.is_some_and(|t| t < PROMPTLY);
        match expect {
            Expect::Refused(status) => {
                assert_eq!(got.status, Some(status), "{name}: {}", got.response);
                assert!(fast, "{name}: the connection closes at once: {got:?}");
                assert_eq!(got.responses(), 1, "{name}: one answer: {}", got.response);
            }
            Expect::ChunkedThenClosed => {
                assert_eq!(got.status, Some(200), "{name}: {}", got.response);
                assert!(
                    fast,
                    "{name}: the connection closes after the answer: {got:?}"
                );
                assert_eq!(got.responses(), 1, "{name}: one answer: {}", got.response);
                let seen = gw.upstream.seen();
                let forwarded = seen
                    .iter()
                    .find(|s| s.path == format!("/{name}"))
                    .unwrap_or_else(|| panic!("{name}: the outer request was forwarded"));
                // The upstream gets the body as the chunks framed it, never the
                // client's Content-Length.
                let length = forwarded
                    .headers
                    .iter()
                    .find(|(k, _)| k == "content-length")
                    .map(|(_, v)| v.as_str());
                assert!(
                    length.is_none_or(|l| l == forwarded.body.len().to_string()),
                    "{name}: {forwarded:?}"
                );
            }
        }
        let smuggled = format!("/smuggled-{name}");
        assert!(
            !gw.upstream.saw_path(&smuggled),
            "{name}: the smuggled request reached the upstream"
        );
        if let Expect::Refused(_) = expect {
            // A malformed chunk is found after the head has gone upstream (bodies
            // stream): that request is aborted there, never completed.
            assert_eq!(
                gw.upstream.complete(),
                before,
                "{name}: a refused request forwards nothing whole"
            );
        }
        gw.still_serves(node, name).await;
    }
    println!("smuggling cases: {}", outcomes.join(", "));

    // A bare LF ends a line as CRLF does (RFC 9112 §2.2 lets a recipient accept it), and
    // the node sends the upstream its own CRLF head: both sides see one request.
    let bare_lf = format!(
        "GET /bare-lf HTTP/1.1\nHost: {}\nConnection: close\n\n",
        gw.host
    );
    let got = exchange(node.addr, bare_lf.as_bytes(), Duration::from_secs(4)).await;
    assert_eq!(got.status, Some(200), "{}", got.response);
    assert_eq!(
        gw.upstream
            .seen()
            .iter()
            .filter(|s| s.path == "/bare-lf")
            .count(),
        1
    );
    // Two equal Content-Length fields are one length (RFC 9110 §8.6): the bytes after the
    // body are the next request of the connection, in order, as the client framed them.
    let twice = format!(
        "POST /cl-twice HTTP/1.1\r\nHost: {h}\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\nhelloGET /after-cl-twice HTTP/1.1\r\nHost: {h}\r\nConnection: close\r\n\r\n",
        h = gw.host
    );
    let got = exchange(node.addr, twice.as_bytes(), Duration::from_secs(4)).await;
    assert_eq!(got.responses(), 2, "{}", got.response);
    let seen = gw.upstream.seen();
    let first = seen.iter().find(|s| s.path == "/cl-twice").expect("first");
    assert_eq!(first.body, b"hello");
    assert!(seen.iter().any(|s| s.path == "/after-cl-twice"));
    gw.still_serves(node, "the lenient cases").await;
}

async fn limits(gw: &Gateway, node: &TestNode) {
    let h = &gw.host;
    // "Quotas for configuring and running an HTTP API in API Gateway": AWS counts the
    // request line and headers together; the node's --max-header-bytes (64 KiB) and
    // --max-headers (100) answer 431 (hyper's own answer, with no body).
    let big = "a".repeat(70 * 1024);
    // A body still on its way when the node refuses is read off and dropped for a
    // bounded time (lingering close, as nginx does), so the client reads the answer
    // before the connection closes; here the idle timeout ends that.
    let lingering = IDLE_TIMEOUT + Duration::from_secs(2);
    let cases: Vec<(&str, String, u16, &str, Duration)> = vec![
        (
            "head over 64 KiB",
            format!("GET /big HTTP/1.1\r\nHost: {h}\r\nX-Big: {big}\r\n\r\n"),
            431,
            "",
            PROMPTLY,
        ),
        (
            "101 headers",
            format!(
                "GET /many HTTP/1.1\r\nHost: {h}\r\n{}\r\n",
                (0..101)
                    .map(|i| format!("X-H{i}: v\r\n"))
                    .collect::<String>()
            ),
            431,
            "",
            PROMPTLY,
        ),
        (
            "URI over 8 KiB",
            format!(
                "GET /{} HTTP/1.1\r\nHost: {h}\r\n\r\n",
                "u".repeat(9 * 1024)
            ),
            414,
            r#"{"message":"URI Too Long"}"#,
            PROMPTLY,
        ),
        // --max-body-bytes 1 MiB on this node: refused from the declared length, before
        // a byte of the body is read (AWS's payload quota is 10 MB, the default).
        (
            "declared body over the node's limit",
            format!("POST /large HTTP/1.1\r\nHost: {h}\r\nContent-Length: 1048577\r\n\r\nxxxx"),
            413,
            r#"{"message":"Request Entity Too Large"}"#,
            lingering,
        ),
    ];
    for (name, request, status, body, closes_within) in cases {
        let got = exchange(node.addr, request.as_bytes(), lingering).await;
        assert_eq!(got.status, Some(status), "{name}: {}", got.response);
        assert!(
            got.closed_after.is_some_and(|t| t < closes_within),
            "{name}: closed within {closes_within:?}: {got:?}"
        );
        if !body.is_empty() {
            assert_eq!(got.body(), body, "{name}");
        }
        gw.still_serves(node, name).await;
    }
    assert!(!gw.upstream.saw_path("/big") && !gw.upstream.saw_path("/many"));
    assert!(!gw.upstream.saw_path("/uuuu") && !gw.upstream.saw_path("/large"));

    // 90 headers are within the limit (the upstream, hyper too, takes 100 with those the
    // node adds), and a 60 KiB head.
    let fine = format!(
        "GET /hundred HTTP/1.1\r\nHost: {h}\r\nConnection: close\r\n{}X-Big: {}\r\n\r\n",
        (0..87)
            .map(|i| format!("X-H{i}: v\r\n"))
            .collect::<String>(),
        "a".repeat(60 * 1024)
    );
    let got = exchange(node.addr, fine.as_bytes(), Duration::from_secs(4)).await;
    assert_eq!(got.status, Some(200), "{}", got.response);

    // A chunked body has no declared length: past the node's --max-body-bytes (1 MiB
    // here, under AWS's 10 MB) it is refused with 413 as it streams.
    let mut stream = TcpStream::connect(node.addr).await.expect("connect");
    stream
        .write_all(
            format!("POST /streamed HTTP/1.1\r\nHost: {h}\r\nTransfer-Encoding: chunked\r\n\r\n")
                .as_bytes(),
        )
        .await
        .expect("head");
    let chunk = format!("{:x}\r\n{}\r\n", 64 * 1024, "c".repeat(64 * 1024));
    for _ in 0..(2 * 1024 / 64) {
        if stream.write_all(chunk.as_bytes()).await.is_err() {
            break;
        }
    }
    let _ = stream.write_all(b"0\r\n\r\n").await;
    let got = raw_http::read_until_closed(&mut stream, Duration::from_secs(4)).await;
    assert_eq!(got.status, Some(413), "{}", got.response);
    gw.still_serves(node, "a 2 MiB chunked body").await;
}

async fn slow_clients(gw: &Gateway, node: &TestNode) {
    let h = &gw.host;
    // A head that never ends: dropped at the header-read timeout, with no answer.
    let mut stream = TcpStream::connect(node.addr).await.expect("connect");
    stream
        .write_all(format!("GET /slow-head HTTP/1.1\r\nHost: {h}\r\n").as_bytes())
        .await
        .expect("partial head");
    let got = raw_http::read_until_closed(&mut stream, HEADER_TIMEOUT * 3).await;
    let after = got
        .closed_after
        .expect("the node closes a head that never ends");
    assert!(
        after >= HEADER_TIMEOUT - Duration::from_millis(200)
            && after < HEADER_TIMEOUT + Duration::from_secs(2),
        "closed after {after:?}"
    );
    assert!(!gw.upstream.saw_path("/slow-head"));

    // A body that stalls: 408 once nothing of it came for the body-read timeout, and the
    // connection closed.
    let mut stream = TcpStream::connect(node.addr).await.expect("connect");
    stream
        .write_all(
            format!(
                "POST /slow-body HTTP/1.1\r\nHost: {h}\r\nContent-Length: 100\r\n\r\n0123456789"
            )
            .as_bytes(),
        )
        .await
        .expect("head and some body");
    let got = raw_http::read_until_closed(&mut stream, BODY_TIMEOUT * 3).await;
    assert_eq!(got.status, Some(408), "{}", got.response);
    assert_eq!(got.body(), r#"{"message":"Request Timeout"}"#);
    let after = got.closed_after.expect("the node closes a stalled body");
    assert!(
        after >= BODY_TIMEOUT - Duration::from_millis(200)
            && after < BODY_TIMEOUT + Duration::from_secs(2),
        "closed after {after:?}"
    );
    // A body that trickles a byte at a time faster than the timeout is read to its end.
    let mut stream = TcpStream::connect(node.addr).await.expect("connect");
    stream
        .write_all(
            format!("POST /trickle HTTP/1.1\r\nHost: {h}\r\nContent-Length: 4\r\nConnection: close\r\n\r\n")
                .as_bytes(),
        )
        .await
        .expect("head");
    for byte in b"abcd" {
        tokio::time::sleep(BODY_TIMEOUT / 2).await;
        stream.write_all(&[*byte]).await.expect("a byte");
    }
    let got = raw_http::read_until_closed(&mut stream, Duration::from_secs(4)).await;
    assert_eq!(got.status, Some(200), "{}", got.response);
    let trickled = gw.upstream.seen();
    let trickled = trickled
        .iter()
        .find(|s| s.path == "/trickle")
        .expect("forwarded");
    assert_eq!(trickled.body, b"abcd");

    // An HTTP/1.1 connection idle after an answer: hyper's header-read clock runs from the
    // end of the answer, so it closes at that timeout.
    let mut stream = TcpStream::connect(node.addr).await.expect("connect");
    stream
        .write_all(format!("GET /then-idle HTTP/1.1\r\nHost: {h}\r\n\r\n").as_bytes())
        .await
        .expect("request");
    let got = raw_http::read_until_closed(&mut stream, HEADER_TIMEOUT * 3).await;
    assert_eq!(got.status, Some(200));
    let after = got
        .closed_after
        .expect("an idle keep-alive connection is closed");
    assert!(after < HEADER_TIMEOUT + Duration::from_secs(2), "{after:?}");
    gw.still_serves(node, "slow clients").await;
}

/// 1,000 connections each sending a head a line a second, slower than it could
/// ever finish, while one good client sends requests back to back: every slow one is
/// dropped within the header-read timeout, and the good client's rate is printed with
/// and without them.
async fn slowloris(gw: &Gateway, node: &TestNode) {
    const SLOW: usize = 1000;
    let measure = |window: Duration| async move {
        let client = http_client();
        let started = Instant::now();
        let mut answered = 0u32;
        while started.elapsed() < window {
            let res = client
                .get(format!("http://{}/good", node.addr))
                .header("host", &gw.host)
                .send()
                .await
                .expect("the good client is served");
            assert_eq!(res.status(), 200);
            let _ = res.bytes().await;
            answered += 1;
        }
        answered as f64 / started.elapsed().as_secs_f64()
    };
    let quiet = measure(Duration::from_secs(3)).await;

    let started = Instant::now();
    let mut slow = tokio::task::JoinSet::new();
    for i in 0..SLOW {
        let addr = node.addr;
        let host = gw.host.clone();
        slow.spawn(async move {
            let Ok(mut stream) = TcpStream::connect(addr).await else {
                return None;
            };
            let head = format!("GET /slowloris-{i} HTTP/1.1\r\nHost: {host}\r\n");
            stream.write_all(head.as_bytes()).await.ok()?;
            // A header line a second, never the blank line that ends the head;
            // bounded by count.
            let mut buf = [0u8; 512];
            for n in 0..60u32 {
                let wrote = stream.write_all(format!("X-{n}: a\r\n").as_bytes()).await;
                if wrote.is_err() {
                    return Some(Instant::now());
                }
                if let Ok(read) =
                    tokio::time::timeout(Duration::from_millis(1000), stream.read(&mut buf)).await
                {
                    match read {
                        Ok(0) | Err(_) => return Some(Instant::now()),
                        Ok(_) => {}
                    }
                }
            }
            None
        });
    }
    // Give the slow connections a moment to be open before measuring beside them.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let loaded = measure(Duration::from_secs(3)).await;
    let mut dropped = 0;
    let mut latest = Duration::ZERO;
    while let Some(done) = slow.join_next().await {
        if let Some(at) = done.expect("slow client") {
            dropped += 1;
            latest = latest.max(at - started);
        }
    }
    println!(
        "slowloris: {SLOW} slow connections, {dropped} dropped, the last {:.2} s after they began \
         (header-read timeout {:?}); good client {quiet:.0} req/s alone, {loaded:.0} req/s beside \
         them ({:.0}%)",
        latest.as_secs_f64(),
        HEADER_TIMEOUT,
        100.0 * loaded / quiet
    );
    assert_eq!(dropped, SLOW, "every slow connection is dropped");
    assert!(
        latest < HEADER_TIMEOUT + Duration::from_secs(3),
        "dropped within the header-read timeout (and the time to open them): {latest:?}"
    );
    // Loose: on these shared machines the ratio swung from 57% to 111% between runs,
    // so only a collapse (a node that stalls under the slow connections) fails here.
    assert!(
        loaded > quiet * 0.25,
        "the good client keeps most of its rate: {quiet:.0} → {loaded:.0} req/s"
    );
    assert!(!gw.upstream.saw_path("/slowloris-"));
    gw.still_serves(node, "slowloris").await;
}

/// Over `--max-connections` the node accepts no more: a new connection waits (in the
/// kernel's backlog) and is served as soon as one of the open ones closes.
async fn connection_cap(gw: &Gateway) {
    const CAP: usize = 20;
    let node = gw
        .node("capped", &["--max-connections", &CAP.to_string()])
        .await;
    let mut held = Vec::new();
    for _ in 0..CAP {
        let mut stream = TcpStream::connect(node.addr).await.expect("connect");
        // A whole request and no read of the answer: the connection stays open.
        stream
            .write_all(format!("GET /held HTTP/1.1\r\nHost: {}\r\n\r\n", gw.host).as_bytes())
            .await
            .expect("request");
        held.push(stream);
    }
    // Each held connection is answered, so all are accepted.
    for stream in &mut held {
        let mut buf = [0u8; 12];
        tokio::time::timeout(Duration::from_secs(5), stream.read_exact(&mut buf))
            .await
            .expect("a held connection is answered")
            .expect("read");
        assert_eq!(&buf, b"HTTP/1.1 200");
    }
    let mut waiting = TcpStream::connect(node.addr)
        .await
        .expect("the kernel still completes the handshake");
    waiting
        .write_all(
            format!(
                "GET /over-the-cap HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
                gw.host
            )
            .as_bytes(),
        )
        .await
        .expect("request");
    let mut first = [0u8; 12];
    let early = tokio::time::timeout(Duration::from_secs(1), waiting.read_exact(&mut first)).await;
    assert!(early.is_err(), "over the cap, nothing is answered yet");
    assert!(!gw.upstream.saw_path("/over-the-cap"));
    let released = Instant::now();
    drop(held.pop());
    tokio::time::timeout(Duration::from_secs(5), waiting.read_exact(&mut first))
        .await
        .expect("served once a connection closes")
        .expect("read");
    assert_eq!(&first, b"HTTP/1.1 200");
    println!(
        "connection cap {CAP}: the connection over it was served {:.0} ms after one closed",
        released.elapsed().as_secs_f64() * 1000.0
    );
    drop(held);
    gw.wait_serving(&node).await;
}

/// A second node on the proxy (or TLS, or metrics) address of a running one fails at
/// start with "address in use", and the first keeps serving.
async fn address_in_use(gw: &Gateway, node: &TestNode) {
    let taken = node.addr.port();
    let other = free_port();
    for (what, args) in [
        ("proxy", vec![]),
        (
            "TLS",
            vec!["--proxy-tls-addr".to_string(), node.addr.to_string()],
        ),
        (
            "metrics",
            vec!["--metrics-addr".to_string(), node.addr.to_string()],
        ),
    ] {
        let proxy = if what == "proxy" { taken } else { other };
        let addr: SocketAddr = format!("127.0.0.1:{proxy}").parse().expect("addr");
        let name = format!("second-{what}");
        let args = gw.node_args(&name, addr, &args);
        let out = tokio::time::timeout(
            LIMIT,
            tokio::process::Command::new(portico_tests::process::bin("portico-proxy"))
                .args(&args)
                .env("PORTICO_CLUSTER_TOKEN", TOKEN)
                .env("RUST_LOG", "warn")
                .stdin(std::process::Stdio::null())
                .kill_on_drop(true)
                .output(),
        )
        .await
        .unwrap_or_else(|_| panic!("{what}: the second node exits at start"))
        .expect("run portico-proxy");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            !out.status.success(),
            "{what}: the second node exits non-zero"
        );
        assert!(
            stderr.to_lowercase().contains("address in use"),
            "{what}: {stderr}"
        );
        gw.still_serves(node, &format!("a second node tried its {what} address"))
            .await;
    }
}

async fn http2(gw: &Gateway, node: &TestNode) {
    h2_concurrent_streams(gw, node).await;
    h2_rapid_reset(gw, node).await;
    h2_continuation_flood(gw, node).await;
    h2_header_list_size(gw, node).await;
    h2_idle(gw, node).await;
}

async fn h2_connect(
    node: &TestNode,
) -> (
    h2::client::SendRequest<Bytes>,
    tokio::task::JoinHandle<Result<(), h2::Error>>,
) {
    let tcp = TcpStream::connect(node.addr).await.expect("connect");
    let (client, connection) = h2::client::handshake(tcp).await.expect("h2 handshake");
    let driving = tokio::spawn(connection);
    (client, driving)
}

fn h2_request(gw: &Gateway, path: &str) -> http::Request<()> {
    http::Request::builder()
        .method("GET")
        .uri(format!("http://{}{path}", gw.host))
        .body(())
        .expect("request")
}

/// The SETTINGS a node sends first on an HTTP/2 connection, as (identifier, value).
async fn server_settings(node: &TestNode) -> Vec<(u16, u32)> {
    let mut stream = TcpStream::connect(node.addr).await.expect("connect");
    let mut opening = PREFACE.to_vec();
    opening.extend(frame(SETTINGS, 0, 0, &[]));
    stream.write_all(&opening).await.expect("preface");
    let mut head = [0u8; 9];
    tokio::time::timeout(Duration::from_secs(5), stream.read_exact(&mut head))
        .await
        .expect("the node's first frame")
        .expect("read");
    assert_eq!(head[3], SETTINGS, "the node's first frame is SETTINGS");
    let len = u32::from_be_bytes([0, head[0], head[1], head[2]]) as usize;
    let mut payload = vec![0u8; len];
    stream.read_exact(&mut payload).await.expect("settings");
    payload
        .chunks_exact(6)
        .map(|e| {
            (
                u16::from_be_bytes([e[0], e[1]]),
                u32::from_be_bytes([e[2], e[3], e[4], e[5]]),
            )
        })
        .collect()
}

/// The node's SETTINGS say 128 streams at once and a 64 KiB header list, and 300
/// requests on one connection are all answered, at most 128 at a time.
async fn h2_concurrent_streams(gw: &Gateway, node: &TestNode) {
    let settings = server_settings(node).await;
    // SETTINGS_MAX_CONCURRENT_STREAMS, SETTINGS_MAX_HEADER_LIST_SIZE (RFC 9113 §6.5.2).
    assert!(settings.contains(&(0x3, 128)), "{settings:?}");
    assert!(settings.contains(&(0x6, 65536)), "{settings:?}");
    let (client, driving) = h2_connect(node).await;
    let mut client = client.ready().await.expect("ready");
    // One answer first: the node's SETTINGS come before it, so the client knows the
    // limit before it opens the rest (until then h2 assumes none).
    let (first, _) = client
        .send_request(h2_request(gw, "/h2-first"), true)
        .expect("send");
    assert_eq!(first.await.expect("answer").status(), 200);
    let mut answers = tokio::task::JoinSet::new();
    for i in 0..300 {
        client = client.ready().await.expect("ready for a stream");
        let (response, _) = client
            .send_request(h2_request(gw, &format!("/h2-{i}")), true)
            .expect("send");
        answers.spawn(async move { response.await.map(|r| r.status().as_u16()) });
    }
    let mut ok = 0;
    while let Some(status) = answers.join_next().await {
        assert_eq!(status.expect("task").expect("h2 answer"), 200);
        ok += 1;
    }
    assert_eq!(ok, 300);
    drop(client);
    let _ = tokio::time::timeout(Duration::from_secs(5), driving).await;
}

/// CVE-2023-44487: requests opened and reset at once, thousands of them. The node
/// sends GOAWAY (ENHANCE_YOUR_CALM) once the pending resets pass the limit, and a new
/// connection is served.
async fn h2_rapid_reset(gw: &Gateway, node: &TestNode) {
    let (client, driving) = h2_connect(node).await;
    let mut client = client.ready().await.expect("ready");
    let started = Instant::now();
    let mut sent = 0;
    for i in 0..10_000 {
        match client.ready().await {
            Ok(ready) => client = ready,
            Err(_) => break,
        }
        match client.send_request(h2_request(gw, &format!("/reset-{i}")), false) {
            Ok((_, mut stream)) => {
                stream.send_reset(h2::Reason::CANCEL);
                sent += 1;
            }
            Err(_) => break,
        }
        if driving.is_finished() {
            break;
        }
    }
    let ended = tokio::time::timeout(Duration::from_secs(5), driving)
        .await
        .expect("the node ends a rapid-reset connection")
        .expect("task");
    let error = ended.expect_err("the connection ends in an error (GOAWAY)");
    println!(
        "rapid reset: connection ended after {sent} reset streams in {:.0} ms: {error}",
        started.elapsed().as_secs_f64() * 1000.0
    );
    assert!(sent < 10_000, "the node stopped the flood before its end");
    // The GOAWAY, or the close right after it when the client was still writing.
    assert!(
        error.reason() == Some(h2::Reason::ENHANCE_YOUR_CALM) || error.is_io(),
        "{error:?}"
    );
    // A new connection is served.
    let (client, _driving) = h2_connect(node).await;
    let mut client = client.ready().await.expect("ready");
    let (response, _) = client
        .send_request(h2_request(gw, "/after-reset"), true)
        .expect("send");
    assert_eq!(response.await.expect("answer").status(), 200);
}

/// HTTP/2 frame header: length, type, flags, stream.
fn frame(kind: u8, flags: u8, stream: u32, payload: &[u8]) -> Vec<u8> {
    let len = payload.len() as u32;
    let mut out = Vec::with_capacity(9 + payload.len());
    out.extend_from_slice(&len.to_be_bytes()[1..]);
    out.push(kind);
    out.push(flags);
    out.extend_from_slice(&(stream & 0x7fff_ffff).to_be_bytes());
    out.extend_from_slice(payload);
    out
}

const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
const HEADERS: u8 = 0x1;
const SETTINGS: u8 = 0x4;
const GOAWAY: u8 = 0x7;
const CONTINUATION: u8 = 0x9;

/// Reads frames until GOAWAY (its error code), EOF (`None`) or `wait`.
async fn until_goaway(stream: &mut TcpStream, wait: Duration) -> Option<u32> {
    let deadline = tokio::time::Instant::now() + wait;
    let mut buf = Vec::new();
    let mut chunk = [0u8; 16 * 1024];
    for _ in 0..100_000 {
        // Whole frames in the buffer first.
        while buf.len() >= 9 {
            let len = u32::from_be_bytes([0, buf[0], buf[1], buf[2]]) as usize;
            if buf.len() < 9 + len {
                break;
            }
            if buf[3] == GOAWAY && len >= 8 {
                let code = &buf[9 + 4..9 + 8];
                return Some(u32::from_be_bytes([code[0], code[1], code[2], code[3]]));
            }
            buf.drain(..9 + len);
        }
        match tokio::time::timeout_at(deadline, stream.read(&mut chunk)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return None,
            Ok(Ok(n)) => buf.extend_from_slice(&chunk[..n]),
            Err(_) => panic!("no GOAWAY and no close within {wait:?}"),
        }
    }
    None
}

/// HEADERS without END_HEADERS, then CONTINUATION frames without end: h2 (0.4.4 and
/// later) allows a few beyond what the header-list size needs, then GOAWAY.
async fn h2_continuation_flood(gw: &Gateway, node: &TestNode) {
    let mut stream = TcpStream::connect(node.addr).await.expect("connect");
    let mut opening = PREFACE.to_vec();
    opening.extend(frame(SETTINGS, 0, 0, &[]));
    // :method GET, :scheme http, :path / from the static table; END_STREAM, no
    // END_HEADERS.
    opening.extend(frame(HEADERS, 0x1, 1, &[0x82, 0x86, 0x84]));
    stream.write_all(&opening).await.expect("opening");
    let started = Instant::now();
    // Each CONTINUATION carries a literal header (never indexed) of 1 KiB.
    let mut block = vec![0x10, 0x01, b'x', 0x7f, 0x81, 0x07];
    block.extend(std::iter::repeat_n(b'a', 1024));
    let flood = frame(CONTINUATION, 0, 1, &block);
    let mut written = 0;
    for _ in 0..10_000 {
        if stream.write_all(&flood).await.is_err() {
            break;
        }
        written += 1;
        if written % 100 == 0 && started.elapsed() > Duration::from_secs(5) {
            break;
        }
    }
    let code = until_goaway(&mut stream, Duration::from_secs(5)).await;
    println!(
        "CONTINUATION flood: {written} frames written, GOAWAY {code:?} within {:.0} ms",
        started.elapsed().as_secs_f64() * 1000.0
    );
    // ENHANCE_YOUR_CALM (0xb) for too many frames, COMPRESSION_ERROR (0x9) for a block
    // past the size h2 will still decode.
    assert!(
        matches!(code, Some(0xb) | Some(0x9) | None),
        "GOAWAY with {code:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(10));
    assert!(!gw.upstream.saw_path("/x"));
    gw.still_serves(node, "a CONTINUATION flood").await;
}

/// A header list over the node's 64 KiB: h2 answers the stream 431 and the connection
/// lives on.
async fn h2_header_list_size(gw: &Gateway, node: &TestNode) {
    let (client, _driving) = h2_connect(node).await;
    let mut client = client.ready().await.expect("ready");
    let mut big = h2_request(gw, "/h2-big-header");
    big.headers_mut().insert(
        "x-big",
        http::HeaderValue::from_str(&"b".repeat(70 * 1024)).expect("value"),
    );
    let status = match client.send_request(big, true) {
        Ok((response, _)) => match response.await {
            Ok(r) => Some(r.status().as_u16()),
            Err(e) => {
                println!("h2 header list over the limit: stream error {e}");
                None
            }
        },
        Err(e) => {
            println!("h2 header list over the limit: refused by the client: {e}");
            None
        }
    };
    if let Some(status) = status {
        assert_eq!(status, 431);
    }
    assert!(!gw.upstream.saw_path("/h2-big-header"));
    let mut client = client.ready().await.expect("the connection lives on");
    let (response, _) = client
        .send_request(h2_request(gw, "/h2-after-big"), true)
        .expect("send");
    assert_eq!(response.await.expect("answer").status(), 200);
}

/// An HTTP/2 connection that carries nothing for the idle timeout is closed.
async fn h2_idle(gw: &Gateway, node: &TestNode) {
    let (client, driving) = h2_connect(node).await;
    let mut client = client.ready().await.expect("ready");
    let (response, _) = client
        .send_request(h2_request(gw, "/h2-then-idle"), true)
        .expect("send");
    assert_eq!(response.await.expect("answer").status(), 200);
    let idle_from = Instant::now();
    let ended = tokio::time::timeout(IDLE_TIMEOUT * 3, driving).await;
    let after = idle_from.elapsed();
    assert!(ended.is_ok(), "an idle HTTP/2 connection is closed");
    assert!(
        after >= IDLE_TIMEOUT - Duration::from_millis(200)
            && after < IDLE_TIMEOUT * 2 + Duration::from_secs(1),
        "closed after {after:?}"
    );
    drop(client);
    gw.still_serves(node, "an idle HTTP/2 connection").await;
}
