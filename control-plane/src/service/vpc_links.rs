//! VPC links in AWS's shape (`CreateVpcLink`, `GetVpcLink(s)`, `UpdateVpcLink`,
//! `DeleteVpcLink`: "Working with VPC links for HTTP APIs",
//! https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-vpc-links.html),
//! and the private targets behind each, which AWS keeps in a load balancer or Cloud Map
//! and Portico keeps itself (`/portico/vpclinks/{id}/targets`), with their health as
//! every connected node reports it.
//!
//! A link is AVAILABLE as soon as it is created: nodes can use it from the snapshot that
//! carries it, and one without targets answers 503.
use portico_data_plane::config::tls;
use portico_model::{
    CONNECTION_VPC_LINK, CreateVpcLink, Integration, Page, PutVpcLinkTargets, UpdateVpcLink,
    VPC_LINK_AVAILABLE, VPC_LINK_READY_MESSAGE, VPC_LINK_VERSION, VpcLink, VpcLinkTargets,
    VpcLinkTargetsView, validate_create_vpc_link, validate_tags, validate_vpc_link_name,
    validate_vpc_link_targets,
};
use x509_parser::prelude::{FromDer, X509Certificate};

use super::paging::page;
use super::{AdminService, Change, ListParams, ServiceError, ServiceResult, allow, new_id, now};
use crate::identity::{Caller, Permission};
use crate::store::{StoreTx, VpcLinkUser};

/// AWS's words for an unknown link.
pub(super) fn vpc_link_not_found(id: &str) -> ServiceError {
    ServiceError::NotFound(format!("Invalid VPC link identifier specified {id}"))
}

/// Refuses private integrations whose link does not exist. The integration is the bad
/// input, so this is a 400 on `connectionId`, in AWS's words for an unknown link.
pub(super) async fn require_vpc_links<'a>(
    tx: &mut StoreTx,
    integrations: impl IntoIterator<Item = &'a Integration>,
) -> ServiceResult<()> {
    // An import may name one link from thousands of integrations: look each up once.
    let ids: std::collections::BTreeSet<&str> = integrations
        .into_iter()
        .filter(|i| i.connection_type == CONNECTION_VPC_LINK)
        .map(|i| i.connection_id.as_deref().unwrap_or_default())
        .collect();
    for id in ids {
        if id.is_empty() || tx.get_vpc_link(id).await?.is_none() {
            return Err(ServiceError::invalid(
                "connectionId",
                format!("Invalid VPC link identifier specified {id}"),
            ));
        }
    }
    Ok(())
}

/// Parses a CA bundle as X.509 certificates nodes can trust, beyond the model's check
/// that it looks like PEM.
fn check_ca_bundle(pem: &str) -> ServiceResult<()> {
    let bad = |why: String| ServiceError::invalid("caBundlePem", why);
    let certs = tls::certificates(pem).map_err(|e| bad(format!("Invalid caBundlePem: {e}")))?;
    for (i, der) in certs.iter().enumerate() {
        X509Certificate::from_der(der).map_err(|e| {
            bad(format!(
                "Invalid caBundlePem: certificate {} is not valid X.509: {e}",
                i + 1
            ))
        })?;
    }
    tls::client_roots(pem).map_err(|e| bad(format!("Invalid caBundlePem: {e}")))?;
    Ok(())
}

