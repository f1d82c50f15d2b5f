//! VPC links as a node runs them: each link's endpoints (its targets, DNS names resolved
//! to every address they give and re-resolved on a schedule), their health (active checks
//! from this node, passive ejection from its requests), and the balancer's state. It all
//! lives here, keyed by link id and endpoint address, so a new snapshot (a new target, a
//! changed weight) keeps what the node learnt about every endpoint it still has.
//!
//! The request path only reads atomics and takes the link's balancer lock for one pick;
//! checks and DNS run on the node's background runtime, one task per link.
use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use arc_swap::ArcSwap;
use http::HeaderValue;
use http::uri::Authority;
use portico_model::TargetAddress;
use portico_proto::{TargetHealthEntry, TargetState as WireState};
use rustls::ClientConfig;
use rustls::pki_types::ServerName;
use tokio::sync::Notify;
use tracing::{debug, info, warn};

use crate::upstream::balancer::{Policy, SmoothWeighted};
use crate::upstream::health::{Checked, Ejection, EndpointHealth, TargetState, Thresholds};
use crate::upstream::health_check::{self, CheckTarget};

/// How often DNS names are looked up again: a Kubernetes headless service or a Consul
/// name gains and loses addresses as pods come and go.
pub const RESOLVE_EVERY: Duration = Duration::from_secs(10);
const RESOLVE_TIMEOUT: Duration = Duration::from_secs(5);

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // Every critical section here leaves its data whole, so a panic elsewhere does not
    // make the state unusable.
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// What a link's settings say, compiled from the snapshot.
#[derive(Debug, Clone)]
pub struct LinkSettings {
    pub targets: Vec<(TargetAddress, u32)>,
    pub policy: Policy,
    pub https_checks: bool,
    pub check_path: String,
    pub interval: Duration,
    pub timeout: Duration,
    pub thresholds: Thresholds,
    pub ejection: Ejection,
    /// Roots https targets must chain to: the link's CA bundle, or the web PKI's.
    pub tls: Arc<ClientConfig>,
}

/// One address of one target.
#[derive(Debug)]
pub struct Endpoint {
    /// The target as configured (`orders.internal:80`).
    pub target: Arc<str>,
    pub addr: SocketAddr,
    /// `addr` as an authority, which keys the worker's idle connections.
    pub authority: Authority,
    /// The target as configured, for `Host` when the integration URI names none.
    pub target_host: HeaderValue,
    /// The target's host as a TLS name: what an https check, and an ARN integration
    /// without a server name to verify, verify.
    pub check_name: Option<ServerName<'static>>,
    weight: AtomicU32,
    in_flight: AtomicU32,
    /// `Checked` as u8, and the end of an ejection in ms since the registry's epoch (0:
    /// none): what the balancer reads without the lock.
    checked: AtomicU8,
    ejected_until_ms: AtomicU64,
    /// Set while a 5xx streak runs, so a good answer skips the lock otherwise.
    streak: AtomicBool,
    health: Mutex<EndpointHealth>,
}

impl Endpoint {
    fn new(target: Arc<str>, host: &str, addr: SocketAddr, weight: u32) -> Option<Self> {
        let authority = Authority::try_from(addr.to_string()).ok()?;
        let target_host = HeaderValue::from_str(&target).ok()?;
        let check_name = ServerName::try_from(host.to_string()).ok();
        Some(Endpoint {
            target,
            addr,
            authority,
            target_host,
            check_name,
            weight: AtomicU32::new(weight),
            in_flight: AtomicU32::new(0),
            checked: AtomicU8::new(Checked::Unknown as u8),
            ejected_until_ms: AtomicU64::new(0),
            streak: AtomicBool::new(false),
            health: Mutex::new(EndpointHealth::default()),
        })
    }

    fn serves(&self, now_ms: impl FnOnce() -> u64) -> bool {
        if self.checked.load(Ordering::Relaxed) == Checked::Unhealthy as u8 {
            return false;
        }
        let until = self.ejected_until_ms.load(Ordering::Relaxed);
        until == 0 || until <= now_ms()
    }

