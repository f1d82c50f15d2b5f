//! The last good push on disk, so a node that restarts while no control plane answers
//! still serves. One file, `<cache-dir>/snapshot.pb`: the whole prost-encoded
//! `ConfigPush`, replaced atomically (temp file, fsync, rename, fsync of the directory)
//! so a crash leaves either the old file or the new one, never half of one.
//!
//! Blocking file I/O: call from `spawn_blocking`.

use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use portico_proto::ConfigPush;
use prost::Message;

const FILE_NAME: &str = "snapshot.pb";
const TMP_NAME: &str = ".snapshot.pb.tmp";

#[derive(Debug, thiserror::Error)]
pub enum CacheError {
    #[error("cannot read {path}: {source}")]
    Read { path: PathBuf, source: io::Error },
    #[error("{path} is not a valid ConfigPush: {source}")]
    Decode {
        path: PathBuf,
        source: prost::DecodeError,
    },
}

#[derive(Debug, Clone)]
pub struct SnapshotCache {
    dir: PathBuf,
}

impl SnapshotCache {
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        SnapshotCache { dir: dir.into() }
    }

    pub fn path(&self) -> PathBuf {
        self.dir.join(FILE_NAME)
    }

    /// The cached push, or `None` when there is none yet.
    pub fn load(&self) -> Result<Option<ConfigPush>, CacheError> {
        let path = self.path();
        let bytes = match fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(source) => return Err(CacheError::Read { path, source }),
        };
        ConfigPush::decode(bytes.as_slice())
            .map(Some)
            .map_err(|source| CacheError::Decode { path, source })
    }

    pub fn store(&self, push: &ConfigPush) -> io::Result<()> {
        fs::create_dir_all(&self.dir)?;
        let tmp = self.dir.join(TMP_NAME);
        {
            let mut f = File::create(&tmp)?;
            f.write_all(&push.encode_to_vec())?;
            f.sync_all()?;
        }
        fs::rename(&tmp, self.path())?;
        sync_dir(&self.dir)
    }
}

/// Makes the rename itself durable. Not every platform can open a directory; where it
/// cannot, the rename is still atomic, just not yet durable.
fn sync_dir(dir: &Path) -> io::Result<()> {
    match File::open(dir) {
        Ok(d) => d.sync_all().or_else(|e| match e.kind() {
            io::ErrorKind::InvalidInput | io::ErrorKind::PermissionDenied => Ok(()),
            _ => Err(e),
        }),
        Err(_) => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::tests::realistic_snapshot;
    use crate::config_stream::push::content_hash;

    #[test]
    fn round_trips_and_replaces() {
        let dir = tempfile::tempdir().expect("tempdir");
        let cache = SnapshotCache::new(dir.path().join("nested"));
        assert!(cache.load().expect("no file is fine").is_none());

        let s = realistic_snapshot();
        let mut push = ConfigPush::full(1, "a", &portico_proto::EncodedSnapshot::encode(&s));
        assert_eq!(push.content_hash, content_hash(&s));
        cache.store(&push).expect("store");
        assert_eq!(cache.load().expect("load"), Some(push.clone()));

        push.version = 2;
        cache.store(&push).expect("store again");
        assert_eq!(cache.load().expect("load").map(|p| p.version), Some(2));
        assert!(!dir.path().join("nested").join(TMP_NAME).exists());
    }

    #[test]
    fn reports_a_corrupt_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let cache = SnapshotCache::new(dir.path());
        fs::write(cache.path(), b"\xff\xff\xff not protobuf").expect("write");
        assert!(matches!(cache.load(), Err(CacheError::Decode { .. })));
    }
}
