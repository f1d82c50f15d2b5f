//! `./scripts/up` as a newcomer meets it: a copy of this checkout (what git tracks, and
//! new files it does not ignore) with an empty cargo target directory builds, starts and
//! serves its first request through the proxy node; then a second start of the same copy.
//! The figures are printed with each build step's own and written to
//! `target/first-run.txt`, which `scripts/test` shows at the end. They are reported, not
//! asserted (speed is `bench/run`'s business); the only bound is the one that keeps a hung
//! build from running forever.
use std::io::{BufRead, BufReader};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use portico_tests::process::{Target, UpPorts, terminate, up_args};
use portico_tests::{admin_token, credentials, http_client, upstream, wait_for, wait_for_admin};

/// Far above the few minutes a fresh 2-core machine takes; only a hang reaches it.
const BUILD_LIMIT: Duration = Duration::from_secs(30 * 60);
const START_LIMIT: Duration = Duration::from_secs(120);

/// `./scripts/up` in its own process group, so that stopping it stops cargo or `portico`,
/// whichever runs.
struct ScriptsUp(Option<Child>);

impl ScriptsUp {
    fn start(checkout: &Path, ports: &UpPorts, log: &Path) -> Self {
        let log = std::fs::File::create(log).expect("create the log");
        let mut args = up_args(&checkout.join("portico-data"), ports);
        args.remove(0); // scripts/up adds `up` itself
        let child = Command::new("./scripts/up")
            .args(&args)
            .current_dir(checkout)
            // The newcomer's checkout builds into its own target/.
            .env_remove("CARGO_TARGET_DIR")
            .env_remove("CARGO_BUILD_TARGET_DIR")
            .env("RUST_LOG", "warn")
            .envs(credentials::control_plane_env())
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log"))
            .stderr(log)
            .process_group(0)
            .spawn()
            .expect("run ./scripts/up");
        ScriptsUp(Some(child))
    }

    /// Once only: a group id signalled after its processes are gone may be another's.
    fn stop(&mut self) {
        if let Some(mut child) = self.0.take() {
            terminate(&mut child, Target::Group, Duration::from_secs(10));
        }
    }
}

impl Drop for ScriptsUp {
    fn drop(&mut self) {
        self.stop();
    }
}

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace root")
        .to_path_buf()
}

/// What a fresh clone of this checkout would hold, with the changes not yet committed.
fn copy_checkout(to: &Path) {
    let root = workspace();
    let out = Command::new("git")
        .args([
            "ls-files",
            "-z",
            "--cached",
            "--others",
            "--exclude-standard",
        ])
        .current_dir(&root)
        .output()
        .expect("git ls-files");
    assert!(out.status.success(), "git ls-files failed");
    for file in out.stdout.split(|b| *b == 0).filter(|f| !f.is_empty()) {
        let file = std::str::from_utf8(file).expect("a UTF-8 path");
        let from = root.join(file);
        // Deleted but not yet committed.
        if !from.exists() {
            continue;
        }
        let dest = to.join(file);
        std::fs::create_dir_all(dest.parent().expect("a parent")).expect("mkdir");
        std::fs::copy(&from, &dest).unwrap_or_else(|e| panic!("copy {file}: {e}"));
    }
}

/// Waits until the node answers `GET /notes` of `api_id` with 200.
async fn first_request(proxy: u16, api_id: &str, limit: Duration) {
    wait_for("a request through the node", limit, || async {
        let res = http_client()
            .get(format!("http://127.0.0.1:{proxy}/notes"))
            .header("host", format!("{api_id}.execute-api.localhost"))
            .send()
            .await
            .ok()?;
        (res.status() == 200).then_some(())
    })
    .await;
}

/// The build's own lines worth reporting: its steps and their times.
fn build_steps(log: &Path) -> Vec<String> {
    let file = std::fs::File::open(log).expect("open the log");
    BufReader::new(file)
        .lines()
        .map_while(Result::ok)
        .filter(|l| {
            l.starts_with("==>")
                || l.contains(" built in ")
                || l.starts_with("build done in")
                || l.contains("Finished `")
        })
        .collect()
}

fn minutes(d: Duration) -> String {
    format!("{}m{:02}s", d.as_secs() / 60, d.as_secs() % 60)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scripts_up_serves_its_first_request_from_a_fresh_checkout() {
    let checkout = tempfile::tempdir().expect("checkout dir");
    copy_checkout(checkout.path());
    let upstream = upstream::start().await;
    let ports = UpPorts::free();
    let log = checkout.path().join("scripts-up.log");

    let started = Instant::now();
    let mut up = ScriptsUp::start(checkout.path(), &ports, &log);
    wait_for_admin(ports.admin, BUILD_LIMIT).await;
    let admin_after = started.elapsed();
    let token = admin_token(ports.admin).await;
    // Quick create: an API, a `$default` route to the upstream and an auto-deploy stage.
    let created: serde_json::Value = http_client()
        .post(format!("http://127.0.0.1:{}/v2/apis", ports.admin))
        .bearer_auth(&token)
        .json(&serde_json::json!({
            "name": "first-run",
            "protocolType": "HTTP",
            "target": format!("http://{upstream}"),
        }))
        .send()
        .await
        .expect("POST /v2/apis")
        .json()
        .await
        .expect("API JSON");
    let api_id = created["apiId"].as_str().expect("apiId").to_string();
    first_request(ports.proxy, &api_id, START_LIMIT).await;
    let first = started.elapsed();
    up.stop();
    let steps = build_steps(&log);
    let disk = Command::new("du")
        .args(["-sh", "target"])
        .current_dir(checkout.path())
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|o| o.split_whitespace().next().map(str::to_string))
        .unwrap_or_else(|| "?".into());

    let again = Instant::now();
    let _up = ScriptsUp::start(checkout.path(), &ports, &log);
    first_request(ports.proxy, &api_id, START_LIMIT).await;
    let second = again.elapsed();

    let report = format!(
        "first run: ./scripts/up from a fresh checkout (empty target/) served its first request \
         after {} (admin API up after {}); second run: {:.1} s; target/ then holds {}\n{}\n",
        minutes(first),
        minutes(admin_after),
        second.as_secs_f64(),
        disk,
        steps
            .iter()
            .map(|s| format!("  {s}"))
            .collect::<Vec<_>>()
            .join("\n"),
    );
    println!("{report}");
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace().join("target"));
    std::fs::write(target.join("first-run.txt"), &report).expect("write target/first-run.txt");
}
