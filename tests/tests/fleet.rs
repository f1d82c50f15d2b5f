//! Running a fleet (issue #19). The packaging a team deploys with is checked by the parsers
//! it will meet (`docker-compose config`, `kubernetes-validate`) and against the real
//! binaries' argument parsers, and the topology it describes runs for real on loopback:
//! two `portico serve` replicas on one Postgres database, three `portico-proxy` nodes and
//! haproxy with the repository's own config, restarted piece by piece under load.
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use portico_tests::fleet::{self, Balancer, LIMIT, Node, NodeSpec, Replica, sample};
use portico_tests::load::{Load, LoadPlan};
use portico_tests::postgres::TestDatabase;
use portico_tests::process::bin;
use portico_tests::{admin_token, http_client, upstream, wait_for};
use serde_json::{Value, json};
use serde_yaml_ng::Value as Yaml;

/// The Kubernetes version the manifests are validated against (kubernetes-validate's
/// schemas; the oldest release still supported upstream when this was written).
const KUBERNETES_VERSION: &str = "1.34.0";

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .canonicalize()
        .expect("repository root")
}

/// Runs a checking tool; its output when it fails.
fn run_tool(what: &str, cmd: &mut Command) -> String {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("run {what} (scripts/test installs it): {e}"));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{what} failed:\n{text}");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The binary's own parser accepts `command` (program first): clap reads every flag and
/// value in order and stops with an error at the first it does not know or cannot
/// parse, so the same arguments followed by `--help` exit 0 only if all of them are
/// right, without the program running.
fn assert_real_flags(origin: &str, command: &[String]) {
    let program = command.first().map(String::as_str).unwrap_or_default();
    assert!(
        matches!(program, "portico" | "portico-proxy"),
        "{origin}: runs {program:?}, not portico or portico-proxy"
    );
    let mut cmd = Command::new(bin(program));
    cmd.args(&command[1..]).arg("--help");
    // Only the arguments are checked: nothing from this environment fills them in.
    for (key, _) in std::env::vars() {
        if key.starts_with("PORTICO_") {
            cmd.env_remove(key);
        }
    }
    let out = cmd.output().expect("run the binary");
    assert!(
        out.status.success(),
        "{origin}: {program} refuses {:?}:\n{}",
        &command[1..],
        String::from_utf8_lossy(&out.stderr)
    );
}

