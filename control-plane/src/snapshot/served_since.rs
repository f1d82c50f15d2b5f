//! Since which snapshot version each stage has been published as it is now, so the admin
//! API can tell which nodes serve a stage as deployed: a node that applied that version or
//! a later one does, whatever else changed in between.
//!
//! A stage is "as it is now" while its API, its stage row (deployment, variables), its
//! deployment and the VPC links its deployment uses encode to the same bytes. Like the
//! publish report this is the replica's memory: a replica that starts counts every stage
//! from the first version it publishes, which nodes reach within a heartbeat of
//! connecting.
use std::collections::BTreeMap;

use portico_proto as wire;
use prost::Message;
use sha2::{Digest, Sha256};

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ServedSince {
    /// By (api id, stage name).
    stages: BTreeMap<(String, String), Served>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Served {
    /// The deployment nodes are sent for the stage.
    deployment_id: String,
    /// The first version with this content.
    since: u64,
    fingerprint: [u8; 32],
}

impl ServedSince {
    /// For `snapshot`, published as `version`, after `previous`.
    pub fn after(previous: Option<&ServedSince>, snapshot: &wire::Snapshot, version: u64) -> Self {
        // Looked up once per stage: by key, not by a scan of every API and deployment.
        let apis: BTreeMap<&str, &wire::Api> = snapshot
            .apis
            .iter()
            .map(|a| (a.api_id.as_str(), a))
            .collect();
        let deployments: BTreeMap<(&str, &str), &wire::Deployment> = snapshot
            .deployments
            .iter()
            .map(|d| ((d.api_id.as_str(), d.deployment_id.as_str()), d))
            .collect();
        let links: BTreeMap<&str, &wire::VpcLink> = snapshot
            .vpc_links
            .iter()
            .map(|l| (l.vpc_link_id.as_str(), l))
            .collect();
        let mut stages = BTreeMap::new();
        for stage in &snapshot.stages {
            let api = apis.get(stage.api_id.as_str());
            let deployment =
                deployments.get(&(stage.api_id.as_str(), stage.deployment_id.as_str()));
            let mut hash = Sha256::new();
            // Each part is length-prefixed by its encoding, so parts cannot run together.
            hash.update(
                api.map(|a| a.encode_length_delimited_to_vec())
                    .unwrap_or_default(),
            );
            hash.update(stage.encode_length_delimited_to_vec());
            hash.update(
                deployment
                    .map(|d| d.encode_length_delimited_to_vec())
                    .unwrap_or_default(),
            );
            // A link's targets change what the stage's private integrations reach, so
            // the links its deployment uses are part of what it serves (in id order,
            // each once).
            let used: std::collections::BTreeSet<&str> = deployment
                .map(|d| {
                    d.integrations
                        .iter()
                        .map(|i| i.connection_id.as_str())
                        .filter(|id| !id.is_empty())
                        .collect()
                })
                .unwrap_or_default();
            for id in used {
                hash.update(
                    links
                        .get(id)
                        .map(|l| l.encode_length_delimited_to_vec())
                        .unwrap_or_default(),
                );
            }
            let fingerprint: [u8; 32] = hash.finalize().into();
            let key = (stage.api_id.clone(), stage.stage_name.clone());
            let since = previous
                .and_then(|p| p.stages.get(&key))
                .filter(|before| before.fingerprint == fingerprint)
                .map_or(version, |before| before.since);
            stages.insert(
                key,
                Served {
                    deployment_id: stage.deployment_id.clone(),
                    since,
                    fingerprint,
                },
            );
        }
        ServedSince { stages }
    }

    /// The deployment nodes are sent for `stage` of `api_id`, and the version since which
    /// the stage has been published as it is now; `None` when the snapshot does not carry
    /// the stage at all.
    pub fn served(&self, api_id: &str, stage: &str) -> Option<(&str, u64)> {
        self.stages
            .get(&(api_id.to_string(), stage.to_string()))
            .map(|s| (s.deployment_id.as_str(), s.since))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn snapshot(backend: &str, other_route: &str) -> wire::Snapshot {
        let stage = |api: &str, name: &str, vars: &[(&str, &str)]| wire::Stage {
            api_id: api.into(),
            stage_name: name.into(),
            deployment_id: format!("d-{api}"),
            stage_variables: vars
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            ..Default::default()
        };
        let deployment = |api: &str, route: &str| wire::Deployment {
            api_id: api.into(),
            deployment_id: format!("d-{api}"),
            routes: vec![wire::Route {
                route_id: "r".into(),
                route_key: route.into(),
                integration_id: String::new(),
                ..Default::default()
            }],
            integrations: vec![],
            cors: None,
            authorizers: Vec::new(),
        };
        wire::Snapshot {
            execute_api_domain: "execute-api.localhost".into(),
            apis: ["a", "b"]
                .iter()
                .map(|id| wire::Api {
                    api_id: id.to_string(),
                    name: id.to_string(),
                    disable_execute_api_endpoint: false,
                })
                .collect(),
            deployments: vec![deployment("a", "GET /notes"), deployment("b", other_route)],
            stages: vec![
                stage("a", "dev", &[("backend", backend)]),
                stage("a", "prod", &[]),
                stage("b", "dev", &[]),
            ],
            ..Default::default()
        }
    }

    #[test]
    fn a_stage_keeps_its_version_until_what_it_serves_changes() {
        let first = ServedSince::after(None, &snapshot("one", "GET /x"), 3);
        assert_eq!(first.served("a", "dev"), Some(("d-a", 3)));
        // Another API's change and a change of a sibling stage's variables leave it alone.
        let second = ServedSince::after(Some(&first), &snapshot("two", "GET /y"), 7);
        assert_eq!(second.served("a", "prod"), Some(("d-a", 3)));
        assert_eq!(second.served("a", "dev"), Some(("d-a", 7)));
        assert_eq!(second.served("b", "dev"), Some(("d-b", 7)));
        let third = ServedSince::after(Some(&second), &snapshot("two", "GET /y"), 8);
        assert_eq!(third.served("a", "dev"), Some(("d-a", 7)));
        assert_eq!(third.served("missing", "dev"), None);
    }
}
