//! Runs one control-plane replica: store, snapshot publisher, change feed, admin API and
//! gRPC config service, until shutdown.
use std::future::Future;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use portico_proto::config_service_server::ConfigServiceServer;
use portico_stream_tls::{CertificateDer, ServerIdentity};
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::admin::{AdminState, app};
use crate::grpc::ConfigStreamService;
use crate::grpc::invoke_keys::InvokeKeySource;
use crate::identity::MasterKey;
use crate::service::{
    AdminService, BootstrapCredentials, EndpointAtStart, IdentityContext, UpstreamPolicy,
    bootstrap_admin, settle_execute_api_endpoint,
};
use crate::snapshot::{SnapshotPublisher, follow_postgres_changes};
use crate::store::{Backend, Store, redact_url};

/// Snapshots for 10,000 routes are a few MB; leave room well beyond that.
pub const MAX_SNAPSHOT_MESSAGE: usize = 256 * 1024 * 1024;

pub struct ControlPlaneConfig {
    pub database_url: String,
    pub cluster_token: String,
    pub admin_addr: SocketAddr,
    pub grpc_addr: SocketAddr,
    /// What this replica's `--execute-api-endpoint` does to the stored one.
    pub execute_api_endpoint: EndpointAtStart,
    /// Nodes not seen for this long leave the Nodes list.
    pub node_history_after: Duration,
    pub replica_id: String,
    /// Serve the gRPC config service over TLS; plaintext (h2c) when `None`.
    pub grpc_tls: Option<GrpcTls>,
    /// Seals access-key secrets and signs sessions; every replica needs the same one.
    pub master_key: MasterKey,
    /// Upstreams integrations may use despite the SSRF rules (`host` or `host:port`).
    pub allow_upstream: Vec<String>,
    /// Deployments each API keeps (`--keep-deployments`; 0 keeps all).
    pub keep_deployments: u32,
    /// The console's built assets; see `console::site_root`.
    pub console_dir: Option<std::path::PathBuf>,
    /// First-start admin password and access key; generated when absent.
    pub bootstrap_password: Option<String>,
    pub bootstrap_access_key: Option<(String, String)>,
    /// After the shutdown signal, how long the admin API goes on serving while
    /// `/portico/health` answers 503 (node streams are closed at once either way).
    pub drain: Duration,
}

/// TLS for the gRPC config service: a certificate chain and its key, read and checked
/// (both parse, the key belongs to the certificate) when the config is made, so a bad
/// file stops the process before it listens on anything.
#[derive(Debug, Clone)]
pub struct GrpcTls {
    identity: ServerIdentity,
}

impl GrpcTls {
    /// Reads both PEM files; every error names the file at fault.
    pub fn load(cert: &Path, key: &Path) -> anyhow::Result<GrpcTls> {
        Ok(GrpcTls {
            identity: ServerIdentity::load(cert, key)?,
        })
    }

    /// From `--grpc-tls-cert` and `--grpc-tls-key`: both (TLS) or neither (plaintext).
    pub fn from_flags(cert: Option<&Path>, key: Option<&Path>) -> anyhow::Result<Option<GrpcTls>> {
        match (cert, key) {
            (Some(cert), Some(key)) => GrpcTls::load(cert, key).map(Some),
            (None, None) => Ok(None),
            (Some(_), None) => {
                anyhow::bail!("--grpc-tls-cert needs --grpc-tls-key (PORTICO_GRPC_TLS_KEY) too")
            }
            (None, Some(_)) => {
                anyhow::bail!("--grpc-tls-key needs --grpc-tls-cert (PORTICO_GRPC_TLS_CERT) too")
            }
        }
    }

    pub fn cert_path(&self) -> &Path {
        self.identity.cert_path()
    }

    /// The server certificate, for a node that trusts exactly it (`portico up`'s own).
    pub fn certificate(&self) -> &CertificateDer<'static> {
        self.identity.certificate()
    }
}

/// Shows, once, what the first start made up. Only on this process's standard output:
/// never logged, never stored in plain text.
fn print_bootstrap(made: &BootstrapCredentials) {
    if made.generated_password.is_none() && made.generated_access_key.is_none() {
        return;
    }
    println!();
    println!("  First start: created user 'admin'. These are shown once; keep them safe.");
    if let Some(p) = &made.generated_password {
        println!("    console password        {p}");
    }
    if let Some((id, secret)) = &made.generated_access_key {
        println!("    AWS_ACCESS_KEY_ID={id}");
        println!("    AWS_SECRET_ACCESS_KEY={secret}");
    }
    println!();
}

