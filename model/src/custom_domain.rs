//! Custom domain names and their API mappings, as AWS HTTP APIs have them: a name (or a
//! one-label wildcard) served with an imported certificate, an optional mutual-TLS
//! truststore, and mappings from a base path (`""`, `v1`, `v1/orders`) to an API's
//! stage. The rules are AWS's "Setting up custom domain names for HTTP APIs"
//! (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-custom-domain-names.html)
//! and "Mapping API stages to a custom domain name for HTTP APIs"
//! (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-mappings.html).
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::ValidationError;

pub const ENDPOINT_REGIONAL: &str = "REGIONAL";
/// HTTP APIs take TLS 1.2 (and 1.3) only; `TLS_1_0` is refused, never weakened.
pub const SECURITY_POLICY_TLS_1_2: &str = "TLS_1_2";
pub const DOMAIN_AVAILABLE: &str = "AVAILABLE";
/// What AWS's HTTP APIs select mappings by.
pub const API_MAPPING_SELECTION_EXPRESSION: &str = "$request.basepath";
/// The region and account Portico's ARNs carry: a self-hosted gateway has neither, and
/// AWS tools only need them to be well formed.
pub const ARN_REGION: &str = "us-east-1";
pub const ARN_ACCOUNT: &str = "000000000000";
/// Truststores are named by `s3://NAME` URIs, so an AWS definition's `s3://bucket/key`
/// names the bundle uploaded to Portico as `bucket/key`.
pub const TRUSTSTORE_URI_SCHEME: &str = "s3://";

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DomainNameConfiguration {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certificate_arn: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certificate_upload_date: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domain_name_status: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domain_name_status_message: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub security_policy: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip_address_type: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MutualTlsAuthentication {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub truststore_uri: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub truststore_version: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub truststore_warnings: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DomainName {
    pub domain_name: String,
    pub domain_name_arn: String,
    pub api_mapping_selection_expression: String,
    pub domain_name_configurations: Vec<DomainNameConfiguration>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mutual_tls_authentication: Option<MutualTlsAuthentication>,
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
}

impl DomainName {
    /// The certificate its (only) configuration names.
    pub fn certificate_arn(&self) -> Option<&str> {
        self.domain_name_configurations
            .first()
            .and_then(|c| c.certificate_arn.as_deref())
    }

    /// The truststore name its mutual TLS names, if it has mutual TLS.
    pub fn truststore_name(&self) -> Option<&str> {
        self.mutual_tls_authentication
            .as_ref()?
            .truststore_uri
            .as_deref()?
            .strip_prefix(TRUSTSTORE_URI_SCHEME)
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MutualTlsAuthenticationInput {
    pub truststore_uri: Option<String>,
    pub truststore_version: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DomainNameConfigurationInput {
    pub certificate_arn: Option<String>,
    pub certificate_name: Option<String>,
    pub endpoint_type: Option<String>,
    pub security_policy: Option<String>,
    pub ip_address_type: Option<String>,
    pub ownership_verification_certificate_arn: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateDomainName {
    pub domain_name: String,
    #[serde(default)]
    pub domain_name_configurations: Vec<DomainNameConfigurationInput>,
    pub mutual_tls_authentication: Option<MutualTlsAuthenticationInput>,
    pub routing_mode: Option<String>,
    pub tags: Option<BTreeMap<String, String>>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UpdateDomainName {
    pub domain_name_configurations: Option<Vec<DomainNameConfigurationInput>>,
    pub mutual_tls_authentication: Option<MutualTlsAuthenticationInput>,
    pub routing_mode: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApiMapping {
    pub api_id: String,
    pub api_mapping_id: String,
    /// `""` maps the domain's root.
    #[serde(default)]
    pub api_mapping_key: String,
    pub stage: String,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateApiMapping {
    pub api_id: String,
    pub api_mapping_key: Option<String>,
    pub stage: String,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UpdateApiMapping {
    pub api_id: String,
    pub api_mapping_key: Option<String>,
    pub stage: Option<String>,
}

/// `arn:aws:apigateway:REGION::/domainnames/NAME`, as AWS names a domain.
pub fn domain_name_arn(name: &str) -> String {
    format!("arn:aws:apigateway:{ARN_REGION}::/domainnames/{name}")
}

/// A domain name as AWS takes it (RFC 1035 labels of letters, digits and hyphens, at
/// most 63 octets each and 253 in all, at least two labels), optionally `*.` then such
/// a name. Returns it ASCII-lowercased, which is how it is stored and matched.
pub fn validate_domain_name(name: &str) -> Result<String, ValidationError> {
    let invalid = |why: &str| {
        ValidationError::new("domainName", format!("Invalid domain name '{name}': {why}"))
    };
    let lower = name.to_ascii_lowercase();
    let bare = lower.strip_prefix("*.").unwrap_or(&lower);
    if bare.is_empty() || lower.len() > 253 {
        return Err(invalid("it must be 1 to 253 characters"));
    }
    let labels: Vec<&str> = bare.split('.').collect();
    if labels.len() < 2 {
        return Err(invalid(
            "it needs at least two labels, as in api.example.com",
        ));
    }
    for label in labels {
        if label.is_empty() || label.len() > 63 {
            return Err(invalid("each label must be 1 to 63 characters"));
        }
        if !label
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        {
            return Err(invalid(
                "labels may hold only letters, digits and hyphens (a wildcard only as a leading '*.')",
            ));
        }
        if label.starts_with('-') || label.ends_with('-') {
            return Err(invalid("a label can't start or end with a hyphen"));
        }
    }
    Ok(lower)
}

/// An API mapping key: empty, or up to 255 characters of path segments separated by
/// single slashes (`v1`, `v1/orders`), with no leading or trailing slash and no empty
/// segment, made of the characters AWS allows in a base path.
pub fn validate_api_mapping_key(key: &str) -> Result<(), ValidationError> {
    let invalid = |why: &str| {
        ValidationError::new(
            "apiMappingKey",
            format!("Invalid API mapping key '{key}': {why}"),
        )
    };
    if key.is_empty() {
        return Ok(());
    }
    if key.len() > 255 {
        return Err(invalid("it can be at most 255 characters"));
    }
    if key.starts_with('/') || key.ends_with('/') {
        return Err(invalid("it can't start or end with '/'"));
    }
    for segment in key.split('/') {
        if segment.is_empty() {
            return Err(invalid("it can't contain an empty path segment ('//')"));
        }
        if !segment
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b))
        {
            return Err(invalid(
                "path segments may hold only letters, digits and '-', '.', '_', '~'",
            ));
        }
    }
    Ok(())
}

/// Whether a certificate for `names` (its subject alternative names, or its common name)
/// covers `domain`: an exact name, or a one-label wildcard (`*.example.com` covers
/// `a.example.com` and the domain `*.example.com` itself, not `a.b.example.com`).
pub fn certificate_covers(names: &[String], domain: &str) -> bool {
    names.iter().any(|n| {
        let n = n.to_ascii_lowercase();
        if n == domain {
            return true;
        }
        match (n.strip_prefix("*."), domain.split_once('.')) {
            (Some(suffix), Some((first, rest))) => rest == suffix && !first.is_empty(),
            _ => false,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-custom-domain-names.html
    /// (RFC 1035 names, wildcard custom domain names).
    #[test]
    fn domain_names_follow_rfc_1035_with_one_leading_wildcard() {
        assert_eq!(
            validate_domain_name("API.Example.com").expect("valid"),
            "api.example.com"
        );
        assert_eq!(
            validate_domain_name("*.example.com").expect("valid"),
            "*.example.com"
        );
        for bad in [
            "",
            "localhost",
            "a..example.com",
            "-a.example.com",
            "a-.example.com",
            "a.*.example.com",
            "*example.com",
            "a_b.example.com",
            "ex ample.com",
            "*.com.",
        ] {
            let e = validate_domain_name(bad).expect_err(bad);
            assert_eq!(e.field, "domainName", "{bad}");
        }
        let long = format!("{}.com", "a".repeat(64));
        assert!(validate_domain_name(&long).is_err());
    }

    /// https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-mappings.html
    /// (multi-level mappings such as `orders/v1/items`).
    #[test]
    fn mapping_keys_are_path_segments() {
        for good in ["", "v1", "v1/orders", "orders/v2/items", "a.b-c_d~e"] {
            validate_api_mapping_key(good).expect(good);
        }
        for bad in [
            "/v1",
            "v1/",
            "v1//orders",
            "v1/{id}",
            "v 1",
            "$default",
            "é",
        ] {
            let e = validate_api_mapping_key(bad).expect_err(bad);
            assert_eq!(e.field, "apiMappingKey", "{bad}");
        }
        assert!(validate_api_mapping_key(&"a".repeat(256)).is_err());
    }

    #[test]
    fn certificates_cover_exact_names_and_one_wildcard_label() {
        let names = vec![
            "api.example.com".to_string(),
            "*.Wild.example.com".to_string(),
        ];
        assert!(certificate_covers(&names, "api.example.com"));
        assert!(certificate_covers(&names, "a.wild.example.com"));
        assert!(certificate_covers(&names, "*.wild.example.com"));
        assert!(!certificate_covers(&names, "a.b.wild.example.com"));
        assert!(!certificate_covers(&names, "wild.example.com"));
        assert!(!certificate_covers(&names, "other.example.com"));
    }

    #[test]
    fn domains_name_their_truststore_by_s3_uri() {
        let mut d = DomainName {
            domain_name: "mtls.example.com".into(),
            domain_name_arn: domain_name_arn("mtls.example.com"),
            api_mapping_selection_expression: API_MAPPING_SELECTION_EXPRESSION.into(),
            domain_name_configurations: vec![],
            mutual_tls_authentication: None,
            tags: BTreeMap::new(),
        };
        assert_eq!(d.truststore_name(), None);
        d.mutual_tls_authentication = Some(MutualTlsAuthentication {
            truststore_uri: Some("s3://bucket/partners.pem".into()),
            ..Default::default()
        });
        assert_eq!(d.truststore_name(), Some("bucket/partners.pem"));
        assert_eq!(
            d.domain_name_arn,
            "arn:aws:apigateway:us-east-1::/domainnames/mtls.example.com"
        );
    }
}
