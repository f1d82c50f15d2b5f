//! The service layer: every change to the configuration goes through here, whoever asks
//! (REST admin API, console). It validates, writes in one transaction, redeploys
//! auto-deploy stages, bumps the snapshot version and tells the snapshot publisher.
//!
//! One file per resource (`apis`, `routes`, `integrations`, `stages`, `deployments`,
//! `identity`, `nodes`, `test_invoke`, `metrics`, `usage`, `openapi` (export, import and
//! diff), `tags`, `vpc_links`, `settings`), and one per concern they share: `access` (who may
//! do what), `write` (the one path a change takes to its commit), `paging`, `error`,
//! `endpoint` (invoke URLs) and `upstream_policy` (the SSRF rule).
mod access;
mod apis;
mod authorizers;
mod certificates;
mod deployments;
mod domain_names;
mod endpoint;
mod error;
mod identity;
mod integrations;
mod metrics;
mod nodes;
mod openapi;
mod paging;
mod routes;
mod settings;
mod stages;
mod tags;
mod test_invoke;
mod upstream_policy;
mod usage;
mod vpc_links;
mod write;

pub(crate) use access::allow;
pub use certificates::CertificateImport;
pub use endpoint::ExecuteApiEndpoint;
pub use error::{ServiceError, ServiceResult};
pub use identity::{BootstrapCredentials, IdentityContext, bootstrap_admin};
pub use nodes::DEFAULT_NODE_HISTORY_AFTER;
pub use openapi::{ExportRequest, ImportOptions, OutputType};
pub use paging::ListParams;
pub use settings::{EndpointAtStart, SettingsError, settle_execute_api_endpoint};
pub use upstream_policy::UpstreamPolicy;
pub use usage::spawn_usage_tasks;
pub(crate) use write::{Change, Effects};

use portico_model::Page;
use rand::Rng;

use crate::identity::{Caller, Permission};
use crate::snapshot::PublisherHandle;
use crate::store::{Store, StoreTx};
use paging::page;
use write::record;

#[derive(Clone)]
pub struct AdminService {
    store: Store,
    publisher: PublisherHandle,
    identity: IdentityContext,
    upstreams: UpstreamPolicy,
    /// Nodes not seen for this long leave the Nodes list (see `nodes`).
    node_history_after: std::time::Duration,
    /// Sends the Test panel's requests to proxy nodes.
    invoker: reqwest::Client,
    /// Delivers budget alerts to their webhooks.
    webhooks: reqwest::Client,
    /// How many deployments each API keeps (`--keep-deployments`; 0 keeps all).
    keep_deployments: u32,
}

/// `--keep-deployments`' default.
pub const DEFAULT_KEEP_DEPLOYMENTS: u32 = 100;

/// A new identifier in AWS's style: lower-case letters and digits.
pub fn new_id(len: usize) -> String {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let mut rng = rand::rng();
    (0..len)
        .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
        .collect()
}

pub fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

impl AdminService {
    pub fn new(
        store: Store,
        publisher: PublisherHandle,
        identity: IdentityContext,
        upstreams: UpstreamPolicy,
    ) -> Self {
        AdminService {
            store,
            publisher,
            identity,
            upstreams,
            node_history_after: nodes::DEFAULT_NODE_HISTORY_AFTER,
            invoker: reqwest::Client::builder()
                .no_proxy()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap_or_default(),
            webhooks: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .user_agent(concat!("portico/", env!("CARGO_PKG_VERSION")))
                .build()
                .unwrap_or_default(),
            keep_deployments: DEFAULT_KEEP_DEPLOYMENTS,
        }
    }

    /// Nodes not seen for `after` leave the Nodes list (they stay in its history).
    pub fn with_node_history_after(mut self, after: std::time::Duration) -> Self {
        self.node_history_after = after;
        self
    }

    /// Keeps the newest `keep` deployments of each API (and any a stage uses); 0 keeps all.
    pub fn with_keep_deployments(mut self, keep: u32) -> Self {
        self.keep_deployments = keep;
        self
    }

    pub fn identity(&self) -> &IdentityContext {
        &self.identity
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Where clients reach APIs, as the store held it at the newest version this
    /// replica published (the settings are one value for every replica).
    pub fn endpoint(&self) -> ExecuteApiEndpoint {
        self.publisher.execute_api_endpoint()
    }

    /// Reads one resource of an API (the API must exist too).
    pub(super) async fn read_child<T: serde::de::DeserializeOwned>(
        &self,
        caller: &Caller,
        api_id: &str,
        kind: crate::store::ResourceKind,
        key: &str,
        not_found: fn(&str) -> ServiceError,
    ) -> ServiceResult<T> {
        allow(caller, Permission::Read)?;
        let mut tx = self.store.read().await?;
        self.require_api(&mut tx, api_id).await?;
        tx.get(kind, api_id, key)
            .await?
            .ok_or_else(|| not_found(key))
    }

    /// One page of an API's resources of one kind (the API must exist).
    pub(super) async fn list_children<T: serde::de::DeserializeOwned>(
        &self,
        caller: &Caller,
        api_id: &str,
        kind: crate::store::ResourceKind,
        params: ListParams,
        key: impl Fn(&T) -> &str,
    ) -> ServiceResult<Page<T>> {
        allow(caller, Permission::Read)?;
        let limit = params.limit()?;
        let after = params.after()?;
        let mut tx = self.store.read().await?;
        self.require_api(&mut tx, api_id).await?;
        let items = tx.list(kind, api_id, after.as_deref(), limit + 1).await?;
        Ok(page(items, limit, key))
    }

    /// Refuses integrations that any stage of the API would render into a forbidden
    /// upstream (see `UpstreamPolicy`): every integration against every stage, for writes
    /// that replace many at once (an import).
    pub(super) async fn check_upstreams(
        &self,
        tx: &mut StoreTx,
        api_id: &str,
    ) -> ServiceResult<()> {
        use crate::store::ResourceKind;
        let integrations: Vec<portico_model::Integration> =
            tx.all(ResourceKind::Integration, api_id).await?;
        let stages: Vec<portico_model::Stage> = tx.all(ResourceKind::Stage, api_id).await?;
        self.upstreams.check_api(&integrations, &stages)?;
        Ok(())
    }

    /// The same rule for one integration written: against the API's stages (a handful,
    /// whatever the API's size), not every other integration again.
    pub(super) async fn check_integration_upstream(
        &self,
        tx: &mut StoreTx,
        api_id: &str,
        integration: &portico_model::Integration,
    ) -> ServiceResult<()> {
        use crate::store::ResourceKind;
        let stages: Vec<portico_model::Stage> = tx.all(ResourceKind::Stage, api_id).await?;
        self.upstreams
            .check_api(std::slice::from_ref(integration), &stages)?;
        Ok(())
    }

    /// The same rule for one stage written: only integrations whose URI names a stage
    /// variable can render differently under it, and only this stage changed.
    pub(super) async fn check_stage_upstreams(
        &self,
        tx: &mut StoreTx,
        api_id: &str,
        stage: &portico_model::Stage,
    ) -> ServiceResult<()> {
        let integrations = tx.integrations_using_stage_variables(api_id).await?;
        self.upstreams
            .check_api(&integrations, std::slice::from_ref(stage))?;
        Ok(())
    }
}
