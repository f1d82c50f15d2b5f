use portico_model::{
    CreateDeployment, DeployedApi, Deployment, Page, Stage, UpdateDeployment, validate_description,
};

use super::{AdminService, Change, Effects, ListParams, ServiceError, ServiceResult, new_id, now};
use crate::identity::Caller;
use crate::snapshot::PublishReport;
use crate::store::{ResourceKind, StoreTx};

fn deployment_not_found(id: &str) -> ServiceError {
    ServiceError::NotFound(format!("Invalid Deployment identifier specified {id}"))
}

/// Creating and updating a deployment take the same description rule.
fn check_description(description: &Option<String>) -> ServiceResult<()> {
    match description {
        Some(d) => Ok(validate_description("description", d)?),
        None => Ok(()),
    }
}

const DEPLOYMENT_DEPLOYED: &str = "DEPLOYED";
const DEPLOYMENT_FAILED: &str = "FAILED";

const AUTO_DEPLOY_DESCRIPTION: &str =
    "Automatic deployment triggered by changes to the Api configuration";

/// The deployment as the admin API shows it: FAILED while publishing holds it back.
fn reported_deployment(
    report: &PublishReport,
    api_id: &str,
    mut deployment: Deployment,
) -> Deployment {
    if let Some(r) = report.deployment(api_id, &deployment.deployment_id) {
        if r.failed {
            deployment.deployment_status = DEPLOYMENT_FAILED.to_string();
        }
        deployment.deployment_status_message = Some(r.message.clone());
    }
    deployment
}

impl AdminService {
    /// Freezes the API's routes, integrations, authorizers and CORS configuration as they
    /// are in `tx` into a new deployment.
    /// The API's routes, integrations, authorizers and CORS as they are in `tx`: what a
    /// deployment made now would freeze.
    pub(super) async fn current_state(
        &self,
        tx: &mut StoreTx,
        api_id: &str,
    ) -> ServiceResult<DeployedApi> {
        Ok(DeployedApi {
            routes: tx.all(ResourceKind::Route, api_id).await?,
            integrations: tx.all(ResourceKind::Integration, api_id).await?,
            authorizers: tx.all(ResourceKind::Authorizer, api_id).await?,
            cors: self.require_api(tx, api_id).await?.cors_configuration,
        })
    }

    pub(super) async fn deploy(
        &self,
        tx: &mut StoreTx,
        api_id: &str,
        description: Option<String>,
        auto_deployed: bool,
    ) -> ServiceResult<Deployment> {
        let frozen = self.current_state(tx, api_id).await?;
        let deployment = Deployment {
            deployment_id: new_id(6),
            deployment_status: DEPLOYMENT_DEPLOYED.to_string(),
            deployment_status_message: None,
            created_date: now(),
            description: description
                .or_else(|| auto_deployed.then(|| AUTO_DEPLOY_DESCRIPTION.to_string())),
            auto_deployed,
        };
        tx.insert_deployment(api_id, &deployment, &frozen).await?;
        Ok(deployment)
    }

    /// Points every auto-deploy stage of the API at a fresh deployment of its current state.
    pub(super) async fn auto_deploy(&self, tx: &mut StoreTx, api_id: &str) -> ServiceResult<()> {
        let stages: Vec<Stage> = tx.all(ResourceKind::Stage, api_id).await?;
        let mut auto: Vec<Stage> = stages.into_iter().filter(|s| s.auto_deploy).collect();
        if auto.is_empty() {
            return Ok(());
        }
        let deployment = self.deploy(tx, api_id, None, true).await?;
        let at = now();
        for stage in &mut auto {
            stage.deployment_id = Some(deployment.deployment_id.clone());
            stage.last_updated_date = at.clone();
            tx.update_stage(api_id, stage).await?;
        }
        self.prune_deployments(tx, api_id).await?;
        Ok(())
    }

    /// Deletes the API's deployments beyond the newest `--keep-deployments` (0 keeps all),
    /// never one a stage points at. AWS documents no such limit and keeps every deployment
    /// ("Quotas for configuring and running an HTTP API in API Gateway" lists none);
    /// Portico prunes so that an auto-deploy stage, which deploys on every change, does
    /// not grow the store without bound. It runs in the transaction that made the new
    /// deployment, after the stages moved onto it, so the count never drifts and no sweep
    /// has to race writers.
    pub(super) async fn prune_deployments(
        &self,
        tx: &mut StoreTx,
        api_id: &str,
    ) -> ServiceResult<()> {
        let pruned = tx.prune_deployments(api_id, self.keep_deployments).await?;
        if pruned > 0 {
            tracing::debug!(api_id, pruned, "pruned old deployments");
        }
        Ok(())
    }

