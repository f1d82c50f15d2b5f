//! The one path a change takes: allowed, its input checked before the write lock is
//! taken, written in one transaction with the API it belongs to required, auto-deploy
//! stages redeployed when it affects them, its audit record in the
//! same transaction, announced to the other replicas, and this replica's publisher told.
use super::{AdminService, ServiceResult, allow, now};
use crate::identity::{Caller, Permission};
use crate::store::{AuditRecord, StoreTx};

/// What a change to an API's resources needs done before it commits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Effects {
    /// It changes what auto-deploy stages serve: redeploy them.
    pub redeploy: bool,
}

// The SSRF rule is checked by the writes that can change an upstream, on just what they
// wrote (`check_integration_upstream`, `check_stage_upstreams`): a whole-API check here
// read every integration on each write.
impl Effects {
    pub const NONE: Effects = Effects { redeploy: false };
    pub const REDEPLOY: Effects = Effects { redeploy: true };
}

/// What a committed write did, for the audit log.
pub(crate) struct Change {
    action: &'static str,
    resource_type: &'static str,
    resource_id: String,
}

impl Change {
    pub(crate) fn new(
        action: &'static str,
        resource_type: &'static str,
        resource_id: String,
    ) -> Self {
        Change {
            action,
            resource_type,
            resource_id,
        }
    }
}

/// Writes the audit record of `change` into the transaction that makes it.
pub(super) async fn record(
    tx: &mut StoreTx,
    caller: &Caller,
    change: &Change,
) -> ServiceResult<()> {
    let via = caller.via.to_string();
    tx.insert_audit(&AuditRecord {
        at: &now(),
        actor: &caller.user_name,
        via: &via,
        source: &caller.source,
        action: change.action,
        resource_type: change.resource_type,
        resource_id: &change.resource_id,
    })
    .await?;
    Ok(())
}

impl AdminService {
    /// Changes a resource of API `api_id` with `input`: `check` validates it before the
    /// write lock is taken (bad input should not wait for writers); `change` writes in
    /// the transaction and says what it did. Returns what `change` returned and the
    /// snapshot version the change carries.
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn change_api<I, T>(
        &self,
        caller: &Caller,
        api_id: &str,
        effects: Effects,
        input: I,
        check: impl FnOnce(&I) -> ServiceResult<()>,
        change: impl AsyncFnOnce(&mut StoreTx, I) -> ServiceResult<(T, Change)>,
    ) -> ServiceResult<(T, u64)> {
        allow(caller, Permission::EditApis)?;
        check(&input)?;
        let mut tx = self.store.write_deferred().await?;
        self.require_api(&mut tx, api_id).await?;
        let (value, what) = change(&mut tx, input).await?;
        if effects.redeploy {
            self.auto_deploy(&mut tx, api_id).await?;
        }
        // A change nodes cannot see (a route of an API with no auto-deploy stage, say)
        // keeps the version, so no replica recompiles the snapshot for it.
        let (version, bumped) = tx.settle_version().await?;
        if bumped {
            self.commit(tx, version, caller, what).await?;
        } else {
            self.commit_unversioned(tx, caller, what).await?;
        }
        Ok((value, version))
    }

    /// Records the change in the audit log, commits, and tells this replica's publisher
    /// and (through the store) the others.
    pub(super) async fn commit(
        &self,
        mut tx: StoreTx,
        version: u64,
        caller: &Caller,
        change: Change,
    ) -> ServiceResult<()> {
        record(&mut tx, caller, &change).await?;
        tx.announce(version).await?;
        tx.commit().await?;
        self.publisher.changed();
        Ok(())
    }

    /// Records a change that is not configuration (users, keys, sessions) in the audit
    /// log and commits it; the snapshot version stays as it is.
    pub(super) async fn commit_unversioned(
        &self,
        mut tx: StoreTx,
        caller: &Caller,
        change: Change,
    ) -> ServiceResult<()> {
        record(&mut tx, caller, &change).await?;
        tx.commit().await?;
        Ok(())
    }
}
