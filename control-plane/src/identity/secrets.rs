//! The master key: 32 bytes every replica shares. It seals access-key secrets at rest
//! (XChaCha20-Poly1305, a random nonce per secret, the key id as associated data so a
//! sealed secret cannot be moved to another key) and derives the session-signing key.
use std::path::Path;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;

#[derive(Debug, thiserror::Error)]
pub enum MasterKeyError {
    #[error("the master key must be 64 hexadecimal characters (32 bytes)")]
    Malformed,
    #[error("cannot read or create the master key file {path}: {source}")]
    File {
        path: String,
        source: std::io::Error,
    },
    #[error("a sealed secret is corrupt or was sealed under another master key")]
    Unseal,
}

#[derive(Clone)]
pub struct MasterKey([u8; 32]);

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MasterKey(<redacted>)")
    }
}

impl MasterKey {
    pub fn from_hex(s: &str) -> Result<Self, MasterKeyError> {
        let bytes = hex::decode(s.trim()).map_err(|_| MasterKeyError::Malformed)?;
        let key: [u8; 32] = bytes.try_into().map_err(|_| MasterKeyError::Malformed)?;
        Ok(MasterKey(key))
    }

    pub fn generate() -> Self {
        let mut key = [0u8; 32];
        rand::rng().fill_bytes(&mut key);
        MasterKey(key)
    }

    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    /// Reads the key file, or creates it (owner-only permissions) with a new key.
    pub fn load_or_create(path: &Path) -> Result<Self, MasterKeyError> {
        let file_err = |source| MasterKeyError::File {
            path: path.display().to_string(),
            source,
        };
        let hex = crate::secret_file::read_or_create(path, || Self::generate().to_hex())
            .map_err(file_err)?;
        Self::from_hex(&hex)
    }

    fn cipher(&self) -> XChaCha20Poly1305 {
        XChaCha20Poly1305::new((&self.0).into())
    }

    /// Seals `secret`, bound to `associated` (the access key id).
    pub fn seal(&self, associated: &str, secret: &str) -> String {
        let mut nonce = [0u8; 24];
        rand::rng().fill_bytes(&mut nonce);
        let sealed = self
            .cipher()
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: secret.as_bytes(),
                    aad: associated.as_bytes(),
                },
            )
            // Encryption fails only for messages beyond 256 GiB.
            .unwrap_or_else(|e| unreachable!("sealing a secret: {e}"));
        let mut out = nonce.to_vec();
        out.extend_from_slice(&sealed);
        STANDARD.encode(out)
    }

    pub fn open(&self, associated: &str, sealed: &str) -> Result<String, MasterKeyError> {
        let raw = STANDARD
            .decode(sealed)
            .map_err(|_| MasterKeyError::Unseal)?;
        if raw.len() < 24 {
            return Err(MasterKeyError::Unseal);
        }
        let (nonce, body) = raw.split_at(24);
        let plain = self
            .cipher()
            .decrypt(
                XNonce::from_slice(nonce),
                Payload {
                    msg: body,
                    aad: associated.as_bytes(),
                },
            )
            .map_err(|_| MasterKeyError::Unseal)?;
        String::from_utf8(plain).map_err(|_| MasterKeyError::Unseal)
    }

    /// A key for one purpose, so no two uses share key material.
    pub fn derive(&self, purpose: &str) -> [u8; 32] {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.0)
            .unwrap_or_else(|e| unreachable!("HMAC takes any key length: {e}"));
        mac.update(purpose.as_bytes());
        mac.finalize().into_bytes().into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seals_and_opens_bound_to_the_key_id() {
        let key = MasterKey::generate();
        let sealed = key.seal("PKIA1", "s3cret");
        assert!(!sealed.contains("s3cret"));
        assert_eq!(key.open("PKIA1", &sealed).unwrap(), "s3cret");
        assert!(key.open("PKIA2", &sealed).is_err());
        assert!(MasterKey::generate().open("PKIA1", &sealed).is_err());
        assert!(key.open("PKIA1", "garbage").is_err());
        // Same secret, different nonce.
        assert_ne!(key.seal("PKIA1", "s3cret"), sealed);
    }

    #[test]
    fn parses_and_stores_hex_keys() {
        let key = MasterKey::generate();
        assert_eq!(MasterKey::from_hex(&key.to_hex()).unwrap().0, key.0);
        assert!(MasterKey::from_hex("abcd").is_err());
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("master-key");
        let made = MasterKey::load_or_create(&path).unwrap();
        assert_eq!(MasterKey::load_or_create(&path).unwrap().0, made.0);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(
                std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
                0o600
            );
        }
        assert_ne!(made.derive("a"), made.derive("b"));
    }
}
