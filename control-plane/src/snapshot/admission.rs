//! Before a snapshot is published, the control plane compiles it with the node's own
//! compiler, so that what it publishes is what every node will apply, and a mistake in one
//! API never stops the others.
//!
//! A deployment that nodes would refuse (in practice a row damaged behind the control
//! plane's back, since the admin API validates what it writes) is held back: its stages
//! keep what the previous snapshot gave them, or are left out when it gave them nothing,
//! and the reason is reported on the stage and on the deployment, as AWS reports a failed
//! deployment (`DeploymentStatus` FAILED, `DeploymentStatusMessage`). An integration that
//! compiles but cannot work on a stage (its stage variables leave the URI without a host)
//! is published — its routes answer 500, as in AWS — and reported the same way.
//!
//! The previous snapshot is this replica's memory: a replica that starts while a
//! deployment is damaged has nothing to keep serving and leaves those stages out.

use std::collections::{BTreeMap, BTreeSet};

use portico_data_plane::{CompileError, CompiledConfig, Runtime};
use portico_proto as wire;

use crate::store::{DamagedRow, ResourceKind};

/// What the last publish found wrong, by stage and by deployment, for the admin API to
/// show. Empty when everything stored is served as written.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PublishReport {
    /// By (api id, stage name).
    stages: BTreeMap<(String, String), String>,
    /// By (api id, deployment id).
    deployments: BTreeMap<(String, String), DeploymentReport>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeploymentReport {
    /// Held back: no node was sent it.
    pub failed: bool,
    pub message: String,
}

impl PublishReport {
    pub fn stage(&self, api_id: &str, stage: &str) -> Option<&str> {
        self.stages
            .get(&(api_id.to_string(), stage.to_string()))
            .map(String::as_str)
    }

    pub fn deployment(&self, api_id: &str, deployment_id: &str) -> Option<&DeploymentReport> {
        self.deployments
            .get(&(api_id.to_string(), deployment_id.to_string()))
    }

    /// (api id, stage name, message) for every stage reported.
    pub fn stages(&self) -> impl Iterator<Item = (&str, &str, &str)> {
        self.stages
            .iter()
            .map(|((api, stage), m)| (api.as_str(), stage.as_str(), m.as_str()))
    }

    pub fn is_empty(&self) -> bool {
        self.stages.is_empty() && self.deployments.is_empty()
    }

    fn add_stage(&mut self, api_id: &str, stage: &str, message: String) {
        append(
            self.stages
                .entry((api_id.to_string(), stage.to_string()))
                .or_default(),
            &message,
        );
    }

    fn add_deployment(&mut self, api_id: &str, deployment_id: &str, failed: bool, message: &str) {
        let entry = self
            .deployments
            .entry((api_id.to_string(), deployment_id.to_string()))
            .or_insert(DeploymentReport {
                failed,
                message: String::new(),
            });
        entry.failed |= failed;
        append(&mut entry.message, message);
    }
}

fn append(to: &mut String, message: &str) {
    if !to.is_empty() {
        to.push(' ');
    }
    to.push_str(message);
}

/// Checks `snapshot` (compiled from rows that parsed; `damaged` lists those that did not)
/// and returns what to publish, with what was held back or will answer 500 reported.
/// Fails only if the snapshot as a whole still does not compile once every failing
/// deployment is held back, which would take a bug in the compilers.
pub fn admit(
    mut snapshot: wire::Snapshot,
    damaged: &[DamagedRow],
    previous: Option<&wire::Snapshot>,
) -> Result<(wire::Snapshot, PublishReport), CompileError> {
    let mut report = PublishReport::default();
    // The usual case, nothing damaged and everything compiles, costs one compile.
    if !damaged.is_empty() || compile(&snapshot).is_err() {
        hold_back_what_fails(&mut snapshot, damaged, previous, &mut report);
    }
    let compiled = compile(&snapshot)?;
    let mut reported: BTreeSet<(String, String, String)> = BTreeSet::new();
    for p in compiled.problems() {
        let what = format!(
            "Integration {} cannot be used: {}. Requests to the routes that target it answer 500.",
            p.integration_id, p.reason
        );
        report.add_stage(&p.api_id, &p.stage, what.clone());
        report.add_deployment(
            &p.api_id,
            &p.deployment_id,
            false,
            &format!("Stage {}: {what}", p.stage),
        );
        reported.insert((p.api_id.clone(), p.stage.clone(), p.integration_id.clone()));
    }
    for (api_id, stage, deployment_id, integration_id, link) in missing_vpc_links(&snapshot) {
        if reported.contains(&(
            api_id.to_string(),
            stage.to_string(),
            integration_id.to_string(),
        )) {
            continue;
        }
        let what = format!(
            "Integration {integration_id} cannot be used: its VPC link {link} does not exist. Requests to the routes that target it answer 500."
        );
        report.add_stage(api_id, stage, what.clone());
        report.add_deployment(
            api_id,
            deployment_id,
            false,
            &format!("Stage {stage}: {what}"),
        );
    }
    Ok((snapshot, report))
}

