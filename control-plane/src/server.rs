//! Runs one control-plane replica: store, snapshot publisher, change feed, admin API and
//! gRPC config service, until shutdown.
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use portico_proto::config_service_server::ConfigServiceServer;
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::admin::{AdminState, app};
use crate::grpc::ConfigStreamService;
use crate::service::{AdminService, ExecuteApiEndpoint};
use crate::snapshot::{SnapshotPublisher, follow_postgres_changes};
use crate::store::{Backend, Store, redact_url};

/// Snapshots for 10,000 routes are a few MB; leave room well beyond that.
pub const MAX_SNAPSHOT_MESSAGE: usize = 256 * 1024 * 1024;

pub struct ControlPlaneConfig {
    pub database_url: String,
    pub cluster_token: String,
    pub admin_addr: SocketAddr,
    pub grpc_addr: SocketAddr,
    pub execute_api_endpoint: ExecuteApiEndpoint,
    pub replica_id: String,
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
    let publisher = Arc::new(SnapshotPublisher::new(
        store.clone(),
        config.execute_api_endpoint.domain.clone(),
        poll,
    ));
    let handle = publisher.handle();
    tokio::spawn(publisher.clone().run());
    if store.backend() == Backend::Postgres {
        tokio::spawn(follow_postgres_changes(
            store.url().to_string(),
            handle.clone(),
        ));
    }

    let service = AdminService::new(store.clone(), handle, config.execute_api_endpoint.clone());
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
    if let Some(tx) = bound {
        let _ = tx.send(addrs);
    }

    let (stop_tx, stop_rx) = watch::channel(false);
    tokio::spawn(async move {
        shutdown.await;
        let _ = stop_tx.send(true);
    });
    let stopped = |mut rx: watch::Receiver<bool>| async move {
        let _ = rx.wait_for(|s| *s).await;
    };

    let config_service = ConfigServiceServer::new(ConfigStreamService::new(
        publisher.subscribe(),
        store.clone(),
        config.cluster_token,
        config.replica_id,
    ))
    .max_decoding_message_size(1024 * 1024)
    .max_encoding_message_size(MAX_SNAPSHOT_MESSAGE);
    let grpc = tonic::transport::Server::builder()
        .http2_keepalive_interval(Some(Duration::from_secs(10)))
        .http2_keepalive_timeout(Some(Duration::from_secs(10)))
        .add_service(config_service)
        .serve_with_incoming_shutdown(
            tokio_stream::wrappers::TcpListenerStream::new(grpc_listener),
            stopped(stop_rx.clone()),
        );
    let admin = axum::serve(admin_listener, app(AdminState { service }))
        .with_graceful_shutdown(stopped(stop_rx.clone()));

    let result = tokio::try_join!(async { grpc.await.context("gRPC config service") }, async {
        admin.await.context("admin API")
    },);
    store.close().await;
    result.map(|_| ())
}
