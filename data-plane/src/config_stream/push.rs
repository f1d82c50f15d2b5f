//! What a node checks before it serves a `ConfigPush`, wherever the push came from (the
//! config stream or the on-disk cache): the content hash, then the compile.

pub use portico_proto::content_hash;
use portico_proto::{ConfigPush, Snapshot};
use prost::Message;

use crate::config::{CompileError, CompiledConfig};
use crate::runtime::Runtime;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PushError {
    #[error("content hash mismatch: the push claims {claimed} but its snapshot hashes to {actual}")]
    HashMismatch { claimed: String, actual: String },
    #[error("the push has no snapshot, and this node does not serve its content hash")]
    MissingSnapshot,
    #[error("the snapshot does not decode: {0}")]
    Decode(String),
    #[error("snapshot version {version} does not compile: {reason}")]
    Compile {
        version: u64,
        reason: Box<CompileError>,
    },
}

/// Verifies the push's content hash. A push without a snapshot (a version-only push)
/// carries no content to check: the caller must already serve its hash.
pub fn verify(push: &ConfigPush) -> Result<(), PushError> {
    let snapshot = push.snapshot.as_ref().ok_or(PushError::MissingSnapshot)?;
    let actual = portico_proto::hash_of(snapshot);
    if actual != push.content_hash {
        return Err(PushError::HashMismatch {
            claimed: push.content_hash.clone(),
            actual,
        });
    }
    Ok(())
}

/// Verifies and compiles a push. CPU-bound: callers run it off the async workers.
pub fn verify_and_compile(
    push: &ConfigPush,
    runtime: &Runtime,
) -> Result<CompiledConfig, PushError> {
    verify(push)?;
    let encoded = push.snapshot.clone().ok_or(PushError::MissingSnapshot)?;
    let snapshot = Snapshot::decode(encoded).map_err(|e| PushError::Decode(e.to_string()))?;
    CompiledConfig::compile(&snapshot, push.version, push.content_hash.clone(), runtime).map_err(
        |reason| PushError::Compile {
            version: push.version,
            reason: Box::new(reason),
        },
    )
}

#[cfg(test)]
mod tests {
    use portico_proto::Snapshot;

    use super::*;
    use crate::config::tests::realistic_snapshot;

    fn push(snapshot: Snapshot) -> ConfigPush {
        ConfigPush::full(3, "n", &portico_proto::EncodedSnapshot::encode(&snapshot))
    }

    #[test]
    fn accepts_a_matching_hash_and_rejects_another() {
        let mut p = push(realistic_snapshot());
        let compiled = verify_and_compile(&p, &Runtime::default()).expect("valid");
        assert_eq!(
            (compiled.version, compiled.content_hash.as_str()),
            (3, p.content_hash.as_str())
        );

        p.content_hash = "00".into();
        assert!(matches!(
            verify_and_compile(&p, &Runtime::default()),
            Err(PushError::HashMismatch { .. })
        ));
    }

    #[test]
    fn an_absent_snapshot_is_a_version_only_push_not_content() {
        let p = ConfigPush {
            snapshot: None,
            ..push(Snapshot::default())
        };
        assert_eq!(verify(&p), Err(PushError::MissingSnapshot));
        // The empty snapshot itself is real content and compiles.
        assert!(verify_and_compile(&push(Snapshot::default()), &Runtime::default()).is_ok());
    }

    #[test]
    fn bytes_that_are_no_snapshot_are_refused_by_name() {
        let garbage = bytes::Bytes::from_static(&[0xff, 0xff, 0xff]);
        let p = ConfigPush {
            content_hash: portico_proto::hash_of(&garbage),
            snapshot: Some(garbage),
            ..push(Snapshot::default())
        };
        let e = verify_and_compile(&p, &Runtime::default()).expect_err("not a snapshot");
        assert!(matches!(e, PushError::Decode(_)), "{e}");
    }

    #[test]
    fn compile_errors_name_the_version() {
        let mut s = realistic_snapshot();
        s.stages[1].deployment_id = "d9".into();
        let err = verify_and_compile(&push(s), &Runtime::default())
            .expect_err("bad")
            .to_string();
        assert_eq!(
            err,
            "snapshot version 3 does not compile: stage prod of api notes1 names missing deployment d9"
        );
    }
}
