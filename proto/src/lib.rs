//! The wire contract between the control plane and proxy nodes: the generated protobuf
//! types and gRPC stubs for `portico.proto` (the snapshot, the config stream with ACK/NACK),
//! and [`EncodedSnapshot`] / [`content_hash`], which both ends must compute the same way.
//! Nothing else lives here; conversions to domain types belong to the crates that own
//! those types.
#![forbid(unsafe_code)]

pub mod v1 {
    #![allow(clippy::all, clippy::pedantic)]
    tonic::include_proto!("portico.v1");
}

pub use v1::*;

use bytes::Bytes;
use prost::Message;
use sha2::{Digest, Sha256};

/// Hex SHA-256 of the prost-encoded snapshot: equal hashes mean equal configuration. The
/// control plane puts it in every push and a node checks it before compiling.
pub fn content_hash(snapshot: &Snapshot) -> String {
    hash_of(&snapshot.encode_to_vec())
}

/// The content hash of snapshot bytes as they travel.
pub fn hash_of(encoded: &[u8]) -> String {
    hex::encode(Sha256::digest(encoded))
}

/// A snapshot encoded once, with the hash of exactly those bytes: what every push of
/// its version carries, shared (not copied) by every node stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncodedSnapshot {
    pub bytes: Bytes,
    pub content_hash: String,
}

impl EncodedSnapshot {
    pub fn encode(snapshot: &Snapshot) -> Self {
        let bytes = Bytes::from(snapshot.encode_to_vec());
        EncodedSnapshot {
            content_hash: hash_of(&bytes),
            bytes,
        }
    }
}

impl ConfigPush {
    /// A push that carries the whole snapshot.
    pub fn full(version: u64, nonce: impl Into<String>, snapshot: &EncodedSnapshot) -> Self {
        ConfigPush {
            version,
            nonce: nonce.into(),
            content_hash: snapshot.content_hash.clone(),
            snapshot: Some(snapshot.bytes.clone()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bytes_field_reads_what_the_message_field_wrote() {
        // Caches written when `snapshot` was a message field must still load.
        #[derive(Clone, PartialEq, prost::Message)]
        struct OldPush {
            #[prost(uint64, tag = "1")]
            version: u64,
            #[prost(message, optional, tag = "4")]
            snapshot: Option<Snapshot>,
        }
        let snapshot = Snapshot {
            execute_api_domain: "execute-api.localhost".into(),
            ..Snapshot::default()
        };
        for old in [Some(snapshot.clone()), Some(Snapshot::default()), None] {
            let wire = OldPush {
                version: 7,
                snapshot: old.clone(),
            }
            .encode_to_vec();
            let push = ConfigPush::decode(wire.as_slice()).expect("decodes");
            let decoded = push
                .snapshot
                .map(|b| Snapshot::decode(b).expect("snapshot"));
            assert_eq!(decoded, old);
        }
        let encoded = EncodedSnapshot::encode(&snapshot);
        assert_eq!(encoded.content_hash, content_hash(&snapshot));
        assert_eq!(
            ConfigPush::full(3, "n", &encoded).snapshot,
            Some(encoded.bytes)
        );
    }
}
