//! Portico's proxy node: the `portico-proxy` binary, and the node `portico up` runs
//! in-process. It owns the snapshot client (the config stream to the control plane, with
//! ACK/NACK and an on-disk last-good cache), the compiled config (host, stage and route
//! tables, integrations rendered per stage) swapped in as one unit, the request
//! pipeline and its integrations, and the health/readiness listener. It serves traffic;
//! it never stores configuration of its own, and it does not link sqlx or leptos.
//! [`tls`] reads the PEM files for TLS on the config stream, at both ends: the control
//! plane serves with a [`tls::ServerIdentity`]; a node trusts `--ca` or the public roots.
//!
//! Entry points: [`run_node`] with [`NodeArgs`], or [`Node::bind`] then [`Node::run`]
//! to learn the bound addresses first. [`CompiledConfig::compile`] and
//! [`content_hash`] are public so a control plane can check a snapshot the way a node
//! will before it publishes it.
#![forbid(unsafe_code)]

pub mod compiled;
mod error_chain;
mod health;
pub mod integration;
mod listener;
mod node;
pub mod proxy;
pub mod push;
pub mod route_table;
mod snapshot_cache;
mod snapshot_client;
pub mod tls;

pub use compiled::{CompileError, CompiledConfig};
pub use node::{
    DEFAULT_CACHE_DIR, DEFAULT_CONTROL_PLANE, DEFAULT_METRICS_ADDR, DEFAULT_PROXY_ADDR, Node,
    NodeArgs, run_node,
};
pub use push::content_hash;
