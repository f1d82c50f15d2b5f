use std::collections::BTreeMap;

use portico_model::{
    CONNECTION_INTERNET, CreateIntegration, Integration, Page, Route, UpdateIntegration,
    validate_integration,
};

use super::{AdminService, Change, Effects, ListParams, ServiceError, ServiceResult, new_id};
use crate::identity::Caller;
use crate::store::{ResourceKind, StoreTx};

fn integration_not_found(id: &str) -> ServiceError {
    ServiceError::NotFound(format!("Invalid Integration identifier specified {id}"))
}

pub(super) fn build(
    integration_id: String,
    input: &CreateIntegration,
) -> ServiceResult<Integration> {
    let spec = validate_integration(input)?;
    Ok(Integration {
        integration_id,
        integration_type: spec.integration_type,
        integration_uri: spec.integration_uri,
        integration_method: spec.integration_method,
        payload_format_version: spec.payload_format_version,
        timeout_in_millis: spec.timeout_in_millis,
        connection_type: spec.connection_type,
        connection_id: spec.connection_id,
        tls_config: spec.tls_config,
        description: input.description.clone(),
        request_parameters: spec.request_parameters,
        response_parameters: spec.response_parameters,
    })
}

/// AWS's update: each key sent replaces the stored one, and a key sent with an empty
/// value is removed ("Transform API requests and responses for HTTP APIs").
fn merge_request_parameters(
    mut current: BTreeMap<String, String>,
    update: Option<BTreeMap<String, String>>,
) -> BTreeMap<String, String> {
    for (key, value) in update.into_iter().flatten() {
        if value.is_empty() {
            current.remove(&key);
        } else {
            current.insert(key, value);
        }
    }
    current
}

/// The same by status code; a status code sent with no mappings loses all of its own.
fn merge_response_parameters(
    mut current: BTreeMap<String, BTreeMap<String, String>>,
    update: Option<BTreeMap<String, BTreeMap<String, String>>>,
) -> BTreeMap<String, BTreeMap<String, String>> {
    for (status, mappings) in update.into_iter().flatten() {
        if mappings.is_empty() {
            current.remove(&status);
            continue;
        }
        let merged =
            merge_request_parameters(current.remove(&status).unwrap_or_default(), Some(mappings));
        if !merged.is_empty() {
            current.insert(status, merged);
        }
    }
    current
}

impl AdminService {
    pub(super) async fn add_integration(
        &self,
        tx: &mut StoreTx,
        api_id: &str,
        input: CreateIntegration,
    ) -> ServiceResult<Integration> {
        let integration = build(new_id(7), &input)?;
        super::vpc_links::require_vpc_links(tx, [&integration]).await?;
        self.check_integration_upstream(tx, api_id, &integration)
            .await?;
        tx.upsert_integration(api_id, &integration).await?;
        Ok(integration)
    }

    pub async fn create_integration(
        &self,
        caller: &Caller,
        api_id: &str,
        input: CreateIntegration,
    ) -> ServiceResult<Integration> {
        // A new integration changes nothing a client can reach until a route targets it,
        // so auto-deploy stages are left alone, as AWS does.
        let check = |input: &CreateIntegration| Ok(validate_integration(input).map(|_| ())?);
        let (integration, _) = self
            .change_api(
                caller,
                api_id,
                Effects::NONE,
                input,
                check,
                async |tx, input| {
                    let integration = self.add_integration(tx, api_id, input).await?;
                    let id = format!("{api_id}/{}", integration.integration_id);
                    Ok((
                        integration,
                        Change::new("CreateIntegration", "integration", id),
                    ))
                },
            )
            .await?;
        Ok(integration)
    }

    pub async fn get_integration(
        &self,
        caller: &Caller,
        api_id: &str,
        id: &str,
    ) -> ServiceResult<Integration> {
        self.read_child(
            caller,
            api_id,
            ResourceKind::Integration,
            id,
            integration_not_found,
        )
        .await
    }

