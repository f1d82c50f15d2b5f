//! The wire contract between the control plane and proxy nodes: the generated protobuf
//! types and gRPC stubs for `portico.proto` (the snapshot, the config stream with ACK/NACK).
//! Nothing else lives here; conversions to domain types belong to the crates that own
//! those types.
#![forbid(unsafe_code)]

pub mod v1 {
    #![allow(clippy::all, clippy::pedantic)]
    tonic::include_proto!("portico.v1");
}

pub use v1::*;
