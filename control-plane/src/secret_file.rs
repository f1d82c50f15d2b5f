//! Secrets kept in files of the data directory (the cluster token, the master key): read
//! when they exist, made and written readable by their owner only the first time.
use std::io::{self, Write};
use std::path::Path;

/// The file's contents, trimmed; when there is no file, `make`'s value, written first.
pub fn read_or_create(path: &Path, make: impl FnOnce() -> String) -> io::Result<String> {
    match std::fs::read_to_string(path) {
        Ok(contents) => Ok(contents.trim().to_string()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            let secret = make();
            write_new(path, &secret)?;
            Ok(secret)
        }
        Err(e) => Err(e),
    }
}

/// Creates the file (never overwrites one) with owner-only permissions.
fn write_new(path: &Path, contents: &str) -> io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(contents.as_bytes())?;
    file.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn made_once_then_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("token");
        assert_eq!(read_or_create(&path, || "first".into()).unwrap(), "first");
        assert_eq!(
            read_or_create(&path, || unreachable!("the file exists")).unwrap(),
            "first"
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }
}
