use std::time::Duration;

use anyhow::Context;
use clap::Parser;
use portico_control_plane::cli::{Cli, Command};
use portico_control_plane::identity::MasterKey;
use portico_control_plane::server::{ControlPlaneConfig, GrpcTls, run_control_plane};
use portico_control_plane::service::{EndpointAtStart, ExecuteApiEndpoint};
use portico_control_plane::up::run_up;
use tracing_subscriber::EnvFilter;

/// Resolves on Ctrl-C or SIGTERM; a second signal, or 10 s of draining, ends the process.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
    tracing::info!("shutting down");
    tokio::spawn(async {
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = tokio::time::sleep(Duration::from_secs(10)) => {}
        }
        std::process::exit(0);
    });
}

// mimalloc: the proxy allocates small, short-lived buffers on every request, where it is
// measurably faster than the system allocator (see BENCHMARKS.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    // Colour only for a person at a terminal: a log file or a pipe gets plain text.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stdout());
    tracing_subscriber::fmt()
        .with_ansi(ansi)
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .init();
    let cli = Cli::parse();
    match cli.command {
        Command::Up(args) => run_up(*args, shutdown_signal()).await,
        Command::Serve(args) => {
            let cp = args.control_plane;
            // Only seeds the store, or must match what it holds (see EndpointAtStart).
            let execute_api_endpoint = cp
                .execute_api_endpoint
                .as_deref()
                .map(ExecuteApiEndpoint::parse)
                .transpose()
                .map_err(|e| anyhow::anyhow!("--execute-api-endpoint: {e}"))?;
            if args.cluster_token.len() < 16 {
                anyhow::bail!("--cluster-token must be at least 16 characters");
            }
            let grpc_tls =
                GrpcTls::from_flags(cp.grpc_tls_cert.as_deref(), cp.grpc_tls_key.as_deref())?;
            run_control_plane(
                ControlPlaneConfig {
                    database_url: args.database_url,
                    cluster_token: args.cluster_token,
                    admin_addr: cp.admin_addr,
                    grpc_addr: cp.grpc_addr,
                    execute_api_endpoint: EndpointAtStart::Seed(execute_api_endpoint),
                    node_history_after: Duration::from_secs(cp.node_history_after_seconds),
                    replica_id: cp.replica_id.unwrap_or_else(|| cp.grpc_addr.to_string()),
                    grpc_tls,
                    master_key: MasterKey::from_hex(&args.master_key)
                        .context("--master-key (PORTICO_MASTER_KEY)")?,
                    allow_upstream: cp.allow_upstream.clone(),
                    keep_deployments: cp.keep_deployments,
                    console_dir: cp.console_dir.clone(),
                    bootstrap_password: cp.bootstrap.admin_password.clone(),
                    bootstrap_access_key: cp.bootstrap.access_key(),
                    drain: std::time::Duration::from_secs(args.drain_seconds),
                },
                shutdown_signal(),
                None,
            )
            .await
        }
    }
}
