//! A whole proxy node: its settings, its listeners, the snapshot client, and the order
//! they start and stop in.

mod idle;
pub(crate) mod lifecycle;
pub mod limits;
pub(crate) mod listener;
mod ops;
mod prometheus;
mod tls;

use std::fmt;
use std::future::Future;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::Ordering;

use anyhow::{Context as _, anyhow, bail};
use arc_swap::ArcSwap;
use http::Uri;
use rustls::pki_types::CertificateDer;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::time::MissedTickBehavior;
use tonic::metadata::{Ascii, MetadataValue};
use tonic::transport::Endpoint;
use tracing::{error, info, warn};

use crate::config::CompiledConfig;
use crate::config_stream::cache::SnapshotCache;
use crate::config_stream::client::{self, SnapshotClient};
use crate::config_stream::push;
use crate::error_chain::ErrorChain;
use crate::integrations::lambda::{
    LambdaClient, LambdaCredentials, LambdaEndpoint, LambdaSettings,
};
use crate::node::limits::ClientLimits;
use crate::node::listener::{ListenerLimits, Signals, Transport};
use crate::proxy::body::UpstreamPool;
use crate::proxy::pipeline::ProxyState;
use crate::proxy::server;
use crate::runtime::Runtime;
use crate::runtime::access_log::{self, AccessLogOptions, AccessLogWriter};
use crate::runtime::span_export::SpanExport;
use crate::upstream::pool::SWEEP_INTERVAL;
use portico_stream_tls::{ServerTrust, load_ca_bundle};

pub const DEFAULT_CONTROL_PLANE: &str = "http://127.0.0.1:9001";
pub const DEFAULT_CACHE_DIR: &str = "./portico-node-cache";
pub const DEFAULT_ACCESS_LOG_DIR: &str = "./access-logs";
pub const DEFAULT_PROXY_ADDR: SocketAddr =
    SocketAddr::new(std::net::IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED), 8000);
pub const DEFAULT_PROXY_TLS_ADDR: SocketAddr =
    SocketAddr::new(std::net::IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED), 8443);
pub const DEFAULT_METRICS_ADDR: SocketAddr =
    SocketAddr::new(std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST), 9100);