/// The addresses a started control plane actually listens on (ports may have been 0).
#[derive(Debug, Clone, Copy)]
pub struct BoundAddrs {
    pub admin: SocketAddr,
    pub grpc: SocketAddr,
}

/// Binds both listeners, then serves until `shutdown` resolves. `bound` hears the real
/// addresses once both are listening.
pub async fn run_control_plane(
    config: ControlPlaneConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
    bound: Option<tokio::sync::oneshot::Sender<BoundAddrs>>,
) -> anyhow::Result<()> {
    let store = Store::connect(&config.database_url)
        .await
        .with_context(|| format!("opening the store at {}", redact_url(&config.database_url)))?;
    let poll = match store.backend() {
        Backend::Postgres => Duration::from_secs(1),
        Backend::Sqlite => Duration::from_secs(5),
    };
    let endpoint = settle_execute_api_endpoint(&store, config.execute_api_endpoint.clone())
        .await
        .context("the execute-api endpoint")?;
    let publisher = Arc::new(
        SnapshotPublisher::new(store.clone(), endpoint, poll)
            .with_master_key(config.master_key.clone()),
    );
    let handle = publisher.handle();
    tokio::spawn(publisher.clone().run());
    if store.backend() == Backend::Postgres {
        tokio::spawn(follow_postgres_changes(
            store.url().to_string(),
            handle.clone(),
        ));
    }

    let identity = IdentityContext::new(config.master_key.clone());
    let bootstrapped = bootstrap_admin(
        &store,
        &identity,
        config.bootstrap_password.clone(),
        config.bootstrap_access_key.clone(),
    )
    .await
    .context("creating the first admin")?;
    if let Some(made) = bootstrapped {
        print_bootstrap(&made);
    }
    let admin_listener = TcpListener::bind(config.admin_addr)
        .await
        .with_context(|| format!("binding the admin API to {}", config.admin_addr))?;
    let grpc_listener = TcpListener::bind(config.grpc_addr)
        .await
        .with_context(|| format!("binding the gRPC config service to {}", config.grpc_addr))?;
    let addrs = BoundAddrs {
        admin: admin_listener.local_addr()?,
        grpc: grpc_listener.local_addr()?,
    };
    tracing::info!(admin = %addrs.admin, grpc = %addrs.grpc, replica = %config.replica_id, "control plane listening");
    let service = AdminService::new(
        store.clone(),
        handle,
        identity,
        UpstreamPolicy::new(vec![addrs.admin, addrs.grpc], config.allow_upstream.clone()),
    )
    .with_node_history_after(config.node_history_after)
    .with_keep_deployments(config.keep_deployments);
    if let Some(tx) = bound {
        let _ = tx.send(addrs);
    }

    // Shutdown in two steps: first the replica *closes* — node streams end so nodes move
    // to another replica at once, new streams are refused, `/portico/health` says 503 —
    // and the admin API serves on for the drain; then both listeners stop.
    let (closing_tx, closing_rx) = watch::channel(false);
    let (stop_tx, stop_rx) = watch::channel(false);
    let drain = config.drain;
    tokio::spawn(async move {
        shutdown.await;
        let _ = closing_tx.send(true);
        tracing::info!(
            seconds = drain.as_secs(),
            "closing: node streams ended; the admin API drains"
        );
        tokio::time::sleep(drain).await;
        let _ = stop_tx.send(true);
    });
    let stopped = |mut rx: watch::Receiver<bool>| async move {
        let _ = rx.wait_for(|s| *s).await;
    };

    let invoke_keys = InvokeKeySource::new(store.clone(), config.master_key.clone());
    let invoke_keys_rx = invoke_keys.subscribe();
    tokio::spawn(invoke_keys.run());
    let config_service = ConfigServiceServer::new(ConfigStreamService::new(
        publisher.subscribe(),
        invoke_keys_rx,
        store.clone(),
        config.cluster_token,
        config.replica_id,
        closing_rx.clone(),
    ))
    .max_decoding_message_size(1024 * 1024)
    .max_encoding_message_size(MAX_SNAPSHOT_MESSAGE);
    let mut grpc_server = tonic::transport::Server::builder()
        .http2_keepalive_interval(Some(Duration::from_secs(10)))
        .http2_keepalive_timeout(Some(Duration::from_secs(10)));
    match &config.grpc_tls {
        Some(tls) => {
            grpc_server = grpc_server
                .tls_config(tls.identity.server_tls_config())
                .with_context(|| {
                    format!(
                        "TLS for the gRPC config service ({})",
                        tls.cert_path().display()
                    )
                })?;
            tracing::info!(grpc = %addrs.grpc, cert = %tls.cert_path().display(), "config service: TLS");
        }
        None if addrs.grpc.ip().is_loopback() => {
            tracing::info!(grpc = %addrs.grpc, "config service: plaintext, loopback only")
        }
        None => tracing::info!(
            grpc = %addrs.grpc,
            "config service: plaintext, no TLS (--grpc-tls-cert/--grpc-tls-key); \
             the cluster token and snapshots cross the network unencrypted"
        ),
    }
    let grpc = grpc_server
        .add_service(config_service)
        .serve_with_incoming_shutdown(
            tokio_stream::wrappers::TcpListenerStream::new(grpc_listener),
            stopped(stop_rx.clone()),
        );
    crate::service::spawn_usage_tasks(service.clone());
    let admin_state = AdminState::new(service).with_draining(closing_rx);
    let admin_api = app(admin_state.clone());
    let site_root = crate::console::site_root(config.console_dir.as_deref());
    // ACM's `POST /` is moved to its own path before routing; `/` is the console's.
    let admin_app = tower::ServiceBuilder::new()
        .map_request(crate::admin::acm_on_root)
        .service(crate::console::with_console(
            admin_api,
            admin_state,
            &site_root,
        ));
    let admin =
        axum::serve(
            admin_listener,
            axum::ServiceExt::<axum::extract::Request>::into_make_service_with_connect_info::<
                SocketAddr,
            >(admin_app),
        )
        .with_graceful_shutdown(stopped(stop_rx.clone()));

    let result = tokio::try_join!(async { grpc.await.context("gRPC config service") }, async {
        admin.await.context("admin API")
    },);
    store.close().await;
    result.map(|_| ())
}

