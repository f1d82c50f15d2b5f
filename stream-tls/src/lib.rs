//! TLS for the config stream, at both ends: the certificate and key a control plane
//! serves its gRPC config service with ([`ServerIdentity`]), and how a node decides to
//! trust a control plane it reaches at an `https://` URL ([`ServerTrust`]). rustls with
//! the `ring` provider throughout.
//!
//! One crate for both ends, so that they read PEM files the same way, with errors that
//! name the file at fault, and agree on the handshake's limits; neither end reaches into
//! the other's crate for it.
#![forbid(unsafe_code)]

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::anyhow;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms, ring};
pub use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::{self, PemObject};
use rustls::pki_types::{PrivateKeyDer, ServerName, TrustAnchor, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, RootCertStore, SignatureScheme};
use tonic::transport::{ClientTlsConfig, Endpoint, Identity, ServerTlsConfig};

/// A peer that opens a TCP connection and never finishes the handshake is dropped after
/// this long, at either end.
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Makes `ring` the process-wide rustls provider unless one is installed already.
/// tonic's server side asks rustls for the process default, which panics when the
/// build enables more than one provider and none was chosen.
pub fn ensure_crypto_provider() {
    if CryptoProvider::get_default().is_none() {
        // An error means another thread installed one first, which does as well.
        let _ = ring::default_provider().install_default();
    }
}

fn read_file(path: &Path, what: &str) -> anyhow::Result<Vec<u8>> {
    std::fs::read(path).map_err(|e| anyhow!("cannot read the {what} {}: {e}", path.display()))
}

fn pem_error(e: pem::Error, wanted: &str) -> String {
    match e {
        pem::Error::NoItemsFound => format!("it holds no PEM {wanted}"),
        other => format!("it is not valid PEM: {other}"),
    }
}

/// Every certificate in a PEM text, in order; at least one.
fn parse_certificates(pem: &[u8]) -> Result<Vec<CertificateDer<'static>>, String> {
    let certs = CertificateDer::pem_slice_iter(pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| pem_error(e, "certificate"))?;
    if certs.is_empty() {
        return Err(pem_error(pem::Error::NoItemsFound, "certificate"));
    }
    Ok(certs)
}

/// A certificate chain and its private key, read from PEM files and checked (both parse,
/// and the key belongs to the first certificate) before anything listens.
#[derive(Clone)]
pub struct ServerIdentity {
    cert_path: PathBuf,
    key_path: PathBuf,
    cert_pem: Vec<u8>,
    key_pem: Vec<u8>,
    leaf: CertificateDer<'static>,
}

/// Hand-written so the private key never reaches a log.
impl fmt::Debug for ServerIdentity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServerIdentity")
            .field("cert_path", &self.cert_path)
            .field("key_path", &self.key_path)
            .finish_non_exhaustive()
    }
}

impl ServerIdentity {
    /// Reads and checks `cert` (the server certificate first, then any intermediates) and
    /// `key` (PKCS#8, PKCS#1 or SEC1). Every error names the file at fault.
    pub fn load(cert: &Path, key: &Path) -> anyhow::Result<ServerIdentity> {
        ensure_crypto_provider();
        let cert_pem = read_file(cert, "TLS certificate")?;
        let chain = parse_certificates(&cert_pem)
            .map_err(|e| anyhow!("TLS certificate {}: {e}", cert.display()))?;
        let key_pem = read_file(key, "TLS key")?;
        let key_der = PrivateKeyDer::from_pem_slice(&key_pem)
            .map_err(|e| anyhow!("TLS key {}: {}", key.display(), pem_error(e, "private key")))?;

        // The same checks tonic will make, with our own errors: rustls parses the key,
        // the end-entity certificate, and compares their public keys.
        let leaf = chain[0].clone();
        rustls::ServerConfig::builder_with_provider(Arc::new(ring::default_provider()))
            .with_safe_default_protocol_versions()
            .map_err(|e| anyhow!("TLS setup: {e}"))?
            .with_no_client_auth()
            .with_single_cert(chain, key_der)
            .map_err(|e| match e {
                rustls::Error::InconsistentKeys(_) => anyhow!(
                    "TLS key {} does not belong to the certificate in {}",
                    key.display(),
                    cert.display()
                ),
                rustls::Error::InvalidCertificate(_) | rustls::Error::NoCertificatesPresented => {
                    anyhow!("TLS certificate {}: {e}", cert.display())
                }
                other => anyhow!("TLS key {}: {other}", key.display()),
            })?;
        Ok(ServerIdentity {
            cert_path: cert.to_path_buf(),
            key_path: key.to_path_buf(),
            cert_pem,
            key_pem,
            leaf,
        })
    }

