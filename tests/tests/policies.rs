//! The request policies end to end on `portico up`: CORS, parameter mapping and
//! throttling configured with the real boto3 client (`e2e/policies.py`, which also checks
//! every refusal), then seen through the node with a real HTTP client: a preflight the
//! way a browser sends it, mapped requests as the real upstream received them, and 429s.
use std::time::Duration;

use portico_tests::process::{UpPorts, portico_up};
use portico_tests::{e2e_script, http_client, upstream, wait_for, wait_for_admin};
use reqwest::header::HeaderMap;
use serde_json::Value;

const LIMIT: Duration = Duration::from_secs(30);
const ORIGIN: &str = "https://app.example.com";

struct Gateway {
    proxy: u16,
    host: String,
}

impl Gateway {
    fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        http_client()
            .request(method, format!("http://127.0.0.1:{}{path}", self.proxy))
            .header("host", &self.host)
    }

    async fn preflight(&self, path: &str, origin: &str) -> (u16, HeaderMap, String) {
        let res = self
            .request(reqwest::Method::OPTIONS, path)
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header("access-control-request-headers", "content-type")
            .send()
            .await
            .expect("preflight");
        let status = res.status().as_u16();
        let headers = res.headers().clone();
        (status, headers, res.text().await.unwrap_or_default())
    }
}

fn header<'h>(h: &'h HeaderMap, name: &str) -> Option<&'h str> {
    h.get(name).and_then(|v| v.to_str().ok())
}

fn cors_headers(h: &HeaderMap) -> Vec<&str> {
    h.keys()
        .map(|k| k.as_str())
        .filter(|k| k.starts_with("access-control-"))
        .collect()
}

