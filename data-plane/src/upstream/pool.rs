//! Each proxy worker's keep-alive connections to upstreams, on hyper's bare HTTP/1.1
//! client connections.
//!
//! hyper-util's general-purpose client costs every request a shared-pool checkout racing
//! a lazy connect, and a spawned task that waits for the connection to go idle before
//! it is put back. A worker is single-threaded and proxies one kind of traffic, so its
//! pool can be simpler: a connection is taken from the idle list, the request is sent on
//! it, and the response body puts it back the moment the upstream's response has been
//! read to the end. A body that is dropped early takes its connection with it, so a
//! half-read response never reaches another request.

use std::error::Error as StdError;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use foldhash::{HashMap, HashMapExt};
use http::uri::{Authority, Scheme};
use http::{Request, Response, Uri};
use http_body::{Body, Frame, SizeHint};
use hyper::body::Incoming;
use hyper::client::conn::http1;
use hyper_rustls::{HttpsConnector, HttpsConnectorBuilder};
use hyper_util::client::legacy::connect::HttpConnector;
use tower::ServiceExt as _;
use tracing::debug;

use super::dial::{DialTls, dial};
use crate::read_deadline::ReadDeadline;

/// How often each worker sweeps its idle connections. A connection idle for
/// [`IDLE_SWEEPS`] sweeps is closed: after 45 to 60 s, before upstreams such as nginx
/// close theirs (75 s), so the pool rarely sends on a connection being closed. Counting
/// sweeps instead of reading the clock keeps clock reads off the request path.
pub const SWEEP_INTERVAL: Duration = Duration::from_secs(15);
const IDLE_SWEEPS: u32 = 4;
/// Idle connections kept per upstream and worker; more than that are closed when they
/// come back.
pub const MAX_IDLE_PER_UPSTREAM: usize = 512;

type BoxError = Box<dyn StdError + Send + Sync>;

/// What the pool can send: any request body hyper's client takes. The pool is generic
/// over it so that it knows nothing of the proxy that feeds it.
pub trait RequestBody: Body<Data = Bytes, Error: Into<BoxError>> + Send + 'static {}

impl<T> RequestBody for T where T: Body<Data = Bytes, Error: Into<BoxError>> + Send + 'static {}

#[derive(Debug, thiserror::Error)]
pub enum UpstreamError {
    #[error("the upstream URI {0} has no scheme or host")]
    NotAbsolute(Uri),
    #[error("cannot connect to the upstream")]
    Connect(#[source] BoxError),
    #[error("the upstream connection failed")]
    Http(#[source] hyper::Error),
}

impl UpstreamError {
    /// Whether the failure came before any of the request was written upstream.
    pub fn nothing_sent(&self) -> bool {
        matches!(
            self,
            UpstreamError::NotAbsolute(_) | UpstreamError::Connect(_)
        )
    }
}

/// One worker's pool. Cloning it is cheap and shares the pool.
pub struct UpstreamPool<B> {
    shared: Arc<PoolShared<B>>,
}

impl<B> Clone for UpstreamPool<B> {
    fn clone(&self) -> Self {
        UpstreamPool {
            shared: self.shared.clone(),
        }
    }
}

struct PoolShared<B> {
    connector: HttpsConnector<HttpConnector>,
    /// Only its own worker's thread touches it, so the lock is never contended; it is
    /// there because hyper's server wants `Send` futures.
    idle: Mutex<HashMap<PoolKey, Vec<IdleConnection<B>>>>,
    /// Sweeps so far; an idle connection remembers the sweep it was returned in.
    sweeps: AtomicU32,
}

/// Compares the authority as written. `Authority`'s own `Hash` folds case byte by byte,
/// which costs more than the rest of a pool checkout; the URIs all come from the
/// compiled config, so two spellings of one host only mean two idle lists.
#[derive(Clone, Debug)]
struct PoolKey {
    https: bool,
    authority: Authority,
    /// `DialTls::id` of a dialled endpoint's TLS settings (0 otherwise).
    tls: u64,
}

impl PartialEq for PoolKey {
    fn eq(&self, other: &Self) -> bool {
        self.https == other.https
            && self.tls == other.tls
            && self.authority.as_str() == other.authority.as_str()
    }
}

impl Eq for PoolKey {}

impl std::hash::Hash for PoolKey {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.https.hash(state);
        self.tls.hash(state);
        self.authority.as_str().hash(state);
    }
}

struct IdleConnection<B> {
    sender: http1::SendRequest<B>,
    since_sweep: u32,
}

impl<B: RequestBody> UpstreamPool<B> {
    /// Plain HTTP or TLS (rustls with the ring provider named explicitly, so a binary that
    /// also links aws-lc-rs cannot make the choice ambiguous, and Mozilla's roots);
    /// HTTP/1.1 only, as AWS speaks to HTTP integrations.
    pub fn new() -> Result<Self, rustls::Error> {
        let mut http = HttpConnector::new();
        // The TLS wrapper takes https:// URIs; plain http is still allowed.
        http.enforce_http(false);
        http.set_nodelay(true);
        http.set_keepalive(Some(Duration::from_secs(60)));
        let connector = HttpsConnectorBuilder::new()
            .with_provider_and_webpki_roots(rustls::crypto::ring::default_provider())?
            .https_or_http()
            .enable_http1()
            .wrap_connector(http);
        Ok(UpstreamPool {
            shared: Arc::new(PoolShared {
                connector,
                idle: Mutex::new(HashMap::new()),
                sweeps: AtomicU32::new(0),
            }),
        })
    }

