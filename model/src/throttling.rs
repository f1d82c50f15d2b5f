//! Stage throttling in AWS's shape: `DefaultRouteSettings` and `RouteSettings` (by route
//! key) on a stage, each with `ThrottlingRateLimit` (requests per second, a double) and
//! `ThrottlingBurstLimit` (the bucket's size, an integer). Only the throttling fields
//! do anything in Portico; the logging ones are kept as sent so nothing is lost.
use serde::{Deserialize, Serialize};

use crate::ValidationError;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RouteSettings {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_trace_enabled: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detailed_metrics_enabled: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logging_level: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub throttling_burst_limit: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub throttling_rate_limit: Option<f64>,
}

impl RouteSettings {
    /// Fields set here win; the rest come from `under` (a route's settings over the
    /// stage's defaults, or an update over what is stored).
    pub fn over(&self, under: &RouteSettings) -> RouteSettings {
        RouteSettings {
            data_trace_enabled: self.data_trace_enabled.or(under.data_trace_enabled),
            detailed_metrics_enabled: self
                .detailed_metrics_enabled
                .or(under.detailed_metrics_enabled),
            logging_level: self
                .logging_level
                .clone()
                .or_else(|| under.logging_level.clone()),
            throttling_burst_limit: self.throttling_burst_limit.or(under.throttling_burst_limit),
            throttling_rate_limit: self.throttling_rate_limit.or(under.throttling_rate_limit),
        }
    }

    pub fn is_throttled(&self) -> bool {
        self.throttling_burst_limit.is_some() || self.throttling_rate_limit.is_some()
    }
}

/// Largest burst a bucket holds; far above AWS's account quota (5,000), so no real
/// configuration is refused, while the arithmetic stays exact in an f64.
pub const THROTTLING_BURST_MAX: i64 = 1 << 40;

/// `field` is where the settings were sent (`defaultRouteSettings`, or
/// `routeSettings` with the route key in the message).
pub fn validate_route_settings(
    field: &'static str,
    route_key: Option<&str>,
    s: &RouteSettings,
) -> Result<(), ValidationError> {
    let at = route_key.map_or_else(String::new, |k| format!(" for route '{k}'"));
    if let Some(rate) = s.throttling_rate_limit
        && (!rate.is_finite() || rate < 0.0 || rate > THROTTLING_BURST_MAX as f64)
    {
        return Err(ValidationError::new(
            field,
            format!(
                "throttlingRateLimit{at} must be a number of requests per second, 0 or more, got {rate}"
            ),
        ));
    }
    if let Some(burst) = s.throttling_burst_limit
        && !(0..=THROTTLING_BURST_MAX).contains(&burst)
    {
        return Err(ValidationError::new(
            field,
            format!(
                "throttlingBurstLimit{at} must be a whole number of requests, 0 or more, got {burst}"
            ),
        ));
    }
    if let Some(level) = &s.logging_level
        && !matches!(level.as_str(), "ERROR" | "INFO" | "OFF")
    {
        return Err(ValidationError::new(
            field,
            format!("loggingLevel{at} must be ERROR, INFO or OFF, got '{level}'"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn route_settings_win_field_by_field() {
        let stage = RouteSettings {
            throttling_rate_limit: Some(100.0),
            throttling_burst_limit: Some(50),
            ..Default::default()
        };
        let route = RouteSettings {
            throttling_burst_limit: Some(5),
            ..Default::default()
        };
        let effective = route.over(&stage);
        assert_eq!(effective.throttling_rate_limit, Some(100.0));
        assert_eq!(effective.throttling_burst_limit, Some(5));
        assert!(!RouteSettings::default().is_throttled());
    }

    #[test]
    fn limits_are_checked() {
        let ok = RouteSettings {
            throttling_rate_limit: Some(0.5),
            throttling_burst_limit: Some(0),
            logging_level: Some("OFF".into()),
            ..Default::default()
        };
        validate_route_settings("defaultRouteSettings", None, &ok).unwrap();
        for bad in [
            RouteSettings {
                throttling_rate_limit: Some(-1.0),
                ..Default::default()
            },
            RouteSettings {
                throttling_rate_limit: Some(f64::NAN),
                ..Default::default()
            },
            RouteSettings {
                throttling_burst_limit: Some(-3),
                ..Default::default()
            },
            RouteSettings {
                logging_level: Some("DEBUG".into()),
                ..Default::default()
            },
        ] {
            let e = validate_route_settings("routeSettings", Some("GET /x"), &bad).unwrap_err();
            assert_eq!(e.field, "routeSettings");
            assert!(e.message.contains("GET /x"), "{}", e.message);
        }
    }
}
