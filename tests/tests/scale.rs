//! The control plane at scale (#19): a real `portico serve` on a fresh Postgres database
//! takes 10,000 CreateRoute calls through the admin API, 8 in flight. It prints how long
//! they took and the rates of the first and last 1,000 (no timed assertion: the figure
//! goes to `bench/run`'s "Route scale" table), then checks every route is there by
//! paging the list by key and that a key matching an existing route is still refused.
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use portico_tests::fleet::Replica;
use portico_tests::postgres::TestDatabase;
use portico_tests::{admin_token, http_client, wait_for_admin};
use serde_json::{Value, json};

const ROUTES: usize = 10_000;
const IN_FLIGHT: usize = 8;
const LIMIT: Duration = Duration::from_secs(30);

fn route_key(n: usize) -> String {
    format!("GET /items{n}/{{id}}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn ten_thousand_routes_through_the_admin_api() {
    let db = TestDatabase::create("scale").await;
    let mut serve = Replica::start("serve", &db.url);
    let admin = serve.admin;
    wait_for_admin(admin, LIMIT).await;
    let token = admin_token(admin).await;
    let base = format!("http://127.0.0.1:{admin}");
    let client = http_client();

    let api: Value = client
        .post(format!("{base}/v2/apis"))
        .bearer_auth(&token)
        .json(&json!({ "name": "scale", "protocolType": "HTTP" }))
        .send()
        .await
        .expect("POST /v2/apis")
        .json()
        .await
        .expect("API JSON");
    let api_id = api["apiId"].as_str().expect("apiId").to_string();
    let integration: Value = client
        .post(format!("{base}/v2/apis/{api_id}/integrations"))
        .bearer_auth(&token)
        .json(&json!({
            "integrationType": "HTTP_PROXY",
            "integrationMethod": "ANY",
            "integrationUri": "http://127.0.0.1:8080/{proxy}",
            "payloadFormatVersion": "1.0",
        }))
        .send()
        .await
        .expect("POST integration")
        .json()
        .await
        .expect("integration JSON");
    let target = format!(
        "integrations/{}",
        integration["integrationId"]
            .as_str()
            .expect("integrationId")
    );

    // Workers take the next route number until all are made; each records when its
    // route was answered, from the start of the run.
    let next = Arc::new(AtomicUsize::new(0));
    let start = Instant::now();
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..IN_FLIGHT {
        let (next, client, base, token, api_id, target) = (
            next.clone(),
            client.clone(),
            base.clone(),
            token.clone(),
            api_id.clone(),
            target.clone(),
        );
        workers.spawn(async move {
            let mut answered = Vec::new();
            loop {
                let n = next.fetch_add(1, Ordering::Relaxed);
                if n >= ROUTES {
                    return answered;
                }
                let res = client
                    .post(format!("{base}/v2/apis/{api_id}/routes"))
                    .bearer_auth(&token)
                    .json(&json!({ "routeKey": route_key(n), "target": target }))
                    .send()
                    .await
                    .unwrap_or_else(|e| panic!("POST route {n}: {e}"));
                let status = res.status();
                let body = res.text().await.unwrap_or_default();
                assert_eq!(status, 201, "route {n}: {body}");
                answered.push(start.elapsed());
            }
        });
    }
    let mut answered: Vec<Duration> = Vec::with_capacity(ROUTES);
    while let Some(done) = workers.join_next().await {
        answered.extend(done.expect("worker"));
    }
    let total = start.elapsed();
    answered.sort();
    assert_eq!(answered.len(), ROUTES);
    let first = answered[999];
    let last = answered[ROUTES - 1] - answered[ROUTES - 1001];
    println!(
        "{ROUTES} CreateRoute calls ({IN_FLIGHT} in flight): {:.2} s, {:.0}/s overall; first 1,000 {:.0}/s, last 1,000 {:.0}/s",
        total.as_secs_f64(),
        ROUTES as f64 / total.as_secs_f64(),
        1000.0 / first.as_secs_f64(),
        1000.0 / last.as_secs_f64().max(1e-9),
    );

    // Every route is there: the list pages by key, 500 at a time, each route once.
    let mut keys = Vec::with_capacity(ROUTES);
    let mut next_token: Option<String> = None;
    let mut route_ids = std::collections::BTreeMap::new();
    for _ in 0..(ROUTES / 500 + 2) {
        let mut url = format!("{base}/v2/apis/{api_id}/routes?maxResults=500");
        if let Some(t) = &next_token {
            url.push_str(&format!("&nextToken={t}"));
        }
        let page: Value = client
            .get(url)
            .bearer_auth(&token)
            .send()
            .await
            .expect("GET routes")
            .json()
            .await
            .expect("routes JSON");
        for r in page["items"].as_array().expect("items") {
            let key = r["routeKey"].as_str().expect("routeKey").to_string();
            route_ids.insert(key.clone(), r["routeId"].as_str().expect("id").to_string());
            keys.push(key);
        }
        next_token = page["nextToken"].as_str().map(String::from);
        if next_token.is_none() {
            break;
        }
    }
    assert!(next_token.is_none(), "the list ended");
    assert_eq!(keys.len(), ROUTES, "each route listed once");
    let mut expected: Vec<String> = (0..ROUTES).map(route_key).collect();
    expected.sort();
    keys.sort();
    assert_eq!(keys, expected);

    // At 10,000 routes a key that matches the same requests as one of them is refused,
    // naming it (AWS: "Working with routes for HTTP APIs" — path variables match any
    // segment, whatever they are called).
    let res = client
        .post(format!("{base}/v2/apis/{api_id}/routes"))
        .bearer_auth(&token)
        .json(&json!({ "routeKey": "GET /items5000/{other}", "target": target }))
        .send()
        .await
        .expect("POST colliding route");
    assert_eq!(res.status(), 409);
    assert_eq!(
        res.headers()
            .get("x-amzn-ErrorType")
            .and_then(|v| v.to_str().ok()),
        Some("ConflictException")
    );
    let body: Value = res.json().await.expect("error JSON");
    let message = body["message"].as_str().expect("message");
    let existing = &route_ids[&route_key(5000)];
    assert!(
        message.contains(existing.as_str()) && message.contains("GET /items5000/{id}"),
        "the conflict names the existing route: {message}"
    );

    serve.stop().await;
    db.drop_db().await;
}
