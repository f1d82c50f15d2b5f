use portico_model::{
    AUTHORIZATION_NONE, Authorizer, CreateRoute, Integration, Page, Route, RouteKey, UpdateRoute,
    parse_route_target, validate_route_authorization,
};

use super::{AdminService, Change, Effects, ListParams, ServiceError, ServiceResult, new_id};
use crate::identity::Caller;
use crate::store::{ResourceKind, StoreTx};

fn route_not_found(route_id: &str) -> ServiceError {
    ServiceError::NotFound(format!("Invalid Route identifier specified {route_id}"))
}

impl AdminService {
    /// Checks the route key is valid and free, the target names an integration of this
    /// API, and the authorizer one of its authorizers of the kind the route's
    /// authorization type needs.
    async fn check_route(
        &self,
        tx: &mut StoreTx,
        api_id: &str,
        route: &Route,
    ) -> ServiceResult<()> {
        let (route_id, route_key, target) =
            (&route.route_id, &route.route_key, route.target.as_deref());
        let authorizer: Option<Authorizer> = match &route.authorizer_id {
            Some(id) => tx.get(ResourceKind::Authorizer, api_id, id).await?,
            None => None,
        };
        validate_route_authorization(
            &route.authorization_type,
            route.authorizer_id.as_deref(),
            &route.authorization_scopes,
            |id| {
                authorizer
                    .as_ref()
                    .filter(|a| a.authorizer_id == id)
                    .map(|a| a.authorizer_type.clone())
            },
        )?;
        // Two keys conflict when they match exactly the same requests: one indexed
        // lookup by match key (see store::match_key). Looked up before the write rather
        // than read back after a unique violation, because Postgres aborts a transaction
        // at the violation; writers hold the write lock, so nothing slips in between, and
        // the unique index stays the guarantee.
        let key = RouteKey::parse(route_key)?;
        if let Some(other) = tx.route_matching(api_id, &key).await?
            && &other.route_id != route_id
        {
            return Err(ServiceError::Conflict(format!(
                "Route key '{route_key}' conflicts with existing route '{}' ({})",
                other.route_key, other.route_id
            )));
        }
        if let Some(target) = target {
            let integration_id = parse_route_target(target)?;
            let found: Option<Integration> = tx
                .get(ResourceKind::Integration, api_id, integration_id)
                .await?;
            if found.is_none() {
                return Err(ServiceError::BadRequest(format!(
                    "Invalid integration identifier specified {integration_id}: no such integration in API {api_id}"
                )));
            }
        }
        Ok(())
    }

    pub(super) async fn add_route(
        &self,
        tx: &mut StoreTx,
        api_id: &str,
        input: CreateRoute,
    ) -> ServiceResult<Route> {
        let authorization_type = input
            .authorization_type
            .unwrap_or_else(|| AUTHORIZATION_NONE.to_string());
        let route = Route {
            route_id: new_id(7),
            route_key: input.route_key,
            target: input.target,
            authorization_type,
            authorizer_id: input.authorizer_id,
            authorization_scopes: input.authorization_scopes.unwrap_or_default(),
            api_key_required: input.api_key_required.unwrap_or(false),
            operation_name: input.operation_name,
        };
        self.check_route(tx, api_id, &route).await?;
        tx.upsert_route(api_id, &route).await?;
        Ok(route)
    }

    pub async fn create_route(
        &self,
        caller: &Caller,
        api_id: &str,
        input: CreateRoute,
    ) -> ServiceResult<Route> {
        let check = |input: &CreateRoute| Ok(RouteKey::parse(&input.route_key).map(|_| ())?);
        let (route, _) = self
            .change_api(
                caller,
                api_id,
                Effects::REDEPLOY,
                input,
                check,
                async |tx, input| {
                    let route = self.add_route(tx, api_id, input).await?;
                    let id = format!("{api_id}/{}", route.route_id);
                    Ok((route, Change::new("CreateRoute", "route", id)))
                },
            )
            .await?;
        Ok(route)
    }

    pub async fn get_route(
        &self,
        caller: &Caller,
        api_id: &str,
        route_id: &str,
    ) -> ServiceResult<Route> {
        self.read_child(
            caller,
            api_id,
            ResourceKind::Route,
            route_id,
            route_not_found,
        )
        .await
    }

    pub async fn list_routes(
        &self,
        caller: &Caller,
        api_id: &str,
        params: ListParams,
    ) -> ServiceResult<Page<Route>> {
        self.list_children(caller, api_id, ResourceKind::Route, params, |r: &Route| {
            &r.route_id
        })
        .await
    }

    pub async fn update_route(
        &self,
        caller: &Caller,
        api_id: &str,
        route_id: &str,
        input: UpdateRoute,
    ) -> ServiceResult<Route> {
        let check = |input: &UpdateRoute| {
            if let Some(k) = &input.route_key {
                RouteKey::parse(k)?;
            }
            Ok(())
        };
        let (route, _) = self
            .change_api(
                caller,
                api_id,
                Effects::REDEPLOY,
                input,
                check,
                async |tx, input| {
                    let mut route: Route = tx
                        .get(ResourceKind::Route, api_id, route_id)
                        .await?
                        .ok_or_else(|| route_not_found(route_id))?;
                    if let Some(k) = input.route_key {
                        route.route_key = k;
                    }
                    if let Some(t) = input.target {
                        // AWS clears the target with an empty string.
                        route.target = (!t.is_empty()).then_some(t);
                    }
                    if let Some(t) = input.authorization_type {
                        // AWS drops the authorizer and scopes of a route made NONE.
                        if t == AUTHORIZATION_NONE || t == portico_model::AUTHORIZATION_AWS_IAM {
                            route.authorizer_id = None;
                            route.authorization_scopes.clear();
                        }
                        route.authorization_type = t;
                    }
                    if let Some(id) = input.authorizer_id {
                        route.authorizer_id = (!id.is_empty()).then_some(id);
                    }
                    if let Some(scopes) = input.authorization_scopes {
                        route.authorization_scopes = scopes;
                    }
                    if let Some(k) = input.api_key_required {
                        route.api_key_required = k;
                    }
                    if let Some(o) = input.operation_name {
                        route.operation_name = Some(o);
                    }
                    self.check_route(tx, api_id, &route).await?;
                    tx.upsert_route(api_id, &route).await?;
                    let id = format!("{api_id}/{route_id}");
                    Ok((route, Change::new("UpdateRoute", "route", id)))
                },
            )
            .await?;
        Ok(route)
    }

    pub async fn delete_route(
        &self,
        caller: &Caller,
        api_id: &str,
        route_id: &str,
    ) -> ServiceResult<()> {
        self.change_api(
            caller,
            api_id,
            Effects::REDEPLOY,
            (),
            |_| Ok(()),
            async |tx, ()| {
                if !tx.delete(ResourceKind::Route, api_id, route_id).await? {
                    return Err(route_not_found(route_id));
                }
                let id = format!("{api_id}/{route_id}");
                Ok(((), Change::new("DeleteRoute", "route", id)))
            },
        )
        .await?;
        Ok(())
    }
}
