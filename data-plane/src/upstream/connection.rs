//! An HTTP/1.1 connection to an upstream that the request using it drives.
//!
//! hyper's client connection comes in two halves: a `SendRequest` handle and the
//! dispatcher that reads and writes the socket. The usual way is to spawn the dispatcher
//! as a task of its own, which costs every proxied request two task hand-offs (the
//! request wakes the connection's task to write; the response wakes the request's task
//! to carry on) and, with them, the run queue's work and cold caches. Here the
//! dispatcher is polled by whoever holds the connection: the request while it waits for
//! the response head, the response body while it streams, and nobody while the
//! connection sits idle in the pool. Everything a request does upstream then happens in
//! the downstream connection's own task, as it does in nginx's one event handler.
//!
//! An idle connection is not polled, so the pool learns that an upstream closed it
//! when it takes the connection out (the dispatcher reads the end of the stream first)
//! or at its next sweep.

use std::error::Error as StdError;
use std::future::{Future, poll_fn};
use std::pin::{Pin, pin};
use std::task::{Context, Poll, Waker};

use http::{Request, Response};
use http_body::Body;
use hyper::body::Incoming;
use hyper::client::conn::{TrySendError, http1};
use tracing::debug;

type BoxError = Box<dyn StdError + Send + Sync>;

/// hyper's dispatcher for one connection, whatever its transport (TCP or TLS).
type Dispatcher = Pin<Box<dyn Future<Output = hyper::Result<()>> + Send>>;

pub struct UpstreamConnection<B> {
    sender: http1::SendRequest<B>,
    /// `None` once the dispatcher has finished: the connection is closed.
    dispatcher: Option<Dispatcher>,
}

impl<B> UpstreamConnection<B>
where
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
{
    /// Starts HTTP/1.1 on a connected transport.
    pub async fn handshake<IO>(io: IO) -> hyper::Result<Self>
    where
        IO: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
    {
        let (sender, dispatcher) = http1::Builder::new().handshake(io).await?;
        Ok(UpstreamConnection {
            sender,
            dispatcher: Some(Box::pin(dispatcher)),
        })
    }

    /// Waits until the connection can take a request. An error means it is closed (an
    /// idle connection the upstream hung up on fails here, before anything is written).
    pub async fn ready(&mut self) -> hyper::Result<()> {
        poll_fn(|cx| {
            self.drive(cx);
            self.sender.poll_ready(cx)
        })
        .await
    }

    /// Sends a request and waits for the response head, driving the connection
    /// meanwhile. The response's body still needs the connection driven: see
    /// [`UpstreamConnection::drive`].
    pub async fn send(
        &mut self,
        request: Request<B>,
    ) -> Result<Response<Incoming>, TrySendError<Request<B>>> {
        let mut response = pin!(self.sender.try_send_request(request));
        poll_fn(|cx| {
            self.drive(cx);
            response.as_mut().poll(cx)
        })
        .await
    }
}

impl<B> UpstreamConnection<B> {
    /// Lets the dispatcher read and write what it can. Once it finishes it is dropped,
    /// which fails whatever was waiting on it; the connection is then closed.
    pub fn drive(&mut self, cx: &mut Context<'_>) {
        if let Some(dispatcher) = &mut self.dispatcher
            && let Poll::Ready(ended) = dispatcher.as_mut().poll(cx)
        {
            if let Err(e) = ended {
                debug!("upstream connection ended: {e}");
            }
            self.dispatcher = None;
        }
    }

    /// Drives the connection without anyone to wake: how the pool's sweep notices idle
    /// connections their upstreams have closed.
    pub fn drive_idle(&mut self) {
        self.drive(&mut Context::from_waker(Waker::noop()));
    }

    /// Whether the connection may take another request: open, and not given up by
    /// hyper.
    pub fn is_open(&self) -> bool {
        self.dispatcher.is_some() && !self.sender.is_closed()
    }
}
