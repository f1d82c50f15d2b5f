//! What each API would cost on AWS, from the monthly usage nodes report and an editable,
//! dated price table, and budgets that warn before a surprise bill: each notification
//! (ACTUAL or FORECASTED, as AWS Budgets has them) fires once a month, into the console's
//! banner and, when the budget has one, a webhook.
//!
//! The forecast is a straight line: the month so far, scaled to the whole month.

use std::time::Duration;

use chrono::{TimeZone, Utc};
use portico_model::{
    ApiUsage, Budget, BudgetAlert, BudgetUnit, DeliveryStatus, NotificationType, Pricing,
    PutBudget, UsageReport, ValidationError,
};
use tracing::{info, warn};

use super::apis::api_not_found;
use super::{AdminService, ServiceError, ServiceResult, allow, now};
use crate::identity::{Caller, Permission};
use crate::store::month_of;

/// How often budgets are checked against usage.
pub const BUDGET_CHECK_INTERVAL: Duration = Duration::from_secs(3);
const WEBHOOK_ATTEMPTS: u32 = 3;
const WEBHOOK_TIMEOUT: Duration = Duration::from_secs(5);

/// Start and end (Unix seconds) of a `YYYY-MM` month.
fn month_bounds(month: &str) -> Option<(i64, i64)> {
    let (y, m) = month.split_once('-')?;
    let (y, m): (i32, u32) = (y.parse().ok()?, m.parse().ok()?);
    if month.len() != 7 {
        return None;
    }
    let start = Utc.with_ymd_and_hms(y, m, 1, 0, 0, 0).single()?;
    let (ny, nm) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
    let end = Utc.with_ymd_and_hms(ny, nm, 1, 0, 0, 0).single()?;
    Some((start.timestamp(), end.timestamp()))
}

/// How much of the month has gone by, 0 to 1 (1 for a past month).
fn elapsed_fraction(month: &str, now: i64) -> f64 {
    match month_bounds(month) {
        Some((start, end)) if now < end => ((now - start) as f64 / (end - start) as f64).max(0.0),
        _ => 1.0,
    }
}

fn forecast(actual: f64, fraction: f64) -> f64 {
    // Under an hour into a month a straight line says little; it says the actual.
    if fraction <= 1.0 / (31.0 * 24.0) {
        actual
    } else {
        actual / fraction
    }
}

impl AdminService {
    pub async fn pricing(&self, caller: &Caller) -> ServiceResult<Pricing> {
        allow(caller, Permission::Read)?;
        Ok(self.store.pricing().await?.unwrap_or_default())
    }

    pub async fn put_pricing(&self, caller: &Caller, pricing: Pricing) -> ServiceResult<Pricing> {
        allow(caller, Permission::EditApis)?;
        pricing.validate()?;
        self.store.put_pricing(&pricing).await?;
        info!(user = %caller.user_name, effective_date = %pricing.effective_date, "price table updated");
        Ok(pricing)
    }

    /// `GET /portico/usage?month=YYYY-MM` (this month by default).
    pub async fn usage(&self, caller: &Caller, month: Option<&str>) -> ServiceResult<UsageReport> {
        allow(caller, Permission::Read)?;
        let now = Utc::now().timestamp();
        let month = match month {
            Some(m) => {
                month_bounds(m).ok_or_else(|| {
                    ServiceError::Invalid(ValidationError::new("month", "month must be YYYY-MM"))
                })?;
                m.to_string()
            }
            None => month_of(now),
        };
        self.usage_report(&month, now).await
    }

