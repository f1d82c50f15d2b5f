//! Traffic series, monthly usage, the price table and budgets.
//!
//! Reports from nodes are added into their rows with `ON CONFLICT … DO UPDATE SET
//! x = x + excluded.x`, one statement per row, so replicas writing the same minute for
//! different nodes never lose each other's counts.

use portico_model::{Budget, BudgetAlert, LATENCY_BUCKETS, Pricing};
use portico_proto::MetricsReport;
use sqlx::Row;

use super::{Store, StoreError};

/// One API, stage, route and minute.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MetricRow {
    pub stage: String,
    pub route_key: String,
    pub minute: i64,
    pub requests: u64,
    pub c4xx: u64,
    pub c5xx: u64,
    pub throttled: u64,
    pub unauthorized: u64,
    pub bytes_in: u64,
    pub bytes_out: u64,
    pub latency_sum: f64,
    pub integration_sum: f64,
    pub latency: [u64; LATENCY_BUCKETS],
    pub integration: [u64; LATENCY_BUCKETS],
}

/// One API's month.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UsageRow {
    pub api_id: String,
    pub requests: u64,
    pub bytes_in: u64,
    pub bytes_out: u64,
}

fn bucket_columns(prefix: char) -> Vec<String> {
    (0..LATENCY_BUCKETS)
        .map(|i| format!("{prefix}{i}"))
        .collect()
}

/// The added-up columns of `metric_minutes`, in the order reads and writes use.
const COUNT_COLUMNS: [&str; 9] = [
    "requests",
    "c4xx",
    "c5xx",
    "throttled",
    "unauthorized",
    "bytes_in",
    "bytes_out",
    "latency_sum",
    "integration_sum",
];

/// `prefix` columns, then the counts and both histograms.
fn columns(prefix: &[&str]) -> Vec<String> {
    let mut cols: Vec<String> = prefix
        .iter()
        .chain(COUNT_COLUMNS.iter())
        .map(|s| s.to_string())
        .collect();
    cols.extend(bucket_columns('l'));
    cols.extend(bucket_columns('i'));
    cols
}

fn upsert_sql() -> String {
    let cols = columns(&["api_id", "stage", "route_key", "minute"]);
    let params: Vec<String> = (1..=cols.len()).map(|i| format!("${i}")).collect();
    let adds: Vec<String> = cols[4..]
        .iter()
        .map(|c| format!("{c} = metric_minutes.{c} + excluded.{c}"))
        .collect();
    format!(
        "INSERT INTO metric_minutes ({}) VALUES ({}) ON CONFLICT (api_id, stage, route_key, minute) DO UPDATE SET {}",
        cols.join(", "),
        params.join(", "),
        adds.join(", ")
    )
}

