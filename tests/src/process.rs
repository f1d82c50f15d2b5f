//! Portico's binaries as child processes.
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

pub use nix::sys::signal::Signal;
use nix::unistd::Pid;

/// Sends `signal` to the process `pid`. Errors (it has exited already) are ignored; pid 0
/// (this process's own group) is never signalled.
pub fn signal(pid: u32, signal: Signal) {
    if let Ok(pid) = i32::try_from(pid)
        && pid > 0
    {
        let _ = nix::sys::signal::kill(Pid::from_raw(pid), signal);
    }
}

/// Sends `signal` to every process in the group `leader` leads (a child spawned with
/// `process_group(0)`). A pid that does not fit is never widened to "every process".
pub fn signal_group(leader: u32, signal: Signal) {
    if let Ok(pgid) = i32::try_from(leader)
        && pgid > 1
    {
        let _ = nix::sys::signal::killpg(Pid::from_raw(pgid), signal);
    }
}

/// Who `terminate` signals.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    Process,
    /// The child and everything in the group it leads (spawned with `process_group(0)`).
    Group,
}

/// SIGTERM, a bounded wait (`grace`) for a clean exit, then SIGKILL.
pub fn terminate(child: &mut Child, target: Target, grace: std::time::Duration) {
    let pid = child.id();
    let send = |sig| match target {
        Target::Process => signal(pid, sig),
        Target::Group => signal_group(pid, sig),
    };
    send(Signal::SIGTERM);
    let deadline = std::time::Instant::now() + grace;
    while std::time::Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    send(Signal::SIGKILL);
    let _ = child.wait();
}

/// Where cargo put this workspace's binaries (the test runs from `target/<profile>/deps`).
pub fn bin(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("current exe");
    let dir = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("target profile directory");
    let path = dir.join(name);
    assert!(
        path.exists(),
        "{} is missing: build the binaries first (cargo build --bins)",
        path.display()
    );
    path
}

/// A child process that is killed when dropped.
pub struct Proc {
    pub name: String,
    child: Option<Child>,
}

impl Proc {
    pub fn spawn(name: &str, program: &str, args: &[String], envs: &[(&str, String)]) -> Proc {
        let mut cmd = Command::new(bin(program));
        cmd.args(args)
            .env(
                "RUST_LOG",
                std::env::var("PORTICO_TEST_LOG").unwrap_or_else(|_| "warn".into()),
            )
            // Nothing balances in front of most tests' processes, so a stop need not wait
            // out a drain; a test about draining passes --drain-seconds (flags win).
            .env("PORTICO_DRAIN_SECONDS", "0")
            .stdin(Stdio::null());
        for (k, v) in envs {
            cmd.env(k, v);
        }
        let child = cmd.spawn().unwrap_or_else(|e| panic!("start {name}: {e}"));
        Proc {
            name: name.to_string(),
            child: Some(child),
        }
    }

    /// A program from the system (haproxy, nginx), started by the caller.
    pub fn adopt(name: &str, child: Child) -> Proc {
        Proc {
            name: name.to_string(),
            child: Some(child),
        }
    }

    /// SIGKILL: the process gets no chance to clean up, like a crash.
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// SIGTERM and wait (bounded) for a clean exit.
    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            terminate(&mut c, Target::Process, std::time::Duration::from_secs(15));
        }
    }

    /// The operating system's id of the process, while it has not been reaped.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// The exit status once the process has exited (it is reaped and forgotten then);
    /// `None` while it runs. For callers that wait on their own clock (an async test).
    pub fn exited(&mut self) -> Option<std::process::ExitStatus> {
        let status = self.child.as_mut()?.try_wait().ok()??;
        self.child = None;
        Some(status)
    }

    pub fn is_running(&mut self) -> bool {
        match &mut self.child {
            Some(c) => matches!(c.try_wait(), Ok(None)),
            None => false,
        }
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        self.kill();
    }
}

/// The loopback ports a `portico up` listens on.
#[derive(Debug, Clone, Copy)]
pub struct UpPorts {
    pub admin: u16,
    pub grpc: u16,
    pub proxy: u16,
    pub proxy_tls: u16,
    pub metrics: u16,
}

impl UpPorts {
    pub fn free() -> Self {
        UpPorts {
            admin: crate::free_port(),
            grpc: crate::free_port(),
            proxy: crate::free_port(),
            proxy_tls: crate::free_port(),
            metrics: crate::free_port(),
        }
    }
}

/// The arguments of `portico up` on `data_dir` and loopback `ports`.
pub fn up_args(data_dir: &Path, ports: &UpPorts) -> Vec<String> {
    vec![
        "up".into(),
        "--data-dir".into(),
        data_dir.display().to_string(),
        "--admin-addr".into(),
        format!("127.0.0.1:{}", ports.admin),
        "--grpc-addr".into(),
        format!("127.0.0.1:{}", ports.grpc),
        "--proxy-addr".into(),
        format!("127.0.0.1:{}", ports.proxy),
        "--proxy-tls-addr".into(),
        format!("127.0.0.1:{}", ports.proxy_tls),
        "--metrics-addr".into(),
        format!("127.0.0.1:{}", ports.metrics),
    ]
}

/// `portico up` as the README runs it, on `data_dir` and loopback `ports`, with the
/// bootstrap credentials and `extra_env`.
pub fn portico_up(data_dir: &Path, ports: &UpPorts, extra_env: &[(&str, String)]) -> Proc {
    let env = [crate::credentials::control_plane_env(), extra_env.to_vec()].concat();
    Proc::spawn("portico up", "portico", &up_args(data_dir, ports), &env)
}
