//! The gRPC config service proxy nodes connect to: cluster-token authentication, the
//! snapshot stream with ACK/NACK, and each node's status.
mod config_service;
mod node_session;
pub mod throttle_shares;

pub use config_service::ConfigStreamService;
