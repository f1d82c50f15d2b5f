//! `e2e/vpc_upstream.py`: one private target of a VPC link, a real HTTP(S) server in a
//! process of its own on a loopback port, answering every request with its name and what
//! it received. Killing it is a real kill (the node's next connection is refused), and it
//! can be started again on the same port; a control path turns it into one that answers
//! 500 to everything but its health check.
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Command, Stdio};

use serde_json::Value;

use crate::lambda_functions::e2e_dir;
use crate::process::Proc;

/// How a target answers: normally, or 500 to every request but its health check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Ok,
    Fail,
}

/// An HTTPS target's certificate chain and key (PEM files).
#[derive(Debug, Clone)]
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
}

pub struct Target {
    pub name: String,
    pub port: u16,
    pub health_path: String,
    tls: Option<TlsFiles>,
    proc: Option<Proc>,
}

fn spawn(name: &str, port: u16, health_path: &str, tls: Option<&TlsFiles>) -> (Proc, u16) {
    let mut cmd = Command::new("python3");
    cmd.arg(e2e_dir().join("vpc_upstream.py"))
        .args(["--name", name, "--port", &port.to_string()])
        .args(["--health-path", health_path]);
    if let Some(t) = tls {
        cmd.arg("--cert").arg(&t.cert).arg("--key").arg(&t.key);
    }
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("python3 e2e/vpc_upstream.py");
    let stdout = child.stdout.take().expect("stdout");
    // It prints its port once it serves, then nothing more on stdout; if it dies first
    // (the port is taken), the line is empty and the parse says so.
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .expect("the target's first line");
    let ready: Value =
        serde_json::from_str(&line).unwrap_or_else(|e| panic!("target {name} said {line:?}: {e}"));
    let port = ready["port"]
        .as_u64()
        .and_then(|p| u16::try_from(p).ok())
        .expect("port");
    (Proc::adopt(&format!("vpc_upstream.py {name}"), child), port)
}

impl Target {
    /// A plain-HTTP target on a free loopback port.
    pub fn start(name: &str, health_path: &str) -> Target {
        Self::start_with(name, health_path, None)
    }

    /// `tls`: serve HTTPS with that certificate.
    pub fn start_with(name: &str, health_path: &str, tls: Option<TlsFiles>) -> Target {
        let (proc, port) = spawn(name, 0, health_path, tls.as_ref());
        Target {
            name: name.to_string(),
            port,
            health_path: health_path.to_string(),
            tls,
            proc: Some(proc),
        }
    }

    /// `127.0.0.1:PORT`, as a link's target address.
    pub fn address(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// SIGKILL: no goodbye on its connections, and the port refuses connections at once.
    pub fn kill(&mut self) {
        if let Some(mut p) = self.proc.take() {
            p.kill();
        }
    }

    /// Starts it again on the same port (after `kill`), in its normal mode.
    pub fn restart(&mut self) {
        self.kill();
        let (proc, port) = spawn(&self.name, self.port, &self.health_path, self.tls.as_ref());
        assert_eq!(port, self.port);
        self.proc = Some(proc);
    }

    fn control_url(&self, path: &str) -> String {
        let scheme = if self.tls.is_some() { "https" } else { "http" };
        format!("{scheme}://127.0.0.1:{}{path}", self.port)
    }

    fn control_client(&self) -> reqwest::Client {
        reqwest::Client::builder()
            .no_proxy()
            // The control path is the test talking to its own server over loopback; the
            // certificate is the gateway's to verify, not this call's.
            .danger_accept_invalid_certs(true)
            .timeout(std::time::Duration::from_secs(10))
            .build()
            .expect("control client")
    }

    /// `{"name", "mode", "requests", "healthChecks", "healthChecksSinceMode", "errors", "sni"}`.
    pub async fn stats(&self) -> Value {
        self.control_client()
            .get(self.control_url("/_control/stats"))
            .send()
            .await
            .expect("GET /_control/stats")
            .json()
            .await
            .expect("stats JSON")
    }

    /// Switches the mode; answers the stats after the change (`healthChecksSinceMode` 0).
    pub async fn set_mode(&self, mode: Mode) -> Value {
        let mode = match mode {
            Mode::Ok => "ok",
            Mode::Fail => "fail",
        };
        let res = self
            .control_client()
            .post(self.control_url(&format!("/_control/mode?mode={mode}")))
            .send()
            .await
            .expect("POST /_control/mode");
        assert_eq!(res.status(), 200, "set mode {mode}");
        res.json().await.expect("stats JSON")
    }
}
