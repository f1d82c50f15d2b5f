//! A fleet on loopback, restartable piece by piece: `portico serve` replicas on one Postgres
//! database, `portico-proxy` nodes, and haproxy running the repository's own
//! `deploy/haproxy/haproxy.cfg` (the one docker-compose.yml mounts) with loopback
//! addresses in place of the compose service names. A restarted replica or node comes back
//! on the same ports, as a restarted container keeps its name.
use std::path::{Path, PathBuf};
use std::process::ExitStatus;
use std::time::Duration;

use serde_json::Value;

use crate::process::{Proc, Signal, signal};
use crate::{credentials, free_port, http_client, wait_for};

/// The cluster token every replica and node of a test fleet shares.
pub const CLUSTER_TOKEN: &str = "e2e-fleet-cluster-token-0123456789abcdef";

/// The bound on any one start, stop or catch-up.
pub const LIMIT: Duration = Duration::from_secs(30);

/// A control-plane replica (`portico serve`) on fixed loopback ports.
pub struct Replica {
    pub name: String,
    pub admin: u16,
    pub grpc: u16,
    database_url: String,
    proc: Option<Proc>,
}

impl Replica {
    pub fn start(name: &str, database_url: &str) -> Replica {
        let mut replica = Replica {
            name: name.to_string(),
            admin: free_port(),
            grpc: free_port(),
            database_url: database_url.to_string(),
            proc: None,
        };
        replica.start_again();
        replica
    }

    /// Starts the process again on the same ports (after [`Replica::stop`] or `kill`).
    pub fn start_again(&mut self) {
        assert!(self.proc.is_none(), "{} is still running", self.name);
        self.proc = Some(Proc::spawn(
            &self.name,
            "portico",
            &[
                "serve".into(),
                "--admin-addr".into(),
                format!("127.0.0.1:{}", self.admin),
                "--grpc-addr".into(),
                format!("127.0.0.1:{}", self.grpc),
                "--replica-id".into(),
                self.name.clone(),
            ],
            &[
                credentials::control_plane_env(),
                vec![
                    ("PORTICO_DATABASE_URL", self.database_url.clone()),
                    ("PORTICO_CLUSTER_TOKEN", CLUSTER_TOKEN.to_string()),
                ],
            ]
            .concat(),
        ));
    }

    /// The URL nodes stream from.
    pub fn grpc_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.grpc)
    }

    pub fn admin_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.admin)
    }

    /// Waits until `GET /portico/health` answers 200: the replica serves.
    pub async fn wait_healthy(&self) {
        let url = format!("{}/portico/health", self.admin_url());
        wait_for(&format!("{} to be healthy", self.name), LIMIT, || async {
            let res = http_client().get(&url).send().await.ok()?;
            (res.status() == 200).then_some(())
        })
        .await;
    }

    /// SIGTERM and a bounded wait for the exit; the exit status.
    pub async fn stop(&mut self) -> ExitStatus {
        let mut proc = self.proc.take().expect("the replica runs");
        stop_gracefully(&mut proc, LIMIT).await
    }

    /// SIGKILL: a crash, no goodbye to the nodes.
    pub fn kill(&mut self) {
        if let Some(mut proc) = self.proc.take() {
            proc.kill();
        }
    }
}

