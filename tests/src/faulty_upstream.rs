//! A misbehaving upstream: a raw TCP server that answers HTTP/1.1 the ways broken or
//! hostile backends do, so tests can see what a gateway in front of it makes of each.
//! The request path's first segment picks the behaviour ([`Fault`]); `/good` (or any
//! path it does not know) gets a well-formed keep-alive answer naming the connection it
//! came on and the request target, so a test can tell a reused connection, and a
//! response meant for another request, from the right one.
//!
//! Every connection's task ends when the peer closes it or the test's runtime ends;
//! nothing here waits without a bound of its own except [`Fault::Hang`] and
//! [`Fault::StallBody`], which wait for the peer to give up.
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// Largest request head the server reads; the gateway's are far smaller.
const MAX_HEAD: usize = 64 * 1024;

/// The ways the server misbehaves, by the first segment of the request path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// `/good`: `200` with a JSON body `{"conn":N,"target":"/good?…"}`, kept alive.
    Good,
    /// `/slow/{ms}`: the good answer after `ms` milliseconds.
    Slow,
    /// `/hang`: reads the request and never answers.
    Hang,
    /// `/reset`: resets the connection (RST, `SO_LINGER` 0) instead of answering.
    Reset,
    /// `/reset-mid-body`: a head declaring 1000 bytes, 100 of them, then RST.
    ResetMidBody,
    /// `/close`: closes the connection (FIN) without a byte of answer.
    Close,
    /// `/huge-head`: a response head of over 1 MiB (one header of 1 MiB).
    HugeHead,
    /// `/many-headers`: 500 small response headers.
    ManyHeaders,
    /// `/garbage-status`: a status line that is not HTTP.
    GarbageStatus,
    /// `/bad-header`: a header name with a control byte in it.
    BadHeader,
    /// `/short-body`: `Content-Length: 100`, 10 bytes, FIN.
    ShortBody,
    /// `/long-body`: `Content-Length: 5` and, in the same write, a second complete
    /// response (`SMUGGLED`) that no request asked for; the connection is kept.
    LongBody,
    /// `/dup-length`: two different `Content-Length`s.
    DuplicateLength,
    /// `/length-and-chunked`: `Content-Length: 3` and `Transfer-Encoding: chunked`.
    LengthAndChunked,
    /// `/bad-chunk`: a chunked body whose first chunk size is not hex.
    BadChunk,
    /// `/chunk-overflow`: a chunk size that overflows 64 bits.
    ChunkOverflow,
    /// `/http10`: an HTTP/1.0 answer with no length, delimited by closing.
    Http10,
    /// `/informational`: `100 Continue` and `103 Early Hints`, then the good answer.
    Informational,
    /// `/unsolicited`: the good answer, then, 50 ms later on the idle connection, a
    /// response (`SMUGGLED`) to a request never sent; the connection is kept.
    Unsolicited,
    /// `/big`: `Content-Length: 11000000` and that many bytes.
    BigDeclared,
    /// `/big-chunked`: 11,000,000 bytes in chunks, no declared length.
    BigChunked,
    /// `/stall-body`: `Content-Length: 100`, 10 bytes, then silence until the peer
    /// closes.
    StallBody,
}

/// The body [`Fault::LongBody`] and [`Fault::Unsolicited`] slip onto the connection; a
/// client that ever shows it has read a response meant for no request.
pub const SMUGGLED: &str = "SMUGGLED";

/// Size of [`Fault::BigDeclared`]'s and [`Fault::BigChunked`]'s bodies: past AWS's 10 MB.
pub const BIG_BODY: usize = 11_000_000;

impl Fault {
    fn from_path(path: &str) -> Fault {
        let first = path.trim_start_matches('/').split(['/', '?']).next();
        match first.unwrap_or_default() {
            "slow" => Fault::Slow,
            "hang" => Fault::Hang,
            "reset" => Fault::Reset,
            "reset-mid-body" => Fault::ResetMidBody,
            "close" => Fault::Close,
            "huge-head" => Fault::HugeHead,
            "many-headers" => Fault::ManyHeaders,
            "garbage-status" => Fault::GarbageStatus,
            "bad-header" => Fault::BadHeader,
            "short-body" => Fault::ShortBody,
            "long-body" => Fault::LongBody,
            "dup-length" => Fault::DuplicateLength,
            "length-and-chunked" => Fault::LengthAndChunked,
            "bad-chunk" => Fault::BadChunk,
            "chunk-overflow" => Fault::ChunkOverflow,
            "http10" => Fault::Http10,
            "informational" => Fault::Informational,
            "unsolicited" => Fault::Unsolicited,
            "big" => Fault::BigDeclared,
            "big-chunked" => Fault::BigChunked,
            "stall-body" => Fault::StallBody,
            _ => Fault::Good,
        }
    }
}

