//! The accept loop the node's listeners share: HTTP/1.1 and HTTP/2 (prior knowledge in
//! the clear, ALPN over TLS) through hyper, with the timeouts that keep idle and slow
//! clients from holding connections forever, GOAWAY for HTTP/2 connections when the node
//! starts draining, and graceful shutdown.

use std::error::Error as StdError;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use arc_swap::ArcSwap;
use http::{Request, Response};
use http_body::Body;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::{GracefulShutdown, Watcher};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tracing::{debug, warn};

use crate::config::CompiledConfig;
use crate::proxy::client_tls::ClientTls;

/// What a listener speaks on its connections.
#[derive(Clone)]
pub(crate) enum Transport {
    Plain,
    /// TLS with the certificate the live config's custom domains give each SNI name.
    Tls(Arc<ArcSwap<CompiledConfig>>),
}

/// How long a client may take to send a request head (and, between requests, how long
/// an idle HTTP/1.1 connection stays open).
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(30);
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

pub(crate) async fn serve<M, S, B>(
    listener: TcpListener,
    name: &'static str,
    transport: Transport,
    signals: Signals,
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
    let mut builder = auto::Builder::new(TokioExecutor::new());
    // Without a timer hyper ignores the header-read timeout.
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_READ_TIMEOUT);
    builder
        .http2()
        .timer(TokioTimer::new())
        .keep_alive_interval(Some(Duration::from_secs(20)))
        .keep_alive_timeout(Duration::from_secs(20));
    // Over TLS, ALPN has said which protocol follows: serving only that one skips the
    // auto builder's wait for an HTTP/2 preface, which has no deadline of its own.
    let h1_only = Arc::new(builder.clone().http1_only());
    let h2_only = Arc::new(builder.clone().http2_only());
    let builder = Arc::new(builder);
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
        if let Err(e) = stream.set_nodelay(true) {
            debug!(%peer, "{name}: cannot set TCP_NODELAY: {e}");
        }
        let make_service = make_service.clone();
        let transport = transport.clone();
        let builder = builder.clone();
        let (h1_only, h2_only) = (h1_only.clone(), h2_only.clone());
        let watcher = graceful.watcher();
        let h2_watcher = before_drain.as_ref().map(GracefulShutdown::watcher);
        let mut stop = stop.clone();
        tokio::spawn(async move {
            match transport {
                Transport::Plain => {
                    // The auto builder waits for the HTTP/2 preface without a deadline of
                    // its own, so a client that connects and sends nothing gets the
                    // header-read timeout here. The first bytes also say the protocol,
                    // which spares the auto builder its own sniffing.
                    let mut first = [0u8; H2_PREFACE_START.len()];
                    let peeked = tokio::select! {
                        peeked = tokio::time::timeout(HEADER_READ_TIMEOUT, stream.peek(&mut first)) => {
                            match peeked {
                                Ok(Ok(n)) if n > 0 => n,
                                _ => return,
                            }
                        }
                        () = stopped(&mut stop) => return,
                    };
                    // Fewer bytes than that: let the auto builder read on and decide.
                    let (builder, watcher) = if peeked < first.len() {
                        (builder, watcher)
                    } else if first[..] == *H2_PREFACE_START {
                        (h2_only, pick_watcher(true, watcher, h2_watcher))
                    } else {
                        (h1_only, watcher)
                    };
                    let conn =
                        builder.serve_connection(TokioIo::new(stream), make_service(peer, None));
                    let ended = watcher.watch(conn).await;
                    if let Err(e) = ended {
                        debug!(%peer, "{name}: connection ended: {e}");
                    }
                }
                Transport::Tls(config) => {
                    // The handshake shares the header-read deadline: a client that never
                    // finishes it holds nothing for longer.
                    let accepted = tokio::select! {
                        done = tokio::time::timeout(HEADER_READ_TIMEOUT, super::tls::accept(stream, &config)) => {
                            done.ok().flatten()
                        }
                        () = stopped(&mut stop) => None,
                    };
                    let Some((stream, tls)) = accepted else {
                        return;
                    };
                    // No ALPN at all means HTTP/1.1 (RFC 7301).
                    let h2 = stream.get_ref().1.alpn_protocol() == Some(b"h2");
                    let builder = if h2 { h2_only } else { h1_only };
                    let watcher = pick_watcher(h2, watcher, h2_watcher);
                    let conn = builder
                        .serve_connection(TokioIo::new(stream), make_service(peer, Some(tls)));
                    let ended = watcher.watch(conn).await;
                    if let Err(e) = ended {
                        debug!(%peer, "{name}: connection ended: {e}");
                    }
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
