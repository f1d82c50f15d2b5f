//! Certificates as AWS Certificate Manager describes them (its JSON protocol spells
//! members in PascalCase and times as epoch seconds), and the truststores mutual TLS
//! checks client certificates against. Parsing and checking PEM is the control plane's
//! job; these are the shapes the admin API and the console share.
use serde::{Deserialize, Serialize};

pub const CERTIFICATE_ISSUED: &str = "ISSUED";
pub const CERTIFICATE_EXPIRED: &str = "EXPIRED";
pub const CERTIFICATE_IMPORTED: &str = "IMPORTED";

/// A certificate's serial number as ACM and API Gateway show it: lowercase hex bytes
/// joined by colons (`0a:bc:01`).
pub fn serial_hex(serial: &[u8]) -> String {
    let mut out = String::with_capacity(serial.len() * 3);
    for (i, b) in serial.iter().enumerate() {
        if i > 0 {
            out.push(':');
        }
        out.push(char::from_digit(u32::from(b >> 4), 16).unwrap_or('0'));
        out.push(char::from_digit(u32::from(b & 0xf), 16).unwrap_or('0'));
    }
    out
}

/// ACM's `CertificateDetail`, for an imported certificate.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CertificateDetail {
    pub certificate_arn: String,
    pub domain_name: String,
    #[serde(default)]
    pub subject_alternative_names: Vec<String>,
    pub serial: String,
    pub subject: String,
    pub issuer: String,
    pub imported_at: f64,
    pub not_before: f64,
    pub not_after: f64,
    pub status: String,
    #[serde(rename = "Type")]
    pub certificate_type: String,
    pub key_algorithm: String,
    pub signature_algorithm: String,
    #[serde(default)]
    pub in_use_by: Vec<String>,
    pub renewal_eligibility: String,
}

impl CertificateDetail {
    /// What the status is at `now` (epoch seconds): an imported certificate is issued
    /// until it expires.
    pub fn status_at(&self, now: f64) -> &'static str {
        if now > self.not_after {
            CERTIFICATE_EXPIRED
        } else {
            CERTIFICATE_ISSUED
        }
    }
}

/// ACM's `CertificateSummary`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CertificateSummary {
    pub certificate_arn: String,
    pub domain_name: String,
    #[serde(default)]
    pub subject_alternative_name_summaries: Vec<String>,
    pub status: String,
    #[serde(rename = "Type")]
    pub certificate_type: String,
    pub key_algorithm: String,
    pub in_use: bool,
    pub not_before: f64,
    pub not_after: f64,
    pub imported_at: f64,
}

impl From<&CertificateDetail> for CertificateSummary {
    fn from(d: &CertificateDetail) -> Self {
        CertificateSummary {
            certificate_arn: d.certificate_arn.clone(),
            domain_name: d.domain_name.clone(),
            subject_alternative_name_summaries: d.subject_alternative_names.clone(),
            status: d.status.clone(),
            certificate_type: d.certificate_type.clone(),
            key_algorithm: d.key_algorithm.clone(),
            in_use: !d.in_use_by.is_empty(),
            not_before: d.not_before,
            not_after: d.not_after,
            imported_at: d.imported_at,
        }
    }
}

/// A PEM bundle of CA certificates that a domain's mutual TLS trusts (Portico's stand-in
/// for the S3 object AWS reads a truststore from).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Truststore {
    pub name: String,
    /// `s3://{name}`: what a domain's `MutualTlsAuthentication.TruststoreUri` names.
    pub truststore_uri: String,
    /// The first 16 hex digits of the bundle's SHA-256.
    pub truststore_version: String,
    pub certificates: usize,
    pub subjects: Vec<String>,
    pub updated_date: String,
}

/// Portico's request for a development certificate made on the control plane.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SelfSignedRequest {
    pub domain_name: String,
    #[serde(default)]
    pub subject_alternative_names: Vec<String>,
}

/// A truststore name: letters, digits and `-_./`, 1 to 1024 characters, no empty path
/// segment (so `s3://bucket/key` URIs map onto it).
pub fn validate_truststore_name(name: &str) -> Result<(), crate::ValidationError> {
    let ok = !name.is_empty()
        && name.len() <= 1024
        && !name.starts_with('/')
        && !name.ends_with('/')
        && !name.contains("//")
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_./".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(crate::ValidationError::new(
            "name",
            format!(
                "Invalid truststore name '{name}': use 1 to 1024 letters, digits and '-', '_', '.', '/'"
            ),
        ))
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn serials_are_colon_separated_lowercase_hex() {
        assert_eq!(super::serial_hex(&[0x0a, 0xbc, 0x01]), "0a:bc:01");
        assert_eq!(super::serial_hex(&[]), "");
    }
}
