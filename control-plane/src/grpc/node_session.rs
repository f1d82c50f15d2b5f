//! One node's stream: push every new snapshot with a fresh nonce, take the node's
//! ACK/NACK for the latest push (stale nonces are ignored), and keep its status in the
//! store so every replica can show it. The node's throttled traffic goes to the store as
//! well, and the node gets back its share of each limit (`throttle_shares`). Its view of
//! its VPC-link targets' health (`TargetHealthReport`) replaces its rows in the store.
use std::sync::Arc;
use std::time::Duration;

use portico_model::Node;
use portico_proto::{
    ConfigPush, ControlMessage, LoadReport, NodeHello, NodeMessage, TargetHealthReport,
    TargetState, ThrottleShares, control_message, node_message,
};
use tokio::sync::{mpsc, watch};
use tonic::{Status, Streaming};

use super::throttle_shares;
use crate::service::{new_id, now};
use crate::snapshot::PublishedSnapshot;
use crate::store::{Store, StoreError, TargetHealthRow};

/// How often a connected node's `lastSeen` is refreshed while nothing else happens.
const HEARTBEAT: Duration = Duration::from_secs(10);
/// A node's load older than this is a node that is gone (nodes report twice a second).
const LOAD_FRESH_MS: i64 = 2_000;
/// How often an idle node's load row is rewritten, to stay fresh.
const LOAD_REFRESH_MS: i64 = 1_000;
/// Health rows one node may report, and the longest reason kept: a node is trusted, but
/// its report is still input from the network.
const MAX_HEALTH_ROWS: usize = 10_000;
const MAX_HEALTH_TEXT: usize = 512;
/// How often limits are re-divided: at each multiple of this on the wall clock, plus half
/// of it, on every replica at once.
const DIVIDE_EVERY: Duration = Duration::from_millis(500);

type Outbound = mpsc::Sender<Result<ControlMessage, Status>>;

pub struct NodeSession {
    node: Node,
    store: Store,
    snapshots: watch::Receiver<Option<Arc<PublishedSnapshot>>>,
    invoke_keys: watch::Receiver<Arc<portico_proto::InvokeKeys>>,
    /// Nonce and version of the newest push the node has not answered yet.
    pending: Option<(String, u64)>,
    /// The newest version pushed on this stream; none yet at first.
    sent_version: Option<u64>,
    /// Content the node is known to serve: what it said in its hello, then what it ACKed.
    acked_hash: String,
    /// Content of the newest push.
    sent_hash: String,
    /// The throttle shares last sent.
    sent_shares: Option<ThrottleShares>,
    /// When the node's load was last written, and whether it had no throttled traffic.
    load_recorded_ms: i64,
    load_idle: bool,
    /// The node's latest target-health report, for the task that writes it (started with
    /// the first report). Only the latest matters: each report is the node's whole view.
    target_health: Option<watch::Sender<Arc<TargetHealthReport>>>,
}

impl NodeSession {
    pub fn new(
        hello: NodeHello,
        store: Store,
        replica_id: String,
        snapshots: watch::Receiver<Option<Arc<PublishedSnapshot>>>,
        invoke_keys: watch::Receiver<Arc<portico_proto::InvokeKeys>>,
    ) -> Self {
        let acked_hash = hello.serving_hash;
        NodeSession {
            node: Node {
                node_id: hello.node_id,
                address: hello.address,
                applied_version: hello.serving_version,
                last_status: None,
                last_error: None,
                rejected_version: None,
                connected: true,
                control_plane: replica_id,
                last_seen: now(),
            },
            store,
            snapshots,
            invoke_keys,
            pending: None,
            sent_version: None,
            acked_hash,
            sent_hash: String::new(),
            sent_shares: None,
            load_recorded_ms: 0,
            load_idle: false,
            target_health: None,
        }
    }

    async fn record(&mut self) {
        self.node.last_seen = now();
        match self.store.record_node(&self.node).await {
            Ok(()) => {}
            // The replica is shutting down and closed its store first: nothing is wrong.
            Err(StoreError::Database(sqlx::Error::PoolClosed)) => {
                tracing::debug!(node = %self.node.node_id, "store closed; node status not recorded");
            }
            Err(e) => {
                tracing::warn!(node = %self.node.node_id, error = %e, "cannot record node status")
            }
        }
    }

