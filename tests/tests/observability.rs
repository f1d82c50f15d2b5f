//! Observability end to end: `portico serve` on SQLite and one `portico-proxy` with
//! `--access-log-dir`, `--otlp-endpoint` and `--metrics-addr`, driven by
//! `e2e/observability.py` with the real boto3 client and real HTTP. The script runs the
//! upstream, an OTLP/HTTP receiver and the budget webhooks itself, sends a known mix of
//! requests (2xx, 404s, 5xx, throttled 429s, some with a client `traceparent`) and checks
//! that every source agrees exactly with what the client saw: the stage's access log, the
//! node's Prometheus counters, the control plane's per-minute series, the usage report
//! and its cost, the OTLP spans and the `traceparent` the upstream got. Then budgets: an
//! ACTUAL notification fires once and its webhook gets one POST; one whose webhook is a
//! closed port ends FAILED after 3 attempts, and requests are not held up meanwhile.
//!
//! The shapes are AWS's where AWS has them:
//! - "Customize HTTP API access logs" and its variables:
//!   https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-logging-variables.html
//! - `AccessLogSettings` of CreateStage/UpdateStage:
//!   https://docs.aws.amazon.com/apigatewayv2/latest/api-reference/apis-apiid-stages.html
//! - W3C Trace Context (`traceparent`): https://www.w3.org/TR/trace-context/
//! - OTLP/HTTP (`POST /v1/traces`, protobuf): https://opentelemetry.io/docs/specs/otlp/
//! - AWS Budgets' notifications (ACTUAL/FORECASTED, a threshold in percent):
//!   https://docs.aws.amazon.com/cost-management/latest/userguide/budgets-best-practices.html
use std::path::{Path, PathBuf};
use std::time::Duration;

use portico_tests::process::Proc;
use portico_tests::{credentials, e2e_script, free_port, http_client, wait_for, wait_for_admin};
use serde_json::Value;

const SCRIPT: &str = "observability.py";
const TOKEN: &str = "e2e-observability-token-0123456789abcdef";
const LIMIT: Duration = Duration::from_secs(30);
/// The stage logs to the group `/portico/obs-dev`: `{access-log-dir}/portico/obs-dev.log`.
const LOG_FILE: &str = "portico/obs-dev.log";
/// Small enough that the run's lines rotate at least once, big enough that `KEEP`
/// rotated files hold all of them.
const MAX_BYTES: u64 = 16_384;
const KEEP: u32 = 5;

/// The budget webhooks and the OTLP receiver are on loopback: never through a proxy
/// from the environment (the webhook and span exporters are HTTP clients that honour
/// `HTTP_PROXY`).
fn no_proxy() -> Vec<(&'static str, String)> {
    vec![
        ("NO_PROXY", "127.0.0.1,localhost".to_string()),
        ("no_proxy", "127.0.0.1,localhost".to_string()),
    ]
}

/// The upstream, the OTLP receiver, the webhook receiver, the exposition parser, the
/// access log reader and every checker of the script are right — against synthetic
/// traffic and loopback servers, with no Portico involved, so a failure of the real test
/// is Portico's.
#[test]
fn the_observability_fixtures_are_sound() {
    let out = e2e_script(SCRIPT, &["selftest"], &[]);
    assert_eq!(out["ok"], true, "{out}");
}

/// The group's files, oldest first (`NAME.log.{KEEP}` … `NAME.log.1`, `NAME.log`).
fn log_files(dir: &Path) -> Vec<PathBuf> {
    let base = dir.join(LOG_FILE);
    let mut files: Vec<PathBuf> = (1..=KEEP + 2)
        .rev()
        .map(|i| PathBuf::from(format!("{}.{i}", base.display())))
        .collect();
    files.push(base);
    files.into_iter().filter(|f| f.exists()).collect()
}

