//! The README's walkthrough, run as written: every `sh` block of its walkthrough sections,
//! in order, in one bash session with the real AWS CLI, curl and Python's http.server,
//! against `portico up`. Only what the README tells the reader to fill in is filled in
//! (the printed key, secret and password), and its fixed ports are moved to free ones, so
//! the README cannot drift from the product without this test failing.
use std::process::Command;
use std::time::Duration;

use portico_tests::process::{UpPorts, portico_up};
use portico_tests::{credentials, free_port, wait_for_admin};

/// The README sections whose shell blocks make up the walkthrough, in reading order.
const WALKTHROUGH: &[&str] = &[
    "## Five minutes with the notes API",
    "## CORS, parameter mapping and throttling",
    "## Lambda functions",
    "## Authorizers",
    "## Custom domains and HTTPS",
    "## Access logs, metrics, traces and cost",
    "## Export and import (OpenAPI 3.0)",
    "## Private backends (VPC links)",
    "## When a stage is not served as deployed",
];

/// The `sh` blocks under `heading`, up to the next `## ` heading.
fn blocks(readme: &str, heading: &str) -> Vec<String> {
    let start = readme
        .find(&format!("\n{heading}\n"))
        .unwrap_or_else(|| panic!("README has no section {heading:?}"));
    let section = &readme[start + heading.len() + 2..];
    let section = section.find("\n## ").map_or(section, |end| &section[..end]);
    let mut blocks = Vec::new();
    let mut rest = section;
    while let Some(open) = rest.find("```sh\n") {
        let body = &rest[open + 6..];
        let close = body.find("\n```").expect("an sh block is closed");
        blocks.push(body[..close].to_string());
        rest = &body[close + 4..];
    }
    blocks
}

