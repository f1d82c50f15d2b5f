//! The node's side of the config stream: one bidirectional `StreamConfig` call to a
//! control plane, kept up forever.
//!
//! Each push is verified (content hash) and compiled off the async workers, swapped in
//! as one unit, written to the on-disk cache, and only then ACKed with the push's nonce.
//! A push that fails is NACKed with the reason and the version still being served, and
//! the old config keeps serving. A stream that fails or ends is reopened with capped,
//! jittered exponential backoff, rotating through the control-plane URLs.
//!
//! Twice a second the node reports what its throttled routes saw, and it applies the
//! shares of each limit the control plane sends back (see `runtime::throttle`).

use std::sync::Arc;
use std::time::Duration;

use arc_swap::ArcSwap;
use portico_proto::config_service_client::ConfigServiceClient;
use portico_proto::control_message::Kind as ControlKind;
use portico_proto::node_message::Kind;
use portico_proto::{Ack, ConfigPush, Nack, NodeHello, NodeMessage};
use rand::Rng;
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tonic::metadata::{Ascii, MetadataValue};
use tonic::transport::Endpoint;
use tracing::{error, info, warn};

use super::cache::SnapshotCache;
use super::push;
use crate::config::CompiledConfig;
use crate::error_chain::ErrorChain;
use crate::runtime::Runtime;
use crate::runtime::meters::PushContent;
use portico_stream_tls as tls;

const BACKOFF_MIN: Duration = Duration::from_millis(100);
const BACKOFF_MAX: Duration = Duration::from_secs(5);
/// tonic's default (4 MiB) is small for a big fleet's snapshot.
const MAX_PUSH_BYTES: usize = 64 * 1024 * 1024;
/// How often throttled traffic is reported; the control plane re-divides limits at this
/// pace, so a shift of traffic between nodes is followed within about a second.
pub(crate) const LOAD_REPORT_INTERVAL: Duration = Duration::from_millis(500);

/// How often the node reports its traffic for the control plane's series.
pub(crate) const METRICS_REPORT_INTERVAL: Duration = Duration::from_secs(5);
/// How often the node looks for VPC-link target health changes to report; a report is
/// only sent when something changed.
const TARGET_HEALTH_INTERVAL: Duration = Duration::from_secs(1);

pub(crate) struct SnapshotClient {
    pub endpoints: Vec<Endpoint>,
    /// `Bearer <cluster token>`, ready to send.
    pub authorization: Option<MetadataValue<Ascii>>,
    pub node_id: String,
    pub address: String,
    pub config: Arc<ArcSwap<CompiledConfig>>,
    pub runtime: Arc<Runtime>,
    pub cache: SnapshotCache,
}

/// Builds the endpoint for one control-plane URL; keep-alives notice a control plane
/// that vanished without closing the connection.
pub(crate) fn endpoint(uri: http::Uri) -> Endpoint {
    Endpoint::from(uri)
        .connect_timeout(Duration::from_secs(5))
        .tcp_nodelay(true)
        .http2_keep_alive_interval(Duration::from_secs(20))
        .keep_alive_timeout(Duration::from_secs(10))
        .keep_alive_while_idle(true)
}

#[derive(Debug, thiserror::Error)]
enum SessionError {
    #[error("cannot connect")]
    Connect(#[from] tonic::transport::Error),
    /// Shown as code and message: `Status`'s own Display dumps all its metadata.
    #[error("{:?}: {}", .0.code(), .0.message())]
    Status(tonic::Status),
    #[error("the outgoing stream closed")]
    Closed,
}

impl From<tonic::Status> for SessionError {
    fn from(s: tonic::Status) -> Self {
        SessionError::Status(s)
    }
}

impl SnapshotClient {
    /// Runs until the task is dropped; never returns on its own.
    pub async fn run(self) {
        let mut backoff = Backoff::default();
        for endpoint in self.endpoints.iter().cycle() {
            let uri = endpoint.uri();
            match self.session(endpoint, &mut backoff).await {
                Ok(()) => info!(control_plane = %uri, "config stream ended; reconnecting"),
                Err(SessionError::Status(s)) if s.code() == tonic::Code::Unauthenticated => {
                    let reason = s.message();
                    error!(control_plane = %uri, "control plane refused the cluster token: {reason}");
                }
                Err(e) if tls::is_tls_failure(&e) => error!(
                    control_plane = %uri,
                    "TLS with the control plane failed (check --ca, the URL's host name and \
                     the control plane's certificate): {}",
                    ErrorChain(&e)
                ),
                // h2c against a TLS port gets garbage back, which h2 reports this way.
                Err(e)
                    if uri.scheme_str() == Some("http")
                        && e.to_string().contains("h2 protocol error") =>
                {
                    warn!(
                        control_plane = %uri,
                        "config stream failed (if the control plane serves TLS, use https://): {}",
                        ErrorChain(&e)
                    )
                }
                Err(e) => warn!(control_plane = %uri, "config stream failed: {}", ErrorChain(&e)),
            }
            tokio::time::sleep(backoff.next_delay()).await;
        }
    }