    async fn usage_report(&self, month: &str, now: i64) -> ServiceResult<UsageReport> {
        let pricing = self.store.pricing().await?.unwrap_or_default();
        let rows = self.store.usage_for_month(month).await?;
        let budgets = self.store.budgets().await?;
        let fraction = elapsed_fraction(month, now);
        let mut apis = Vec::new();
        let mut tx = self.store.read().await?;
        let mut after: Option<String> = None;
        loop {
            let page = tx.list_apis(after.as_deref(), 500).await?;
            let Some(last) = page.last() else { break };
            after = Some(last.api_id.clone());
            for api in page {
                let used = rows.iter().find(|r| r.api_id == api.api_id);
                let (requests, bytes_in, bytes_out) =
                    used.map_or((0, 0, 0), |r| (r.requests, r.bytes_in, r.bytes_out));
                let cost = pricing.cost(&api.protocol_type, requests, bytes_out);
                apis.push(ApiUsage {
                    budget: budgets.iter().find(|b| b.api_id == api.api_id).cloned(),
                    api_id: api.api_id,
                    name: api.name,
                    protocol_type: api.protocol_type,
                    requests,
                    bytes_in,
                    bytes_out,
                    cost,
                    forecast_requests: forecast(requests as f64, fraction).round() as u64,
                    forecast_cost: forecast(cost, fraction),
                });
            }
        }
        drop(tx);
        let requests: u64 = apis.iter().map(|a| a.requests).sum();
        let gross: f64 = apis.iter().map(|a| a.cost).sum();
        let free = pricing.free_tier_requests.min(requests) as f64 / 1e6
            * pricing.http_requests_per_million;
        let forecast_gross: f64 = apis.iter().map(|a| a.forecast_cost).sum();
        let forecast_requests: u64 = apis.iter().map(|a| a.forecast_requests).sum();
        let forecast_free = pricing.free_tier_requests.min(forecast_requests) as f64 / 1e6
            * pricing.http_requests_per_million;
        Ok(UsageReport {
            month: month.to_string(),
            requests,
            bytes_in: apis.iter().map(|a| a.bytes_in).sum(),
            bytes_out: apis.iter().map(|a| a.bytes_out).sum(),
            cost: (gross - free).max(0.0),
            forecast_cost: (forecast_gross - forecast_free).max(0.0),
            alerts: self.store.alerts_for_month(month).await?,
            pricing,
            apis,
        })
    }

    pub async fn budget(&self, caller: &Caller, api_id: &str) -> ServiceResult<Budget> {
        allow(caller, Permission::Read)?;
        self.store
            .budgets()
            .await?
            .into_iter()
            .find(|b| b.api_id == api_id)
            .ok_or_else(|| ServiceError::NotFound(format!("API {api_id} has no budget")))
    }

    pub async fn put_budget(
        &self,
        caller: &Caller,
        api_id: &str,
        input: PutBudget,
    ) -> ServiceResult<Budget> {
        allow(caller, Permission::EditApis)?;
        input.validate()?;
        {
            let mut tx = self.store.read().await?;
            tx.get_api(api_id)
                .await?
                .ok_or_else(|| api_not_found(api_id))?;
        }
        let budget = Budget {
            api_id: api_id.to_string(),
            unit: input.unit,
            limit: input.limit,
            notifications: input.notifications,
            webhook_url: input.webhook_url,
            last_updated_date: now(),
        };
        self.store.put_budget(&budget).await?;
        Ok(budget)
    }

    pub async fn delete_budget(&self, caller: &Caller, api_id: &str) -> ServiceResult<()> {
        allow(caller, Permission::EditApis)?;
        if !self.store.delete_budget(api_id).await? {
            return Err(ServiceError::NotFound(format!(
                "API {api_id} has no budget"
            )));
        }
        Ok(())
    }

    pub async fn budget_alerts(
        &self,
        caller: &Caller,
        month: Option<&str>,
    ) -> ServiceResult<Vec<BudgetAlert>> {
        allow(caller, Permission::Read)?;
        let month = month.map_or_else(|| month_of(Utc::now().timestamp()), str::to_string);
        Ok(self.store.alerts_for_month(&month).await?)
    }

