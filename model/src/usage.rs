//! What each API would cost on AWS, and the budgets that warn before a surprise:
//! the price table (`/portico/pricing`), the monthly usage report (`/portico/usage`),
//! and a budget per API (`/portico/apis/{apiId}/budget`) shaped after AWS Budgets'
//! notifications (ACTUAL or FORECASTED, a threshold in percent of the limit).

use serde::{Deserialize, Serialize};

use crate::ValidationError;

/// Bytes in the gigabyte AWS bills data transfer by.
pub const BYTES_PER_GB: f64 = (1u64 << 30) as f64;

/// AWS's list prices (US East), as Portico ships them; the operator can edit them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Pricing {
    /// The day these prices were taken from AWS's price list (YYYY-MM-DD).
    pub effective_date: String,
    pub currency: String,
    pub http_requests_per_million: f64,
    pub rest_requests_per_million: f64,
    pub websocket_messages_per_million: f64,
    pub data_out_per_gb: f64,
    /// Requests a month that cost nothing (AWS's free tier), counted over all APIs.
    pub free_tier_requests: u64,
}

impl Default for Pricing {
    fn default() -> Self {
        Pricing {
            effective_date: "2026-12-01".into(),
            currency: "USD".into(),
            http_requests_per_million: 1.0,
            rest_requests_per_million: 3.5,
            websocket_messages_per_million: 1.0,
            data_out_per_gb: 0.09,
            free_tier_requests: 1_000_000,
        }
    }
}

impl Pricing {
    pub fn validate(&self) -> Result<(), ValidationError> {
        let d = self.effective_date.as_bytes();
        let date_ok = d.len() == 10
            && d[4] == b'-'
            && d[7] == b'-'
            && d.iter()
                .enumerate()
                .all(|(i, b)| i == 4 || i == 7 || b.is_ascii_digit());
        if !date_ok {
            return Err(ValidationError::new(
                "effectiveDate",
                "effectiveDate must be a date, YYYY-MM-DD",
            ));
        }
        if self.currency.len() != 3 || !self.currency.bytes().all(|b| b.is_ascii_uppercase()) {
            return Err(ValidationError::new(
                "currency",
                "currency must be a three-letter ISO 4217 code",
            ));
        }
        for (field, value) in [
            ("httpRequestsPerMillion", self.http_requests_per_million),
            ("restRequestsPerMillion", self.rest_requests_per_million),
            (
                "websocketMessagesPerMillion",
                self.websocket_messages_per_million,
            ),
            ("dataOutPerGb", self.data_out_per_gb),
        ] {
            if !value.is_finite() || value < 0.0 {
                return Err(ValidationError::new(
                    field,
                    format!("{field} must be a price of zero or more"),
                ));
            }
        }
        Ok(())
    }

    /// The price of a million requests (messages, for WebSocket APIs) of an API of
    /// `protocol_type`.
    pub fn per_million(&self, protocol_type: &str) -> f64 {
        match protocol_type {
            "WEBSOCKET" => self.websocket_messages_per_million,
            "REST" => self.rest_requests_per_million,
            _ => self.http_requests_per_million,
        }
    }

    /// What `requests` and `bytes_out` cost before the free tier.
    pub fn cost(&self, protocol_type: &str, requests: u64, bytes_out: u64) -> f64 {
        requests as f64 / 1e6 * self.per_million(protocol_type)
            + bytes_out as f64 / BYTES_PER_GB * self.data_out_per_gb
    }
}

/// One API's month.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApiUsage {
    pub api_id: String,
    pub name: String,
    pub protocol_type: String,
    pub requests: u64,
    pub bytes_in: u64,
    pub bytes_out: u64,
    /// Before the free tier, which applies to the total.
    pub cost: f64,
    /// The month's requests and cost if the rest of it goes as it went so far.
    pub forecast_requests: u64,
    pub forecast_cost: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub budget: Option<Budget>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UsageReport {
    /// YYYY-MM, UTC.
    pub month: String,
    pub pricing: Pricing,
    pub apis: Vec<ApiUsage>,
    pub requests: u64,
    pub bytes_in: u64,
    pub bytes_out: u64,
    /// Every API's cost, less the free tier's requests.
    pub cost: f64,
    pub forecast_cost: f64,
    /// The month's budget alerts, newest first.
    pub alerts: Vec<BudgetAlert>,
}