/// (api, stage, deployment, integration, link) for each private integration a stage
/// serves whose VPC link is not in the snapshot (deleted behind the control plane's
/// back, or its row damaged; the admin API refuses to delete a link in use).
fn missing_vpc_links(snapshot: &wire::Snapshot) -> Vec<(&str, &str, &str, &str, &str)> {
    let links: BTreeSet<&str> = snapshot
        .vpc_links
        .iter()
        .map(|l| l.vpc_link_id.as_str())
        .collect();
    let deployments: BTreeMap<(&str, &str), &wire::Deployment> = snapshot
        .deployments
        .iter()
        .map(|d| ((d.api_id.as_str(), d.deployment_id.as_str()), d))
        .collect();
    let mut missing = Vec::new();
    for s in &snapshot.stages {
        let Some(d) = deployments.get(&(s.api_id.as_str(), s.deployment_id.as_str())) else {
            continue;
        };
        for i in &d.integrations {
            if !i.connection_id.is_empty() && !links.contains(i.connection_id.as_str()) {
                missing.push((
                    s.api_id.as_str(),
                    s.stage_name.as_str(),
                    s.deployment_id.as_str(),
                    i.integration_id.as_str(),
                    i.connection_id.as_str(),
                ));
            }
        }
    }
    missing
}

/// Why each group of stages cannot be served, by the API and deployment they share.
type Failures = BTreeMap<(String, String), String>;

fn hold_back_what_fails(
    snapshot: &mut wire::Snapshot,
    damaged: &[DamagedRow],
    previous: Option<&wire::Snapshot>,
    report: &mut PublishReport,
) {
    let damaged_of = |kind: ResourceKind| {
        damaged
            .iter()
            .filter(move |d| d.kind == kind)
            .map(|d| ((d.api_id.clone(), d.key.clone()), d.error.clone()))
    };
    let damaged_apis: BTreeMap<String, String> = damaged_of(ResourceKind::Api)
        .map(|((api, _), e)| (api, e))
        .collect();
    let damaged_deployments: BTreeMap<(String, String), String> =
        damaged_of(ResourceKind::Deployment).collect();

    // What cannot be served, and why.
    let mut failed: Failures = BTreeMap::new();
    let mut stage_reasons: BTreeMap<(String, String), String> = BTreeMap::new();
    for ((api_id, stage), error) in damaged_of(ResourceKind::Stage) {
        stage_reasons.insert(
            (api_id, stage),
            format!("The stage's stored record is damaged ({error})."),
        );
    }
    let groups: BTreeSet<(String, String)> = snapshot
        .stages
        .iter()
        .map(|s| (s.api_id.clone(), s.deployment_id.clone()))
        .collect();
    for (api_id, deployment_id) in groups {
        let reason = if let Some(error) = damaged_apis.get(&api_id) {
            format!("API {api_id} is damaged in the store ({error})")
        } else if let Some(error) =
            damaged_deployments.get(&(api_id.clone(), deployment_id.clone()))
        {
            format!("its stored record is damaged ({error})")
        } else {
            match compile_alone(snapshot, &api_id, &deployment_id) {
                Ok(()) => continue,
                Err(e) => e.to_string(),
            }
        };
        failed.insert((api_id, deployment_id), reason);
    }

    // Take out what failed, then give each of its stages what it had before.
    let mut held: Vec<(String, String, String)> = Vec::new();
    snapshot.stages.retain(|s| {
        let key = (s.api_id.clone(), s.deployment_id.clone());
        match failed.get(&key) {
            Some(reason) => {
                held.push((
                    s.api_id.clone(),
                    s.stage_name.clone(),
                    format!("Deployment {} cannot be served: {reason}.", s.deployment_id),
                ));
                false
            }
            None => true,
        }
    });
    for ((api_id, deployment_id), reason) in &failed {
        report.add_deployment(
            api_id,
            deployment_id,
            true,
            &format!("Not served: {reason}."),
        );
    }
    snapshot
        .apis
        .retain(|a| !damaged_apis.contains_key(&a.api_id));
    held.extend(
        stage_reasons
            .into_iter()
            .map(|((api_id, stage), why)| (api_id, stage, why)),
    );
    drop_unused_deployments(snapshot);
    for (api_id, stage, why) in held {
        let serving = match carry_forward(snapshot, previous, &api_id, &stage) {
            Some(d) => format!("The stage keeps serving deployment {d}, as last published."),
            None => "The stage serves nothing until this is fixed.".to_string(),
        };
        report.add_stage(&api_id, &stage, format!("{why} {serving}"));
    }
    sort(snapshot);
}