    /// Fires every notification whose threshold this month's usage (or forecast) has
    /// reached and that has not fired yet; deliveries run on their own tasks.
    pub async fn check_budgets(&self) -> ServiceResult<()> {
        let budgets = self.store.budgets().await?;
        if budgets.is_empty() {
            return Ok(());
        }
        let now = Utc::now();
        let month = month_of(now.timestamp());
        let report = self.usage_report(&month, now.timestamp()).await?;
        for budget in budgets {
            let Some(usage) = report.apis.iter().find(|a| a.api_id == budget.api_id) else {
                continue;
            };
            let (actual, forecast) = match budget.unit {
                BudgetUnit::Requests => (usage.requests as f64, usage.forecast_requests as f64),
                BudgetUnit::Cost => (usage.cost, usage.forecast_cost),
            };
            for n in &budget.notifications {
                let value = match n.notification_type {
                    NotificationType::Actual => actual,
                    NotificationType::Forecasted => forecast,
                };
                if value < budget.limit * n.threshold / 100.0 {
                    continue;
                }
                let alert = BudgetAlert {
                    api_id: budget.api_id.clone(),
                    api_name: usage.name.clone(),
                    month: month.clone(),
                    notification_type: n.notification_type,
                    threshold: n.threshold,
                    unit: budget.unit,
                    limit: budget.limit,
                    actual,
                    forecast,
                    fired_at: now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                    delivery: if budget.webhook_url.is_some() {
                        DeliveryStatus::Pending
                    } else {
                        DeliveryStatus::None
                    },
                    attempts: 0,
                    last_error: None,
                };
                if !self
                    .store
                    .insert_alert(&alert, now.timestamp_millis())
                    .await?
                {
                    continue;
                }
                warn!(
                    api_id = %alert.api_id,
                    threshold = alert.threshold,
                    kind = alert.notification_type.as_str(),
                    actual,
                    forecast,
                    limit = alert.limit,
                    "budget threshold crossed"
                );
                if let Some(url) = budget.webhook_url.clone() {
                    let service = self.clone();
                    tokio::spawn(async move { service.deliver(url, alert).await });
                }
            }
        }
        Ok(())
    }

    /// POSTs the alert to the budget's webhook, retrying with a growing pause, and
    /// records how it went.
    async fn deliver(&self, url: String, mut alert: BudgetAlert) {
        let body = serde_json::json!({
            "type": "portico.budget.alert",
            "apiId": alert.api_id,
            "apiName": alert.api_name,
            "month": alert.month,
            "notificationType": alert.notification_type,
            "threshold": alert.threshold,
            "unit": alert.unit,
            "limit": alert.limit,
            "actual": alert.actual,
            "forecast": alert.forecast,
            "firedAt": alert.fired_at,
        });
        for attempt in 1..=WEBHOOK_ATTEMPTS {
            alert.attempts = attempt;
            let sent = self
                .webhooks
                .post(&url)
                .timeout(WEBHOOK_TIMEOUT)
                .json(&body)
                .send()
                .await;
            match sent {
                Ok(r) if r.status().is_success() => {
                    alert.delivery = DeliveryStatus::Delivered;
                    alert.last_error = None;
                    break;
                }
                Ok(r) => alert.last_error = Some(format!("the webhook answered {}", r.status())),
                Err(e) => alert.last_error = Some(format!("cannot reach the webhook: {e}")),
            }
            alert.delivery = DeliveryStatus::Failed;
            if attempt < WEBHOOK_ATTEMPTS {
                tokio::time::sleep(Duration::from_secs(u64::from(attempt))).await;
            }
        }
        if alert.delivery == DeliveryStatus::Failed {
            warn!(
                api_id = %alert.api_id,
                url = %url,
                attempts = alert.attempts,
                error = alert.last_error.as_deref().unwrap_or(""),
                "budget alert webhook failed"
            );
        }
        if let Err(e) = self.store.update_alert(&alert).await {
            warn!(api_id = %alert.api_id, error = %e, "cannot record the webhook's delivery");
        }
    }
}

/// Checks budgets and prunes old series, on a control-plane replica's runtime.
pub fn spawn_usage_tasks(service: AdminService) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(BUDGET_CHECK_INTERVAL);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut last_prune = 0;
        loop {
            tick.tick().await;
            if let Err(e) = service.check_budgets().await {
                warn!(error = %e, "cannot check budgets");
            }
            let now = Utc::now().timestamp();
            if now - last_prune >= 3600 {
                last_prune = now;
                let before = now - portico_model::SERIES_RETENTION_HOURS * 3600;
                match service.store.prune_metrics(before).await {
                    Ok(0) => {}
                    Ok(n) => info!(rows = n, "pruned metric minutes past the retention"),
                    Err(e) => warn!(error = %e, "cannot prune metric minutes"),
                }
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn months_and_forecasts() {
        let (s, e) = month_bounds("2026-02").expect("feb");
        assert_eq!(e - s, 28 * 86_400);
        assert!(month_bounds("2026-13").is_none());
        assert!(month_bounds("2026-1").is_none());
        let half = s + (e - s) / 2;
        assert!((elapsed_fraction("2026-02", half) - 0.5).abs() < 1e-9);
        assert_eq!(elapsed_fraction("2026-02", e + 10), 1.0);
        assert_eq!(forecast(100.0, 0.5), 200.0);
        assert_eq!(forecast(100.0, 0.0), 100.0, "too early to say more");
    }
}