fn strings(value: &Yaml) -> Vec<String> {
    value
        .as_sequence()
        .map(|s| {
            s.iter()
                .map(|v| match v {
                    Yaml::String(s) => s.clone(),
                    other => serde_yaml_ng::to_string(other)
                        .expect("a scalar")
                        .trim()
                        .to_string(),
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The value after `flag` in `command`.
fn flag_value<'a>(command: &'a [String], flag: &str) -> Option<&'a str> {
    let at = command.iter().position(|a| a == flag)?;
    command.get(at + 1).map(String::as_str)
}

/// `30s`, `1m30s` (compose's durations) in seconds.
fn compose_seconds(text: &str) -> u64 {
    let (mut total, mut number) = (0, String::new());
    for c in text.chars() {
        if c.is_ascii_digit() {
            number.push(c);
        } else {
            let n: u64 = number.parse().expect("a number before the unit");
            number.clear();
            total += match c {
                'h' => n * 3600,
                'm' => n * 60,
                's' => n,
                other => panic!("unknown duration unit {other:?} in {text:?}"),
            };
        }
    }
    total
}

/// The compose file parses with `.env.example` as its environment, names every secret
/// it needs in `.env.example`, and passes the binaries only flags they accept.
#[test]
fn the_compose_file_parses_and_passes_real_flags() {
    let root = repo();
    let compose = |extra: &[&str]| {
        let mut cmd = Command::new("docker-compose");
        cmd.current_dir(&root)
            .args([
                "-f",
                "docker-compose.yml",
                "--env-file",
                ".env.example",
                "config",
            ])
            .args(extra);
        // Secrets come from the env file only, never from whoever runs the test.
        for (key, _) in std::env::vars() {
            if key.starts_with("PORTICO_") || key.starts_with("POSTGRES_") {
                cmd.env_remove(key);
            }
        }
        cmd
    };
    run_tool("docker-compose config -q", &mut compose(&["-q"]));
    let resolved: Yaml =
        serde_yaml_ng::from_str(&run_tool("docker-compose config", &mut compose(&[])))
            .expect("docker-compose config prints YAML");

    let services = resolved["services"].as_mapping().expect("services");
    let names: BTreeSet<&str> = services.keys().filter_map(Yaml::as_str).collect();
    let expected: BTreeSet<&str> = [
        "postgres", "cp1", "cp2", "proxy1", "proxy2", "proxy3", "haproxy",
    ]
    .into();
    assert_eq!(names, expected);

    for (name, service) in services {
        let name = name.as_str().expect("service name");
        let command = strings(&service["command"]);
        if name.starts_with("cp") || name.starts_with("proxy") {
            assert_real_flags(&format!("docker-compose.yml service {name}"), &command);
        }
        if name.starts_with("proxy") {
            let planes: BTreeSet<&str> = flag_value(&command, "--control-plane")
                .expect("--control-plane")
                .split(',')
                .collect();
            assert_eq!(
                planes,
                ["http://cp1:9001", "http://cp2:9001"].into(),
                "{name}"
            );
            assert_eq!(
                flag_value(&command, "--metrics-addr"),
                Some("0.0.0.0:9100"),
                "{name}"
            );
            assert_eq!(
                flag_value(&command, "--advertise-addr"),
                Some(format!("{name}:8000").as_str())
            );
            let drain: u64 = flag_value(&command, "--drain-seconds")
                .expect("--drain-seconds")
                .parse()
                .expect("a number of seconds");
            let grace = compose_seconds(
                service["stop_grace_period"]
                    .as_str()
                    .expect("stop_grace_period"),
            );
            assert!(
                grace > drain,
                "{name}: stop_grace_period {grace}s is not longer than the drain ({drain}s)"
            );
        }
    }

    // The balancer runs the config the end-to-end tests below run.
    let mounted = strings(&services["haproxy"]["volumes"]);
    let config = fleet::haproxy_config_path()
        .canonicalize()
        .expect("haproxy.cfg");
    assert!(
        mounted
            .iter()
            .any(|v| v.starts_with(&format!("{}:", config.display()))),
        "haproxy does not mount deploy/haproxy/haproxy.cfg: {mounted:?}"
    );

    // Every variable the file reads is documented in .env.example, and .env stays local.
    let file = std::fs::read_to_string(root.join("docker-compose.yml")).expect("compose file");
    let example = std::fs::read_to_string(root.join(".env.example")).expect(".env.example");
    let documented: BTreeSet<&str> = example
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.split_once('=').map(|(k, _)| k.trim()))
        .collect();
    let used: BTreeSet<&str> = file
        .split("${")
        .skip(1)
        .filter_map(|rest| {
            rest.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .next()
        })
        .collect();
    assert_eq!(
        used, documented,
        "variables docker-compose.yml reads vs .env.example"
    );
    let ignored = std::fs::read_to_string(root.join(".gitignore")).expect(".gitignore");
    assert!(
        ignored.lines().any(|l| l == "/.env"),
        ".env is not git-ignored"
    );
}

/// Every manifest validates against the pinned Kubernetes version's schemas (strictly:
/// no field Kubernetes does not know), kustomization.yaml installs all of them but the
/// Secret template, and the containers pass the binaries only flags they accept.
#[test]
fn the_kubernetes_manifests_validate_and_pass_real_flags() {
    let dir = repo().join("deploy/kubernetes");
    let mut files: Vec<String> = std::fs::read_dir(&dir)
        .expect("deploy/kubernetes")
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.ends_with(".yaml"))
        .collect();
    files.sort();
    let manifests: Vec<&String> = files
        .iter()
        .filter(|f| *f != "kustomization.yaml")
        .collect();
    run_tool(
        "kubernetes-validate",
        Command::new("kubernetes-validate")
            .current_dir(&dir)
            .args([
                "--kubernetes-version",
                KUBERNETES_VERSION,
                "--strict",
                "--quiet",
            ])
            .args(&manifests),
    );

    let kustomization: Yaml = serde_yaml_ng::from_str(
        &std::fs::read_to_string(dir.join("kustomization.yaml")).expect("kustomization.yaml"),
    )
    .expect("kustomization YAML");
    let installed: BTreeSet<String> = strings(&kustomization["resources"]).into_iter().collect();
    let expected: BTreeSet<String> = manifests
        .iter()
        .filter(|f| f.as_str() != "secret.example.yaml")
        .map(|f| f.to_string())
        .collect();
    assert_eq!(installed, expected, "kustomization.yaml resources");

    let mut secret_keys = BTreeSet::new();
    let mut used_keys = BTreeSet::new();
    let mut deployments = 0;
    for file in &manifests {
        let text = std::fs::read_to_string(dir.join(file)).expect("manifest");
        for doc in serde_yaml_ng::Deserializer::from_str(&text) {
            let doc: Yaml = serde::Deserialize::deserialize(doc).expect("manifest YAML");
            match doc["kind"].as_str() {
                Some("Secret") => {
                    if let Some(data) = doc["stringData"].as_mapping() {
                        secret_keys.extend(data.keys().filter_map(Yaml::as_str).map(String::from));
                    }
                }
                Some("Deployment") => {
                    deployments += 1;
                    let pod = &doc["spec"]["template"]["spec"];
                    for container in pod["containers"].as_sequence().expect("containers") {
                        // Kubernetes fills `$(VAR)` from the container's env: a pod's values.
                        let args: Vec<String> = strings(&container["args"])
                            .into_iter()
                            .map(|a| {
                                a.replace("$(POD_NAME)", "portico-proxy-7d9f-abcde")
                                    .replace("$(POD_IP)", "10.1.2.3")
                            })
                            .collect();
                        assert_real_flags(
                            &format!("{file} {}", doc["metadata"]["name"].as_str().unwrap_or("?")),
                            &args,
                        );
                        if let Some(drain) = flag_value(&args, "--drain-seconds") {
                            let drain: u64 = drain.parse().expect("drain seconds");
                            let grace = pod["terminationGracePeriodSeconds"]
                                .as_u64()
                                .expect("terminationGracePeriodSeconds");
                            assert!(
                                grace > drain,
                                "{file}: terminationGracePeriodSeconds {grace} is not above the drain ({drain})"
                            );
                        }
                        for env in container["env"].as_sequence().into_iter().flatten() {
                            if let Some(key) = env["valueFrom"]["secretKeyRef"]["key"].as_str() {
                                used_keys.insert(key.to_string());
                            }
                        }
                    }
                }
                _ => {}
            }
        }
    }
    assert_eq!(deployments, 2, "the control plane and the proxy");
    assert_eq!(
        used_keys, secret_keys,
        "keys the Deployments read vs secret.example.yaml"
    );
}

/// An API with one route to the echo upstream and a stage `live` deployed explicitly, so
/// each [`deploy`] is a new snapshot version. Returns the API id and its execute-api host.
async fn create_api(
    replica: &Replica,
    token: &str,
    upstream: std::net::SocketAddr,
) -> (String, String) {
    let api = admin_post(
        replica,
        token,
        "/v2/apis",
        json!({"name": "fleet", "protocolType": "HTTP"}),
    )
    .await;
    let api_id = api["apiId"].as_str().expect("apiId").to_string();
    let integration = admin_post(
        replica,
        token,
        &format!("/v2/apis/{api_id}/integrations"),
        json!({
            "integrationType": "HTTP_PROXY",
            "integrationUri": format!("http://{upstream}/fleet"),
            "integrationMethod": "ANY",
            "payloadFormatVersion": "1.0",
        }),
    )
    .await;
    let integration_id = integration["integrationId"]
        .as_str()
        .expect("integrationId");
    admin_post(
        replica,
        token,
        &format!("/v2/apis/{api_id}/routes"),
        json!({"routeKey": "GET /hello", "target": format!("integrations/{integration_id}")}),
    )
    .await;
    admin_post(
        replica,
        token,
        &format!("/v2/apis/{api_id}/stages"),
        json!({"stageName": "live"}),
    )
    .await;
    deploy(replica, token, &api_id, "first").await;
    let host = format!("{api_id}.execute-api.localhost:8000");
    (api_id, host)
}

/// A new deployment of `live`: a new snapshot version for every node.
async fn deploy(replica: &Replica, token: &str, api_id: &str, description: &str) {
    admin_post(
        replica,
        token,
        &format!("/v2/apis/{api_id}/deployments"),
        json!({"stageName": "live", "description": description}),
    )
    .await;
}

async fn admin_post(replica: &Replica, token: &str, path: &str, body: Value) -> Value {
    let res = http_client()
        .post(format!("{}{path}", replica.admin_url()))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap_or_else(|e| panic!("POST {path}: {e}"));
    let status = res.status();
    let answer: Value = res.json().await.unwrap_or(Value::Null);
    assert!(status.is_success(), "POST {path}: {status} {answer}");
    answer
}

async fn stored_version(db: &TestDatabase) -> u64 {
    let mut conn = db.connect().await;
    let v: i64 = sqlx::query_scalar("SELECT snapshot_version FROM cluster_state WHERE id = 1")
        .fetch_one(&mut conn)
        .await
        .expect("read the snapshot version");
    u64::try_from(v).expect("a version is not negative")
}

fn cache_spec(
    name: &str,
    control_planes: Vec<String>,
    cache: &Path,
    drain_seconds: Option<u32>,
) -> NodeSpec {
    NodeSpec {
        name: name.to_string(),
        control_planes,
        cache_dir: cache.join(name),
        drain_seconds,
        advertise_addr: None,
    }
}

/// "Rolling restarts with zero errors": under steady keep-alive load through haproxy (the
/// repository's config), every node is restarted one by one (SIGTERM: it drains, exits
/// cleanly, starts again) and then both replicas, a new version deployed between
/// restarts. No request fails, and every node ends on the store's newest version.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rolling_restarts_of_every_node_and_replica_lose_no_request() {
    const DRAIN_SECONDS: u32 = 2;
    let db = TestDatabase::create("fleet_rolling").await;
    let upstream = upstream::start().await;
    let cache = tempfile::tempdir().expect("cache dir");
    let lb_dir = tempfile::tempdir().expect("haproxy dir");

    let mut replicas = [
        Replica::start("cp1", &db.url),
        Replica::start("cp2", &db.url),
    ];
    for r in &replicas {
        r.wait_healthy().await;
    }
    let token = admin_token(replicas[0].admin).await;
    let (api_id, host) = create_api(&replicas[0], &token, upstream).await;
    // Nodes 1 and 3 prefer cp1, node 2 cp2, as docker-compose.yml has them.
    let (cp1, cp2) = (replicas[0].grpc_url(), replicas[1].grpc_url());
    let mut nodes: Vec<Node> = (1..=3)
        .map(|i| {
            let order = if i == 2 {
                vec![cp2.clone(), cp1.clone()]
            } else {
                vec![cp1.clone(), cp2.clone()]
            };
            Node::start(cache_spec(
                &format!("proxy{i}"),
                order,
                cache.path(),
                Some(DRAIN_SECONDS),
            ))
        })
        .collect();
    let version = stored_version(&db).await;
    for node in &nodes {
        node.wait_version(version).await;
    }

    let lb = Balancer::start(
        &nodes.iter().collect::<Vec<_>>(),
        &[&replicas[0], &replicas[1]],
        lb_dir.path(),
    );
    let url = format!("http://127.0.0.1:{}/live/hello", lb.port);
    wait_for("haproxy to serve the route", LIMIT, || async {
        let res = http_client()
            .get(&url)
            .header("host", &host)
            .send()
            .await
            .ok()?;
        (res.status() == 200).then_some(())
    })
    .await;
    // Every node's health check has passed `rise` times before the clock starts.
    tokio::time::sleep(Duration::from_millis(1500)).await;

    let load = Load::start(LoadPlan {
        url: url.clone(),
        host: host.clone(),
        clients: 4,
        pause: Duration::from_millis(2),
        max_requests_per_client: 100_000,
        max_time: Duration::from_secs(240),
    });
    tokio::time::sleep(Duration::from_secs(1)).await;
    let started = Instant::now();

    for (i, node) in nodes.iter_mut().enumerate() {
        deploy(
            &replicas[i % 2],
            &token,
            &api_id,
            &format!("before restarting {}", node.name()),
        )
        .await;
        node.terminate();
        let drain_started = Instant::now();
        // The balancer hears of the drain from /ready at once, while the node still serves.
        let draining = wait_for(
            &format!("{} to say it drains", node.name()),
            Duration::from_secs(2),
            || async {
                match node.ready().await? {
                    (503, body) => Some(body),
                    _ => None,
                }
            },
        )
        .await;
        assert_eq!(draining["message"], "Draining", "{}", node.name());
        let status = node.wait_exit().await;
        let drained = drain_started.elapsed();
        assert!(status.success(), "{} exited with {status}", node.name());
        assert!(
            drained >= Duration::from_secs(DRAIN_SECONDS.into()),
            "{} exited after {drained:?}, before its drain of {DRAIN_SECONDS} s",
            node.name()
        );
        node.start_again();
        node.wait_ready().await;
        println!(
            "{}: drained and exited in {drained:.2?}, ready again",
            node.name()
        );
        // haproxy takes it back after `rise` passing checks before the next one goes.
        tokio::time::sleep(Duration::from_millis(1500)).await;
    }
    for i in 0..replicas.len() {
        let status = replicas[i].stop().await;
        assert!(
            status.success(),
            "{} exited with {status}",
            replicas[i].name
        );
        replicas[i].start_again();
        replicas[i].wait_healthy().await;
        let other = &replicas[(i + 1) % 2];
        deploy(
            other,
            &token,
            &api_id,
            &format!("after restarting {}", replicas[i].name),
        )
        .await;
        println!("{}: stopped and healthy again", replicas[i].name);
    }

    let newest = stored_version(&db).await;
    let mut finals = Vec::new();
    for node in &nodes {
        node.wait_version(newest).await;
        let (_, body) = node.ready().await.expect("ready");
        finals.push((node.name().to_string(), body["version"].as_u64()));
    }
    // The console and admin API through the balancer, on the restarted replicas.
    let health = http_client()
        .get(format!("http://127.0.0.1:{}/portico/health", lb.admin_port))
        .send()
        .await
        .expect("the admin API through haproxy");
    assert_eq!(health.status(), 200);
    tokio::time::sleep(Duration::from_millis(500)).await;
    let tally = load.finish().await;
    let seconds = started.elapsed().as_secs_f64();

    println!(
        "rolling restart of 3 nodes (drain {DRAIN_SECONDS} s) and 2 replicas behind haproxy, {seconds:.1} s: \
         {} requests sent, {} failed ({} non-2xx, {} connection errors); newest version {newest}; \
         each node's final version: {}",
        tally.sent,
        tally.failed(),
        tally.non_2xx,
        tally.connection_errors,
        finals
            .iter()
            .map(|(n, v)| format!("{n} {}", v.map_or("?".into(), |v| v.to_string())))
            .collect::<Vec<_>>()
            .join(", ")
    );
    assert_eq!(
        tally.failed(),
        0,
        "failures: {:#?}\nhaproxy log:\n{}",
        tally.failures,
        lb.read_log()
    );
    assert!(
        tally.ok >= 1000,
        "too little load to show anything: {tally:?}"
    );
    for (name, v) in &finals {
        assert_eq!(*v, Some(newest), "{name} ends on the newest version");
    }
    drop(nodes);
    drop(replicas);
    db.drop_db().await;
}

