//! The proxy nodes as the control plane last heard from them, and what they serve of each
//! stage. Nodes not seen for `node_history_after` are history: listed only when asked
//! for, and never counted as part of the fleet.
use portico_model::{
    ApiServing, ListedNode, Node, NodeBehind, NodeRefusal, NodeState, Stage, StageServing,
};

use super::{AdminService, ServiceResult, allow};
use crate::identity::{Caller, Permission};
use crate::snapshot::PublishedSnapshot;
use crate::store::ResourceKind;

/// How long a node that is gone stays in the Nodes list by default.
pub const DEFAULT_NODE_HISTORY_AFTER: std::time::Duration = std::time::Duration::from_secs(600);

impl AdminService {
    /// `GET /portico/nodes`: the nodes seen within the history window, or every node
    /// ever seen (`?history=true`).
    pub async fn list_nodes(
        &self,
        caller: &Caller,
        history: bool,
    ) -> ServiceResult<portico_model::NodeList> {
        allow(caller, Permission::Read)?;
        Ok(portico_model::NodeList {
            items: self.listed_nodes(history).await?,
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

    /// The fleet: nodes seen within the history window, `connected` only for those that
    /// really are (see `NodeState`). Whatever counts nodes starts here.
    pub(crate) async fn nodes(&self) -> ServiceResult<Vec<Node>> {
        Ok(self
            .listed_nodes(false)
            .await?
            .into_iter()
            .map(|n| n.node)
            .collect())
    }

    async fn listed_nodes(&self, history: bool) -> ServiceResult<Vec<ListedNode>> {
        let now = chrono::Utc::now();
        let seen_since = (!history).then(|| {
            let window = chrono::TimeDelta::from_std(self.node_history_after)
                .unwrap_or(chrono::TimeDelta::MAX);
            now.checked_sub_signed(window)
                .unwrap_or(chrono::DateTime::<chrono::Utc>::MIN_UTC)
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        });
        let rows = self.store.list_nodes(seen_since.as_deref()).await?;
        Ok(rows.into_iter().map(|node| listed(node, now)).collect())
    }
}

/// What a stored node row means at `now`. A replica that died could not record its
/// nodes' disconnection: a row it has not refreshed for three heartbeats is `Lost`.
fn listed(mut node: Node, now: chrono::DateTime<chrono::Utc>) -> ListedNode {
    // A time that does not parse was not written by a replica refreshing it.
    let seconds_since_seen = chrono::DateTime::parse_from_rfc3339(&node.last_seen)
        .map(|seen| (now - seen.to_utc()).num_seconds().max(0))
        .unwrap_or(i64::MAX);
    let state = NodeState::of(node.connected, seconds_since_seen);
    node.connected = state == NodeState::Connected;
    ListedNode {
        node,
        state,
        seconds_since_seen,
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
