//! The service layer: every change to the configuration goes through here, whoever asks
//! (REST admin API, console). It validates, writes in one transaction, redeploys
//! auto-deploy stages, bumps the snapshot version and tells the snapshot publisher.
mod apis;
mod deployments;
mod identity;
mod integrations;
mod routes;
mod stages;
mod test_invoke;
mod upstream_policy;

pub use identity::{BootstrapCredentials, bootstrap_admin};
pub use upstream_policy::UpstreamPolicy;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use portico_model::{Page, ValidationError};
use rand::Rng;

use crate::identity::{Caller, LoginThrottle, MasterKey, PasswordHasher, Permission, SessionKeys};
use crate::snapshot::PublisherHandle;
use crate::store::{AuditRecord, Store, StoreError, StoreTx};

#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error(transparent)]
    Invalid(#[from] ValidationError),
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    /// The caller may not do this (AWS: AccessDeniedException).
    #[error("{0}")]
    Forbidden(String),
    /// Wrong user name or password.
    #[error("{0}")]
    Unauthorized(String),
    #[error("{message}")]
    TooManyRequests {
        message: String,
        retry_after: std::time::Duration,
    },
    /// Something the call needs is not there to ask (no proxy node connected, say).
    #[error("{0}")]
    Unavailable(String),
    #[error(transparent)]
    Store(StoreError),
}

/// Refuses the call unless the caller's role allows `permission`.
pub(crate) fn allow(caller: &Caller, permission: Permission) -> ServiceResult<()> {
    if caller.can(permission) {
        return Ok(());
    }
    let what = match permission {
        Permission::Read => "read the configuration",
        Permission::EditApis => "change APIs",
        Permission::ManageIdentity => "manage users and access keys",
    };
    Err(ServiceError::Forbidden(format!(
        "User {} (role {}) is not authorized to {what}",
        caller.user_name,
        caller.role.as_str()
    )))
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

impl From<StoreError> for ServiceError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Unique(c) if c.contains("route_key") => {
                ServiceError::Conflict("A route with this routeKey already exists".into())
            }
            StoreError::Unique(_) => {
                ServiceError::Conflict("A resource with this identifier already exists".into())
            }
            other => ServiceError::Store(other),
        }
    }
}

pub type ServiceResult<T> = Result<T, ServiceError>;

/// Where clients reach an API: `{scheme}://{apiId}.{domain}[:{port}]`, AWS's
/// `https://{apiId}.execute-api.{region}.amazonaws.com` on the user's own machines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecuteApiEndpoint {
    pub scheme: String,
    pub domain: String,
    pub port: Option<u16>,
}

impl ExecuteApiEndpoint {
    /// Parses `http://execute-api.localhost:8000`.
    pub fn parse(url: &str) -> Result<Self, String> {
        let (scheme, rest) = url.split_once("://").ok_or_else(|| {
            format!("'{url}' is not a URL like http://execute-api.localhost:8000")
        })?;
        if scheme != "http" && scheme != "https" {
            return Err(format!("'{url}': scheme must be http or https"));
        }
        let rest = rest.trim_end_matches('/');
        if rest.is_empty() || rest.contains('/') {
            return Err(format!(
                "'{url}' must be scheme://domain[:port] with no path"
            ));
        }
        let (domain, port) = match rest.rsplit_once(':') {
            Some((d, p)) => (
                d,
                Some(
                    p.parse::<u16>()
                        .map_err(|_| format!("'{url}': bad port '{p}'"))?,
                ),
            ),
            None => (rest, None),
        };
        Ok(ExecuteApiEndpoint {
            scheme: scheme.to_string(),
            domain: domain.to_ascii_lowercase(),
            port,
        })
    }

    pub fn for_api(&self, api_id: &str) -> String {
        match self.port {
            Some(p) => format!("{}://{api_id}.{}:{p}", self.scheme, self.domain),
            None => format!("{}://{api_id}.{}", self.scheme, self.domain),
        }
    }
}

/// What the identity side of the service needs, shared by every clone.
#[derive(Clone)]
pub struct IdentityContext {
    pub master_key: MasterKey,
    pub hasher: PasswordHasher,
    pub sessions: SessionKeys,
    pub throttle: std::sync::Arc<LoginThrottle>,
    pub session_ttl: chrono::TimeDelta,
}

impl IdentityContext {
    pub fn new(master_key: MasterKey) -> Self {
        IdentityContext {
            sessions: SessionKeys::new(&master_key),
            master_key,
            hasher: PasswordHasher::new(),
            throttle: std::sync::Arc::new(LoginThrottle::new()),
            session_ttl: chrono::TimeDelta::hours(12),
        }
    }
}

#[derive(Clone)]
pub struct AdminService {
    store: Store,
    publisher: PublisherHandle,
    endpoint: ExecuteApiEndpoint,
    identity: IdentityContext,
    upstreams: UpstreamPolicy,
    /// Sends the Test panel's requests to proxy nodes.
    invoker: reqwest::Client,
}

/// `maxResults` / `nextToken` of a list call.
#[derive(Debug, Clone, Default)]
pub struct ListParams {
    pub max_results: Option<u32>,
    pub next_token: Option<String>,
}