/// `text` with `from` replaced, which must be there: a README that no longer says `from`
/// needs this test changed, not silently skipped.
fn fill_in(text: &str, from: &str, to: &str) -> String {
    assert!(
        text.contains(from),
        "the README walkthrough no longer has {from:?}"
    );
    text.replace(from, to)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_readme_walkthrough_runs_as_written() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md"))
        .expect("read README.md");
    let data = tempfile::tempdir().expect("data dir");
    let scratch = tempfile::tempdir().expect("scratch dir");
    let ports = UpPorts::free();
    let backend = free_port();
    let private = free_port();
    let lambda = free_port();
    let issuer = free_port();
    // The README restarts Portico with `--lambda-endpoint`; this one has it from the start.
    let _up = portico_up(
        data.path(),
        &ports,
        &[(
            "PORTICO_LAMBDA_ENDPOINT",
            format!("http://127.0.0.1:{lambda}"),
        )],
    );
    wait_for_admin(ports.admin, Duration::from_secs(30)).await;

    let mut steps = Vec::new();
    for heading in WALKTHROUGH {
        for block in blocks(&readme, heading) {
            // The test has started Portico itself, as `./scripts/up` would.
            if block.trim().starts_with("./scripts/up") {
                continue;
            }
            steps.push(block);
        }
    }
    let mut script = steps.join("\nreadme_settle\n");
    let notes_dir = scratch.path().join("notes-backend");
    for (from, to) in [
        ("<printed key id>", credentials::ADMIN_KEY.to_string()),
        ("<printed secret>", credentials::ADMIN_SECRET.to_string()),
        (
            "<printed password>",
            credentials::ADMIN_PASSWORD.to_string(),
        ),
        ("127.0.0.1:9000", format!("127.0.0.1:{}", ports.admin)),
        ("localhost:8000", format!("localhost:{}", ports.proxy)),
        ("8080", backend.to_string()),
        ("8081", private.to_string()),
        ("9002", lambda.to_string()),
        ("9003", issuer.to_string()),
        ("8443", ports.proxy_tls.to_string()),
        ("127.0.0.1:9100", format!("127.0.0.1:{}", ports.metrics)),
        ("./portico-data", data.path().display().to_string()),
        ("/tmp/notes-backend", notes_dir.display().to_string()),
        (
            "/tmp/notes-private",
            scratch.path().join("notes-private").display().to_string(),
        ),
    ] {
        script = fill_in(&script, from, &to);
    }
    // Between blocks the reader would wait a moment; the script waits until every node
    // serves the newest version, which is what that moment is for.
    let prelude = format!(
        r#"set -euo pipefail
trap 'kill $(jobs -p) 2>/dev/null || true' EXIT
readme_token=$(curl -sf http://127.0.0.1:{admin}/portico/login \
  -d '{{"userName":"admin","password":"{password}"}}' \
  | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
readme_settle() {{
  for _ in $(seq 100); do
    curl -sf -H "Authorization: Bearer $readme_token" http://127.0.0.1:{admin}/portico/nodes \
      | python3 -c 'import json,sys; n=json.load(sys.stdin); sys.exit(0 if n["items"] and all(i["appliedVersion"] >= n["currentVersion"] for i in n["items"]) else 1)' \
      && break
    sleep 0.1
  done
  # http.server must be listening before the first call through the gateway.
  for _ in $(seq 100); do
    (exec 3<>/dev/tcp/127.0.0.1/{backend}) 2>/dev/null && break
    sleep 0.1
  done
}}
"#,
        admin = ports.admin,
        password = credentials::ADMIN_PASSWORD,
        backend = backend,
    );
    let home = scratch.path().join("home");
    std::fs::create_dir_all(&home).expect("home");
    let out = tokio::task::spawn_blocking(move || {
        Command::new("timeout")
            // The README's commands run from the repository's root.
            .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
            .args(["180", "bash", "-c", &format!("{prelude}{script}\n")])
            .env_remove("AWS_ACCESS_KEY_ID")
            .env_remove("AWS_SECRET_ACCESS_KEY")
            .env_remove("AWS_PROFILE")
            // Nothing of the machine's own AWS set-up may help or hinder the reader's steps.
            .env("HOME", &home)
            .env("AWS_CONFIG_FILE", home.join("aws-config"))
            .env("AWS_SHARED_CREDENTIALS_FILE", home.join("aws-credentials"))
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env("AWS_PAGER", "")
            .output()
            .expect("run bash")
    })
    .await
    .expect("walkthrough task");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "the README walkthrough failed ({}):\n--- stdout\n{stdout}\n--- stderr\n{stderr}",
        out.status
    );
    // What the reader is told they will see.
    assert!(stdout.contains("HTTP/1.1 200 OK"), "{stdout}");
    assert!(stdout.contains("apigw-requestid: "), "{stdout}");
    assert!(
        stdout.matches(r#"[{"id":1,"text":"hello"}]"#).count() >= 2,
        "dev and prod both serve the notes:\n{stdout}"
    );
    assert!(stdout.contains(r#""lastStatus":"ACK""#), "{stdout}");
    assert!(stdout.contains("HTTP/1.1 204 No Content"), "{stdout}");
    assert!(
        stdout.contains("access-control-allow-origin: https://app.example.com"),
        "{stdout}"
    );
    assert!(stdout.contains("x-served-by: portico dev"), "{stdout}");
    assert!(stdout.contains("200 200 429 429"), "{stdout}");
    assert!(stdout.contains(r#""actor":"admin""#), "{stdout}");
    // Authorizers: no token and a token; the Lambda authorizer's allow and deny; a
    // signed and an unsigned IAM call.
    assert!(stdout.contains("HTTP/1.1 401 Unauthorized"), "{stdout}");
    assert!(stdout.contains(" allow: 200"), "{stdout}");
    assert!(
        stdout.contains(r#"{"message":"Forbidden"} deny: 403"#),
        "{stdout}"
    );
    assert!(stdout.contains("signed: 200"), "{stdout}");
    assert!(
        stdout.contains(r#"{"message":"Forbidden"} unsigned: 403"#),
        "{stdout}"
    );
    assert!(
        stdout.matches(r#""text": "from a function""#).count() >= 2,
        "the function made the note and lists it:\n{stdout}"
    );
    assert!(stdout.contains(r#""routeKey": "$default""#), "{stdout}");
    // VPC links: the private copy gets most calls (weight 3 of 4), and the node reports
    // both endpoints' health.
    assert!(
        stdout.matches(r#"[{"id":2,"text":"private"}]"#).count() >= 2,
        "{stdout}"
    );
    assert!(stdout.contains(r#""nodeId":"local""#), "{stdout}");
    // Custom domains: the prod stage through the `v1` mapping, over TLS with HTTP/2.
    assert!(
        stdout.contains("[{\"id\":1,\"text\":\"hello\"}]\n over HTTP/2"),
        "{stdout}"
    );
}