    /// Counts a request in flight (for `LEAST_REQUEST`) until the guard drops.
    pub fn start(self: &Arc<Self>) -> InFlight {
        self.in_flight.fetch_add(1, Ordering::Relaxed);
        InFlight(self.clone())
    }
}

/// A request in flight to an endpoint.
#[derive(Debug)]
pub struct InFlight(Arc<Endpoint>);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::Relaxed);
    }
}

/// One link on this node.
#[derive(Debug)]
pub struct LinkRuntime {
    pub id: Arc<str>,
    settings: ArcSwap<LinkSettings>,
    endpoints: ArcSwap<Vec<Arc<Endpoint>>>,
    balancer: Mutex<Balancer>,
    /// DNS failures by target, for the report.
    dns_errors: Mutex<HashMap<Arc<str>, String>>,
    /// New settings: the task resolves and checks at once instead of at its next tick.
    changed: Notify,
    epoch: Instant,
}

#[derive(Debug, Default)]
struct Balancer {
    /// The endpoint list the state was built for.
    list: usize,
    state: SmoothWeighted,
}

impl LinkRuntime {
    fn new(id: &str, settings: LinkSettings, epoch: Instant) -> Self {
        let link = LinkRuntime {
            id: id.into(),
            settings: ArcSwap::from_pointee(settings),
            endpoints: ArcSwap::default(),
            balancer: Mutex::default(),
            dns_errors: Mutex::default(),
            changed: Notify::new(),
            epoch,
        };
        link.place(&HashMap::new());
        link
    }

    pub fn settings(&self) -> Arc<LinkSettings> {
        self.settings.load_full()
    }

    fn millis(&self, at: Instant) -> u64 {
        // Never 0, which means "not ejected".
        (at.saturating_duration_since(self.epoch).as_millis() as u64).max(1)
    }

    /// The endpoint for the next request, skipping the ones `tried` already; `None` when
    /// no endpoint may serve.
    pub fn pick(&self, tried: &[Arc<Endpoint>]) -> Option<Arc<Endpoint>> {
        let endpoints = self.endpoints.load();
        let policy = self.settings.load().policy;
        // The clock is read only when some endpoint has been ejected.
        let now = std::cell::OnceCell::new();
        let now_ms = || *now.get_or_init(|| self.millis(Instant::now()));
        let weight = |i: usize| {
            let e: &Arc<Endpoint> = &endpoints[i];
            if !e.serves(now_ms) || tried.iter().any(|t| Arc::ptr_eq(t, e)) {
                return 0;
            }
            policy.effective_weight(
                e.weight.load(Ordering::Relaxed),
                e.in_flight.load(Ordering::Relaxed),
            )
        };
        let mut b = lock(&self.balancer);
        let list = Arc::as_ptr(&endpoints) as usize;
        if b.list != list {
            b.list = list;
            b.state.reset(endpoints.len());
        }
        let i = b.state.pick(endpoints.len(), weight)?;
        Some(endpoints[i].clone())
    }

    /// A response head came back from `e`.
    pub fn record_status(&self, e: &Endpoint, status: u16) {
        if status < 500 && !e.streak.load(Ordering::Relaxed) {
            return;
        }
        let now = Instant::now();
        let ejection = self.settings.load().ejection;
        let mut h = lock(&e.health);
        let before = h.state(now);
        h.on_response(status, now, ejection);
        self.publish(e, &h, before, now);
    }

    /// A request could not reach `e`.
    pub fn record_connect_failure(&self, e: &Endpoint, reason: &dyn std::fmt::Display) {
        let now = Instant::now();
        let ejection = self.settings.load().ejection;
        let mut h = lock(&e.health);
        let before = h.state(now);
        h.on_connect_failure(reason.to_string(), now, ejection);
        self.publish(e, &h, before, now);
    }

    fn record_check(&self, e: &Endpoint, outcome: Result<(), String>) {
        let now = Instant::now();
        let thresholds = self.settings.load().thresholds;
        let mut h = lock(&e.health);
        let before = h.state(now);
        h.on_check(outcome, thresholds);
        self.publish(e, &h, before, now);
    }