    async fn session(
        &self,
        endpoint: &Endpoint,
        backoff: &mut Backoff,
    ) -> Result<(), SessionError> {
        let channel = endpoint.connect().await?;
        let mut client =
            ConfigServiceClient::new(channel).max_decoding_message_size(MAX_PUSH_BYTES);

        let (tx, rx) = mpsc::channel(4);
        let serving = self.config.load_full();
        let hello = NodeHello {
            node_id: self.node_id.clone(),
            address: self.address.clone(),
            serving_version: serving.version,
            serving_hash: serving.content_hash.clone(),
            vpc_link_groups: self.runtime.vpc_links.groups().to_vec(),
        };
        tx.send(NodeMessage {
            kind: Some(Kind::Hello(hello)),
        })
        .await
        .map_err(|_| SessionError::Closed)?;

        let mut request = tonic::Request::new(ReceiverStream::new(rx));
        if let Some(auth) = &self.authorization {
            request.metadata_mut().insert("authorization", auth.clone());
        }
        let mut pushes = client.stream_config(request).await?.into_inner();
        let version = serving.version;
        info!(control_plane = %endpoint.uri(), serving_version = version, "config stream open");
        let meters = &self.runtime.meters.config;
        meters.set_connected(Some(endpoint.uri().to_string()));
        let outcome = self.follow(&mut pushes, &tx, backoff).await;
        meters.set_connected(None);
        outcome
    }

    /// Answers pushes and sends the node's reports until the stream ends.
    async fn follow(
        &self,
        pushes: &mut tonic::Streaming<portico_proto::ControlMessage>,
        tx: &mpsc::Sender<NodeMessage>,
        backoff: &mut Backoff,
    ) -> Result<(), SessionError> {
        let mut report = tokio::time::interval(LOAD_REPORT_INTERVAL);
        report.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut metrics = tokio::time::interval(METRICS_REPORT_INTERVAL);
        metrics.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut health = tokio::time::interval(TARGET_HEALTH_INTERVAL);
        health.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        // A new stream (perhaps to another replica) gets the whole view at once; a node
        // with no VPC link has nothing to say.
        let mut reported: Option<Vec<portico_proto::TargetHealthEntry>> = Some(Vec::new());
        loop {
            let message = tokio::select! {
                message = pushes.message() => message?,
                _ = health.tick() => {
                    let now = self.runtime.vpc_links.report();
                    if reported.as_ref() != Some(&now) {
                        let report = portico_proto::TargetHealthReport { targets: now.clone() };
                        tx.send(NodeMessage { kind: Some(Kind::TargetHealth(report)) })
                            .await
                            .map_err(|_| SessionError::Closed)?;
                        reported = Some(now);
                    }
                    continue;
                }
                _ = metrics.tick() => {
                    let report = self.metrics_report();
                    if !report.routes.is_empty() || report.access_log_dropped > 0 {
                        tx.send(NodeMessage { kind: Some(Kind::Metrics(report)) })
                            .await
                            .map_err(|_| SessionError::Closed)?;
                    }
                    continue;
                }
                _ = report.tick() => {
                    let load = self
                        .runtime
                        .throttle
                        .load_report(LOAD_REPORT_INTERVAL.as_millis() as u32);
                    tx.send(NodeMessage { kind: Some(Kind::Load(load)) })
                        .await
                        .map_err(|_| SessionError::Closed)?;
                    continue;
                }
            };
            let Some(message) = message else {
                return Ok(());
            };
            match message.kind {
                Some(ControlKind::Push(push)) => {
                    // Only a push proves the control plane is really serving us; a
                    // server that accepts and hangs up at once must not make us spin.
                    backoff.reset();
                    let reply = self.apply(push).await;
                    let config = &self.runtime.meters.config;
                    let (count, at) = match &reply {
                        Kind::Nack(_) => (&config.nacks, &config.last_nack_ms),
                        _ => (&config.acks, &config.last_ack_ms),
                    };
                    count.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    at.store(unix_millis(), std::sync::atomic::Ordering::Relaxed);
                    tx.send(NodeMessage { kind: Some(reply) })
                        .await
                        .map_err(|_| SessionError::Closed)?;
                }
                Some(ControlKind::Shares(shares)) => {
                    tracing::debug!(
                        nodes = shares.nodes,
                        limits = shares.shares.len(),
                        "throttle shares"
                    );
                    self.runtime.throttle.apply_shares(&shares)
                }
                Some(ControlKind::InvokeKeys(keys)) => {
                    tracing::debug!(keys = keys.keys.len(), "invoke keys");
                    self.runtime.invoke_keys.replace(&keys)
                }
                None => {}
            }
        }
    }

