//! Imported certificates, as AWS Certificate Manager keeps them: ImportCertificate (and
//! re-import onto the same ARN), DescribeCertificate, ListCertificates and
//! DeleteCertificate, checked as ACM checks an import
//! (https://docs.aws.amazon.com/acm/latest/userguide/import-certificate-prerequisites.html):
//! one PEM certificate that is valid now, an unencrypted private key that matches it, a
//! chain that signs it. Private keys are sealed with the master key. A development
//! certificate can be made here too (rcgen), and imported like any other.
use portico_data_plane::config::tls;
use portico_model::{
    ARN_ACCOUNT, ARN_REGION, CERTIFICATE_IMPORTED, CertificateDetail, CertificateSummary,
    SelfSignedRequest, ValidationError, certificate_covers, domain_name_arn, validate_domain_name,
};
use x509_parser::prelude::{FromDer, GeneralName, X509Certificate};
use x509_parser::public_key::PublicKey;

use super::{AdminService, Change, ServiceError, ServiceResult, allow};
use crate::identity::{Caller, Permission};
use crate::store::StoredCertificate;

/// ACM's size limits on the three blobs.
const MAX_CERTIFICATE: usize = 32 * 1024;
const MAX_PRIVATE_KEY: usize = 5 * 1024;
const MAX_CHAIN: usize = 2 * 1024 * 1024;

/// What an import brings: PEM texts, as boto3 sends them (base64 decoded by the caller).
pub struct CertificateImport {
    pub certificate_arn: Option<String>,
    pub certificate: String,
    pub private_key: String,
    pub certificate_chain: Option<String>,
}

fn not_found(arn: &str) -> ServiceError {
    ServiceError::NotFound(format!("Could not find certificate {arn}."))
}

/// An ACM certificate ARN: `arn:PARTITION:acm:REGION:ACCOUNT:certificate/ID`.
pub fn check_certificate_arn(arn: &str) -> ServiceResult<()> {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let ok = parts.len() == 6
        && parts[0] == "arn"
        && !parts[1].is_empty()
        && parts[2] == "acm"
        && parts[4].bytes().all(|b| b.is_ascii_digit())
        && !parts[4].is_empty()
        && parts[5]
            .strip_prefix("certificate/")
            .is_some_and(|id| !id.is_empty());
    if ok {
        Ok(())
    } else {
        Err(ServiceError::invalid(
            "CertificateArn",
            format!(
                "The certificate ARN {arn} is not valid: it must look like arn:aws:acm:REGION:ACCOUNT:certificate/ID"
            ),
        ))
    }
}

/// Now, in the epoch seconds ACM's times are in.
pub(super) fn now_epoch() -> f64 {
    chrono::Utc::now().timestamp() as f64
}

fn signature_algorithm(oid: &str) -> String {
    match oid {
        "1.2.840.113549.1.1.11" => "SHA256WITHRSA",
        "1.2.840.113549.1.1.12" => "SHA384WITHRSA",
        "1.2.840.113549.1.1.13" => "SHA512WITHRSA",
        "1.2.840.113549.1.1.10" => "RSASSA-PSS",
        "1.2.840.10045.4.3.2" => "SHA256WITHECDSA",
        "1.2.840.10045.4.3.3" => "SHA384WITHECDSA",
        "1.2.840.10045.4.3.4" => "SHA512WITHECDSA",
        other => other,
    }
    .to_string()
}

/// ACM's key algorithm names for the keys both ACM and the nodes' TLS take.
fn key_algorithm(cert: &X509Certificate<'_>) -> Result<String, String> {
    let spki = cert.public_key();
    match spki.parsed() {
        Ok(PublicKey::RSA(rsa)) => match rsa.key_size() {
            bits @ (2048 | 3072 | 4096) => Ok(format!("RSA_{bits}")),
            bits => Err(format!(
                "RSA keys of {bits} bits are not supported: use 2048, 3072 or 4096"
            )),
        },
        Ok(PublicKey::EC(_)) => {
            let curve = spki
                .algorithm
                .parameters
                .as_ref()
                .and_then(|p| p.as_oid().ok())
                .map(|o| o.to_id_string());
            match curve.as_deref() {
                Some("1.2.840.10045.3.1.7") => Ok("EC_prime256v1".into()),
                Some("1.3.132.0.34") => Ok("EC_secp384r1".into()),
                _ => Err("only the P-256 and P-384 elliptic curves are supported".into()),
            }
        }
        _ => Err("only RSA and EC (P-256, P-384) keys are supported".into()),
    }
}

