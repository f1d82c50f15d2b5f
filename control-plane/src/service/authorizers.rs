//! JWT and Lambda (REQUEST) authorizers of an API. A change to one changes what every
//! route guarded by it checks, so auto-deploy stages are redeployed; one still named by a
//! route can't be deleted.
use portico_model::{
    Authorizer, CreateAuthorizer, Page, Route, UpdateAuthorizer, validate_authorizer,
};

use super::{AdminService, Change, Effects, ListParams, ServiceError, ServiceResult, new_id};
use crate::identity::Caller;
use crate::store::{ResourceKind, StoreTx};

fn authorizer_not_found(id: &str) -> ServiceError {
    ServiceError::NotFound(format!("Invalid Authorizer identifier specified {id}"))
}

impl AdminService {
    pub async fn create_authorizer(
        &self,
        caller: &Caller,
        api_id: &str,
        input: CreateAuthorizer,
    ) -> ServiceResult<Authorizer> {
        // A new authorizer guards nothing until a route names it, as with integrations.
        let check =
            |input: &CreateAuthorizer| Ok(validate_authorizer(String::new(), input).map(|_| ())?);
        let (authorizer, _) = self
            .change_api(
                caller,
                api_id,
                Effects::NONE,
                input,
                check,
                async |tx, input| {
                    let authorizer = validate_authorizer(new_id(6), &input)?;
                    tx.upsert_authorizer(api_id, &authorizer).await?;
                    let id = format!("{api_id}/{}", authorizer.authorizer_id);
                    Ok((
                        authorizer,
                        Change::new("CreateAuthorizer", "authorizer", id),
                    ))
                },
            )
            .await?;
        Ok(authorizer)
    }

    pub async fn get_authorizer(
        &self,
        caller: &Caller,
        api_id: &str,
        id: &str,
    ) -> ServiceResult<Authorizer> {
        self.read_child(
            caller,
            api_id,
            ResourceKind::Authorizer,
            id,
            authorizer_not_found,
        )
        .await
    }

    pub async fn list_authorizers(
        &self,
        caller: &Caller,
        api_id: &str,
        params: ListParams,
    ) -> ServiceResult<Page<Authorizer>> {
        self.list_children(
            caller,
            api_id,
            ResourceKind::Authorizer,
            params,
            |a: &Authorizer| &a.authorizer_id,
        )
        .await
    }

    pub async fn update_authorizer(
        &self,
        caller: &Caller,
        api_id: &str,
        id: &str,
        input: UpdateAuthorizer,
    ) -> ServiceResult<Authorizer> {
        let (authorizer, _) = self
            .change_api(
                caller,
                api_id,
                Effects::REDEPLOY,
                input,
                |_| Ok(()),
                async |tx, input| {
                    let current: Authorizer = tx
                        .get(ResourceKind::Authorizer, api_id, id)
                        .await?
                        .ok_or_else(|| authorizer_not_found(id))?;
                    let was = current.authorizer_type.clone();
                    let authorizer = validate_authorizer(id.to_string(), &input.merge(current))?;
                    if authorizer.authorizer_type != was {
                        refuse_while_used(
                            tx,
                            api_id,
                            id,
                            "its type can't change while they use it",
                        )
                        .await?;
                    }
                    tx.upsert_authorizer(api_id, &authorizer).await?;
                    let change =
                        Change::new("UpdateAuthorizer", "authorizer", format!("{api_id}/{id}"));
                    Ok((authorizer, change))
                },
            )
            .await?;
        Ok(authorizer)
    }

    pub async fn delete_authorizer(
        &self,
        caller: &Caller,
        api_id: &str,
        id: &str,
    ) -> ServiceResult<()> {
        // Deployments freeze every authorizer: redeploy so auto-deploy stages drop it.
        self.change_api(
            caller,
            api_id,
            Effects::REDEPLOY,
            (),
            |_| Ok(()),
            async |tx, ()| {
                refuse_while_used(tx, api_id, id, "change or delete them first").await?;
                if !tx.delete(ResourceKind::Authorizer, api_id, id).await? {
                    return Err(authorizer_not_found(id));
                }
                let change =
                    Change::new("DeleteAuthorizer", "authorizer", format!("{api_id}/{id}"));
                Ok(((), change))
            },
        )
        .await?;
        Ok(())
    }
}

/// A Conflict naming the routes that `authorizer_id` guards, if any; `what` says what
/// the user should do about them.
async fn refuse_while_used(
    tx: &mut StoreTx,
    api_id: &str,
    authorizer_id: &str,
    what: &str,
) -> ServiceResult<()> {
    let routes: Vec<Route> = tx.all(ResourceKind::Route, api_id).await?;
    let users: Vec<&str> = routes
        .iter()
        .filter(|r| r.authorizer_id.as_deref() == Some(authorizer_id))
        .map(|r| r.route_key.as_str())
        .collect();
    if users.is_empty() {
        return Ok(());
    }
    Err(ServiceError::Conflict(format!(
        "Authorizer {authorizer_id} guards route(s) {}; {what}",
        users.join(", ")
    )))
}
