//! Keeps the newest compiled snapshot in a `watch` channel that every node stream of this
//! replica follows. It recompiles when told the store changed (a local write or a
//! notification from another replica) and, as a safety net, when a poll finds a newer
//! version.
use std::sync::Arc;
use std::time::Duration;

use portico_data_plane::CompileError;
use tokio::sync::{Notify, watch};

use super::{PublishReport, PublishedSnapshot, rows_to_wire};
use crate::service::ExecuteApiEndpoint;
use crate::store::{Store, StoreError};

/// How long a write that reports what it deployed waits for this replica to publish it.
const PUBLISH_WAIT: Duration = Duration::from_secs(3);

#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("snapshot compile task failed: {0}")]
    Compile(#[from] tokio::task::JoinError),
    /// Even with every failing deployment held back the snapshot does not compile: a
    /// disagreement between the two compilers. The previous snapshot keeps serving.
    #[error("snapshot version {version} is not published: {reason}")]
    Refused { version: u64, reason: CompileError },
    /// A stored endpoint that does not parse was written behind Portico's back.
    #[error("the stored execute-api endpoint is not usable: {0}")]
    Endpoint(String),
}

type Current = watch::Receiver<Option<Arc<PublishedSnapshot>>>;

/// What writers hold to say "the store changed", and readers to see what was published.
#[derive(Clone)]
pub struct PublisherHandle {
    refresh: Arc<Notify>,
    current: Current,
    endpoint: watch::Receiver<ExecuteApiEndpoint>,
}

impl PublisherHandle {
    pub fn changed(&self) {
        // A stored permit means a change made while the publisher is busy is not lost.
        self.refresh.notify_one();
    }

    /// What the last publish held back or found broken.
    pub fn report(&self) -> Arc<PublishReport> {
        self.current
            .borrow()
            .as_ref()
            .map(|c| c.report.clone())
            .unwrap_or_default()
    }

    /// The execute-api endpoint of the newest store state this replica read, so that
    /// invoke URLs follow a change made through any replica as the snapshot does.
    pub fn execute_api_endpoint(&self) -> ExecuteApiEndpoint {
        self.endpoint.borrow().clone()
    }

    /// The snapshot this replica publishes now, if it has published one.
    pub fn current(&self) -> Option<Arc<PublishedSnapshot>> {
        self.current.borrow().clone()
    }

    /// Waits (a few seconds at most) until this replica has published `version` or a
    /// newer one, so that a write can answer with what publishing found.
    pub async fn published(&self, version: u64) {
        let mut current = self.current.clone();
        let reached = current.wait_for(|c| c.as_ref().is_some_and(|c| c.version >= version));
        if tokio::time::timeout(PUBLISH_WAIT, reached).await.is_err() {
            tracing::warn!(version, "the snapshot publisher has not caught up yet");
        }
    }
}

pub struct SnapshotPublisher {
    store: Store,
    /// The endpoint read with the newest snapshot source, before it compiled.
    endpoint: watch::Sender<ExecuteApiEndpoint>,
    refresh: Arc<Notify>,
    current: watch::Sender<Option<Arc<PublishedSnapshot>>>,
    poll_every: Duration,
    /// Unseals custom domains' private keys for the snapshot; without it no domain is
    /// published.
    master_key: Option<crate::identity::MasterKey>,
}

impl SnapshotPublisher {
    /// `endpoint` is what the store holds now (see `service::settings`); every publish
    /// then reads it again with the rest of the snapshot source.
    pub fn new(store: Store, endpoint: ExecuteApiEndpoint, poll_every: Duration) -> Self {
        let (current, _) = watch::channel(None);
        SnapshotPublisher {
            store,
            endpoint: watch::channel(endpoint).0,
            refresh: Arc::new(Notify::new()),
            current,
            poll_every,
            master_key: None,
        }
    }

    pub fn with_master_key(mut self, key: crate::identity::MasterKey) -> Self {
        self.master_key = Some(key);
        self
    }

    pub fn handle(&self) -> PublisherHandle {
        PublisherHandle {
            refresh: self.refresh.clone(),
            current: self.current.subscribe(),
            endpoint: self.endpoint.subscribe(),
        }
    }

    pub fn subscribe(&self) -> watch::Receiver<Option<Arc<PublishedSnapshot>>> {
        self.current.subscribe()
    }

    /// Compiles and publishes the store's current state if its version is newer than the
    /// last one compiled.
    pub async fn refresh(&self, last_compiled: &mut Option<u64>) -> Result<(), PublishError> {
        let version = self.store.snapshot_version().await?;
        // Version 0 (a store nothing was written to) is published too: nodes then serve
        // the empty configuration and report ready.
        if last_compiled.is_some_and(|last| version <= last) {
            return Ok(());
        }
        let mut tx = self.store.read().await?;
        let mut source = tx.snapshot_source().await?;
        drop(tx);
        if let Some(key) = &self.master_key {
            for c in &source.custom_domains.certificates {
                let arn = &c.detail.certificate_arn;
                match key.open(arn, &c.sealed_key) {
                    Ok(pem) => {
                        source.opened_keys.insert(arn.clone(), pem);
                    }
                    Err(e) => {
                        tracing::error!(certificate = %arn, "cannot unseal the private key: {e}")
                    }
                }
            }
        }
        // Read in the same transaction as the rest, so this version and its domain agree.
        let endpoint = ExecuteApiEndpoint::from_stored(source.execute_api_endpoint.as_deref())
            .map_err(PublishError::Endpoint)?;
        let domain = endpoint.domain.clone();
        self.endpoint.send_if_modified(|e| {
            let changed = *e != endpoint;
            *e = endpoint;
            changed
        });
        let version = source.version;
        let previous = self.current.borrow().clone();
        let before = previous.clone();
        let compiled =
            tokio::task::spawn_blocking(move || rows_to_wire(&source, &domain, before.as_deref()))
                .await?;
        // A refused version is not tried again; the next change is.
        *last_compiled = Some(version);
        let compiled = compiled.map_err(|reason| PublishError::Refused { version, reason })?;
        // Said once when it changes, not at every version.
        if previous
            .as_ref()
            .is_none_or(|p| p.report != compiled.report)
        {
            for (api, stage, message) in compiled.report.stages() {
                tracing::warn!(version, api, stage, "{message}");
            }
        }
        // Every version is published, so nodes' applied versions can be compared with the
        // store's; when only the version moved, the previous snapshot is shared as is.
        let compiled = match previous {
            Some(p) if p.content_hash == compiled.content_hash => PublishedSnapshot {
                snapshot: p.snapshot.clone(),
                encoded: p.encoded.clone(),
                ..compiled
            },
            _ => {
                tracing::info!(
                    version = compiled.version,
                    hash = %&compiled.content_hash[..12],
                    "publishing new configuration"
                );
                compiled
            }
        };
        self.current.send_replace(Some(Arc::new(compiled)));
        Ok(())
    }

    /// Runs until the process ends.
    pub async fn run(self: Arc<Self>) {
        let mut last_compiled = None;
        loop {
            match self.refresh(&mut last_compiled).await {
                Ok(()) => {}
                Err(e @ PublishError::Refused { .. }) => tracing::error!("{e}"),
                Err(e) => {
                    tracing::warn!(error = %e, "cannot compile the snapshot; retrying");
                    tokio::time::sleep(Duration::from_millis(500)).await;
                    continue;
                }
            }
            tokio::select! {
                _ = self.refresh.notified() => {}
                _ = tokio::time::sleep(self.poll_every) => {}
            }
        }
    }
}