const DEFAULT_PAGE: u32 = 100;
/// Three missed node-session heartbeats (see `grpc::node_session`).
const NODE_STALE_AFTER: chrono::TimeDelta = chrono::TimeDelta::seconds(30);
const MAX_PAGE: u32 = 500;

impl ListParams {
    fn limit(&self) -> ServiceResult<u32> {
        match self.max_results {
            None => Ok(DEFAULT_PAGE),
            Some(n) if (1..=MAX_PAGE).contains(&n) => Ok(n),
            Some(n) => Err(ServiceError::BadRequest(format!(
                "maxResults must be between 1 and {MAX_PAGE}, got {n}"
            ))),
        }
    }

    /// The key after which the page starts.
    fn after(&self) -> ServiceResult<Option<String>> {
        let Some(token) = &self.next_token else {
            return Ok(None);
        };
        URL_SAFE_NO_PAD
            .decode(token)
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
            .map(Some)
            .ok_or_else(|| ServiceError::BadRequest("Invalid nextToken".into()))
    }
}

/// Builds a page from `limit + 1` fetched items: the extra one only says there is more.
fn page<T>(mut items: Vec<T>, limit: u32, key: impl Fn(&T) -> &str) -> Page<T> {
    let next_token = if items.len() > limit as usize {
        items.truncate(limit as usize);
        items.last().map(|last| URL_SAFE_NO_PAD.encode(key(last)))
    } else {
        None
    };
    Page { items, next_token }
}

/// Writes the audit record of `change` into the transaction that makes it.
async fn record(tx: &mut StoreTx, caller: &Caller, change: &Change) -> ServiceResult<()> {
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
        endpoint: ExecuteApiEndpoint,
        identity: IdentityContext,
        upstreams: UpstreamPolicy,
    ) -> Self {
        AdminService {
            store,
            publisher,
            endpoint,
            identity,
            upstreams,
            invoker: reqwest::Client::builder()
                .no_proxy()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap_or_default(),
        }
    }

    pub fn identity(&self) -> &IdentityContext {
        &self.identity
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    pub fn endpoint(&self) -> &ExecuteApiEndpoint {
        &self.endpoint
    }

    /// Records the change in the audit log, commits, and tells this replica's publisher
    /// and (through the store) the others.
    async fn commit(
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
    async fn commit_unversioned(
        &self,
        mut tx: StoreTx,
        caller: &Caller,
        change: Change,
    ) -> ServiceResult<()> {
        record(&mut tx, caller, &change).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Reads one resource of an API (the API must exist too).
    async fn read_child<T: serde::de::DeserializeOwned>(
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
    async fn list_children<T: serde::de::DeserializeOwned>(
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
    /// upstream (see `UpstreamPolicy`).
    async fn check_upstreams(&self, tx: &mut StoreTx, api_id: &str) -> ServiceResult<()> {
        use crate::store::ResourceKind;
        let integrations: Vec<portico_model::Integration> =
            tx.all(ResourceKind::Integration, api_id).await?;
        let stages: Vec<portico_model::Stage> = tx.all(ResourceKind::Stage, api_id).await?;
        self.upstreams.check_api(&integrations, &stages)?;
        Ok(())
    }

    pub async fn list_nodes(&self, caller: &Caller) -> ServiceResult<portico_model::NodeList> {
        allow(caller, Permission::Read)?;
        let mut items = self.store.list_nodes().await?;
        // A replica that died could not record its nodes' disconnection; a node whose
        // replica has not refreshed it for three heartbeats is not connected.
        let stale_before = chrono::Utc::now() - NODE_STALE_AFTER;
        for node in &mut items {
            let fresh = chrono::DateTime::parse_from_rfc3339(&node.last_seen)
                .is_ok_and(|seen| seen >= stale_before);
            node.connected &= fresh;
        }
        Ok(portico_model::NodeList {
            items,
            current_version: self.store.snapshot_version().await?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn execute_api_endpoint() {
        let e = ExecuteApiEndpoint::parse("http://execute-api.localhost:8000").unwrap();
        assert_eq!(e.for_api("abc"), "http://abc.execute-api.localhost:8000");
        let e = ExecuteApiEndpoint::parse("https://API.example.com/").unwrap();
        assert_eq!(e.for_api("abc"), "https://abc.api.example.com");
        assert!(ExecuteApiEndpoint::parse("example.com").is_err());
        assert!(ExecuteApiEndpoint::parse("http://h/x").is_err());
        assert!(ExecuteApiEndpoint::parse("http://h:x").is_err());
    }

    #[test]
    fn pages_carry_a_token_only_when_more_exist() {
        let p = page(vec!["a", "b", "c"], 2, |s| s);
        assert_eq!(p.items, vec!["a", "b"]);
        let params = ListParams {
            max_results: None,
            next_token: p.next_token.clone(),
        };
        assert_eq!(params.after().unwrap().as_deref(), Some("b"));
        let p = page(vec!["a", "b"], 2, |s| s);
        assert!(p.next_token.is_none());
        let bad = ListParams {
            max_results: None,
            next_token: Some("!!".into()),
        };
        assert!(bad.after().is_err());
    }
}
