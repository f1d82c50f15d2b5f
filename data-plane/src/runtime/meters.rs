//! What the node counts of the traffic it serves, per API, stage and route: the
//! numbers behind `/metrics` and behind the reports that feed the control plane's
//! per-minute series. Meters outlive config swaps (a new snapshot does not zero a
//! counter Prometheus has scraped) and are keyed by the route's stable id.
//!
//! The request path only adds to atomics it already holds a handle to. A route's
//! counters are allocated on its first request, so 10,000 routes that see no traffic
//! cost a small handle each.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU16, AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::Duration;

use portico_model::{LATENCY_BOUNDS_MS, LATENCY_BUCKETS};
use portico_proto::{MetricsReport, RouteMetrics};

/// Distinct status codes a route keeps its own counter for; more spill into one
/// counter per class, which `/metrics` labels `2xx`, `4xx`, ….
const STATUS_SLOTS: usize = 16;

/// One request as the log phase saw it when its response ended.
#[derive(Debug, Clone, Copy, Default)]
pub struct Served {
    pub status: u16,
    pub latency: Duration,
    pub integration: Option<Duration>,
    pub throttled: bool,
    pub unauthorized: bool,
    pub bytes_in: u64,
    pub bytes_out: u64,
}

/// Request counts by status code, without a lock.
#[derive(Debug, Default)]
pub struct StatusCounts {
    codes: [AtomicU16; STATUS_SLOTS],
    counts: [AtomicU64; STATUS_SLOTS],
    /// By class (index 1 = 1xx … 5 = 5xx) once every slot is taken.
    spilled: [AtomicU64; 6],
}

impl StatusCounts {
    pub fn add(&self, status: u16) {
        for (code, count) in self.codes.iter().zip(&self.counts) {
            let seen = code.load(Relaxed);
            if seen == status {
                count.fetch_add(1, Relaxed);
                return;
            }
            if seen == 0 {
                match code.compare_exchange(0, status, Relaxed, Relaxed) {
                    Ok(_) => {
                        count.fetch_add(1, Relaxed);
                        return;
                    }
                    Err(now) if now == status => {
                        count.fetch_add(1, Relaxed);
                        return;
                    }
                    Err(_) => continue,
                }
            }
        }
        self.spilled[usize::from(status / 100).min(5)].fetch_add(1, Relaxed);
    }

    /// Every status seen, as its label and count.
    pub fn each(&self, mut f: impl FnMut(StatusLabel, u64)) {
        for (code, count) in self.codes.iter().zip(&self.counts) {
            match code.load(Relaxed) {
                0 => break,
                c => f(StatusLabel::Code(c), count.load(Relaxed)),
            }
        }
        for (class, count) in self.spilled.iter().enumerate() {
            let n = count.load(Relaxed);
            if n > 0 {
                f(StatusLabel::Class(class as u8), n);
            }
        }
    }

