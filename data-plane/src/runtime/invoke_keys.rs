//! The access keys that may call AWS_IAM routes, as the control plane last sent them:
//! each key's user and its SigV4 date keys for the days around today. Secrets never
//! reach a node. The set arrives beside the snapshots, replaces the last one whole, and
//! survives config swaps; a node that loses every control plane keeps the keys it had
//! (their dates run out within two days).
use std::sync::Arc;

use arc_swap::ArcSwap;
use foldhash::HashMap;
use portico_proto::InvokeKeys;

#[derive(Debug)]
pub struct InvokeKey {
    pub user_name: String,
    /// (YYYYMMDD, kDate).
    pub date_keys: Vec<(String, [u8; 32])>,
}

impl InvokeKey {
    pub fn date_key(&self, date: &str) -> Option<&[u8; 32]> {
        self.date_keys
            .iter()
            .find(|(d, _)| d == date)
            .map(|(_, k)| k)
    }
}

#[derive(Debug, Default)]
pub struct InvokeKeyring {
    keys: ArcSwap<HashMap<String, InvokeKey>>,
}

impl InvokeKeyring {
    pub fn replace(&self, message: &InvokeKeys) {
        let keys = message
            .keys
            .iter()
            .map(|k| {
                let date_keys = k
                    .date_keys
                    .iter()
                    // A key of any other length is not a SigV4 date key: left out.
                    .filter_map(|d| {
                        Some((d.date.clone(), <[u8; 32]>::try_from(d.key.as_slice()).ok()?))
                    })
                    .collect();
                (
                    k.access_key_id.clone(),
                    InvokeKey {
                        user_name: k.user_name.clone(),
                        date_keys,
                    },
                )
            })
            .collect();
        self.keys.store(Arc::new(keys));
    }

    pub fn current(&self) -> arc_swap::Guard<Arc<HashMap<String, InvokeKey>>> {
        self.keys.load()
    }
}
