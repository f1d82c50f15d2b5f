//! Lambda proxy integrations end to end on `portico up`: the real boto3 client builds
//! the notes API on Lambda functions with both payload formats (`e2e/lambda_api.py`,
//! which also checks every refusal), and the node invokes them on a Lambda
//! Invoke-compatible function server (`e2e/lambda_server.py`) that checks every call's
//! SigV4 signature with botocore's own signer, checks every event against
//! aws-lambda-powertools' models of AWS's events, and runs real Python handlers
//! (`e2e/lambda_handlers.py`).
//!
//! The rules pinned here are the ones of
//! https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-integrations-lambda.html
//! (events and responses) and
//! https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-troubleshooting-lambda.html
//! (`{"message":"Internal Server Error"}` for a function that fails).
use std::process::Command;
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use portico_tests::lambda_functions::{FunctionServer, e2e_dir};
use portico_tests::process::{UpPorts, portico_up};
use portico_tests::{e2e_script, http_client, wait_for, wait_for_admin};
use reqwest::header::HeaderMap;
use serde_json::{Value, json};

const LIMIT: Duration = Duration::from_secs(30);
struct Gateway {
    proxy: u16,
    host: String,
}

struct Answer {
    status: u16,
    headers: HeaderMap,
    body: Vec<u8>,
}

impl Answer {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text()))
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    fn all(&self, name: &str) -> Vec<&str> {
        self.headers
            .get_all(name)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .collect()
    }
}

impl Gateway {
    fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        http_client()
            .request(method, format!("http://127.0.0.1:{}{path}", self.proxy))
            .header("host", &self.host)
    }

    async fn send(&self, request: reqwest::RequestBuilder) -> Answer {
        let res = request.send().await.expect("request through the node");
        Answer {
            status: res.status().as_u16(),
            headers: res.headers().clone(),
            body: res.bytes().await.expect("body").to_vec(),
        }
    }

    async fn get(&self, path: &str) -> Answer {
        self.send(self.request(reqwest::Method::GET, path)).await
    }
}