/// A proxy node's settings; every flag also reads a `PORTICO_*` environment variable.
#[derive(clap::Args, Clone)]
pub struct NodeArgs {
    /// Control-plane gRPC URLs, tried in turn until one answers (comma-separated).
    #[arg(
        long = "control-plane",
        env = "PORTICO_CONTROL_PLANE",
        value_name = "URL[,URL...]",
        value_delimiter = ',',
        default_value = DEFAULT_CONTROL_PLANE
    )]
    pub control_plane: Vec<Uri>,

    /// CA certificates (PEM bundle) that `https://` control-plane URLs must chain to,
    /// instead of the public roots built into the binary.
    #[arg(long, env = "PORTICO_CA", value_name = "PATH")]
    pub ca: Option<PathBuf>,

    /// Trust exactly this certificate on `https://` control-plane URLs, whatever names it
    /// carries (no flag: `portico up` sets it for its own node, which trusts the
    /// certificate its process serves). Takes precedence over `ca`.
    #[arg(skip)]
    pub pinned_control_plane_cert: Option<CertificateDer<'static>>,

    /// Shared secret the control plane expects (sent as `authorization: Bearer …`).
    #[arg(
        long,
        env = "PORTICO_CLUSTER_TOKEN",
        value_name = "TOKEN",
        hide_env_values = true
    )]
    pub cluster_token: Option<String>,

    /// This node's name in the control plane [default: <hostname>-<proxy port>].
    #[arg(long, env = "PORTICO_NODE_ID", value_name = "ID")]
    pub node_id: Option<String>,

    /// Where the last good snapshot is kept for restarts without a control plane.
    #[arg(
        long,
        env = "PORTICO_CACHE_DIR",
        value_name = "DIR",
        default_value = DEFAULT_CACHE_DIR
    )]
    pub cache_dir: PathBuf,

    /// Address the proxy serves API traffic on (HTTP/1.1 and h2c).
    #[arg(
        long,
        env = "PORTICO_PROXY_ADDR",
        value_name = "ADDR",
        default_value_t = DEFAULT_PROXY_ADDR
    )]
    pub proxy_addr: SocketAddr,

    /// Address the proxy serves HTTPS on for custom domain names (HTTP/2 and HTTP/1.1 by
    /// ALPN), with the certificate each SNI name's domain uses.
    #[arg(
        long,
        env = "PORTICO_PROXY_TLS_ADDR",
        value_name = "ADDR",
        default_value_t = DEFAULT_PROXY_TLS_ADDR
    )]
    pub proxy_tls_addr: SocketAddr,

    /// Address of the health and readiness endpoints (`/health`, `/ready`).
    #[arg(
        long,
        env = "PORTICO_METRICS_ADDR",
        value_name = "ADDR",
        default_value_t = DEFAULT_METRICS_ADDR
    )]
    pub metrics_addr: SocketAddr,

    /// Proxy worker threads, each with its own listener socket (SO_REUSEPORT), event loop
    /// and upstream connection pool [default: one per CPU].
    #[arg(long, env = "PORTICO_PROXY_WORKERS", value_name = "N")]
    pub proxy_workers: Option<usize>,

    /// Where Lambda integrations are invoked (scheme, host and port of a service that
    /// speaks the Lambda Invoke API, such as the runtime interface emulator) [default:
    /// https://lambda.<region>.amazonaws.com from each function's ARN]. Calls are signed
    /// with the AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN credentials
    /// when they are set.
    #[arg(long, env = "PORTICO_LAMBDA_ENDPOINT", value_name = "URL")]
    pub lambda_endpoint: Option<Uri>,

    /// Where stages' access logs go: `{DIR}/{log group}.log`, a log group's `/` making
    /// subdirectories.
    #[arg(
        long,
        env = "PORTICO_ACCESS_LOG_DIR",
        value_name = "DIR",
        default_value = DEFAULT_ACCESS_LOG_DIR
    )]
    pub access_log_dir: PathBuf,

    /// Write access-log lines to stdout instead of files (containers).
    #[arg(long, env = "PORTICO_ACCESS_LOG_STDOUT")]
    pub access_log_stdout: bool,

    /// An access-log file is rotated to `NAME.log.1` when it reaches this many bytes.
    #[arg(
        long,
        env = "PORTICO_ACCESS_LOG_MAX_BYTES",
        value_name = "BYTES",
        default_value_t = 100 * 1024 * 1024
    )]
    pub access_log_max_bytes: u64,

    /// Rotated access-log files kept per log group.
    #[arg(
        long,
        env = "PORTICO_ACCESS_LOG_KEEP",
        value_name = "N",
        default_value_t = 5
    )]
    pub access_log_keep: u32,

    /// Export request spans over OTLP/HTTP to this collector (base URL, as
    /// OTEL_EXPORTER_OTLP_ENDPOINT: spans go to `{URL}/v1/traces`).
    #[arg(long, env = "PORTICO_OTLP_ENDPOINT", value_name = "URL")]
    pub otlp_endpoint: Option<String>,

    /// A VPC-link group this node can reach (repeatable; a link's SubnetIds name its
    /// groups). A node given none reaches every link; one given some answers 503 for the
    /// routes of links outside them.
    #[arg(
        long = "vpc-link-group",
        env = "PORTICO_VPC_LINK_GROUPS",
        value_name = "NAME",
        value_delimiter = ','
    )]
    pub vpc_link_groups: Vec<String>,

    /// Where this node can be reached, as `HOST:PORT`, when that is not the address it
    /// listens on (behind NAT, a container's published port, a load balancer): shown on
    /// the Nodes page and used by the console's Test panel [default: --proxy-addr, with
    /// an unspecified IP replaced by the one the node connects from].
    #[arg(long, env = "PORTICO_ADVERTISE_ADDR", value_name = "HOST:PORT", value_parser = parse_advertise_addr)]
    pub advertise_addr: Option<String>,

    /// On SIGTERM, how long the node keeps serving with `/ready` answering 503 (so load
    /// balancers take it out) before it stops accepting and finishes what is in flight.
    #[arg(
        long,
        env = "PORTICO_DRAIN_SECONDS",
        value_name = "SECONDS",
        default_value_t = lifecycle::DEFAULT_DRAIN.as_secs()
    )]
    pub drain_seconds: u64,

    #[command(flatten)]
    pub limits: ClientLimits,
}

/// `HOST:PORT` with a DNS name, an IPv4 address or a bracketed IPv6 address, and a port.
fn parse_advertise_addr(value: &str) -> Result<String, String> {
    let invalid = || format!("'{value}' is not HOST:PORT (e.g. proxy-1.internal:8000)");
    let uri: Uri = format!("http://{value}/").parse().map_err(|_| invalid())?;
    let authority = uri.authority().ok_or_else(invalid)?;
    let port_given = authority.port_u16().is_some_and(|p| p > 0);
    if !port_given || authority.as_str() != value || authority.host().is_empty() {
        return Err(invalid());
    }
    Ok(value.to_string())
}

