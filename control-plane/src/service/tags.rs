//! TagResource, UntagResource and GetTags on what AWS lets HTTP APIs tag: APIs, stages,
//! custom domain names and VPC links, named by their ARNs (`portico_model::TaggedResource`).
use std::collections::BTreeMap;

use portico_model::{Stage, TaggedResource, validate_tag_key, validate_tags};

use super::{AdminService, Change, ServiceError, ServiceResult, allow};
use crate::identity::{Caller, Permission};
use crate::store::{ResourceKind, StoreTx};

fn not_found(arn: &str) -> ServiceError {
    ServiceError::NotFound(format!(
        "Invalid resource ARN specified {arn}: no such resource"
    ))
}

/// A tagged resource as read in a transaction, to be written back with new tags.
enum Tagged {
    Api(portico_model::Api),
    Stage(String, Stage),
    DomainName(portico_model::DomainName),
    VpcLink(portico_model::VpcLink),
}

impl Tagged {
    fn tags_mut(&mut self) -> &mut BTreeMap<String, String> {
        match self {
            Tagged::Api(a) => &mut a.tags,
            Tagged::Stage(_, s) => &mut s.tags,
            Tagged::DomainName(d) => &mut d.tags,
            Tagged::VpcLink(l) => &mut l.tags,
        }
    }
}

async fn load(tx: &mut StoreTx, arn: &str) -> ServiceResult<Tagged> {
    let resource = TaggedResource::parse_arn(arn)?;
    let found = match resource {
        TaggedResource::Api { api_id } => tx.get_api(&api_id).await?.map(Tagged::Api),
        TaggedResource::Stage { api_id, stage_name } => tx
            .get::<Stage>(ResourceKind::Stage, &api_id, &stage_name)
            .await?
            .map(|s| Tagged::Stage(api_id, s)),
        TaggedResource::DomainName { domain_name } => tx
            .get_domain_name(&domain_name.to_ascii_lowercase())
            .await?
            .map(Tagged::DomainName),
        TaggedResource::VpcLink { vpc_link_id } => {
            tx.get_vpc_link(&vpc_link_id).await?.map(Tagged::VpcLink)
        }
    };
    found.ok_or_else(|| not_found(arn))
}

async fn store(tx: &mut StoreTx, tagged: &Tagged) -> ServiceResult<()> {
    match tagged {
        Tagged::Api(a) => tx.update_api(a).await?,
        Tagged::Stage(api_id, s) => tx.update_stage(api_id, s).await?,
        Tagged::DomainName(d) => tx.update_domain_name(d).await?,
        Tagged::VpcLink(l) => {
            tx.update_vpc_link(l).await?;
        }
    }
    Ok(())
}

impl AdminService {
    pub async fn get_tags(
        &self,
        caller: &Caller,
        arn: &str,
    ) -> ServiceResult<BTreeMap<String, String>> {
        allow(caller, Permission::Read)?;
        let mut tx = self.store.read().await?;
        let mut tagged = load(&mut tx, arn).await?;
        Ok(std::mem::take(tagged.tags_mut()))
    }

    /// Adds `tags`, replacing the values of keys the resource already has.
    pub async fn tag_resource(
        &self,
        caller: &Caller,
        arn: &str,
        tags: BTreeMap<String, String>,
    ) -> ServiceResult<()> {
        allow(caller, Permission::EditApis)?;
        TaggedResource::parse_arn(arn)?;
        validate_tags(&tags)?;
        let (mut tx, version) = self.store.write().await?;
        let mut tagged = load(&mut tx, arn).await?;
        tagged.tags_mut().extend(tags);
        validate_tags(tagged.tags_mut())?;
        store(&mut tx, &tagged).await?;
        let change = Change::new("TagResource", "tags", arn.to_string());
        self.commit(tx, version, caller, change).await
    }

    /// Removes the keys; a key the resource does not have is no error, as on AWS.
    pub async fn untag_resource(
        &self,
        caller: &Caller,
        arn: &str,
        keys: &[String],
    ) -> ServiceResult<()> {
        allow(caller, Permission::EditApis)?;
        TaggedResource::parse_arn(arn)?;
        if keys.is_empty() {
            return Err(ServiceError::invalid(
                "tagKeys",
                "tagKeys is required: the keys of the tags to remove",
            ));
        }
        for key in keys {
            validate_tag_key(key).map_err(|e| ServiceError::invalid("tagKeys", e.message))?;
        }
        let (mut tx, version) = self.store.write().await?;
        let mut tagged = load(&mut tx, arn).await?;
        for key in keys {
            tagged.tags_mut().remove(key);
        }
        store(&mut tx, &tagged).await?;
        let change = Change::new("UntagResource", "tags", arn.to_string());
        self.commit(tx, version, caller, change).await
    }
}
