//! Token buckets for stage and route throttling, and this node's share of each.
//!
//! A stage's limits are cluster totals. The control plane divides each limit between the
//! connected nodes by the traffic they report (`LoadReport`) and tells each node its share
//! (`ThrottleShares`); a node's bucket for a limit refills at `share × rate` and holds
//! `share × burst`. Shares arrive beside the snapshot and apply to the live buckets at
//! once; a node that loses every control plane keeps the shares it last had.
//!
//! A bucket is keyed by `{apiId}/{stage}/{routeKey}`. The registry holds buckets weakly:
//! the compiled configs that use a bucket own it, so a limit no config mentions any more
//! is gone once the last request on the old config has finished.
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::Instant;

use foldhash::{HashMap, HashMapExt};
use portico_proto::{LimitLoad, LoadReport, ThrottleShares};

/// A limit as configured: the cluster's totals.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Limit {
    /// Tokens added per second.
    pub rate: f64,
    /// Most tokens the bucket holds.
    pub burst: f64,
}

impl Limit {
    /// AWS takes both numbers; a limit given only one of them gets the other from it: a
    /// rate alone holds one second of it, a burst alone refills once a second.
    pub fn new(rate: Option<f64>, burst: Option<i64>) -> Option<Limit> {
        match (rate, burst) {
            (None, None) => None,
            (Some(rate), Some(burst)) => Some(Limit {
                rate,
                burst: burst as f64,
            }),
            (Some(rate), None) => Some(Limit {
                rate,
                burst: rate.ceil(),
            }),
            (None, Some(burst)) => Some(Limit {
                rate: burst as f64,
                burst: burst as f64,
            }),
        }
    }
}

/// One limit's bucket on this node.
#[derive(Debug)]
pub struct TokenBucket {
    key: Box<str>,
    state: Mutex<BucketState>,
    /// This node's share of the limit, as f64 bits.
    share: AtomicU64,
    /// Requests that asked for a token since the last load report.
    seen: AtomicU64,
}

#[derive(Debug)]
struct BucketState {
    tokens: f64,
    last: Option<Instant>,
}

impl TokenBucket {
    fn new(key: &str, share: f64) -> Self {
        TokenBucket {
            key: key.into(),
            state: Mutex::new(BucketState {
                tokens: 0.0,
                last: None,
            }),
            share: AtomicU64::new(share.to_bits()),
            seen: AtomicU64::new(0),
        }
    }

    pub fn key(&self) -> &str {
        &self.key
    }

    pub fn share(&self) -> f64 {
        f64::from_bits(self.share.load(Ordering::Relaxed))
    }

    fn set_share(&self, share: f64) {
        self.share.store(share.to_bits(), Ordering::Relaxed);
    }

    fn state(&self) -> MutexGuard<'_, BucketState> {
        // The state is two numbers updated together; a panic elsewhere cannot leave
        // them unusable.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Takes one token at `now` if there is one. The bucket starts full; its size and
    /// rate are this node's share of `limit`, read on every call so that a new limit or
    /// share applies at once. A node's bucket always holds at least one token's room
    /// when the limit allows any burst at all, or a small share could admit nothing.
    pub fn try_acquire(&self, limit: Limit, now: Instant) -> bool {
        self.seen.fetch_add(1, Ordering::Relaxed);
        let share = self.share();
        let mut capacity = limit.burst * share;
        if limit.burst >= 1.0 && capacity < 1.0 {
            capacity = 1.0;
        }
        let rate = limit.rate * share;
        let mut state = self.state();
        let tokens = match state.last {
            None => capacity,
            Some(last) => {
                let elapsed = now.saturating_duration_since(last).as_secs_f64();
                (state.tokens + elapsed * rate).min(capacity)
            }
        };
        state.last = Some(now.max(state.last.unwrap_or(now)));
        if tokens >= 1.0 {
            state.tokens = tokens - 1.0;
            true
        } else {
            state.tokens = tokens;
            false
        }
    }

