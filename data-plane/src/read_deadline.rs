//! A deadline between two reads of a streamed body, as nginx's `client_body_timeout` and
//! `proxy_read_timeout` measure it: armed only the first time the peer has nothing ready
//! (a small body arrives with its head and never needs a timer), pushed back at each frame.

use std::future::Future as _;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::time::{Instant, Sleep};

#[derive(Debug)]
pub(crate) struct ReadDeadline {
    timeout: Duration,
    timer: Option<Pin<Box<Sleep>>>,
}

impl ReadDeadline {
    pub(crate) fn new(timeout: Duration) -> Self {
        ReadDeadline {
            timeout,
            timer: None,
        }
    }

    pub(crate) fn timeout(&self) -> Duration {
        self.timeout
    }

    /// A frame came: the next wait starts now.
    pub(crate) fn progressed(&mut self) {
        if let Some(timer) = &mut self.timer {
            timer.as_mut().reset(Instant::now() + self.timeout);
        }
    }

    /// The peer has nothing ready: ready once it has sent nothing for the timeout.
    pub(crate) fn poll_expired(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        let timeout = self.timeout;
        self.timer
            .get_or_insert_with(|| Box::pin(tokio::time::sleep(timeout)))
            .as_mut()
            .poll(cx)
    }
}
