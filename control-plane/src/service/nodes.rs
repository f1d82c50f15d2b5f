//! The proxy nodes as the control plane last heard from them.
use super::{AdminService, ServiceResult, allow};
use crate::identity::{Caller, Permission};

/// Three missed node-session heartbeats (see `grpc::node_session`).
const NODE_STALE_AFTER: chrono::TimeDelta = chrono::TimeDelta::seconds(30);

impl AdminService {
    pub async fn list_nodes(&self, caller: &Caller) -> ServiceResult<portico_model::NodeList> {
        allow(caller, Permission::Read)?;
        let mut items = self.store.list_nodes().await?;
        // A replica that died could not record its nodes' disconnection; a node whose
        // replica has not refreshed it for three heartbeats is not connected.
        let stale_before = chrono::Utc::now() - NODE_STALE_AFTER;
        for node in &mut items {
            let fresh = chrono::DateTime::parse_from_rfc3339(&node.last_seen)
                .is_ok_and(|seen| seen >= stale_before);
            node.connected &= fresh;
        }
        Ok(portico_model::NodeList {
            items,
            current_version: self.store.snapshot_version().await?,
        })
    }
}
