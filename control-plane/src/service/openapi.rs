//! ExportApi, ImportApi and ReimportApi (OpenAPI 3.0 with API Gateway's extensions, the
//! document work in `portico_model::openapi`), and Portico's diff between deployments.
//! An import is planned (parsed and checked) before the write lock is taken, and then
//! written in one transaction: every route, integration and authorizer, or none.
use portico_model::openapi::{
    Basepath, ExportSource, ExportedServer, ImportPlan, export_document, plan_import,
};
use portico_model::{
    Api, ApiDiff, Authorizer, DEFAULT_STAGE, DeployedApi, ImportedApi, PROTOCOL_HTTP, Route, Stage,
    ValidationError, diff_deployed, validate_authorizer,
};

use super::integrations::build as build_integration;
use super::{AdminService, Change, ServiceError, ServiceResult, allow, new_id, now};
use crate::identity::{Caller, Permission};
use crate::store::{ResourceKind, StoreTx};

/// ExportApi's `outputType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputType {
    Json,
    Yaml,
}

impl OutputType {
    pub fn parse(value: Option<&str>) -> Result<Self, ValidationError> {
        match value {
            Some("JSON") => Ok(OutputType::Json),
            Some("YAML") => Ok(OutputType::Yaml),
            Some(other) => Err(ValidationError::new(
                "outputType",
                format!("Invalid outputType '{other}': use JSON or YAML"),
            )),
            None => Err(ValidationError::new(
                "outputType",
                "outputType is required: JSON or YAML",
            )),
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            OutputType::Json => "application/json",
            OutputType::Yaml => "application/yaml",
        }
    }
}

/// ExportApi's parameters, checked.
#[derive(Debug, Clone)]
pub struct ExportRequest {
    pub output_type: OutputType,
    pub stage_name: Option<String>,
    pub include_extensions: bool,
}

/// ImportApi's and ReimportApi's parameters.
#[derive(Debug, Clone, Copy, Default)]
pub struct ImportOptions {
    pub basepath: Basepath,
    pub fail_on_warnings: bool,
}

fn plan(body: &str, options: ImportOptions) -> ServiceResult<ImportPlan> {
    let plan = plan_import(body, options.basepath)
        .map_err(|e| ServiceError::BadRequest(format!("Invalid OpenAPI definition: {e}")))?;
    if options.fail_on_warnings && !plan.warnings.is_empty() {
        return Err(ServiceError::BadRequest(format!(
            "Warnings found during import (failOnWarnings is set):\n\t{}",
            plan.warnings.join("\n\t")
        )));
    }
    Ok(plan)
}

fn deployment_not_found(id: &str) -> ServiceError {
    ServiceError::NotFound(format!("Invalid Deployment identifier specified {id}"))
}

impl AdminService {
    pub async fn export_api(
        &self,
        caller: &Caller,
        api_id: &str,
        specification: &str,
        request: ExportRequest,
    ) -> ServiceResult<String> {
        allow(caller, Permission::Read)?;
        if specification != "OAS30" {
            return Err(ServiceError::invalid(
                "specification",
                format!("Invalid specification '{specification}': OAS30 is the only one"),
            ));
        }
        let mut tx = self.store.read().await?;
        let api = self.require_api(&mut tx, api_id).await?;
        let endpoint = self.endpoint().for_api(api_id);
        let (state, base_path) = match &request.stage_name {
            None => (self.current_state(&mut tx, api_id).await?, String::new()),
            Some(name) => {
                let stage: Stage = tx
                    .get(ResourceKind::Stage, api_id, name)
                    .await?
                    .ok_or_else(|| {
                        ServiceError::NotFound(format!("Invalid stage identifier specified {name}"))
                    })?;
                let deployment_id = stage.deployment_id.ok_or_else(|| {
                    ServiceError::BadRequest(format!(
                        "Stage {name} has no deployment to export; deploy it first or export without stageName"
                    ))
                })?;
                let state = tx
                    .deployed(api_id, &deployment_id)
                    .await?
                    .ok_or_else(|| deployment_not_found(&deployment_id))?;
                let base = if name == DEFAULT_STAGE {
                    String::new()
                } else {
                    name.clone()
                };
                (state, base)
            }
        };
        let doc = export_document(&ExportSource {
            api: &api,
            routes: &state.routes,
            integrations: &state.integrations,
            authorizers: &state.authorizers,
            cors: state.cors.as_ref(),
            server: Some(ExportedServer {
                endpoint,
                base_path,
            }),
            include_extensions: request.include_extensions,
        });
        let text = match request.output_type {
            OutputType::Json => serde_json::to_string_pretty(&doc)
                .map_err(|e| ServiceError::BadRequest(format!("Cannot write the export: {e}")))?,
            OutputType::Yaml => portico_model::openapi::to_yaml(&doc)
                .map_err(|e| ServiceError::BadRequest(format!("Cannot write the export: {e}")))?,
        };
        Ok(text)
    }

