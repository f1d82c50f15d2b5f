//! Portico's control plane: the configuration store (Postgres or embedded SQLite), the
//! service layer every change goes through, the AWS-shaped admin REST API, deployments and
//! the snapshot compiler, and the gRPC config service that streams snapshots to proxy
//! nodes, which report their traffic back for per-minute series, usage and budgets. The
//! `portico` binary runs it (`serve`), or runs it together with one proxy node
//! on SQLite (`up`).
#![forbid(unsafe_code)]
// The console's view types (leptos) are deeply nested generics.
#![recursion_limit = "512"]

pub mod admin;
pub mod cli;
pub mod console;
pub mod grpc;
pub mod identity;
mod secret_file;
pub mod server;
pub mod service;
pub mod snapshot;
pub mod store;
pub mod up;