    fn totals(&self) -> (u64, u64, u64) {
        let (mut all, mut c4, mut c5) = (0, 0, 0);
        self.each(|label, n| {
            all += n;
            match label.class() {
                4 => c4 += n,
                5 => c5 += n,
                _ => {}
            }
        });
        (all, c4, c5)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusLabel {
    Code(u16),
    Class(u8),
}

impl StatusLabel {
    fn class(self) -> u8 {
        match self {
            StatusLabel::Code(c) => (c / 100) as u8,
            StatusLabel::Class(c) => c,
        }
    }

    pub fn write(self, out: &mut String) {
        use std::fmt::Write;
        let _ = match self {
            StatusLabel::Code(c) => write!(out, "{c}"),
            StatusLabel::Class(c) => write!(out, "{c}xx"),
        };
    }
}

/// A latency histogram over [`LATENCY_BOUNDS_MS`].
#[derive(Debug, Default)]
pub struct Histogram {
    buckets: [AtomicU64; LATENCY_BUCKETS],
    sum_micros: AtomicU64,
}

impl Histogram {
    pub fn observe(&self, d: Duration) {
        let ms = d.as_secs_f64() * 1000.0;
        let i = LATENCY_BOUNDS_MS
            .iter()
            .position(|&b| ms <= b)
            .unwrap_or(LATENCY_BUCKETS - 1);
        self.buckets[i].fetch_add(1, Relaxed);
        self.sum_micros
            .fetch_add(d.as_micros().min(u128::from(u64::MAX)) as u64, Relaxed);
    }

    pub fn buckets(&self) -> [u64; LATENCY_BUCKETS] {
        std::array::from_fn(|i| self.buckets[i].load(Relaxed))
    }

    pub fn sum_seconds(&self) -> f64 {
        self.sum_micros.load(Relaxed) as f64 / 1e6
    }
}

/// A route's counters, once it has served a request.
#[derive(Debug, Default)]
pub struct RouteCounts {
    pub statuses: StatusCounts,
    pub latency: Histogram,
    pub integration: Histogram,
    pub throttled: AtomicU64,
    pub unauthorized: AtomicU64,
    pub bytes_in: AtomicU64,
    pub bytes_out: AtomicU64,
    /// What the last report to the control plane included; only the reporter touches it.
    reported: Mutex<Totals>,
}

/// Cumulative values, to subtract one report's from the next.
#[derive(Debug, Clone, Default, PartialEq)]
struct Totals {
    requests: u64,
    c4xx: u64,
    c5xx: u64,
    throttled: u64,
    unauthorized: u64,
    bytes_in: u64,
    bytes_out: u64,
    latency: [u64; LATENCY_BUCKETS],
    latency_sum: f64,
    integration: [u64; LATENCY_BUCKETS],
    integration_sum: f64,
}

impl RouteCounts {
    fn totals(&self) -> Totals {
        let (requests, c4xx, c5xx) = self.statuses.totals();
        Totals {
            requests,
            c4xx,
            c5xx,
            throttled: self.throttled.load(Relaxed),
            unauthorized: self.unauthorized.load(Relaxed),
            bytes_in: self.bytes_in.load(Relaxed),
            bytes_out: self.bytes_out.load(Relaxed),
            latency: self.latency.buckets(),
            latency_sum: self.latency.sum_seconds() * 1000.0,
            integration: self.integration.buckets(),
            integration_sum: self.integration.sum_seconds() * 1000.0,
        }
    }
}

/// The stable id of a route's meter: its Prometheus labels and report key.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct MeterKey {
    pub api_id: Arc<str>,
    pub stage: Arc<str>,
    /// Empty for the stage's requests that matched no route.
    pub route_key: Arc<str>,
}

#[derive(Debug)]
pub struct RouteMeter {
    pub key: MeterKey,
    counts: OnceLock<Box<RouteCounts>>,
}

impl RouteMeter {
    pub fn record(&self, s: &Served) {
        let c = self.counts.get_or_init(Box::default);
        c.statuses.add(s.status);
        c.latency.observe(s.latency);
        if let Some(d) = s.integration {
            c.integration.observe(d);
        }
        if s.throttled {
            c.throttled.fetch_add(1, Relaxed);
        }
        if s.unauthorized {
            c.unauthorized.fetch_add(1, Relaxed);
        }
        c.bytes_in.fetch_add(s.bytes_in, Relaxed);
        c.bytes_out.fetch_add(s.bytes_out, Relaxed);
    }

    /// `None` until the route has served a request.
    pub fn counts(&self) -> Option<&RouteCounts> {
        self.counts.get().map(|b| &**b)
    }