    pub async fn import_api(
        &self,
        caller: &Caller,
        body: &str,
        options: ImportOptions,
    ) -> ServiceResult<ImportedApi> {
        allow(caller, Permission::EditApis)?;
        let plan = plan(body, options)?;
        let api = Api {
            api_id: new_id(10),
            name: plan.name.clone(),
            protocol_type: PROTOCOL_HTTP.to_string(),
            api_endpoint: None,
            api_key_selection_expression: portico_model::API_KEY_SELECTION_EXPRESSION.to_string(),
            route_selection_expression: portico_model::ROUTE_SELECTION_EXPRESSION.to_string(),
            created_date: now(),
            description: plan.description.clone(),
            disable_execute_api_endpoint: plan.disable_execute_api_endpoint,
            version: plan.version.clone(),
            tags: plan.tags.clone(),
            cors_configuration: plan.cors_configuration.clone(),
        };
        let (mut tx, version) = self.store.write().await?;
        tx.insert_api(&api).await?;
        self.write_plan(&mut tx, &api.api_id, &plan).await?;
        self.check_upstreams(&mut tx, &api.api_id).await?;
        let change = Change::new("ImportApi", "api", api.api_id.clone());
        self.commit(tx, version, caller, change).await?;
        Ok(ImportedApi {
            api: self.with_endpoint(api),
            warnings: plan.warnings,
        })
    }

    /// Replaces the API's routes, integrations, authorizers and CORS with the document's,
    /// and its name, description and version; stages and deployments stay, and
    /// auto-deploy stages take the new definition at once.
    pub async fn reimport_api(
        &self,
        caller: &Caller,
        api_id: &str,
        body: &str,
        options: ImportOptions,
    ) -> ServiceResult<ImportedApi> {
        allow(caller, Permission::EditApis)?;
        let plan = plan(body, options)?;
        let (mut tx, version) = self.store.write().await?;
        let mut api = self.require_api(&mut tx, api_id).await?;
        api.name = plan.name.clone();
        api.description = plan.description.clone();
        api.version = plan.version.clone();
        api.cors_configuration = plan.cors_configuration.clone();
        api.disable_execute_api_endpoint = plan.disable_execute_api_endpoint;
        // The document's tags are set; tags it does not name are kept, as TagResource does.
        api.tags.extend(plan.tags.clone());
        tx.update_api(&api).await?;
        for kind in [
            ResourceKind::Route,
            ResourceKind::Integration,
            ResourceKind::Authorizer,
        ] {
            tx.delete_all(kind, api_id).await?;
        }
        self.write_plan(&mut tx, api_id, &plan).await?;
        self.auto_deploy(&mut tx, api_id).await?;
        self.check_upstreams(&mut tx, api_id).await?;
        let change = Change::new("ReimportApi", "api", api_id.to_string());
        self.commit(tx, version, caller, change).await?;
        Ok(ImportedApi {
            api: self.with_endpoint(api),
            warnings: plan.warnings,
        })
    }

    /// Writes the plan's authorizers, integrations and routes under `api_id`. The plan
    /// checked the routes against each other and against its own integrations and
    /// authorizers, so nothing here reads what is already stored.
    async fn write_plan(
        &self,
        tx: &mut StoreTx,
        api_id: &str,
        plan: &ImportPlan,
    ) -> ServiceResult<()> {
        let mut authorizer_ids = Vec::with_capacity(plan.authorizers.len());
        // Authorizer names are the keys of `components.securitySchemes`: unique.
        for input in &plan.authorizers {
            let authorizer: Authorizer = validate_authorizer(new_id(6), input)?;
            tx.upsert_authorizer(api_id, &authorizer).await?;
            authorizer_ids.push(authorizer.authorizer_id);
        }
        let integrations = plan
            .integrations
            .iter()
            .map(|input| build_integration(new_id(7), input))
            .collect::<ServiceResult<Vec<_>>>()?;
        let integration_ids: Vec<&str> = integrations
            .iter()
            .map(|i| i.integration_id.as_str())
            .collect();
        let mut routes = Vec::with_capacity(plan.routes.len());
        for planned in &plan.routes {
            routes.push(Route {
                route_id: new_id(7),
                route_key: planned.route_key.clone(),
                target: planned
                    .integration
                    .map(|i| format!("integrations/{}", integration_ids[i])),
                authorization_type: planned.authorization_type.clone(),
                authorizer_id: planned.authorizer.map(|i| authorizer_ids[i].clone()),
                authorization_scopes: planned.authorization_scopes.clone(),
                api_key_required: false,
                operation_name: planned.operation_name.clone(),
            });
        }
        super::vpc_links::require_vpc_links(tx, &integrations).await?;
        tx.insert_many(api_id, &routes, &integrations).await?;
        Ok(())
    }

    /// `GET /portico/apis/{apiId}/diff?from=&to=`: `to` is a deployment id or `current`.
    pub async fn diff_deployments(
        &self,
        caller: &Caller,
        api_id: &str,
        from: &str,
        to: &str,
    ) -> ServiceResult<ApiDiff> {
        allow(caller, Permission::Read)?;
        let mut tx = self.store.read().await?;
        self.require_api(&mut tx, api_id).await?;
        let state = async |tx: &mut StoreTx, which: &str| -> ServiceResult<DeployedApi> {
            if which == "current" {
                return self.current_state(tx, api_id).await;
            }
            tx.deployed(api_id, which)
                .await?
                .ok_or_else(|| deployment_not_found(which))
        };
        let before = state(&mut tx, from).await?;
        let after = state(&mut tx, to).await?;
        Ok(diff_deployed(from, &before, to, &after))
    }
}