    /// Sends a request whose URI is absolute (`http://host/path`) and returns the
    /// response head; the body streams from the connection, which goes back to the pool
    /// once the body has been read to its end.
    ///
    /// A pooled connection the upstream closed while it sat idle fails before anything
    /// is written on it; the request is then sent again on another connection, as
    /// hyper-util's client does. Once any of the request has been written it is never
    /// retried.
    pub async fn send(
        &self,
        request: Request<B>,
    ) -> Result<Response<UpstreamResponseBody<B>>, UpstreamError> {
        let (mut parts, body) = request.into_parts();
        let uri = std::mem::take(&mut parts.uri);
        let key = match (uri.scheme(), uri.authority()) {
            (Some(scheme), Some(authority)) => PoolKey {
                https: *scheme == Scheme::HTTPS,
                authority: authority.clone(),
                tls: 0,
            },
            _ => return Err(UpstreamError::NotAbsolute(uri)),
        };
        // HTTP/1.1 to an origin server takes the origin form: path and query only.
        parts.uri = uri
            .path_and_query()
            .map_or_else(|| Uri::from_static("/"), |pq| Uri::from(pq.clone()));
        let request = Request::from_parts(parts, body);
        self.send_on(key, Connect::Uri(&uri), request)
            .await
            .map_err(|failed| failed.error)
    }

    /// Sends a request (its URI in origin form, its `Host` set) to one chosen address, as
    /// a VPC link does to its endpoints. When the request did not leave (the endpoint
    /// refused the connection, the handshake failed), it comes back with the error, so
    /// it can go to another endpoint.
    pub async fn send_to(
        &self,
        addr: SocketAddr,
        authority: &Authority,
        tls: Option<&DialTls>,
        request: Request<B>,
    ) -> Result<Response<UpstreamResponseBody<B>>, SendFailure<B>> {
        let key = PoolKey {
            https: tls.is_some(),
            authority: authority.clone(),
            tls: tls.map_or(0, |t| t.id),
        };
        self.send_on(key, Connect::Dial(addr, tls), request).await
    }

