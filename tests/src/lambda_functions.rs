//! `e2e/lambda_server.py`, a Lambda Invoke-compatible function server running the real
//! Python handlers of `e2e/lambda_handlers.py`, on a free loopback port. It checks every
//! call's SigV4 signature (with botocore's signer) against [`ACCESS_KEY`] and friends,
//! which a node signing with the same credentials passes.
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use serde_json::Value;

use crate::process::Proc;

pub const ACCESS_KEY: &str = "AKIDLAMBDAE2ETEST001";
pub const SECRET_KEY: &str = "lambda-e2e-secret-access-key";
pub const SESSION_TOKEN: &str = "lambda-e2e-session-token";

pub fn e2e_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("e2e")
}

pub struct FunctionServer {
    pub proc: Proc,
    pub port: u16,
}

impl FunctionServer {
    pub fn start() -> Self {
        let mut child = Command::new("python3")
            .arg(e2e_dir().join("lambda_server.py"))
            .args(["--port", "0", "--handlers", "lambda_handlers"])
            .args(["--region", "us-east-1"])
            .args(["--access-key", ACCESS_KEY, "--secret-key", SECRET_KEY])
            .args(["--session-token", SESSION_TOKEN])
            .current_dir(e2e_dir())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("python3 lambda_server.py (pip install boto3 'aws-lambda-powertools[parser]')");
        let stdout = child.stdout.take().expect("stdout");
        // The server prints its port once it can serve, then nothing more; if it dies
        // first, the line is empty and the parse below says so.
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("the function server's first line");
        let ready: Value = serde_json::from_str(&line)
            .unwrap_or_else(|e| panic!("the function server said {line:?}: {e}"));
        let port = ready["port"].as_u64().expect("port") as u16;
        FunctionServer {
            proc: Proc::adopt("lambda_server.py", child),
            port,
        }
    }

    /// The environment a node needs to call it: the endpoint and the credentials.
    pub fn node_env(&self) -> Vec<(&'static str, String)> {
        vec![
            (
                "PORTICO_LAMBDA_ENDPOINT",
                format!("http://127.0.0.1:{}", self.port),
            ),
            ("AWS_ACCESS_KEY_ID", ACCESS_KEY.to_string()),
            ("AWS_SECRET_ACCESS_KEY", SECRET_KEY.to_string()),
            ("AWS_SESSION_TOKEN", SESSION_TOKEN.to_string()),
        ]
    }

    /// Every invocation it has run, with its event and schema check, and how many calls
    /// it verified and rejected.
    pub async fn recorded(&self) -> Value {
        crate::http_client()
            .get(format!("http://127.0.0.1:{}/_recorded", self.port))
            .send()
            .await
            .expect("GET /_recorded")
            .json()
            .await
            .expect("recorded JSON")
    }
}
