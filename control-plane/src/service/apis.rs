use portico_model::{
    API_KEY_SELECTION_EXPRESSION, Api, CreateApi, CreateIntegration, CreateRoute, CreateStage,
    DEFAULT_STAGE, INTEGRATION_AWS_PROXY, INTEGRATION_HTTP_PROXY, PROTOCOL_HTTP, Page,
    ROUTE_SELECTION_EXPRESSION, UpdateApi, ValidationError, validate_api_name, validate_cors,
    validate_description, validate_protocol_type,
};

use super::{
    AdminService, Change, Effects, ListParams, ServiceError, ServiceResult, allow, new_id, now,
    page,
};
use crate::identity::{Caller, Permission};
use crate::store::StoreTx;

fn check_selection_expressions(
    route: Option<&str>,
    api_key: Option<&str>,
) -> Result<(), ValidationError> {
    if let Some(r) = route
        && r != ROUTE_SELECTION_EXPRESSION
    {
        return Err(ValidationError::new(
            "routeSelectionExpression",
            format!("HTTP APIs use routeSelectionExpression '{ROUTE_SELECTION_EXPRESSION}'"),
        ));
    }
    if let Some(k) = api_key
        && k != API_KEY_SELECTION_EXPRESSION
    {
        return Err(ValidationError::new(
            "apiKeySelectionExpression",
            format!("apiKeySelectionExpression must be '{API_KEY_SELECTION_EXPRESSION}'"),
        ));
    }
    Ok(())
}

pub(crate) fn api_not_found(api_id: &str) -> ServiceError {
    ServiceError::NotFound(format!("Invalid API identifier specified {api_id}"))
}

impl AdminService {
    pub(super) fn with_endpoint(&self, mut api: Api) -> Api {
        api.api_endpoint = Some(self.endpoint().for_api(&api.api_id));
        api
    }

    pub async fn create_api(&self, caller: &Caller, input: CreateApi) -> ServiceResult<Api> {
        allow(caller, Permission::EditApis)?;
        validate_api_name(&input.name)?;
        validate_protocol_type(&input.protocol_type)?;
        if let Some(t) = &input.tags {
            portico_model::validate_tags(t)?;
        }
        if let Some(d) = &input.description {
            validate_description("description", d)?;
        }
        check_selection_expressions(
            input.route_selection_expression.as_deref(),
            input.api_key_selection_expression.as_deref(),
        )?;
        if let Some(c) = &input.cors_configuration {
            validate_cors(c)?;
        }
        if input.route_key.is_some() && input.target.is_none() {
            return Err(ValidationError::new(
                "routeKey",
                "routeKey is only valid with target (quick create)",
            )
            .into());
        }
        let api = Api {
            api_id: new_id(10),
            name: input.name,
            protocol_type: PROTOCOL_HTTP.to_string(),
            api_endpoint: None,
            api_key_selection_expression: API_KEY_SELECTION_EXPRESSION.to_string(),
            route_selection_expression: ROUTE_SELECTION_EXPRESSION.to_string(),
            created_date: now(),
            description: input.description,
            disable_execute_api_endpoint: input.disable_execute_api_endpoint.unwrap_or(false),
            version: input.version,
            tags: input.tags.unwrap_or_default(),
            cors_configuration: input.cors_configuration,
        };
        let (mut tx, version) = self.store.write().await?;
        tx.insert_api(&api).await?;
        if let Some(target) = input.target {
            self.quick_create(&mut tx, &api.api_id, target, input.route_key)
                .await?;
        }
        self.check_upstreams(&mut tx, &api.api_id).await?;
        self.commit(
            tx,
            version,
            caller,
            Change::new("CreateApi", "api", api.api_id.clone()),
        )
        .await?;
        Ok(self.with_endpoint(api))
    }

    /// AWS's quick create: an integration to `target`, one route to it and a `$default`
    /// stage that deploys automatically.
    async fn quick_create(
        &self,
        tx: &mut StoreTx,
        api_id: &str,
        target: String,
        route_key: Option<String>,
    ) -> ServiceResult<()> {
        // A function ARN makes a Lambda proxy integration, with the payload format AWS's
        // quick create picks for it (2.0); anything else is an HTTP URL.
        let integration = if target.starts_with("arn:") {
            CreateIntegration {
                integration_type: INTEGRATION_AWS_PROXY.to_string(),
                integration_uri: Some(target),
                payload_format_version: Some("2.0".to_string()),
                ..Default::default()
            }
        } else {
            CreateIntegration {
                integration_type: INTEGRATION_HTTP_PROXY.to_string(),
                integration_uri: Some(target),
                ..Default::default()
            }
        };
        let integration = self
            .add_integration(tx, api_id, integration)
            .await
            .map_err(|e| match e {
                ServiceError::Invalid(v) if v.field == "integrationUri" => {
                    ServiceError::Invalid(ValidationError::new("target", v.message))
                }
                other => other,
            })?;
        self.add_route(
            tx,
            api_id,
            CreateRoute {
                route_key: route_key.unwrap_or_else(|| "$default".to_string()),
                target: Some(format!("integrations/{}", integration.integration_id)),
                ..Default::default()
            },
        )
        .await?;
        self.add_stage(
            tx,
            api_id,
            CreateStage {
                stage_name: DEFAULT_STAGE.to_string(),
                auto_deploy: Some(true),
                ..Default::default()
            },
        )
        .await?;
        Ok(())
    }

