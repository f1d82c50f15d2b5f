//! VPC links end to end: `portico up --vpc-link-group east` (its built-in node is in the
//! link's group) and a second node, `portico-proxy --vpc-link-group west`, which is not;
//! three real upstream servers (`e2e/vpc_upstream.py`, each a process of its own on
//! loopback, so a kill is a real kill) behind one link; the link, its integrations and
//! their refusals made with the real boto3 (`e2e/vpc_links.py`), its targets with
//! `PUT /portico/vpclinks/{id}/targets`. What the test proves, with its figures printed:
//! traffic spreads by weight; a target killed under load stops getting requests once the
//! node has seen it down, with no failed request after; it gets traffic again when it
//! returns; with every target down the route answers 503; a target that answers 5xx is
//! ejected by the requests themselves before any active check could say so; the node
//! outside the link's groups answers 503; an https target is verified against the link's
//! CA bundle for `tlsConfig.serverNameToVerify`.
//!
//! The rules are AWS's where AWS has them:
//! - "Working with VPC links for HTTP APIs" — statuses, SubnetIds, deletion while in use:
//!   https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-vpc-links.html
//! - "Working with private integrations for HTTP APIs" — connectionType VPC_LINK, an ALB
//!   listener ARN as integrationUri, the stage in the path sent to the backend, tlsConfig
//!   and serverNameToVerify:
//!   https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-integrations-private.html
//! - 503 when no target can take the request, as the load balancer behind an AWS link
//!   answers ("HTTP 503: Service unavailable", no healthy or registered targets), in API
//!   Gateway's body shape `{"message":"Service Unavailable"}`:
//!   https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-troubleshooting.html
//!
//! What AWS keeps in the load balancer behind the link (targets, weights, health checks,
//! passive ejection) is Portico's own (`/portico/vpclinks/{id}/targets`, issue 18); its
//! health check fields follow an ALB target group's ("Health checks for Application
//! Load Balancer target groups": the timeout must be shorter than the interval):
//! https://docs.aws.amazon.com/elasticloadbalancing/latest/application/target-group-health-checks.html
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use portico_tests::process::{Proc, UpPorts, up_args};
use portico_tests::vpc_upstream::{Mode, Target, TlsFiles};
use portico_tests::{
    admin_token, credentials, e2e_script, free_port, http_client, wait_for, wait_for_admin,
};
use serde_json::{Value, json};

const LIMIT: Duration = Duration::from_secs(30);
const TOKEN: &str = "e2e-vpc-links-cluster-token-0123456789";
const HEALTH_PATH: &str = "/health";
const SCRIPT: &str = "vpc_links.py";
const UNAVAILABLE: &str = r#"{"message":"Service Unavailable"}"#;
/// The built-in node of `portico up`, and the node outside the link's groups.
const EAST: &str = "local";
const WEST: &str = "west-1";

// ---------------------------------------------------------------- the admin side

struct Admin {
    port: u16,
    token: String,
}

impl Admin {
    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    async fn put_targets(&self, link: &str, body: &Value) -> (u16, Value) {
        let res = http_client()
            .put(self.url(&format!("/portico/vpclinks/{link}/targets")))
            .bearer_auth(&self.token)
            .json(body)
            .send()
            .await
            .expect("PUT targets");
        let status = res.status().as_u16();
        (status, res.json().await.unwrap_or(Value::Null))
    }

    /// PUT that must succeed; the view it answers.
    async fn set_targets(&self, link: &str, body: &Value) -> Value {
        let (status, view) = self.put_targets(link, body).await;
        assert_eq!(status, 200, "PUT targets {body}: {view}");
        view
    }

    async fn targets(&self, link: &str) -> (u16, Value) {
        let res = http_client()
            .get(self.url(&format!("/portico/vpclinks/{link}/targets")))
            .bearer_auth(&self.token)
            .send()
            .await
            .expect("GET targets");
        let status = res.status().as_u16();
        (status, res.json().await.unwrap_or(Value::Null))
    }

