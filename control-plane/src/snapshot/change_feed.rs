//! Replicas sharing one Postgres database hear about each other's writes through
//! LISTEN/NOTIFY: a write transaction notifies on commit (`StoreTx::announce`), and every
//! replica's listener pokes its publisher. The publisher's poll covers notifications lost
//! while a listener reconnects.
use std::time::Duration;

use sqlx::postgres::PgListener;

use super::PublisherHandle;
use crate::store::CHANGE_CHANNEL;

pub async fn follow_postgres_changes(database_url: String, publisher: PublisherHandle) {
    loop {
        match PgListener::connect(&database_url).await {
            Ok(mut listener) => {
                if let Err(e) = listener.listen(CHANGE_CHANNEL).await {
                    tracing::warn!(error = %e, "LISTEN failed");
                } else {
                    // Anything committed while we were not listening is caught up now.
                    publisher.changed();
                    loop {
                        match listener.recv().await {
                            Ok(_) => publisher.changed(),
                            Err(e) => {
                                tracing::warn!(error = %e, "change feed interrupted");
                                break;
                            }
                        }
                    }
                }
            }
            Err(e) => tracing::warn!(error = %e, "cannot connect the change feed"),
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}