fn as_i64(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

fn as_u64(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(0)
}

/// `YYYY-MM` of a Unix time, UTC.
pub fn month_of(unix_seconds: i64) -> String {
    chrono::DateTime::from_timestamp(unix_seconds, 0)
        .unwrap_or_default()
        .format("%Y-%m")
        .to_string()
}

/// Each row's first column as JSON; a row that no longer parses (written by another
/// version) is left out rather than failing the read.
fn json_bodies<T: serde::de::DeserializeOwned>(rows: &[sqlx::any::AnyRow]) -> Vec<T> {
    rows.iter()
        .filter_map(|r| serde_json::from_str(&r.try_get::<String, _>(0).ok()?).ok())
        .collect()
}

impl Store {
    /// Adds a node's report into its minute and month.
    pub async fn record_metrics(&self, report: &MetricsReport) -> Result<(), StoreError> {
        if report.routes.is_empty() {
            return Ok(());
        }
        let sql = upsert_sql();
        let month = month_of(report.minute);
        let mut tx = self.pool().begin().await?;
        let mut by_api: std::collections::BTreeMap<&str, (u64, u64, u64)> = Default::default();
        for r in &report.routes {
            let mut q = sqlx::query(&sql)
                .bind(&r.api_id)
                .bind(&r.stage)
                .bind(&r.route_key)
                .bind(report.minute)
                .bind(as_i64(r.requests))
                .bind(as_i64(r.status_4xx))
                .bind(as_i64(r.status_5xx))
                .bind(as_i64(r.throttled))
                .bind(as_i64(r.unauthorized))
                .bind(as_i64(r.bytes_in))
                .bind(as_i64(r.bytes_out))
                .bind(r.latency_sum_ms)
                .bind(r.integration_latency_sum_ms);
            for i in 0..LATENCY_BUCKETS {
                q = q.bind(as_i64(r.latency_buckets.get(i).copied().unwrap_or(0)));
            }
            for i in 0..LATENCY_BUCKETS {
                q = q.bind(as_i64(
                    r.integration_latency_buckets.get(i).copied().unwrap_or(0),
                ));
            }
            q.execute(&mut *tx).await.map_err(StoreError::from_sqlx)?;
            let e = by_api.entry(&r.api_id).or_default();
            e.0 += r.requests;
            e.1 += r.bytes_in;
            e.2 += r.bytes_out;
        }
        for (api_id, (requests, bytes_in, bytes_out)) in by_api {
            sqlx::query(
                "INSERT INTO api_usage_months (api_id, month, requests, bytes_in, bytes_out) VALUES ($1, $2, $3, $4, $5)
                 ON CONFLICT (api_id, month) DO UPDATE SET requests = api_usage_months.requests + excluded.requests,
                 bytes_in = api_usage_months.bytes_in + excluded.bytes_in, bytes_out = api_usage_months.bytes_out + excluded.bytes_out",
            )
            .bind(api_id)
            .bind(&month)
            .bind(as_i64(requests))
            .bind(as_i64(bytes_in))
            .bind(as_i64(bytes_out))
            .execute(&mut *tx)
            .await
            .map_err(StoreError::from_sqlx)?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// An API's rows from `since_minute` on, optionally of one stage and route.
    pub async fn metric_rows(
        &self,
        api_id: &str,
        stage: Option<&str>,
        route_key: Option<&str>,
        since_minute: i64,
    ) -> Result<Vec<MetricRow>, StoreError> {
        let cols = columns(&["stage", "route_key", "minute"]);
        let sql = format!(
            "SELECT {} FROM metric_minutes WHERE api_id = $1 AND minute >= $2
             AND ($3 = '' OR stage = $4) AND ($5 = '' OR route_key = $6) ORDER BY minute",
            cols.join(", ")
        );
        // A route filter of "" (no route matched) is a real key, so it is passed apart
        // from "no filter".
        let (stage_on, stage_v) = match stage {
            Some(s) => ("1", s),
            None => ("", ""),
        };
        let (route_on, route_v) = match route_key {
            Some(r) => ("1", r),
            None => ("", ""),
        };
        let rows = sqlx::query(&sql)
            .bind(api_id)
            .bind(since_minute)
            .bind(stage_on)
            .bind(stage_v)
            .bind(route_on)
            .bind(route_v)
            .fetch_all(self.pool())
            .await?;
        rows.iter()
            .map(|r| {
                let mut row = MetricRow {
                    stage: r.try_get(0)?,
                    route_key: r.try_get(1)?,
                    minute: r.try_get(2)?,
                    requests: as_u64(r.try_get(3)?),
                    c4xx: as_u64(r.try_get(4)?),
                    c5xx: as_u64(r.try_get(5)?),
                    throttled: as_u64(r.try_get(6)?),
                    unauthorized: as_u64(r.try_get(7)?),
                    bytes_in: as_u64(r.try_get(8)?),
                    bytes_out: as_u64(r.try_get(9)?),
                    latency_sum: r.try_get(10)?,
                    integration_sum: r.try_get(11)?,
                    ..Default::default()
                };
                for i in 0..LATENCY_BUCKETS {
                    row.latency[i] = as_u64(r.try_get(12 + i)?);
                    row.integration[i] = as_u64(r.try_get(12 + LATENCY_BUCKETS + i)?);
                }
                Ok(row)
            })
            .collect::<Result<_, sqlx::Error>>()
            .map_err(StoreError::from)
    }

    /// Drops minutes before `before_minute`; returns how many.
    pub async fn prune_metrics(&self, before_minute: i64) -> Result<u64, StoreError> {
        let done = sqlx::query("DELETE FROM metric_minutes WHERE minute < $1")
            .bind(before_minute)
            .execute(self.pool())
            .await?;
        Ok(done.rows_affected())
    }

    pub async fn usage_for_month(&self, month: &str) -> Result<Vec<UsageRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT api_id, requests, bytes_in, bytes_out FROM api_usage_months WHERE month = $1 ORDER BY api_id",
        )
        .bind(month)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(UsageRow {
                    api_id: r.try_get(0)?,
                    requests: as_u64(r.try_get(1)?),
                    bytes_in: as_u64(r.try_get(2)?),
                    bytes_out: as_u64(r.try_get(3)?),
                })
            })
            .collect::<Result<_, sqlx::Error>>()
            .map_err(StoreError::from)
    }

    /// The operator's prices, or `None` for the defaults.
    pub async fn pricing(&self) -> Result<Option<Pricing>, StoreError> {
        let row = sqlx::query("SELECT body FROM price_table WHERE id = 1")
            .fetch_optional(self.pool())
            .await?;
        Ok(match row {
            Some(r) => serde_json::from_str(&r.try_get::<String, _>(0)?).ok(),
            None => None,
        })
    }

    pub async fn put_pricing(&self, pricing: &Pricing) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO price_table (id, body) VALUES (1, $1) ON CONFLICT (id) DO UPDATE SET body = excluded.body",
        )
        .bind(serde_json::to_string(pricing).unwrap_or_default())
        .execute(self.pool())
        .await
        .map_err(StoreError::from_sqlx)?;
        Ok(())
    }

    pub async fn budgets(&self) -> Result<Vec<Budget>, StoreError> {
        let rows = sqlx::query("SELECT body FROM budgets ORDER BY api_id")
            .fetch_all(self.pool())
            .await?;
        Ok(json_bodies(&rows))
    }

    pub async fn put_budget(&self, budget: &Budget) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO budgets (api_id, body) VALUES ($1, $2) ON CONFLICT (api_id) DO UPDATE SET body = excluded.body",
        )
        .bind(&budget.api_id)
        .bind(serde_json::to_string(budget).unwrap_or_default())
        .execute(self.pool())
        .await
        .map_err(StoreError::from_sqlx)?;
        Ok(())
    }

    pub async fn delete_budget(&self, api_id: &str) -> Result<bool, StoreError> {
        let done = sqlx::query("DELETE FROM budgets WHERE api_id = $1")
            .bind(api_id)
            .execute(self.pool())
            .await?;
        Ok(done.rows_affected() > 0)
    }

    /// Records an alert unless it has already fired; `true` when this call recorded it
    /// (and so should deliver it).
    pub async fn insert_alert(
        &self,
        alert: &BudgetAlert,
        fired_at_ms: i64,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "INSERT INTO budget_alerts (api_id, month, notification_type, threshold, fired_at_ms, body)
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (api_id, month, notification_type, threshold) DO NOTHING",
        )
        .bind(&alert.api_id)
        .bind(&alert.month)
        .bind(alert.notification_type.as_str())
        .bind(alert.threshold)
        .bind(fired_at_ms)
        .bind(serde_json::to_string(alert).unwrap_or_default())
        .execute(self.pool())
        .await
        .map_err(StoreError::from_sqlx)?;
        Ok(done.rows_affected() == 1)
    }

    pub async fn update_alert(&self, alert: &BudgetAlert) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE budget_alerts SET body = $5 WHERE api_id = $1 AND month = $2 AND notification_type = $3 AND threshold = $4",
        )
        .bind(&alert.api_id)
        .bind(&alert.month)
        .bind(alert.notification_type.as_str())
        .bind(alert.threshold)
        .bind(serde_json::to_string(alert).unwrap_or_default())
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// The month's alerts, newest first.
    pub async fn alerts_for_month(&self, month: &str) -> Result<Vec<BudgetAlert>, StoreError> {
        let rows = sqlx::query(
            "SELECT body FROM budget_alerts WHERE month = $1 ORDER BY fired_at_ms DESC, api_id",
        )
        .bind(month)
        .fetch_all(self.pool())
        .await?;
        Ok(json_bodies(&rows))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn months_are_utc() {
        assert_eq!(month_of(1_764_547_200), "2025-12");
        assert_eq!(month_of(1_764_547_199), "2025-11");
    }
}
