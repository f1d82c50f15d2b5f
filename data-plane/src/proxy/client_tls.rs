//! What a client's TLS handshake settled, worked out once per connection: the custom
//! domain its SNI chose and, with mutual TLS, the certificate it presented, in the form
//! AWS gives `$context.identity.clientCert.*` and the Lambda events' `clientCert`
//! ("Configuring mutual TLS authentication for an HTTP API",
//! https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-mutual-tls.html).

use std::sync::Arc;

use base64::Engine;
use x509_parser::prelude::{ASN1Time, FromDer, X509Certificate};

#[derive(Debug)]
pub struct ClientTls {
    /// The domain the handshake was for, as configured (`*.example.com` for a wildcard).
    pub domain: Arc<str>,
    /// The verified client certificate of a mutual-TLS domain.
    pub client_cert: Option<ClientCert>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientCert {
    pub pem: String,
    pub subject_dn: String,
    pub issuer_dn: String,
    /// Colon-separated hex, as AWS shows it.
    pub serial_number: String,
    /// `May 28 12:30:02 2019 GMT`, as AWS shows it.
    pub not_before: String,
    pub not_after: String,
}

impl ClientCert {
    /// The certificate rustls verified; `None` only for DER it could verify but x509-parser
    /// cannot read, which then goes without `clientCert` values.
    pub fn from_der(der: &[u8]) -> Option<Self> {
        let (_, cert) = X509Certificate::from_der(der).ok()?;
        let body = base64::engine::general_purpose::STANDARD.encode(der);
        let mut pem = String::from("-----BEGIN CERTIFICATE-----\n");
        for line in body.as_bytes().chunks(64) {
            pem.push_str(std::str::from_utf8(line).unwrap_or_default());
            pem.push('\n');
        }
        pem.push_str("-----END CERTIFICATE-----\n");
        Some(ClientCert {
            pem,
            subject_dn: cert.subject().to_string(),
            issuer_dn: cert.issuer().to_string(),
            serial_number: portico_model::serial_hex(cert.raw_serial()),
            not_before: openssl_time(cert.validity().not_before),
            not_after: openssl_time(cert.validity().not_after),
        })
    }
}

fn openssl_time(t: ASN1Time) -> String {
    chrono::DateTime::from_timestamp(t.timestamp(), 0)
        .map(|d| d.format("%b %e %H:%M:%S %Y GMT").to_string())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_certificates_read_as_aws_shows_them() {
        let mut params =
            rcgen::CertificateParams::new(vec!["client.example.com".into()]).expect("params");
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "client one");
        params.serial_number = Some(rcgen::SerialNumber::from_slice(&[0x0a, 0xbc, 0x01]));
        let key = rcgen::KeyPair::generate().expect("key");
        let cert = params.self_signed(&key).expect("cert");
        let read = ClientCert::from_der(cert.der()).expect("parses");
        assert_eq!(read.subject_dn, "CN=client one");
        assert_eq!(read.issuer_dn, "CN=client one");
        assert_eq!(read.serial_number, "0a:bc:01");
        assert!(read.not_before.ends_with(" GMT"), "{}", read.not_before);
        assert_eq!(read.pem.trim(), cert.pem().trim());
    }
}
