//! Queries for the admin API's resources. Each resource row keeps its AWS-shaped JSON in
//! `body`; the other columns exist for keys, uniqueness and lookups.
use portico_model::{Api, Authorizer, DeployedApi, Deployment, Integration, Route, Stage};
use serde::Serialize;
use serde::de::DeserializeOwned;
use sqlx::Row;

use super::route_match_keys::match_key_of;
use super::{StoreError, StoreTx};

/// 1 when the integration's URI names a stage variable, so that its upstream depends on
/// the stage (the `uses_stage_variables` column; `UriTemplate` reads `${stageVariables.…}`).
fn uses_stage_variables(integration: &Integration) -> i64 {
    i64::from(integration.integration_uri.contains("${stageVariables."))
}

/// The resources that live under an API (and `Api` for the API row itself, which only
/// the snapshot reader names).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResourceKind {
    Api,
    Route,
    Integration,
    Authorizer,
    Stage,
    Deployment,
}

impl ResourceKind {
    fn table(self) -> &'static str {
        match self {
            ResourceKind::Api => "apis",
            ResourceKind::Route => "routes",
            ResourceKind::Integration => "integrations",
            ResourceKind::Authorizer => "authorizers",
            ResourceKind::Stage => "stages",
            ResourceKind::Deployment => "deployments",
        }
    }

    fn key_column(self) -> &'static str {
        match self {
            ResourceKind::Api => "api_id",
            ResourceKind::Route => "route_id",
            ResourceKind::Integration => "integration_id",
            ResourceKind::Authorizer => "authorizer_id",
            ResourceKind::Stage => "stage_name",
            ResourceKind::Deployment => "deployment_id",
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            ResourceKind::Api => "API",
            ResourceKind::Route => "route",
            ResourceKind::Integration => "integration",
            ResourceKind::Authorizer => "authorizer",
            ResourceKind::Stage => "stage",
            ResourceKind::Deployment => "deployment",
        }
    }
}