    async fn send_on(
        &self,
        key: PoolKey,
        connect: Connect<'_>,
        mut request: Request<B>,
    ) -> Result<Response<UpstreamResponseBody<B>>, SendFailure<B>> {
        loop {
            let (mut sender, pooled) = match self.checkout(&key) {
                Some(sender) => (sender, true),
                // Boxed: connecting (DNS, TCP, TLS, hyper's handshake) is a future of
                // several KB that every request's future would otherwise carry and move,
                // though a pooled connection is almost always there.
                None => match Box::pin(self.connect(&connect)).await {
                    Ok(sender) => (sender, false),
                    Err(error) => {
                        return Err(SendFailure {
                            error,
                            unsent: Some(request),
                        });
                    }
                },
            };
            // A connection comes back as soon as its last response ends, which can be
            // just before hyper has readied it for the next request.
            if let Err(e) = sender.ready().await {
                if pooled {
                    continue;
                }
                return Err(SendFailure {
                    error: UpstreamError::Http(e),
                    unsent: Some(request),
                });
            }
            match sender.try_send_request(request).await {
                Ok(response) => {
                    let ticket = ReturnTicket {
                        pool: self.shared.clone(),
                        key,
                        sender,
                    };
                    return Ok(response.map(|body| UpstreamResponseBody::new(body, ticket)));
                }
                Err(mut failed) => match failed.take_message() {
                    Some(unsent) if pooled => {
                        debug!(upstream = %key.authority, "pooled connection closed before use: {}", failed.error());
                        request = unsent;
                    }
                    unsent => {
                        return Err(SendFailure {
                            error: UpstreamError::Http(failed.into_error()),
                            unsent,
                        });
                    }
                },
            }
        }
    }

    /// Closes idle connections that have waited [`IDLE_SWEEPS`] sweeps or that the
    /// upstream has closed; each worker calls it every [`SWEEP_INTERVAL`].
    pub fn prune_idle(&self) {
        let now = self
            .shared
            .sweeps
            .fetch_add(1, Ordering::Relaxed)
            .wrapping_add(1);
        let mut idle = self.shared.lock_idle();
        idle.retain(|_, list| {
            list.retain(|c| c.is_usable(now));
            !list.is_empty()
        });
    }

    /// Idle connections held now, for `/metrics`.
    pub fn idle_count(&self) -> usize {
        self.shared.lock_idle().values().map(Vec::len).sum()
    }

    fn checkout(&self, key: &PoolKey) -> Option<http1::SendRequest<B>> {
        let now = self.shared.sweeps.load(Ordering::Relaxed);
        let mut idle = self.shared.lock_idle();
        let list = idle.get_mut(key)?;
        // Most recently used first: its TCP state is warm, and the oldest ones age out.
        while let Some(c) = list.pop() {
            if c.is_usable(now) {
                return Some(c.sender);
            }
        }
        None
    }

    async fn connect(&self, connect: &Connect<'_>) -> Result<http1::SendRequest<B>, UpstreamError> {
        let uri = match connect {
            Connect::Uri(uri) => *uri,
            Connect::Dial(addr, tls) => {
                return dial(*addr, *tls)
                    .await
                    .map_err(|e| UpstreamError::Connect(Box::new(e)));
            }
        };
        let io = self
            .shared
            .connector
            .clone()
            .oneshot(uri.clone())
            .await
            .map_err(UpstreamError::Connect)?;
        let (sender, connection) = http1::Builder::new()
            .handshake(io)
            .await
            .map_err(UpstreamError::Http)?;
        let upstream = uri.authority().cloned();
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                debug!(?upstream, "upstream connection ended: {e}");
            }
        });
        Ok(sender)
    }
}