#[cfg(test)]
mod grpc_tls_tests {
    use clap::Parser;

    use super::*;
    use crate::cli::Cli;

    #[test]
    fn tls_flags_come_in_pairs() {
        for (given, missing) in [
            ("--grpc-tls-cert", "--grpc-tls-key"),
            ("--grpc-tls-key", "--grpc-tls-cert"),
        ] {
            let e = Cli::try_parse_from(["portico", "up", given, "/etc/portico/x.pem"])
                .expect_err("one without the other");
            assert!(e.to_string().contains(missing), "{e}");
        }
        let cli = Cli::try_parse_from([
            "portico",
            "up",
            "--grpc-tls-cert",
            "/etc/portico/grpc.pem",
            "--grpc-tls-key",
            "/etc/portico/grpc.key",
        ])
        .expect("both");
        let crate::cli::Command::Up(up) = cli.command else {
            panic!("up")
        };
        assert_eq!(
            up.control_plane.grpc_tls_cert.as_deref(),
            Some(Path::new("/etc/portico/grpc.pem"))
        );

        // The same rule when the values come from somewhere clap does not check.
        let p = Path::new("/etc/portico/grpc.pem");
        let e = GrpcTls::from_flags(Some(p), None).expect_err("cert alone");
        assert!(e.to_string().contains("--grpc-tls-key"), "{e}");
        let e = GrpcTls::from_flags(None, Some(p)).expect_err("key alone");
        assert!(e.to_string().contains("--grpc-tls-cert"), "{e}");
        assert!(GrpcTls::from_flags(None, None).expect("neither").is_none());
    }

    #[test]
    fn unreadable_files_are_named() {
        let e = GrpcTls::from_flags(
            Some(Path::new("/nonexistent/grpc.pem")),
            Some(Path::new("/nonexistent/grpc.key")),
        )
        .expect_err("missing files");
        assert!(format!("{e:#}").contains("/nonexistent/grpc.pem"), "{e:#}");
    }
}
