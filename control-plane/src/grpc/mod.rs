//! The gRPC config service proxy nodes connect to: cluster-token authentication, the
//! snapshot stream with ACK/NACK, each node's status, throttle shares and the keys the
//! nodes check `execute-api` signatures with.
mod config_service;
pub mod invoke_keys;
mod node_session;
pub mod throttle_shares;

pub use config_service::ConfigStreamService;