/// The DNS names a certificate covers: its subject alternative names, else its common
/// name.
fn dns_names(cert: &X509Certificate<'_>) -> Vec<String> {
    let mut names: Vec<String> = match cert.subject_alternative_name() {
        Ok(Some(san)) => san
            .value
            .general_names
            .iter()
            .filter_map(|n| match n {
                GeneralName::DNSName(d) => Some(d.to_ascii_lowercase()),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    };
    if names.is_empty()
        && let Some(cn) = cert
            .subject()
            .iter_common_name()
            .next()
            .and_then(|cn| cn.as_str().ok())
    {
        names.push(cn.to_ascii_lowercase());
    }
    names
}

/// Checks an import as ACM does and describes it.
fn describe(arn: &str, import: &CertificateImport) -> ServiceResult<CertificateDetail> {
    if import.certificate.len() > MAX_CERTIFICATE {
        return Err(ServiceError::invalid(
            "Certificate",
            "The certificate is larger than 32 KB",
        ));
    }
    if import.private_key.len() > MAX_PRIVATE_KEY {
        return Err(ServiceError::invalid(
            "PrivateKey",
            "The private key is larger than 5 KB",
        ));
    }
    let chain_text = import.certificate_chain.as_deref().unwrap_or("");
    if chain_text.len() > MAX_CHAIN {
        return Err(ServiceError::invalid(
            "CertificateChain",
            "The certificate chain is larger than 2 MB",
        ));
    }
    let leaf = tls::certificates(&import.certificate).map_err(|e| {
        ServiceError::invalid(
            "Certificate",
            format!(
                "Unable to parse certificate. Please ensure the certificate is in PEM format ({e})."
            ),
        )
    })?;
    if leaf.len() != 1 {
        return Err(ServiceError::invalid(
            "Certificate",
            "The certificate field contains more than one certificate. You can specify only one certificate in this field.",
        ));
    }
    let (_, cert) = X509Certificate::from_der(&leaf[0]).map_err(|e| {
        ServiceError::invalid("Certificate", format!("Unable to parse certificate: {e}"))
    })?;
    if import.private_key.contains("ENCRYPTED") {
        return Err(ServiceError::invalid(
            "PrivateKey",
            "The private key is encrypted: import it without a passphrase",
        ));
    }
    tls::certified_key(&import.certificate, &import.private_key).map_err(|e| match e {
        tls::TlsError::KeyMismatch => ServiceError::invalid(
            "PrivateKey",
            "The private key does not match the public key in the certificate.",
        ),
        other => ServiceError::invalid(
            "PrivateKey",
            format!("Unable to parse the private key: {other}"),
        ),
    })?;
    let key_algorithm =
        key_algorithm(&cert).map_err(|e| ServiceError::invalid("Certificate", e))?;
    let now = now_epoch();
    let (not_before, not_after) = (
        cert.validity().not_before.timestamp() as f64,
        cert.validity().not_after.timestamp() as f64,
    );
    if now < not_before {
        return Err(ServiceError::invalid(
            "Certificate",
            format!(
                "The certificate is not valid yet: its validity starts at {}",
                cert.validity().not_before
            ),
        ));
    }
    if now > not_after {
        return Err(ServiceError::invalid(
            "Certificate",
            format!(
                "The certificate has expired: it was valid until {}",
                cert.validity().not_after
            ),
        ));
    }
    if !chain_text.trim().is_empty() {
        let chain = tls::certificates(chain_text).map_err(|e| {
            ServiceError::invalid(
                "CertificateChain",
                format!("Unable to parse the certificate chain: {e}"),
            )
        })?;
        let mut child = cert.clone();
        for (i, der) in chain.iter().enumerate() {
            let (_, issuer) = X509Certificate::from_der(der).map_err(|e| {
                ServiceError::invalid(
                    "CertificateChain",
                    format!("Certificate {} of the chain does not parse: {e}", i + 1),
                )
            })?;
            if child.verify_signature(Some(issuer.public_key())).is_err() {
                return Err(ServiceError::invalid(
                    "CertificateChain",
                    format!(
                        "Could not validate the certificate with the certificate chain: certificate {} of the chain ({}) did not sign {}",
                        i + 1,
                        issuer.subject(),
                        child.subject()
                    ),
                ));
            }
            child = issuer;
        }
    }
    let names = dns_names(&cert);
    let domain_name = names.first().cloned().ok_or_else(|| {
        ServiceError::invalid(
            "Certificate",
            "The certificate names no domain (no DNS subject alternative name or common name)",
        )
    })?;
    Ok(CertificateDetail {
        certificate_arn: arn.to_string(),
        domain_name,
        subject_alternative_names: names,
        serial: portico_model::serial_hex(cert.raw_serial()),
        subject: cert.subject().to_string(),
        issuer: cert.issuer().to_string(),
        imported_at: now,
        not_before,
        not_after,
        status: portico_model::CERTIFICATE_ISSUED.into(),
        certificate_type: CERTIFICATE_IMPORTED.into(),
        key_algorithm,
        signature_algorithm: signature_algorithm(
            &cert.signature_algorithm.algorithm.to_id_string(),
        ),
        in_use_by: Vec::new(),
        renewal_eligibility: "INELIGIBLE".into(),
    })
}

impl AdminService {
    pub async fn import_certificate(
        &self,
        caller: &Caller,
        import: CertificateImport,
    ) -> ServiceResult<String> {
        allow(caller, Permission::EditApis)?;
        let arn = match &import.certificate_arn {
            Some(arn) => {
                check_certificate_arn(arn)?;
                arn.clone()
            }
            None => format!(
                "arn:aws:acm:{ARN_REGION}:{ARN_ACCOUNT}:certificate/{}",
                uuid::Uuid::new_v4()
            ),
        };
        let detail = describe(&arn, &import)?;
        let sealed_key = self.identity.master_key.seal(&arn, &import.private_key);
        let (mut tx, version) = self.store.write().await?;
        if import.certificate_arn.is_some() {
            if tx.get_certificate(&arn).await?.is_none() {
                return Err(not_found(&arn));
            }
            // A re-import must still cover every domain that serves it.
            for domain in tx.domains_using_certificate(&arn).await? {
                if !certificate_covers(&detail.subject_alternative_names, &domain) {
                    return Err(ServiceError::invalid(
                        "Certificate",
                        format!("The new certificate does not cover {domain}, which uses {arn}"),
                    ));
                }
            }
        }
        tx.upsert_certificate(&StoredCertificate {
            detail,
            certificate_pem: import.certificate,
            chain_pem: import.certificate_chain.unwrap_or_default(),
            sealed_key,
        })
        .await?;
        self.commit(
            tx,
            version,
            caller,
            Change::new("ImportCertificate", "certificate", arn.clone()),
        )
        .await?;
        Ok(arn)
    }

    pub async fn describe_certificate(
        &self,
        caller: &Caller,
        arn: &str,
    ) -> ServiceResult<CertificateDetail> {
        allow(caller, Permission::Read)?;
        check_certificate_arn(arn)?;
        let mut tx = self.store.read().await?;
        let stored = tx
            .get_certificate(arn)
            .await?
            .ok_or_else(|| not_found(arn))?;
        let users = tx.domains_using_certificate(arn).await?;
        Ok(live(stored.detail, &users))
    }

    /// One page of certificates, by ARN; `next` is the last ARN of the page before.
    pub async fn list_certificates(
        &self,
        caller: &Caller,
        max_items: Option<u32>,
        next: Option<&str>,
    ) -> ServiceResult<(Vec<CertificateSummary>, Option<String>)> {
        allow(caller, Permission::Read)?;
        let limit = max_items.unwrap_or(1000).clamp(1, 1000);
        let mut tx = self.store.read().await?;
        let mut items = tx.list_certificates(next, limit + 1).await?;
        let more = items.len() > limit as usize;
        items.truncate(limit as usize);
        let mut out = Vec::with_capacity(items.len());
        for d in items {
            let users = tx.domains_using_certificate(&d.certificate_arn).await?;
            out.push(CertificateSummary::from(&live(d, &users)));
        }
        let next = more
            .then(|| out.last().map(|c| c.certificate_arn.clone()))
            .flatten();
        Ok((out, next))
    }

    pub async fn delete_certificate(&self, caller: &Caller, arn: &str) -> ServiceResult<()> {
        allow(caller, Permission::EditApis)?;
        check_certificate_arn(arn)?;
        let (mut tx, version) = self.store.write().await?;
        let users = tx.domains_using_certificate(arn).await?;
        if !users.is_empty() {
            let arns: Vec<String> = users.iter().map(|d| domain_name_arn(d)).collect();
            return Err(ServiceError::Conflict(format!(
                "Certificate {arn} is in use by {}.",
                arns.join(", ")
            )));
        }
        if !tx.delete_certificate(arn).await? {
            return Err(not_found(arn));
        }
        self.commit(
            tx,
            version,
            caller,
            Change::new("DeleteCertificate", "certificate", arn.into()),
        )
        .await
    }

    /// A self-signed certificate for development, made here (rcgen, ECDSA P-256, valid
    /// for a year) and imported like any other. Clients must be told to trust it.
    pub async fn create_self_signed_certificate(
        &self,
        caller: &Caller,
        request: SelfSignedRequest,
    ) -> ServiceResult<String> {
        allow(caller, Permission::EditApis)?;
        let mut names = vec![validate_domain_name(&request.domain_name)?];
        for n in &request.subject_alternative_names {
            let n = validate_domain_name(n)
                .map_err(|e| ValidationError::new("subjectAlternativeNames", e.message))?;
            if !names.contains(&n) {
                names.push(n);
            }
        }
        let mut params = rcgen::CertificateParams::new(names.clone()).map_err(|e| {
            ServiceError::invalid(
                "domainName",
                format!("Cannot make a certificate for these names: {e}"),
            )
        })?;
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, names[0].clone());
        let today = chrono::Utc::now().date_naive();
        let ymd = |d: chrono::NaiveDate| {
            use chrono::Datelike;
            rcgen::date_time_ymd(d.year(), d.month() as u8, d.day() as u8)
        };
        params.not_before = ymd(today - chrono::Days::new(1));
        params.not_after = ymd(today + chrono::Days::new(365));
        let key = rcgen::KeyPair::generate()
            .map_err(|e| ServiceError::BadRequest(format!("cannot generate a key: {e}")))?;
        let cert = params
            .self_signed(&key)
            .map_err(|e| ServiceError::BadRequest(format!("cannot sign the certificate: {e}")))?;
        self.import_certificate(
            caller,
            CertificateImport {
                certificate_arn: None,
                certificate: cert.pem(),
                private_key: key.serialize_pem(),
                certificate_chain: None,
            },
        )
        .await
    }
}

/// A stored description with what changes over time: its status now and its users.
fn live(mut d: CertificateDetail, users: &[String]) -> CertificateDetail {
    d.status = d.status_at(now_epoch()).to_string();
    d.in_use_by = users.iter().map(|u| domain_name_arn(u)).collect();
    d
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn certificate_arns_look_like_acms() {
        check_certificate_arn("arn:aws:acm:us-east-1:123456789012:certificate/abc-1")
            .expect("valid");
        for bad in [
            "",
            "arn:aws:acm:us-east-1:123456789012:certificate/",
            "arn:aws:iam::123456789012:certificate/x",
            "arn:aws:acm:us-east-1:12ab:certificate/x",
            "nope",
        ] {
            let e = check_certificate_arn(bad).expect_err(bad);
            assert!(
                matches!(e, ServiceError::Invalid(ref v) if v.field == "CertificateArn"),
                "{bad}"
            );
        }
    }

    fn pair(names: &[&str]) -> (String, String) {
        let key = rcgen::KeyPair::generate().expect("key");
        let cert =
            rcgen::CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>())
                .expect("params")
                .self_signed(&key)
                .expect("cert");
        (cert.pem(), key.serialize_pem())
    }

    fn import(certificate: &str, key: &str, chain: Option<&str>) -> CertificateImport {
        CertificateImport {
            certificate_arn: None,
            certificate: certificate.into(),
            private_key: key.into(),
            certificate_chain: chain.map(String::from),
        }
    }

    fn field_of(e: ServiceError) -> (&'static str, String) {
        match e {
            ServiceError::Invalid(v) => (v.field, v.message),
            other => panic!("not a validation error: {other}"),
        }
    }

    /// https://docs.aws.amazon.com/acm/latest/userguide/import-certificate-prerequisites.html
    #[test]
    fn imports_are_checked_as_acm_checks_them() {
        let (cert, key) = pair(&["api.example.com", "*.api.example.com"]);
        let d = describe("arn:x", &import(&cert, &key, None)).expect("valid import");
        assert_eq!(d.domain_name, "api.example.com");
        assert_eq!(
            d.subject_alternative_names,
            ["api.example.com", "*.api.example.com"]
        );
        assert_eq!(d.key_algorithm, "EC_prime256v1");
        assert_eq!(d.signature_algorithm, "SHA256WITHECDSA");
        assert_eq!(d.certificate_type, "IMPORTED");
        assert!(d.not_after > d.not_before);

        let (f, m) =
            field_of(describe("arn:x", &import("hello", &key, None)).expect_err("not pem"));
        assert_eq!(f, "Certificate");
        assert!(m.contains("PEM format"), "{m}");

        let (_, other_key) = pair(&["api.example.com"]);
        let (f, m) =
            field_of(describe("arn:x", &import(&cert, &other_key, None)).expect_err("mismatch"));
        assert_eq!(f, "PrivateKey");
        assert!(m.contains("does not match"), "{m}");

        let two = format!("{cert}{cert}");
        let (_, m) = field_of(describe("arn:x", &import(&two, &key, None)).expect_err("two"));
        assert!(m.contains("more than one certificate"), "{m}");

        // A chain that did not sign the leaf.
        let (unrelated, _) = pair(&["ca.example.com"]);
        let (f, m) =
            field_of(describe("arn:x", &import(&cert, &key, Some(&unrelated))).expect_err("chain"));
        assert_eq!(f, "CertificateChain");
        assert!(m.contains("Could not validate"), "{m}");

        // Expired.
        let key2 = rcgen::KeyPair::generate().expect("key");
        let mut params =
            rcgen::CertificateParams::new(vec!["old.example.com".to_string()]).expect("p");
        params.not_before = rcgen::date_time_ymd(2020, 1, 1);
        params.not_after = rcgen::date_time_ymd(2021, 1, 1);
        let old = params.self_signed(&key2).expect("old");
        let (_, m) = field_of(
            describe("arn:x", &import(&old.pem(), &key2.serialize_pem(), None))
                .expect_err("expired"),
        );
        assert!(m.contains("expired"), "{m}");
    }

    #[test]
    fn a_chain_that_signed_the_leaf_is_accepted() {
        let mut ca = rcgen::CertificateParams::new(Vec::<String>::new()).expect("ca");
        ca.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        let ca = rcgen::CertifiedIssuer::self_signed(ca, rcgen::KeyPair::generate().expect("k"))
            .expect("ca");
        let key = rcgen::KeyPair::generate().expect("key");
        let leaf = rcgen::CertificateParams::new(vec!["api.example.com".to_string()])
            .expect("p")
            .signed_by(&key, &ca)
            .expect("leaf");
        describe(
            "arn:x",
            &import(&leaf.pem(), &key.serialize_pem(), Some(&ca.pem())),
        )
        .expect("chain ok");
    }
}
