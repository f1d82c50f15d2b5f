//! Command-line flags. Every flag also reads a `PORTICO_*` environment variable.
use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "portico",
    version,
    about = "Portico: a self-hosted API gateway modelled on AWS API Gateway"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// One process: control plane on embedded SQLite, admin API, gRPC config service and
    /// one proxy node.
    Up(Box<UpArgs>),
    /// A control-plane replica (admin API and gRPC config service) on a shared database.
    Serve(Box<ServeArgs>),
}

/// What every control-plane replica listens on and announces.
#[derive(Debug, Clone, Args)]
pub struct ControlPlaneArgs {
    /// Admin REST API (and console) address.
    #[arg(long, env = "PORTICO_ADMIN_ADDR", default_value = "127.0.0.1:9000")]
    pub admin_addr: SocketAddr,
    /// gRPC config service address, where proxy nodes connect.
    #[arg(long, env = "PORTICO_GRPC_ADDR", default_value = "127.0.0.1:9001")]
    pub grpc_addr: SocketAddr,
    /// Where clients reach APIs: each API is served at
    /// `{scheme}://{apiId}.{domain}[:{port}]`. The value lives in the store, one for
    /// every replica: under `serve` this seeds a store that holds none and must match
    /// one that does (change it with `PATCH /portico/settings`); without it `serve` uses
    /// the stored value (`http://execute-api.localhost:8000` in a new store). `up` writes
    /// it (default `http://execute-api.localhost:{proxy port}`) at every start.
    #[arg(long, env = "PORTICO_EXECUTE_API_ENDPOINT")]
    pub execute_api_endpoint: Option<String>,
    /// Nodes not seen for this many seconds leave the Nodes list and stop counting as
    /// part of the fleet (`GET /portico/nodes?history=true` still lists them). At least
    /// 30: three missed heartbeats.
    #[arg(
        long,
        env = "PORTICO_NODE_HISTORY_AFTER_SECONDS",
        value_name = "SECONDS",
        default_value_t = crate::service::DEFAULT_NODE_HISTORY_AFTER.as_secs(),
        value_parser = clap::value_parser!(u64).range(30..)
    )]
    pub node_history_after_seconds: u64,
    /// This replica's name in node status (defaults to its gRPC address).
    #[arg(long, env = "PORTICO_REPLICA_ID")]
    pub replica_id: Option<String>,
    /// Serve the gRPC config service over TLS with this certificate (PEM: the server
    /// certificate first, then any intermediates). Needs --grpc-tls-key.
    #[arg(
        long,
        env = "PORTICO_GRPC_TLS_CERT",
        value_name = "PATH",
        requires = "grpc_tls_key"
    )]
    pub grpc_tls_cert: Option<PathBuf>,
    /// The private key of --grpc-tls-cert (PEM: PKCS#8, PKCS#1 or SEC1).
    #[arg(
        long,
        env = "PORTICO_GRPC_TLS_KEY",
        value_name = "PATH",
        requires = "grpc_tls_cert"
    )]
    pub grpc_tls_key: Option<PathBuf>,
    /// Upstream `host` or `host:port` that integrations may use even though it is the
    /// control plane's own address or a cloud metadata address (comma-separated).
    #[arg(long, env = "PORTICO_ALLOW_UPSTREAM", value_delimiter = ',')]
    pub allow_upstream: Vec<String>,
    /// How many deployments each API keeps: older ones are deleted when a new one is
    /// made, except any a stage points at. 0 keeps every deployment.
    #[arg(long, env = "PORTICO_KEEP_DEPLOYMENTS", default_value_t = crate::service::DEFAULT_KEEP_DEPLOYMENTS)]
    pub keep_deployments: u32,
    /// The console's built assets (`pkg/` with the wasm, JS and CSS that
    /// `scripts/build` writes). Defaults to `site` beside the binary, then
    /// `../site` (so `target/site` for a binary in `target/release`).
    #[arg(long, env = "PORTICO_CONSOLE_DIR")]
    pub console_dir: Option<std::path::PathBuf>,
    #[command(flatten)]
    pub bootstrap: BootstrapArgs,
}

impl BootstrapArgs {
    pub fn access_key(&self) -> Option<(String, String)> {
        Some((
            self.admin_access_key_id.clone()?,
            self.admin_secret_access_key.clone()?,
        ))
    }
}