    /// Pushes the published snapshot if the node has not been sent it yet.
    async fn push_if_newer(&mut self, outbound: &Outbound) -> Result<(), ()> {
        let Some(snapshot) = self.snapshots.borrow_and_update().clone() else {
            return Ok(());
        };
        if self
            .sent_version
            .is_some_and(|sent| snapshot.version <= sent)
        {
            return Ok(());
        }
        let nonce = new_id(16);
        // Content the node already serves travels as a version-only push, unless an
        // earlier push is still unanswered (the node may end up serving either).
        let version_only = self.pending.is_none() && snapshot.content_hash == self.acked_hash;
        let push = ConfigPush {
            version: snapshot.version,
            nonce: nonce.clone(),
            content_hash: snapshot.content_hash.clone(),
            snapshot: (!version_only).then(|| (*snapshot.snapshot).clone()),
        };
        let message = ControlMessage {
            kind: Some(control_message::Kind::Push(push)),
        };
        outbound.send(Ok(message)).await.map_err(|_| ())?;
        self.sent_version = Some(snapshot.version);
        self.sent_hash = snapshot.content_hash.clone();
        self.pending = Some((nonce, snapshot.version));
        Ok(())
    }

    /// Adds the node's traffic into the per-minute series and the month's usage, on a
    /// task of its own: the write must never hold up the session's load reports and
    /// throttle shares, which the cluster-wide limits depend on every half second.
    fn take_metrics(&mut self, report: portico_proto::MetricsReport) {
        if report.access_log_dropped > 0 {
            tracing::warn!(
                node = %self.node.node_id,
                dropped = report.access_log_dropped,
                "the node dropped access-log lines: its writer fell behind"
            );
        }
        let (store, node_id) = (self.store.clone(), self.node.node_id.clone());
        tokio::spawn(async move {
            if let Err(e) = store.record_metrics(&report).await {
                tracing::warn!(node = %node_id, error = %e, "cannot record the node's metrics");
            }
        });
    }

    /// Hands the node's target-health view to its writer task, which stores the latest
    /// one (replacing all of the node's rows) off the session's path: the store must not
    /// hold up load reports and shares, and a burst of reports is written once, in order.
    fn take_target_health(&mut self, report: TargetHealthReport) {
        let report = Arc::new(report);
        if let Some(sender) = &self.target_health
            && sender.send(Arc::clone(&report)).is_ok()
        {
            return;
        }
        let (sender, mut latest) = watch::channel(report);
        latest.mark_changed();
        let (store, node_id) = (self.store.clone(), self.node.node_id.clone());
        tokio::spawn(async move {
            // Ends when the session drops its sender.
            while latest.changed().await.is_ok() {
                let report = Arc::clone(&latest.borrow_and_update());
                let rows = health_rows(&node_id, &report);
                if let Err(e) = store.record_target_health(&node_id, &rows, &now()).await {
                    tracing::warn!(node = %node_id, error = %e, "cannot record the node's target health");
                }
            }
        });
        self.target_health = Some(sender);
    }

    /// Records the node's load for every replica's next division.
    async fn take_load(&mut self, report: LoadReport) {
        let seconds = f64::from(report.interval_millis.max(1)) / 1000.0;
        let load = report
            .limits
            .iter()
            .map(|l| (l.limit_key.clone(), l.requests as f64 / seconds))
            .collect();
        // An idle node's row only needs to stay fresh, not be rewritten twice a second.
        let now_ms = now_millis();
        let idle = report.limits.is_empty();
        if idle && self.load_idle && now_ms - self.load_recorded_ms < LOAD_REFRESH_MS {
            return;
        }
        match self
            .store
            .record_node_load(&self.node.node_id, now_ms, &load)
            .await
        {
            Ok(()) => {
                self.load_recorded_ms = now_ms;
                self.load_idle = idle;
            }
            Err(e) => {
                tracing::debug!(node = %self.node.node_id, error = %e, "cannot record node load")
            }
        }
    }

