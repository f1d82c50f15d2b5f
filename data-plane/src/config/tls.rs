//! TLS for custom domains, compiled before a snapshot is swapped in: each domain's
//! certificate and key become one rustls `ServerConfig` (TLS 1.2 and 1.3, ALPN h2 and
//! http/1.1, and for mutual TLS a verifier of the domain's truststore), so a handshake
//! only picks the config its SNI names. The control plane checks imports with the same
//! functions, so what it accepts a node can serve.

use std::sync::Arc;

use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::{
    ClientHello, ProducesTickets, ResolvesServerCert, StoresServerSessions, WebPkiClientVerifier,
};
use rustls::sign::CertifiedKey;
use rustls::{RootCertStore, ServerConfig};

/// Why a certificate, key or truststore cannot be served.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TlsError {
    #[error("the certificate is not PEM: {0}")]
    CertificatePem(String),
    #[error("no certificate in the PEM text")]
    NoCertificate,
    #[error("the private key is not an unencrypted PEM key (PKCS#8, PKCS#1 or SEC1): {0}")]
    KeyPem(String),
    #[error(
        "the private key's type is not supported (use RSA 2048+, ECDSA P-256/P-384 or Ed25519): {0}"
    )]
    UnsupportedKey(String),
    #[error("the private key does not match the certificate's public key")]
    KeyMismatch,
    #[error("the truststore is not a PEM bundle of certificates: {0}")]
    TruststorePem(String),
    #[error("the truststore holds no usable CA certificate: {0}")]
    Truststore(String),
    #[error("cannot build the TLS configuration: {0}")]
    Config(String),
}

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// The certificates of a PEM text, in order.
pub fn certificates(pem: &str) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let certs = CertificateDer::pem_slice_iter(pem.as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| TlsError::CertificatePem(e.to_string()))?;
    if certs.is_empty() {
        return Err(TlsError::NoCertificate);
    }
    Ok(certs)
}

/// The leaf (and chain) with its key, checked to belong together.
pub fn certified_key(chain_pem: &str, key_pem: &str) -> Result<Arc<CertifiedKey>, TlsError> {
    let chain = certificates(chain_pem)?;
    let key = PrivateKeyDer::from_pem_slice(key_pem.as_bytes())
        .map_err(|e| TlsError::KeyPem(e.to_string()))?;
    let signing = rustls::crypto::ring::sign::any_supported_type(&key)
        .map_err(|e| TlsError::UnsupportedKey(e.to_string()))?;
    let certified = CertifiedKey::new(chain, signing);
    match certified.keys_match() {
        Ok(()) => Ok(Arc::new(certified)),
        // A key rustls cannot derive a public key from is checked by the handshake only.
        Err(rustls::Error::InconsistentKeys(rustls::InconsistentKeys::Unknown)) => {
            Ok(Arc::new(certified))
        }
        Err(_) => Err(TlsError::KeyMismatch),
    }
}

/// The CA certificates a mutual-TLS domain trusts.
pub fn client_roots(bundle_pem: &str) -> Result<Arc<RootCertStore>, TlsError> {
    let certs = CertificateDer::pem_slice_iter(bundle_pem.as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| TlsError::TruststorePem(e.to_string()))?;
    let mut roots = RootCertStore::empty();
    let (added, ignored) = roots.add_parsable_certificates(certs);
    if added == 0 {
        return Err(TlsError::Truststore(format!(
            "{ignored} certificate(s) could not be used as trust anchors"
        )));
    }
    Ok(Arc::new(roots))
}

/// What resumption keeps across snapshots: the session cache and the ticket keys live in
/// the node's runtime, so a config swap does not end every client's resumable session.
#[derive(Clone)]
pub struct TlsSessions {
    pub cache: Arc<dyn StoresServerSessions>,
    pub ticketer: Arc<dyn ProducesTickets>,
}

impl std::fmt::Debug for TlsSessions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TlsSessions")
    }
}

/// Sessions a node remembers for resumption (rustls allocates the cache up front).
pub const NODE_SESSION_CACHE: usize = 16_384;