/// SIGTERM, then waits (on the test's clock, not a blocked thread) for the exit; fails
/// after `limit`.
async fn stop_gracefully(proc: &mut Proc, limit: Duration) -> ExitStatus {
    let pid = proc.pid().expect("the process runs");
    signal(pid, Signal::SIGTERM);
    let name = proc.name.clone();
    let started = tokio::time::Instant::now();
    loop {
        if let Some(status) = proc.exited() {
            return status;
        }
        assert!(
            started.elapsed() < limit,
            "{name} did not exit within {limit:?} of SIGTERM"
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// How a node is started.
#[derive(Debug, Clone)]
pub struct NodeSpec {
    pub name: String,
    /// gRPC URLs, tried in turn.
    pub control_planes: Vec<String>,
    pub cache_dir: PathBuf,
    pub drain_seconds: Option<u32>,
    pub advertise_addr: Option<String>,
}

/// A proxy node (`portico-proxy`) on fixed loopback ports.
pub struct Node {
    pub spec: NodeSpec,
    pub proxy: u16,
    pub metrics: u16,
    proc: Option<Proc>,
}

impl Node {
    pub fn start(spec: NodeSpec) -> Node {
        let mut node = Node {
            spec,
            proxy: free_port(),
            metrics: free_port(),
            proc: None,
        };
        node.start_again();
        node
    }

    pub fn name(&self) -> &str {
        &self.spec.name
    }

    /// Starts the process again on the same ports and cache (after [`Node::stop`]).
    pub fn start_again(&mut self) {
        assert!(self.proc.is_none(), "{} is still running", self.spec.name);
        let mut args: Vec<String> = vec![
            "--control-plane".into(),
            self.spec.control_planes.join(","),
            "--node-id".into(),
            self.spec.name.clone(),
            "--cache-dir".into(),
            self.spec.cache_dir.display().to_string(),
            "--proxy-addr".into(),
            format!("127.0.0.1:{}", self.proxy),
            "--proxy-tls-addr".into(),
            "127.0.0.1:0".into(),
            "--metrics-addr".into(),
            format!("127.0.0.1:{}", self.metrics),
            // Two workers at most: the machines running these tests have two cores.
            "--proxy-workers".into(),
            "2".into(),
        ];
        if let Some(seconds) = self.spec.drain_seconds {
            args.extend(["--drain-seconds".into(), seconds.to_string()]);
        }
        if let Some(addr) = &self.spec.advertise_addr {
            args.extend(["--advertise-addr".into(), addr.clone()]);
        }
        self.proc = Some(Proc::spawn(
            &self.spec.name,
            "portico-proxy",
            &args,
            &[("PORTICO_CLUSTER_TOKEN", CLUSTER_TOKEN.to_string())],
        ));
    }

    /// Sends SIGTERM and returns at once: the node drains.
    pub fn terminate(&mut self) {
        let pid = self
            .proc
            .as_ref()
            .and_then(Proc::pid)
            .expect("the node runs");
        signal(pid, Signal::SIGTERM);
    }

    /// Waits for the exit after [`Node::terminate`] (bounded); the exit status.
    pub async fn wait_exit(&mut self) -> ExitStatus {
        let proc = self.proc.as_mut().expect("the node was running");
        let limit = LIMIT + Duration::from_secs(self.spec.drain_seconds.unwrap_or(0).into());
        let started = tokio::time::Instant::now();
        loop {
            if let Some(status) = proc.exited() {
                self.proc = None;
                return status;
            }
            assert!(
                started.elapsed() < limit,
                "{} did not exit within {limit:?} of SIGTERM",
                self.spec.name
            );
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    /// `GET /ready`: the status and the JSON body (`{"version":…}` when ready).
    pub async fn ready(&self) -> Option<(u16, Value)> {
        let res = http_client()
            .get(format!("http://127.0.0.1:{}/ready", self.metrics))
            .send()
            .await
            .ok()?;
        let status = res.status().as_u16();
        Some((status, res.json().await.unwrap_or(Value::Null)))
    }

    /// Waits until `/ready` is 200; the version it serves.
    pub async fn wait_ready(&self) -> u64 {
        wait_for(
            &format!("{} to be ready", self.spec.name),
            LIMIT,
            || async {
                match self.ready().await? {
                    (200, body) => body["version"].as_u64(),
                    _ => None,
                }
            },
        )
        .await
    }

    /// Waits until `/ready` is 200 on `version` or later.
    pub async fn wait_version(&self, version: u64) -> u64 {
        wait_for(
            &format!("{} to serve version {version}", self.spec.name),
            LIMIT,
            || async {
                match self.ready().await? {
                    (200, body) => body["version"].as_u64().filter(|v| *v >= version),
                    _ => None,
                }
            },
        )
        .await
    }

    /// The node's Prometheus text (`GET /metrics`).
    pub async fn metrics(&self) -> Option<String> {
        http_client()
            .get(format!("http://127.0.0.1:{}/metrics", self.metrics))
            .send()
            .await
            .ok()?
            .text()
            .await
            .ok()
    }
}

/// The value of the sample `name{labels…}` in Prometheus text, the labels matched by
/// `labels_match` on each `(label, value)` pair the sample has.
pub fn sample(
    text: &str,
    name: &str,
    labels_match: impl Fn(&[(String, String)]) -> bool,
) -> Option<f64> {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .find_map(|line| {
            let (series, value) = line.rsplit_once(' ')?;
            let (series_name, labels) = match series.split_once('{') {
                Some((n, rest)) => (n, parse_labels(rest.strip_suffix('}')?)),
                None => (series, Vec::new()),
            };
            (series_name == name && labels_match(&labels)).then(|| value.parse().ok())?
        })
}

/// `a="x",b="y"` (label values without escaped quotes, as Portico's are).
fn parse_labels(text: &str) -> Vec<(String, String)> {
    text.split("\",")
        .filter_map(|pair| {
            let (k, v) = pair.split_once("=\"")?;
            Some((k.to_string(), v.trim_end_matches('"').to_string()))
        })
        .collect()
}

/// haproxy from Debian's package with the repository's config, its compose service names
/// swapped for loopback ports. Its log goes to `dir/haproxy.log`.
pub struct Balancer {
    pub port: u16,
    pub admin_port: u16,
    pub log: PathBuf,
    _proc: Proc,
}

/// The repository's haproxy config.
pub fn haproxy_config_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../deploy/haproxy/haproxy.cfg")
}

/// `text` with `from` replaced, which must be there: a config that no longer says `from`
/// needs this harness changed, not a silent test of something else.
fn swap(text: &str, from: &str, to: &str) -> String {
    assert!(
        text.contains(from),
        "deploy/haproxy/haproxy.cfg no longer has {from:?}"
    );
    text.replace(from, to)
}

impl Balancer {
    /// The committed config with `nodes` as proxy1.. and `replicas` as cp1..
    pub fn start(nodes: &[&Node], replicas: &[&Replica], dir: &Path) -> Balancer {
        let (port, admin_port) = (free_port(), free_port());
        let mut config = std::fs::read_to_string(haproxy_config_path()).expect("read haproxy.cfg");
        config = swap(&config, "bind :8000", &format!("bind 127.0.0.1:{port}"));
        config = swap(
            &config,
            "bind :9000",
            &format!("bind 127.0.0.1:{admin_port}"),
        );
        for (i, node) in nodes.iter().enumerate() {
            let name = format!("proxy{}", i + 1);
            config = swap(
                &config,
                &format!("server {name} {name}:8000 check port 9100"),
                &format!(
                    "server {name} 127.0.0.1:{} check port {}",
                    node.proxy, node.metrics
                ),
            );
        }
        for (i, replica) in replicas.iter().enumerate() {
            let name = format!("cp{}", i + 1);
            config = swap(
                &config,
                &format!("server {name} {name}:9000 check"),
                &format!("server {name} 127.0.0.1:{} check", replica.admin),
            );
        }
        let path = dir.join("haproxy.cfg");
        std::fs::write(&path, &config).expect("write haproxy.cfg");
        let log = dir.join("haproxy.log");
        let out = std::fs::File::create(&log).expect("haproxy log");
        let check = std::process::Command::new("haproxy")
            .args(["-c", "-q", "-f"])
            .arg(&path)
            .output()
            .expect("run haproxy -c (apt-get install haproxy)");
        assert!(
            check.status.success(),
            "haproxy refuses the repository's config:\n{}",
            String::from_utf8_lossy(&check.stderr)
        );
        let child = std::process::Command::new("haproxy")
            .args(["-db", "-f"])
            .arg(&path)
            .stdin(std::process::Stdio::null())
            .stdout(out.try_clone().expect("log file"))
            .stderr(out)
            .spawn()
            .expect("start haproxy (apt-get install haproxy)");
        Balancer {
            port,
            admin_port,
            log,
            _proc: Proc::adopt("haproxy", child),
        }
    }

    pub fn read_log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}