    fn publish(&self, e: &Endpoint, h: &EndpointHealth, before: TargetState, now: Instant) {
        e.checked.store(h.checked() as u8, Ordering::Relaxed);
        let until = h.ejected_until().filter(|u| *u > now);
        e.ejected_until_ms
            .store(until.map_or(0, |u| self.millis(u)), Ordering::Relaxed);
        e.streak.store(h.in_5xx_streak(), Ordering::Relaxed);
        let after = h.state(now);
        if after != before {
            info!(vpc_link = %self.id, target = %e.target, endpoint = %e.addr,
                  from = ?before, to = ?after, reason = h.reason(now), "VPC-link target health changed");
        }
    }

    /// Rebuilds the endpoint list from the settings: IP targets as they are, DNS targets
    /// with the addresses in `resolved` (or, for a name not looked up this time, the ones
    /// it had). Endpoints that stay keep their health.
    fn place(&self, resolved: &HashMap<Arc<str>, Vec<SocketAddr>>) {
        let settings = self.settings.load();
        let old = self.endpoints.load_full();
        let mut list: Vec<Arc<Endpoint>> = Vec::new();
        for (address, weight) in &settings.targets {
            let target: Arc<str> = address.to_string().into();
            let addrs: Vec<SocketAddr> = match address.ip {
                Some(ip) => vec![SocketAddr::new(ip, address.port)],
                None => match resolved.get(&target) {
                    Some(addrs) => addrs.clone(),
                    None => old
                        .iter()
                        .filter(|e| e.target == target)
                        .map(|e| e.addr)
                        .collect(),
                },
            };
            for addr in addrs {
                if list.iter().any(|e| e.target == target && e.addr == addr) {
                    continue;
                }
                let kept = old.iter().find(|e| e.target == target && e.addr == addr);
                let endpoint = match kept {
                    Some(e) => {
                        e.weight.store(*weight, Ordering::Relaxed);
                        e.clone()
                    }
                    None => match Endpoint::new(target.clone(), &address.host, addr, *weight) {
                        Some(e) => Arc::new(e),
                        None => continue,
                    },
                };
                list.push(endpoint);
            }
        }
        let same =
            list.len() == old.len() && list.iter().zip(old.iter()).all(|(a, b)| Arc::ptr_eq(a, b));
        if !same {
            self.endpoints.store(Arc::new(list));
        }
    }

    /// Looks every DNS target up again and places what it found.
    async fn resolve(&self) {
        let settings = self.settings.load_full();
        let mut resolved = HashMap::new();
        for (address, _) in settings.targets.iter().filter(|(a, _)| a.ip.is_none()) {
            let target: Arc<str> = address.to_string().into();
            let lookup = tokio::net::lookup_host((address.host.as_str(), address.port));
            let outcome = match tokio::time::timeout(RESOLVE_TIMEOUT, lookup).await {
                Ok(Ok(addrs)) => {
                    let mut addrs: Vec<SocketAddr> = addrs.collect();
                    addrs.sort();
                    addrs.dedup();
                    if addrs.is_empty() {
                        Err("the name has no addresses".to_string())
                    } else {
                        Ok(addrs)
                    }
                }
                Ok(Err(e)) => Err(format!("DNS lookup failed: {e}")),
                Err(_) => Err(format!("DNS lookup timed out after {RESOLVE_TIMEOUT:?}")),
            };
            let mut errors = lock(&self.dns_errors);
            match outcome {
                Ok(addrs) => {
                    errors.remove(&target);
                    resolved.insert(target, addrs);
                }
                Err(reason) => {
                    // Keep the addresses it had: a DNS outage should not empty the link.
                    warn!(vpc_link = %self.id, target = %target, "{reason}");
                    errors.insert(target, reason);
                }
            }
        }
        self.place(&resolved);
    }