/// The node's push counters: (full, version_only, unchanged).
async fn pushes(node: &Node) -> (f64, f64, f64) {
    let text = node.metrics().await.expect("node metrics");
    let count = |content: &str| {
        sample(&text, "portico_config_pushes_total", |labels| {
            labels.iter().any(|(k, v)| k == "content" && v == content)
        })
        .unwrap_or(0.0)
    };
    (count("full"), count("version_only"), count("unchanged"))
}

/// Whether the node's config stream is on `url` (`portico_config_stream_connected`).
async fn streams_from(node: &Node, url: &str) -> bool {
    let Some(text) = node.metrics().await else {
        return false;
    };
    sample(&text, "portico_config_stream_connected", |labels| {
        labels
            .iter()
            .any(|(k, v)| k == "control_plane" && v.trim_end_matches('/') == url)
    }) == Some(1.0)
}

/// Polls (every 10 ms, bounded) until the node streams from `url`; the time it took.
async fn time_until_on(node: &Node, url: &str, since: Instant) -> Duration {
    wait_for(
        &format!("{} to stream from {url}", node.name()),
        Duration::from_secs(10),
        || async {
            if streams_from(node, url).await {
                Some(since.elapsed())
            } else {
                tokio::time::sleep(Duration::from_millis(10)).await;
                None
            }
        },
    )
    .await
}

