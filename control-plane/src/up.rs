//! `portico up`: everything in one process on embedded SQLite, for one machine. The
//! control plane and one proxy node run as they would apart; the node reaches the
//! control plane over loopback gRPC like any other node.
use std::future::Future;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use anyhow::Context;
use rand::RngCore;

use crate::cli::UpArgs;
use crate::identity::MasterKey;
use crate::server::{ControlPlaneConfig, GrpcTls, run_control_plane};
use crate::service::{EndpointAtStart, ExecuteApiEndpoint};

const TOKEN_FILE: &str = "cluster-token";
const MASTER_KEY_FILE: &str = "master-key";

fn random_hex(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand::rng().fill_bytes(&mut buf);
    hex::encode(buf)
}

/// The cluster token: given, kept from an earlier start, or made now.
fn cluster_token(args: &UpArgs) -> anyhow::Result<String> {
    if let Some(t) = &args.cluster_token {
        return Ok(t.clone());
    }
    let path = args.data_dir.join(TOKEN_FILE);
    let token = crate::secret_file::read_or_create(&path, || random_hex(32))
        .with_context(|| format!("reading or creating {}", path.display()))?;
    if token.is_empty() {
        anyhow::bail!("{} is empty; delete it to make a new token", path.display());
    }
    Ok(token)
}

fn loopback_if_unspecified(addr: SocketAddr) -> SocketAddr {
    if addr.ip().is_unspecified() {
        SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), addr.port())
    } else {
        addr
    }
}

pub async fn run_up(
    args: UpArgs,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    std::fs::create_dir_all(&args.data_dir)
        .with_context(|| format!("creating data directory {}", args.data_dir.display()))?;
    let data_dir = std::fs::canonicalize(&args.data_dir)?;
    let token = cluster_token(&args)?;
    let master_key = match &args.master_key {
        Some(k) => MasterKey::from_hex(k).context("--master-key")?,
        None => MasterKey::load_or_create(&data_dir.join(MASTER_KEY_FILE))?,
    };
    let endpoint_url = args
        .control_plane
        .execute_api_endpoint
        .clone()
        .unwrap_or_else(|| format!("http://execute-api.localhost:{}", args.proxy_addr.port()));
    let endpoint = ExecuteApiEndpoint::parse(&endpoint_url)
        .map_err(|e| anyhow::anyhow!("--execute-api-endpoint: {e}"))?;
    let database_url = format!("sqlite://{}", data_dir.join("portico.db").display());
    let grpc_tls = GrpcTls::from_flags(
        args.control_plane.grpc_tls_cert.as_deref(),
        args.control_plane.grpc_tls_key.as_deref(),
    )?;
    // The built-in node trusts exactly the certificate this process serves, whatever
    // names it carries: it connects to the bound address, not to a name in it.
    let pinned_cert = grpc_tls.as_ref().map(|t| t.certificate().clone());
    let grpc_scheme = if grpc_tls.is_some() { "https" } else { "http" };

    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        shutdown.await;
        let _ = stop_tx.send(true);
    });
    let stopped = |mut rx: tokio::sync::watch::Receiver<bool>| async move {
        let _ = rx.wait_for(|s| *s).await;
    };

    let (bound_tx, bound_rx) = tokio::sync::oneshot::channel();
    let control_plane = tokio::spawn(run_control_plane(
        ControlPlaneConfig {
            database_url,
            cluster_token: token.clone(),
            admin_addr: args.control_plane.admin_addr,
            grpc_addr: args.control_plane.grpc_addr,
            // One process owns this store: its flag (or the proxy port) decides.
            execute_api_endpoint: EndpointAtStart::Own(endpoint.clone()),
            node_history_after: std::time::Duration::from_secs(
                args.control_plane.node_history_after_seconds,
            ),
            replica_id: args
                .control_plane
                .replica_id
                .clone()
                .unwrap_or_else(|| "local".to_string()),
            grpc_tls,
            master_key,
            allow_upstream: args.control_plane.allow_upstream.clone(),
            keep_deployments: args.control_plane.keep_deployments,
            console_dir: args.control_plane.console_dir.clone(),
            bootstrap_password: args.control_plane.bootstrap.admin_password.clone(),
            bootstrap_access_key: args.control_plane.bootstrap.access_key(),
            // One process: Ctrl-C stops it now.
            drain: std::time::Duration::ZERO,
        },
        stopped(stop_rx.clone()),
        Some(bound_tx),
    ));
    let bound = match bound_rx.await {
        Ok(b) => b,
        // The control plane ended before binding: its error says why.
        Err(_) => return control_plane.await?,
    };
    let grpc = loopback_if_unspecified(bound.grpc);
    let node = portico_data_plane::NodeArgs {
        control_plane: vec![format!("{grpc_scheme}://{grpc}").parse()?],
        ca: None,
        pinned_control_plane_cert: pinned_cert,
        cluster_token: Some(token),
        node_id: Some("local".to_string()),
        cache_dir: data_dir.join("node-cache"),
        proxy_addr: args.proxy_addr,
        proxy_tls_addr: args.proxy_tls_addr,
        metrics_addr: args.metrics_addr,
        proxy_workers: None,
        lambda_endpoint: args.lambda_endpoint.clone(),
        access_log_dir: data_dir.join("access-logs"),
        access_log_stdout: args.access_log_stdout,
        access_log_max_bytes: portico_data_plane::NodeArgs::default().access_log_max_bytes,
        access_log_keep: portico_data_plane::NodeArgs::default().access_log_keep,
        otlp_endpoint: args.otlp_endpoint.clone(),
        vpc_link_groups: args.vpc_link_groups.clone(),
        advertise_addr: None,
        // One process on one machine: no balancer in front to wait for, Ctrl-C stops it.
        drain_seconds: 0,
        limits: Default::default(),
    };
    let node = tokio::spawn(portico_data_plane::run_node(node, stopped(stop_rx.clone())));

    let admin = loopback_if_unspecified(bound.admin);
    println!();
    println!("  Portico is up.");
    println!(
        "  Admin API       http://{admin}   (aws apigatewayv2 --endpoint-url http://{admin} …)"
    );
    println!("  Config (gRPC)   {grpc_scheme}://{grpc}");
    println!(
        "  Proxy node      http://{}   APIs at {}",
        loopback_if_unspecified(args.proxy_addr),
        endpoint.for_api("{apiId}")
    );
    println!(
        "  Proxy HTTPS     https://{}   custom domain names (certificates by SNI)",
        loopback_if_unspecified(args.proxy_tls_addr)
    );
    println!(
        "  Node health     http://{0}/ready   metrics http://{0}/metrics",
        args.metrics_addr
    );
    println!(
        "  Access logs     {}",
        data_dir.join("access-logs").display()
    );
    println!("  Data directory  {}", data_dir.display());
    println!();

    let (cp, node) = tokio::join!(control_plane, node);
    cp??;
    node??;
    Ok(())
}