/// The running server. It serves until the test's runtime ends.
pub struct FaultyUpstream {
    pub addr: SocketAddr,
    accepted: Arc<AtomicUsize>,
}

impl FaultyUpstream {
    pub async fn start() -> FaultyUpstream {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the faulty upstream");
        let addr = listener.local_addr().expect("faulty upstream addr");
        let accepted = Arc::new(AtomicUsize::new(0));
        let counter = accepted.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let conn = counter.fetch_add(1, Ordering::SeqCst) + 1;
                tokio::spawn(serve(stream, conn));
            }
        });
        FaultyUpstream { addr, accepted }
    }

    /// Connections accepted so far; connection ids count from 1.
    pub fn accepted(&self) -> usize {
        self.accepted.load(Ordering::SeqCst)
    }
}

/// What the connection does after one exchange.
enum Then {
    KeepAlive,
    Close,
    Reset,
}

async fn serve(mut stream: TcpStream, conn: usize) {
    let _ = stream.set_nodelay(true);
    let mut buf = Vec::with_capacity(4096);
    loop {
        let Some(target) = read_request(&mut stream, &mut buf).await else {
            return;
        };
        match answer(&mut stream, conn, &target).await {
            Ok(Then::KeepAlive) => continue,
            Ok(Then::Close) | Err(_) => return,
            Ok(Then::Reset) => {
                reset(stream);
                return;
            }
        }
    }
}

