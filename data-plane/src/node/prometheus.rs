//! The node's `/metrics`: its meters and config state in the Prometheus/OpenMetrics text
//! format, encoded by the Prometheus project's `prometheus-client` crate from the values
//! the request path already keeps (a collector reads them at scrape time, so serving a
//! request costs no registry lookup).

use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;

use arc_swap::ArcSwap;
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, NoLabelSet};
use prometheus_client::metrics::MetricType;
use prometheus_client::registry::Registry;

use portico_model::LATENCY_BOUNDS_MS;

use crate::config::CompiledConfig;
use crate::node::lifecycle::Lifecycle;
use crate::runtime::Runtime;
use crate::runtime::meters::{Histogram, RouteMeter, StatusLabel};

pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

#[derive(Debug)]
struct NodeCollector {
    runtime: Arc<Runtime>,
    config: Arc<ArcSwap<CompiledConfig>>,
    lifecycle: Arc<Lifecycle>,
}

/// The registry `/metrics` encodes.
pub fn registry(
    runtime: Arc<Runtime>,
    config: Arc<ArcSwap<CompiledConfig>>,
    lifecycle: Arc<Lifecycle>,
) -> Registry {
    let mut registry = Registry::default();
    registry.register_collector(Box::new(NodeCollector {
        runtime,
        config,
        lifecycle,
    }));
    registry
}

/// Encodes a whole scrape.
pub fn encode(registry: &Registry) -> String {
    let mut out = String::with_capacity(16 * 1024);
    // Writing to a String cannot fail.
    let _ = prometheus_client::encoding::text::encode(&mut out, registry);
    out
}

