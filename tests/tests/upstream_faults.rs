//! An upstream that misbehaves (#20): `portico up` proxies one HTTP API to a raw TCP
//! server (`portico_tests::faulty_upstream`) that answers slowly, hangs, resets, closes
//! without a word, sends heads too large to hold, malformed heads and bodies, framing
//! that would desync a pool, and bodies past AWS's 10 MB. Each case checks what the
//! client gets (status and body, or a body broken off after its head: the head had gone
//! before the upstream failed), that it came within a bound, and then that the next
//! requests to a good path on the same upstream get their own answers on a reused
//! connection: nothing the bad upstream sent is read as another request's response.
//!
//! What AWS documents, and the node's error table (`data-plane/src/proxy/error.rs`):
//! - no response within the integration's `timeoutInMillis` is 504 `{"message":"Endpoint
//!   request timed out"}`
//!   (https://repost.aws/knowledge-center/api-gateway-504-errors);
//! - a backend payload over 10 MB is a 500 `{"message":"Internal Server Error"}`
//!   (https://repost.aws/knowledge-center/api-gateway-5xx-error; the 10 MB payload quota
//!   is https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-quotas.html);
//! - for an HTTP integration that fails on the wire AWS documents no answer ("Troubleshooting
//!   issues with HTTP APIs", https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-troubleshooting.html,
//!   covers Lambda and JWT only); the node answers what a reverse proxy does, 502
//!   `{"message":"Bad Gateway"}`, as its README says.
use std::time::{Duration, Instant};

use portico_tests::faulty_upstream::{BIG_BODY, FaultyUpstream, SMUGGLED};
use portico_tests::process::{UpPorts, portico_up};
use portico_tests::{admin_token, http_client, wait_for, wait_for_admin};
use serde_json::{Value, json};

const LIMIT: Duration = Duration::from_secs(30);
/// The integration's `timeoutInMillis`.
const TIMEOUT: Duration = Duration::from_millis(1000);
/// Longest any case may take that is not waiting out the timeout: a case past it hung.
const PROMPT: Duration = Duration::from_secs(3);

