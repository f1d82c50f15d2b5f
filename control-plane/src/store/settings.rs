//! Cluster settings (`cluster_settings`): one value per name for every replica. They are
//! read inside the snapshot source's transaction and written in versioned writes, so a
//! snapshot version and the settings it was compiled with always agree.
use sqlx::Row;

use super::{Store, StoreError, StoreTx};

/// The execute-api endpoint URL (`http://execute-api.localhost:8000`).
pub const EXECUTE_API_ENDPOINT: &str = "execute_api_endpoint";

impl StoreTx {
    /// The stored value of setting `name`, if it was ever set.
    pub async fn setting(&mut self, name: &str) -> Result<Option<String>, StoreError> {
        let row = sqlx::query("SELECT value FROM cluster_settings WHERE name = $1")
            .bind(name)
            .fetch_optional(&mut *self.tx)
            .await?;
        Ok(row.map(|r| r.try_get(0)).transpose()?)
    }

    /// Sets `name` to `value`, whatever it held.
    pub async fn put_setting(
        &mut self,
        name: &str,
        value: &str,
        updated_at: &str,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO cluster_settings (name, value, updated_at) VALUES ($1, $2, $3)
             ON CONFLICT (name) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
        )
        .bind(name)
        .bind(value)
        .bind(updated_at)
        .execute(&mut *self.tx)
        .await
        .map_err(StoreError::from_sqlx)?;
        Ok(())
    }

    /// Sets `name` to `value` unless it holds a value already; returns what it holds
    /// afterwards. Two replicas seeding at once agree on whichever committed first.
    pub async fn seed_setting(
        &mut self,
        name: &str,
        value: &str,
        updated_at: &str,
    ) -> Result<String, StoreError> {
        sqlx::query(
            "INSERT INTO cluster_settings (name, value, updated_at) VALUES ($1, $2, $3)
             ON CONFLICT (name) DO NOTHING",
        )
        .bind(name)
        .bind(value)
        .bind(updated_at)
        .execute(&mut *self.tx)
        .await
        .map_err(StoreError::from_sqlx)?;
        Ok(self
            .setting(name)
            .await?
            .unwrap_or_else(|| value.to_string()))
    }
}

impl Store {
    /// Setting `name` outside any transaction (one indexed row).
    pub async fn setting(&self, name: &str) -> Result<Option<String>, StoreError> {
        let row = sqlx::query("SELECT value FROM cluster_settings WHERE name = $1")
            .bind(name)
            .fetch_optional(self.pool())
            .await?;
        Ok(row.map(|r| r.try_get(0)).transpose()?)
    }
}