/// Reads one request (head and any `Content-Length` body) and returns its target;
/// `None` when the peer closed or sent something unreadable.
async fn read_request(stream: &mut TcpStream, buf: &mut Vec<u8>) -> Option<String> {
    let head_end = loop {
        if let Some(at) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break at + 4;
        }
        if buf.len() > MAX_HEAD {
            return None;
        }
        let mut chunk = [0u8; 4096];
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    buf.drain(..head_end);
    let target = head.split(' ').nth(1)?.to_string();
    let body_len: usize = head
        .lines()
        .filter_map(|l| l.split_once(':'))
        .find(|(name, _)| name.trim().eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.trim().parse().ok())
        .unwrap_or(0);
    while buf.len() < body_len {
        let mut chunk = [0u8; 4096];
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    buf.drain(..body_len);
    Some(target)
}

fn good(conn: usize, target: &str) -> Vec<u8> {
    let body = format!(r#"{{"conn":{conn},"target":"{target}"}}"#);
    format!(
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

fn smuggled() -> String {
    format!(
        "HTTP/1.1 200 OK\r\ncontent-length: {}\r\n\r\n{SMUGGLED}",
        SMUGGLED.len()
    )
}

async fn answer(stream: &mut TcpStream, conn: usize, target: &str) -> std::io::Result<Then> {
    let path = target.split('?').next().unwrap_or_default();
    match Fault::from_path(path) {
        Fault::Good => stream.write_all(&good(conn, target)).await?,
        Fault::Slow => {
            let ms = path.rsplit('/').next().and_then(|ms| ms.parse().ok());
            tokio::time::sleep(Duration::from_millis(ms.unwrap_or(0))).await;
            stream.write_all(&good(conn, target)).await?;
        }
        Fault::Hang | Fault::StallBody => {
            if Fault::from_path(path) == Fault::StallBody {
                stream
                    .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\n0123456789")
                    .await?;
            }
            drain_until_closed(stream).await;
            return Ok(Then::Close);
        }
        Fault::Reset => return Ok(Then::Reset),
        Fault::ResetMidBody => {
            stream
                .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 1000\r\n\r\n")
                .await?;
            stream.write_all(&[b'x'; 100]).await?;
            stream.flush().await?;
            // Lets the head and the first bytes leave before the reset overtakes them.
            tokio::time::sleep(Duration::from_millis(50)).await;
            return Ok(Then::Reset);
        }
        Fault::Close => return Ok(Then::Close),
        Fault::HugeHead => {
            let mut head = b"HTTP/1.1 200 OK\r\nx-huge: ".to_vec();
            head.resize(head.len() + (1 << 20), b'a');
            head.extend_from_slice(b"\r\ncontent-length: 2\r\n\r\nok");
            stream.write_all(&head).await?;
        }
        Fault::ManyHeaders => {
            let mut head = String::from("HTTP/1.1 200 OK\r\n");
            for i in 0..500 {
                head.push_str(&format!("x-header-{i}: {i}\r\n"));
            }
            head.push_str("content-length: 2\r\n\r\nok");
            stream.write_all(head.as_bytes()).await?;
        }
        Fault::GarbageStatus => {
            stream
                .write_all(b"HTTP/1.1 2OO FINE\r\ncontent-length: 2\r\n\r\nok")
                .await?;
        }
        Fault::BadHeader => {
            stream
                .write_all(b"HTTP/1.1 200 OK\r\nx-bad\x01name: v\r\ncontent-length: 2\r\n\r\nok")
                .await?;
        }
        Fault::ShortBody => {
            stream
                .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\n0123456789")
                .await?;
            return Ok(Then::Close);
        }
        Fault::LongBody => {
            let both = format!(
                "HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nhello{}",
                smuggled()
            );
            stream.write_all(both.as_bytes()).await?;
        }
        Fault::DuplicateLength => {
            stream
                .write_all(
                    b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\ncontent-length: 13\r\n\r\nhelloSMUGGLED",
                )
                .await?;
        }
        Fault::LengthAndChunked => {
            stream
                .write_all(
                    b"HTTP/1.1 200 OK\r\ncontent-length: 3\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
                )
                .await?;
        }
        Fault::BadChunk => {
            stream
                .write_all(
                    b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n",
                )
                .await?;
        }
        Fault::ChunkOverflow => {
            stream
                .write_all(
                    b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\nfffffffffffffffffffff\r\nhello\r\n0\r\n\r\n",
                )
                .await?;
        }
        Fault::Http10 => {
            stream
                .write_all(b"HTTP/1.0 200 OK\r\ncontent-type: text/plain\r\n\r\nuntil the close")
                .await?;
            return Ok(Then::Close);
        }
        Fault::Informational => {
            let mut all = b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nlink: </a.css>; rel=preload\r\n\r\n".to_vec();
            all.extend_from_slice(&good(conn, target));
            stream.write_all(&all).await?;
        }
        Fault::Unsolicited => {
            stream.write_all(&good(conn, target)).await?;
            tokio::time::sleep(Duration::from_millis(50)).await;
            stream.write_all(smuggled().as_bytes()).await?;
        }
        Fault::BigDeclared => {
            stream
                .write_all(
                    format!("HTTP/1.1 200 OK\r\ncontent-length: {BIG_BODY}\r\n\r\n").as_bytes(),
                )
                .await?;
            let chunk = vec![b'x'; 1 << 16];
            let mut left = BIG_BODY;
            while left > 0 {
                let n = left.min(chunk.len());
                stream.write_all(&chunk[..n]).await?;
                left -= n;
            }
        }
        Fault::BigChunked => {
            stream
                .write_all(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n")
                .await?;
            let mut chunk = format!("{:x}\r\n", 1 << 16).into_bytes();
            chunk.resize(chunk.len() + (1 << 16), b'x');
            chunk.extend_from_slice(b"\r\n");
            let mut left = BIG_BODY;
            while left >= 1 << 16 {
                stream.write_all(&chunk).await?;
                left -= 1 << 16;
            }
            let mut last = format!("{left:x}\r\n").into_bytes();
            last.resize(last.len() + left, b'x');
            last.extend_from_slice(b"\r\n0\r\n\r\n");
            stream.write_all(&last).await?;
        }
    }
    Ok(Then::KeepAlive)
}

/// Reads and throws away whatever comes until the peer closes (or resets).
async fn drain_until_closed(stream: &mut TcpStream) {
    let mut sink = [0u8; 4096];
    while let Ok(n) = stream.read(&mut sink).await {
        if n == 0 {
            return;
        }
    }
}

/// Closes with a reset rather than a FIN: with `SO_LINGER` at zero the kernel drops
/// what is unsent and answers RST.
fn reset(stream: TcpStream) {
    // The deprecation warns that a linger blocks the thread on drop; a zero linger never
    // waits, it is how a reset is asked for.
    #[allow(deprecated)]
    let _ = stream.set_linger(Some(Duration::ZERO));
    drop(stream);
}