    /// Sends the node its share of each limit, from every node's last load, when it
    /// moved. Every session of every replica does this at the same instants of the wall
    /// clock ([`DIVIDE_EVERY`]), so they read the same loads and the shares they send
    /// add up to one: a node whose load is not seen yet gets less for half a second, and
    /// the fleet never admits more than the limit. A store that cannot be reached leaves
    /// the node with the shares it has.
    async fn send_shares(&mut self, outbound: &Outbound) -> Result<(), ()> {
        let node_id = self.node.node_id.clone();
        let loads = self
            .store
            .node_loads_since(now_millis() - LOAD_FRESH_MS)
            .await;
        let mut loads = match loads {
            Ok(loads) => loads,
            Err(e) => {
                tracing::debug!(node = %node_id, error = %e, "cannot divide throttle limits");
                return Ok(());
            }
        };
        if !loads.iter().any(|l| l.node_id == node_id) {
            // Not reported yet: a node with no throttled traffic.
            loads.push(crate::store::NodeLoad {
                node_id: node_id.clone(),
                load: Default::default(),
            });
        }
        let shares = throttle_shares::shares_for(&node_id, &loads);
        if throttle_shares::worth_sending(self.sent_shares.as_ref(), &shares) {
            let message = ControlMessage {
                kind: Some(control_message::Kind::Shares(shares.clone())),
            };
            outbound.send(Ok(message)).await.map_err(|_| ())?;
            self.sent_shares = Some(shares);
        }
        Ok(())
    }

    fn take_answer(&mut self, message: NodeMessage) -> bool {
        let pending_nonce = self.pending.as_ref().map(|(n, _)| n.as_str());
        match message.kind {
            Some(node_message::Kind::Ack(ack)) if Some(ack.nonce.as_str()) == pending_nonce => {
                self.pending = None;
                self.acked_hash = std::mem::take(&mut self.sent_hash);
                self.node.applied_version = ack.version;
                self.node.last_status = Some("ACK".into());
                self.node.last_error = None;
                self.node.rejected_version = None;
                true
            }
            Some(node_message::Kind::Nack(nack)) if Some(nack.nonce.as_str()) == pending_nonce => {
                self.pending = None;
                // What the node serves now is not known for sure: send the next in full.
                self.acked_hash.clear();
                tracing::warn!(
                    node = %self.node.node_id,
                    rejected = nack.rejected_version,
                    error = %nack.error,
                    "node rejected snapshot"
                );
                self.node.applied_version = nack.version;
                self.node.last_status = Some("NACK".into());
                self.node.last_error = Some(nack.error);
                self.node.rejected_version = Some(nack.rejected_version);
                true
            }
            // An answer to an older push, or a second hello: nothing to record.
            _ => false,
        }
    }

    /// Sends the invoke keys as they are now.
    async fn send_invoke_keys(&mut self, outbound: &Outbound) -> Result<(), ()> {
        let keys = (**self.invoke_keys.borrow_and_update()).clone();
        let message = ControlMessage {
            kind: Some(control_message::Kind::InvokeKeys(keys)),
        };
        outbound.send(Ok(message)).await.map_err(|_| ())
    }

    /// Runs until the node goes, or the replica closes (`closing`): then the stream ends
    /// cleanly and the node reconnects to another replica at once.
    pub async fn run(
        mut self,
        mut inbound: Streaming<NodeMessage>,
        outbound: Outbound,
        mut closing: watch::Receiver<bool>,
    ) {
        self.record().await;
        if self.send_invoke_keys(&outbound).await.is_err() {
            return;
        }
        let mut heartbeat = tokio::time::interval(HEARTBEAT);
        heartbeat.tick().await;
        let mut divide = on_the_wall_clock(DIVIDE_EVERY);
        loop {
            if self.push_if_newer(&outbound).await.is_err() {
                break;
            }
            tokio::select! {
                () = replica_closing(&mut closing) => break,
                changed = self.snapshots.changed() => {
                    if changed.is_err() {
                        break;
                    }
                }
                message = inbound.message() => match message {
                    Ok(Some(NodeMessage { kind: Some(node_message::Kind::Load(report)) })) => {
                        self.take_load(report).await;
                    }
                    Ok(Some(NodeMessage { kind: Some(node_message::Kind::Metrics(report)) })) => {
                        self.take_metrics(report);
                    }
                    Ok(Some(NodeMessage { kind: Some(node_message::Kind::TargetHealth(report)) })) => {
                        self.take_target_health(report);
                    }
                    Ok(Some(m)) => {
                        if self.take_answer(m) {
                            self.record().await;
                        }
                    }
                    Ok(None) => break,
                    Err(status) => {
                        tracing::debug!(node = %self.node.node_id, %status, "node stream ended");
                        break;
                    }
                },
                changed = self.invoke_keys.changed() => {
                    if changed.is_err() || self.send_invoke_keys(&outbound).await.is_err() {
                        break;
                    }
                }
                _ = heartbeat.tick() => self.record().await,
                _ = divide.tick() => {
                    if self.send_shares(&outbound).await.is_err() {
                        break;
                    }
                }
            }
        }
        tracing::info!(node = %self.node.node_id, "node disconnected");
        self.node.connected = false;
        self.record().await;
        // The other nodes' shares grow back at their next report.
        if let Err(e) = self.store.forget_node_load(&self.node.node_id).await {
            tracing::debug!(node = %self.node.node_id, error = %e, "cannot forget node load");
        }
    }
}

