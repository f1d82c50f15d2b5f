use std::collections::BTreeMap;

use portico_model::{
    CreateStage, Deployment, Page, RouteKey, RouteSettings, Stage, UpdateStage, ValidationError,
    validate_access_log_settings, validate_description, validate_route_settings,
    validate_stage_name, validate_stage_variables,
};

use super::{AdminService, Change, Effects, ListParams, ServiceError, ServiceResult, now};
use crate::identity::Caller;
use crate::snapshot::PublishReport;
use crate::store::{ResourceKind, StoreTx};

fn stage_not_found(name: &str) -> ServiceError {
    ServiceError::NotFound(format!("Invalid stage identifier specified {name}"))
}

/// The stage as the admin API shows it: with what the last publish found.
fn reported_stage(report: &PublishReport, api_id: &str, mut stage: Stage) -> Stage {
    stage.last_deployment_status_message =
        report.stage(api_id, &stage.stage_name).map(str::to_string);
    stage
}

/// The settings' own rules, before anything is read.
fn check_settings(
    default: Option<&RouteSettings>,
    by_route: Option<&BTreeMap<String, RouteSettings>>,
) -> Result<(), ValidationError> {
    if let Some(d) = default {
        validate_route_settings("defaultRouteSettings", None, d)?;
    }
    for (key, settings) in by_route.into_iter().flatten() {
        RouteKey::parse(key).map_err(|e| {
            ValidationError::new(
                "routeSettings",
                format!("Invalid route key '{key}' in routeSettings: {}", e.message),
            )
        })?;
        validate_route_settings("routeSettings", Some(key), settings)?;
    }
    Ok(())
}

impl AdminService {
    /// AWS keys route settings by the API's route keys and refuses a key no route has.
    async fn require_routes(
        &self,
        tx: &mut StoreTx,
        api_id: &str,
        by_route: Option<&BTreeMap<String, RouteSettings>>,
    ) -> ServiceResult<()> {
        let Some(by_route) = by_route.filter(|m| !m.is_empty()) else {
            return Ok(());
        };
        // One indexed lookup per key named, not a read of every route of the API.
        for key in by_route.keys() {
            if tx.route_by_key(api_id, key).await?.is_none() {
                return Err(ServiceError::NotFound(format!(
                    "Unable to find Route by key {key} within the provided RouteSettings"
                )));
            }
        }
        Ok(())
    }

    async fn require_deployment(
        &self,
        tx: &mut StoreTx,
        api_id: &str,
        deployment_id: &str,
    ) -> ServiceResult<()> {
        let found: Option<Deployment> = tx
            .get(ResourceKind::Deployment, api_id, deployment_id)
            .await?;
        match found {
            Some(_) => Ok(()),
            None => Err(ServiceError::BadRequest(format!(
                "Invalid deployment identifier specified {deployment_id}: no such deployment in API {api_id}"
            ))),
        }
    }

    pub(super) async fn add_stage(
        &self,
        tx: &mut StoreTx,
        api_id: &str,
        input: CreateStage,
    ) -> ServiceResult<Stage> {
        validate_stage_name(&input.stage_name)?;
        let vars = input.stage_variables.unwrap_or_default();
        validate_stage_variables(&vars)?;
        if let Some(d) = &input.description {
            validate_description("description", d)?;
        }
        check_settings(
            input.default_route_settings.as_ref(),
            input.route_settings.as_ref(),
        )?;
        if let Some(a) = &input.access_log_settings {
            validate_access_log_settings(a)?;
        }
        self.require_routes(tx, api_id, input.route_settings.as_ref())
            .await?;
        let existing: Option<Stage> = tx
            .get(ResourceKind::Stage, api_id, &input.stage_name)
            .await?;
        if existing.is_some() {
            return Err(ServiceError::Conflict(format!(
                "Stage {} already exists in API {api_id}",
                input.stage_name
            )));
        }
        if let Some(d) = &input.deployment_id {
            self.require_deployment(tx, api_id, d).await?;
        }
        let at = now();
        let mut stage = Stage {
            stage_name: input.stage_name,
            deployment_id: input.deployment_id,
            auto_deploy: input.auto_deploy.unwrap_or(false),
            stage_variables: vars,
            description: input.description,
            created_date: at.clone(),
            last_updated_date: at,
            tags: input.tags.unwrap_or_default(),
            last_deployment_status_message: None,
            default_route_settings: input.default_route_settings,
            route_settings: input.route_settings.unwrap_or_default(),
            access_log_settings: input.access_log_settings.filter(|a| !a.is_off()),
        };
        tx.insert_stage(api_id, &stage).await?;
        if stage.auto_deploy {
            // An auto-deploy stage serves the API as it is now, not after the next change.
            let deployment = self.deploy(tx, api_id, None, true).await?;
            stage.deployment_id = Some(deployment.deployment_id);
            tx.update_stage(api_id, &stage).await?;
            self.prune_deployments(tx, api_id).await?;
        }
        Ok(stage)
    }