impl Default for NodeArgs {
    fn default() -> Self {
        NodeArgs {
            control_plane: vec![Uri::from_static(DEFAULT_CONTROL_PLANE)],
            ca: None,
            pinned_control_plane_cert: None,
            cluster_token: None,
            node_id: None,
            cache_dir: PathBuf::from(DEFAULT_CACHE_DIR),
            proxy_addr: DEFAULT_PROXY_ADDR,
            proxy_tls_addr: DEFAULT_PROXY_TLS_ADDR,
            metrics_addr: DEFAULT_METRICS_ADDR,
            proxy_workers: None,
            lambda_endpoint: None,
            access_log_dir: PathBuf::from(DEFAULT_ACCESS_LOG_DIR),
            access_log_stdout: false,
            access_log_max_bytes: 100 * 1024 * 1024,
            access_log_keep: 5,
            otlp_endpoint: None,
            vpc_link_groups: Vec::new(),
            advertise_addr: None,
            drain_seconds: lifecycle::DEFAULT_DRAIN.as_secs(),
            limits: ClientLimits::default(),
        }
    }
}

/// Hand-written so the cluster token never reaches a log.
impl fmt::Debug for NodeArgs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NodeArgs")
            .field("control_plane", &self.control_plane)
            .field("ca", &self.ca)
            .field(
                "pinned_control_plane_cert",
                &self
                    .pinned_control_plane_cert
                    .as_ref()
                    .map(|_| "<certificate>"),
            )
            .field(
                "cluster_token",
                &self.cluster_token.as_ref().map(|_| "<redacted>"),
            )
            .field("node_id", &self.node_id)
            .field("cache_dir", &self.cache_dir)
            .field("proxy_addr", &self.proxy_addr)
            .field("proxy_tls_addr", &self.proxy_tls_addr)
            .field("metrics_addr", &self.metrics_addr)
            .field("proxy_workers", &self.proxy_workers)
            .field("lambda_endpoint", &self.lambda_endpoint)
            .field("access_log_dir", &self.access_log_dir)
            .field("access_log_stdout", &self.access_log_stdout)
            .field("otlp_endpoint", &self.otlp_endpoint)
            .field("vpc_link_groups", &self.vpc_link_groups)
            .field("advertise_addr", &self.advertise_addr)
            .field("drain_seconds", &self.drain_seconds)
            .field("limits", &self.limits)
            .finish()
    }
}

/// Runs a node until `shutdown` completes, then stops accepting, lets in-flight requests
/// finish (for a bounded time) and returns.
pub async fn run_node(
    args: NodeArgs,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    Node::bind(args).await?.run(shutdown).await
}

/// A node whose listeners are bound and whose cached snapshot (if any) is already
/// live, but which serves nothing until [`Node::run`]. Binding first lets a caller
/// use port 0 and learn the real addresses.
pub struct Node {
    node_id: String,
    control_plane: Vec<Uri>,
    endpoints: Vec<Endpoint>,
    authorization: Option<MetadataValue<Ascii>>,
    cache: SnapshotCache,
    config: Arc<ArcSwap<CompiledConfig>>,
    runtime: Arc<Runtime>,
    /// One plain and one TLS listener socket, upstream pool and Lambda client per proxy
    /// worker.
    workers: Vec<Worker>,
    proxy_addr: SocketAddr,
    proxy_tls_addr: SocketAddr,
    metrics_listener: TcpListener,
    metrics_addr: SocketAddr,
    advertise_addr: Option<String>,
    drain: std::time::Duration,
    lifecycle: Arc<lifecycle::Lifecycle>,
}