    pub fn cert_path(&self) -> &Path {
        &self.cert_path
    }

    pub fn key_path(&self) -> &Path {
        &self.key_path
    }

    /// The end-entity certificate, for a client that pins exactly this server.
    pub fn certificate(&self) -> &CertificateDer<'static> {
        &self.leaf
    }

    /// tonic's server settings: this identity, h2 by ALPN, a bounded handshake.
    pub fn server_tls_config(&self) -> ServerTlsConfig {
        ServerTlsConfig::new()
            .identity(Identity::from_pem(&self.cert_pem, &self.key_pem))
            .timeout(HANDSHAKE_TIMEOUT)
    }
}

/// Reads a PEM bundle of CA certificates (`--ca`); each must be usable as a trust anchor.
pub fn load_ca_bundle(path: &Path) -> anyhow::Result<Vec<TrustAnchor<'static>>> {
    let pem = read_file(path, "CA bundle")?;
    let certs =
        parse_certificates(&pem).map_err(|e| anyhow!("CA bundle {}: {e}", path.display()))?;
    let mut store = RootCertStore::empty();
    for (i, cert) in certs.into_iter().enumerate() {
        store.add(cert).map_err(|e| {
            anyhow!(
                "CA bundle {}: certificate {} cannot be a trust anchor: {e}",
                path.display(),
                i + 1
            )
        })?;
    }
    Ok(store.roots)
}

/// How a node checks the certificate of a control plane reached at an `https://` URL.
/// The name checked is the URL's host (a DNS name or an IP address).
#[derive(Clone)]
pub enum ServerTrust {
    /// The Mozilla roots built into the binary (webpki-roots): a public CA's certificate.
    WebPkiRoots,
    /// Only these CAs (`--ca`).
    Anchors(Vec<TrustAnchor<'static>>),
    /// Exactly this certificate, whatever names it carries: `portico up`'s own node,
    /// which trusts the certificate its process serves.
    Pinned(CertificateDer<'static>),
}

impl fmt::Debug for ServerTrust {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ServerTrust::WebPkiRoots => f.write_str("WebPkiRoots"),
            ServerTrust::Anchors(a) => write!(f, "Anchors({} CAs)", a.len()),
            ServerTrust::Pinned(_) => f.write_str("Pinned"),
        }
    }
}

impl ServerTrust {
    /// Puts TLS on an endpoint.
    pub fn apply(&self, endpoint: Endpoint) -> Result<Endpoint, tonic::transport::Error> {
        let config = ClientTlsConfig::new().timeout(HANDSHAKE_TIMEOUT);
        match self {
            ServerTrust::WebPkiRoots => endpoint.tls_config(config.with_webpki_roots()),
            ServerTrust::Anchors(anchors) => {
                endpoint.tls_config(config.trust_anchors(anchors.iter().cloned()))
            }
            ServerTrust::Pinned(cert) => {
                endpoint.tls_config_with_verifier(config, Arc::new(PinnedCertificate::new(cert)))
            }
        }
    }
}

/// Accepts one certificate, byte for byte; the handshake signature still proves the
/// server holds its key.
#[derive(Debug)]
struct PinnedCertificate {
    cert: CertificateDer<'static>,
    algorithms: WebPkiSupportedAlgorithms,
}

impl PinnedCertificate {
    fn new(cert: &CertificateDer<'static>) -> Self {
        PinnedCertificate {
            cert: cert.clone(),
            algorithms: ring::default_provider().signature_verification_algorithms,
        }
    }
}

impl ServerCertVerifier for PinnedCertificate {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        if end_entity.as_ref() == self.cert.as_ref() {
            Ok(ServerCertVerified::assertion())
        } else {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::ApplicationVerificationFailure,
            ))
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

