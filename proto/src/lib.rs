//! The wire contract between the control plane and proxy nodes: the generated protobuf
//! types and gRPC stubs for `portico.proto` (the snapshot, the config stream with ACK/NACK),
//! and [`content_hash`], which both ends must compute the same way. Nothing else lives
//! here; conversions to domain types belong to the crates that own those types.
#![forbid(unsafe_code)]

pub mod v1 {
    #![allow(clippy::all, clippy::pedantic)]
    tonic::include_proto!("portico.v1");
}

pub use v1::*;

use prost::Message;
use sha2::{Digest, Sha256};

/// Hex SHA-256 of the prost-encoded snapshot: equal hashes mean equal configuration. The
/// control plane puts it in every push and a node checks it before compiling.
pub fn content_hash(snapshot: &Snapshot) -> String {
    hex::encode(Sha256::digest(snapshot.encode_to_vec()))
}