impl Node {
    pub async fn bind(args: NodeArgs) -> anyhow::Result<Node> {
        let endpoints = control_plane_endpoints(
            &args.control_plane,
            args.ca.as_deref(),
            args.pinned_control_plane_cert.as_ref(),
        )?;
        let authorization = match &args.cluster_token {
            None => None,
            Some(t) if t.is_empty() => None,
            Some(t) => Some(
                MetadataValue::try_from(format!("Bearer {t}"))
                    .ok()
                    .context("the cluster token contains characters that cannot go in a header")?,
            ),
        };
        let worker_count = args
            .proxy_workers
            .filter(|n| *n > 0)
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
        let lambda = Arc::new(LambdaSettings {
            endpoint: match &args.lambda_endpoint {
                Some(uri) => Some(LambdaEndpoint::parse(uri)?),
                None => None,
            },
            credentials: LambdaCredentials::from_env()?,
        });
        match (&lambda.credentials, &lambda.endpoint) {
            (Some(c), _) if c.has_session_token() => warn!(
                access_key_id = c.access_key_id(),
                "Lambda calls are signed with a session token from the environment, which is \
                 read once: restart the node with fresh credentials before it expires"
            ),
            (Some(c), _) => info!(access_key_id = c.access_key_id(), "Lambda calls are signed"),
            (None, Some(_)) => {
                info!("no AWS credentials in the environment: Lambda calls go unsigned")
            }
            (None, None) => warn!(
                "no AWS credentials in the environment and no --lambda-endpoint: AWS will \
                 refuse every Lambda integration's call"
            ),
        }
        raise_open_files_limit();
        // The workers' sockets share their address (SO_REUSEPORT), which would also let
        // a second node bind it silently and take half the traffic; a plain socket bound
        // first fails with "address in use" if anyone listens there, and settles port 0.
        // It is closed just before the workers bind, a window of microseconds in which
        // another process could take the port.
        let proxy_probe = probe_bind(args.proxy_addr)
            .with_context(|| format!("binding the proxy address {}", args.proxy_addr))?;
        let tls_probe = probe_bind(args.proxy_tls_addr)
            .with_context(|| format!("binding the proxy TLS address {}", args.proxy_tls_addr))?;
        let metrics_listener = probe_bind(args.metrics_addr)
            .and_then(|l| {
                l.set_nonblocking(true)?;
                TcpListener::from_std(l)
            })
            .with_context(|| format!("binding the metrics address {}", args.metrics_addr))?;
        let metrics_addr = metrics_listener.local_addr()?;
        let limits = ListenerLimits::capped(args.limits.clone());
        let mut workers = Vec::with_capacity(worker_count);
        let mut proxy_addr = proxy_probe.local_addr()?;
        let mut proxy_tls_addr = tls_probe.local_addr()?;
        drop((proxy_probe, tls_probe));
        for _ in 0..worker_count {
            // The first socket settles the port (it may have been 0); the others share it.
            let plain = reuseport_listener(proxy_addr, worker_count > 1)
                .with_context(|| format!("binding the proxy address {proxy_addr}"))?;
            proxy_addr = plain.local_addr()?;
            let tls = reuseport_listener(proxy_tls_addr, worker_count > 1)
                .with_context(|| format!("binding the proxy TLS address {proxy_tls_addr}"))?;
            proxy_tls_addr = tls.local_addr()?;
            let upstream = UpstreamPool::new().context("setting up the upstream TLS client")?;
            let lambda =
                LambdaClient::new(lambda.clone()).context("setting up the Lambda TLS client")?;
            workers.push(Worker {
                plain,
                tls,
                upstream,
                lambda,
                limits: limits.clone(),
            });
        }

        let node_id = match args.node_id {
            Some(id) if !id.is_empty() => id,
            _ => default_node_id(proxy_addr.port()),
        };
        let cache = SnapshotCache::new(args.cache_dir);
        let config = Arc::new(ArcSwap::from_pointee(CompiledConfig::empty()));
        let access_logs = AccessLogWriter::start(AccessLogOptions {
            dir: args.access_log_dir,
            stdout: args.access_log_stdout,
            max_bytes: args.access_log_max_bytes,
            keep: args.access_log_keep,
        })
        .context("starting the access-log writer")?;
        let spans = match &args.otlp_endpoint {
            Some(endpoint) => Some(SpanExport::start(endpoint, "portico-proxy")?),
            None => None,
        };
        // Issuers' keys are fetched on the node's own runtime, beside the config stream.
        for group in &args.vpc_link_groups {
            portico_model::validate_group_name("--vpc-link-group", group)
                .map_err(|e| anyhow::anyhow!("{e}"))?;
        }
        let runtime = Arc::new(Runtime::for_node(
            tokio::runtime::Handle::current(),
            access_logs,
            spans,
            args.vpc_link_groups.clone(),
        ));
        load_cached_snapshot(&cache, &config, &runtime).await;

        Ok(Node {
            node_id,
            control_plane: args.control_plane,
            endpoints,
            authorization,
            cache,
            config,
            runtime,
            workers,
            proxy_addr,
            proxy_tls_addr,
            metrics_listener,
            metrics_addr,
            advertise_addr: args.advertise_addr,
            drain: std::time::Duration::from_secs(args.drain_seconds),
            lifecycle: Arc::default(),
        })
    }

    pub fn proxy_addr(&self) -> SocketAddr {
        self.proxy_addr
    }

