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

    /// Every node seen at or after `seen_since` (an RFC 3339 time in `service::now`'s
    /// spelling, which `last_seen` is written in, so the strings compare as the times
    /// do); every node ever seen when `None`.
    pub async fn list_nodes(&self, seen_since: Option<&str>) -> Result<Vec<Node>, StoreError> {
        let rows = sqlx::query(
            "SELECT node_id, address, applied_version, last_status, last_error, rejected_version, connected, control_plane, last_seen
             FROM nodes WHERE $1 IS NULL OR last_seen >= $1 ORDER BY node_id",
        )
        .bind(seen_since)
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

/// One node's throttled traffic, as its replica last recorded it.
#[derive(Debug, Clone, PartialEq)]
pub struct NodeLoad {
    pub node_id: String,
    /// Requests per second by limit key.
    pub load: std::collections::BTreeMap<String, f64>,
}

impl Store {
    pub async fn record_node_load(
        &self,
        node_id: &str,
        reported_at_ms: i64,
        load: &std::collections::BTreeMap<String, f64>,
    ) -> Result<(), StoreError> {
        let body = serde_json::to_string(load).unwrap_or_else(|_| "{}".to_string());
        sqlx::query(
            "INSERT INTO node_loads (node_id, reported_at_ms, load) VALUES ($1, $2, $3)
             ON CONFLICT (node_id) DO UPDATE SET reported_at_ms = excluded.reported_at_ms, load = excluded.load",
        )
        .bind(node_id)
        .bind(reported_at_ms)
        .bind(body)
        .execute(self.pool())
        .await
        .map_err(StoreError::from_sqlx)?;
        Ok(())
    }

    pub async fn forget_node_load(&self, node_id: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM node_loads WHERE node_id = $1")
            .bind(node_id)
            .execute(self.pool())
            .await
            .map_err(StoreError::from_sqlx)?;
        Ok(())
    }

    /// Loads reported at or after `since_ms`, by node id. A row that does not parse counts
    /// as a node with no throttled traffic: it is still there.
    pub async fn node_loads_since(&self, since_ms: i64) -> Result<Vec<NodeLoad>, StoreError> {
        let rows = sqlx::query(
            "SELECT node_id, load FROM node_loads WHERE reported_at_ms >= $1 ORDER BY node_id",
        )
        .bind(since_ms)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                let body: String = r.try_get(1)?;
                Ok(NodeLoad {
                    node_id: r.try_get(0)?,
                    load: serde_json::from_str(&body).unwrap_or_default(),
                })
            })
            .collect()
    }
}