    /// Checks every endpoint once, all at the same time.
    async fn check_all(self: &Arc<Self>) {
        let settings = self.settings.load_full();
        let endpoints = self.endpoints.load_full();
        let mut checks = tokio::task::JoinSet::new();
        for (i, e) in endpoints.iter().enumerate() {
            let target = CheckTarget {
                addr: e.addr,
                host: e.target_host.clone(),
                path: settings.check_path.clone(),
                tls: match (&settings.https_checks, &e.check_name) {
                    (true, Some(name)) => Some((settings.tls.clone(), name.clone())),
                    _ => None,
                },
                timeout: settings.timeout,
            };
            let https = settings.https_checks;
            checks.spawn(async move {
                let outcome = if https && target.tls.is_none() {
                    Err("no server name to verify for an HTTPS check".to_string())
                } else {
                    health_check::check(&target).await
                };
                (i, outcome)
            });
        }
        while let Some(done) = checks.join_next().await {
            if let Ok((i, outcome)) = done {
                self.record_check(&endpoints[i], outcome);
            }
        }
    }

    /// The link's endpoints as the node reports them.
    fn report(&self, out: &mut Vec<TargetHealthEntry>) {
        let now = Instant::now();
        let endpoints = self.endpoints.load();
        let errors = lock(&self.dns_errors);
        for (address, _) in &self.settings.load().targets {
            let target = address.to_string();
            let mut any = false;
            for e in endpoints.iter().filter(|e| *e.target == *target) {
                any = true;
                let h = lock(&e.health);
                out.push(TargetHealthEntry {
                    vpc_link_id: self.id.to_string(),
                    target: target.clone(),
                    endpoint: e.addr.to_string(),
                    state: wire_state(h.state(now)) as i32,
                    reason: h.reason(now).to_string(),
                });
            }
            if !any {
                let (state, reason) = match errors.get(target.as_str()) {
                    Some(reason) => (WireState::Unhealthy, reason.clone()),
                    None => (WireState::Unknown, "not resolved yet".to_string()),
                };
                out.push(TargetHealthEntry {
                    vpc_link_id: self.id.to_string(),
                    target,
                    endpoint: String::new(),
                    state: state as i32,
                    reason,
                });
            }
        }
    }

    /// Resolves and checks on the link's schedule until aborted.
    async fn watch(self: Arc<Self>) {
        let mut next_resolve = Instant::now();
        loop {
            if Instant::now() >= next_resolve {
                self.resolve().await;
                next_resolve = Instant::now() + RESOLVE_EVERY;
            }
            self.check_all().await;
            let interval = self.settings.load().interval;
            tokio::select! {
                _ = tokio::time::sleep(interval) => {}
                _ = self.changed.notified() => {
                    next_resolve = Instant::now();
                }
            }
        }
    }
}

fn wire_state(s: TargetState) -> WireState {
    match s {
        TargetState::Unknown => WireState::Unknown,
        TargetState::Healthy => WireState::Healthy,
        TargetState::Unhealthy => WireState::Unhealthy,
        TargetState::Ejected => WireState::Ejected,
    }
}

/// Every link this node runs.
#[derive(Debug)]
pub struct VpcLinkRegistry {
    /// `--vpc-link-group`: empty reaches every link.
    groups: Vec<String>,
    /// Where checks and DNS run; none in the control plane's admission check, which
    /// compiles with a throwaway runtime and must not probe anything.
    background: Option<tokio::runtime::Handle>,
    links: Mutex<HashMap<String, Running>>,
    epoch: Instant,
}

#[derive(Debug)]
struct Running {
    link: Arc<LinkRuntime>,
    task: Option<tokio::task::AbortHandle>,
}

impl Default for VpcLinkRegistry {
    fn default() -> Self {
        VpcLinkRegistry::new(Vec::new(), None)
    }
}

impl VpcLinkRegistry {
    pub fn new(groups: Vec<String>, background: Option<tokio::runtime::Handle>) -> Self {
        VpcLinkRegistry {
            groups,
            background,
            links: Mutex::default(),
            epoch: Instant::now(),
        }
    }

    pub fn groups(&self) -> &[String] {
        &self.groups
    }