/// "Replica failover": a node whose replica dies (SIGKILL) is on the other within a
/// second, and resumes from the version it has (no full snapshot downloaded again); a
/// replica stopped gracefully (SIGTERM) closes its streams, so the node moves to the
/// other (restarted) replica at once too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_moves_to_another_replica_within_a_second_without_a_full_download() {
    let db = TestDatabase::create("fleet_failover").await;
    let upstream = upstream::start().await;
    let cache = tempfile::tempdir().expect("cache dir");
    let mut replicas = [
        Replica::start("cp1", &db.url),
        Replica::start("cp2", &db.url),
    ];
    for r in &replicas {
        r.wait_healthy().await;
    }
    let token = admin_token(replicas[0].admin).await;
    create_api(&replicas[0], &token, upstream).await;
    let (cp1, cp2) = (replicas[0].grpc_url(), replicas[1].grpc_url());
    let node = Node::start(cache_spec(
        "edge-1",
        vec![cp1.clone(), cp2.clone()],
        cache.path(),
        None,
    ));
    node.wait_version(stored_version(&db).await).await;
    time_until_on(&node, &cp1, Instant::now()).await;
    let before = pushes(&node).await;
    assert!(
        before.0 >= 1.0,
        "the first push is a full snapshot: {before:?}"
    );

    // A crash: no goodbye on the stream.
    let killed = Instant::now();
    replicas[0].kill();
    let moved = time_until_on(&node, &cp2, killed).await;
    let resumed = wait_for("the node to resume on cp2", LIMIT, || async {
        let now = pushes(&node).await;
        (now.1 + now.2 > before.1 + before.2).then_some(now)
    })
    .await;
    println!(
        "replica failover (SIGKILL of cp1): the node streamed from cp2 after {moved:.2?}; \
         pushes full/version_only/unchanged {before:?} -> {resumed:?}"
    );
    assert!(
        moved < Duration::from_secs(1),
        "the node took {moved:?} to reach cp2"
    );
    assert_eq!(
        resumed.0, before.0,
        "the node downloaded a full snapshot again"
    );

    // A graceful stop: cp2 closes its streams on SIGTERM; the node goes back to cp1.
    replicas[0].start_again();
    replicas[0].wait_healthy().await;
    let stopping = Instant::now();
    let (moved_back, status) =
        tokio::join!(time_until_on(&node, &cp1, stopping), replicas[1].stop());
    assert!(status.success(), "cp2 exited with {status}");
    let after = wait_for("the node to resume on cp1", LIMIT, || async {
        let now = pushes(&node).await;
        (now.1 + now.2 > resumed.1 + resumed.2).then_some(now)
    })
    .await;
    println!(
        "replica failover (SIGTERM of cp2): the node streamed from the restarted cp1 after \
         {moved_back:.2?}; pushes full/version_only/unchanged {resumed:?} -> {after:?}"
    );
    assert!(
        moved_back < Duration::from_secs(1),
        "the node took {moved_back:?} to reach cp1"
    );
    assert_eq!(
        after.0, before.0,
        "the node downloaded a full snapshot again"
    );
    drop(node);
    drop(replicas);
    db.drop_db().await;
}

/// `--advertise-addr`: the Nodes list says where the node can be reached.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_nodes_list_shows_the_advertised_address() {
    const ADVERTISED: &str = "edge-7.example.net:8000";
    let db = TestDatabase::create("fleet_advertise").await;
    let cache = tempfile::tempdir().expect("cache dir");
    let replica = Replica::start("cp1", &db.url);
    replica.wait_healthy().await;
    let token = admin_token(replica.admin).await;
    let mut spec = cache_spec("edge-7", vec![replica.grpc_url()], cache.path(), None);
    spec.advertise_addr = Some(ADVERTISED.to_string());
    let node = Node::start(spec);
    node.wait_ready().await;
    let listed = wait_for("the node in the Nodes list", LIMIT, || async {
        let body: Value = http_client()
            .get(format!("{}/portico/nodes", replica.admin_url()))
            .bearer_auth(&token)
            .send()
            .await
            .ok()?
            .json()
            .await
            .ok()?;
        body["items"]
            .as_array()?
            .iter()
            .find(|n| n["nodeId"] == "edge-7")
            .cloned()
    })
    .await;
    assert_eq!(listed["address"], ADVERTISED, "{listed}");
    drop(node);
    drop(replica);
    db.drop_db().await;
}