    pub async fn get_api(&self, caller: &Caller, api_id: &str) -> ServiceResult<Api> {
        allow(caller, Permission::Read)?;
        let mut tx = self.store.read().await?;
        let api = tx
            .get_api(api_id)
            .await?
            .ok_or_else(|| api_not_found(api_id))?;
        Ok(self.with_endpoint(api))
    }

    pub async fn list_apis(&self, caller: &Caller, params: ListParams) -> ServiceResult<Page<Api>> {
        allow(caller, Permission::Read)?;
        let limit = params.limit()?;
        let after = params.after()?;
        let mut tx = self.store.read().await?;
        let items = tx.list_apis(after.as_deref(), limit + 1).await?;
        let mut p = page(items, limit, |a| &a.api_id);
        p.items = p.items.into_iter().map(|a| self.with_endpoint(a)).collect();
        Ok(p)
    }

    pub async fn update_api(
        &self,
        caller: &Caller,
        api_id: &str,
        input: UpdateApi,
    ) -> ServiceResult<Api> {
        allow(caller, Permission::EditApis)?;
        if let Some(n) = &input.name {
            validate_api_name(n)?;
        }
        if let Some(d) = &input.description {
            validate_description("description", d)?;
        }
        check_selection_expressions(
            input.route_selection_expression.as_deref(),
            input.api_key_selection_expression.as_deref(),
        )?;
        if let Some(c) = &input.cors_configuration {
            validate_cors(c)?;
        }
        let (mut tx, version) = self.store.write().await?;
        let mut api = tx
            .get_api(api_id)
            .await?
            .ok_or_else(|| api_not_found(api_id))?;
        if let Some(n) = input.name {
            api.name = n;
        }
        if let Some(d) = input.description {
            api.description = Some(d);
        }
        if let Some(v) = input.version {
            api.version = Some(v);
        }
        if let Some(d) = input.disable_execute_api_endpoint {
            api.disable_execute_api_endpoint = d;
        }
        let cors_changed = input.cors_configuration.is_some();
        if let Some(c) = input.cors_configuration {
            api.cors_configuration = Some(c);
        }
        tx.update_api(&api).await?;
        if cors_changed {
            // CORS is frozen into deployments: auto-deploy stages take it at once.
            self.auto_deploy(&mut tx, api_id).await?;
        }
        self.commit(
            tx,
            version,
            caller,
            Change::new("UpdateApi", "api", api_id.to_string()),
        )
        .await?;
        Ok(self.with_endpoint(api))
    }

    pub async fn delete_api(&self, caller: &Caller, api_id: &str) -> ServiceResult<()> {
        allow(caller, Permission::EditApis)?;
        let (mut tx, version) = self.store.write().await?;
        if !tx.delete_api(api_id).await? {
            return Err(api_not_found(api_id));
        }
        self.commit(
            tx,
            version,
            caller,
            Change::new("DeleteApi", "api", api_id.to_string()),
        )
        .await
    }

    /// `DeleteCorsConfiguration`: the API answers no preflight and adds no CORS headers
    /// from its next deployment on.
    pub async fn delete_cors_configuration(
        &self,
        caller: &Caller,
        api_id: &str,
    ) -> ServiceResult<()> {
        self.change_api(
            caller,
            api_id,
            Effects::REDEPLOY,
            (),
            |_| Ok(()),
            async |tx, ()| {
                let mut api = self.require_api(tx, api_id).await?;
                if api.cors_configuration.take().is_none() {
                    return Err(ServiceError::NotFound(format!(
                        "API {api_id} has no CORS configuration"
                    )));
                }
                tx.update_api(&api).await?;
                let change = Change::new("DeleteCorsConfiguration", "api", api_id.to_string());
                Ok(((), change))
            },
        )
        .await?;
        Ok(())
    }

    /// Fails with NotFound unless the API exists (inside a transaction).
    pub(super) async fn require_api(&self, tx: &mut StoreTx, api_id: &str) -> ServiceResult<Api> {
        tx.get_api(api_id)
            .await?
            .ok_or_else(|| api_not_found(api_id))
    }
}