/// Whether a connection failed in TLS (handshake, certificate, ALPN) rather than in TCP or
/// gRPC. rustls errors reach us wrapped in `io::Error`, whose `source()` skips the
/// wrapped error, so each link is unwrapped by hand.
pub fn is_tls_failure(err: &(dyn std::error::Error + 'static)) -> bool {
    let mut next = Some(err);
    while let Some(e) = next {
        if e.is::<rustls::Error>() {
            return true;
        }
        if let Some(io) = e.downcast_ref::<std::io::Error>()
            && io
                .get_ref()
                .is_some_and(|inner| inner.is::<rustls::Error>())
        {
            return true;
        }
        // tonic's own TLS errors are private types; their messages are stable.
        let text = e.to_string();
        if text.contains("HTTP/2 was not negotiated") || text.contains("TLS handshake timeout") {
            return true;
        }
        next = e.source();
    }
    false
}

#[cfg(test)]
mod tests {
    use std::net::SocketAddr;
    use std::pin::Pin;

    use portico_proto::config_service_client::ConfigServiceClient;
    use portico_proto::config_service_server::{ConfigService, ConfigServiceServer};
    use portico_proto::{ControlMessage, NodeMessage};
    use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair};
    use tokio_stream::Stream;

    use super::*;

    /// The error and its causes, for messages.
    fn chain(e: &(dyn std::error::Error + 'static)) -> String {
        let mut text = e.to_string();
        let mut cause = e.source();
        while let Some(c) = cause {
            text = format!("{text}: {c}");
            cause = c.source();
        }
        text
    }

    /// A CA, a server certificate it signed for localhost and 127.0.0.1, and an
    /// unrelated CA, as PEM files.
    struct Pki {
        dir: tempfile::TempDir,
    }

    impl Pki {
        fn new() -> Pki {
            let dir = tempfile::tempdir().expect("tempdir");
            let ca = new_ca("Portico test CA");
            let server_key = KeyPair::generate().expect("key");
            let server = CertificateParams::new(vec!["localhost".into(), "127.0.0.1".into()])
                .expect("params")
                .signed_by(&server_key, &ca)
                .expect("sign");
            let named_key = KeyPair::generate().expect("key");
            let named = CertificateParams::new(vec!["localhost".into()])
                .expect("params")
                .signed_by(&named_key, &ca)
                .expect("sign");
            let other = new_ca("Someone else's CA");
            let write = |name: &str, text: String| {
                std::fs::write(dir.path().join(name), text).expect("write PEM")
            };
            write("ca.pem", ca.pem());
            write("other-ca.pem", other.pem());
            write("server.pem", server.pem());
            write("server.key", server_key.serialize_pem());
            write("named.pem", named.pem());
            write("named.key", named_key.serialize_pem());
            write(
                "other.key",
                KeyPair::generate().expect("key").serialize_pem(),
            );
            Pki { dir }
        }

        fn path(&self, name: &str) -> PathBuf {
            self.dir.path().join(name)
        }
    }

    fn new_ca(name: &str) -> CertifiedIssuer<'static, KeyPair> {
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("params");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, name);
        CertifiedIssuer::self_signed(params, KeyPair::generate().expect("key")).expect("CA")
    }

    fn error_of<T: fmt::Debug>(r: anyhow::Result<T>) -> String {
        format!("{:#}", r.expect_err("should fail"))
    }

    #[test]
    fn a_certificate_and_its_key_load() {
        let pki = Pki::new();
        let id =
            ServerIdentity::load(&pki.path("server.pem"), &pki.path("server.key")).expect("loads");
        let pem = std::fs::read(pki.path("server.pem")).unwrap();
        assert_eq!(
            id.certificate(),
            &CertificateDer::from_pem_slice(&pem).unwrap()
        );
        assert!(!format!("{id:?}").contains("PRIVATE"));
    }

    #[test]
    fn identity_errors_name_the_file_at_fault() {
        let pki = Pki::new();
        let (cert, key) = (pki.path("server.pem"), pki.path("server.key"));
        let missing = pki.path("missing.pem");

        let e = error_of(ServerIdentity::load(&missing, &key));
        assert!(
            e.contains("cannot read the TLS certificate") && e.contains("missing.pem"),
            "{e}"
        );
        let e = error_of(ServerIdentity::load(&cert, &missing));
        assert!(
            e.contains("cannot read the TLS key") && e.contains("missing.pem"),
            "{e}"
        );

        // A key where the certificate should be, and the other way round.
        let e = error_of(ServerIdentity::load(&key, &key));
        assert!(
            e.contains("server.key") && e.contains("no PEM certificate"),
            "{e}"
        );
        let e = error_of(ServerIdentity::load(&cert, &cert));
        assert!(
            e.contains("TLS key") && e.contains("no PEM private key"),
            "{e}"
        );

        let garbage = pki.path("garbage.pem");
        std::fs::write(
            &garbage,
            "-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n",
        )
        .unwrap();
        let e = error_of(ServerIdentity::load(&garbage, &key));
        assert!(e.contains("garbage.pem"), "{e}");

        let e = error_of(ServerIdentity::load(&cert, &pki.path("other.key")));
        assert!(
            e.contains("other.key") && e.contains("does not belong") && e.contains("server.pem"),
            "{e}"
        );
    }

    #[test]
    fn ca_bundles_are_checked() {
        let pki = Pki::new();
        assert_eq!(load_ca_bundle(&pki.path("ca.pem")).expect("loads").len(), 1);
        let e = error_of(load_ca_bundle(&pki.path("nope.pem")));
        assert!(
            e.contains("cannot read the CA bundle") && e.contains("nope.pem"),
            "{e}"
        );
        let e = error_of(load_ca_bundle(&pki.path("server.key")));
        assert!(
            e.contains("server.key") && e.contains("no PEM certificate"),
            "{e}"
        );
    }

    struct Refuse;

    #[tonic::async_trait]
    impl ConfigService for Refuse {
        type StreamConfigStream =
            Pin<Box<dyn Stream<Item = Result<ControlMessage, tonic::Status>> + Send>>;

        async fn stream_config(
            &self,
            _: tonic::Request<tonic::Streaming<NodeMessage>>,
        ) -> Result<tonic::Response<Self::StreamConfigStream>, tonic::Status> {
            Err(tonic::Status::unauthenticated("reached over TLS"))
        }
    }

    async fn serve(identity: Option<&ServerIdentity>) -> SocketAddr {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let mut builder = tonic::transport::Server::builder();
        if let Some(id) = identity {
            builder = builder.tls_config(id.server_tls_config()).expect("tls");
        }
        let server = builder
            .add_service(ConfigServiceServer::new(Refuse))
            .serve_with_incoming(tokio_stream::wrappers::TcpListenerStream::new(listener));
        tokio::spawn(server);
        addr
    }

    /// Connects and makes one call: `Ok` when the call reached the service.
    async fn call(url: String, trust: &ServerTrust) -> Result<(), String> {
        let endpoint = trust
            .apply(Endpoint::from_shared(url).unwrap())
            .map_err(|e| e.to_string())?;
        let check = async {
            let channel = match endpoint.connect().await {
                Ok(c) => c,
                Err(e) => {
                    assert!(is_tls_failure(&e), "not seen as TLS: {}", chain(&e));
                    return Err(chain(&e));
                }
            };
            let (_tx, rx) = tokio::sync::mpsc::channel::<NodeMessage>(1);
            let status = ConfigServiceClient::new(channel)
                .stream_config(tokio_stream::wrappers::ReceiverStream::new(rx))
                .await
                .expect_err("the test service refuses");
            assert_eq!(status.message(), "reached over TLS");
            Ok(())
        };
        tokio::time::timeout(Duration::from_secs(20), check)
            .await
            .expect("bounded")
    }

    #[tokio::test]
    async fn nodes_trust_only_what_they_are_told_to() {
        let pki = Pki::new();
        let id = ServerIdentity::load(&pki.path("server.pem"), &pki.path("server.key")).unwrap();
        let tls = serve(Some(&id)).await;
        let port = tls.port();
        let ca = ServerTrust::Anchors(load_ca_bundle(&pki.path("ca.pem")).unwrap());
        let other = ServerTrust::Anchors(load_ca_bundle(&pki.path("other-ca.pem")).unwrap());

        call(format!("https://localhost:{port}"), &ca)
            .await
            .expect("by name");
        call(format!("https://127.0.0.1:{port}"), &ca)
            .await
            .expect("by IP");
        call(
            format!("https://127.0.0.1:{port}"),
            &ServerTrust::Pinned(id.certificate().clone()),
        )
        .await
        .expect("pinned");

        let e = call(format!("https://localhost:{port}"), &other)
            .await
            .unwrap_err();
        assert!(e.contains("UnknownIssuer"), "{e}");
        let e = call(
            format!("https://localhost:{port}"),
            &ServerTrust::WebPkiRoots,
        )
        .await
        .unwrap_err();
        assert!(e.contains("UnknownIssuer"), "{e}");
        // A certificate for localhost does not do for 127.0.0.1.
        let named = ServerIdentity::load(&pki.path("named.pem"), &pki.path("named.key")).unwrap();
        let named = serve(Some(&named)).await.port();
        call(format!("https://localhost:{named}"), &ca)
            .await
            .expect("by name");
        let e = call(format!("https://127.0.0.1:{named}"), &ca)
            .await
            .unwrap_err();
        assert!(e.contains("not valid for name \"127.0.0.1\""), "{e}");
        let ca_cert = std::fs::read(pki.path("ca.pem")).unwrap();
        let wrong_pin = ServerTrust::Pinned(CertificateDer::from_pem_slice(&ca_cert).unwrap());
        call(format!("https://localhost:{port}"), &wrong_pin)
            .await
            .unwrap_err();

        // TLS to a plaintext port fails in TLS, too.
        let plain = serve(None).await;
        call(format!("https://127.0.0.1:{}", plain.port()), &ca)
            .await
            .unwrap_err();
    }
}
