//! The proxy's body types: [`ProxyBody`] for every response it sends, [`DownstreamBody`]
//! for the client's request body (with the node's body read timeout), and
//! [`UpstreamBody`], that body capped on its way upstream.

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http::Version;
use http_body::{Body, Frame, SizeHint};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;

use crate::integrations::{ReadError, read_to_end};
use crate::read_deadline::ReadDeadline;
use crate::upstream::pool;

/// The request body as the upstream pool sends it: the client's, capped at the largest
/// body AWS forwards.
pub type UpstreamBody = Limited<DownstreamBody>;

/// An upstream's response body, which gives its pooled connection back at its end.
pub type UpstreamResponseBody = pool::UpstreamResponseBody<UpstreamBody>;

/// The pool of upstream connections that sends [`UpstreamBody`].
pub type UpstreamPool = pool::UpstreamPool<UpstreamBody>;

/// How long, and how much, a dropped request body is still read and thrown away.
const LINGER_TIME: Duration = Duration::from_secs(5);
const LINGER_BYTES: usize = 64 * 1024 * 1024;

/// The one response body type the proxy answers with: the upstream's body streamed
/// through untouched (its connection going back to the pool at the end), or a small body the node wrote itself. An enum rather than a boxed
/// trait object, so a proxied response costs no extra allocation.
#[derive(Debug)]
pub enum ProxyBody {
    Upstream(UpstreamResponseBody),
    Local(Full<Bytes>),
}

impl ProxyBody {
    pub fn from_static(bytes: &'static [u8]) -> Self {
        ProxyBody::Local(Full::new(Bytes::from_static(bytes)))
    }

    pub fn local(bytes: impl Into<Bytes>) -> Self {
        ProxyBody::Local(Full::new(bytes.into()))
    }
}

impl Body for ProxyBody {
    type Data = Bytes;
    type Error = pool::BodyError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, pool::BodyError>>> {
        // Both variants are Unpin, so no projection is needed.
        match self.get_mut() {
            ProxyBody::Upstream(b) => Pin::new(b).poll_frame(cx),
            ProxyBody::Local(b) => Pin::new(b).poll_frame(cx).map_err(|never| match never {}),
        }
    }

    fn is_end_stream(&self) -> bool {
        match self {
            ProxyBody::Upstream(b) => b.is_end_stream(),
            ProxyBody::Local(b) => b.is_end_stream(),
        }
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            ProxyBody::Upstream(b) => b.size_hint(),
            ProxyBody::Local(b) => b.size_hint(),
        }
    }
}

/// Why the client's request body could not be read.
#[derive(Debug, thiserror::Error)]
pub enum DownstreamError {
    #[error("reading the request body failed")]
    Read(#[source] hyper::Error),
    /// The client sent no byte of the body for the node's body read timeout (a slow or
    /// stalled client, as nginx's `client_body_timeout` measures it): 408.
    #[error("the client sent nothing of the request body for {0:?}")]
    Stalled(Duration),
    /// A body without a declared length (chunked, or HTTP/2 DATA) went past the node's
    /// `--max-body-bytes`: 413, as a declared one is refused before it is read.
    #[error("the request body went past the node's limit of {0} bytes")]
    TooLarge(u64),
}

impl DownstreamError {
    /// The client's body failure among `error` and its causes, if it is one: a request
    /// body streamed upstream fails the upstream request, with this as a cause.
    pub fn in_chain<'e>(error: &'e (dyn std::error::Error + 'static)) -> Option<&'e Self> {
        let mut cause = Some(error);
        while let Some(e) = cause {
            if let Some(found) = e.downcast_ref() {
                return Some(found);
            }
            cause = e.source();
        }
        None
    }
}

/// The client's request body. When it is dropped before the client has finished sending
/// (a 404 or 413, an upstream that answered early, a timeout), closing an HTTP/1.x
/// connection with unread data makes the kernel reset it, and the client loses the
/// response it has not read yet. So the rest is read and thrown away in the background
/// for a bounded time first, as nginx's lingering close does. HTTP/2 needs none of this:
/// the stream is reset on its own and the connection lives on.
#[derive(Debug)]
pub struct DownstreamBody {
    /// `None` once the body has ended or failed: nothing is left to drain.
    inner: Option<Incoming>,
    /// The whole body, when a phase had to read it before the integration (a SigV4
    /// signature covers it); handed on as one frame.
    buffered: Option<Bytes>,
    linger: bool,
    /// The node's body read timeout.
    deadline: ReadDeadline,
    /// The node's `--max-body-bytes`, and how much of the body has come so far.
    max_bytes: u64,
    received: u64,
}

impl DownstreamBody {
    /// The body of a request, failing once the client sends nothing of it for
    /// `read_timeout` or sends more than `max_bytes`.
    pub fn new(body: Incoming, version: Version, read_timeout: Duration, max_bytes: u64) -> Self {
        DownstreamBody {
            inner: Some(body),
            buffered: None,
            linger: version < Version::HTTP_2,
            deadline: ReadDeadline::new(read_timeout),
            max_bytes,
            received: 0,
        }
    }

