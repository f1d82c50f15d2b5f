//! Portico's proxy node: the `portico-proxy` binary, and the node `portico up` runs
//! in-process. It serves traffic; it never stores configuration of its own, and it does
//! not link sqlx or leptos. Its folders follow `docs/architecture.md`:
//!
//! - `node`: the process (flags, worker threads, listeners, the ops endpoint with
//!   `/metrics`);
//! - [`config_stream`]: the config stream to the control plane (ACK/NACK, push checks,
//!   the on-disk last-good cache; its TLS is the `portico-stream-tls` crate);
//! - [`config`]: a snapshot compiled into what requests read, swapped in as one unit;
//! - [`proxy`]: the request pipeline and the one place errors become responses;
//! - [`runtime`]: state that outlives a config swap (token buckets and shares, keys and
//!   caches, route meters, the access-log writer, the span exporter);
//! - [`integrations`]: what a route calls (HTTP_PROXY, and Lambda functions through the
//!   Invoke API);
//! - [`upstream`]: connections to upstreams.
//!
//! Entry points: [`run_node`] with [`NodeArgs`], or [`Node::bind`] then [`Node::run`]
//! to learn the bound addresses first. [`CompiledConfig::compile`] is public so that the
//! control plane checks every snapshot with this very compiler before it publishes it.
#![forbid(unsafe_code)]

pub mod config;
pub mod config_stream;
mod error_chain;
pub mod integrations;
mod node;
pub mod proxy;
mod read_deadline;
pub mod runtime;
pub mod upstream;

pub use config::{CompileError, CompiledConfig, StageProblem};
pub use config_stream::push;
pub use config_stream::push::content_hash;
pub use node::{
    DEFAULT_CACHE_DIR, DEFAULT_CONTROL_PLANE, DEFAULT_METRICS_ADDR, DEFAULT_PROXY_ADDR, Node,
    NodeArgs, run_node,
};
pub use runtime::Runtime;