    /// Each target's state (`UNKNOWN`, `HEALTHY`, `UNHEALTHY`, `EJECTED`) and reason as
    /// `node` last reported them, by target address.
    async fn health(&self, link: &str, node: &str) -> BTreeMap<String, (String, String)> {
        let (status, view) = self.targets(link).await;
        assert_eq!(status, 200, "{view}");
        view["health"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|h| h["nodeId"] == node)
            .map(|h| {
                (
                    h["target"].as_str().unwrap_or_default().to_string(),
                    (
                        h["state"].as_str().unwrap_or_default().to_string(),
                        h["reason"].as_str().unwrap_or_default().to_string(),
                    ),
                )
            })
            .collect()
    }

    /// Waits until `node` reports `target` in one of `states`; how long it took.
    async fn until_state(
        &self,
        link: &str,
        node: &str,
        target: &Target,
        states: &[&str],
        limit: Duration,
    ) -> (String, Duration) {
        let started = Instant::now();
        let address = target.address();
        let state = wait_for(
            &format!("{node} to report {} ({address}) {states:?}", target.name),
            limit,
            || async {
                let health = self.health(link, node).await;
                let (state, _) = health.get(&address)?;
                states.contains(&state.as_str()).then(|| state.clone())
            },
        )
        .await;
        (state, started.elapsed())
    }

    async fn until_all(&self, link: &str, node: &str, targets: &[&Target], states: &[&str]) {
        for t in targets {
            self.until_state(link, node, t, states, LIMIT).await;
        }
    }

    /// Waits until every connected node has applied the newest configuration.
    async fn until_applied(&self) {
        wait_for("every node to apply the newest version", LIMIT, || async {
            let body: Value = http_client()
                .get(self.url("/portico/nodes"))
                .bearer_auth(&self.token)
                .send()
                .await
                .ok()?
                .json()
                .await
                .ok()?;
            let current = body["currentVersion"].as_u64()?;
            let items = body["items"].as_array()?;
            let connected: Vec<&Value> = items.iter().filter(|n| n["connected"] == true).collect();
            (connected.len() >= 2
                && connected
                    .iter()
                    .all(|n| n["appliedVersion"].as_u64() >= Some(current)))
            .then_some(())
        })
        .await;
    }
}

/// The targets body with `targets` (address, weight) and the rest as given.
fn targets_body(targets: &[(&Target, u32)], health_check: Value, passive: Value) -> Value {
    json!({
        "targets": targets
            .iter()
            .map(|(t, w)| json!({"address": t.address(), "weight": w}))
            .collect::<Vec<_>>(),
        "healthCheck": health_check,
        "loadBalancing": "ROUND_ROBIN",
        "passiveEjection": passive,
    })
}

// ---------------------------------------------------------------- the traffic side

#[derive(Clone)]
struct Gateway {
    proxy: u16,
    host: String,
    client: reqwest::Client,
}

/// What one request through the node got: a target's answer (its name and what it
/// received), or anything else.
#[derive(Debug, Clone)]
enum Outcome {
    Served(String, Value),
    Failed(String),
}

impl Outcome {
    fn upstream(&self) -> Option<&str> {
        match self {
            Outcome::Served(name, _) => Some(name),
            Outcome::Failed(_) => None,
        }
    }
}

impl Gateway {
    fn new(proxy: u16, api_id: &str) -> Self {
        Gateway {
            proxy,
            host: format!("{api_id}.execute-api.localhost"),
            client: http_client(),
        }
    }

    async fn raw(&self, path: &str) -> Result<(u16, String), String> {
        let res = self
            .client
            .get(format!("http://127.0.0.1:{}{path}", self.proxy))
            .header("host", &self.host)
            .send()
            .await
            .map_err(|e| format!("no answer: {e}"))?;
        let status = res.status().as_u16();
        let body = res.text().await.map_err(|e| format!("body: {e}"))?;
        Ok((status, body))
    }

    async fn get(&self, path: &str) -> Outcome {
        match self.raw(path).await {
            Ok((200, body)) => match serde_json::from_str::<Value>(&body) {
                Ok(v) if v["upstream"].is_string() => {
                    Outcome::Served(v["upstream"].as_str().unwrap_or_default().to_string(), v)
                }
                _ => Outcome::Failed(format!("200 not from a target: {body}")),
            },
            Ok((status, body)) => Outcome::Failed(format!("{status} {body}")),
            Err(e) => Outcome::Failed(e),
        }
    }