/// How a new connection is made: to the host the URI names, or to a chosen address.
enum Connect<'a> {
    Uri(&'a Uri),
    Dial(SocketAddr, Option<&'a DialTls>),
}

/// A request that failed, and the request itself when none of it was sent.
pub struct SendFailure<B> {
    pub error: UpstreamError,
    pub unsent: Option<Request<B>>,
}

impl<B> PoolShared<B> {
    fn lock_idle(&self) -> std::sync::MutexGuard<'_, HashMap<PoolKey, Vec<IdleConnection<B>>>> {
        // Nothing under this lock can leave the map half-changed, so a panic elsewhere
        // while it was held does not make it unusable.
        self.idle.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn give_back(&self, key: PoolKey, sender: http1::SendRequest<B>) {
        if sender.is_closed() {
            return;
        }
        let mut idle = self.lock_idle();
        let list = idle.entry(key).or_default();
        if list.len() < MAX_IDLE_PER_UPSTREAM {
            list.push(IdleConnection {
                sender,
                since_sweep: self.sweeps.load(Ordering::Relaxed),
            });
        }
    }
}

impl<B> IdleConnection<B> {
    fn is_usable(&self, sweep: u32) -> bool {
        !self.sender.is_closed() && sweep.wrapping_sub(self.since_sweep) < IDLE_SWEEPS
    }
}

/// The right to put a connection back in the pool, held by the response it carries.
struct ReturnTicket<B> {
    pool: Arc<PoolShared<B>>,
    key: PoolKey,
    sender: http1::SendRequest<B>,
}

/// Why an upstream response body broke off.
#[derive(Debug, thiserror::Error)]
pub enum BodyError {
    #[error("reading the upstream's response body failed")]
    Read(#[source] hyper::Error),
    /// The upstream sent nothing more of a body it had started for the read timeout (as
    /// nginx's `proxy_read_timeout` measures it, between two reads, so a long download
    /// that keeps coming is not cut).
    #[error("the upstream sent nothing of the response body for {0:?}")]
    Stalled(Duration),
}

/// An upstream response body that returns its connection to the pool when it has been
/// read to the end, and closes it when dropped before that.
pub struct UpstreamResponseBody<B> {
    body: Incoming,
    ticket: Option<ReturnTicket<B>>,
    /// The integration's timeout, between two reads of the body.
    deadline: Option<ReadDeadline>,
}

impl<B> UpstreamResponseBody<B> {
    fn new(body: Incoming, ticket: ReturnTicket<B>) -> Self {
        let mut this = UpstreamResponseBody {
            body,
            ticket: Some(ticket),
            deadline: None,
        };
        // An empty body (HEAD, 204, 304, Content-Length: 0) may never be polled.
        this.return_if_ended();
        this
    }

    /// Fails the body (and closes its connection) once the upstream sends nothing of it
    /// for `timeout`. Without one, a body waits as long as the upstream keeps the
    /// connection open.
    pub fn set_read_timeout(&mut self, timeout: Duration) {
        self.deadline = Some(ReadDeadline::new(timeout));
    }

    fn return_connection(&mut self) {
        if let Some(t) = self.ticket.take() {
            t.pool.give_back(t.key, t.sender);
        }
    }

    fn return_if_ended(&mut self) {
        if self.body.is_end_stream() {
            self.return_connection();
        }
    }
}

impl<B> std::fmt::Debug for UpstreamResponseBody<B> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UpstreamResponseBody")
            .field("body", &self.body)
            .field("pooled", &self.ticket.is_some())
            .finish()
    }
}

