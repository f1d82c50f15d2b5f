//! The accept loop the node's listeners share: HTTP/1.1 and HTTP/2 (prior knowledge in
//! the clear, ALPN over TLS) through hyper, with the node's client limits (head sizes,
//! the timeouts that keep idle and slow clients from holding connections forever, the
//! cap on open connections, HTTP/2's stream limits), GOAWAY for HTTP/2 connections when
//! the node starts draining, and graceful shutdown.

use std::error::Error as StdError;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use arc_swap::ArcSwap;
use http::{Request, Response};
use http_body::Body;
use hyper::body::Incoming;
use hyper::server::conn::{http1, http2};
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::graceful::{GracefulShutdown, Watcher};
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, watch};
use tracing::{debug, warn};

use super::idle::{Counted, quiet_for};
use super::limits::ClientLimits;
use crate::config::CompiledConfig;
use crate::proxy::client_tls::ClientTls;

/// What a listener speaks on its connections.
#[derive(Clone)]
pub(crate) enum Transport {
    Plain,
    /// TLS with the certificate the live config's custom domains give each SNI name.
    Tls(Arc<ArcSwap<CompiledConfig>>),
}

/// How long in-flight requests get to finish once the listener stops.
pub const FINISH_TIMEOUT: Duration = Duration::from_secs(10);
/// The HTTP/2 connection preface starts with these bytes, and no HTTP/1.1 method does.
const H2_PREFACE_START: &[u8] = b"PRI";

/// When a listener's connections are told to go: `drain` (optional: the ops listener
/// keeps answering `/ready` through the drain) sends GOAWAY to the HTTP/2 connections
/// open at that moment; `stop` closes the listener and shuts every connection down
/// gracefully.
pub(crate) struct Signals {
    pub drain: Option<watch::Receiver<bool>>,
    pub stop: watch::Receiver<bool>,
}

/// The limits one listener enforces: the node's client limits and, shared by every
/// listener of the node, the permits for open connections (`None`: uncapped).
#[derive(Clone, Default)]
pub(crate) struct ListenerLimits {
    pub client: ClientLimits,
    pub connections: Option<Arc<Semaphore>>,
}

impl ListenerLimits {
    pub(crate) fn capped(client: ClientLimits) -> Self {
        let permits = client.max_connections as usize;
        ListenerLimits {
            client,
            connections: Some(Arc::new(Semaphore::new(permits))),
        }
    }
}