    pub fn proxy_tls_addr(&self) -> SocketAddr {
        self.proxy_tls_addr
    }

    pub fn metrics_addr(&self) -> SocketAddr {
        self.metrics_addr
    }

    pub fn node_id(&self) -> &str {
        &self.node_id
    }

    pub async fn run(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let (stop_tx, stop_rx) = watch::channel(false);
        let worker_count = self.workers.len();
        let (done_tx, mut done_rx) = tokio::sync::mpsc::channel::<String>(worker_count);
        for (i, worker) in self.workers.into_iter().enumerate() {
            spawn_proxy_worker(
                i,
                worker,
                self.config.clone(),
                self.runtime.clone(),
                self.lifecycle.clone(),
                stop_rx.clone(),
                done_tx.clone(),
            )?;
        }
        drop(done_tx);
        let mut proxy = Box::pin(async move {
            let first = done_rx.recv().await;
            (first, done_rx)
        });
        let mut health = tokio::spawn(ops::serve(
            self.metrics_listener,
            self.config.clone(),
            self.runtime.clone(),
            self.lifecycle.clone(),
            stop_rx,
        ));
        let client = SnapshotClient {
            endpoints: self.endpoints,
            authorization: self.authorization,
            node_id: self.node_id.clone(),
            address: self
                .advertise_addr
                .clone()
                .unwrap_or_else(|| self.proxy_addr.to_string()),
            config: self.config.clone(),
            runtime: self.runtime.clone(),
            cache: self.cache,
        };
        let client = tokio::spawn(client.run());
        info!(
            node_id = %self.node_id,
            proxy = %self.proxy_addr,
            proxy_tls = %self.proxy_tls_addr,
            workers = worker_count,
            health = %self.metrics_addr,
            control_plane = ?self.control_plane,
            "proxy node started"
        );

        let mut shutdown = std::pin::pin!(shutdown);
        let mut stopped_early = tokio::select! {
            () = &mut shutdown => None,
            (first, _) = &mut proxy => Some(format!("the proxy worker {first:?}")),
            r = &mut health => Some(format!("the health listener ({r:?})")),
        };
        if stopped_early.is_none() && !self.drain.is_zero() {
            // The config stream stays up: a node that drains still takes new versions.
            self.lifecycle.start_draining();
            info!(node_id = %self.node_id, seconds = self.drain.as_secs(), "draining: /ready answers 503; still serving");
            stopped_early = tokio::select! {
                () = tokio::time::sleep(self.drain) => None,
                (first, _) = &mut proxy => Some(format!("the proxy worker {first:?}")),
                r = &mut health => Some(format!("the health listener ({r:?})")),
            };
            info!(node_id = %self.node_id, "drain over: finishing in-flight requests");
        }
        let _ = stop_tx.send(true);
        client.abort();
        if let Some(what) = stopped_early {
            health.abort();
            // The listeners only return once told to stop, so this is a panic.
            bail!("{what} stopped unexpectedly");
        }
        // Each worker finishes its connections (bounded by FINISH_TIMEOUT) and says so.
        let (_, mut done_rx) = proxy.await;
        let mut finished = 1;
        while finished < worker_count && done_rx.recv().await.is_some() {
            finished += 1;
        }
        let _ = health.await;
        if let Some(spans) = &self.runtime.spans {
            spans.shutdown();
        }
        info!(node_id = %self.node_id, "proxy node stopped");
        Ok(())
    }
}

/// A listening socket for one proxy worker. With several workers each has its own
/// socket on the same address (SO_REUSEPORT), so the kernel spreads connections over
/// them and no worker ever touches another's accept queue.
fn reuseport_listener(addr: SocketAddr, share: bool) -> std::io::Result<std::net::TcpListener> {
    use socket2::{Domain, Protocol, Socket, Type};
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
    socket.set_reuse_address(true)?;
    if share {
        socket.set_reuse_port(true)?;
    }
    socket.set_nonblocking(true)?;
    socket.bind(&addr.into())?;
    socket.listen(4096)?;
    Ok(socket.into())
}

/// Binds `addr` without SO_REUSEPORT, so that the bind fails if any socket listens there.
fn probe_bind(addr: SocketAddr) -> std::io::Result<std::net::TcpListener> {
    std::net::TcpListener::bind(addr).map_err(|e| {
        if e.kind() == std::io::ErrorKind::AddrInUse {
            std::io::Error::new(
                e.kind(),
                format!("address in use: another process (another node?) listens on {addr}"),
            )
        } else {
            e
        }
    })
}