fn policies(args: &[&str]) -> Value {
    e2e_script("policies.py", args, &[])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cors_mapping_and_throttling_through_a_node() {
    let data = tempfile::tempdir().expect("data dir");
    let ports = UpPorts::free();
    let _up = portico_up(data.path(), &ports, &[]);
    wait_for_admin(ports.admin, LIMIT).await;
    let upstream = upstream::start().await;
    let endpoint = format!("http://127.0.0.1:{}", ports.admin);

    let configured = policies(&[
        "configure",
        "--endpoint",
        &endpoint,
        "--upstream",
        &upstream.to_string(),
    ]);
    let api_id = configured["apiId"].as_str().expect("apiId").to_string();
    let errors = &configured["errors"];
    assert!(
        errors["cors_credentials"].as_str().is_some_and(
            |m| m.contains("allow-credentials is not supported if 'allow-origin' is *")
        ),
        "{errors}"
    );
    for (name, needle) in [
        ("mapping_reserved_header", "connection"),
        ("mapping_append_path", "append:path"),
        ("mapping_body", "$request.body.name"),
        ("mapping_unknown_context", "$context.nope"),
        ("mapping_status_code", "700"),
        ("throttle_unknown_route", "GET /nope"),
        ("throttle_update_negative", "GET /limited"),
    ] {
        let message = errors[name].as_str().unwrap_or_default();
        assert!(message.contains(needle), "{name}: {message}");
    }
    let gw = Gateway {
        proxy: ports.proxy,
        host: format!("{api_id}.execute-api.localhost"),
    };
    wait_for("the node to serve the policies API", LIMIT, || async {
        let res = gw
            .request(reqwest::Method::GET, "/dev/open")
            .send()
            .await
            .ok()?;
        (res.status() == 200).then_some(())
    })
    .await;

    // "Configuring CORS for an HTTP API": the gateway answers the preflight itself, with
    // no OPTIONS route, before routing; the backend never sees it.
    let (status, h, body) = gw.preflight("/dev/notes/1", ORIGIN).await;
    assert_eq!(status, 204, "{h:?}");
    assert_eq!(body, "");
    assert_eq!(header(&h, "access-control-allow-origin"), Some(ORIGIN));
    assert_eq!(header(&h, "access-control-allow-methods"), Some("GET,POST"));
    assert_eq!(
        header(&h, "access-control-allow-headers"),
        Some("content-type,x-api-key")
    );
    assert_eq!(header(&h, "access-control-max-age"), Some("300"));
    assert_eq!(header(&h, "access-control-allow-credentials"), Some("true"));
    assert_eq!(header(&h, "vary"), Some("origin"));
    assert!(header(&h, "apigw-requestid").is_some());
    assert!(
        header(&h, "x-upstream").is_none(),
        "answered by the gateway"
    );
    // A path no route matches is still a preflight of the API.
    let (status, h, _) = gw.preflight("/dev/no/such/route", ORIGIN).await;
    assert_eq!(
        (status, header(&h, "access-control-allow-origin")),
        (204, Some(ORIGIN))
    );
    // An origin not allowed gets no CORS headers at all.
    let (status, h, _) = gw
        .preflight("/dev/notes/1", "https://evil.example.com")
        .await;
    assert_eq!(status, 204);
    assert!(cors_headers(&h).is_empty(), "{h:?}");

    // An actual request: the API's CORS headers replace the backend's, and the request
    // and response are mapped as configured ("Transform API requests and responses for
    // HTTP APIs").
    let res = gw
        .request(
            reqwest::Method::GET,
            "/dev/notes/42?page=1&debug=1&keep=yes",
        )
        .header("origin", ORIGIN)
        .header("x-original", "moved")
        .header("x-secret", "hidden")
        .header("x-page", "7")
        .header("x-echo-response-header", "access-control-allow-origin: *")
        .header(
            "x-echo-response-header",
            "access-control-allow-methods: DELETE",
        )
        .send()
        .await
        .expect("mapped request");
    assert_eq!(res.status(), 202, "overwrite:statuscode");
    let h = res.headers().clone();
    let request_id = header(&h, "apigw-requestid")
        .expect("request id")
        .to_string();
    assert_eq!(header(&h, "access-control-allow-origin"), Some(ORIGIN));
    assert_eq!(header(&h, "access-control-allow-credentials"), Some("true"));
    assert_eq!(
        header(&h, "access-control-expose-headers"),
        Some("x-upstream,x-mapped")
    );
    assert_eq!(header(&h, "access-control-allow-methods"), None);
    assert_eq!(header(&h, "x-mapped"), Some("from-echo"));
    assert_eq!(header(&h, "x-upstream"), None, "remove:header");
    let echo: Value = res.json().await.expect("echo");
    let sent = &echo["headers"];
    assert_eq!(echo["path"], "/notes/42");
    assert_eq!(sent["x-gateway-stage"], "dev");
    assert_eq!(sent["x-request-id"], request_id.as_str());
    assert_eq!(sent["x-route"], "GET /notes/{id} from 127.0.0.1");
    assert_eq!(sent["x-env"], "env-test");
    assert_eq!(sent["x-renamed"], "moved");
    assert_eq!(sent["x-added"], "yes");
    assert!(
        sent.get("x-original").is_none() && sent.get("x-secret").is_none(),
        "{sent}"
    );
    let query = echo["query"].as_str().unwrap_or_default();
    let mut pairs: Vec<&str> = query.split('&').collect();
    pairs.sort_unstable();
    assert_eq!(pairs, ["keep=yes", "note=42", "page=7"], "{query}");

    // Throttling: the route's burst of 5 at 1 request a second, 429 past it without
    // calling the backend; other routes keep the stage's default.
    let mut statuses = Vec::new();
    for _ in 0..12 {
        let res = gw
            .request(reqwest::Method::GET, "/dev/limited")
            .header("origin", ORIGIN)
            .send()
            .await
            .expect("limited");
        let status = res.status().as_u16();
        let h = res.headers().clone();
        let body = res.text().await.unwrap_or_default();
        if status == 429 {
            assert_eq!(body, r#"{"message":"Too Many Requests"}"#);
            assert!(header(&h, "x-upstream").is_none());
            // The gateway's own answers carry the CORS headers too.
            assert_eq!(header(&h, "access-control-allow-origin"), Some(ORIGIN));
        }
        statuses.push(status);
    }
    let admitted = statuses.iter().filter(|s| **s == 200).count();
    assert!((5..=6).contains(&admitted), "{statuses:?}");
    assert!(
        statuses.iter().all(|s| *s == 200 || *s == 429),
        "{statuses:?}"
    );
    let res = gw.request(reqwest::Method::GET, "/dev/open").send().await;
    assert_eq!(res.expect("open").status(), 200);

    // update_stage changes the limit live, without a deployment.
    let updated = policies(&[
        "throttle",
        "--endpoint",
        &endpoint,
        "--api-id",
        &api_id,
        "--stage",
        "dev",
        "--route-key",
        "GET /limited",
        "--rate",
        "1000",
        "--burst",
        "100",
    ]);
    assert_eq!(updated["deploymentId"], configured["deploymentId"]);
    wait_for("the new limit to reach the node", LIMIT, || async {
        for _ in 0..20 {
            let res = gw
                .request(reqwest::Method::GET, "/dev/limited")
                .send()
                .await
                .ok()?;
            if res.status() != 200 {
                return None;
            }
        }
        Some(())
    })
    .await;

    // Without CORS, OPTIONS is routed like any method (no route here: 404) and responses
    // carry no CORS headers.
    let deleted = policies(&["delete-cors", "--endpoint", &endpoint, "--api-id", &api_id]);
    assert!(deleted["again"].as_str().is_some(), "{deleted}");
    wait_for("CORS to be gone from the node", LIMIT, || async {
        let (status, h, _) = gw.preflight("/dev/notes/1", ORIGIN).await;
        (status == 404 && cors_headers(&h).is_empty()).then_some(())
    })
    .await;
    let res = gw
        .request(reqwest::Method::GET, "/dev/open")
        .header("origin", ORIGIN)
        .header("x-echo-response-header", "access-control-allow-origin: *")
        .send()
        .await
        .expect("open");
    assert_eq!(
        header(res.headers(), "access-control-allow-origin"),
        Some("*"),
        "an API without CORS passes the backend's headers through"
    );
}
