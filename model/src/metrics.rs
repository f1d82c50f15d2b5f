//! The per-minute series the control plane keeps of every API's traffic, as
//! `GET /portico/apis/{apiId}/metrics` serves them and the console's Monitor tab draws
//! them: CloudWatch's API Gateway metrics (Count, 4xx, 5xx, Latency, IntegrationLatency,
//! DataProcessed), per API, stage and route.

use serde::{Deserialize, Serialize};

use crate::ValidationError;

/// Latency histogram bucket upper bounds in milliseconds, shared by the nodes (which
/// count into them), the control plane (which adds them up) and Prometheus (which sees
/// them in seconds). A last, unbounded bucket follows.
pub const LATENCY_BOUNDS_MS: [f64; 15] = [
    0.5, 1.0, 2.5, 5.0, 10.0, 25.0, 50.0, 100.0, 250.0, 500.0, 1000.0, 2500.0, 5000.0, 10000.0,
    30000.0,
];

/// Buckets per histogram: one per bound, and the overflow.
pub const LATENCY_BUCKETS: usize = LATENCY_BOUNDS_MS.len() + 1;

/// How long the control plane keeps per-minute series.
pub const SERIES_RETENTION_HOURS: i64 = 48;

/// The longest window a query may ask for.
pub const MAX_METRICS_WINDOW_SECONDS: i64 = SERIES_RETENTION_HOURS * 3600;

/// The estimated `q`-quantile (0..1) of a histogram over [`LATENCY_BOUNDS_MS`], by
/// linear interpolation within the bucket it falls in, as Prometheus's
/// `histogram_quantile` does; `None` when the histogram is empty.
pub fn latency_quantile(buckets: &[u64], q: f64) -> Option<f64> {
    let total: u64 = buckets.iter().sum();
    if total == 0 {
        return None;
    }
    let rank = q * total as f64;
    let mut seen = 0u64;
    for (i, &count) in buckets.iter().enumerate() {
        if count == 0 {
            continue;
        }
        if (seen + count) as f64 >= rank {
            let lower = if i == 0 {
                0.0
            } else {
                LATENCY_BOUNDS_MS[i - 1]
            };
            let Some(&upper) = LATENCY_BOUNDS_MS.get(i) else {
                // The overflow bucket has no upper bound: its lower one is all we know.
                return Some(lower);
            };
            let within = (rank - seen as f64) / count as f64;
            return Some(lower + (upper - lower) * within.clamp(0.0, 1.0));
        }
        seen += count;
    }
    LATENCY_BOUNDS_MS.last().copied()
}

/// The query string of `GET /portico/apis/{apiId}/metrics`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MetricsQuery {
    /// Only this stage; all of the API's stages when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stage: Option<String>,
    /// Only this route key (`GET /notes`); every route when absent. Requests that matched
    /// no route are under the empty key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub route: Option<String>,
    /// Seconds per point: a multiple of 60 [default 60].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub period: Option<i64>,
    /// How far back the series reaches, in seconds [default 3600, at most 48 hours].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window: Option<i64>,
}

impl MetricsQuery {
    /// The period and window the query asks for, checked.
    pub fn resolved(&self) -> Result<(i64, i64), ValidationError> {
        let period = self.period.unwrap_or(60);
        if period < 60 || period % 60 != 0 || period > 86_400 {
            return Err(ValidationError::new(
                "period",
                "period must be a multiple of 60 seconds, at most 86400",
            ));
        }
        let window = self.window.unwrap_or(3600);
        if window < period || window > MAX_METRICS_WINDOW_SECONDS {
            return Err(ValidationError::new(
                "window",
                format!(
                    "window must be at least the period and at most {MAX_METRICS_WINDOW_SECONDS} seconds"
                ),
            ));
        }
        Ok((period, window))
    }
}

/// What happened in one period (or in a whole window, for totals).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MetricPoint {
    /// The start of the period (RFC 3339, UTC); empty for totals.
    #[serde(default)]
    pub time: String,
    pub count: u64,
    #[serde(rename = "4xx")]
    pub client_errors: u64,
    #[serde(rename = "5xx")]
    pub server_errors: u64,
    /// 429s the stage's throttle answered.
    pub throttled: u64,
    /// 401s and 403s an authorizer answered.
    pub unauthorized: u64,
    /// Milliseconds, from the whole request to the end of its response.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency_p50: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency_p99: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency_avg: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub integration_latency_p50: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub integration_latency_p99: Option<f64>,
    pub bytes_in: u64,
    pub bytes_out: u64,
}

/// One stage and route's totals over the window.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RouteTotals {
    pub stage: String,
    /// Empty for requests that matched no route.
    pub route_key: String,
    pub totals: MetricPoint,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApiMetrics {
    pub api_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stage: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub route: Option<String>,
    pub period: i64,
    /// RFC 3339, UTC: the first point's start, and the end of the last.
    pub start: String,
    pub end: String,
    /// Every period of the window, oldest first, zeros included.
    pub points: Vec<MetricPoint>,
    pub totals: MetricPoint,
    /// By stage and route, busiest first.
    pub routes: Vec<RouteTotals>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_interpolate_within_a_bucket() {
        let mut b = [0u64; LATENCY_BUCKETS];
        assert_eq!(latency_quantile(&b, 0.5), None);
        // 10 requests between 1 and 2.5 ms.
        b[2] = 10;
        let p50 = latency_quantile(&b, 0.5).expect("p50");
        assert!((p50 - 1.75).abs() < 1e-9, "{p50}");
        b[LATENCY_BUCKETS - 1] = 1000;
        assert_eq!(latency_quantile(&b, 0.99), Some(30000.0));
    }

    #[test]
    fn queries_are_checked() {
        let q = MetricsQuery::default();
        assert_eq!(q.resolved(), Ok((60, 3600)));
        let bad = MetricsQuery {
            period: Some(61),
            ..Default::default()
        };
        assert_eq!(bad.resolved().expect_err("period").field, "period");
        let bad = MetricsQuery {
            window: Some(MAX_METRICS_WINDOW_SECONDS + 60),
            ..Default::default()
        };
        assert_eq!(bad.resolved().expect_err("window").field, "window");
    }
}
