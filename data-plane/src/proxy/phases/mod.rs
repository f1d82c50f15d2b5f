//! The request phases, one file each, in the order `pipeline.rs` runs them (see
//! `docs/request-pipeline.md`).
//!
//! The contract: a phase takes the [`RequestContext`](super::context::RequestContext)
//! (and, after resolve, the [`Matched`](super::context::Matched) route), plus the parts
//! of the request head it reads, and returns `Ok` with what the next phase needs or
//! `Err(ProxyError)`, which respond turns into the client's answer. A phase that answers
//! the request itself with a success (a CORS preflight) returns that response as its
//! answer the same way, through respond. Phases do no I/O a cache could have done ahead
//! and hold no lock across an await.
pub mod authorize;
pub mod cors;
pub mod integrate;
pub mod log;
pub mod map_request;
pub mod map_response;
pub mod resolve;
pub mod respond;
pub mod throttle;
