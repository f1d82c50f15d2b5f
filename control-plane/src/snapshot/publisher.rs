//! Keeps the newest compiled snapshot in a `watch` channel that every node stream of this
//! replica follows. It recompiles when told the store changed (a local write or a
//! notification from another replica) and, as a safety net, when a poll finds a newer
//! version.
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{Notify, watch};

use super::{CompiledSnapshot, compile};
use crate::store::{Store, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("snapshot compile task failed: {0}")]
    Compile(#[from] tokio::task::JoinError),
}

/// What writers hold to say "the store changed".
#[derive(Clone)]
pub struct PublisherHandle {
    refresh: Arc<Notify>,
}

impl PublisherHandle {
    pub fn changed(&self) {
        // A stored permit means a change made while the publisher is busy is not lost.
        self.refresh.notify_one();
    }
}

pub struct SnapshotPublisher {
    store: Store,
    execute_api_domain: String,
    refresh: Arc<Notify>,
    current: watch::Sender<Option<Arc<CompiledSnapshot>>>,
    poll_every: Duration,
}

impl SnapshotPublisher {
    pub fn new(store: Store, execute_api_domain: String, poll_every: Duration) -> Self {
        let (current, _) = watch::channel(None);
        SnapshotPublisher {
            store,
            execute_api_domain,
            refresh: Arc::new(Notify::new()),
            current,
            poll_every,
        }
    }

    pub fn handle(&self) -> PublisherHandle {
        PublisherHandle {
            refresh: self.refresh.clone(),
        }
    }

    pub fn subscribe(&self) -> watch::Receiver<Option<Arc<CompiledSnapshot>>> {
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
        let source = tx.snapshot_source().await?;
        drop(tx);
        let domain = self.execute_api_domain.clone();
        let compiled = tokio::task::spawn_blocking(move || compile(&source, &domain)).await?;
        *last_compiled = Some(compiled.version);
        // Every version is published, so nodes' applied versions can be compared with the
        // store's; when only the version moved, the previous snapshot is shared as is.
        let previous = self.current.borrow().clone();
        let compiled = match previous {
            Some(p) if p.content_hash == compiled.content_hash => CompiledSnapshot {
                snapshot: p.snapshot.clone(),
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
            if let Err(e) = self.refresh(&mut last_compiled).await {
                tracing::warn!(error = %e, "cannot compile the snapshot; retrying");
                tokio::time::sleep(Duration::from_millis(500)).await;
                continue;
            }
            tokio::select! {
                _ = self.refresh.notified() => {}
                _ = tokio::time::sleep(self.poll_every) => {}
            }
        }
    }
}