fn route_labels(m: &RouteMeter) -> [(&'static str, &str); 3] {
    [
        ("api_id", &m.key.api_id),
        ("stage", &m.key.stage),
        ("route", &m.key.route_key),
    ]
}

fn counter(
    encoder: &mut DescriptorEncoder,
    name: &str,
    help: &str,
    meters: &[Arc<RouteMeter>],
    value: impl Fn(&crate::runtime::meters::RouteCounts) -> u64,
) -> Result<(), std::fmt::Error> {
    let mut family = encoder.encode_descriptor(name, help, None, MetricType::Counter)?;
    for m in meters {
        let Some(c) = m.counts() else { continue };
        let labels = route_labels(m);
        family
            .encode_family(&labels)?
            .encode_counter::<NoLabelSet, _, u64>(&value(c), None)?;
    }
    Ok(())
}

fn histogram(
    encoder: &mut DescriptorEncoder,
    name: &str,
    help: &str,
    meters: &[Arc<RouteMeter>],
    pick: impl Fn(&crate::runtime::meters::RouteCounts) -> &Histogram,
) -> Result<(), std::fmt::Error> {
    let mut family = encoder.encode_descriptor(name, help, None, MetricType::Histogram)?;
    for m in meters {
        let Some(c) = m.counts() else { continue };
        let h = pick(c);
        let counts = h.buckets();
        let total: u64 = counts.iter().sum();
        if total == 0 {
            continue;
        }
        // Per-bucket counts, in seconds, ending with +Inf: the encoder makes them
        // cumulative.
        let buckets: Vec<(f64, u64)> = counts
            .iter()
            .enumerate()
            .map(|(i, n)| {
                let bound = LATENCY_BOUNDS_MS
                    .get(i)
                    .map_or(f64::INFINITY, |b| b / 1000.0);
                (bound, *n)
            })
            .collect();
        let labels = route_labels(m);
        family
            .encode_family(&labels)?
            .encode_histogram::<NoLabelSet>(h.sum_seconds(), total, &buckets, None)?;
    }
    Ok(())
}

impl Collector for NodeCollector {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let mut meters = self.runtime.meters.meters();
        meters.sort_by(|a, b| {
            (&a.key.api_id, &a.key.stage, &a.key.route_key).cmp(&(
                &b.key.api_id,
                &b.key.stage,
                &b.key.route_key,
            ))
        });

        {
            let mut family = encoder.encode_descriptor(
                "portico_requests",
                "Requests served, by API, stage, route key (empty: no route matched) and status",
                None,
                MetricType::Counter,
            )?;
            let mut status = String::new();
            for m in &meters {
                let Some(c) = m.counts() else { continue };
                let mut result = Ok(());
                c.statuses.each(|label, n| {
                    if result.is_err() {
                        return;
                    }
                    status.clear();
                    label.write(&mut status);
                    let [a, s, r] = route_labels(m);
                    let labels = [a, s, r, ("status", status.as_str())];
                    result = family
                        .encode_family(&labels)
                        .and_then(|mut f| f.encode_counter::<NoLabelSet, _, u64>(&n, None));
                });
                result?;
            }
        }
        histogram(
            &mut encoder,
            "portico_request_duration_seconds",
            "Time from a request's arrival to the end of its response",
            &meters,
            |c| &c.latency,
        )?;
        histogram(
            &mut encoder,
            "portico_integration_duration_seconds",
            "Time the integration took to answer with a response head",
            &meters,
            |c| &c.integration,
        )?;
        counter(
            &mut encoder,
            "portico_throttled_requests",
            "Requests the stage's throttle answered with 429",
            &meters,
            |c| c.throttled.load(Relaxed),
        )?;
        counter(
            &mut encoder,
            "portico_unauthorized_requests",
            "Requests a route's authorizer answered with 401 or 403",
            &meters,
            |c| c.unauthorized.load(Relaxed),
        )?;
        counter(
            &mut encoder,
            "portico_request_bytes",
            "Request body bytes, as declared by Content-Length",
            &meters,
            |c| c.bytes_in.load(Relaxed),
        )?;
        counter(
            &mut encoder,
            "portico_response_bytes",
            "Response body bytes sent",
            &meters,
            |c| c.bytes_out.load(Relaxed),
        )?;
        {
            let mut family = encoder.encode_descriptor(
                "portico_unrouted_requests",
                "Requests whose host or path named no API or stage this node serves",
                None,
                MetricType::Counter,
            )?;
            let mut status = String::new();
            let mut result = Ok(());
            self.runtime.meters.unrouted.each(|label: StatusLabel, n| {
                if result.is_err() {
                    return;
                }
                status.clear();
                label.write(&mut status);
                let labels = [("status", status.as_str())];
                result = family
                    .encode_family(&labels)
                    .and_then(|mut f| f.encode_counter::<NoLabelSet, _, u64>(&n, None));
            });
            result?;
        }

        let config = self.config.load();
        let cm = &self.runtime.meters.config;
        let gauge = |encoder: &mut DescriptorEncoder, name, help, v: f64| {
            encoder
                .encode_descriptor(name, help, None, MetricType::Gauge)?
                .encode_gauge(&v)
        };
        gauge(
            &mut encoder,
            "portico_config_version",
            "The snapshot version the node serves (0: none yet)",
            config.version as f64,
        )?;
        for (name, help, v) in [
            (
                "portico_config_acks",
                "Snapshot pushes the node applied",
                cm.acks.load(Relaxed),
            ),
            (
                "portico_config_nacks",
                "Snapshot pushes the node refused",
                cm.nacks.load(Relaxed),
            ),
        ] {
            encoder
                .encode_descriptor(name, help, None, MetricType::Counter)?
                .encode_counter::<NoLabelSet, _, u64>(&v, None)?;
        }
        let mut family = encoder.encode_descriptor(
            "portico_config_pushes",
            "Snapshot pushes received, by what they carried: a full snapshot, only a new version number for content already served, or the version already served (a reconnect)",
            None,
            MetricType::Counter,
        )?;
        for (content, n) in cm.pushes() {
            family
                .encode_family(&[("content", content)])?
                .encode_counter::<NoLabelSet, _, u64>(&n, None)?;
        }
        if let Some(url) = cm.connected_to() {
            encoder
                .encode_descriptor(
                    "portico_config_stream_connected",
                    "1 for the control plane the config stream is open to (absent: none)",
                    None,
                    MetricType::Gauge,
                )?
                .encode_family(&[("control_plane", url.as_str())])?
                .encode_gauge(&1i64)?;
        }
        gauge(
            &mut encoder,
            "portico_node_draining",
            "1 while the node drains before it stops (its /ready answers 503)",
            if self.lifecycle.is_draining() {
                1.0
            } else {
                0.0
            },
        )?;
        gauge(
            &mut encoder,
            "portico_config_last_ack_timestamp_seconds",
            "When the node last applied a push (Unix time; 0: never)",
            cm.last_ack_ms.load(Relaxed) as f64 / 1000.0,
        )?;
        gauge(
            &mut encoder,
            "portico_config_last_nack_timestamp_seconds",
            "When the node last refused a push (Unix time; 0: never)",
            cm.last_nack_ms.load(Relaxed) as f64 / 1000.0,
        )?;
        gauge(
            &mut encoder,
            "portico_upstream_idle_connections",
            "Idle pooled upstream connections over all workers, as of their last sweep",
            self.runtime.meters.upstream_idle() as f64,
        )?;

        let targets = self.runtime.vpc_links.report();
        if !targets.is_empty() {
            let mut family = encoder.encode_descriptor(
                "portico_vpc_link_target_healthy",
                "Whether this node sends requests to a VPC-link endpoint (1: healthy or not checked yet; 0: unhealthy or ejected)",
                None,
                MetricType::Gauge,
            )?;
            for t in &targets {
                let serves = matches!(
                    portico_proto::TargetState::try_from(t.state),
                    Ok(portico_proto::TargetState::Healthy | portico_proto::TargetState::Unknown)
                ) && !t.endpoint.is_empty();
                let labels = [
                    ("vpc_link_id", t.vpc_link_id.as_str()),
                    ("target", t.target.as_str()),
                    ("endpoint", t.endpoint.as_str()),
                ];
                family
                    .encode_family(&labels)?
                    .encode_gauge(&i64::from(serves))?;
            }
        }

        let mut sinks = self.runtime.access_logs.sinks();
        sinks.sort_by(|a, b| a.group.cmp(&b.group));
        for (name, help, dropped) in [
            (
                "portico_access_log_lines",
                "Access-log lines written, by log group",
                false,
            ),
            (
                "portico_access_log_dropped",
                "Access-log lines dropped because the writer fell behind or failed",
                true,
            ),
        ] {
            let mut family = encoder.encode_descriptor(name, help, None, MetricType::Counter)?;
            for sink in &sinks {
                let v = if dropped {
                    sink.dropped.load(Relaxed)
                } else {
                    sink.written.load(Relaxed)
                };
                let labels = [("log_group", &*sink.group)];
                family
                    .encode_family(&labels)?
                    .encode_counter::<NoLabelSet, _, u64>(&v, None)?;
            }
        }
        Ok(())
    }
}