    fn take_seen(&self) -> u64 {
        self.seen.swap(0, Ordering::Relaxed)
    }
}

#[derive(Debug)]
pub struct ThrottleRegistry {
    inner: Mutex<RegistryState>,
}

#[derive(Debug)]
struct RegistryState {
    buckets: HashMap<Box<str>, Weak<TokenBucket>>,
    /// The last shares the control plane sent, including limits this node has not
    /// compiled yet.
    shares: HashMap<Box<str>, f64>,
    /// The share of a limit the control plane named no share for: 1 / its node count.
    /// Alone (before any control plane spoke) a node admits the whole limit.
    default_share: f64,
    /// Dead entries are swept when the map grows to this, which then doubles, so a
    /// compile that makes thousands of buckets sweeps a few times, not once per bucket.
    sweep_at: usize,
}

impl Default for ThrottleRegistry {
    fn default() -> Self {
        ThrottleRegistry {
            inner: Mutex::new(RegistryState {
                buckets: HashMap::new(),
                shares: HashMap::new(),
                default_share: 1.0,
                sweep_at: 64,
            }),
        }
    }
}

impl ThrottleRegistry {
    fn state(&self) -> MutexGuard<'_, RegistryState> {
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The bucket for `key`: the live one if a config still uses it, else a new one.
    /// Called while compiling, never on the request path.
    pub fn bucket(&self, key: &str) -> Arc<TokenBucket> {
        let mut state = self.state();
        if let Some(live) = state.buckets.get(key).and_then(Weak::upgrade) {
            return live;
        }
        let share = state
            .shares
            .get(key)
            .copied()
            .unwrap_or(state.default_share);
        let bucket = Arc::new(TokenBucket::new(key, share));
        if state.buckets.len() >= state.sweep_at {
            state.buckets.retain(|_, b| b.strong_count() > 0);
            state.sweep_at = (state.buckets.len() * 2).max(64);
        }
        state.buckets.insert(key.into(), Arc::downgrade(&bucket));
        bucket
    }

    /// Applies the control plane's shares to the live buckets and keeps them for
    /// buckets still to come.
    pub fn apply_shares(&self, message: &ThrottleShares) {
        let mut state = self.state();
        state.default_share = default_share(message.nodes);
        state.shares = message
            .shares
            .iter()
            .filter(|s| s.share.is_finite() && s.share >= 0.0)
            .map(|s| (Box::from(s.limit_key.as_str()), s.share.min(1.0)))
            .collect();
        let RegistryState {
            buckets,
            shares,
            default_share,
            ..
        } = &mut *state;
        for (key, bucket) in buckets.iter() {
            if let Some(bucket) = bucket.upgrade() {
                bucket.set_share(shares.get(key).copied().unwrap_or(*default_share));
            }
        }
    }

    /// What every live limit saw since the previous report; empty when no throttled
    /// route had traffic, which still tells the control plane this node is there.
    pub fn load_report(&self, interval_millis: u32) -> LoadReport {
        let state = self.state();
        let limits = state
            .buckets
            .values()
            .filter_map(Weak::upgrade)
            .filter_map(|b| {
                let requests = b.take_seen();
                (requests > 0).then(|| LimitLoad {
                    limit_key: b.key.to_string(),
                    requests,
                })
            })
            .collect();
        LoadReport {
            interval_millis,
            limits,
        }
    }
}