/// The function server checks itself against boto3's own Lambda client: names,
/// qualifiers, Lambda's error answers, botocore's signatures, keep-alive, the schemas.
#[test]
fn the_function_server_speaks_the_invoke_api_as_boto3_does() {
    let status = Command::new("python3")
        .arg(e2e_dir().join("lambda_server_selftest.py"))
        .current_dir(e2e_dir())
        .status()
        .expect("python3 lambda_server_selftest.py");
    assert!(status.success(), "lambda_server_selftest.py failed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lambda_functions_behind_a_node() {
    let mut functions = FunctionServer::start();
    let data = tempfile::tempdir().expect("data dir");
    let ports = UpPorts::free();
    let _up = portico_up(data.path(), &ports, &functions.node_env());
    wait_for_admin(ports.admin, LIMIT).await;
    let endpoint = format!("http://127.0.0.1:{}", ports.admin);

    // boto3 builds the API; every bad value is refused, naming what is wrong, and nothing
    // of it is stored.
    let configured = e2e_script(
        "lambda_api.py",
        &["configure", "--endpoint", &endpoint],
        &[],
    );
    let errors = &configured["errors"];
    for (name, needle) in [
        ("arn_short_account", "12 digits"),
        ("arn_no_name", "function name"),
        ("arn_s3", "'s3' is not Lambda"),
        ("arn_not_an_arn", "not an ARN"),
        (
            "arn_gateway_form_bad_path",
            "path/2015-03-31/functions/FUNCTION_ARN/invocations",
        ),
        ("missing_uri", "integrationUri is required"),
        ("payload_3_0", "payloadFormatVersion '3.0'"),
        ("payload_missing", "payloadFormatVersion is required"),
        ("timeout_49", "between 50 and 30000"),
        ("timeout_30001", "between 50 and 30000"),
        ("method_get", "integrationMethod 'GET'"),
        ("request_parameters", "requestParameters are not supported"),
        ("update_payload_9", "payloadFormatVersion '9'"),
        ("quick_create_no_name", "function name"),
    ] {
        let message = errors[name].as_str().unwrap_or_default();
        assert!(
            message.contains("BadRequestException") && message.contains(needle),
            "{name}: {message}"
        );
    }
    assert_eq!(
        configured["stored_after_refusals"],
        configured["expected_integrations"]
    );
    assert_eq!(
        configured["quickIntegration"]["IntegrationType"], "AWS_PROXY",
        "{configured}"
    );
    assert_eq!(
        configured["quickIntegration"]["PayloadFormatVersion"],
        "2.0"
    );

    let api_id = configured["apiId"].as_str().expect("apiId");
    let gw = Gateway {
        proxy: ports.proxy,
        host: format!("{api_id}.execute-api.localhost"),
    };
    wait_for("the node to serve the Lambda API", LIMIT, || async {
        let res = gw
            .request(reqwest::Method::GET, "/dev/notes")
            .send()
            .await
            .ok()?;
        (res.status() == 200).then_some(())
    })
    .await;

    // The guide's notes API, on functions.
    let created = gw
        .send(
            gw.request(reqwest::Method::POST, "/dev/notes")
                .json(&json!({"text": "buy milk"})),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.text());
    let note = created.json();
    let id = note["id"].as_str().expect("note id");
    assert_eq!(note["text"], "buy milk");
    let listed = gw.get("/dev/notes").await;
    assert_eq!(listed.header("content-type"), Some("application/json"));
    assert!(listed.json().as_array().is_some_and(|n| n.contains(&note)));
    assert_eq!(gw.get(&format!("/dev/notes/{id}")).await.json(), note);
    let missing = gw.get("/dev/notes/nope").await;
    assert_eq!(missing.status, 404, "the function's own 404");
    assert_eq!(gw.get("/dev/v1/notes").await.json(), listed.json());

    // Payload 2.0, as the function received it.
    let echoed = gw
        .send(
            gw.request(reqwest::Method::GET, "/dev/v2/echo/a/b%20c?x=1&x=2&y=%2F")
                .header("cookie", "session=abc; theme=dark")
                .header("x-multi", "one")
                .header("x-multi", "two")
                .header("user-agent", "lambda-e2e"),
        )
        .await;
    assert_eq!(echoed.status, 200, "{}", echoed.text());
    let event = echoed.json();
    assert_eq!(event["version"], "2.0");
    assert_eq!(event["routeKey"], "ANY /v2/echo/{proxy+}");
    assert_eq!(event["rawPath"], "/dev/v2/echo/a/b%20c");
    assert_eq!(event["rawQueryString"], "x=1&x=2&y=%2F");
    assert_eq!(
        event["queryStringParameters"],
        json!({"x": "1,2", "y": "/"})
    );
    assert_eq!(event["pathParameters"], json!({"proxy": "a/b c"}));
    assert_eq!(event["cookies"], json!(["session=abc", "theme=dark"]));
    assert!(event["headers"].get("cookie").is_none());
    assert_eq!(event["headers"]["x-multi"], "one,two");
    assert_eq!(event["headers"]["host"], gw.host.as_str());
    assert_eq!(event["stageVariables"], json!({"env": "dev"}));
    assert_eq!(event["isBase64Encoded"], false);
    assert!(event.get("body").is_none());
    let context = &event["requestContext"];
    assert_eq!(context["apiId"], api_id);
    assert_eq!(context["stage"], "dev");
    assert_eq!(context["domainName"], gw.host.as_str());
    assert_eq!(context["domainPrefix"], api_id);
    assert_eq!(context["http"]["method"], "GET");
    assert_eq!(context["http"]["path"], "/dev/v2/echo/a/b%20c");
    assert_eq!(context["http"]["protocol"], "HTTP/1.1");
    assert_eq!(context["http"]["sourceIp"], "127.0.0.1");
    assert_eq!(context["http"]["userAgent"], "lambda-e2e");
    assert_eq!(
        context["requestId"].as_str(),
        echoed.header("apigw-requestid"),
        "the event's requestId is the response's apigw-requestid"
    );
    assert!(
        context["timeEpoch"]
            .as_u64()
            .is_some_and(|t| t > 1_700_000_000_000)
    );

    // Bodies: text as text, anything else as base64, both ways.
    let posted = gw
        .send(
            gw.request(reqwest::Method::POST, "/dev/v2/echo/json")
                .header("content-type", "application/json")
                .body(r#"{"a":1}"#),
        )
        .await
        .json();
    assert_eq!(
        (posted["body"].as_str(), posted["isBase64Encoded"].as_bool()),
        (Some(r#"{"a":1}"#), Some(false))
    );
    let bytes: Vec<u8> = (0..=255u8).cycle().take(3000).collect();
    let binary = gw
        .send(
            gw.request(reqwest::Method::POST, "/dev/v2/echo/bin")
                .header("content-type", "application/octet-stream")
                .body(bytes.clone()),
        )
        .await
        .json();
    assert_eq!(binary["isBase64Encoded"], true);
    let sent = STANDARD
        .decode(binary["body"].as_str().expect("body"))
        .expect("base64");
    assert_eq!(sent, bytes);
    let round_trip = gw
        .send(
            gw.request(reqwest::Method::POST, "/dev/v2/binary")
                .header("content-type", "application/octet-stream")
                .body(bytes.clone()),
        )
        .await;
    assert_eq!(round_trip.status, 200);
    assert_eq!(
        round_trip.header("content-type"),
        Some("application/octet-stream")
    );
    assert_eq!(round_trip.body, bytes, "isBase64Encoded output is decoded");
    let png = gw.get("/dev/v2/binary").await;
    assert_eq!(png.header("content-type"), Some("image/png"));
    assert!(png.body.starts_with(b"\x89PNG\r\n\x1a\n"), "{:?}", png.body);

    // Payload 1.0.
    let v1 = gw.get("/dev/v1/echo/x/y?x=1&x=2").await.json();
    assert_eq!(v1["version"], "1.0");
    assert_eq!(v1["resource"], "/v1/echo/{proxy+}");
    assert_eq!(v1["path"], "/dev/v1/echo/x/y");
    assert_eq!(v1["httpMethod"], "GET");
    assert_eq!(v1["queryStringParameters"], json!({"x": "1"}));
    assert_eq!(
        v1["multiValueQueryStringParameters"],
        json!({"x": ["1", "2"]})
    );
    assert_eq!(v1["pathParameters"], json!({"proxy": "x/y"}));
    assert_eq!(v1["requestContext"]["resourcePath"], "/v1/echo/{proxy+}");
    assert_eq!(v1["requestContext"]["identity"]["sourceIp"], "127.0.0.1");
    assert!(v1["body"].is_null());
    let shaped = gw.get("/dev/v1/shape").await;
    assert_eq!((shaped.status, shaped.text().as_str()), (202, "v1"));
    assert_eq!(shaped.all("x-multi"), ["a", "b"]);
    assert_eq!(shaped.all("x-single"), ["s"]);

    // An alias in the ARN, and API Gateway's own URI form, invoke the function they name.
    for (path, route_key) in [
        ("/dev/v2/qualified", "GET /v2/qualified"),
        ("/dev/v2/gateway-form", "GET /v2/gateway-form"),
    ] {
        assert_eq!(gw.get(path).await.json()["routeKey"], route_key);
    }

    // `$default` catches the rest; HTTP/2 clients get the same function.
    let fallback = gw.get("/dev/no/route/here").await.json();
    assert_eq!(fallback["routeKey"], "$default");
    // Over HTTP/2 the host is the `:authority`, so the client resolves the API's name.
    let h2 = reqwest::Client::builder()
        .no_proxy()
        .http2_prior_knowledge()
        .resolve(&gw.host, ([127, 0, 0, 1], ports.proxy).into())
        .timeout(Duration::from_secs(10))
        .build()
        .expect("h2 client");
    let over_h2: Value = h2
        .get(format!("http://{}:{}/dev/v2/echo/h2", gw.host, ports.proxy))
        .send()
        .await
        .expect("h2 request")
        .json()
        .await
        .expect("h2 JSON");
    assert_eq!(over_h2["requestContext"]["http"]["protocol"], "HTTP/2.0");

    // 2.0's inferred responses, and the full response shape with cookies.
    let string = gw.get("/dev/v2/string").await;
    assert_eq!(
        (string.status, string.text().as_str()),
        (200, "Hello from Lambda!")
    );
    assert_eq!(string.header("content-type"), Some("application/json"));
    let object = gw.get("/dev/v2/object").await;
    assert_eq!(object.json(), json!({"message": "Hello from Lambda!"}));
    assert_eq!(object.header("content-type"), Some("application/json"));
    let cookies = gw.get("/dev/v2/cookies").await;
    assert_eq!(
        (cookies.status, cookies.text().as_str()),
        (201, "cookies set")
    );
    assert_eq!(cookies.all("set-cookie"), ["a=1; Path=/", "b=2; HttpOnly"]);
    assert_eq!(cookies.all("x-multi"), ["m1", "m2"]);
    assert_eq!(cookies.all("x-single"), ["one"]);

    // Failures get AWS's answers, never a hang.
    for path in [
        "/dev/v2/raises",
        "/dev/v2/garbage",
        "/dev/v2/bad-status",
        "/dev/v2/big-status",
        "/dev/v2/throttled",
        "/dev/v2/missing",
        "/dev/v1/object",
    ] {
        let failed = gw.get(path).await;
        assert_eq!(
            (failed.status, failed.text().as_str()),
            (500, r#"{"message":"Internal Server Error"}"#),
            "{path}"
        );
        assert!(failed.header("apigw-requestid").is_some());
    }
    let started = Instant::now();
    let slow = gw.get("/dev/v2/sleepy?seconds=4").await;
    assert_eq!(
        (slow.status, slow.text().as_str()),
        (503, r#"{"message":"Service Unavailable"}"#),
        "past the integration's 1000 ms"
    );
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );

    // Quick create: one Lambda integration on a `$default` stage that deploys itself.
    let quick = Gateway {
        proxy: ports.proxy,
        host: format!(
            "{}.execute-api.localhost",
            configured["quickApiId"].as_str().expect("quickApiId")
        ),
    };
    let quick_event = wait_for("the quick-created API", LIMIT, || async {
        let a = quick.get("/anything").await;
        (a.status == 200).then(|| a.json())
    })
    .await;
    assert_eq!(quick_event["routeKey"], "$default");
    assert_eq!(quick_event["requestContext"]["stage"], "$default");

    // What the function server saw: every call signed as botocore signs (the session
    // token too), every event valid by aws-lambda-powertools' models, and the qualified
    // and API Gateway-form URIs invoking the function they name.
    let recorded = functions.recorded().await;
    assert_eq!(recorded["rejected"], 0, "{recorded}");
    let invocations = recorded["invocations"].as_array().expect("invocations");
    assert!(recorded["verified"].as_u64() >= Some(invocations.len() as u64));
    assert!(invocations.len() >= 25, "{}", invocations.len());
    // The node's connections to the endpoint are kept alive and reused (a timed-out call
    // takes its connection with it, so there are a few).
    let connections = recorded["connections"].as_u64().expect("connections");
    assert!(
        connections * 3 < invocations.len() as u64,
        "{connections} connections for {} calls",
        invocations.len()
    );
    for call in invocations {
        assert!(
            call["schema_errors"].is_null(),
            "{} sent an event the models refuse: {}",
            call["function"],
            call["schema_errors"]
        );
    }
    let arns: Vec<&str> = invocations
        .iter()
        .filter_map(|c| c["invoked_function_arn"].as_str())
        .collect();
    assert!(
        arns.contains(&"arn:aws:lambda:us-east-1:123456789012:function:echo_event:live"),
        "{arns:?}"
    );
    assert!(
        invocations
            .iter()
            .any(|c| c["event"]["routeKey"] == "GET /v2/gateway-form"
                && c["function"] == "echo_event")
    );

    // A Lambda endpoint that refuses connections: a 500 at once.
    functions.proc.kill();
    let started = Instant::now();
    let refused = gw.get("/dev/notes").await;
    assert_eq!(
        (refused.status, refused.text().as_str()),
        (500, r#"{"message":"Internal Server Error"}"#)
    );
    assert!(started.elapsed() < Duration::from_secs(5));
}
