//! Per-minute series of an API's traffic, as nodes report it, folded into the periods a
//! query asks for: CloudWatch's API Gateway metrics without leaving Portico.

use std::collections::BTreeMap;

use portico_model::{
    ApiMetrics, LATENCY_BUCKETS, MetricPoint, MetricsQuery, RouteTotals, latency_quantile,
};

use super::apis::api_not_found;
use super::{AdminService, ServiceResult, allow};
use crate::identity::{Caller, Permission};
use crate::store::MetricRow;

/// Counts and histograms being added up.
#[derive(Debug, Clone, Default)]
struct Sum {
    row: MetricRow,
}

impl Sum {
    fn add(&mut self, r: &MetricRow) {
        let s = &mut self.row;
        s.requests += r.requests;
        s.c4xx += r.c4xx;
        s.c5xx += r.c5xx;
        s.throttled += r.throttled;
        s.unauthorized += r.unauthorized;
        s.bytes_in += r.bytes_in;
        s.bytes_out += r.bytes_out;
        s.latency_sum += r.latency_sum;
        s.integration_sum += r.integration_sum;
        for i in 0..LATENCY_BUCKETS {
            s.latency[i] += r.latency[i];
            s.integration[i] += r.integration[i];
        }
    }

    fn point(&self, time: String) -> MetricPoint {
        let s = &self.row;
        let round = |v: f64| (v * 1000.0).round() / 1000.0;
        MetricPoint {
            time,
            count: s.requests,
            client_errors: s.c4xx,
            server_errors: s.c5xx,
            throttled: s.throttled,
            unauthorized: s.unauthorized,
            latency_p50: latency_quantile(&s.latency, 0.5).map(round),
            latency_p99: latency_quantile(&s.latency, 0.99).map(round),
            latency_avg: (s.requests > 0).then(|| round(s.latency_sum / s.requests as f64)),
            integration_latency_p50: latency_quantile(&s.integration, 0.5).map(round),
            integration_latency_p99: latency_quantile(&s.integration, 0.99).map(round),
            bytes_in: s.bytes_in,
            bytes_out: s.bytes_out,
        }
    }
}

fn rfc3339(unix: i64) -> String {
    chrono::DateTime::from_timestamp(unix, 0)
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// Folds rows into `period`-second points from `start` (aligned) to `end`.
pub(crate) fn fold(
    rows: &[MetricRow],
    start: i64,
    end: i64,
    period: i64,
) -> (Vec<MetricPoint>, MetricPoint, Vec<RouteTotals>) {
    let slots = ((end - start) / period).max(0) as usize;
    let mut points = vec![Sum::default(); slots];
    let mut total = Sum::default();
    let mut by_route: BTreeMap<(&str, &str), Sum> = BTreeMap::new();
    for r in rows {
        if r.minute < start || r.minute >= end {
            continue;
        }
        let slot = ((r.minute - start) / period) as usize;
        if let Some(p) = points.get_mut(slot) {
            p.add(r);
        }
        total.add(r);
        by_route
            .entry((r.stage.as_str(), r.route_key.as_str()))
            .or_default()
            .add(r);
    }
    let points = points
        .iter()
        .enumerate()
        .map(|(i, s)| s.point(rfc3339(start + i as i64 * period)))
        .collect();
    let mut routes: Vec<RouteTotals> = by_route
        .into_iter()
        .map(|((stage, route_key), s)| RouteTotals {
            stage: stage.to_string(),
            route_key: route_key.to_string(),
            totals: s.point(String::new()),
        })
        .collect();
    routes.sort_by_key(|r| std::cmp::Reverse(r.totals.count));
    (points, total.point(String::new()), routes)
}

impl AdminService {
    /// `GET /portico/apis/{apiId}/metrics`.
    pub async fn api_metrics(
        &self,
        caller: &Caller,
        api_id: &str,
        query: MetricsQuery,
    ) -> ServiceResult<ApiMetrics> {
        allow(caller, Permission::Read)?;
        let (period, window) = query.resolved()?;
        {
            let mut tx = self.store.read().await?;
            tx.get_api(api_id)
                .await?
                .ok_or_else(|| api_not_found(api_id))?;
        }
        let now = chrono::Utc::now().timestamp();
        // Periods end at the next minute boundary, so the current minute is included.
        let end = (now / 60 + 1) * 60;
        let end = end + (period - end % period) % period;
        let start = end - (window / period) * period;
        let rows = self
            .store
            .metric_rows(
                api_id,
                query.stage.as_deref(),
                query.route.as_deref(),
                start,
            )
            .await?;
        let (points, totals, routes) = fold(&rows, start, end, period);
        Ok(ApiMetrics {
            api_id: api_id.to_string(),
            stage: query.stage,
            route: query.route,
            period,
            start: rfc3339(start),
            end: rfc3339(end),
            points,
            totals,
            routes,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(stage: &str, route: &str, minute: i64, requests: u64, c5xx: u64) -> MetricRow {
        let mut latency = [0; LATENCY_BUCKETS];
        latency[3] = requests;
        MetricRow {
            stage: stage.into(),
            route_key: route.into(),
            minute,
            requests,
            c5xx,
            latency,
            ..Default::default()
        }
    }

    #[test]
    fn folds_minutes_into_periods_and_routes() {
        let rows = [
            row("dev", "GET /a", 0, 3, 0),
            row("dev", "GET /a", 60, 2, 1),
            row("dev", "", 120, 1, 0),
            row("dev", "GET /a", 600, 9, 0),
        ];
        let (points, totals, routes) = fold(&rows, 0, 300, 120);
        assert_eq!(points.len(), 2);
        assert_eq!(points[0].count, 5);
        assert_eq!(points[0].server_errors, 1);
        assert_eq!(points[1].count, 1);
        assert_eq!(points[1].time, "1970-01-01T00:02:00Z");
        assert_eq!(totals.count, 6, "the minute past the window is left out");
        assert_eq!(routes[0].route_key, "GET /a");
        assert_eq!(routes[1].route_key, "");
        let p50 = totals.latency_p50.expect("p50");
        assert!((2.5..=5.0).contains(&p50), "{p50}");
    }
}