/// Compiles one API with only the stages that serve `deployment_id`.
fn compile_alone(
    snapshot: &wire::Snapshot,
    api_id: &str,
    deployment_id: &str,
) -> Result<(), CompileError> {
    let alone = wire::Snapshot {
        execute_api_domain: snapshot.execute_api_domain.clone(),
        apis: snapshot
            .apis
            .iter()
            .filter(|a| a.api_id == api_id)
            .cloned()
            .collect(),
        deployments: snapshot
            .deployments
            .iter()
            .filter(|d| d.api_id == api_id && d.deployment_id == deployment_id)
            .cloned()
            .collect(),
        stages: snapshot
            .stages
            .iter()
            .filter(|s| s.api_id == api_id && s.deployment_id == deployment_id)
            .cloned()
            .collect(),
        // The links are the fleet's, not one API's: a private integration compiles
        // against them.
        vpc_links: snapshot.vpc_links.clone(),
        ..Default::default()
    };
    compile(&alone).map(|_| ())
}

/// Puts the previous snapshot's version of a stage (with its API and deployment) back, if
/// it had one that does not clash with what is published now. Returns its deployment id.
fn carry_forward(
    snapshot: &mut wire::Snapshot,
    previous: Option<&wire::Snapshot>,
    api_id: &str,
    stage: &str,
) -> Option<String> {
    let previous = previous?;
    let old_stage = previous
        .stages
        .iter()
        .find(|s| s.api_id == api_id && s.stage_name == stage)?;
    let old_deployment = previous
        .deployments
        .iter()
        .find(|d| d.api_id == api_id && d.deployment_id == old_stage.deployment_id)?;
    if let Some(now) = snapshot
        .deployments
        .iter()
        .find(|d| d.api_id == api_id && d.deployment_id == old_stage.deployment_id)
        && now != old_deployment
    {
        return None;
    }
    if !snapshot.apis.iter().any(|a| a.api_id == api_id) {
        let old_api = previous.apis.iter().find(|a| a.api_id == api_id)?;
        snapshot.apis.push(old_api.clone());
    }
    if !snapshot.deployments.contains(old_deployment) {
        snapshot.deployments.push(old_deployment.clone());
    }
    snapshot.stages.push(old_stage.clone());
    Some(old_stage.deployment_id.clone())
}

fn drop_unused_deployments(snapshot: &mut wire::Snapshot) {
    let used: BTreeSet<(&str, &str)> = snapshot
        .stages
        .iter()
        .map(|s| (s.api_id.as_str(), s.deployment_id.as_str()))
        .collect();
    snapshot
        .deployments
        .retain(|d| used.contains(&(d.api_id.as_str(), d.deployment_id.as_str())));
}

/// The compiler's order, so that the same rows and history give the same bytes.
pub(super) fn sort(snapshot: &mut wire::Snapshot) {
    snapshot.apis.sort_by(|a, b| a.api_id.cmp(&b.api_id));
    snapshot
        .stages
        .sort_by(|a, b| (&a.api_id, &a.stage_name).cmp(&(&b.api_id, &b.stage_name)));
    snapshot
        .deployments
        .sort_by(|a, b| (&a.api_id, &a.deployment_id).cmp(&(&b.api_id, &b.deployment_id)));
    snapshot
        .vpc_links
        .sort_by(|a, b| a.vpc_link_id.cmp(&b.vpc_link_id));
}

