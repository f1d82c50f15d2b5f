//! A node's way out: on SIGTERM it first *drains* — `/ready` answers 503 so load
//! balancers take it out, HTTP/2 clients get GOAWAY, HTTP/1.1 responses carry
//! `Connection: close` so keep-alive connections leave after their next answer — while it
//! goes on serving everything that still arrives. Only after the drain period does it
//! stop accepting and finish what is in flight (see `listener::serve`).
//!
//! Closing idle HTTP/1.1 connections at once would race a balancer that is sending a
//! request on one at that very moment; closing each after a response cannot, which is
//! why the drain sheds connections this way and only the final stop closes idle ones.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tokio::sync::watch;

/// The drain period when `--drain-seconds` is not given: long enough for a balancer
/// checking `/ready` every second or two to see it fail twice.
pub const DEFAULT_DRAIN: Duration = Duration::from_secs(5);

#[derive(Debug)]
pub struct Lifecycle {
    draining: AtomicBool,
    /// Listeners hear the drain start here (to send GOAWAY on HTTP/2 connections).
    drain_started: watch::Sender<bool>,
}

impl Default for Lifecycle {
    fn default() -> Self {
        Lifecycle {
            draining: AtomicBool::new(false),
            drain_started: watch::channel(false).0,
        }
    }
}

impl Lifecycle {
    /// Read on every request: a relaxed load, as a response that misses the flag by a
    /// moment only keeps its connection open a little longer.
    pub fn is_draining(&self) -> bool {
        self.draining.load(Ordering::Relaxed)
    }

    pub fn start_draining(&self) {
        self.draining.store(true, Ordering::Relaxed);
        self.drain_started.send_replace(true);
    }

    pub fn drain_started(&self) -> watch::Receiver<bool> {
        self.drain_started.subscribe()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn listeners_hear_the_drain_start() {
        let lifecycle = Lifecycle::default();
        let mut heard = lifecycle.drain_started();
        assert!(!lifecycle.is_draining());
        lifecycle.start_draining();
        assert!(lifecycle.is_draining());
        heard.wait_for(|d| *d).await.expect("sender alive");
        // A listener that subscribes late sees it at once.
        assert!(*lifecycle.drain_started().borrow());
    }
}
