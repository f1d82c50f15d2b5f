//! The config stream: the gRPC client that follows a control plane (ACK/NACK, reconnect
//! with backoff), what a push must pass before it is served (content hash, then the
//! compile), the on-disk last-good cache, and the stream's own TLS at both ends.
pub(crate) mod cache;
pub(crate) mod client;
pub mod push;
pub mod tls;