/// The rows of a node's report, as the store keeps them: states by name, at most
/// [`MAX_HEALTH_ROWS`], text cut to [`MAX_HEALTH_TEXT`] characters.
fn health_rows(node_id: &str, report: &TargetHealthReport) -> Vec<TargetHealthRow> {
    if report.targets.len() > MAX_HEALTH_ROWS {
        tracing::warn!(node = %node_id, rows = report.targets.len(), "target-health report cut to {MAX_HEALTH_ROWS} rows");
    }
    let cut = |s: &str| s.chars().take(MAX_HEALTH_TEXT).collect::<String>();
    report
        .targets
        .iter()
        .take(MAX_HEALTH_ROWS)
        .map(|t| TargetHealthRow {
            vpc_link_id: cut(&t.vpc_link_id),
            target: cut(&t.target),
            endpoint: cut(&t.endpoint),
            state: match TargetState::try_from(t.state) {
                Ok(TargetState::Healthy) => portico_model::TARGET_HEALTHY,
                Ok(TargetState::Unhealthy) => portico_model::TARGET_UNHEALTHY,
                Ok(TargetState::Ejected) => portico_model::TARGET_EJECTED,
                // A state this replica does not know yet is reported as not known.
                Ok(TargetState::Unknown) | Err(_) => portico_model::TARGET_UNKNOWN,
            }
            .to_string(),
            reason: cut(&t.reason),
        })
        .collect()
}

/// Resolves when the replica starts shutting down; never if it cannot say so any more.
/// The watch's read guard stays in here, so the session's future is `Send`.
async fn replica_closing(closing: &mut watch::Receiver<bool>) {
    if closing.wait_for(|closing| *closing).await.is_err() {
        std::future::pending::<()>().await;
    }
}

fn now_millis() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// An interval whose ticks fall at the same wall-clock instants on every replica: half
/// way between multiples of `period` since the epoch.
fn on_the_wall_clock(period: Duration) -> tokio::time::Interval {
    let period_ms = period.as_millis().max(1) as i64;
    let phase = (now_millis() + period_ms / 2).rem_euclid(period_ms);
    let first = Duration::from_millis((period_ms - phase) as u64);
    let mut interval = tokio::time::interval_at(tokio::time::Instant::now() + first, period);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    interval
}

#[cfg(test)]
mod tests {
    use portico_proto::TargetHealthEntry;

    use super::*;

    #[test]
    fn health_reports_become_rows_by_state_name() {
        let entry = |state: i32, reason: &str| TargetHealthEntry {
            vpc_link_id: "vl1".into(),
            target: "orders.internal:80".into(),
            endpoint: "10.0.0.1:80".into(),
            state,
            reason: reason.into(),
        };
        let report = TargetHealthReport {
            targets: vec![
                entry(TargetState::Healthy as i32, ""),
                entry(TargetState::Ejected as i32, "3 5xx in a row"),
                entry(42, &"x".repeat(2000)),
            ],
        };
        let rows = health_rows("n1", &report);
        let states: Vec<&str> = rows.iter().map(|r| r.state.as_str()).collect();
        assert_eq!(states, ["HEALTHY", "EJECTED", "UNKNOWN"]);
        assert_eq!(rows[1].reason, "3 5xx in a row");
        assert_eq!(rows[2].reason.len(), MAX_HEALTH_TEXT);
    }
}
