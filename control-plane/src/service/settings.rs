//! Cluster settings: values that shape the snapshot, so one value for every replica,
//! kept in the store. Today the execute-api endpoint: the domain nodes route
//! `{apiId}.{domain}` on, and the `apiEndpoint` every API answer carries.
use portico_model::{ClusterSettings, UpdateClusterSettings};

use super::{AdminService, Change, ExecuteApiEndpoint, ServiceError, ServiceResult, allow, now};
use crate::identity::{Caller, Permission};
use crate::store::{EXECUTE_API_ENDPOINT, Store, StoreError};

/// What a replica's `--execute-api-endpoint` means for the store at start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EndpointAtStart {
    /// `portico serve`: the flag (or, without it, the default) seeds a store that holds
    /// none; a store holding another value refuses the start, so that two replicas can
    /// never publish different domains under one version.
    Seed(Option<ExecuteApiEndpoint>),
    /// `portico up`: one process owns its store, so its flag (or the default made from
    /// its proxy port) is written over whatever is stored.
    Own(ExecuteApiEndpoint),
}

#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(
        "--execute-api-endpoint is {flag}, but the store holds {stored} (seeded by another \
         replica or an earlier start). Every replica serves the stored value: start without \
         the flag to use it, or change it with `PATCH /portico/settings` \
         {{\"executeApiEndpoint\": \"{flag}\"}} (or the console's Nodes page) and start again"
    )]
    Disagrees { flag: String, stored: String },
    #[error(
        "the stored execute-api endpoint is not usable ({0}); set it again with --execute-api-endpoint under `portico up` or PATCH /portico/settings"
    )]
    Corrupt(String),
}

/// Applies the start rule (see `EndpointAtStart`) and returns the endpoint this replica
/// serves until the store says otherwise.
pub async fn settle_execute_api_endpoint(
    store: &Store,
    flag: EndpointAtStart,
) -> Result<ExecuteApiEndpoint, SettingsError> {
    let stored = store.setting(EXECUTE_API_ENDPOINT).await?;
    let parse_stored = |v: &str| ExecuteApiEndpoint::parse(v).map_err(SettingsError::Corrupt);
    match (flag, stored) {
        (EndpointAtStart::Seed(None), Some(stored)) => parse_stored(&stored),
        (EndpointAtStart::Seed(Some(flag)), Some(stored)) => {
            let stored = parse_stored(&stored)?;
            disagree_unless_equal(flag, stored)
        }
        (EndpointAtStart::Own(wanted), Some(stored)) if stored == wanted.url() => Ok(wanted),
        (EndpointAtStart::Own(wanted), _) => {
            // A versioned write: running publishers (none, for `up`) see the new domain.
            let (mut tx, version) = store.write().await?;
            tx.put_setting(EXECUTE_API_ENDPOINT, &wanted.url(), &now())
                .await?;
            tx.announce(version).await?;
            tx.commit().await?;
            Ok(wanted)
        }
        (EndpointAtStart::Seed(flag), None) => {
            let wanted = match flag {
                Some(flag) => flag,
                None => ExecuteApiEndpoint::from_stored(None).map_err(SettingsError::Corrupt)?,
            };
            let (mut tx, version) = store.write().await?;
            let held = tx
                .seed_setting(EXECUTE_API_ENDPOINT, &wanted.url(), &now())
                .await?;
            tx.announce(version).await?;
            tx.commit().await?;
            // Another replica seeding at the same moment may have won.
            disagree_unless_equal(wanted, parse_stored(&held)?)
        }
    }
}

fn disagree_unless_equal(
    flag: ExecuteApiEndpoint,
    stored: ExecuteApiEndpoint,
) -> Result<ExecuteApiEndpoint, SettingsError> {
    if flag == stored {
        Ok(stored)
    } else {
        Err(SettingsError::Disagrees {
            flag: flag.url(),
            stored: stored.url(),
        })
    }
}

impl AdminService {
    /// `GET /portico/settings`, read from the store (not this replica's copy).
    pub async fn get_settings(&self, caller: &Caller) -> ServiceResult<ClusterSettings> {
        allow(caller, Permission::Read)?;
        // As stored (always written in `ExecuteApiEndpoint::url`'s spelling), so that
        // even a value damaged behind Portico's back is shown to be fixed.
        let stored = self.store.setting(EXECUTE_API_ENDPOINT).await?;
        Ok(ClusterSettings {
            execute_api_endpoint: stored.unwrap_or_else(|| ExecuteApiEndpoint::DEFAULT.into()),
        })
    }

    /// `PATCH /portico/settings`: a versioned write, so every replica republishes and
    /// every node receives the new domain.
    pub async fn update_settings(
        &self,
        caller: &Caller,
        input: UpdateClusterSettings,
    ) -> ServiceResult<ClusterSettings> {
        allow(caller, Permission::ManageCluster)?;
        let Some(url) = input.execute_api_endpoint else {
            return self.get_settings(caller).await;
        };
        let endpoint = ExecuteApiEndpoint::parse(&url).map_err(|e| {
            ServiceError::invalid(
                "executeApiEndpoint",
                format!("Invalid executeApiEndpoint: {e}"),
            )
        })?;
        let (mut tx, version) = self.store.write().await?;
        tx.put_setting(EXECUTE_API_ENDPOINT, &endpoint.url(), &now())
            .await?;
        let change = Change::new(
            "UpdateSettings",
            "Settings",
            EXECUTE_API_ENDPOINT.to_string(),
        );
        self.commit(tx, version, caller, change).await?;
        // This replica's invoke URLs show the change as soon as the answer does.
        self.publisher.published(version).await;
        Ok(ClusterSettings {
            execute_api_endpoint: endpoint.url(),
        })
    }
}