    /// A body that has already ended.
    #[cfg(test)]
    pub fn empty() -> Self {
        DownstreamBody {
            inner: None,
            buffered: None,
            linger: false,
            deadline: ReadDeadline::new(Duration::from_secs(30)),
            max_bytes: u64::MAX,
            received: 0,
        }
    }

    /// Reads the whole body (at most `limit` bytes) and keeps it, so the integration
    /// still gets it; returns it.
    pub async fn read_whole(&mut self, limit: usize) -> Result<Bytes, ReadError> {
        if let Some(whole) = &self.buffered {
            return Ok(whole.clone());
        }
        let whole = match self.inner {
            // Through `poll_frame`, so that the read timeout holds here too.
            Some(_) => read_to_end(&mut *self, limit).await?,
            None => Bytes::new(),
        };
        self.buffered = Some(whole.clone());
        Ok(whole)
    }
}

impl Body for DownstreamBody {
    type Data = Bytes;
    type Error = DownstreamError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, DownstreamError>>> {
        let this = self.get_mut();
        if let Some(whole) = this.buffered.take() {
            return Poll::Ready(Some(Ok(Frame::data(whole))));
        }
        if this.received > this.max_bytes {
            return Poll::Ready(Some(Err(DownstreamError::TooLarge(this.max_bytes))));
        }
        let Some(inner) = this.inner.as_mut() else {
            return Poll::Ready(None);
        };
        match Pin::new(inner).poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(data) = frame.data_ref() {
                    this.received += data.len() as u64;
                    // The rest is left unread, and read off after the answer (see Drop).
                    if this.received > this.max_bytes {
                        return Poll::Ready(Some(Err(DownstreamError::TooLarge(this.max_bytes))));
                    }
                }
                this.deadline.progressed();
                Poll::Ready(Some(Ok(frame)))
            }
            Poll::Ready(end) => {
                this.inner = None;
                Poll::Ready(end.map(|r| r.map_err(DownstreamError::Read)))
            }
            Poll::Pending => {
                if this.deadline.poll_expired(cx).is_pending() {
                    return Poll::Pending;
                }
                // Nothing is lingered for: a client this slow gets its connection closed.
                this.inner = None;
                Poll::Ready(Some(Err(DownstreamError::Stalled(this.deadline.timeout()))))
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.buffered.is_none() && self.inner.as_ref().is_none_or(Body::is_end_stream)
    }

    fn size_hint(&self) -> SizeHint {
        if let Some(whole) = &self.buffered {
            return SizeHint::with_exact(whole.len() as u64);
        }
        self.inner
            .as_ref()
            .map_or_else(|| SizeHint::with_exact(0), Body::size_hint)
    }
}

impl Drop for DownstreamBody {
    fn drop(&mut self) {
        let Some(body) = self.inner.take() else {
            return;
        };
        if !self.linger || body.is_end_stream() {
            return;
        }
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(discard(body));
        }
    }
}

async fn discard(mut body: Incoming) {
    let _ = tokio::time::timeout(LINGER_TIME, async {
        let mut left = LINGER_BYTES;
        while let Some(Ok(frame)) = body.frame().await {
            left = left.saturating_sub(frame.data_ref().map_or(0, Bytes::len));
            if left == 0 {
                return;
            }
        }
    })
    .await;
}
