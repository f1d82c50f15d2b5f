//! HTTP/1.1 by hand over a TCP socket, for clients no library would be: smuggling
//! attempts, malformed heads, slow senders. And an upstream that records every request
//! path it is sent, so a test can prove a smuggled request never reached it.
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::Request;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// What came back on a raw connection.
#[derive(Debug)]
pub struct Exchange {
    /// Everything the server sent, as text (lossy).
    pub response: String,
    /// The status of the first response, if one came.
    pub status: Option<u16>,
    /// Whether the server closed the connection (EOF or reset) within the wait.
    pub closed: bool,
    /// How long after the last write the connection closed, when it did.
    pub closed_after: Option<Duration>,
}

impl Exchange {
    /// How many responses the server sent (status lines seen).
    pub fn responses(&self) -> usize {
        self.response.matches("HTTP/1.1 ").count()
    }

    /// The body of the first response (after its head).
    pub fn body(&self) -> &str {
        self.response
            .split_once("\r\n\r\n")
            .map_or("", |(_, body)| body)
    }
}

/// Sends `bytes` on a new connection to `addr` and reads until the server closes it or
/// `wait` passes with nothing more arriving after the first bytes (or at all).
pub async fn exchange(addr: SocketAddr, bytes: &[u8], wait: Duration) -> Exchange {
    let mut stream = TcpStream::connect(addr).await.expect("connect to the node");
    stream.write_all(bytes).await.expect("send the request");
    read_until_closed(&mut stream, wait).await
}

/// Reads from `stream` until EOF, a reset, or `wait` with nothing more arriving.
pub async fn read_until_closed(stream: &mut TcpStream, wait: Duration) -> Exchange {
    let written = Instant::now();
    let mut got = Vec::new();
    let mut buf = [0u8; 16 * 1024];
    let mut closed_after = None;
    // Bounded: each round either reads bytes, ends, or times out.
    for _ in 0..10_000 {
        match tokio::time::timeout(wait, stream.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => {
                closed_after = Some(written.elapsed());
                break;
            }
            Ok(Ok(n)) => got.extend_from_slice(&buf[..n]),
            Err(_) => break,
        }
    }
    let response = String::from_utf8_lossy(&got).into_owned();
    let status = response
        .strip_prefix("HTTP/1.1 ")
        .and_then(|rest| rest.get(..3))
        .and_then(|code| code.parse().ok());
    Exchange {
        response,
        status,
        closed: closed_after.is_some(),
        closed_after,
    }
}

/// An upstream that answers 200 `ok` to everything and remembers each request's method,
/// path and body length.
#[derive(Clone)]
pub struct RecordingUpstream {
    pub addr: SocketAddr,
    seen: Arc<Mutex<Vec<Seen>>>,
}

/// One request the recording upstream received.
#[derive(Debug, Clone)]
pub struct Seen {
    pub method: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// Whether its body arrived whole: a proxy that streams bodies has sent the head of
    /// a request whose body then turns out malformed, and aborts it.
    pub complete: bool,
}

impl RecordingUpstream {
    /// Starts it on a loopback port; it runs until the test's runtime ends.
    pub async fn start() -> RecordingUpstream {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the recording upstream");
        let addr = listener.local_addr().expect("upstream addr");
        let seen: Arc<Mutex<Vec<Seen>>> = Arc::default();
        let record = seen.clone();
        let app = axum::Router::new().fallback(move |req: Request| {
            let record = record.clone();
            async move {
                let (parts, body) = req.into_parts();
                let body = axum::body::to_bytes(body, 64 * 1024 * 1024).await;
                let complete = body.is_ok();
                let body = body.map(|b| b.to_vec()).unwrap_or_default();
                let headers = parts
                    .headers
                    .iter()
                    .map(|(k, v)| {
                        (
                            k.to_string(),
                            String::from_utf8_lossy(v.as_bytes()).into_owned(),
                        )
                    })
                    .collect();
                if let Ok(mut seen) = record.lock() {
                    seen.push(Seen {
                        method: parts.method.to_string(),
                        path: parts.uri.path().to_string(),
                        headers,
                        body,
                        complete,
                    });
                }
                "ok"
            }
        });
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        RecordingUpstream { addr, seen }
    }

    /// Every request received so far.
    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().map(|s| s.clone()).unwrap_or_default()
    }

    /// How many requests arrived whole so far.
    pub fn complete(&self) -> usize {
        self.seen().iter().filter(|s| s.complete).count()
    }

    /// Whether any request received so far had a path containing `needle`.
    pub fn saw_path(&self, needle: &str) -> bool {
        self.seen().iter().any(|s| s.path.contains(needle))
    }
}

/// Raises this process's soft limit on open files to the hard limit (a test that opens
/// a thousand connections must not hit a soft limit of 1024); returns the new limit.
pub fn raise_open_files_limit() -> u64 {
    use nix::sys::resource::{Resource, getrlimit, setrlimit};
    let (soft, hard) = getrlimit(Resource::RLIMIT_NOFILE).expect("getrlimit");
    if soft < hard {
        setrlimit(Resource::RLIMIT_NOFILE, hard, hard).expect("setrlimit");
    }
    hard
}
