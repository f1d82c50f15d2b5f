//! `portico up`: everything in one process on embedded SQLite, for one machine. The
//! control plane and one proxy node run as they would apart; the node reaches the
//! control plane over loopback gRPC like any other node.
use std::future::Future;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::Path;

use anyhow::Context;
use rand::RngCore;

use crate::cli::UpArgs;
use crate::server::{ControlPlaneConfig, run_control_plane};
use crate::service::ExecuteApiEndpoint;

const TOKEN_FILE: &str = "cluster-token";
const CREDENTIALS_FILE: &str = "admin-credentials";

/// Writes a secret file readable by its owner only.
fn write_secret(path: &Path, contents: &str) -> anyhow::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options
        .open(path)
        .with_context(|| format!("creating {}", path.display()))?;
    file.write_all(contents.as_bytes())?;
    file.sync_all()?;
    Ok(())
}

fn random_hex(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand::rng().fill_bytes(&mut buf);
    hex::encode(buf)
}

fn random_key_id() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut buf = [0u8; 16];
    rand::rng().fill_bytes(&mut buf);
    let tail: String = buf
        .iter()
        .map(|b| ALPHABET[(*b as usize) % 32] as char)
        .collect();
    format!("PKIA{tail}")
}

/// The cluster token: given, kept from an earlier start, or made now.
fn cluster_token(args: &UpArgs) -> anyhow::Result<String> {
    if let Some(t) = &args.cluster_token {
        return Ok(t.clone());
    }
    let path = args.data_dir.join(TOKEN_FILE);
    match std::fs::read_to_string(&path) {
        Ok(t) if !t.trim().is_empty() => Ok(t.trim().to_string()),
        Ok(_) => anyhow::bail!("{} is empty; delete it to make a new token", path.display()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let token = random_hex(32);
            write_secret(&path, &token)?;
            Ok(token)
        }
        Err(e) => Err(e).with_context(|| format!("reading {}", path.display())),
    }
}

/// The bootstrap admin access key: from `PORTICO_ADMIN_ACCESS_KEY_ID` /
/// `PORTICO_ADMIN_SECRET_ACCESS_KEY`, kept from an earlier start, or made now and shown
/// once. Returns it when it is new.
fn bootstrap_credentials(data_dir: &Path) -> anyhow::Result<Option<(String, String)>> {
    let from_env = (
        std::env::var("PORTICO_ADMIN_ACCESS_KEY_ID").ok(),
        std::env::var("PORTICO_ADMIN_SECRET_ACCESS_KEY").ok(),
    );
    let path = data_dir.join(CREDENTIALS_FILE);
    if path.exists() {
        return Ok(None);
    }
    let (id, secret, generated) = match from_env {
        (Some(id), Some(secret)) => (id, secret, false),
        _ => (random_key_id(), random_hex(20), true),
    };
    write_secret(
        &path,
        &format!("aws_access_key_id = {id}\naws_secret_access_key = {secret}\n"),
    )?;
    Ok(generated.then_some((id, secret)))
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
    let new_credentials = bootstrap_credentials(&data_dir)?;
    let endpoint_url = args
        .control_plane
        .execute_api_endpoint
        .clone()
        .unwrap_or_else(|| format!("http://execute-api.localhost:{}", args.proxy_addr.port()));
    let endpoint = ExecuteApiEndpoint::parse(&endpoint_url)
        .map_err(|e| anyhow::anyhow!("--execute-api-endpoint: {e}"))?;
    let database_url = format!("sqlite://{}", data_dir.join("portico.db").display());

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
            execute_api_endpoint: endpoint.clone(),
            replica_id: args
                .control_plane
                .replica_id
                .clone()
                .unwrap_or_else(|| "local".to_string()),
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
        control_plane: vec![format!("http://{grpc}").parse()?],
        cluster_token: Some(token),
        node_id: Some("local".to_string()),
        cache_dir: data_dir.join("node-cache"),
        proxy_addr: args.proxy_addr,
        metrics_addr: args.metrics_addr,
    };
    let node = tokio::spawn(portico_data_plane::run_node(node, stopped(stop_rx.clone())));

    let admin = loopback_if_unspecified(bound.admin);
    println!();
    println!("  Portico is up.");
    println!(
        "  Admin API       http://{admin}   (aws apigatewayv2 --endpoint-url http://{admin} …)"
    );
    println!("  Config (gRPC)   http://{grpc}");
    println!(
        "  Proxy node      http://{}   APIs at {}",
        loopback_if_unspecified(args.proxy_addr),
        endpoint.for_api("{apiId}")
    );
    println!("  Node health     http://{}/ready", args.metrics_addr);
    println!("  Data directory  {}", data_dir.display());
    if let Some((id, secret)) = new_credentials {
        println!();
        println!(
            "  Admin access key (shown once; kept in {}):",
            data_dir.join(CREDENTIALS_FILE).display()
        );
        println!("    AWS_ACCESS_KEY_ID={id}");
        println!("    AWS_SECRET_ACCESS_KEY={secret}");
    }
    println!();

    let (cp, node) = tokio::join!(control_plane, node);
    cp??;
    node??;
    Ok(())
}
