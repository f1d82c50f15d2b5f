//! What the binaries log into a file or a pipe (CI logs, `portico up > portico.log`) is
//! plain text: colour codes only when a person reads them at a terminal. A clean stop
//! warns about nothing, and the node says once where it listens.
use std::io::Read;
use std::process::{Command, Stdio};
use std::time::Duration;

use portico_tests::process::{UpPorts, bin, up_args};
use portico_tests::{credentials, free_port};

/// Runs `program` for a moment with its output on pipes, stops it as an operator would
/// (SIGTERM), and returns what it wrote.
fn output_of(program: &str, args: &[String], envs: &[(&str, String)]) -> String {
    let mut child = Command::new(bin(program))
        .args(args)
        .envs(envs.iter().map(|(k, v)| (*k, v.as_str())))
        .env("RUST_LOG", "info")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("start {program}: {e}"));
    std::thread::sleep(Duration::from_secs(3));
    portico_tests::process::signal(child.id(), portico_tests::process::Signal::SIGTERM);
    for _ in 0..100 {
        if let Ok(Some(_)) = child.try_wait() {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let _ = child.kill();
    let _ = child.wait();
    let mut text = String::new();
    for pipe in [
        child.stdout.take().map(|p| Box::new(p) as Box<dyn Read>),
        child.stderr.take().map(|p| Box::new(p) as Box<dyn Read>),
    ]
    .into_iter()
    .flatten()
    {
        let mut pipe = pipe;
        pipe.read_to_string(&mut text).expect("read output");
    }
    text
}

#[test]
fn logs_to_a_pipe_carry_no_colour_codes() {
    let data = tempfile::tempdir().expect("data dir");
    let up = output_of(
        "portico",
        &up_args(data.path(), &UpPorts::free()),
        &credentials::control_plane_env(),
    );
    // A node whose control plane does not answer logs warnings about it.
    let node = output_of(
        "portico-proxy",
        &[
            "--control-plane".into(),
            format!("http://127.0.0.1:{}", free_port()),
            "--cache-dir".into(),
            data.path().join("node").display().to_string(),
            "--proxy-addr".into(),
            format!("127.0.0.1:{}", free_port()),
            "--proxy-tls-addr".into(),
            "127.0.0.1:0".into(),
            "--metrics-addr".into(),
            format!("127.0.0.1:{}", free_port()),
        ],
        &[(
            "PORTICO_CLUSTER_TOKEN",
            "logs-test-token-0123456789abcdef".into(),
        )],
    );
    let stop = up
        .find("shutting down")
        .unwrap_or_else(|| panic!("portico up did not say it was stopping:\n{up}"));
    assert!(
        !up[stop..].contains(" WARN "),
        "a clean stop of portico up warned:\n{up}"
    );
    assert_eq!(up.matches("proxy node started").count(), 1, "{up}");
    assert!(!up.contains("listening on"), "one line per worker:\n{up}");
    for (name, text) in [("portico up", up), ("portico-proxy", node)] {
        assert!(
            text.contains("INFO") || text.contains("WARN"),
            "{name} logged nothing: {text}"
        );
        assert!(
            !text.contains('\u{1b}'),
            "{name} wrote colour codes into a pipe:\n{text}"
        );
    }
}
