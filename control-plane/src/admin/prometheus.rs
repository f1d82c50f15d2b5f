//! The control plane's own `/metrics` (Prometheus/OpenMetrics text, by the Prometheus
//! project's `prometheus-client`): admin API requests by method and status, and at
//! scrape time the snapshot version and the nodes this store knows of. Like a node's
//! `/metrics` it needs no credentials, so a Prometheus can scrape it; it carries counts,
//! never configuration.
use std::sync::Arc;
use std::time::Instant;

use axum::extract::{Request, State};
use axum::http::header::CONTENT_TYPE;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

use super::AdminState;

type Labels = Vec<(&'static str, String)>;

#[derive(Debug)]
pub struct ControlPlaneMetrics {
    registry: Registry,
    requests: Family<Labels, Counter>,
    durations: Family<Labels, Histogram>,
    version: Gauge,
    nodes: Family<Labels, Gauge>,
}

impl Default for ControlPlaneMetrics {
    fn default() -> Self {
        let mut registry = Registry::default();
        let requests = Family::<Labels, Counter>::default();
        let durations = Family::<Labels, Histogram>::new_with_constructor(|| {
            Histogram::new([0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1.0, 5.0])
        });
        let version = Gauge::default();
        let nodes = Family::<Labels, Gauge>::default();
        registry.register(
            "portico_admin_requests",
            "Admin API and console requests, by method and status",
            requests.clone(),
        );
        registry.register(
            "portico_admin_request_duration_seconds",
            "Time to answer admin API and console requests, by method",
            durations.clone(),
        );
        registry.register(
            "portico_snapshot_version",
            "The configuration version the store is at",
            version.clone(),
        );
        registry.register(
            "portico_nodes",
            "Proxy nodes the store knows of, by connection state and last answer",
            nodes.clone(),
        );
        ControlPlaneMetrics {
            registry,
            requests,
            durations,
            version,
            nodes,
        }
    }
}

/// Counts every request the admin listener answers.
pub async fn count_requests(
    State(metrics): State<Arc<ControlPlaneMetrics>>,
    req: Request,
    next: Next,
) -> Response {
    let method = req.method().as_str().to_string();
    let started = Instant::now();
    let response = next.run(req).await;
    metrics
        .durations
        .get_or_create(&vec![("method", method.clone())])
        .observe(started.elapsed().as_secs_f64());
    metrics
        .requests
        .get_or_create(&vec![
            ("method", method),
            ("status", response.status().as_u16().to_string()),
        ])
        .inc();
    response
}

pub async fn scrape(State(s): State<AdminState>) -> Response {
    let metrics = &s.metrics;
    if let Ok(v) = s.service.store().snapshot_version().await {
        metrics.version.set(i64::try_from(v).unwrap_or(i64::MAX));
    }
    if let Ok(nodes) = s.service.nodes().await {
        metrics.nodes.clear();
        for n in nodes {
            let labels = vec![
                (
                    "state",
                    if n.connected {
                        "connected"
                    } else {
                        "disconnected"
                    }
                    .to_string(),
                ),
                (
                    "last_status",
                    n.last_status.unwrap_or_else(|| "NONE".into()),
                ),
            ];
            metrics.nodes.get_or_create(&labels).inc();
        }
    }
    let mut body = String::new();
    // Writing to a String cannot fail.
    let _ = prometheus_client::encoding::text::encode(&mut body, &metrics.registry);
    (
        [(
            CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        body,
    )
        .into_response()
}