    pub async fn create_stage(
        &self,
        caller: &Caller,
        api_id: &str,
        input: CreateStage,
    ) -> ServiceResult<Stage> {
        let check = |input: &CreateStage| {
            validate_stage_name(&input.stage_name)?;
            check_settings(
                input.default_route_settings.as_ref(),
                input.route_settings.as_ref(),
            )?;
            if let Some(a) = &input.access_log_settings {
                validate_access_log_settings(a)?;
            }
            if let Some(t) = &input.tags {
                portico_model::validate_tags(t)?;
            }
            Ok(())
        };
        let (stage, version) = self
            .change_api(
                caller,
                api_id,
                Effects::NONE,
                input,
                check,
                async |tx, input| {
                    let stage = self.add_stage(tx, api_id, input).await?;
                    self.check_stage_upstreams(tx, api_id, &stage).await?;
                    let id = format!("{api_id}/{}", stage.stage_name);
                    Ok((stage, Change::new("CreateStage", "stage", id)))
                },
            )
            .await?;
        self.publisher.published(version).await;
        Ok(reported_stage(&self.publisher.report(), api_id, stage))
    }

    pub async fn get_stage(
        &self,
        caller: &Caller,
        api_id: &str,
        name: &str,
    ) -> ServiceResult<Stage> {
        let stage = self
            .read_child(caller, api_id, ResourceKind::Stage, name, stage_not_found)
            .await?;
        Ok(reported_stage(&self.publisher.report(), api_id, stage))
    }

    pub async fn list_stages(
        &self,
        caller: &Caller,
        api_id: &str,
        params: ListParams,
    ) -> ServiceResult<Page<Stage>> {
        let mut page = self
            .list_children(caller, api_id, ResourceKind::Stage, params, |s: &Stage| {
                &s.stage_name
            })
            .await?;
        let report = self.publisher.report();
        page.items = page
            .items
            .into_iter()
            .map(|s| reported_stage(&report, api_id, s))
            .collect();
        Ok(page)
    }