/// The node's own compiler, with a runtime of its own: admission only asks whether a
/// snapshot compiles, and no request ever uses what it builds.
fn compile(snapshot: &wire::Snapshot) -> Result<CompiledConfig, CompileError> {
    CompiledConfig::compile(snapshot, 0, String::new(), &Runtime::default())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn api(id: &str) -> wire::Api {
        wire::Api {
            api_id: id.into(),
            name: id.into(),
            disable_execute_api_endpoint: false,
        }
    }

    fn deployment(api_id: &str, id: &str, uri: &str) -> wire::Deployment {
        wire::Deployment {
            api_id: api_id.into(),
            deployment_id: id.into(),
            routes: vec![wire::Route {
                route_id: "r1".into(),
                route_key: "GET /x".into(),
                integration_id: "i1".into(),
                ..Default::default()
            }],
            integrations: vec![wire::Integration {
                integration_id: "i1".into(),
                integration_type: wire::IntegrationType::HttpProxy as i32,
                uri: uri.into(),
                method: "ANY".into(),
                timeout_millis: 0,
                payload_format_version: "1.0".into(),
                ..Default::default()
            }],
            cors: None,
            authorizers: Vec::new(),
        }
    }

    fn stage(api_id: &str, name: &str, deployment_id: &str) -> wire::Stage {
        wire::Stage {
            api_id: api_id.into(),
            stage_name: name.into(),
            deployment_id: deployment_id.into(),
            stage_variables: Default::default(),
            ..Default::default()
        }
    }

    /// Two APIs, `good` and `bad`, each with a `dev` stage on deployment `d1`.
    fn snapshot(bad_uri: &str) -> wire::Snapshot {
        wire::Snapshot {
            execute_api_domain: "execute-api.localhost".into(),
            apis: vec![api("bad"), api("good")],
            deployments: vec![
                deployment("bad", "d1", bad_uri),
                deployment("good", "d1", "http://127.0.0.1:1/x"),
            ],
            stages: vec![stage("bad", "dev", "d1"), stage("good", "dev", "d1")],
            ..Default::default()
        }
    }

    fn stage_names(s: &wire::Snapshot) -> Vec<(String, String, String)> {
        s.stages
            .iter()
            .map(|s| {
                (
                    s.api_id.clone(),
                    s.stage_name.clone(),
                    s.deployment_id.clone(),
                )
            })
            .collect()
    }

    #[test]
    fn a_clean_snapshot_is_published_as_is() {
        let s = snapshot("http://127.0.0.1:2/x");
        let (admitted, report) = admit(s.clone(), &[], None).expect("admitted");
        assert_eq!(admitted, s);
        assert!(report.is_empty());
    }

    #[test]
    fn a_deployment_nodes_would_refuse_keeps_its_stage_at_the_last_good_one() {
        let previous = snapshot("http://127.0.0.1:2/x");
        let mut now = snapshot("http://127.0.0.1:2/fall back");
        now.deployments[0].deployment_id = "d2".into();
        now.stages[0].deployment_id = "d2".into();
        let (admitted, report) = admit(now, &[], Some(&previous)).expect("admitted");
        // The bad API's stage serves what it served before; the good API is untouched.
        assert_eq!(admitted, previous);
        let failed = report.deployment("bad", "d2").expect("reported");
        assert!(failed.failed);
        assert!(
            failed.message.contains("Invalid integration URI"),
            "{failed:?}"
        );
        assert_eq!(
            report.stage("bad", "dev"),
            Some(
                format!(
                    "Deployment d2 cannot be served: {}. The stage keeps serving deployment d1, as last published.",
                    failed.message.trim_start_matches("Not served: ").trim_end_matches('.')
                )
                .as_str()
            )
        );
        assert_eq!(report.stage("good", "dev"), None);

        // With nothing published before, the stage is left out.
        let (admitted, report) =
            admit(snapshot("http://h/fall back"), &[], None).expect("admitted");
        assert_eq!(
            stage_names(&admitted),
            [("good".into(), "dev".into(), "d1".into())]
        );
        assert_eq!(admitted.deployments.len(), 1);
        assert!(
            report
                .stage("bad", "dev")
                .is_some_and(|m| m.ends_with("The stage serves nothing until this is fixed."))
        );
    }

    #[test]
    fn damaged_rows_hold_back_only_what_they_belong_to() {
        let previous = snapshot("http://127.0.0.1:2/x");
        let row = |kind, api_id: &str, key: &str| DamagedRow {
            kind,
            api_id: api_id.into(),
            key: key.into(),
            error: "stored thing is corrupt: EOF".into(),
        };
        // A damaged deployment: the compiler left it out, so its stage names a missing one.
        let mut now = snapshot("http://127.0.0.1:2/x");
        now.deployments.remove(0);
        let damaged = [row(ResourceKind::Deployment, "bad", "d1")];
        let (admitted, report) = admit(now, &damaged, Some(&previous)).expect("admitted");
        assert_eq!(admitted, previous);
        assert!(
            report
                .deployment("bad", "d1")
                .is_some_and(|d| d.failed && d.message.contains("damaged"))
        );

        // A damaged API row: the API comes back whole from the previous snapshot.
        let mut now = snapshot("http://127.0.0.1:2/x");
        now.apis.remove(0);
        let damaged = [row(ResourceKind::Api, "bad", "bad")];
        let (admitted, report) = admit(now, &damaged, Some(&previous)).expect("admitted");
        assert_eq!(admitted, previous);
        assert!(
            report
                .stage("bad", "dev")
                .is_some_and(|m| m.contains("API bad is damaged"))
        );

        // A damaged stage row: the stage comes back from the previous snapshot.
        let mut now = snapshot("http://127.0.0.1:2/x");
        now.stages.remove(0);
        now.deployments.remove(0);
        let damaged = [row(ResourceKind::Stage, "bad", "dev")];
        let (admitted, report) = admit(now, &damaged, Some(&previous)).expect("admitted");
        assert_eq!(admitted, previous);
        assert!(
            report
                .stage("bad", "dev")
                .is_some_and(|m| m.starts_with("The stage's stored record is damaged"))
        );
    }

    /// AWS deploys a stage whose variables break an integration and answers 500 on its
    /// routes (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-stages.stage-variables-reference.html);
    /// the stage and its deployment say why.
    #[test]
    fn an_integration_a_stage_cannot_render_is_published_and_reported() {
        let s = snapshot("http://${stageVariables.missing}/x");
        let (admitted, report) = admit(s.clone(), &[], None).expect("admitted");
        assert_eq!(admitted, s);
        let expected = "Integration i1 cannot be used: invalid URI after stage variables 'http:///x': it has no host. Requests to the routes that target it answer 500.";
        assert_eq!(report.stage("bad", "dev"), Some(expected));
        assert_eq!(
            report.deployment("bad", "d1"),
            Some(&DeploymentReport {
                failed: false,
                message: format!("Stage dev: {expected}"),
            })
        );
    }

    /// A private integration whose VPC link is gone is reported on its stage and
    /// deployment, and the rest is published; never a failed publish.
    #[test]
    fn a_private_integration_without_its_link_is_reported() {
        let mut s = snapshot("http://orders.internal/x");
        s.deployments[0].integrations[0].connection_id = "gone1".into();
        let (admitted, report) = admit(s, &[], None).expect("admitted");
        assert!(admitted.stages.iter().any(|s| s.api_id == "good"));
        let message = report.stage("bad", "dev").expect("reported");
        assert!(message.contains("gone1"), "{message}");
        assert_eq!(report.stage("good", "dev"), None);

        let mut s = snapshot("http://orders.internal/x");
        s.deployments[0].integrations[0].connection_id = "here1".into();
        s.vpc_links.push(wire::VpcLink {
            vpc_link_id: "here1".into(),
            groups: vec!["private".into()],
            targets: vec![wire::VpcLinkTarget {
                address: "10.0.0.1:80".into(),
                weight: 1,
            }],
            health_check: Some(wire::HealthCheck {
                https: false,
                path: "/".into(),
                interval_seconds: 5,
                timeout_seconds: 2,
                healthy_threshold: 2,
                unhealthy_threshold: 2,
            }),
            load_balancing: wire::LoadBalancing::RoundRobin as i32,
            passive_ejection: Some(wire::PassiveEjection {
                consecutive_5xx: 3,
                base_ejection_seconds: 10,
                max_ejection_seconds: 300,
            }),
            ca_bundle_pem: String::new(),
        });
        let (_, report) = admit(s, &[], None).expect("admitted");
        assert!(report.is_empty(), "{report:?}");
    }
}
