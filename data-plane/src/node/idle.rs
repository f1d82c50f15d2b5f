//! The idle timeout: a client connection that moves no byte either way for the node's
//! `--idle-timeout` is closed. Each read and write bumps a counter, and a watchdog on the
//! connection's task looks at it a few times per timeout, so the request path pays one
//! uncontended atomic add per I/O call and no clock read.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// How many times per timeout the watchdog looks: a quiet connection is closed between
/// one and 1 + 1/CHECKS timeouts after its last byte.
const CHECKS: u32 = 4;

/// A connection's stream that counts its reads and writes.
pub(crate) struct Counted<T> {
    inner: T,
    activity: Arc<AtomicU64>,
}

impl<T> Counted<T> {
    pub(crate) fn new(inner: T) -> (Self, Arc<AtomicU64>) {
        let activity = Arc::new(AtomicU64::new(0));
        (
            Counted {
                inner,
                activity: activity.clone(),
            },
            activity,
        )
    }

    fn bump(&self) {
        self.activity.fetch_add(1, Ordering::Relaxed);
    }
}

/// Resolves once `activity` has not moved for `limit`.
pub(crate) async fn quiet_for(activity: &AtomicU64, limit: Duration) {
    let step = (limit / CHECKS).max(Duration::from_millis(10));
    let mut seen = activity.load(Ordering::Relaxed);
    let mut quiet = Duration::ZERO;
    loop {
        tokio::time::sleep(step).await;
        let now = activity.load(Ordering::Relaxed);
        if now == seen {
            quiet += step;
            if quiet >= limit {
                return;
            }
        } else {
            seen = now;
            quiet = Duration::ZERO;
        }
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for Counted<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let polled = Pin::new(&mut this.inner).poll_read(cx, buf);
        if polled.is_ready() {
            this.bump();
        }
        polled
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for Counted<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let polled = Pin::new(&mut this.inner).poll_write(cx, buf);
        if polled.is_ready() {
            this.bump();
        }
        polled
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let polled = Pin::new(&mut this.inner).poll_write_vectored(cx, bufs);
        if polled.is_ready() {
            this.bump();
        }
        polled
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_quiet_counter_resolves_after_the_limit_and_a_busy_one_does_not() {
        let limit = Duration::from_millis(200);
        let activity = Arc::new(AtomicU64::new(0));
        let started = tokio::time::Instant::now();
        quiet_for(&activity, limit).await;
        let waited = started.elapsed();
        assert!(waited >= limit && waited < limit * 3, "{waited:?}");

        let busy = activity.clone();
        let bumping = tokio::spawn(async move {
            for _ in 0..12 {
                tokio::time::sleep(Duration::from_millis(50)).await;
                busy.fetch_add(1, Ordering::Relaxed);
            }
        });
        let started = tokio::time::Instant::now();
        quiet_for(&activity, limit).await;
        assert!(started.elapsed() >= Duration::from_millis(600));
        bumping.await.expect("bumping");
    }
}