/// Raises the soft limit on open files to the hard one, as nginx's
/// `worker_rlimit_nofile` does: each client connection and each upstream connection is a
/// file, and distributions' soft default (1024) is far below `--max-connections`.
fn raise_open_files_limit() {
    use nix::sys::resource::{Resource, getrlimit, setrlimit};
    match getrlimit(Resource::RLIMIT_NOFILE) {
        Ok((soft, hard)) if soft < hard => match setrlimit(Resource::RLIMIT_NOFILE, hard, hard) {
            Ok(()) => info!(from = soft, to = hard, "raised the open-files limit"),
            Err(e) => warn!(soft, hard, "cannot raise the open-files limit: {e}"),
        },
        Ok(_) => {}
        Err(e) => warn!("cannot read the open-files limit: {e}"),
    }
}

/// One proxy worker's sockets and clients, and the limits its listeners enforce (the
/// connection cap shared with the other workers).
struct Worker {
    plain: std::net::TcpListener,
    tls: std::net::TcpListener,
    upstream: UpstreamPool,
    lambda: LambdaClient,
    limits: ListenerLimits,
}

/// Runs one proxy worker on its own thread with a single-threaded runtime: a request
/// never crosses threads, and its upstream connections stay with it. `done` hears when
/// the worker has stopped.
fn spawn_proxy_worker(
    index: usize,
    worker: Worker,
    config: Arc<ArcSwap<CompiledConfig>>,
    runtime: Arc<Runtime>,
    lifecycle: Arc<lifecycle::Lifecycle>,
    stop: watch::Receiver<bool>,
    done: tokio::sync::mpsc::Sender<String>,
) -> anyhow::Result<()> {
    let name = format!("proxy-worker-{index}");
    let thread_name = name.clone();
    std::thread::Builder::new()
        .name(name.clone())
        .spawn(move || {
            let outcome = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| format!("{thread_name}: cannot start its runtime: {e}"))
                .and_then(|rt| {
                    rt.block_on(async {
                        let plain = TcpListener::from_std(worker.plain)
                            .map_err(|e| format!("{thread_name}: {e}"))?;
                        let tls = TcpListener::from_std(worker.tls)
                            .map_err(|e| format!("{thread_name}: {e}"))?;
                        let (pool, lambda) = (worker.upstream.clone(), worker.lambda.clone());
                        let idle = runtime.meters.upstream_idle_gauge();
                        // This worker's access-log lines reach the writer within the
                        // flush interval even when its stages are quiet.
                        let logs = runtime.clone();
                        let flushing = tokio::spawn(async move {
                            let mut tick = tokio::time::interval(access_log::FLUSH_INTERVAL);
                            tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
                            loop {
                                tick.tick().await;
                                logs.access_logs.flush_thread();
                            }
                        });
                        let runtime_at_stop = runtime.clone();
                        let signals = || Signals {
                            drain: Some(lifecycle.drain_started()),
                            stop: stop.clone(),
                        };
                        let state = Arc::new(ProxyState {
                            config: config.clone(),
                            lifecycle: lifecycle.clone(),
                            upstream: worker.upstream,
                            lambda: worker.lambda,
                            runtime,
                            body_read_timeout: worker.limits.client.body_read_timeout,
                            max_body_bytes: worker.limits.client.max_body_bytes,
                        });
                        let pruning = tokio::spawn(async move {
                            let mut tick = tokio::time::interval(SWEEP_INTERVAL);
                            tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
                            loop {
                                tick.tick().await;
                                pool.prune_idle();
                                lambda.prune_idle();
                                idle.store(pool.idle_count() as u64, Ordering::Relaxed);
                            }
                        });
                        let limits = worker.limits;
                        tokio::join!(
                            server::serve(
                                plain,
                                Transport::Plain,
                                state.clone(),
                                limits.clone(),
                                signals()
                            ),
                            server::serve(tls, Transport::Tls(config), state, limits, signals()),
                        );
                        pruning.abort();
                        flushing.abort();
                        runtime_at_stop.access_logs.flush_thread();
                        Ok(thread_name.clone())
                    })
                });
            let _ = done.blocking_send(outcome.unwrap_or_else(|e| e));
        })
        .with_context(|| format!("starting {name}"))?;
    Ok(())
}

