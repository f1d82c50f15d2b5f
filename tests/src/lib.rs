//! The harness for Portico's end-to-end tests: it finds the built binaries, starts them
//! as child processes on loopback ports (killed when dropped), makes fresh Postgres
//! databases, runs a real upstream HTTP server, and runs the real AWS clients (boto3,
//! awscli). Every wait is bounded.
#![forbid(unsafe_code)]

pub mod postgres;
pub mod process;
pub mod upstream;

use std::future::Future;
use std::time::{Duration, Instant};

/// A loopback port nobody listens on right now.
pub fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind an ephemeral port");
    listener.local_addr().expect("local addr").port()
}

/// Polls `check` until it returns `Some`, or fails after `limit` with `what`.
pub async fn wait_for<T, F, Fut>(what: &str, limit: Duration, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let start = Instant::now();
    loop {
        if let Some(v) = check().await {
            return v;
        }
        if start.elapsed() > limit {
            panic!("timed out after {limit:?} waiting for {what}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// An HTTP client that never goes through a proxy and gives up after 10 s.
pub fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(10))
        .build()
        .expect("http client")
}