impl<B> Body for UpstreamResponseBody<B> {
    type Data = Bytes;
    type Error = BodyError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BodyError>>> {
        let this = self.get_mut();
        match Pin::new(&mut this.body).poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => {
                this.return_if_ended();
                if let Some(deadline) = &mut this.deadline {
                    deadline.progressed();
                }
                Poll::Ready(Some(Ok(frame)))
            }
            Poll::Ready(None) => {
                this.return_connection();
                Poll::Ready(None)
            }
            // A broken body leaves the connection in an unknown state: never reuse it.
            Poll::Ready(Some(Err(e))) => {
                this.ticket = None;
                Poll::Ready(Some(Err(BodyError::Read(e))))
            }
            Poll::Pending => {
                let Some(deadline) = &mut this.deadline else {
                    return Poll::Pending;
                };
                if deadline.poll_expired(cx).is_pending() {
                    return Poll::Pending;
                }
                // Dropping the ticket closes the connection when the body goes.
                this.ticket = None;
                Poll::Ready(Some(Err(BodyError::Stalled(deadline.timeout()))))
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

impl<B> Drop for UpstreamResponseBody<B> {
    fn drop(&mut self) {
        // Dropped once fully read: the connection is idle and can serve another request.
        // Dropped part-way: the ticket goes with it and hyper closes the connection.
        self.return_if_ended();
    }
}

#[cfg(test)]
mod tests {
    use std::convert::Infallible;
    use std::net::SocketAddr;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use http_body_util::{BodyExt, Full};
    use hyper::service::service_fn;
    use hyper_util::rt::TokioIo;
    use tokio::net::TcpListener;

    use super::*;

    /// The pool is generic over what it sends; its tests send nothing.
    type UpstreamBody = http_body_util::Empty<Bytes>;
    type UpstreamPool = super::UpstreamPool<UpstreamBody>;

    /// An upstream that counts the connections it accepts. `/big` answers 4 MiB,
    /// `/close` asks for the connection to be closed, anything else echoes the request
    /// target as it arrived on the wire.
    async fn upstream() -> (SocketAddr, Arc<AtomicUsize>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let accepted = Arc::new(AtomicUsize::new(0));
        let counter = accepted.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                counter.fetch_add(1, Ordering::SeqCst);
                tokio::spawn(async move {
                    let service = service_fn(|req: Request<Incoming>| async move {
                        let mut response = match req.uri().path() {
                            "/big" => Response::new(Full::new(Bytes::from(vec![b'x'; 4 << 20]))),
                            _ => Response::new(Full::new(Bytes::from(req.uri().to_string()))),
                        };
                        if req.uri().path() == "/close" {
                            response
                                .headers_mut()
                                .insert(http::header::CONNECTION, "close".parse().expect("value"));
                        }
                        Ok::<_, Infallible>(response)
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        (addr, accepted)
    }

    fn no_body() -> UpstreamBody {
        http_body_util::Empty::new()
    }

    fn request(addr: SocketAddr, path: &str) -> Request<UpstreamBody> {
        Request::builder()
            .uri(format!("http://{addr}{path}"))
            .header(http::header::HOST, addr.to_string())
            .body(no_body())
            .expect("request")
    }

    async fn text(pool: &UpstreamPool, addr: SocketAddr, path: &str) -> String {
        let response = pool.send(request(addr, path)).await.expect("response");
        let bytes = response
            .into_body()
            .collect()
            .await
            .expect("body")
            .to_bytes();
        String::from_utf8(bytes.to_vec()).expect("utf-8")
    }

    /// Lets the connection tasks run (they share this test's thread).
    async fn settle() {
        for _ in 0..10 {
            tokio::task::yield_now().await;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    #[tokio::test]
    async fn reuses_a_connection_once_its_response_has_been_read() {
        let (addr, accepted) = upstream().await;
        let pool = UpstreamPool::new().expect("pool");
        for i in 0..5 {
            // The origin form goes on the wire, never the absolute URI.
            assert_eq!(
                text(&pool, addr, &format!("/n/{i}?q=1")).await,
                format!("/n/{i}?q=1")
            );
        }
        assert_eq!(accepted.load(Ordering::SeqCst), 1);
        assert_eq!(pool.idle_count(), 1);
    }

    #[tokio::test]
    async fn idle_connections_are_closed_after_four_sweeps() {
        let (addr, accepted) = upstream().await;
        let pool = UpstreamPool::new().expect("pool");
        assert_eq!(text(&pool, addr, "/").await, "/");
        for _ in 0..IDLE_SWEEPS - 1 {
            pool.prune_idle();
        }
        assert_eq!(pool.idle_count(), 1);
        pool.prune_idle();
        assert_eq!(pool.idle_count(), 0);
        assert_eq!(text(&pool, addr, "/").await, "/");
        assert_eq!(accepted.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn empty_bodies_give_the_connection_back_without_being_polled() {
        let (addr, accepted) = upstream().await;
        let pool = UpstreamPool::new().expect("pool");
        for _ in 0..3 {
            let mut req = request(addr, "/head");
            *req.method_mut() = http::Method::HEAD;
            let response = pool.send(req).await.expect("response");
            assert!(response.body().is_end_stream());
            drop(response);
        }
        assert_eq!(accepted.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn a_response_dropped_part_way_closes_its_connection() {
        let (addr, accepted) = upstream().await;
        let pool = UpstreamPool::new().expect("pool");
        let response = pool.send(request(addr, "/big")).await.expect("response");
        drop(response);
        assert_eq!(pool.idle_count(), 0);
        assert_eq!(text(&pool, addr, "/after").await, "/after");
        assert_eq!(accepted.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn connections_the_upstream_closes_are_not_reused() {
        let (addr, accepted) = upstream().await;
        let pool = UpstreamPool::new().expect("pool");
        assert_eq!(text(&pool, addr, "/close").await, "/close");
        settle().await;
        pool.prune_idle();
        assert_eq!(pool.idle_count(), 0);
        assert_eq!(text(&pool, addr, "/next").await, "/next");
        assert_eq!(accepted.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn a_pooled_connection_closed_while_idle_is_replaced() {
        // An upstream that answers one request per connection and then hangs up without
        // saying so, as a server whose keep-alive timer fired would.
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        tokio::spawn(async move {
            use tokio::io::{AsyncReadExt, AsyncWriteExt};
            while let Ok((mut stream, _)) = listener.accept().await {
                tokio::spawn(async move {
                    let mut buf = [0u8; 1024];
                    let _ = stream.read(&mut buf).await;
                    let _ = stream
                        .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok")
                        .await;
                });
            }
        });
        let pool = UpstreamPool::new().expect("pool");
        for _ in 0..3 {
            assert_eq!(text(&pool, addr, "/").await, "ok");
        }
    }

    #[tokio::test]
    async fn https_upstreams_must_present_a_publicly_trusted_certificate() {
        let key = rcgen::KeyPair::generate().expect("key");
        let cert = rcgen::CertificateParams::new(vec!["localhost".to_string()])
            .expect("params")
            .self_signed(&key)
            .expect("certificate");
        let config = rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .expect("versions")
        .with_no_client_auth()
        .with_single_cert(
            vec![cert.der().clone()],
            rustls::pki_types::PrivateKeyDer::Pkcs8(key.serialize_der().into()),
        )
        .expect("server config");
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let handshakes = Arc::new(AtomicUsize::new(0));
        let counter = handshakes.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let acceptor = acceptor.clone();
                let counter = counter.clone();
                tokio::spawn(async move {
                    // The client gives up during the handshake, so this fails.
                    let _ = acceptor.accept(stream).await;
                    counter.fetch_add(1, Ordering::SeqCst);
                });
            }
        });

        let pool = UpstreamPool::new().expect("pool");
        let request = Request::builder()
            .uri(format!("https://localhost:{port}/"))
            .header(http::header::HOST, "localhost")
            .body(no_body())
            .expect("request");
        let err = pool
            .send(request)
            .await
            .expect_err("an untrusted certificate");
        let chain = crate::error_chain::ErrorChain(&err).to_string();
        assert!(matches!(err, UpstreamError::Connect(_)), "{chain}");
        assert!(chain.contains("UnknownIssuer"), "{chain}");
        settle().await;
        assert_eq!(handshakes.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn unreachable_upstreams_and_relative_uris_are_errors() {
        let pool = UpstreamPool::new().expect("pool");
        let closed = {
            let l = TcpListener::bind("127.0.0.1:0").await.expect("bind");
            l.local_addr().expect("addr")
        };
        assert!(matches!(
            pool.send(request(closed, "/")).await,
            Err(UpstreamError::Connect(_))
        ));
        let relative = Request::builder()
            .uri("/only/a/path")
            .body(no_body())
            .expect("request");
        assert!(matches!(
            pool.send(relative).await,
            Err(UpstreamError::NotAbsolute(_))
        ));
    }
}
