//! Throttles failed logins per user name and per source address: past the limit within
//! the window, further attempts are refused (429) before any password is hashed. An
//! attempt counts as failed from the moment it starts, so a burst of concurrent guesses
//! cannot all slip past the check while the first ones are still hashing; a success
//! clears the user's count and takes its own attempt back from the source's. Kept per
//! replica, in memory.
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

const WINDOW: Duration = Duration::from_secs(5 * 60);
const MAX_FAILURES_PER_USER: u32 = 10;
const MAX_FAILURES_PER_SOURCE: u32 = 30;
/// Past this many tracked keys, expired ones are dropped on the next failure.
const PRUNE_ABOVE: usize = 10_000;

#[derive(Debug, Clone, Copy)]
struct Window {
    failures: u32,
    started: Instant,
}

#[derive(Debug, Default)]
pub struct LoginThrottle {
    // A std mutex: held for a map lookup, never across an await.
    windows: Mutex<HashMap<String, Window>>,
}

fn user_key(user: &str) -> String {
    format!("user:{user}")
}

fn source_key(source: &str) -> String {
    format!("source:{source}")
}

impl LoginThrottle {
    pub fn new() -> Self {
        Self::default()
    }

    /// Starts an attempt: `Err(retry_after)` when the user or the source has failed too
    /// often lately, otherwise the attempt is counted as a failure until `succeeded`.
    pub fn begin(&self, user: &str, source: &str) -> Result<(), Duration> {
        let now = Instant::now();
        let mut windows = self.windows.lock().unwrap_or_else(|p| p.into_inner());
        if windows.len() > PRUNE_ABOVE {
            windows.retain(|_, w| now.duration_since(w.started) < WINDOW);
        }
        let keys = [
            (user_key(user), MAX_FAILURES_PER_USER),
            (source_key(source), MAX_FAILURES_PER_SOURCE),
        ];
        let mut retry_after = None;
        for (key, max) in &keys {
            if let Some(w) = windows.get(key) {
                let age = now.duration_since(w.started);
                if age < WINDOW && w.failures >= *max {
                    retry_after = retry_after.max(Some(WINDOW - age));
                }
            }
        }
        if let Some(r) = retry_after {
            return Err(r);
        }
        for (key, _) in keys {
            let w = windows.entry(key).or_insert(Window {
                failures: 0,
                started: now,
            });
            if now.duration_since(w.started) >= WINDOW {
                *w = Window {
                    failures: 0,
                    started: now,
                };
            }
            w.failures += 1;
        }
        Ok(())
    }

    /// The attempt was right: the user starts afresh, and the source gets it back.
    pub fn succeeded(&self, user: &str, source: &str) {
        let mut windows = self.windows.lock().unwrap_or_else(|p| p.into_inner());
        windows.remove(&user_key(user));
        if let Some(w) = windows.get_mut(&source_key(source)) {
            w.failures = w.failures.saturating_sub(1);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_a_user_after_too_many_failures_and_clears_on_success() {
        let t = LoginThrottle::new();
        for i in 0..MAX_FAILURES_PER_USER {
            assert!(t.begin("alice", &format!("10.0.0.{i}")).is_ok());
        }
        assert!(t.begin("alice", "10.9.9.9").is_err());
        assert!(t.begin("bob", "10.9.9.9").is_ok());
        t.succeeded("alice", "10.0.0.1");
        assert!(t.begin("alice", "10.9.9.9").is_ok());
    }

    #[test]
    fn blocks_a_source_spraying_many_users_even_concurrently() {
        let t = LoginThrottle::new();
        // Attempts count when they start, before any of them has finished hashing.
        let started = (0..MAX_FAILURES_PER_SOURCE * 2)
            .filter(|i| t.begin(&format!("user{i}"), "192.0.2.1").is_ok())
            .count();
        assert_eq!(started, MAX_FAILURES_PER_SOURCE as usize);
        let retry = t.begin("someone-new", "192.0.2.1").unwrap_err();
        assert!(retry <= WINDOW);
        assert!(t.begin("someone-new", "192.0.2.2").is_ok());
    }

    #[test]
    fn successes_do_not_use_up_the_source() {
        let t = LoginThrottle::new();
        for _ in 0..MAX_FAILURES_PER_SOURCE * 3 {
            t.begin("admin", "192.0.2.9").unwrap();
            t.succeeded("admin", "192.0.2.9");
        }
        assert!(t.begin("admin", "192.0.2.9").is_ok());
    }
}