    pub async fn update_stage(
        &self,
        caller: &Caller,
        api_id: &str,
        name: &str,
        input: UpdateStage,
    ) -> ServiceResult<Stage> {
        let check = |input: &UpdateStage| {
            if let Some(vars) = &input.stage_variables {
                let given: std::collections::BTreeMap<String, String> = vars
                    .iter()
                    .filter(|(_, v)| !v.is_empty())
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect();
                validate_stage_variables(&given)?;
            }
            if let Some(d) = &input.description {
                validate_description("description", d)?;
            }
            check_settings(
                input.default_route_settings.as_ref(),
                input.route_settings.as_ref(),
            )?;
            if let Some(a) = &input.access_log_settings {
                validate_access_log_settings(a)?;
            }
            Ok(())
        };
        let (stage, version) = self
            .change_api(
                caller,
                api_id,
                Effects::NONE,
                input,
                check,
                async |tx, input| {
                    let mut stage: Stage = tx
                        .get(ResourceKind::Stage, api_id, name)
                        .await?
                        .ok_or_else(|| stage_not_found(name))?;
                    if let Some(d) = input.deployment_id {
                        self.require_deployment(tx, api_id, &d).await?;
                        stage.deployment_id = Some(d);
                    }
                    if let Some(vars) = input.stage_variables {
                        for (k, v) in vars {
                            if v.is_empty() {
                                stage.stage_variables.remove(&k);
                            } else {
                                stage.stage_variables.insert(k, v);
                            }
                        }
                    }
                    if let Some(d) = input.description {
                        stage.description = Some(d);
                    }
                    // Limits are the stage's, not the deployment's: they reach nodes with
                    // this write, as on AWS, with no new deployment.
                    if let Some(d) = input.default_route_settings {
                        let merged = d.over(&stage.default_route_settings.unwrap_or_default());
                        stage.default_route_settings = Some(merged);
                    }
                    self.require_routes(tx, api_id, input.route_settings.as_ref())
                        .await?;
                    for (key, settings) in input.route_settings.into_iter().flatten() {
                        let merged = settings.over(
                            stage
                                .route_settings
                                .get(&key)
                                .unwrap_or(&RouteSettings::default()),
                        );
                        stage.route_settings.insert(key, merged);
                    }
                    // Like throttling, the stage's own: no deployment needed.
                    if let Some(a) = input.access_log_settings {
                        stage.access_log_settings = (!a.is_off()).then_some(a);
                    }
                    let turned_on = input.auto_deploy == Some(true) && !stage.auto_deploy;
                    if let Some(a) = input.auto_deploy {
                        stage.auto_deploy = a;
                    }
                    if turned_on {
                        let deployment = self.deploy(tx, api_id, None, true).await?;
                        stage.deployment_id = Some(deployment.deployment_id);
                    }
                    stage.last_updated_date = now();
                    tx.update_stage(api_id, &stage).await?;
                    self.check_stage_upstreams(tx, api_id, &stage).await?;
                    if turned_on {
                        self.prune_deployments(tx, api_id).await?;
                    }
                    let id = format!("{api_id}/{name}");
                    Ok((stage, Change::new("UpdateStage", "stage", id)))
                },
            )
            .await?;
        self.publisher.published(version).await;
        Ok(reported_stage(&self.publisher.report(), api_id, stage))
    }

    /// `DeleteRouteSettings`: the route falls back to the stage's defaults.
    pub async fn delete_route_settings(
        &self,
        caller: &Caller,
        api_id: &str,
        name: &str,
        route_key: &str,
    ) -> ServiceResult<()> {
        let (_, version) = self
            .change_api(
                caller,
                api_id,
                Effects::NONE,
                (),
                |_| Ok(()),
                async |tx, ()| {
                    let mut stage: Stage = tx
                        .get(ResourceKind::Stage, api_id, name)
                        .await?
                        .ok_or_else(|| stage_not_found(name))?;
                    if stage.route_settings.remove(route_key).is_none() {
                        return Err(ServiceError::NotFound(format!(
                            "Unable to find RouteSettings for route key {route_key} in stage {name}"
                        )));
                    }
                    stage.last_updated_date = now();
                    tx.update_stage(api_id, &stage).await?;
                    let id = format!("{api_id}/{name}/{route_key}");
                    Ok(((), Change::new("DeleteRouteSettings", "stage", id)))
                },
            )
            .await?;
        self.publisher.published(version).await;
        Ok(())
    }

    pub async fn delete_stage(
        &self,
        caller: &Caller,
        api_id: &str,
        name: &str,
    ) -> ServiceResult<()> {
        self.change_api(
            caller,
            api_id,
            Effects::NONE,
            (),
            |_| Ok(()),
            async |tx, ()| {
                if !tx.delete(ResourceKind::Stage, api_id, name).await? {
                    return Err(stage_not_found(name));
                }
                let id = format!("{api_id}/{name}");
                Ok(((), Change::new("DeleteStage", "stage", id)))
            },
        )
        .await?;
        Ok(())
    }
}