/// What a budget counts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum BudgetUnit {
    #[default]
    Requests,
    /// The AWS-equivalent cost, in the price table's currency.
    Cost,
}

/// AWS Budgets' notification types.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum NotificationType {
    #[default]
    Actual,
    Forecasted,
}

impl NotificationType {
    pub fn as_str(self) -> &'static str {
        match self {
            NotificationType::Actual => "ACTUAL",
            NotificationType::Forecasted => "FORECASTED",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BudgetNotification {
    pub notification_type: NotificationType,
    /// Percent of the limit, above 0.
    pub threshold: f64,
}

/// A monthly budget on one API.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Budget {
    pub api_id: String,
    pub unit: BudgetUnit,
    pub limit: f64,
    pub notifications: Vec<BudgetNotification>,
    /// Where alerts are POSTed as JSON; none: the console's banner only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webhook_url: Option<String>,
    pub last_updated_date: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PutBudget {
    pub unit: BudgetUnit,
    pub limit: f64,
    pub notifications: Vec<BudgetNotification>,
    #[serde(default)]
    pub webhook_url: Option<String>,
}

impl PutBudget {
    pub fn validate(&self) -> Result<(), ValidationError> {
        if !self.limit.is_finite() || self.limit <= 0.0 {
            return Err(ValidationError::new("limit", "limit must be above zero"));
        }
        if self.notifications.is_empty() || self.notifications.len() > 10 {
            return Err(ValidationError::new(
                "notifications",
                "a budget needs 1 to 10 notifications",
            ));
        }
        for n in &self.notifications {
            if !n.threshold.is_finite() || n.threshold <= 0.0 || n.threshold > 1000.0 {
                return Err(ValidationError::new(
                    "notifications",
                    "a notification's threshold is a percent of the limit, above 0 and at most 1000",
                ));
            }
        }
        if let Some(url) = &self.webhook_url {
            let ok = (url.starts_with("http://") || url.starts_with("https://"))
                && url.len() <= 2048
                && !url.contains(char::is_whitespace);
            if !ok {
                return Err(ValidationError::new(
                    "webhookUrl",
                    "webhookUrl must be an http:// or https:// URL",
                ));
            }
        }
        Ok(())
    }
}

/// Where a webhook delivery stands.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum DeliveryStatus {
    #[default]
    Pending,
    Delivered,
    Failed,
    /// The budget has no webhook.
    None,
}

/// A threshold crossed: fired once per API, month, notification type and threshold.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BudgetAlert {
    pub api_id: String,
    pub api_name: String,
    pub month: String,
    pub notification_type: NotificationType,
    pub threshold: f64,
    pub unit: BudgetUnit,
    pub limit: f64,
    /// What was used, and forecast, when it fired.
    pub actual: f64,
    pub forecast: f64,
    pub fired_at: String,
    pub delivery: DeliveryStatus,
    pub attempts: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn costs_follow_the_price_table() {
        let p = Pricing::default();
        assert!(p.validate().is_ok());
        assert!((p.cost("HTTP", 2_000_000, 0) - 2.0).abs() < 1e-9);
        assert!((p.cost("WEBSOCKET", 1_000_000, 1 << 30) - 1.09).abs() < 1e-9);
        let bad = Pricing {
            data_out_per_gb: -1.0,
            ..Pricing::default()
        };
        assert_eq!(bad.validate().expect_err("neg").field, "dataOutPerGb");
        let bad = Pricing {
            effective_date: "yesterday".into(),
            ..Pricing::default()
        };
        assert_eq!(bad.validate().expect_err("date").field, "effectiveDate");
    }

    #[test]
    fn budgets_are_checked() {
        let ok = PutBudget {
            unit: BudgetUnit::Requests,
            limit: 100.0,
            notifications: vec![BudgetNotification {
                notification_type: NotificationType::Actual,
                threshold: 80.0,
            }],
            webhook_url: Some("http://127.0.0.1:9/hook".into()),
        };
        assert!(ok.validate().is_ok());
        let bad = PutBudget {
            webhook_url: Some("ftp://x".into()),
            ..ok.clone()
        };
        assert_eq!(bad.validate().expect_err("url").field, "webhookUrl");
        let bad = PutBudget {
            limit: 0.0,
            ..ok.clone()
        };
        assert_eq!(bad.validate().expect_err("limit").field, "limit");
        let bad = PutBudget {
            notifications: vec![],
            ..ok
        };
        assert_eq!(bad.validate().expect_err("n").field, "notifications");
    }
}