const TIMED_OUT: (u16, &str) = (504, r#"{"message":"Endpoint request timed out"}"#);
const FAILED: (u16, &str) = (502, r#"{"message":"Bad Gateway"}"#);
const TOO_LARGE: (u16, &str) = (500, r#"{"message":"Internal Server Error"}"#);

/// What the client must get for one misbehaviour.
#[derive(Debug, Clone, Copy)]
enum Expect {
    /// The whole answer: this status and exactly this body.
    Answer(u16, &'static str),
    /// The upstream's good answer to this very request.
    Good,
    /// `200` and a body of this many bytes.
    Length(usize),
    /// The upstream failed after its head: the client gets that `200` head and a body
    /// that breaks off, or no answer at all on a closed connection; never a body that
    /// looks complete.
    BrokenBody,
}

struct Gateway {
    proxy: u16,
    host: String,
    client: reqwest::Client,
}

impl Gateway {
    fn get(&self, path: &str) -> reqwest::RequestBuilder {
        self.client
            .get(format!("http://127.0.0.1:{}/dev{path}", self.proxy))
            .header("host", &self.host)
    }

    /// One good request: its answer must be its own (the target it sent), and names the
    /// upstream connection that carried it.
    async fn good(&self, nonce: u64) -> u64 {
        let target = format!("/good?n={nonce}");
        let res = self.get(&target).send().await.expect("a good request");
        assert_eq!(res.status(), 200, "{target}");
        let text = res.text().await.expect("the good body");
        assert!(!text.contains(SMUGGLED), "{target} got a smuggled response");
        let body: Value = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("{target} got {text:?}, not the upstream's JSON: {e}"));
        assert_eq!(
            body["target"],
            target.as_str(),
            "{target} got another answer"
        );
        body["conn"].as_u64().expect("conn")
    }
}

async fn admin_post(base: &str, token: &str, path: &str, body: Value) -> Value {
    let res = http_client()
        .post(format!("{base}{path}"))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap_or_else(|e| panic!("POST {path}: {e}"));
    let status = res.status();
    let body: Value = res.json().await.unwrap_or(Value::Null);
    assert_eq!(status, 201, "POST {path}: {body}");
    body
}

/// `portico up` serving one API whose `GET /{proxy+}` goes to a fresh faulty upstream
/// (stage `dev`, auto-deployed), once the node serves it.
struct Fixture {
    gw: Gateway,
    upstream: FaultyUpstream,
    up: portico_tests::process::Proc,
    _data: tempfile::TempDir,
}

async fn start() -> Fixture {
    let upstream = FaultyUpstream::start().await;
    let data = tempfile::tempdir().expect("data dir");
    let ports = UpPorts::free();
    let up = portico_up(data.path(), &ports, &[]);
    wait_for_admin(ports.admin, LIMIT).await;
    let token = admin_token(ports.admin).await;
    let base = format!("http://127.0.0.1:{}", ports.admin);

    let api = admin_post(
        &base,
        &token,
        "/v2/apis",
        json!({ "name": "faults", "protocolType": "HTTP" }),
    )
    .await;
    let api_id = api["apiId"].as_str().expect("apiId").to_string();
    let integration = admin_post(
        &base,
        &token,
        &format!("/v2/apis/{api_id}/integrations"),
        json!({
            "integrationType": "HTTP_PROXY",
            "integrationMethod": "GET",
            "integrationUri": format!("http://{}/{{proxy}}", upstream.addr),
            "payloadFormatVersion": "1.0",
            "timeoutInMillis": TIMEOUT.as_millis() as u64,
        }),
    )
    .await;
    let target = format!(
        "integrations/{}",
        integration["integrationId"].as_str().expect("id")
    );
    admin_post(
        &base,
        &token,
        &format!("/v2/apis/{api_id}/routes"),
        json!({ "routeKey": "GET /{proxy+}", "target": target }),
    )
    .await;
    admin_post(
        &base,
        &token,
        &format!("/v2/apis/{api_id}/stages"),
        json!({ "stageName": "dev", "autoDeploy": true }),
    )
    .await;

    let gw = Gateway {
        proxy: ports.proxy,
        host: format!("{api_id}.execute-api.localhost"),
        client: http_client(),
    };
    wait_for("the node to serve the API", LIMIT, || async {
        let res = gw.get("/good").send().await.ok()?;
        (res.status() == 200).then_some(())
    })
    .await;
    Fixture {
        gw,
        upstream,
        up,
        _data: data,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn misbehaving_upstreams_get_clean_answers_and_leave_the_pool_healthy() {
    let Fixture {
        gw,
        upstream,
        mut up,
        _data,
    } = start().await;

    let cases: &[(&str, Expect)] = &[
        // Within the integration's timeout a slow answer is still the answer; past it,
        // AWS's 504, and the late answer must not reach the next request.
        ("/slow/300", Expect::Good),
        ("/slow/1500", Expect::Answer(TIMED_OUT.0, TIMED_OUT.1)),
        ("/hang", Expect::Answer(TIMED_OUT.0, TIMED_OUT.1)),
        ("/reset", Expect::Answer(FAILED.0, FAILED.1)),
        ("/reset-mid-body", Expect::BrokenBody),
        ("/close", Expect::Answer(FAILED.0, FAILED.1)),
        // hyper's client holds at most ~400 KiB of response head and 100 headers; past
        // either the response is refused, never buffered further.
        ("/huge-head", Expect::Answer(FAILED.0, FAILED.1)),
        ("/many-headers", Expect::Answer(FAILED.0, FAILED.1)),
        ("/garbage-status", Expect::Answer(FAILED.0, FAILED.1)),
        ("/bad-header", Expect::Answer(FAILED.0, FAILED.1)),
        ("/short-body", Expect::BrokenBody),
        // The bytes past the declared length are a second response nobody asked for.
        ("/long-body", Expect::Answer(200, "hello")),
        ("/dup-length", Expect::Answer(FAILED.0, FAILED.1)),
        // RFC 9112 §6.3: both framings at once "ought to be handled as an error".
        ("/length-and-chunked", Expect::Answer(FAILED.0, FAILED.1)),
        ("/bad-chunk", Expect::BrokenBody),
        ("/chunk-overflow", Expect::BrokenBody),
        ("/http10", Expect::Answer(200, "until the close")),
        ("/informational", Expect::Good),
        ("/unsolicited", Expect::Good),
        // A declared length over the 10 MB quota is refused before any of it is sent; a
        // body without one streams (its head has gone before its size is known).
        ("/big", Expect::Answer(TOO_LARGE.0, TOO_LARGE.1)),
        ("/big-chunked", Expect::Length(BIG_BODY)),
    ];

    let mut nonce = 0;
    println!("{:<22} {:>8}  outcome", "case", "ms");
    for &(path, expect) in cases {
        let started = Instant::now();
        let outcome = run_case(&gw, path, expect).await;
        let took = started.elapsed();
        println!("{path:<22} {:>8}  {outcome}", took.as_millis());
        if let Expect::Answer(504, _) = expect {
            assert!(
                took >= TIMEOUT && took < TIMEOUT + PROMPT,
                "{path}: 504 after {took:?}"
            );
        } else {
            assert!(took < PROMPT, "{path} took {took:?}");
        }
        if path == "/unsolicited" {
            // The stray response arrives 50 ms after the answer, while the connection
            // waits in the pool.
            tokio::time::sleep(Duration::from_millis(200)).await;
        }

        // The node still serves, each request gets its own answer, and a connection is
        // reused once it is back in the pool (the client's keep-alive connection keeps
        // both requests on one worker, whose pool they share).
        nonce += 2;
        let first = gw.good(nonce - 1).await;
        // reqwest gives its connection back to its own pool a moment after the body
        // ends; asked sooner it opens another, which may land on another worker.
        tokio::time::sleep(Duration::from_millis(50)).await;
        let accepted = upstream.accepted();
        let second = gw.good(nonce).await;
        assert_eq!(
            second, first,
            "after {path}: the pooled connection was not reused"
        );
        assert_eq!(upstream.accepted(), accepted, "after {path}");
    }

    assert!(up.is_running(), "the node is still up");
    println!(
        "{} cases, {} upstream connections accepted",
        cases.len(),
        upstream.accepted()
    );
}

/// A body that stops coming after its head and part of itself: the head has gone to the
/// client, so no 5xx can follow; the integration's timeout bounds each wait for more of
/// the body (as nginx's `proxy_read_timeout` does), and the node then ends the client's
/// connection without the rest, so the client sees a short body, never a hang. AWS
/// buffers the whole response within the same timeout ("Amazon API Gateway quotas":
/// integration timeout 30 s) and would answer 504; a streaming node cannot.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_that_stalls_is_cut_off_within_the_timeout() {
    let fx = start().await;
    let started = Instant::now();
    let outcome = run_case(&fx.gw, "/stall-body", Expect::BrokenBody).await;
    let took = started.elapsed();
    println!("/stall-body {} ms  {outcome}", took.as_millis());
    assert!(
        took < TIMEOUT + PROMPT,
        "the body was cut off after {took:?}"
    );
    fx.gw.good(1).await;
}

/// Sends one request to `path` and checks the answer; returns what happened, to print.
async fn run_case(gw: &Gateway, path: &str, expect: Expect) -> String {
    let res = match gw.get(path).send().await {
        Ok(res) => res,
        // hyper writes a head together with the first bytes of its body, so a body that
        // fails at once takes its head with it: the connection closes with no answer.
        Err(e) if matches!(expect, Expect::BrokenBody) => {
            return format!("the connection closed with no answer: {e}");
        }
        Err(e) => panic!("{path}: no response head: {e}"),
    };
    let status = res.status().as_u16();
    let content_type = res
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let body = res.bytes().await;
    match expect {
        Expect::Answer(want_status, want_body) => {
            let body = body.unwrap_or_else(|e| panic!("{path}: the body broke off: {e}"));
            let text = String::from_utf8_lossy(&body);
            assert_eq!((status, text.as_ref()), (want_status, want_body), "{path}");
            if want_status >= 500 {
                assert_eq!(content_type, "application/json", "{path}");
            }
            format!("{status} {text}")
        }
        Expect::Good => {
            let body = body.unwrap_or_else(|e| panic!("{path}: the body broke off: {e}"));
            let json: Value = serde_json::from_slice(&body).unwrap_or_else(|e| {
                panic!("{path}: {status} {:?}: {e}", String::from_utf8_lossy(&body))
            });
            assert_eq!(
                (status, json["target"].as_str()),
                (200, Some(path)),
                "{path}"
            );
            format!("{status} the upstream's answer")
        }
        Expect::Length(len) => {
            let body = body.unwrap_or_else(|e| panic!("{path}: the body broke off: {e}"));
            assert_eq!((status, body.len()), (200, len), "{path}");
            format!("{status} {} bytes", body.len())
        }
        Expect::BrokenBody => {
            assert_eq!(status, 200, "{path}");
            match body {
                Ok(b) => panic!(
                    "{path}: a broken body arrived looking whole ({} bytes)",
                    b.len()
                ),
                Err(e) => format!("{status}, then the body broke off: {e}"),
            }
        }
    }
}