    /// Whether this node can reach a link in `link_groups` (its subnet ids).
    pub fn reaches(&self, link_groups: &[String]) -> bool {
        self.groups.is_empty() || link_groups.iter().any(|g| self.groups.contains(g))
    }

    /// The link with these settings: the running one updated, or a new one started.
    pub fn link(&self, id: &str, settings: LinkSettings) -> Arc<LinkRuntime> {
        let mut links = lock(&self.links);
        if let Some(running) = links.get(id) {
            let link = running.link.clone();
            link.settings.store(Arc::new(settings));
            link.place(&HashMap::new());
            link.changed.notify_one();
            return link;
        }
        let link = Arc::new(LinkRuntime::new(id, settings, self.epoch));
        let task = self
            .background
            .as_ref()
            .map(|rt| rt.spawn(link.clone().watch()).abort_handle());
        debug!(vpc_link = id, checks = task.is_some(), "VPC link started");
        links.insert(
            id.to_string(),
            Running {
                link: link.clone(),
                task,
            },
        );
        link
    }

    /// Stops the links a new snapshot no longer has (or this node no longer reaches).
    pub fn retain(&self, ids: &HashSet<&str>) {
        lock(&self.links).retain(|id, running| {
            let keep = ids.contains(id.as_str());
            if !keep && let Some(task) = &running.task {
                task.abort();
            }
            keep
        });
    }

    /// Every endpoint's state, by link, target and endpoint.
    pub fn report(&self) -> Vec<TargetHealthEntry> {
        let mut links: Vec<Arc<LinkRuntime>> =
            lock(&self.links).values().map(|r| r.link.clone()).collect();
        links.sort_by(|a, b| a.id.cmp(&b.id));
        let mut out = Vec::new();
        for link in links {
            link.report(&mut out);
        }
        out
    }
}

