//! The config stream: the gRPC client that follows a control plane (ACK/NACK, reconnect
//! with backoff), what a push must pass before it is served (content hash, then the
//! compile) and the on-disk last-good cache. The stream's TLS, which both ends share,
//! is the `portico-stream-tls` crate.
pub(crate) mod cache;
pub(crate) mod client;
pub mod push;