/// One endpoint per control-plane URL: `http://` as is (h2c), `https://` with TLS that
/// trusts the pinned certificate, else the `--ca` bundle, else the public roots. The
/// server name checked is the URL's host.
fn control_plane_endpoints(
    urls: &[Uri],
    ca: Option<&Path>,
    pinned: Option<&CertificateDer<'static>>,
) -> anyhow::Result<Vec<Endpoint>> {
    if urls.is_empty() {
        bail!("no control-plane URL given");
    }
    let any_https = urls.iter().any(|u| u.scheme_str() == Some("https"));
    let trust = match (pinned, ca) {
        _ if !any_https => None,
        (Some(cert), _) => Some(ServerTrust::Pinned(cert.clone())),
        (None, Some(path)) => Some(ServerTrust::Anchors(load_ca_bundle(path)?)),
        (None, None) => Some(ServerTrust::WebPkiRoots),
    };
    if !any_https && ca.is_some() {
        warn!("--ca is only used for https:// control-plane URLs, and none is given");
    }
    urls.iter()
        .map(|uri| {
            let host = uri.host().filter(|h| !h.is_empty());
            let endpoint = client::endpoint(uri.clone());
            match (uri.scheme_str(), host, &trust) {
                (Some("http"), Some(_), _) => Ok(endpoint),
                (Some("https"), Some(_), Some(trust)) => trust.apply(endpoint).map_err(|e| {
                    anyhow!(
                        "control-plane URL {uri}: cannot set up TLS: {}",
                        ErrorChain(&e)
                    )
                }),
                _ => bail!(
                    "control-plane URL {uri} must look like http://host:port or https://host:port"
                ),
            }
        })
        .collect()
}

/// Serves the last good snapshot before any control plane answers. A cache that cannot
/// be read, decoded, verified or compiled is ignored: the control plane will send a
/// fresh one.
async fn load_cached_snapshot(
    cache: &SnapshotCache,
    config: &ArcSwap<CompiledConfig>,
    runtime: &Arc<Runtime>,
) {
    let path = cache.path();
    let reader = cache.clone();
    let runtime = runtime.clone();
    let loaded = tokio::task::spawn_blocking(move || -> Result<Option<CompiledConfig>, String> {
        let Some(push) = reader.load().map_err(|e| e.to_string())? else {
            return Ok(None);
        };
        push::verify_and_compile(&push, &runtime)
            .map(Some)
            .map_err(|e| e.to_string())
    })
    .await;
    match loaded {
        Ok(Ok(Some(compiled))) => {
            info!(
                version = compiled.version,
                path = %path.display(),
                "serving the cached snapshot until a control plane answers"
            );
            config.store(Arc::new(compiled));
        }
        Ok(Ok(None)) => {
            info!(path = %path.display(), "no cached snapshot; waiting for a control plane")
        }
        Ok(Err(e)) => {
            error!(path = %path.display(), "ignoring the snapshot cache, it is unusable: {e}")
        }
        Err(e) => error!(path = %path.display(), "reading the snapshot cache failed: {e}"),
    }
}