    /// What changed since the last call, or `None` when nothing did.
    fn delta(&self) -> Option<RouteMetrics> {
        let c = self.counts()?;
        let now = c.totals();
        let mut last = c.reported.lock().unwrap_or_else(PoisonError::into_inner);
        if now.requests == last.requests {
            return None;
        }
        let sub = |a: &[u64; LATENCY_BUCKETS], b: &[u64; LATENCY_BUCKETS]| -> Vec<u64> {
            a.iter().zip(b).map(|(x, y)| x.saturating_sub(*y)).collect()
        };
        let m = RouteMetrics {
            api_id: self.key.api_id.to_string(),
            stage: self.key.stage.to_string(),
            route_key: self.key.route_key.to_string(),
            requests: now.requests - last.requests,
            status_4xx: now.c4xx.saturating_sub(last.c4xx),
            status_5xx: now.c5xx.saturating_sub(last.c5xx),
            throttled: now.throttled.saturating_sub(last.throttled),
            unauthorized: now.unauthorized.saturating_sub(last.unauthorized),
            bytes_in: now.bytes_in.saturating_sub(last.bytes_in),
            bytes_out: now.bytes_out.saturating_sub(last.bytes_out),
            latency_buckets: sub(&now.latency, &last.latency),
            latency_sum_ms: (now.latency_sum - last.latency_sum).max(0.0),
            integration_latency_buckets: sub(&now.integration, &last.integration),
            integration_latency_sum_ms: (now.integration_sum - last.integration_sum).max(0.0),
        };
        *last = now;
        Some(m)
    }

    fn fully_reported(&self) -> bool {
        match self.counts() {
            None => true,
            Some(c) => {
                let (requests, _, _) = c.statuses.totals();
                c.reported
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .requests
                    == requests
            }
        }
    }
}

/// The config stream's side of the node, for `/metrics`.
#[derive(Debug, Default)]
pub struct ConfigMeters {
    pub acks: AtomicU64,
    pub nacks: AtomicU64,
    /// Unix milliseconds; 0 = never.
    pub last_ack_ms: AtomicU64,
    pub last_nack_ms: AtomicU64,
    /// Pushes by what they carried (see [`PushContent`]).
    full_pushes: AtomicU64,
    version_only_pushes: AtomicU64,
    unchanged_pushes: AtomicU64,
    /// The control-plane URL the config stream is open to; only touched when a stream
    /// opens or ends, and at a scrape.
    connected: Mutex<Option<String>>,
}

/// What a push brought the node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PushContent {
    /// A whole snapshot (new content, or content sent again).
    Full,
    /// Only a new version for the content the node serves.
    VersionOnly,
    /// The version and content the node already serves: what a reconnect brings.
    Unchanged,
}

impl ConfigMeters {
    pub fn count_push(&self, content: PushContent) {
        let counter = match content {
            PushContent::Full => &self.full_pushes,
            PushContent::VersionOnly => &self.version_only_pushes,
            PushContent::Unchanged => &self.unchanged_pushes,
        };
        counter.fetch_add(1, Relaxed);
    }