fn describe(users: &[VpcLinkUser]) -> String {
    users
        .iter()
        .map(|u| match &u.deployment_id {
            None => format!("integration {} of API {}", u.integration_id, u.api_id),
            Some(d) => format!(
                "integration {} of API {} (deployment {d}, which a stage serves)",
                u.integration_id, u.api_id
            ),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

impl AdminService {
    pub async fn create_vpc_link(
        &self,
        caller: &Caller,
        input: CreateVpcLink,
    ) -> ServiceResult<VpcLink> {
        allow(caller, Permission::EditApis)?;
        let (name, subnet_ids, security_group_ids) = validate_create_vpc_link(&input)?;
        let tags = input.tags.unwrap_or_default();
        validate_tags(&tags)?;
        let link = VpcLink {
            vpc_link_id: new_id(6),
            name,
            subnet_ids,
            security_group_ids,
            tags,
            created_date: now(),
            vpc_link_status: VPC_LINK_AVAILABLE.into(),
            vpc_link_status_message: VPC_LINK_READY_MESSAGE.into(),
            vpc_link_version: VPC_LINK_VERSION.into(),
        };
        let (mut tx, version) = self.store.write().await?;
        tx.insert_vpc_link(&link).await?;
        let change = Change::new("CreateVpcLink", "vpclink", link.vpc_link_id.clone());
        self.commit(tx, version, caller, change).await?;
        Ok(link)
    }

    pub async fn get_vpc_link(&self, caller: &Caller, id: &str) -> ServiceResult<VpcLink> {
        allow(caller, Permission::Read)?;
        let mut tx = self.store.read().await?;
        tx.get_vpc_link(id)
            .await?
            .ok_or_else(|| vpc_link_not_found(id))
    }

    pub async fn list_vpc_links(
        &self,
        caller: &Caller,
        params: ListParams,
    ) -> ServiceResult<Page<VpcLink>> {
        allow(caller, Permission::Read)?;
        let limit = params.limit()?;
        let after = params.after()?;
        let mut tx = self.store.read().await?;
        let items = tx.list_vpc_links(after.as_deref(), limit + 1).await?;
        Ok(page(items, limit, |l: &VpcLink| &l.vpc_link_id))
    }

    /// AWS's UpdateVpcLink changes the name only.
    pub async fn update_vpc_link(
        &self,
        caller: &Caller,
        id: &str,
        input: UpdateVpcLink,
    ) -> ServiceResult<VpcLink> {
        allow(caller, Permission::EditApis)?;
        if let Some(name) = &input.name {
            validate_vpc_link_name(name)?;
        }
        // The name is not in the snapshot: nodes have nothing new to be sent.
        let mut tx = self.store.write_unversioned().await?;
        let mut link = tx
            .get_vpc_link(id)
            .await?
            .ok_or_else(|| vpc_link_not_found(id))?;
        if let Some(name) = input.name {
            link.name = name;
        }
        tx.update_vpc_link(&link).await?;
        let change = Change::new("UpdateVpcLink", "vpclink", id.to_string());
        self.commit_unversioned(tx, caller, change).await?;
        Ok(link)
    }

    /// Refused while any integration uses the link, current or frozen in a deployment a
    /// stage serves, as AWS refuses to delete a link in use. Takes the link's targets and
    /// health rows with it.
    pub async fn delete_vpc_link(&self, caller: &Caller, id: &str) -> ServiceResult<()> {
        allow(caller, Permission::EditApis)?;
        let (mut tx, version) = self.store.write().await?;
        if tx.get_vpc_link(id).await?.is_none() {
            return Err(vpc_link_not_found(id));
        }
        let users = tx.vpc_link_users(id).await?;
        if !users.is_empty() {
            return Err(ServiceError::Conflict(format!(
                "VPC link {id} is in use by {}; point them elsewhere (and redeploy) first",
                describe(&users)
            )));
        }
        tx.delete_vpc_link(id).await?;
        let change = Change::new("DeleteVpcLink", "vpclink", id.to_string());
        self.commit(tx, version, caller, change).await
    }

    /// Replaces the link's targets and how nodes check and balance them. Every stage
    /// whose integrations use the link reaches the new targets at the next snapshot.
    pub async fn put_vpc_link_targets(
        &self,
        caller: &Caller,
        id: &str,
        input: PutVpcLinkTargets,
    ) -> ServiceResult<VpcLinkTargetsView> {
        allow(caller, Permission::EditApis)?;
        let targets = validate_vpc_link_targets(&input)?;
        for t in &targets.targets {
            self.upstreams.check_target(&t.address)?;
        }
        if let Some(pem) = &targets.ca_bundle_pem {
            check_ca_bundle(pem)?;
        }
        let (mut tx, version) = self.store.write().await?;
        if !tx.put_vpc_link_targets(id, &targets).await? {
            return Err(vpc_link_not_found(id));
        }
        let change = Change::new("PutVpcLinkTargets", "vpclink", id.to_string());
        self.commit(tx, version, caller, change).await?;
        self.targets_view(id, targets).await
    }

    /// The link's targets (the defaults and none, before the first PUT) and their health
    /// as every connected node last reported it.
    pub async fn get_vpc_link_targets(
        &self,
        caller: &Caller,
        id: &str,
    ) -> ServiceResult<VpcLinkTargetsView> {
        allow(caller, Permission::Read)?;
        let mut tx = self.store.read().await?;
        let targets = tx
            .get_vpc_link_targets(id)
            .await?
            .ok_or_else(|| vpc_link_not_found(id))?
            .unwrap_or_default();
        drop(tx);
        self.targets_view(id, targets).await
    }

    async fn targets_view(
        &self,
        id: &str,
        config: VpcLinkTargets,
    ) -> ServiceResult<VpcLinkTargetsView> {
        let connected: std::collections::BTreeSet<String> = self
            .nodes()
            .await?
            .into_iter()
            .filter(|n| n.connected)
            .map(|n| n.node_id)
            .collect();
        let health = self
            .store
            .target_health(id)
            .await?
            .into_iter()
            .filter(|h| connected.contains(&h.node_id))
            .collect();
        Ok(VpcLinkTargetsView {
            vpc_link_id: id.to_string(),
            config,
            health,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ca_bundles_must_be_real_certificates() {
        let key = rcgen::KeyPair::generate().expect("key");
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).expect("params");
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        let ca = params.self_signed(&key).expect("ca");
        check_ca_bundle(&ca.pem()).expect("a CA certificate");
        let garbage =
            "-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n";
        let e = check_ca_bundle(garbage).expect_err("not X.509");
        let ServiceError::Invalid(v) = e else {
            panic!("{e:?}")
        };
        assert_eq!(v.field, "caBundlePem");
    }
}