impl TlsSessions {
    /// A session cache of `capacity` entries and fresh ticket keys.
    pub fn with_capacity(capacity: usize) -> Self {
        TlsSessions {
            cache: rustls::server::ServerSessionMemoryCache::new(capacity),
            // Ticket keys rotate every 6 hours; failing to make them is failing to read
            // the system's randomness, which nothing else survives either.
            ticketer: rustls::crypto::ring::Ticketer::new()
                .unwrap_or_else(|e| panic!("no randomness for TLS ticket keys: {e}")),
        }
    }
}

/// A small one, for compiles that serve nothing (the control plane's admission check).
impl Default for TlsSessions {
    fn default() -> Self {
        Self::with_capacity(64)
    }
}

/// A domain always serves its one certificate: the SNI already chose the domain.
#[derive(Debug)]
struct DomainCertificate(Arc<CertifiedKey>);

impl ResolvesServerCert for DomainCertificate {
    fn resolve(&self, _: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.0.clone())
    }
}

/// One domain's server config: TLS 1.3 and 1.2 (AWS's `TLS_1_2` policy), h2 then
/// http/1.1 by ALPN, and a client-certificate requirement when it has a truststore.
pub fn server_config(
    key: Arc<CertifiedKey>,
    truststore: Option<Arc<RootCertStore>>,
    sessions: &TlsSessions,
) -> Result<Arc<ServerConfig>, TlsError> {
    let builder = ServerConfig::builder_with_provider(provider())
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .map_err(|e| TlsError::Config(e.to_string()))?;
    let builder = match truststore {
        None => builder.with_no_client_auth(),
        Some(roots) => {
            let verifier = WebPkiClientVerifier::builder_with_provider(roots, provider())
                .build()
                .map_err(|e| TlsError::Truststore(e.to_string()))?;
            builder.with_client_cert_verifier(verifier)
        }
    };
    let mut config = builder.with_cert_resolver(Arc::new(DomainCertificate(key)));
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    config.session_storage = sessions.cache.clone();
    config.ticketer = sessions.ticketer.clone();
    Ok(Arc::new(config))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A CA-signed leaf for `names` as (chain PEM, key PEM, CA PEM).
    pub(crate) fn leaf(names: &[&str]) -> (String, String, String) {
        let mut ca = rcgen::CertificateParams::new(Vec::<String>::new()).expect("ca params");
        ca.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        ca.distinguished_name
            .push(rcgen::DnType::CommonName, "Portico test CA");
        let ca = rcgen::CertifiedIssuer::self_signed(ca, rcgen::KeyPair::generate().expect("key"))
            .expect("ca");
        let key = rcgen::KeyPair::generate().expect("leaf key");
        let cert =
            rcgen::CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>())
                .expect("leaf params")
                .signed_by(&key, &ca)
                .expect("leaf");
        (cert.pem(), key.serialize_pem(), ca.pem())
    }

    #[test]
    fn a_key_must_belong_to_its_certificate() {
        let (chain, key, ca) = leaf(&["api.example.com"]);
        certified_key(&chain, &key).expect("matching pair");
        let (_, other_key, _) = leaf(&["api.example.com"]);
        assert_eq!(
            certified_key(&chain, &other_key).expect_err("mismatch"),
            TlsError::KeyMismatch
        );
        assert_eq!(
            certified_key("not pem", &key).expect_err("no cert"),
            TlsError::NoCertificate
        );
        assert!(matches!(
            certified_key(
                &chain,
                "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"
            ),
            Err(TlsError::UnsupportedKey(_))
        ));
        assert!(matches!(
            certified_key(&chain, &chain),
            Err(TlsError::KeyPem(_))
        ));
        client_roots(&ca).expect("a CA bundle");
        assert!(client_roots("nothing here").is_err());
    }

    #[test]
    fn configs_speak_tls_1_2_and_1_3_with_h2_first() {
        let (chain, key, ca) = leaf(&["api.example.com"]);
        let sessions = TlsSessions::default();
        let plain = server_config(certified_key(&chain, &key).expect("key"), None, &sessions)
            .expect("config");
        assert_eq!(plain.alpn_protocols, [b"h2".to_vec(), b"http/1.1".to_vec()]);
        server_config(
            certified_key(&chain, &key).expect("key"),
            Some(client_roots(&ca).expect("roots")),
            &sessions,
        )
        .expect("mutual config");
    }
}
