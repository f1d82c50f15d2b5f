//! Route match keys: a route key normalised so that two keys AWS treats as the same route
//! are one string (`GET /a/{id}` and `GET /a/{x}` are both `GET /a/{}`). The `routes`
//! table keeps it in `match_key` under a unique index per API, so a conflicting key is
//! found by one indexed lookup instead of parsing every route of the API.
use portico_model::{Route, RouteKey};
use sqlx::Row;

use super::resources::from_json;
use super::{Store, StoreError, StoreTx};

/// The normalised form of `key`: parameter names erased, `$default` its own key.
pub fn match_key(key: &RouteKey) -> String {
    match key {
        RouteKey::Default => "$default".to_string(),
        RouteKey::Route { method, path } => format!("{} {}", method.as_str(), path.shape()),
    }
}

/// The match key of a stored route key; a key the model does not parse cannot have been
/// written through the control plane.
pub(super) fn match_key_of(route_key: &str) -> Result<String, StoreError> {
    RouteKey::parse(route_key)
        .map(|k| match_key(&k))
        .map_err(|e| StoreError::InvalidRouteKey(format!("{route_key}: {}", e.message)))
}

impl StoreTx {
    /// The API's route whose key matches the same requests as `key`, if there is one.
    pub async fn route_matching(
        &mut self,
        api_id: &str,
        key: &RouteKey,
    ) -> Result<Option<Route>, StoreError> {
        let row = sqlx::query("SELECT body FROM routes WHERE api_id = $1 AND match_key = $2")
            .bind(api_id)
            .bind(match_key(key))
            .fetch_optional(&mut *self.tx)
            .await?;
        row.map(|r| from_json("route", r.try_get::<String, _>(0)?.as_str()))
            .transpose()
    }

    /// The API's route with exactly this key (route settings are keyed by it).
    pub async fn route_by_key(
        &mut self,
        api_id: &str,
        route_key: &str,
    ) -> Result<Option<Route>, StoreError> {
        let row = sqlx::query("SELECT body FROM routes WHERE api_id = $1 AND route_key = $2")
            .bind(api_id)
            .bind(route_key)
            .fetch_optional(&mut *self.tx)
            .await?;
        row.map(|r| from_json("route", r.try_get::<String, _>(0)?.as_str()))
            .transpose()
    }
}

/// What filling in the match keys of routes stored before migration 0008 did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MatchKeyBackfill {
    pub filled: u64,
    /// Routes left without a match key: their key does not parse, or another route of
    /// the API already has the same match key (both written behind the control plane's
    /// back). They keep working; only the conflict check cannot see them.
    pub skipped: Vec<(String, String)>,
}

impl Store {
    /// Fills `match_key` for rows that have none (rows from before migration 0008, which
    /// SQL could not compute). Each row is its own statement outside any transaction, so
    /// one row that cannot be filled does not hold back the rest; running it twice, or on
    /// two replicas at once, writes the same values.
    pub async fn backfill_route_match_keys(&self) -> Result<MatchKeyBackfill, StoreError> {
        let rows = sqlx::query(
            "SELECT api_id, route_id, route_key FROM routes WHERE match_key IS NULL ORDER BY api_id, route_id",
        )
        .fetch_all(&self.pool)
        .await?;
        let mut done = MatchKeyBackfill::default();
        for row in rows {
            let api_id: String = row.try_get(0)?;
            let route_id: String = row.try_get(1)?;
            let route_key: String = row.try_get(2)?;
            let Ok(key) = match_key_of(&route_key) else {
                tracing::warn!(
                    api_id,
                    route_id,
                    route_key,
                    "stored route key does not parse; its conflict check is skipped"
                );
                done.skipped.push((api_id, route_id));
                continue;
            };
            let result = sqlx::query(
                "UPDATE routes SET match_key = $3 WHERE api_id = $1 AND route_id = $2 AND match_key IS NULL",
            )
            .bind(&api_id)
            .bind(&route_id)
            .bind(&key)
            .execute(&self.pool)
            .await
            .map_err(StoreError::from_sqlx);
            match result {
                Ok(r) => done.filled += r.rows_affected(),
                Err(StoreError::Unique(_)) => {
                    tracing::warn!(
                        api_id,
                        route_id,
                        route_key,
                        "stored route matches the same requests as another route of its API; its conflict check is skipped"
                    );
                    done.skipped.push((api_id, route_id));
                }
                Err(e) => return Err(e),
            }
        }
        Ok(done)
    }
}