impl Drop for VpcLinkRegistry {
    fn drop(&mut self) {
        for running in lock(&self.links).values() {
            if let Some(task) = &running.task {
                task.abort();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(targets: &[(&str, u32)]) -> LinkSettings {
        LinkSettings {
            targets: targets
                .iter()
                .map(|(a, w)| (TargetAddress::parse(a).expect("address"), *w))
                .collect(),
            policy: Policy::RoundRobin,
            https_checks: false,
            check_path: "/".into(),
            interval: Duration::from_secs(5),
            timeout: Duration::from_secs(2),
            thresholds: Thresholds {
                healthy: 2,
                unhealthy: 2,
            },
            ejection: Ejection {
                consecutive_5xx: 2,
                base: Duration::from_secs(30),
                max: Duration::from_secs(60),
            },
            tls: Arc::new(
                ClientConfig::builder_with_provider(Arc::new(
                    rustls::crypto::ring::default_provider(),
                ))
                .with_safe_default_protocol_versions()
                .expect("versions")
                .with_root_certificates(rustls::RootCertStore::empty())
                .with_no_client_auth(),
            ),
        }
    }

    fn spread(link: &LinkRuntime, picks: usize) -> HashMap<SocketAddr, usize> {
        let mut counts = HashMap::new();
        for _ in 0..picks {
            if let Some(e) = link.pick(&[]) {
                *counts.entry(e.addr).or_default() += 1;
            }
        }
        counts
    }

    fn addr(s: &str) -> SocketAddr {
        s.parse().expect("addr")
    }

    #[test]
    fn picks_by_weight_and_skips_ejected_and_unhealthy_endpoints() {
        let registry = VpcLinkRegistry::default();
        let link = registry.link(
            "vl1",
            settings(&[("127.0.0.1:1", 1), ("127.0.0.1:2", 2), ("127.0.0.1:3", 3)]),
        );
        let counts = spread(&link, 600);
        assert_eq!(counts[&addr("127.0.0.1:1")], 100);
        assert_eq!(counts[&addr("127.0.0.1:3")], 300);

        let endpoints = link.endpoints.load_full();
        link.record_connect_failure(&endpoints[2], &"connection refused");
        let counts = spread(&link, 300);
        assert_eq!(counts.get(&addr("127.0.0.1:3")), None, "ejected");
        assert_eq!(counts[&addr("127.0.0.1:1")], 100);

        link.record_status(&endpoints[1], 503);
        link.record_status(&endpoints[1], 200);
        link.record_status(&endpoints[1], 503);
        assert!(link.pick(&[]).is_some(), "a broken streak does not eject");
        link.record_status(&endpoints[1], 502);
        let counts = spread(&link, 10);
        assert_eq!(counts.len(), 1, "two 5xx in a row eject: {counts:?}");

        link.record_check(&endpoints[0], Err("status 500".into()));
        link.record_check(&endpoints[0], Err("status 500".into()));
        assert!(link.pick(&[]).is_none(), "none may serve");
        let report = registry.report();
        let states: Vec<i32> = report.iter().map(|e| e.state).collect();
        assert_eq!(
            states,
            [
                WireState::Unhealthy as i32,
                WireState::Ejected as i32,
                WireState::Ejected as i32
            ]
        );
        assert_eq!(report[0].reason, "status 500");
        assert_eq!(report[1].reason, "2 5xx answers in a row");
    }

    #[test]
    fn a_retry_skips_the_endpoints_already_tried() {
        let registry = VpcLinkRegistry::default();
        let link = registry.link("vl1", settings(&[("127.0.0.1:1", 1), ("127.0.0.1:2", 1)]));
        let first = link.pick(&[]).expect("one");
        let second = link.pick(std::slice::from_ref(&first)).expect("the other");
        assert_ne!(first.addr, second.addr);
        assert!(link.pick(&[first, second]).is_none());
    }

    #[test]
    fn new_settings_keep_the_health_of_endpoints_that_stay() {
        let registry = VpcLinkRegistry::default();
        let link = registry.link("vl1", settings(&[("127.0.0.1:1", 1), ("127.0.0.1:2", 1)]));
        let endpoints = link.endpoints.load_full();
        link.record_connect_failure(&endpoints[0], &"connection refused");
        let same = registry.link("vl1", settings(&[("127.0.0.1:1", 5), ("127.0.0.1:3", 1)]));
        assert!(Arc::ptr_eq(&same, &link));
        let report = registry.report();
        assert_eq!(report.len(), 2);
        assert_eq!(report[0].endpoint, "127.0.0.1:1");
        assert_eq!(report[0].state, WireState::Ejected as i32);
        assert_eq!(report[1].endpoint, "127.0.0.1:3");
        assert_eq!(report[1].state, WireState::Unknown as i32);
        assert_eq!(link.endpoints.load()[0].weight.load(Ordering::Relaxed), 5);
        registry.retain(&HashSet::new());
        assert!(registry.report().is_empty());
    }

    #[test]
    fn dns_targets_without_addresses_are_reported_not_served() {
        let registry = VpcLinkRegistry::default();
        let link = registry.link("vl1", settings(&[("orders.internal:80", 1)]));
        assert!(link.pick(&[]).is_none());
        let report = registry.report();
        assert_eq!(report[0].target, "orders.internal:80");
        assert_eq!(report[0].endpoint, "");
        assert_eq!(report[0].reason, "not resolved yet");
    }

    #[test]
    fn groups_decide_which_links_a_node_reaches() {
        let all = VpcLinkRegistry::default();
        assert!(all.reaches(&["east".into()]));
        let east = VpcLinkRegistry::new(vec!["east".into()], None);
        assert!(east.reaches(&["west".into(), "east".into()]));
        assert!(!east.reaches(&["west".into()]));
    }

    #[tokio::test]
    async fn resolves_names_to_every_address() {
        let registry = VpcLinkRegistry::default();
        let link = registry.link("vl1", settings(&[("localhost:9", 1)]));
        link.resolve().await;
        let endpoints = link.endpoints.load_full();
        assert!(!endpoints.is_empty());
        assert!(
            endpoints
                .iter()
                .all(|e| e.addr.ip().is_loopback() && e.addr.port() == 9)
        );
        assert_eq!(&*endpoints[0].target, "localhost:9");
    }
}