/// Stable across restarts and distinct for two nodes on one host.
fn default_node_id(proxy_port: u16) -> String {
    let host = std::env::var("HOSTNAME")
        .ok()
        .or_else(|| std::fs::read_to_string("/proc/sys/kernel/hostname").ok())
        .or_else(|| std::fs::read_to_string("/etc/hostname").ok())
        .map(|h| h.trim().to_string())
        .filter(|h| {
            !h.is_empty()
                && h.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-._".contains(c))
        });
    match host {
        Some(h) => format!("{h}-{proxy_port}"),
        None => format!("node-{:08x}", rand::random::<u32>()),
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        node: NodeArgs,
    }

    #[test]
    fn flags_have_the_documented_defaults() {
        let args = Cli::try_parse_from(["portico-proxy"]).expect("parses").node;
        let defaults = NodeArgs::default();
        assert_eq!(args.control_plane, defaults.control_plane);
        assert_eq!(args.cache_dir, defaults.cache_dir);
        assert_eq!(args.proxy_addr.to_string(), "0.0.0.0:8000");
        assert_eq!(args.proxy_tls_addr.to_string(), "0.0.0.0:8443");
        assert_eq!(args.metrics_addr.to_string(), "127.0.0.1:9100");
        assert!(args.cluster_token.is_none() && args.node_id.is_none());
        assert_eq!(args.limits, ClientLimits::DEFAULT);
        assert_eq!(defaults.limits, ClientLimits::DEFAULT);
    }

    #[test]
    fn limits_are_flags() {
        let args = Cli::try_parse_from([
            "portico-proxy",
            "--max-header-bytes",
            "10240",
            "--header-read-timeout",
            "2.5",
            "--max-connections",
            "50",
        ])
        .expect("parses")
        .node;
        assert_eq!(args.limits.max_header_bytes, 10240);
        assert_eq!(
            args.limits.header_read_timeout,
            std::time::Duration::from_millis(2500)
        );
        assert_eq!(args.limits.max_connections, 50);
        // Past AWS's 10 MB payload the integrations would refuse the body anyway.
        assert!(Cli::try_parse_from(["portico-proxy", "--max-body-bytes", "10485761"]).is_err());
        assert!(Cli::try_parse_from(["portico-proxy", "--idle-timeout", "0"]).is_err());
    }

    #[test]
    fn control_planes_are_comma_separated_and_the_token_is_hidden() {
        let args = Cli::try_parse_from([
            "portico-proxy",
            "--control-plane",
            "http://a:9001,http://b:9001",
            "--cluster-token",
            "s3cret",
        ])
        .expect("parses")
        .node;
        assert_eq!(args.control_plane.len(), 2);
        assert_eq!(args.control_plane[1].to_string(), "http://b:9001/");
        assert!(!format!("{args:?}").contains("s3cret"));
    }

    #[test]
    fn the_ca_flag_reads_a_path() {
        let args = Cli::try_parse_from([
            "portico-proxy",
            "--control-plane",
            "https://cp-1:9001,http://cp-2:9001",
            "--ca",
            "/etc/portico/ca.pem",
        ])
        .expect("parses")
        .node;
        assert_eq!(args.ca.as_deref(), Some(Path::new("/etc/portico/ca.pem")));
        assert!(args.pinned_control_plane_cert.is_none());
    }

    #[test]
    fn control_plane_urls_are_http_or_https() {
        let urls =
            |list: &[&str]| -> Vec<Uri> { list.iter().map(|u| u.parse().unwrap()).collect() };
        let mixed = urls(&[
            "https://cp-1:9001",
            "http://cp-2:9001",
            "https://[::1]:9001",
        ]);
        // Without --ca, https:// URLs trust the public roots built into the binary.
        let endpoints = control_plane_endpoints(&mixed, None, None).expect("mixed list");
        assert_eq!(endpoints.len(), 3);
        assert_eq!(endpoints[1].uri().to_string(), "http://cp-2:9001/");

        let e = control_plane_endpoints(&mixed, Some(Path::new("/nonexistent/ca.pem")), None)
            .expect_err("missing CA bundle");
        assert!(format!("{e:#}").contains("/nonexistent/ca.pem"), "{e:#}");
        // Plain URLs never read the bundle.
        control_plane_endpoints(
            &urls(&["http://cp:9001"]),
            Some(Path::new("/nonexistent/ca.pem")),
            None,
        )
        .expect("http only");

        for bad in ["ftp://cp:9001", "cp:9001", "/just/a/path"] {
            let e = control_plane_endpoints(&urls(&[bad]), None, None).expect_err(bad);
            assert!(e.to_string().contains("http://host:port"), "{bad}: {e}");
        }
        assert!(control_plane_endpoints(&[], None, None).is_err());
    }

    #[test]
    fn a_node_can_be_spawned() {
        // `portico up` runs the node on its own task.
        fn assert_send<T: Send + 'static>(_: &T) {}
        assert_send(&run_node(NodeArgs::default(), async {}));
    }

    #[test]
    fn advertised_addresses_are_host_and_port() {
        for good in ["proxy-1.internal:8000", "10.0.0.7:80", "[2001:db8::1]:8443"] {
            assert_eq!(parse_advertise_addr(good).as_deref(), Ok(good));
        }
        for bad in [
            "proxy-1",
            "proxy-1:",
            ":8000",
            "http://proxy-1:8000",
            "proxy-1:8000/x",
            "a b:1",
            "proxy:0",
            "proxy:99999",
        ] {
            let e = parse_advertise_addr(bad).expect_err(bad);
            assert!(e.contains("HOST:PORT"), "{bad}: {e}");
        }
        let args = Cli::try_parse_from([
            "portico-proxy",
            "--advertise-addr",
            "edge-3:8000",
            "--drain-seconds",
            "12",
        ])
        .expect("parses")
        .node;
        assert_eq!(args.advertise_addr.as_deref(), Some("edge-3:8000"));
        assert_eq!(args.drain_seconds, 12);
        assert_eq!(
            Cli::try_parse_from(["portico-proxy"])
                .expect("parses")
                .node
                .drain_seconds,
            5
        );
    }

    #[test]
    fn node_ids_look_like_names() {
        let id = default_node_id(8000);
        assert!(id.ends_with("-8000") || id.starts_with("node-"), "{id}");
    }
}