    pub fn pushes(&self) -> [(&'static str, u64); 3] {
        [
            ("full", self.full_pushes.load(Relaxed)),
            ("version_only", self.version_only_pushes.load(Relaxed)),
            ("unchanged", self.unchanged_pushes.load(Relaxed)),
        ]
    }

    pub fn set_connected(&self, control_plane: Option<String>) {
        *self
            .connected
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = control_plane;
    }

    pub fn connected_to(&self) -> Option<String> {
        self.connected
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

/// Every meter of the node.
#[derive(Debug, Default)]
pub struct MeterRegistry {
    routes: Mutex<HashMap<MeterKey, Arc<RouteMeter>>>,
    /// Requests whose host or path named no API or stage this node serves.
    pub unrouted: StatusCounts,
    pub config: ConfigMeters,
    /// Each proxy worker's idle upstream connections, as of its last sweep.
    upstream_idle: Mutex<Vec<Arc<AtomicU64>>>,
}

impl MeterRegistry {
    /// The meter for a route of a stage (`route_key` empty: the stage's unmatched
    /// requests), the same one every snapshot that serves it gets.
    pub fn meter(&self, api_id: &str, stage: &str, route_key: &str) -> Arc<RouteMeter> {
        let key = MeterKey {
            api_id: api_id.into(),
            stage: stage.into(),
            route_key: route_key.into(),
        };
        let mut routes = self.lock();
        routes
            .entry(key.clone())
            .or_insert_with(|| {
                Arc::new(RouteMeter {
                    key,
                    counts: OnceLock::new(),
                })
            })
            .clone()
    }

    /// Forgets meters no config uses any more once their counts have been reported:
    /// a removed route leaves `/metrics` instead of staying there forever.
    pub fn prune(&self) {
        self.lock()
            .retain(|_, m| Arc::strong_count(m) > 1 || !m.fully_reported());
    }

    /// Every meter, busiest-first order not guaranteed.
    pub fn meters(&self) -> Vec<Arc<RouteMeter>> {
        self.lock().values().cloned().collect()
    }

    pub fn upstream_idle_gauge(&self) -> Arc<AtomicU64> {
        let gauge = Arc::new(AtomicU64::new(0));
        self.upstream_idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(gauge.clone());
        gauge
    }

    pub fn upstream_idle(&self) -> u64 {
        self.upstream_idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .map(|g| g.load(Relaxed))
            .sum()
    }

    /// The control plane's report: every route that served something since the last.
    pub fn report(&self, minute: i64, access_log_dropped: u64) -> MetricsReport {
        MetricsReport {
            minute,
            routes: self.meters().iter().filter_map(|m| m.delta()).collect(),
            access_log_dropped,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<MeterKey, Arc<RouteMeter>>> {
        self.routes.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn served(status: u16, ms: u64) -> Served {
        Served {
            status,
            latency: Duration::from_millis(ms),
            bytes_out: 10,
            ..Default::default()
        }
    }

    #[test]
    fn counts_by_status_and_spills_by_class() {
        let s = StatusCounts::default();
        for code in 200..(200 + STATUS_SLOTS as u16) {
            s.add(code);
        }
        s.add(200);
        s.add(599);
        s.add(404);
        let mut seen = Vec::new();
        s.each(|l, n| seen.push((l, n)));
        assert_eq!(seen[0], (StatusLabel::Code(200), 2));
        assert!(seen.contains(&(StatusLabel::Class(5), 1)));
        assert!(seen.contains(&(StatusLabel::Class(4), 1)));
        assert_eq!(s.totals(), (STATUS_SLOTS as u64 + 3, 1, 1));
    }

    #[test]
    fn reports_deltas_once() {
        let r = MeterRegistry::default();
        let m = r.meter("a1", "dev", "GET /x");
        assert!(r.report(60, 0).routes.is_empty(), "no traffic, no row");
        m.record(&served(200, 3));
        m.record(&served(503, 70));
        let report = r.report(60, 2);
        assert_eq!(report.access_log_dropped, 2);
        let row = &report.routes[0];
        assert_eq!((row.requests, row.status_4xx, row.status_5xx), (2, 0, 1));
        assert_eq!(row.bytes_out, 20);
        assert_eq!(row.latency_buckets.iter().sum::<u64>(), 2);
        assert_eq!(row.latency_buckets[3], 1, "3 ms is in the 2.5-5 ms bucket");
        assert!(r.report(120, 0).routes.is_empty(), "already reported");
        m.record(&served(429, 1));
        assert_eq!(r.report(120, 0).routes[0].requests, 1);
    }

    #[test]
    fn meters_outlive_a_swap_and_leave_once_unused_and_reported() {
        let r = MeterRegistry::default();
        let m = r.meter("a1", "dev", "GET /x");
        assert!(Arc::ptr_eq(&m, &r.meter("a1", "dev", "GET /x")));
        m.record(&served(200, 1));
        drop(m);
        r.prune();
        assert_eq!(r.meters().len(), 1, "unreported counts are kept");
        r.report(60, 0);
        r.prune();
        assert!(r.meters().is_empty());
    }
}