    /// What the node served since the last report, stamped with the current minute;
    /// access-log drops are said in the node's own log too.
    fn metrics_report(&self) -> portico_proto::MetricsReport {
        let dropped = self.runtime.access_logs.take_drops();
        if dropped > 0 {
            warn!(
                dropped,
                "access-log lines dropped: the writer fell behind (see portico_access_log_dropped_total)"
            );
        }
        let minute = (unix_millis() / 60_000 * 60) as i64;
        self.runtime.meters.report(minute, dropped)
    }

    /// Applies one push and says what to answer.
    async fn apply(&self, push: ConfigPush) -> Kind {
        let serving = self.config.load_full();
        let (version, nonce) = (push.version, push.nonce.clone());
        let same_content = serving.is_live() && serving.content_hash == push.content_hash;
        let meters = &self.runtime.meters.config;
        if same_content && version == serving.version {
            // What every reconnect brings: the snapshot already served and cached.
            meters.count_push(PushContent::Unchanged);
            return Kind::Ack(Ack { version, nonce });
        }
        meters.count_push(match push.snapshot {
            None => PushContent::VersionOnly,
            Some(_) => PushContent::Full,
        });
        if push.snapshot.is_none() {
            // A version-only push: the content is what we serve, only the version moves.
            // The cache keeps the full snapshot under its older version number; the
            // content is the same, and the next push after a restart moves it on again.
            if !same_content {
                warn!(version, nonce = %nonce, "version-only push for content this node does not serve");
                return Kind::Nack(Nack {
                    version: serving.version,
                    nonce,
                    rejected_version: version,
                    error: push::PushError::MissingSnapshot.to_string(),
                });
            }
            self.config.store(Arc::new(serving.with_version(version)));
            return Kind::Ack(Ack { version, nonce });
        }
        let runtime = self.runtime.clone();
        let outcome = tokio::task::spawn_blocking(move || {
            if same_content {
                push::verify(&push).map(|()| (None, push))
            } else {
                push::verify_and_compile(&push, &runtime).map(|c| (Some(c), push))
            }
        })
        .await;

        let rejected = |error: String| {
            warn!(version, nonce = %nonce, "rejecting snapshot: {error}");
            Kind::Nack(Nack {
                version: serving.version,
                nonce: nonce.clone(),
                rejected_version: version,
                error,
            })
        };
        let (compiled, push) = match outcome {
            Ok(Ok(done)) => done,
            Ok(Err(e)) => return rejected(e.to_string()),
            Err(e) => return rejected(format!("internal error while compiling the snapshot: {e}")),
        };

        let next = compiled.unwrap_or_else(|| serving.with_version(version));
        if !same_content {
            for problem in next.problems() {
                warn!(
                    version,
                    "serving with a broken integration (its routes answer 500): {problem}"
                );
            }
        }
        let stats = next.stats();
        self.config.store(Arc::new(next));
        info!(
            version,
            previous = serving.version,
            content_changed = !same_content,
            apis = stats.apis,
            stages = stats.stages,
            "serving snapshot"
        );

        let cache = self.cache.clone();
        match tokio::task::spawn_blocking(move || cache.store(&push)).await {
            Ok(Ok(())) => {}
            // Serving goes on; only a restart without a control plane would notice.
            Ok(Err(e)) => {
                warn!(path = %self.cache.path().display(), "cannot write snapshot cache: {e}")
            }
            Err(e) => warn!("snapshot cache writer failed: {e}"),
        }
        Kind::Ack(Ack { version, nonce })
    }
}

fn unix_millis() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// Capped exponential backoff with jitter: each delay is drawn from the upper half of
/// the current step, so nodes that lost the same control plane do not return in step.
#[derive(Debug, Default)]
struct Backoff {
    attempt: u32,
}

impl Backoff {
    fn reset(&mut self) {
        self.attempt = 0;
    }

    fn next_delay(&mut self) -> Duration {
        let step = BACKOFF_MIN
            .saturating_mul(1 << self.attempt.min(16))
            .min(BACKOFF_MAX);
        self.attempt = self.attempt.saturating_add(1);
        rand::rng().random_range(step / 2..=step)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_to_the_cap_and_resets() {
        let mut b = Backoff::default();
        let first = b.next_delay();
        assert!(
            first >= BACKOFF_MIN / 2 && first <= BACKOFF_MIN,
            "{first:?}"
        );
        for _ in 0..20 {
            let d = b.next_delay();
            assert!(d <= BACKOFF_MAX, "{d:?}");
        }
        assert!(b.next_delay() >= BACKOFF_MAX / 2);
        b.reset();
        assert!(b.next_delay() <= BACKOFF_MIN);
    }
}