/// `($1, $2), ($3, $4), …` for `rows` rows of `columns` values.
fn placeholders(rows: usize, columns: usize) -> String {
    (0..rows)
        .map(|r| {
            let row: Vec<String> = (1..=columns)
                .map(|c| format!("${}", r * columns + c))
                .collect();
            format!("({})", row.join(", "))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

pub(super) fn to_json<T: Serialize>(value: &T) -> String {
    // Our own resource types always serialise.
    serde_json::to_string(value).unwrap_or_else(|e| unreachable!("resource to JSON: {e}"))
}

pub(super) fn from_json<T: DeserializeOwned>(
    kind: &'static str,
    body: &str,
) -> Result<T, StoreError> {
    serde_json::from_str(body).map_err(|source| StoreError::Corrupt { kind, source })
}

/// Everything the snapshot compiler reads, taken in one consistent read.
#[derive(Debug, Clone, Default)]
pub struct SnapshotSource {
    pub version: u64,
    pub apis: Vec<Api>,
    pub stages: Vec<(String, Stage)>,
    /// (api id, deployment id, what it froze) for every deployment a stage points at.
    pub deployments: Vec<(String, String, DeployedApi)>,
    /// Rows that no longer parse (written behind the control plane's back). They are
    /// left out, so that one damaged row costs only what it belongs to.
    pub damaged: Vec<DamagedRow>,
    pub custom_domains: super::CustomDomainSource,
    /// The private keys of `custom_domains.certificates` by ARN, unsealed by the
    /// publisher (the store only has them sealed). A domain whose key is missing is left
    /// out of the snapshot.
    pub opened_keys: std::collections::BTreeMap<String, String>,
    /// Every VPC link with its targets, in id order.
    pub vpc_links: Vec<super::SourceVpcLink>,
    /// The stored execute-api endpoint URL; `None` in a store nothing seeded (the
    /// documented default then applies).
    pub execute_api_endpoint: Option<String>,
}

/// A stored row whose JSON does not parse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DamagedRow {
    pub kind: ResourceKind,
    pub api_id: String,
    /// The row's key within its API (the API id again for an API row).
    pub key: String,
    pub error: String,
}

impl DamagedRow {
    fn new(kind: ResourceKind, api_id: String, key: String, error: StoreError) -> Self {
        DamagedRow {
            kind,
            api_id,
            key,
            error: error.to_string(),
        }
    }
}

impl StoreTx {
    pub async fn insert_api(&mut self, api: &Api) -> Result<(), StoreError> {
        self.serves_changed();
        sqlx::query("INSERT INTO apis (api_id, body) VALUES ($1, $2)")
            .bind(&api.api_id)
            .bind(to_json(api))
            .execute(&mut *self.tx)
            .await
            .map_err(StoreError::from_sqlx)?;
        Ok(())
    }

    pub async fn update_api(&mut self, api: &Api) -> Result<(), StoreError> {
        self.serves_changed();
        sqlx::query("UPDATE apis SET body = $2 WHERE api_id = $1")
            .bind(&api.api_id)
            .bind(to_json(api))
            .execute(&mut *self.tx)
            .await
            .map_err(StoreError::from_sqlx)?;
        Ok(())
    }

    pub async fn get_api(&mut self, api_id: &str) -> Result<Option<Api>, StoreError> {
        let row = sqlx::query("SELECT body FROM apis WHERE api_id = $1")
            .bind(api_id)
            .fetch_optional(&mut *self.tx)
            .await?;
        row.map(|r| from_json("API", r.try_get::<String, _>(0)?.as_str()))
            .transpose()
    }

    /// APIs in id order, after `after` (exclusive), at most `limit`.
    pub async fn list_apis(
        &mut self,
        after: Option<&str>,
        limit: u32,
    ) -> Result<Vec<Api>, StoreError> {
        let rows = sqlx::query("SELECT body FROM apis WHERE api_id > $1 ORDER BY api_id LIMIT $2")
            .bind(after.unwrap_or(""))
            .bind(i64::from(limit))
            .fetch_all(&mut *self.tx)
            .await?;
        rows.iter()
            .map(|r| from_json("API", r.try_get::<String, _>(0)?.as_str()))
            .collect()
    }

    /// Deletes the API and, by cascade, everything under it.
    pub async fn delete_api(&mut self, api_id: &str) -> Result<bool, StoreError> {
        self.serves_changed();
        let done = sqlx::query("DELETE FROM apis WHERE api_id = $1")
            .bind(api_id)
            .execute(&mut *self.tx)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    pub async fn get<T: DeserializeOwned>(
        &mut self,
        kind: ResourceKind,
        api_id: &str,
        key: &str,
    ) -> Result<Option<T>, StoreError> {
        let sql = format!(
            "SELECT body FROM {} WHERE api_id = $1 AND {} = $2",
            kind.table(),
            kind.key_column()
        );
        let row = sqlx::query(&sql)
            .bind(api_id)
            .bind(key)
            .fetch_optional(&mut *self.tx)
            .await?;
        row.map(|r| from_json(kind.name(), r.try_get::<String, _>(0)?.as_str()))
            .transpose()
    }

    /// One page of an API's resources in key order, after `after` (exclusive).
    pub async fn list<T: DeserializeOwned>(
        &mut self,
        kind: ResourceKind,
        api_id: &str,
        after: Option<&str>,
        limit: u32,
    ) -> Result<Vec<T>, StoreError> {
        let sql = format!(
            "SELECT body FROM {t} WHERE api_id = $1 AND {k} > $2 ORDER BY {k} LIMIT $3",
            t = kind.table(),
            k = kind.key_column()
        );
        let rows = sqlx::query(&sql)
            .bind(api_id)
            .bind(after.unwrap_or(""))
            .bind(i64::from(limit))
            .fetch_all(&mut *self.tx)
            .await?;
        rows.iter()
            .map(|r| from_json(kind.name(), r.try_get::<String, _>(0)?.as_str()))
            .collect()
    }

    pub async fn all<T: DeserializeOwned>(
        &mut self,
        kind: ResourceKind,
        api_id: &str,
    ) -> Result<Vec<T>, StoreError> {
        self.list(kind, api_id, None, u32::MAX >> 1).await
    }

    pub async fn delete(
        &mut self,
        kind: ResourceKind,
        api_id: &str,
        key: &str,
    ) -> Result<bool, StoreError> {
        // Deleting a route, integration or authorizer changes only the API's undeployed
        // definition; the service refuses to delete a deployment a stage uses, but a
        // deployment counts as served here to stay on the safe side.
        if !matches!(
            kind,
            ResourceKind::Route | ResourceKind::Integration | ResourceKind::Authorizer
        ) {
            self.serves_changed();
        }
        let sql = format!(
            "DELETE FROM {} WHERE api_id = $1 AND {} = $2",
            kind.table(),
            kind.key_column()
        );
        let done = sqlx::query(&sql)
            .bind(api_id)
            .bind(key)
            .execute(&mut *self.tx)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    /// Deletes every resource of one kind under the API (a reimport's first step).
    pub async fn delete_all(&mut self, kind: ResourceKind, api_id: &str) -> Result<(), StoreError> {
        if !matches!(
            kind,
            ResourceKind::Route | ResourceKind::Integration | ResourceKind::Authorizer
        ) {
            self.serves_changed();
        }
        let sql = format!("DELETE FROM {} WHERE api_id = $1", kind.table());
        sqlx::query(&sql)
            .bind(api_id)
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }

    /// Inserts new routes and integrations in a few multi-row statements: an import
    /// writes thousands, and one statement per row costs a round trip each on Postgres.
    pub async fn insert_many(
        &mut self,
        api_id: &str,
        routes: &[Route],
        integrations: &[Integration],
    ) -> Result<(), StoreError> {
        const ROWS: usize = 250;
        for chunk in integrations.chunks(ROWS) {
            let values = placeholders(chunk.len(), 4);
            let sql = format!(
                "INSERT INTO integrations (api_id, integration_id, uses_stage_variables, body) VALUES {values}"
            );
            let mut q = sqlx::query(&sql);
            for i in chunk {
                q = q
                    .bind(api_id)
                    .bind(&i.integration_id)
                    .bind(uses_stage_variables(i))
                    .bind(to_json(i));
            }
            q.execute(&mut *self.tx)
                .await
                .map_err(StoreError::from_sqlx)?;
        }
        for chunk in routes.chunks(ROWS) {
            let values = placeholders(chunk.len(), 5);
            let sql = format!(
                "INSERT INTO routes (api_id, route_id, route_key, match_key, body) VALUES {values}"
            );
            let mut q = sqlx::query(&sql);
            for r in chunk {
                q = q
                    .bind(api_id)
                    .bind(&r.route_id)
                    .bind(&r.route_key)
                    .bind(match_key_of(&r.route_key)?)
                    .bind(to_json(r));
            }
            q.execute(&mut *self.tx)
                .await
                .map_err(StoreError::from_sqlx)?;
        }
        Ok(())
    }

    /// What deployment `deployment_id` of the API froze.
    pub async fn deployed(
        &mut self,
        api_id: &str,
        deployment_id: &str,
    ) -> Result<Option<DeployedApi>, StoreError> {
        let row =
            sqlx::query("SELECT frozen FROM deployments WHERE api_id = $1 AND deployment_id = $2")
                .bind(api_id)
                .bind(deployment_id)
                .fetch_optional(&mut *self.tx)
                .await?;
        row.map(|r| from_json("deployment", r.try_get::<String, _>(0)?.as_str()))
            .transpose()
    }

    pub async fn upsert_route(&mut self, api_id: &str, route: &Route) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO routes (api_id, route_id, route_key, match_key, body) VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (api_id, route_id) DO UPDATE SET route_key = excluded.route_key,
                 match_key = excluded.match_key, body = excluded.body",
        )
        .bind(api_id)
        .bind(&route.route_id)
        .bind(&route.route_key)
        .bind(match_key_of(&route.route_key)?)
        .bind(to_json(route))
        .execute(&mut *self.tx)
        .await
        .map_err(StoreError::from_sqlx)?;
        Ok(())
    }

    pub async fn upsert_integration(
        &mut self,
        api_id: &str,
        integration: &Integration,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO integrations (api_id, integration_id, uses_stage_variables, body) VALUES ($1, $2, $3, $4)
             ON CONFLICT (api_id, integration_id) DO UPDATE SET
                 uses_stage_variables = excluded.uses_stage_variables, body = excluded.body",
        )
        .bind(api_id)
        .bind(&integration.integration_id)
        .bind(uses_stage_variables(integration))
        .bind(to_json(integration))
        .execute(&mut *self.tx)
        .await
        .map_err(StoreError::from_sqlx)?;
        Ok(())
    }

    pub async fn upsert_authorizer(
        &mut self,
        api_id: &str,
        authorizer: &Authorizer,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO authorizers (api_id, authorizer_id, body) VALUES ($1, $2, $3)
             ON CONFLICT (api_id, authorizer_id) DO UPDATE SET body = excluded.body",
        )
        .bind(api_id)
        .bind(&authorizer.authorizer_id)
        .bind(to_json(authorizer))
        .execute(&mut *self.tx)
        .await
        .map_err(StoreError::from_sqlx)?;
        Ok(())
    }

    pub async fn insert_stage(&mut self, api_id: &str, stage: &Stage) -> Result<(), StoreError> {
        self.serves_changed();
        sqlx::query(
            "INSERT INTO stages (api_id, stage_name, deployment_id, auto_deploy, body) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(api_id)
        .bind(&stage.stage_name)
        .bind(stage.deployment_id.clone())
        .bind(i64::from(stage.auto_deploy))
        .bind(to_json(stage))
        .execute(&mut *self.tx)
        .await
        .map_err(StoreError::from_sqlx)?;
        Ok(())
    }

    pub async fn update_stage(&mut self, api_id: &str, stage: &Stage) -> Result<(), StoreError> {
        self.serves_changed();
        sqlx::query(
            "UPDATE stages SET deployment_id = $3, auto_deploy = $4, body = $5 WHERE api_id = $1 AND stage_name = $2",
        )
        .bind(api_id)
        .bind(&stage.stage_name)
        .bind(stage.deployment_id.clone())
        .bind(i64::from(stage.auto_deploy))
        .bind(to_json(stage))
        .execute(&mut *self.tx)
        .await
        .map_err(StoreError::from_sqlx)?;
        Ok(())
    }

    pub async fn insert_deployment(
        &mut self,
        api_id: &str,
        deployment: &Deployment,
        frozen: &DeployedApi,
    ) -> Result<(), StoreError> {
        // Writers hold the write lock, so MAX + 1 numbers the API's deployments in order.
        sqlx::query(
            "INSERT INTO deployments (api_id, deployment_id, body, frozen, created_order)
             VALUES ($1, $2, $3, $4,
                     (SELECT COALESCE(MAX(created_order), 0) + 1 FROM deployments WHERE api_id = $1))",
        )
        .bind(api_id)
        .bind(&deployment.deployment_id)
        .bind(to_json(deployment))
        .bind(to_json(frozen))
        .execute(&mut *self.tx)
        .await
        .map_err(StoreError::from_sqlx)?;
        Ok(())
    }

    pub async fn update_deployment(
        &mut self,
        api_id: &str,
        deployment: &Deployment,
    ) -> Result<(), StoreError> {
        sqlx::query("UPDATE deployments SET body = $3 WHERE api_id = $1 AND deployment_id = $2")
            .bind(api_id)
            .bind(&deployment.deployment_id)
            .bind(to_json(deployment))
            .execute(&mut *self.tx)
            .await
            .map_err(StoreError::from_sqlx)?;
        Ok(())
    }

    /// Deletes the API's deployments older than its newest `keep`, except those a stage
    /// points at; returns how many went. A stage row's `deployment_id` is the only
    /// reference to a deployment: the snapshot reads just those (`snapshot_source`), and
    /// what a stage served before lives in the publisher's memory, not in the store.
    pub async fn prune_deployments(&mut self, api_id: &str, keep: u32) -> Result<u64, StoreError> {
        if keep == 0 {
            return Ok(0);
        }
        // The subquery is the created_order of the `keep`-th newest: NULL (nothing goes)
        // while the API has no more than `keep`.
        let done = sqlx::query(
            "DELETE FROM deployments WHERE api_id = $1
               AND created_order < (SELECT created_order FROM deployments WHERE api_id = $1
                                    ORDER BY created_order DESC LIMIT 1 OFFSET $2)
               AND NOT EXISTS (SELECT 1 FROM stages s
                               WHERE s.api_id = deployments.api_id
                                 AND s.deployment_id = deployments.deployment_id)",
        )
        .bind(api_id)
        .bind(i64::from(keep - 1))
        .execute(&mut *self.tx)
        .await?;
        Ok(done.rows_affected())
    }

    /// The API's integrations whose URI names a stage variable: the ones a stage's
    /// variables can point elsewhere.
    pub async fn integrations_using_stage_variables(
        &mut self,
        api_id: &str,
    ) -> Result<Vec<Integration>, StoreError> {
        let rows = sqlx::query(
            "SELECT body FROM integrations WHERE api_id = $1 AND uses_stage_variables = 1 ORDER BY integration_id",
        )
        .bind(api_id)
        .fetch_all(&mut *self.tx)
        .await?;
        rows.iter()
            .map(|r| from_json("integration", r.try_get::<String, _>(0)?.as_str()))
            .collect()
    }

    /// Names of the API's stages that point at `deployment_id`.
    pub async fn stages_using(
        &mut self,
        api_id: &str,
        deployment_id: &str,
    ) -> Result<Vec<String>, StoreError> {
        let rows = sqlx::query(
            "SELECT stage_name FROM stages WHERE api_id = $1 AND deployment_id = $2 ORDER BY stage_name",
        )
        .bind(api_id)
        .bind(deployment_id)
        .fetch_all(&mut *self.tx)
        .await?;
        rows.iter()
            .map(|r| r.try_get::<String, _>(0).map_err(StoreError::from))
            .collect()
    }

    /// Everything the snapshot compiler needs, as of this transaction's view. A row that
    /// does not parse is reported in `damaged` instead of failing the whole read.
    pub async fn snapshot_source(&mut self) -> Result<SnapshotSource, StoreError> {
        let version = self.snapshot_version().await?;
        let mut damaged = Vec::new();
        let rows = sqlx::query("SELECT api_id, api_id, body FROM apis ORDER BY api_id")
            .fetch_all(&mut *self.tx)
            .await?;
        let apis = parse_rows(&rows, ResourceKind::Api, &mut damaged)?
            .into_iter()
            .map(|(_, _, api)| api)
            .collect();
        let rows =
            sqlx::query("SELECT api_id, stage_name, body FROM stages ORDER BY api_id, stage_name")
                .fetch_all(&mut *self.tx)
                .await?;
        let stages = parse_rows(&rows, ResourceKind::Stage, &mut damaged)?
            .into_iter()
            .map(|(api_id, _, stage)| (api_id, stage))
            .collect();
        let rows = sqlx::query(
            "SELECT d.api_id, d.deployment_id, d.frozen FROM deployments d
             WHERE EXISTS (SELECT 1 FROM stages s WHERE s.api_id = d.api_id AND s.deployment_id = d.deployment_id)
             ORDER BY d.api_id, d.deployment_id",
        )
        .fetch_all(&mut *self.tx)
        .await?;
        let deployments = parse_rows(&rows, ResourceKind::Deployment, &mut damaged)?;
        let custom_domains = self.custom_domain_source().await?;
        let vpc_links = self.vpc_link_source().await?;
        let execute_api_endpoint = self.setting(super::EXECUTE_API_ENDPOINT).await?;
        Ok(SnapshotSource {
            version,
            apis,
            stages,
            deployments,
            damaged,
            custom_domains,
            opened_keys: Default::default(),
            vpc_links,
            execute_api_endpoint,
        })
    }
}

/// Parses `(api_id, key, json)` rows; the ones that do not parse go to `damaged`.
fn parse_rows<T: DeserializeOwned>(
    rows: &[sqlx::any::AnyRow],
    kind: ResourceKind,
    damaged: &mut Vec<DamagedRow>,
) -> Result<Vec<(String, String, T)>, StoreError> {
    let mut parsed = Vec::with_capacity(rows.len());
    for r in rows {
        let api_id: String = r.try_get(0)?;
        let key: String = r.try_get(1)?;
        let body: String = r.try_get(2)?;
        match from_json(kind.name(), &body) {
            Ok(value) => parsed.push((api_id, key, value)),
            Err(e) => damaged.push(DamagedRow::new(kind, api_id, key, e)),
        }
    }
    Ok(parsed)
}
