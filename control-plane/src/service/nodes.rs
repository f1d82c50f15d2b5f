//! The proxy nodes as the control plane last heard from them, and what they serve of each
//! stage.
use portico_model::{ApiServing, Node, NodeBehind, NodeRefusal, Stage, StageServing};

use super::{AdminService, ServiceResult, allow};
use crate::identity::{Caller, Permission};
use crate::snapshot::PublishedSnapshot;
use crate::store::ResourceKind;

/// Three missed node-session heartbeats (see `grpc::node_session`).
const NODE_STALE_AFTER: chrono::TimeDelta = chrono::TimeDelta::seconds(30);

impl AdminService {
    pub async fn list_nodes(&self, caller: &Caller) -> ServiceResult<portico_model::NodeList> {
        allow(caller, Permission::Read)?;
        Ok(portico_model::NodeList {
            items: self.nodes().await?,
            current_version: self.store.snapshot_version().await?,
        })
    }

    /// `GET /portico/apis/{apiId}/serving`: for each stage of the API, the deployment nodes
    /// are sent, since which version, and which connected nodes serve it, lag behind or
    /// refused it, as the AWS console shows a stage's deployment status.
    pub async fn api_serving(&self, caller: &Caller, api_id: &str) -> ServiceResult<ApiServing> {
        allow(caller, Permission::Read)?;
        let mut tx = self.store.read().await?;
        self.require_api(&mut tx, api_id).await?;
        let stages: Vec<Stage> = tx.all(ResourceKind::Stage, api_id).await?;
        drop(tx);
        let nodes = self.nodes().await?;
        let published = self.publisher.current();
        Ok(ApiServing {
            api_id: api_id.to_string(),
            current_version: self.store.snapshot_version().await?,
            stages: stages
                .iter()
                .map(|s| stage_serving(published.as_deref(), api_id, &s.stage_name, &nodes))
                .collect(),
        })
    }

    pub(crate) async fn nodes(&self) -> ServiceResult<Vec<Node>> {
        let mut items = self.store.list_nodes().await?;
        // A replica that died could not record its nodes' disconnection; a node whose
        // replica has not refreshed it for three heartbeats is not connected.
        let stale_before = chrono::Utc::now() - NODE_STALE_AFTER;
        for node in &mut items {
            let fresh = chrono::DateTime::parse_from_rfc3339(&node.last_seen)
                .is_ok_and(|seen| seen >= stale_before);
            node.connected &= fresh;
        }
        Ok(items)
    }
}

fn stage_serving(
    published: Option<&PublishedSnapshot>,
    api_id: &str,
    stage_name: &str,
    nodes: &[Node],
) -> StageServing {
    let served = published.and_then(|p| p.served_since.served(api_id, stage_name));
    let since = served.map(|(_, since)| since);
    let mut serving = StageServing {
        stage_name: stage_name.to_string(),
        deployment_id: served.map(|(deployment, _)| deployment.to_string()),
        since_version: since,
        nodes: 0,
        nodes_serving: 0,
        behind: Vec::new(),
        refusals: Vec::new(),
    };
    for node in nodes.iter().filter(|n| n.connected) {
        serving.nodes += 1;
        let Some(since) = since else { continue };
        if node.applied_version >= since {
            serving.nodes_serving += 1;
            continue;
        }
        match (node.last_status.as_deref(), node.rejected_version) {
            // Any version from `since` on carries the stage as it is now.
            (Some("NACK"), Some(rejected)) if rejected >= since => {
                serving.refusals.push(NodeRefusal {
                    node_id: node.node_id.clone(),
                    rejected_version: rejected,
                    error: node.last_error.clone().unwrap_or_default(),
                })
            }
            _ => serving.behind.push(NodeBehind {
                node_id: node.node_id.clone(),
                applied_version: node.applied_version,
            }),
        }
    }
    serving
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use portico_proto as wire;

    use super::*;
    use crate::snapshot::ServedSince;

    fn node(id: &str, applied: u64, nack: Option<(u64, &str)>, connected: bool) -> Node {
        Node {
            node_id: id.into(),
            address: "127.0.0.1:8000".into(),
            applied_version: applied,
            last_status: Some(if nack.is_some() { "NACK" } else { "ACK" }.into()),
            last_error: nack.map(|(_, e)| e.to_string()),
            rejected_version: nack.map(|(v, _)| v),
            connected,
            control_plane: "cp".into(),
            last_seen: String::new(),
        }
    }

    #[test]
    fn nodes_serve_a_stage_from_the_version_it_arrived_in() {
        let snapshot = wire::Snapshot {
            execute_api_domain: "execute-api.localhost".into(),
            apis: vec![],
            deployments: vec![],
            stages: vec![wire::Stage {
                api_id: "a".into(),
                stage_name: "dev".into(),
                deployment_id: "d1".into(),
                stage_variables: Default::default(),
                ..Default::default()
            }],
            ..Default::default()
        };
        let published = PublishedSnapshot {
            version: 9,
            content_hash: String::new(),
            encoded: Default::default(),
            served_since: Arc::new(ServedSince::after(None, &snapshot, 7)),
            snapshot: Arc::new(snapshot),
            report: Default::default(),
        };
        let nodes = [
            node("up-to-date", 9, None, true),
            node("just-enough", 7, None, true),
            node("behind", 6, None, true),
            node("refused", 6, Some((8, "bad snapshot")), true),
            node("refused-older", 5, Some((6, "older")), true),
            node("gone", 9, None, false),
        ];
        let s = stage_serving(Some(&published), "a", "dev", &nodes);
        assert_eq!(s.deployment_id.as_deref(), Some("d1"));
        assert_eq!(s.since_version, Some(7));
        assert_eq!((s.nodes_serving, s.nodes), (2, 5));
        let behind: Vec<_> = s.behind.iter().map(|b| b.node_id.as_str()).collect();
        assert_eq!(behind, ["behind", "refused-older"]);
        assert_eq!(s.refusals.len(), 1);
        assert_eq!(s.refusals[0].node_id, "refused");
        assert_eq!(s.refusals[0].error, "bad snapshot");

        // A stage nodes are sent nothing for is served by none, and no node is behind on it.
        let none = stage_serving(Some(&published), "a", "prod", &nodes);
        assert_eq!((none.deployment_id, none.since_version), (None, None));
        assert_eq!((none.nodes_serving, none.nodes), (0, 5));
        assert!(none.behind.is_empty() && none.refusals.is_empty());
    }
}