    /// `n` requests one after another: how many each target served, and the failures.
    async fn spread(&self, path: &str, n: usize) -> (BTreeMap<String, u64>, Vec<String>) {
        let mut counts = BTreeMap::new();
        let mut failures = Vec::new();
        for _ in 0..n {
            match self.get(path).await {
                Outcome::Served(name, _) => *counts.entry(name).or_insert(0) += 1,
                Outcome::Failed(why) => failures.push(why),
            }
        }
        (counts, failures)
    }
}

/// Each target's count within ±10% of its weight's share of `n`.
#[track_caller]
fn assert_weighted(what: &str, counts: &BTreeMap<String, u64>, weights: &[(&str, u32)], n: usize) {
    let total: u32 = weights.iter().map(|(_, w)| w).sum();
    for (name, w) in weights {
        let expected = n as f64 * f64::from(*w) / f64::from(total);
        let got = counts.get(*name).copied().unwrap_or(0) as f64;
        assert!(
            (got - expected).abs() <= expected * 0.10,
            "{what}: target {name} (weight {w}) served {got}, expected {expected:.0} ± 10%: {counts:?}"
        );
    }
}

/// A bounded load: `workers` loops sending requests until told to stop, `max` requests
/// in all or `limit` passed, whichever comes first; each request's start and outcome.
struct Load {
    stop: Arc<AtomicBool>,
    records: Arc<Mutex<Vec<(Instant, Outcome)>>>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Load {
    fn start(gw: &Gateway, path: &str, workers: usize, max: usize, limit: Duration) -> Load {
        let stop = Arc::new(AtomicBool::new(false));
        let records = Arc::new(Mutex::new(Vec::new()));
        let until = Instant::now() + limit;
        let tasks = (0..workers)
            .map(|_| {
                let (gw, path, stop, records) =
                    (gw.clone(), path.to_string(), stop.clone(), records.clone());
                tokio::spawn(async move {
                    for _ in 0..max {
                        if stop.load(Ordering::Relaxed) || Instant::now() >= until {
                            break;
                        }
                        let started = Instant::now();
                        let outcome = gw.get(&path).await;
                        let mut r = records.lock().expect("records");
                        if r.len() >= max {
                            break;
                        }
                        r.push((started, outcome));
                    }
                })
            })
            .collect();
        Load {
            stop,
            records,
            tasks,
        }
    }

    fn count(&self) -> usize {
        self.records.lock().expect("records").len()
    }

    fn started_since(&self, since: Instant) -> usize {
        let r = self.records.lock().expect("records");
        r.iter().filter(|(t, _)| *t >= since).count()
    }

    async fn finish(self) -> Vec<(Instant, Outcome)> {
        self.stop.store(true, Ordering::Relaxed);
        for t in self.tasks {
            t.await.expect("load worker");
        }
        let mut r = self.records.lock().expect("records");
        std::mem::take(&mut *r)
    }
}

fn count_by_target(records: &[&(Instant, Outcome)]) -> (BTreeMap<String, u64>, Vec<String>) {
    let mut counts = BTreeMap::new();
    let mut failures = Vec::new();
    for (_, o) in records {
        match o {
            Outcome::Served(name, _) => *counts.entry(name.clone()).or_insert(0) += 1,
            Outcome::Failed(why) => failures.push(why.clone()),
        }
    }
    (counts, failures)
}

/// `portico_vpc_link_target_healthy{…target="ADDRESS"…}` on the node's /metrics.
async fn healthy_gauge(metrics: u16, link: &str, address: &str) -> Option<f64> {
    let text = http_client()
        .get(format!("http://127.0.0.1:{metrics}/metrics"))
        .send()
        .await
        .ok()?
        .text()
        .await
        .ok()?;
    text.lines()
        .filter(|l| l.starts_with("portico_vpc_link_target_healthy{"))
        .filter(|l| {
            l.contains(&format!("vpc_link_id=\"{link}\""))
                && l.contains(&format!("target=\"{address}\""))
        })
        .find_map(|l| l.rsplit_once(' ').and_then(|(_, v)| v.trim().parse().ok()))
}

async fn until_gauge(metrics: u16, link: &str, target: &Target, want: f64) {
    wait_for(
        &format!(
            "portico_vpc_link_target_healthy of {} to be {want}",
            target.name
        ),
        LIMIT,
        || async { (healthy_gauge(metrics, link, &target.address()).await? == want).then_some(()) },
    )
    .await;
}

fn vpc_links(args: &[&str]) -> Value {
    e2e_script(SCRIPT, args, &[])
}

fn start_west_node(grpc: u16, cache: &std::path::Path) -> (Proc, u16) {
    let proxy = free_port();
    let proc = Proc::spawn(
        WEST,
        "portico-proxy",
        &[
            "--control-plane".into(),
            format!("http://127.0.0.1:{grpc}"),
            "--node-id".into(),
            WEST.into(),
            "--cache-dir".into(),
            cache.display().to_string(),
            "--proxy-addr".into(),
            format!("127.0.0.1:{proxy}"),
            "--proxy-tls-addr".into(),
            "127.0.0.1:0".into(),
            "--metrics-addr".into(),
            format!("127.0.0.1:{}", free_port()),
            "--vpc-link-group".into(),
            "west".into(),
        ],
        &[("PORTICO_CLUSTER_TOKEN", TOKEN.to_string())],
    );
    (proc, proxy)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn vpc_link_targets_balanced_checked_and_ejected() {
    let data = tempfile::tempdir().expect("data dir");
    let ports = UpPorts::free();
    let mut args = up_args(data.path(), &ports);
    args.extend(["--vpc-link-group".into(), "east".into()]);
    let env = [
        credentials::control_plane_env(),
        vec![("PORTICO_CLUSTER_TOKEN", TOKEN.to_string())],
    ]
    .concat();
    let _up = Proc::spawn("portico up", "portico", &args, &env);
    wait_for_admin(ports.admin, LIMIT).await;
    let admin = Admin {
        port: ports.admin,
        token: admin_token(ports.admin).await,
    };
    let endpoint = format!("http://127.0.0.1:{}", ports.admin);

    let mut a = Target::start("a", HEALTH_PATH);
    let mut b = Target::start("b", HEALTH_PATH);
    let mut c = Target::start("c", HEALTH_PATH);
    let weights = [("a", 1), ("b", 2), ("c", 3)];

    // The link, its integrations and every refusal, with boto3.
    let configured = vpc_links(&["configure", "--endpoint", &endpoint]);
    let link = configured["linkId"].as_str().expect("linkId").to_string();
    let api_id = configured["apiId"].as_str().expect("apiId").to_string();
    let errors = &configured["errors"];
    println!("boto3 refusals: {errors}");
    for (name, needle) in [
        ("no_subnets", "subnetIds"),
        ("bad_subnet", "east side!"),
        ("unknown", "Invalid VPC link identifier specified nosuch1"),
        ("unknown_connection", "nosuch1"),
    ] {
        let message = errors[name].as_str().unwrap_or_default();
        assert!(message.contains(needle), "{name}: {message}");
    }
    // The refusal names what uses the link, so its owner can find it.
    let conflict = configured["conflict"].as_str().unwrap_or_default();
    for id in [
        api_id.as_str(),
        configured["internalIntegrationId"].as_str().unwrap_or("?"),
    ] {
        assert!(conflict.contains(id), "{conflict}");
    }
    let frozen = configured["frozenConflict"].as_str().unwrap_or_default();
    assert!(
        frozen.contains(configured["frozenApiId"].as_str().unwrap_or("?")),
        "{frozen}"
    );
    println!("delete refused while in use: {conflict}\n  and while a deployment uses it: {frozen}");

    // A link never given targets has the defaults, and a node answers 503 for it.
    let (status, view) = admin.targets(&link).await;
    assert_eq!(status, 200, "{view}");
    assert_eq!(view["vpcLinkId"], link.as_str());
    assert_eq!(view["targets"], json!([]));
    assert_eq!(view["loadBalancing"], "ROUND_ROBIN");
    assert_eq!(view["healthCheck"]["intervalSeconds"], 5);
    assert_eq!(view["healthCheck"]["timeoutSeconds"], 2);
    assert_eq!(view["passiveEjection"]["consecutive5xx"], 3);
    let east = Gateway::new(ports.proxy, &api_id);
    wait_for("a link without targets to answer 503", LIMIT, || async {
        (east.raw("/dev/internal/x").await.ok()? == (503, UNAVAILABLE.to_string())).then_some(())
    })
    .await;

    // Bad targets are refused, naming the field, and nothing is stored.
    let ok_check = json!({"protocol": "HTTP", "path": HEALTH_PATH, "intervalSeconds": 2,
        "timeoutSeconds": 1, "healthyThreshold": 1, "unhealthyThreshold": 2});
    let quick_ejection =
        json!({"consecutive5xx": 3, "baseEjectionSeconds": 2, "maxEjectionSeconds": 4});
    let good = targets_body(
        &[(&a, 1), (&b, 2), (&c, 3)],
        ok_check.clone(),
        quick_ejection.clone(),
    );
    let own_admin = format!("127.0.0.1:{}", ports.admin);
    for (what, body, field) in [
        (
            "timeout not under the interval",
            json!({"targets": [], "healthCheck": {"intervalSeconds": 1, "timeoutSeconds": 1}}),
            "healthCheck.timeoutSeconds",
        ),
        (
            "weight 0",
            json!({"targets": [{"address": a.address(), "weight": 0}]}),
            "targets",
        ),
        (
            "no port",
            json!({"targets": [{"address": "127.0.0.1"}]}),
            "targets",
        ),
        (
            "the control plane's own admin port",
            json!({"targets": [{"address": own_admin}]}),
            "targets",
        ),
        (
            "unknown balancing",
            json!({"targets": [], "loadBalancing": "RANDOM"}),
            "loadBalancing",
        ),
        (
            "a CA bundle that is not PEM",
            json!({"targets": [], "caBundlePem": "not a certificate"}),
            "caBundlePem",
        ),
    ] {
        let (status, body) = admin.put_targets(&link, &body).await;
        assert_eq!(status, 400, "{what}: {body}");
        assert_eq!(body["field"], field, "{what}: {body}");
        println!("refused ({what}): {}", body["message"]);
    }
    let (status, body) = admin.put_targets("nosuch1", &good).await;
    assert_eq!(status, 404, "{body}");
    assert_eq!(admin.targets(&link).await.1["targets"], json!([]));

    // Three targets, weights 1, 2, 3, round robin.
    let view = admin.set_targets(&link, &good).await;
    assert_eq!(view["targets"][2]["weight"], 3, "{view}");
    assert_eq!(view["healthCheck"]["path"], HEALTH_PATH, "{view}");
    admin
        .until_all(&link, EAST, &[&a, &b, &c], &["HEALTHY"])
        .await;
    for t in [&a, &b, &c] {
        until_gauge(ports.metrics, &link, t, 1.0).await;
    }

    // The URL's host is only the Host header; the path is the integration's.
    let served = east.get("/dev/internal/orders/42?x=1").await;
    let Outcome::Served(_, seen) = &served else {
        panic!("{served:?}")
    };
    assert_eq!(seen["host"], "orders.internal", "{seen}");
    assert_eq!(seen["path"], "/orders/42", "{seen}");
    assert_eq!(seen["query"], "x=1", "{seen}");
    // An ALB listener ARN names the link's targets; "API Gateway includes the stage
    // portion of the API endpoint in the request to your backend resources".
    let served = east.get("/dev/elb/orders/7").await;
    let Outcome::Served(_, seen) = &served else {
        panic!("{served:?}")
    };
    assert_eq!(seen["path"], "/dev/elb/orders/7", "{seen}");

    // Spread by weight.
    const SPREAD: usize = 600;
    let (counts, failures) = east.spread("/dev/internal/spread", SPREAD).await;
    println!("spread of {SPREAD} requests over weights a=1 b=2 c=3: {counts:?}");
    assert!(failures.is_empty(), "{failures:?}");
    assert_weighted("all healthy", &counts, &weights, SPREAD);

    // The node outside the link's groups answers 503 without trying; the one inside
    // serves the same route at the same time.
    let cache = tempfile::tempdir().expect("west cache");
    let (_west, west_proxy) = start_west_node(ports.grpc, cache.path());
    let west = Gateway::new(west_proxy, &api_id);
    wait_for("the west node to answer the route", LIMIT, || async {
        (west.raw("/dev/internal/x").await.ok()? == (503, UNAVAILABLE.to_string())).then_some(())
    })
    .await;
    for _ in 0..20 {
        assert_eq!(
            west.raw("/dev/internal/x").await,
            Ok((503, UNAVAILABLE.to_string()))
        );
        assert!(east.get("/dev/internal/x").await.upstream().is_some());
    }
    println!(
        "west node (--vpc-link-group west): 503 {UNAVAILABLE}; its health rows: {:?}",
        admin.health(&link, WEST).await
    );

    // One target killed under load.
    let load = Load::start(
        &east,
        "/dev/internal/load",
        4,
        20_000,
        Duration::from_secs(120),
    );
    wait_for("some load before the kill", LIMIT, || async {
        (load.count() >= 300).then_some(())
    })
    .await;
    let killed_at = Instant::now();
    b.kill();
    let (state, to_detect) = admin
        .until_state(&link, EAST, &b, &["UNHEALTHY", "EJECTED"], LIMIT)
        .await;
    let detected_at = Instant::now();
    const AFTER: usize = 600;
    wait_for(
        "several hundred requests after detection",
        LIMIT,
        || async { (load.started_since(detected_at) >= AFTER).then_some(()) },
    )
    .await;
    let records = load.finish().await;
    let before: Vec<_> = records.iter().filter(|(t, _)| *t < killed_at).collect();
    let during: Vec<_> = records
        .iter()
        .filter(|(t, _)| *t >= killed_at && *t < detected_at)
        .collect();
    let after: Vec<_> = records.iter().filter(|(t, _)| *t >= detected_at).collect();
    let (before_counts, before_failures) = count_by_target(&before);
    let (during_counts, during_failures) = count_by_target(&during);
    let (after_counts, after_failures) = count_by_target(&after);
    println!(
        "b killed under load (4 workers): detected as {state} after {to_detect:?}; \
         before the kill {} requests {before_counts:?}, {} failed; kill to detection {} requests \
         {during_counts:?}, {} failed; after detection {} requests {after_counts:?}, {} failed",
        before.len(),
        before_failures.len(),
        during.len(),
        during_failures.len(),
        after.len(),
        after_failures.len(),
    );
    if let Some(first) = during_failures.first() {
        println!("  the first failure before detection: {first}");
    }
    assert!(before_failures.is_empty(), "{before_failures:?}");
    assert!(after.len() >= AFTER);
    assert!(
        after_failures.is_empty(),
        "{} of {} requests after detection failed, e.g. {:?}",
        after_failures.len(),
        after.len(),
        after_failures.first()
    );
    assert!(!after_counts.contains_key("b"), "{after_counts:?}");
    // Active checks see it down too, once any ejection has run out.
    admin
        .until_state(&link, EAST, &b, &["UNHEALTHY"], LIMIT)
        .await;
    println!(
        "b UNHEALTHY by active checks by {:?} after the kill: {:?}",
        killed_at.elapsed(),
        admin.health(&link, EAST).await.get(&b.address())
    );
    until_gauge(ports.metrics, &link, &b, 0.0).await;

    // It returns: it gets its share again.
    b.restart();
    let (_, to_healthy) = admin
        .until_state(&link, EAST, &b, &["HEALTHY"], LIMIT)
        .await;
    let (counts, failures) = east.spread("/dev/internal/spread", SPREAD).await;
    println!("b restarted, reported HEALTHY after {to_healthy:?}; spread of {SPREAD}: {counts:?}");
    assert!(failures.is_empty(), "{failures:?}");
    assert_weighted("b back", &counts, &weights, SPREAD);

    // All down: the gateway's own 503.
    let all_down = Instant::now();
    for t in [&mut a, &mut b, &mut c] {
        t.kill();
    }
    let mut failed_until_503 = 0u32;
    wait_for("503 with every target down", LIMIT, || {
        failed_until_503 += 1;
        let east = east.clone();
        async move {
            (east.raw("/dev/internal/x").await.ok()? == (503, UNAVAILABLE.to_string()))
                .then_some(())
        }
    })
    .await;
    for _ in 0..50 {
        assert_eq!(
            east.raw("/dev/internal/x").await,
            Ok((503, UNAVAILABLE.to_string()))
        );
    }
    let answered_503 = all_down.elapsed();
    admin
        .until_all(&link, EAST, &[&a, &b, &c], &["UNHEALTHY", "EJECTED"])
        .await;
    println!(
        "all three killed: 503 {UNAVAILABLE} after {answered_503:?} ({failed_until_503} tries), \
         all reported down after {:?}: {:?}",
        all_down.elapsed(),
        admin.health(&link, EAST).await
    );
    for t in [&mut a, &mut b, &mut c] {
        t.restart();
    }
    admin
        .until_all(&link, EAST, &[&a, &b, &c], &["HEALTHY"])
        .await;

    // A target that answers 5xx is ejected by the requests themselves. Active checks
    // every 30 s, and its health path stays green in fail mode: no active check could
    // take it out, so the ejection can only be passive.
    let slow_check = json!({"protocol": "HTTP", "path": HEALTH_PATH, "intervalSeconds": 30,
        "timeoutSeconds": 5, "healthyThreshold": 1, "unhealthyThreshold": 2});
    let long_ejection =
        json!({"consecutive5xx": 3, "baseEjectionSeconds": 20, "maxEjectionSeconds": 40});
    admin
        .set_targets(
            &link,
            &targets_body(&[(&a, 1), (&b, 2), (&c, 3)], slow_check, long_ejection),
        )
        .await;
    admin.until_applied().await;
    admin
        .until_all(&link, EAST, &[&a, &b, &c], &["HEALTHY", "UNKNOWN"])
        .await;
    let (counts, failures) = east.spread("/dev/internal/warm", 60).await;
    assert!(failures.is_empty(), "{failures:?}");
    assert_eq!(counts.len(), 3, "{counts:?}");
    let failing_since = Instant::now();
    c.set_mode(Mode::Fail).await;
    let mut seen_500 = Vec::new();
    for i in 0..300 {
        match east.get("/dev/internal/passive").await {
            Outcome::Served(..) => {}
            Outcome::Failed(why) => seen_500.push(why),
        }
        if seen_500.len() >= 3 || (i % 10 == 9 && c.stats().await["errors"].as_u64() >= Some(3)) {
            break;
        }
    }
    let (state, _) = admin
        .until_state(&link, EAST, &c, &["EJECTED"], Duration::from_secs(10))
        .await;
    let to_eject = failing_since.elapsed();
    let stats = c.stats().await;
    println!(
        "c answering 500: {state} after {to_eject:?}, {} 500s answered by it, the client saw {:?}; \
         health checks it got meanwhile (all answered 200): {}",
        stats["errors"], seen_500, stats["healthChecksSinceMode"]
    );
    assert!(
        to_eject < Duration::from_secs(30),
        "before the next active check"
    );
    assert_eq!(
        stats["errors"], 3,
        "ejected after consecutive5xx = 3: {stats}"
    );
    for why in &seen_500 {
        assert!(
            why.starts_with("500 ") && why.contains("failing on purpose"),
            "{why}"
        );
    }
    let (counts, failures) = east.spread("/dev/internal/passive", 300).await;
    println!(
        "while c is ejected, 300 requests: {counts:?}, {} failed",
        failures.len()
    );
    assert!(failures.is_empty(), "{failures:?}");
    assert!(!counts.contains_key("c"), "{counts:?}");
    assert_eq!(c.stats().await["errors"], 3, "no request reached c");
    c.set_mode(Mode::Ok).await;

    https_target(&admin, &endpoint, ports.proxy, data.path()).await;

    // Deleting: refused while the API uses the link, allowed after; the route is gone.
    let torn = vpc_links(&[
        "teardown",
        "--endpoint",
        &endpoint,
        "--link-id",
        &link,
        "--api-id",
        &api_id,
    ]);
    println!("teardown: {torn}");
    let (status, body) = admin.targets(&link).await;
    assert_eq!(status, 404, "{body}");
    wait_for(
        "the deleted API to be gone from the node",
        LIMIT,
        || async { (east.raw("/dev/internal/x").await.ok()?.0 == 404).then_some(()) },
    )
    .await;
}

/// An https target on a link of its own: verified against the link's CA bundle for the
/// integration's `tlsConfig.serverNameToVerify`, which is also the SNI; a name the
/// certificate does not carry, or no CA bundle (the public roots), is refused.
async fn https_target(admin: &Admin, endpoint: &str, proxy: u16, dir: &std::path::Path) {
    let workdir = dir.join("secure-pki");
    let made = vpc_links(&[
        "tls",
        "--endpoint",
        endpoint,
        "--workdir",
        &workdir.display().to_string(),
    ]);
    let link = made["linkId"].as_str().expect("linkId").to_string();
    let api_id = made["apiId"].as_str().expect("apiId");
    let tls = TlsFiles {
        cert: made["cert"].as_str().expect("cert").into(),
        key: made["key"].as_str().expect("key").into(),
    };
    let ca = std::fs::read_to_string(made["ca"].as_str().expect("ca")).expect("CA PEM");
    let s = Target::start_with("s", HEALTH_PATH, Some(tls));
    let check = json!({"protocol": "HTTPS", "path": HEALTH_PATH, "intervalSeconds": 2,
        "timeoutSeconds": 1, "healthyThreshold": 1, "unhealthyThreshold": 2});
    let mut body = targets_body(&[(&s, 1)], check, json!({}));
    body["caBundlePem"] = json!(ca);
    let view = admin.set_targets(&link, &body).await;
    assert!(
        view["caBundlePem"]
            .as_str()
            .is_some_and(|p| p.contains("BEGIN CERTIFICATE")),
        "{view}"
    );
    admin
        .until_state(&link, EAST, &s, &["HEALTHY"], LIMIT)
        .await;
    let gw = Gateway::new(proxy, api_id);
    let served = wait_for("the https target to serve", LIMIT, || async {
        match gw.get("/dev/ok/orders").await {
            Outcome::Served(_, seen) => Some(seen),
            Outcome::Failed(_) => None,
        }
    })
    .await;
    assert_eq!(served["upstream"], "s", "{served}");
    assert_eq!(served["sni"], "orders.secure.test", "{served}");
    assert_eq!(served["host"], "orders.secure.test", "{served}");
    assert_eq!(served["path"], "/orders", "{served}");

    let proxied = |st: &Value| {
        st["requests"].as_u64().unwrap_or(0) - st["healthChecks"].as_u64().unwrap_or(0)
    };
    let before = proxied(&s.stats().await);
    let wrong = gw.raw("/dev/wrong/orders").await;
    println!("https target, serverNameToVerify the certificate lacks: {wrong:?}");
    assert!(matches!(&wrong, Ok((500, _))), "{wrong:?}");
    assert_eq!(proxied(&s.stats().await), before, "no request got through");
    // A name the certificate lacks is the integration's fault, not the target's: the
    // integration whose name it does carry is served at once.
    let right = gw.raw("/dev/ok/orders").await;
    println!("the right name just after the wrong one: {right:?}");
    assert!(matches!(&right, Ok((200, _))), "{right:?}");

    // Without the link's CA bundle, the test CA is no root the node trusts.
    body.as_object_mut().expect("object").remove("caBundlePem");
    admin.set_targets(&link, &body).await;
    admin.until_applied().await;
    let refused = wait_for(
        "the https target to be refused without the CA",
        LIMIT,
        || async {
            match gw.get("/dev/ok/orders").await {
                Outcome::Failed(why) => Some(why),
                Outcome::Served(..) => None,
            }
        },
    )
    .await;
    println!(
        "https target without the link's CA bundle: {refused}; s saw SNI {}",
        s.stats().await["sni"]
    );
}