pub(crate) async fn serve<M, S, B>(
    listener: TcpListener,
    name: &'static str,
    transport: Transport,
    signals: Signals,
    limits: ListenerLimits,
    make_service: M,
) where
    M: Fn(SocketAddr, Option<ClientTls>) -> S + Send + Sync + 'static,
    S: hyper::service::Service<Request<Incoming>, Response = Response<B>> + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Into<Box<dyn StdError + Send + Sync>>,
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn StdError + Send + Sync>>,
{
    let ListenerLimits {
        client: client_limits,
        connections,
    } = limits;
    let header_read_timeout = client_limits.header_read_timeout;
    // The protocol is known before hyper sees a byte (the first bytes in the clear, ALPN
    // over TLS), so each connection goes straight to its protocol's builder.
    let mut h1 = http1::Builder::new();
    // Without a timer hyper ignores the header-read timeout. hyper answers a head over
    // the size or count limit with 431 and closes the connection.
    h1.timer(TokioTimer::new())
        .header_read_timeout(header_read_timeout)
        .max_header_size(client_limits.max_header_bytes as usize)
        .max_headers(client_limits.max_headers as usize);
    let mut h2 = http2::Builder::new(TokioExecutor::new());
    // No keep-alive PINGs: the idle timeout closes a connection whose peer is gone,
    // and PINGs would keep every HTTP/2 connection from ever being idle. The reset
    // limits are h2's defaults since CVE-2023-44487, set so that they are ours.
    h2.timer(TokioTimer::new())
        .max_concurrent_streams(client_limits.h2_max_concurrent_streams)
        .max_pending_accept_reset_streams(client_limits.h2_max_pending_resets as usize)
        .max_local_error_reset_streams(client_limits.h2_max_error_resets as usize)
        .max_header_list_size(client_limits.max_header_bytes);
    let builders = Arc::new(Builders {
        h1,
        h2,
        idle_timeout: client_limits.idle_timeout,
    });
    let make_service = Arc::new(make_service);
    let Signals {
        mut drain,
        mut stop,
    } = signals;
    // HTTP/2 connections opened before the drain get GOAWAY when it starts (the client
    // knows which streams were taken, so nothing races); everything else is shut down
    // when the listener stops.
    let mut before_drain = drain.is_some().then(GracefulShutdown::new);
    let mut goaway: Option<tokio::task::JoinHandle<()>> = None;
    let graceful = GracefulShutdown::new();
    // The node says once where it listens (`proxy node started`), not once per worker.
    if let Ok(addr) = listener.local_addr() {
        debug!("{name} listening on {addr}");
    }

    loop {
        let (stream, peer) = tokio::select! {
            biased;
            () = stopped(&mut stop) => break,
            () = stopped_opt(&mut drain), if before_drain.is_some() => {
                if let Some(early) = before_drain.take() {
                    goaway = Some(tokio::spawn(early.shutdown()));
                }
                continue;
            }
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Usually out of file descriptors: back off instead of spinning.
                    warn!("{name}: accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        // At the cap, the connection just accepted waits unread for a permit and the loop
        // accepts nothing more, so later ones wait in the kernel's backlog until a
        // connection closes. (A permit taken before accepting would be held idle by
        // each listener's loop and make the cap inexact.)
        let permit = match &connections {
            None => None,
            Some(permits) => tokio::select! {
                biased;
                () = stopped(&mut stop) => break,
                taken = permits.clone().acquire_owned() => taken.ok(),
            },
        };
        if let Err(e) = stream.set_nodelay(true) {
            debug!(%peer, "{name}: cannot set TCP_NODELAY: {e}");
        }
        let make_service = make_service.clone();
        let transport = transport.clone();
        let builders = builders.clone();
        let watcher = graceful.watcher();
        let h2_watcher = before_drain.as_ref().map(GracefulShutdown::watcher);
        let mut stop = stop.clone();
        tokio::spawn(async move {
            // Held until the connection ends.
            let _permit = permit;
            match transport {
                Transport::Plain => {
                    // A client that connects and sends nothing gets the header-read
                    // timeout here already. The first bytes say the protocol.
                    let mut first = [0u8; H2_PREFACE_START.len()];
                    let peeked = tokio::select! {
                        peeked = tokio::time::timeout(header_read_timeout, stream.peek(&mut first)) => {
                            match peeked {
                                Ok(Ok(n)) if n > 0 => n,
                                _ => return,
                            }
                        }
                        () = stopped(&mut stop) => return,
                    };
                    // Fewer bytes than that is HTTP/1.1: an HTTP/2 client with prior
                    // knowledge writes its 24-byte preface at once.
                    let h2 = peeked == first.len() && first[..] == *H2_PREFACE_START;
                    let watcher = pick_watcher(h2, watcher, h2_watcher);
                    let service = make_service(peer, None);
                    builders
                        .serve(h2, stream, service, watcher, name, peer)
                        .await;
                }
                Transport::Tls(config) => {
                    // The handshake shares the header-read deadline: a client that never
                    // finishes it holds nothing for longer.
                    let accepted = tokio::select! {
                        done = tokio::time::timeout(header_read_timeout, super::tls::accept(stream, &config)) => {
                            done.ok().flatten()
                        }
                        () = stopped(&mut stop) => None,
                    };
                    let Some((stream, tls)) = accepted else {
                        return;
                    };
                    // No ALPN at all means HTTP/1.1 (RFC 7301).
                    let h2 = stream.get_ref().1.alpn_protocol() == Some(b"h2");
                    let watcher = pick_watcher(h2, watcher, h2_watcher);
                    let service = make_service(peer, Some(tls));
                    builders
                        .serve(h2, stream, service, watcher, name, peer)
                        .await;
                }
            }
        });
    }

    drop(listener);
    let early = before_drain
        .take()
        .map(|early| tokio::spawn(early.shutdown()))
        .or(goaway);
    let finished = async {
        graceful.shutdown().await;
        if let Some(early) = early {
            let _ = early.await;
        }
    };
    if tokio::time::timeout(FINISH_TIMEOUT, finished)
        .await
        .is_err()
    {
        warn!("{name}: connections still open after {FINISH_TIMEOUT:?}; dropping them");
    }
}

/// The connection builders of one listener, and how long its connections may be idle.
struct Builders {
    h1: http1::Builder,
    h2: http2::Builder<TokioExecutor>,
    idle_timeout: Duration,
}

impl Builders {
    /// Serves one connection in `h2` or HTTP/1.1 until it ends, `watcher`'s shutdown
    /// has finished it, or it has moved no byte for the idle timeout.
    async fn serve<I, S, B>(
        &self,
        h2: bool,
        io: I,
        service: S,
        watcher: Watcher,
        name: &str,
        peer: SocketAddr,
    ) where
        I: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
        S: hyper::service::Service<Request<Incoming>, Response = Response<B>> + Send + 'static,
        S::Future: Send + 'static,
        S::Error: Into<Box<dyn StdError + Send + Sync>>,
        B: Body + Send + 'static,
        B::Data: Send,
        B::Error: Into<Box<dyn StdError + Send + Sync>>,
    {
        let (io, activity) = Counted::new(io);
        let io = TokioIo::new(io);
        let served = async {
            if h2 {
                watcher.watch(self.h2.serve_connection(io, service)).await
            } else {
                watcher.watch(self.h1.serve_connection(io, service)).await
            }
        };
        let idle_timeout = self.idle_timeout;
        tokio::select! {
            ended = served => if let Err(e) = ended {
                debug!(%peer, "{name}: connection ended: {e}");
            },
            () = quiet_for(&activity, idle_timeout) => {
                debug!(%peer, "{name}: closed a connection idle for {idle_timeout:?}");
            }
        }
    }
}

/// Resolves once the stop flag is set (or its sender is gone). The watch's read guard is
/// dropped in here, so callers' futures stay `Send`.
async fn stopped(stop: &mut watch::Receiver<bool>) {
    let _ = stop.wait_for(|stopping| *stopping).await;
}

/// An HTTP/2 connection opened before the drain is watched for the drain's GOAWAY; the
/// watcher not taken is dropped here, so neither shutdown waits on a connection it does
/// not govern.
fn pick_watcher(h2: bool, at_stop: Watcher, before_drain: Option<Watcher>) -> Watcher {
    match before_drain {
        Some(early) if h2 => early,
        _ => at_stop,
    }
}

async fn stopped_opt(flag: &mut Option<watch::Receiver<bool>>) {
    match flag {
        Some(flag) => stopped(flag).await,
        None => std::future::pending().await,
    }
}
