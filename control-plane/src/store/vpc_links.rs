//! Queries for VPC links: the links (AWS's shape), the targets behind each (Portico's
//! own), which integrations use a link, and each target's health as nodes report it.
use portico_model::{DeployedApi, Integration, TargetHealth, VpcLink, VpcLinkTargets};
use sqlx::Row;

use super::resources::{from_json, to_json};
use super::{Store, StoreError, StoreTx};

/// An integration that uses a link: a current one of an API, or one frozen in a
/// deployment that a stage serves.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct VpcLinkUser {
    pub api_id: String,
    pub integration_id: String,
    /// `Some` when the integration is only in a deployment (it may be gone from the API).
    pub deployment_id: Option<String>,
}

/// A link as the snapshot compiler reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceVpcLink {
    pub link: VpcLink,
    /// `None` until targets are first PUT: the link has none.
    pub targets: Option<VpcLinkTargets>,
}

/// One endpoint's health in a node's report, before it is stamped and stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetHealthRow {
    pub vpc_link_id: String,
    pub target: String,
    pub endpoint: String,
    pub state: String,
    pub reason: String,
}

/// `"connectionId":"ID"` as the stored JSON writes it, for a LIKE that narrows the rows
/// to parse. Link ids are letters and digits; `%`, `_` and `\` are escaped all the same,
/// and every match is confirmed on the parsed row.
fn connection_pattern(id: &str) -> String {
    let mut escaped = String::with_capacity(id.len());
    for c in id.chars() {
        if matches!(c, '%' | '_' | '\\') {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    format!("%\"connectionId\":\"{escaped}\"%")
}

fn uses(integration: &Integration, id: &str) -> bool {
    integration.connection_id.as_deref() == Some(id)
}

impl StoreTx {
    pub async fn insert_vpc_link(&mut self, link: &VpcLink) -> Result<(), StoreError> {
        sqlx::query("INSERT INTO vpc_links (vpc_link_id, name, body) VALUES ($1, $2, $3)")
            .bind(&link.vpc_link_id)
            .bind(&link.name)
            .bind(to_json(link))
            .execute(&mut *self.tx)
            .await
            .map_err(StoreError::from_sqlx)?;
        Ok(())
    }

    /// Rewrites the link's own fields (name, tags); its targets stay.
    pub async fn update_vpc_link(&mut self, link: &VpcLink) -> Result<bool, StoreError> {
        let done = sqlx::query("UPDATE vpc_links SET name = $2, body = $3 WHERE vpc_link_id = $1")
            .bind(&link.vpc_link_id)
            .bind(&link.name)
            .bind(to_json(link))
            .execute(&mut *self.tx)
            .await
            .map_err(StoreError::from_sqlx)?;
        Ok(done.rows_affected() > 0)
    }

    pub async fn get_vpc_link(&mut self, id: &str) -> Result<Option<VpcLink>, StoreError> {
        let row = sqlx::query("SELECT body FROM vpc_links WHERE vpc_link_id = $1")
            .bind(id)
            .fetch_optional(&mut *self.tx)
            .await?;
        row.map(|r| from_json("VPC link", r.try_get::<String, _>(0)?.as_str()))
            .transpose()
    }

    /// Links in id order after `after`, at most `limit`.
    pub async fn list_vpc_links(
        &mut self,
        after: Option<&str>,
        limit: u32,
    ) -> Result<Vec<VpcLink>, StoreError> {
        let rows = sqlx::query(
            "SELECT body FROM vpc_links WHERE vpc_link_id > $1 ORDER BY vpc_link_id LIMIT $2",
        )
        .bind(after.unwrap_or(""))
        .bind(i64::from(limit))
        .fetch_all(&mut *self.tx)
        .await?;
        rows.iter()
            .map(|r| from_json("VPC link", r.try_get::<String, _>(0)?.as_str()))
            .collect()
    }

    /// Deletes the link, its targets and every node's health rows for it.
    pub async fn delete_vpc_link(&mut self, id: &str) -> Result<bool, StoreError> {
        sqlx::query("DELETE FROM vpc_link_target_health WHERE vpc_link_id = $1")
            .bind(id)
            .execute(&mut *self.tx)
            .await?;
        let done = sqlx::query("DELETE FROM vpc_links WHERE vpc_link_id = $1")
            .bind(id)
            .execute(&mut *self.tx)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    /// Replaces the link's targets; false when there is no such link.
    pub async fn put_vpc_link_targets(
        &mut self,
        id: &str,
        targets: &VpcLinkTargets,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query("UPDATE vpc_links SET targets = $2 WHERE vpc_link_id = $1")
            .bind(id)
            .bind(to_json(targets))
            .execute(&mut *self.tx)
            .await
            .map_err(StoreError::from_sqlx)?;
        Ok(done.rows_affected() > 0)
    }

    /// The link's targets: `None` when there is no such link, `Some(None)` when it was
    /// never given any.
    pub async fn get_vpc_link_targets(
        &mut self,
        id: &str,
    ) -> Result<Option<Option<VpcLinkTargets>>, StoreError> {
        let row = sqlx::query("SELECT targets FROM vpc_links WHERE vpc_link_id = $1")
            .bind(id)
            .fetch_optional(&mut *self.tx)
            .await?;
        let Some(row) = row else { return Ok(None) };
        let targets: Option<String> = row.try_get(0)?;
        Ok(Some(
            targets
                .map(|t| from_json("VPC link targets", &t))
                .transpose()?,
        ))
    }

    /// Every integration that uses link `id`: current integrations of every API, and
    /// those frozen in deployments a stage points at (what nodes serve). Sorted.
    pub async fn vpc_link_users(&mut self, id: &str) -> Result<Vec<VpcLinkUser>, StoreError> {
        let pattern = connection_pattern(id);
        let mut users = Vec::new();
        let rows = sqlx::query(
            "SELECT api_id, body FROM integrations WHERE body LIKE $1 ESCAPE '\\' ORDER BY api_id, integration_id",
        )
        .bind(&pattern)
        .fetch_all(&mut *self.tx)
        .await?;
        for r in &rows {
            let api_id: String = r.try_get(0)?;
            // A row that does not parse uses nothing this can tell.
            if let Ok(i) = from_json::<Integration>("integration", &r.try_get::<String, _>(1)?)
                && uses(&i, id)
            {
                users.push(VpcLinkUser {
                    api_id,
                    integration_id: i.integration_id,
                    deployment_id: None,
                });
            }
        }
        let rows = sqlx::query(
            "SELECT d.api_id, d.deployment_id, d.frozen FROM deployments d
             WHERE d.frozen LIKE $1 ESCAPE '\\'
               AND EXISTS (SELECT 1 FROM stages s WHERE s.api_id = d.api_id AND s.deployment_id = d.deployment_id)
             ORDER BY d.api_id, d.deployment_id",
        )
        .bind(&pattern)
        .fetch_all(&mut *self.tx)
        .await?;
        for r in &rows {
            let api_id: String = r.try_get(0)?;
            let deployment_id: String = r.try_get(1)?;
            let Ok(frozen) = from_json::<DeployedApi>("deployment", &r.try_get::<String, _>(2)?)
            else {
                continue;
            };
            for i in frozen.integrations.into_iter().filter(|i| uses(i, id)) {
                // The current integration already names the API and integration.
                let current = users.iter().any(|u| {
                    u.api_id == api_id
                        && u.integration_id == i.integration_id
                        && u.deployment_id.is_none()
                });
                if !current {
                    users.push(VpcLinkUser {
                        api_id: api_id.clone(),
                        integration_id: i.integration_id,
                        deployment_id: Some(deployment_id.clone()),
                    });
                }
            }
        }
        users.sort();
        users.dedup_by(|a, b| a.api_id == b.api_id && a.integration_id == b.integration_id);
        Ok(users)
    }

    /// Every link and its targets, in id order, for the snapshot. A row that no longer
    /// parses is left out (its integrations are then reported as using a missing link)
    /// rather than failing the whole snapshot.
    pub async fn vpc_link_source(&mut self) -> Result<Vec<SourceVpcLink>, StoreError> {
        let rows =
            sqlx::query("SELECT vpc_link_id, body, targets FROM vpc_links ORDER BY vpc_link_id")
                .fetch_all(&mut *self.tx)
                .await?;
        let mut links = Vec::with_capacity(rows.len());
        for r in &rows {
            let id: String = r.try_get(0)?;
            let body: String = r.try_get(1)?;
            let targets: Option<String> = r.try_get(2)?;
            let parsed = from_json::<VpcLink>("VPC link", &body).and_then(|link| {
                let targets = targets
                    .map(|t| from_json::<VpcLinkTargets>("VPC link targets", &t))
                    .transpose()?;
                Ok(SourceVpcLink { link, targets })
            });
            match parsed {
                Ok(link) => links.push(link),
                Err(e) => {
                    tracing::error!(vpc_link = %id, error = %e, "VPC link left out of the snapshot")
                }
            }
        }
        Ok(links)
    }
}

impl Store {
    /// Replaces node `node_id`'s health rows with `rows` (its whole current view), stamped
    /// `updated`.
    pub async fn record_target_health(
        &self,
        node_id: &str,
        rows: &[TargetHealthRow],
        updated: &str,
    ) -> Result<(), StoreError> {
        let mut tx = self.pool().begin().await?;
        sqlx::query("DELETE FROM vpc_link_target_health WHERE node_id = $1")
            .bind(node_id)
            .execute(&mut *tx)
            .await?;
        for r in rows {
            // A node that reports one endpoint twice is taken at its last word.
            sqlx::query(
                "INSERT INTO vpc_link_target_health (node_id, vpc_link_id, target, endpoint, state, reason, updated)
                 VALUES ($1, $2, $3, $4, $5, $6, $7)
                 ON CONFLICT (node_id, vpc_link_id, target, endpoint) DO UPDATE SET
                   state = excluded.state, reason = excluded.reason, updated = excluded.updated",
            )
            .bind(node_id)
            .bind(&r.vpc_link_id)
            .bind(&r.target)
            .bind(&r.endpoint)
            .bind(&r.state)
            .bind(&r.reason)
            .bind(updated)
            .execute(&mut *tx)
            .await
            .map_err(StoreError::from_sqlx)?;
        }
        tx.commit().await.map_err(StoreError::from_sqlx)?;
        Ok(())
    }

    /// Every node's last-reported health of link `id`'s endpoints, by node, target and
    /// endpoint.
    pub async fn target_health(&self, id: &str) -> Result<Vec<TargetHealth>, StoreError> {
        let rows = sqlx::query(
            "SELECT node_id, target, endpoint, state, reason, updated FROM vpc_link_target_health
             WHERE vpc_link_id = $1 ORDER BY node_id, target, endpoint",
        )
        .bind(id)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(TargetHealth {
                    node_id: r.try_get(0)?,
                    target: r.try_get(1)?,
                    endpoint: r.try_get(2)?,
                    state: r.try_get(3)?,
                    reason: r.try_get(4)?,
                    updated: r.try_get(5)?,
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_patterns_escape_wildcards() {
        assert_eq!(connection_pattern("ab12"), "%\"connectionId\":\"ab12\"%");
        assert_eq!(
            connection_pattern("a%_\\"),
            "%\"connectionId\":\"a\\%\\_\\\\\"%"
        );
    }
}