/// `portico_requests_total` of one API, summed, read from the exposition text line by
/// line: a check of the script's parser that shares nothing with it.
fn requests_total(exposition: &str, api_id: &str) -> u64 {
    let label = format!("api_id=\"{api_id}\"");
    exposition
        .lines()
        .filter(|l| l.starts_with("portico_requests_total{") && l.contains(&label))
        .map(|l| {
            // `name{labels} value [timestamp] [# exemplar]`: the value follows the labels.
            let after = &l[l.rfind('}').map_or(0, |i| i + 1)..];
            let after = after.split(" # ").next().unwrap_or_default();
            let value = after.split_whitespace().next().unwrap_or_default();
            value
                .parse::<f64>()
                .unwrap_or_else(|e| panic!("{l:?}: {e}")) as u64
        })
        .sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn access_logs_metrics_traces_usage_and_budgets_agree() {
    let data = tempfile::tempdir().expect("data dir");
    let logs = data.path().join("access-logs");
    let (admin, grpc, proxy, metrics, otlp) = (
        free_port(),
        free_port(),
        free_port(),
        free_port(),
        free_port(),
    );
    let _control_plane = Proc::spawn(
        "portico serve",
        "portico",
        &[
            "serve".into(),
            "--database-url".into(),
            format!("sqlite://{}", data.path().join("portico.db").display()),
            "--admin-addr".into(),
            format!("127.0.0.1:{admin}"),
            "--grpc-addr".into(),
            format!("127.0.0.1:{grpc}"),
            "--replica-id".into(),
            "obs".into(),
        ],
        &[
            credentials::control_plane_env(),
            vec![
                ("PORTICO_CLUSTER_TOKEN", TOKEN.to_string()),
                (
                    "PORTICO_EXECUTE_API_ENDPOINT",
                    format!("http://execute-api.localhost:{proxy}"),
                ),
            ],
            no_proxy(),
        ]
        .concat(),
    );
    let _node = Proc::spawn(
        "portico-proxy",
        "portico-proxy",
        &[
            "--control-plane".into(),
            format!("http://127.0.0.1:{grpc}"),
            "--node-id".into(),
            "obs-node".into(),
            "--cache-dir".into(),
            data.path().join("node-cache").display().to_string(),
            "--proxy-addr".into(),
            format!("127.0.0.1:{proxy}"),
            "--proxy-tls-addr".into(),
            "127.0.0.1:0".into(),
            "--metrics-addr".into(),
            format!("127.0.0.1:{metrics}"),
            "--access-log-dir".into(),
            logs.display().to_string(),
            "--access-log-max-bytes".into(),
            MAX_BYTES.to_string(),
            "--access-log-keep".into(),
            KEEP.to_string(),
            "--otlp-endpoint".into(),
            format!("http://127.0.0.1:{otlp}"),
        ],
        &[
            vec![("PORTICO_CLUSTER_TOKEN", TOKEN.to_string())],
            no_proxy(),
        ]
        .concat(),
    );
    wait_for_admin(admin, LIMIT).await;
    let metrics_url = format!("http://127.0.0.1:{metrics}/metrics");
    wait_for("the node's /metrics", LIMIT, || async {
        let res = http_client().get(&metrics_url).send().await.ok()?;
        (res.status() == 200).then_some(())
    })
    .await;

    let env: Vec<(&'static str, String)> = vec![
        ("PORTICO_OBS_ENDPOINT", format!("http://127.0.0.1:{admin}")),
        ("PORTICO_OBS_PROXY", format!("127.0.0.1:{proxy}")),
        ("PORTICO_OBS_METRICS", format!("127.0.0.1:{metrics}")),
        ("PORTICO_OBS_ACCESS_LOG_DIR", logs.display().to_string()),
        ("PORTICO_OBS_ACCESS_LOG_MAX_BYTES", MAX_BYTES.to_string()),
        ("PORTICO_OBS_ACCESS_LOG_KEEP", KEEP.to_string()),
        ("PORTICO_OBS_OTLP_PORT", otlp.to_string()),
    ];
    // About a minute and a half of real time (the series and budgets wait for the
    // node's 5-second reports): off the runtime's workers.
    let s = tokio::task::spawn_blocking(move || {
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
        e2e_script(SCRIPT, &["run"], &env)
    })
    .await
    .expect("the script");
    let api_id = s["apiId"].as_str().expect("apiId").to_string();

    // 1. Refusals name what is wrong; nothing was stored (the script checked get_stage).
    let refusals = &s["refusals"];
    for op in ["create", "update"] {
        for (name, needle) in [
            ("unknownVariable", "$context.nope"),
            ("noRequestId", "requestId"),
            ("firehose", ""),
            ("s3", ""),
            ("formatOnly", ""),
            ("destinationOnly", ""),
        ] {
            let e = &refusals[format!("{op}.{name}")];
            assert_eq!(e["code"], "BadRequestException", "{op}.{name}: {e}");
            assert_eq!(e["status"], 400, "{op}.{name}: {e}");
            let message = e["message"].as_str().unwrap_or_default();
            assert!(message.contains(needle), "{op}.{name}: {message}");
        }
    }
    assert!(
        s["accessLogSettings"]["DestinationArn"]
            .as_str()
            .is_some_and(|a| a.ends_with(":log-group:/portico/obs-dev")),
        "{}",
        s["accessLogSettings"]
    );

    // 2-4. The known mix, and every source's count of it.
    let client = &s["client"];
    let count = client["count"].as_u64().expect("count");
    let by_status = &client["byStatus"];
    assert!(by_status["200"].as_u64() >= Some(8), "{client}");
    assert!(by_status["404"].as_u64() >= Some(4), "{client}");
    assert!(client["5xx"].as_u64() >= Some(5), "{client}");
    assert!(client["throttled"].as_u64() >= Some(10), "{client}");
    assert!(client["traced"].as_u64() >= Some(5), "{client}");
    assert_eq!(s["log"]["byStatus"], *by_status, "access log");
    assert_eq!(s["log"]["lines"], count);
    assert_eq!(s["log"]["uniqueRequestIds"], count);
    assert_eq!(s["log"]["uniqueTraceIds"], count);
    assert_eq!(s["node"]["byStatus"], *by_status, "node /metrics");
    assert_eq!(s["node"]["throttled"], client["throttled"]);
    assert_eq!(s["node"]["durationCount"], count);
    assert_eq!(s["node"]["accessLogLines"], count);
    let cp = &s["controlPlane"]["totals"];
    assert_eq!(cp["count"], count, "control plane: {cp}");
    assert_eq!(cp["4xx"], client["4xx"], "control plane: {cp}");
    assert_eq!(cp["5xx"], client["5xx"], "control plane: {cp}");
    assert_eq!(cp["throttled"], client["throttled"], "control plane: {cp}");
    assert_eq!(
        cp["bytesOut"], s["node"]["responseBytes"],
        "control plane: {cp}"
    );
    let usage = &s["usage"];
    assert_eq!(usage["requests"], count, "usage: {usage}");
    assert!(usage["bytesOut"].as_u64() > Some(0), "usage: {usage}");
    let (cost, expected) = (
        usage["cost"].as_f64().expect("cost"),
        usage["expectedCost"].as_f64().expect("expected cost"),
    );
    let requests = count as f64;
    let bytes_out = usage["bytesOut"].as_f64().expect("bytesOut");
    let by_formula = requests / 1e6 * 1.0 + bytes_out / (1u64 << 30) as f64 * 0.09;
    assert!(
        (cost - by_formula).abs() <= 1e-12 && (expected - by_formula).abs() <= 1e-12,
        "cost {cost}, want {by_formula}"
    );
    let traces = &s["traces"];
    assert_eq!(traces["gatewaySpans"], client["traced"], "{traces}");
    assert!(traces["integrationSpans"].as_u64() >= Some(3), "{traces}");

    // 5. Budgets.
    let budget = &s["budget"];
    assert_eq!(budget["webhookPosts"], 1, "{budget}");
    assert_eq!(
        budget["webhook"]["type"], "portico.budget.alert",
        "{budget}"
    );
    assert_eq!(budget["webhook"]["apiId"], api_id.as_str(), "{budget}");
    assert_eq!(budget["delivered"]["delivery"], "DELIVERED", "{budget}");
    assert_eq!(budget["failed"]["delivery"], "FAILED", "{budget}");
    assert_eq!(budget["failed"]["attempts"], 3, "{budget}");
    assert!(budget["failed"]["lastError"].is_string(), "{budget}");
    assert!(
        budget["maxLatencyWhileFailing"]
            .as_f64()
            .is_some_and(|l| l < 1.0),
        "{budget}"
    );

    // 6. The whole run, once more, read here without the script's parsers: every line
    //    of the log files is JSON, and the node's counter says as many.
    let final_ = &s["final"];
    let total = final_["requests"].as_u64().expect("requests");
    assert_eq!(final_["logLines"], total, "{final_}");
    assert_eq!(final_["nodeRequests"], total, "{final_}");
    let files = log_files(&logs);
    let mut lines = 0u64;
    let mut bytes = 0u64;
    for file in &files {
        let text = std::fs::read_to_string(file).expect("read the access log");
        bytes += text.len() as u64;
        for line in text.lines() {
            let parsed: Value = serde_json::from_str(line)
                .unwrap_or_else(|e| panic!("{}: {line:?}: {e}", file.display()));
            assert_eq!(parsed["api"], api_id.as_str(), "{line}");
            lines += 1;
        }
    }
    assert_eq!(lines, total, "lines in {files:?}");
    assert!(
        bytes <= MAX_BYTES || files.len() >= 2,
        "{bytes} bytes of lines and no rotation at {MAX_BYTES}: {files:?}"
    );
    let exposition = http_client()
        .get(&metrics_url)
        .send()
        .await
        .expect("GET /metrics")
        .text()
        .await
        .expect("exposition");
    assert_eq!(requests_total(&exposition, &api_id), total);

    println!(
        "requests {count}: {by_status}; access log {} lines, node {} (parser {}), control \
         plane {} after {} s, usage {} requests ${cost:.9} after {} s; {} traced: {} gateway \
         and {} integration spans; budget webhook fired within {} s, the closed-port \
         webhook FAILED after {} attempts, requests meanwhile at most {} s; whole run {total} \
         requests in {} log files",
        s["log"]["lines"],
        s["node"]["byStatus"],
        s["node"]["parser"],
        cp,
        s["controlPlane"]["convergedAfterSeconds"],
        usage["requests"],
        usage["convergedAfterSeconds"],
        client["traced"],
        traces["gatewaySpans"],
        traces["integrationSpans"],
        budget["firedWithinSeconds"],
        budget["failed"]["attempts"],
        budget["maxLatencyWhileFailing"],
        files.len(),
    );
}
