//! The proxy nodes' status as their control-plane replicas report it. Kept in the store
//! so that every replica shows every node, whichever replica a node is connected to.
use portico_model::Node;
use sqlx::Row;

use super::{Store, StoreError};

impl Store {
    /// Records a node's status. `None` fields keep their stored value.
    pub async fn record_node(&self, node: &Node) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO nodes (node_id, address, applied_version, last_status, last_error, rejected_version, connected, control_plane, last_seen)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
             ON CONFLICT (node_id) DO UPDATE SET
               address = excluded.address,
               applied_version = excluded.applied_version,
               last_status = COALESCE(excluded.last_status, nodes.last_status),
               last_error = excluded.last_error,
               rejected_version = excluded.rejected_version,
               connected = excluded.connected,
               control_plane = excluded.control_plane,
               last_seen = excluded.last_seen",
        )
        .bind(&node.node_id)
        .bind(&node.address)
        .bind(node.applied_version as i64)
        .bind(node.last_status.clone())
        .bind(node.last_error.clone())
        .bind(node.rejected_version.map(|v| v as i64))
        .bind(i64::from(node.connected))
        .bind(&node.control_plane)
        .bind(&node.last_seen)
        .execute(self.pool())
        .await
        .map_err(StoreError::from_sqlx)?;
        Ok(())
    }

    pub async fn list_nodes(&self) -> Result<Vec<Node>, StoreError> {
        let rows = sqlx::query(
            "SELECT node_id, address, applied_version, last_status, last_error, rejected_version, connected, control_plane, last_seen
             FROM nodes ORDER BY node_id",
        )
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(Node {
                    node_id: r.try_get(0)?,
                    address: r.try_get(1)?,
                    applied_version: r.try_get::<i64, _>(2)? as u64,
                    last_status: r.try_get(3)?,
                    last_error: r.try_get(4)?,
                    rejected_version: r.try_get::<Option<i64>, _>(5)?.map(|v| v as u64),
                    connected: r.try_get::<i64, _>(6)? != 0,
                    control_plane: r.try_get(7)?,
                    last_seen: r.try_get(8)?,
                })
            })
            .collect()
    }
}
