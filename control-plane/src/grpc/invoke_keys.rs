//! What the nodes' IAM authorizer needs to check `execute-api` signatures: the access
//! keys of enabled users whose role may invoke APIs, each as SigV4 date keys for
//! yesterday, today and tomorrow (UTC), never as secrets. Each replica reads them from the
//! store every [`REFRESH_EVERY`] (so a key, user or role changed on any replica, and the
//! turn of the UTC day, reach its nodes within that) and sends the set to its nodes when
//! it changes.
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use portico_proto::{DateKey, InvokeKey, InvokeKeys};
use tokio::sync::watch;

use crate::identity::{MasterKey, Permission, Role};
use crate::store::{Store, StoreError};

pub const REFRESH_EVERY: Duration = Duration::from_secs(2);

/// The date keys a node gets for a secret at `now`: the day before (requests signed just
/// before midnight, within SigV4's 15 minutes), the day, and the day after (so the turn
/// of the day needs nothing new).
pub fn date_keys(secret: &str, now: DateTime<Utc>) -> Vec<DateKey> {
    [-1, 0, 1]
        .into_iter()
        .map(|days| {
            let date = (now + TimeDelta::days(days)).format("%Y%m%d").to_string();
            DateKey {
                key: portico_sigv4::date_key(secret, &date).to_vec(),
                date,
            }
        })
        .collect()
}

pub struct InvokeKeySource {
    store: Store,
    master_key: MasterKey,
    current: watch::Sender<Arc<InvokeKeys>>,
}

impl InvokeKeySource {
    pub fn new(store: Store, master_key: MasterKey) -> Self {
        InvokeKeySource {
            store,
            master_key,
            current: watch::channel(Arc::new(InvokeKeys::default())).0,
        }
    }

    pub fn subscribe(&self) -> watch::Receiver<Arc<InvokeKeys>> {
        self.current.subscribe()
    }

    async fn read(&self, now: DateTime<Utc>) -> Result<InvokeKeys, StoreError> {
        let mut keys = Vec::new();
        for (access_key_id, key) in self.store.keys_of_enabled_users().await? {
            let may_invoke =
                Role::parse(&key.role).is_some_and(|r| r.allows(Permission::InvokeApis));
            if !may_invoke {
                continue;
            }
            match self.master_key.open(&access_key_id, &key.sealed_secret) {
                Ok(secret) => keys.push(InvokeKey {
                    access_key_id,
                    user_name: key.user_name,
                    date_keys: date_keys(&secret, now),
                }),
                Err(e) => tracing::warn!(access_key_id, "cannot open the access key's secret: {e}"),
            }
        }
        Ok(InvokeKeys { keys })
    }

    /// Runs until the process ends.
    pub async fn run(self) {
        loop {
            match self.read(Utc::now()).await {
                Ok(keys) => {
                    self.current.send_if_modified(|current| {
                        let changed = **current != keys;
                        if changed {
                            *current = Arc::new(keys);
                        }
                        changed
                    });
                }
                Err(e) => {
                    tracing::warn!(error = %e, "cannot read the invoke keys; nodes keep the last ones")
                }
            }
            tokio::time::sleep(REFRESH_EVERY).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn date_keys_cover_the_day_either_side() {
        let now = DateTime::parse_from_rfc3339("2026-12-31T23:59:00Z")
            .expect("time")
            .with_timezone(&Utc);
        let keys = date_keys("secret", now);
        let dates: Vec<&str> = keys.iter().map(|k| k.date.as_str()).collect();
        assert_eq!(dates, ["20261230", "20261231", "20270101"]);
        assert_eq!(
            keys[1].key,
            portico_sigv4::date_key("secret", "20261231").to_vec()
        );
    }
}