/// The first admin, made when the store has no users. Missing values are generated and
/// printed once.
#[derive(Debug, Clone, Args)]
pub struct BootstrapArgs {
    /// Password of the first user, `admin`.
    #[arg(long, env = "PORTICO_ADMIN_PASSWORD", hide_env_values = true)]
    pub admin_password: Option<String>,
    /// Access key id of the first user's access key.
    #[arg(
        long,
        env = "PORTICO_ADMIN_ACCESS_KEY_ID",
        requires = "admin_secret_access_key"
    )]
    pub admin_access_key_id: Option<String>,
    /// Secret of that access key.
    #[arg(
        long,
        env = "PORTICO_ADMIN_SECRET_ACCESS_KEY",
        hide_env_values = true,
        requires = "admin_access_key_id"
    )]
    pub admin_secret_access_key: Option<String>,
}

#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// `postgres://user:password@host/db` (or `sqlite://path` for a single replica).
    #[arg(long, env = "PORTICO_DATABASE_URL")]
    pub database_url: String,
    /// Shared secret proxy nodes present to receive configuration.
    #[arg(long, env = "PORTICO_CLUSTER_TOKEN", hide_env_values = true)]
    pub cluster_token: String,
    /// 64 hex characters: seals access-key secrets and signs console sessions. Every
    /// replica sharing the database needs the same key.
    #[arg(long, env = "PORTICO_MASTER_KEY", hide_env_values = true)]
    pub master_key: String,
    /// On SIGTERM, how long the admin API and console go on serving while
    /// `/portico/health` answers 503, so a load balancer moves their traffic first. Node
    /// streams are closed at once, whatever this is.
    #[arg(
        long,
        env = "PORTICO_DRAIN_SECONDS",
        value_name = "SECONDS",
        default_value_t = 5
    )]
    pub drain_seconds: u64,
    #[command(flatten)]
    pub control_plane: ControlPlaneArgs,
}

#[derive(Debug, Clone, Args)]
pub struct UpArgs {
    /// Where the SQLite store, the cluster token and the node's snapshot cache live.
    #[arg(long, env = "PORTICO_DATA_DIR", default_value = "./portico-data")]
    pub data_dir: PathBuf,
    /// Cluster token; generated and kept in the data directory when not given.
    #[arg(long, env = "PORTICO_CLUSTER_TOKEN", hide_env_values = true)]
    pub cluster_token: Option<String>,
    /// Master key (64 hex characters); generated and kept in the data directory
    /// (`master-key`, owner-only) when not given.
    #[arg(long, env = "PORTICO_MASTER_KEY", hide_env_values = true)]
    pub master_key: Option<String>,
    /// Address of the built-in proxy node.
    #[arg(long, env = "PORTICO_PROXY_ADDR", default_value = "0.0.0.0:8000")]
    pub proxy_addr: SocketAddr,
    /// HTTPS address of the built-in proxy node, for custom domain names.
    #[arg(long, env = "PORTICO_PROXY_TLS_ADDR", default_value = "0.0.0.0:8443")]
    pub proxy_tls_addr: SocketAddr,
    /// The built-in proxy node's health and metrics address.
    #[arg(long, env = "PORTICO_METRICS_ADDR", default_value = "127.0.0.1:9100")]
    pub metrics_addr: SocketAddr,
    /// Where the node invokes Lambda integrations (a service speaking the Lambda Invoke
    /// API, such as the runtime interface emulator) [default: AWS, from each function's
    /// ARN].
    #[arg(long, env = "PORTICO_LAMBDA_ENDPOINT", value_name = "URL")]
    pub lambda_endpoint: Option<http::Uri>,
    /// Write the node's access-log lines to stdout instead of `<data-dir>/access-logs`.
    #[arg(long, env = "PORTICO_ACCESS_LOG_STDOUT")]
    pub access_log_stdout: bool,
    /// Export the node's request spans over OTLP/HTTP to this collector (base URL).
    #[arg(long, env = "PORTICO_OTLP_ENDPOINT", value_name = "URL")]
    pub otlp_endpoint: Option<String>,
    /// A VPC-link group the built-in node can reach (repeatable; see portico-proxy
    /// --vpc-link-group). None: every link.
    #[arg(
        long = "vpc-link-group",
        env = "PORTICO_VPC_LINK_GROUPS",
        value_name = "NAME",
        value_delimiter = ','
    )]
    pub vpc_link_groups: Vec<String>,
    #[command(flatten)]
    pub control_plane: ControlPlaneArgs,
}