fn default_share(nodes: u32) -> f64 {
    1.0 / f64::from(nodes.max(1))
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use portico_proto::LimitShare;

    use super::*;

    const LIMIT: Limit = Limit {
        rate: 10.0,
        burst: 5.0,
    };

    fn admitted(bucket: &TokenBucket, limit: Limit, at: Instant, n: usize) -> usize {
        (0..n).filter(|_| bucket.try_acquire(limit, at)).count()
    }

    /// "Throttle requests to your HTTP APIs": a token bucket, burst is its size and rate
    /// its refill per second.
    #[test]
    fn a_full_bucket_admits_the_burst_then_the_rate() {
        let b = TokenBucket::new("a/s/GET /x", 1.0);
        let t0 = Instant::now();
        assert_eq!(admitted(&b, LIMIT, t0, 20), 5);
        // 300 ms at 10/s: 3 more.
        assert_eq!(admitted(&b, LIMIT, t0 + Duration::from_millis(300), 20), 3);
        // A long pause refills to the burst, never beyond.
        assert_eq!(admitted(&b, LIMIT, t0 + Duration::from_secs(60), 20), 5);
    }

    #[test]
    fn zero_limits_admit_nothing() {
        let b = TokenBucket::new("k", 1.0);
        let zero = Limit::new(Some(0.0), Some(0)).unwrap();
        let t0 = Instant::now();
        assert_eq!(admitted(&b, zero, t0, 3), 0);
        assert_eq!(admitted(&b, zero, t0 + Duration::from_secs(5), 3), 0);
    }

    #[test]
    fn one_number_implies_the_other() {
        assert_eq!(Limit::new(None, None), None);
        assert_eq!(
            Limit::new(Some(2.5), None),
            Some(Limit {
                rate: 2.5,
                burst: 3.0
            })
        );
        assert_eq!(
            Limit::new(None, Some(7)),
            Some(Limit {
                rate: 7.0,
                burst: 7.0
            })
        );
    }

    #[test]
    fn a_share_scales_rate_and_burst() {
        let b = TokenBucket::new("k", 0.5);
        let limit = Limit {
            rate: 100.0,
            burst: 40.0,
        };
        let t0 = Instant::now();
        assert_eq!(admitted(&b, limit, t0, 100), 20);
        assert_eq!(admitted(&b, limit, t0 + Duration::from_secs(1), 100), 20);
        // A tiny share still leaves room for one request.
        let tiny = TokenBucket::new("k", 0.001);
        assert_eq!(admitted(&tiny, limit, t0, 10), 1);
    }

    #[test]
    fn shares_reach_live_buckets_and_later_ones() {
        let r = ThrottleRegistry::default();
        let live = r.bucket("a/s/GET /x");
        assert_eq!(live.share(), 1.0);
        r.apply_shares(&ThrottleShares {
            nodes: 4,
            shares: vec![
                LimitShare {
                    limit_key: "a/s/GET /x".into(),
                    share: 0.7,
                },
                LimitShare {
                    limit_key: "a/s/GET /later".into(),
                    share: 0.1,
                },
            ],
        });
        assert_eq!(live.share(), 0.7);
        assert_eq!(r.bucket("a/s/GET /later").share(), 0.1);
        assert_eq!(r.bucket("a/s/GET /other").share(), 0.25);
        // The same key gives the same bucket while a config holds it.
        assert!(Arc::ptr_eq(&live, &r.bucket("a/s/GET /x")));
    }

    #[test]
    fn buckets_no_config_holds_are_swept() {
        let r = ThrottleRegistry::default();
        let held: Vec<_> = (0..10).map(|i| r.bucket(&format!("held/{i}"))).collect();
        for i in 0..1000 {
            drop(r.bucket(&format!("gone/{i}")));
        }
        let len = r.state().buckets.len();
        assert!(len < 200, "{len} entries kept");
        assert!(held.iter().all(|b| Arc::ptr_eq(b, &r.bucket(b.key()))));
    }

    #[test]
    fn load_reports_count_and_reset() {
        let r = ThrottleRegistry::default();
        let b = r.bucket("k");
        let t0 = Instant::now();
        admitted(&b, LIMIT, t0, 12);
        let report = r.load_report(500);
        assert_eq!(report.limits.len(), 1);
        assert_eq!(report.limits[0].requests, 12);
        assert!(r.load_report(500).limits.is_empty());
        drop(b);
        // A bucket no config holds is not reported.
        assert!(r.load_report(500).limits.is_empty());
    }
}