    pub async fn list_integrations(
        &self,
        caller: &Caller,
        api_id: &str,
        params: ListParams,
    ) -> ServiceResult<Page<Integration>> {
        self.list_children(
            caller,
            api_id,
            ResourceKind::Integration,
            params,
            |i: &Integration| &i.integration_id,
        )
        .await
    }

    pub async fn update_integration(
        &self,
        caller: &Caller,
        api_id: &str,
        id: &str,
        input: UpdateIntegration,
    ) -> ServiceResult<Integration> {
        let effects = Effects::REDEPLOY;
        let (integration, _) = self
            .change_api(
                caller,
                api_id,
                effects,
                input,
                |_| Ok(()),
                async |tx, input| {
                    let current: Integration = tx
                        .get(ResourceKind::Integration, api_id, id)
                        .await?
                        .ok_or_else(|| integration_not_found(id))?;
                    // A new type starts from that type's defaults: HTTP_PROXY's `ANY` is
                    // no method for a Lambda function, nor its payload format for one.
                    let same_type = input
                        .integration_type
                        .as_ref()
                        .is_none_or(|t| *t == current.integration_type);
                    let (method, payload) = if same_type {
                        (
                            Some(current.integration_method),
                            Some(current.payload_format_version),
                        )
                    } else {
                        (None, None)
                    };
                    let to_internet = input.connection_type.as_deref() == Some(CONNECTION_INTERNET);
                    let merged = CreateIntegration {
                        integration_type: input
                            .integration_type
                            .unwrap_or(current.integration_type),
                        integration_uri: Some(
                            input.integration_uri.unwrap_or(current.integration_uri),
                        ),
                        integration_method: input.integration_method.or(method),
                        payload_format_version: input.payload_format_version.or(payload),
                        timeout_in_millis: Some(
                            input.timeout_in_millis.unwrap_or(current.timeout_in_millis),
                        ),
                        // Moving an integration onto the internet drops its link and
                        // TLS settings unless the update names them again.
                        connection_id: input
                            .connection_id
                            .or(current.connection_id.filter(|_| !to_internet)),
                        tls_config: input
                            .tls_config
                            .or(current.tls_config.filter(|_| !to_internet)),
                        connection_type: Some(
                            input.connection_type.unwrap_or(current.connection_type),
                        ),
                        description: input.description.or(current.description),
                        request_parameters: Some(merge_request_parameters(
                            current.request_parameters,
                            input.request_parameters,
                        )),
                        response_parameters: Some(merge_response_parameters(
                            current.response_parameters,
                            input.response_parameters,
                        )),
                    };
                    let integration = build(id.to_string(), &merged)?;
                    super::vpc_links::require_vpc_links(tx, [&integration]).await?;
                    self.check_integration_upstream(tx, api_id, &integration)
                        .await?;
                    tx.upsert_integration(api_id, &integration).await?;
                    let change =
                        Change::new("UpdateIntegration", "integration", format!("{api_id}/{id}"));
                    Ok((integration, change))
                },
            )
            .await?;
        Ok(integration)
    }

    pub async fn delete_integration(
        &self,
        caller: &Caller,
        api_id: &str,
        id: &str,
    ) -> ServiceResult<()> {
        // Deployments freeze every integration, targeted or not: redeploy so that the
        // auto-deploy stages stop carrying it.
        self.change_api(caller, api_id, Effects::REDEPLOY, (), |_| Ok(()), async |tx, ()| {
            let target = format!("integrations/{id}");
            let routes: Vec<Route> = tx.all(ResourceKind::Route, api_id).await?;
            let users: Vec<&str> = routes
                .iter()
                .filter(|r| r.target.as_deref() == Some(target.as_str()))
                .map(|r| r.route_key.as_str())
                .collect();
            if !users.is_empty() {
                return Err(ServiceError::Conflict(format!(
                    "Integration {id} is the target of route(s) {}; change or delete them first",
                    users.join(", ")
                )));
            }
            if !tx.delete(ResourceKind::Integration, api_id, id).await? {
                return Err(integration_not_found(id));
            }
            let change = Change::new("DeleteIntegration", "integration", format!("{api_id}/{id}"));
            Ok(((), change))
        })
        .await?;
        Ok(())
    }
}