    pub async fn create_deployment(
        &self,
        caller: &Caller,
        api_id: &str,
        input: CreateDeployment,
    ) -> ServiceResult<Deployment> {
        let check = |input: &CreateDeployment| check_description(&input.description);
        let (deployment, version) = self
            .change_api(
                caller,
                api_id,
                Effects::NONE,
                input,
                check,
                async |tx, input| {
                    let stage = match &input.stage_name {
                        Some(name) => {
                            let stage: Stage = tx
                                .get(ResourceKind::Stage, api_id, name)
                                .await?
                                .ok_or_else(|| {
                                    ServiceError::BadRequest(format!(
                                        "Invalid stage identifier specified {name}"
                                    ))
                                })?;
                            if stage.auto_deploy {
                                return Err(ServiceError::BadRequest(format!(
                                    "Stage {name} deploys automatically; turn autoDeploy off to deploy it by hand"
                                )));
                            }
                            Some(stage)
                        }
                        None => None,
                    };
                    let deployment = self
                        .deploy(tx, api_id, input.description, false)
                        .await?;
                    if let Some(mut stage) = stage {
                        stage.deployment_id = Some(deployment.deployment_id.clone());
                        stage.last_updated_date = now();
                        tx.update_stage(api_id, &stage).await?;
                    }
                    self.prune_deployments(tx, api_id).await?;
                    let id = format!("{api_id}/{}", deployment.deployment_id);
                    Ok((deployment, Change::new("CreateDeployment", "deployment", id)))
                },
            )
            .await?;
        self.publisher.published(version).await;
        Ok(reported_deployment(
            &self.publisher.report(),
            api_id,
            deployment,
        ))
    }

    pub async fn get_deployment(
        &self,
        caller: &Caller,
        api_id: &str,
        id: &str,
    ) -> ServiceResult<Deployment> {
        let deployment = self
            .read_child(
                caller,
                api_id,
                ResourceKind::Deployment,
                id,
                deployment_not_found,
            )
            .await?;
        Ok(reported_deployment(
            &self.publisher.report(),
            api_id,
            deployment,
        ))
    }

    pub async fn list_deployments(
        &self,
        caller: &Caller,
        api_id: &str,
        params: ListParams,
    ) -> ServiceResult<Page<Deployment>> {
        let mut page = self
            .list_children(
                caller,
                api_id,
                ResourceKind::Deployment,
                params,
                |d: &Deployment| &d.deployment_id,
            )
            .await?;
        let report = self.publisher.report();
        page.items = page
            .items
            .into_iter()
            .map(|d| reported_deployment(&report, api_id, d))
            .collect();
        Ok(page)
    }

    pub async fn update_deployment(
        &self,
        caller: &Caller,
        api_id: &str,
        id: &str,
        input: UpdateDeployment,
    ) -> ServiceResult<Deployment> {
        let check = |input: &UpdateDeployment| check_description(&input.description);
        let (deployment, _) = self
            .change_api(
                caller,
                api_id,
                Effects::NONE,
                input,
                check,
                async |tx, input| {
                    let mut deployment: Deployment = tx
                        .get(ResourceKind::Deployment, api_id, id)
                        .await?
                        .ok_or_else(|| deployment_not_found(id))?;
                    if let Some(d) = input.description {
                        deployment.description = Some(d);
                    }
                    tx.update_deployment(api_id, &deployment).await?;
                    let change =
                        Change::new("UpdateDeployment", "deployment", format!("{api_id}/{id}"));
                    Ok((deployment, change))
                },
            )
            .await?;
        Ok(reported_deployment(
            &self.publisher.report(),
            api_id,
            deployment,
        ))
    }

    pub async fn delete_deployment(
        &self,
        caller: &Caller,
        api_id: &str,
        id: &str,
    ) -> ServiceResult<()> {
        self.change_api(caller, api_id, Effects::NONE, (), |_| Ok(()), async |tx, ()| {
            let users = tx.stages_using(api_id, id).await?;
            if !users.is_empty() {
                return Err(ServiceError::BadRequest(format!(
                    "Deployment {id} is the active deployment of stage(s) {}; point them elsewhere first",
                    users.join(", ")
                )));
            }
            if !tx.delete(ResourceKind::Deployment, api_id, id).await? {
                return Err(deployment_not_found(id));
            }
            let change = Change::new("DeleteDeployment", "deployment", format!("{api_id}/{id}"));
            Ok(((), change))
        })
        .await?;
        Ok(())
    }
}
