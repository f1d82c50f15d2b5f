//! Custom domain names, compiled: the TLS config each SNI name gets, and each domain's
//! API mappings, longest key first, so a request's host and leading path segments find
//! the API and stage in one pass. The rules are AWS's "Mapping API stages to a custom
//! domain name for HTTP APIs"
//! (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-mappings.html).

use std::sync::Arc;

use foldhash::{HashMap, HashMapExt};
use portico_model::{SECURITY_POLICY_TLS_1_2, validate_api_mapping_key, validate_domain_name};
use rustls::ServerConfig;
use rustls::sign::CertifiedKey;

use super::tls::{self, TlsError, TlsSessions};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DomainError {
    #[error("{0}")]
    Name(String),
    #[error("appears twice")]
    Duplicate,
    #[error("names certificate {0}, which the snapshot does not carry")]
    MissingCertificate(String),
    #[error("certificate {arn}: {reason}")]
    Certificate { arn: String, reason: TlsError },
    #[error("security policy {0:?} is not one nodes serve (TLS_1_2)")]
    SecurityPolicy(String),
    #[error("truststore: {0}")]
    Truststore(TlsError),
    #[error("api mapping {id}: {reason}")]
    Mapping { id: String, reason: String },
}

/// One API mapping: the path's leading segments `key` select `api_id`'s `stage`.
#[derive(Debug)]
pub struct CompiledMapping {
    /// Without slashes at either end; empty for the domain's root.
    key: Box<str>,
    /// ASCII-lowercased, as the config's API table is keyed.
    pub api_id: Box<str>,
    pub stage: Box<str>,
}

impl CompiledMapping {
    /// The mapping key, as `$context.customDomain.basePathMatched` shows it.
    pub fn key(&self) -> &str {
        &self.key
    }
}

#[derive(Debug)]
pub struct CompiledDomain {
    /// As configured: `api.example.com` or `*.example.com`.
    pub name: Arc<str>,
    pub tls: Arc<ServerConfig>,
    /// Requests need a verified client certificate from a handshake for this domain.
    pub mutual_tls: bool,
    /// Longest key first.
    mappings: Box<[CompiledMapping]>,
}

impl CompiledDomain {
    /// The mapping for `path` and the path the routes see: the key's segments removed,
    /// `/` when nothing is left. A key matches whole segments only (`v1` takes `/v1` and
    /// `/v1/x`, not `/v10`).
    pub fn mapping_for<'p>(&self, path: &'p str) -> Option<(&CompiledMapping, &'p str)> {
        self.mappings.iter().find_map(|m| {
            if m.key.is_empty() {
                return Some((m, path));
            }
            let rest = path.strip_prefix('/')?.strip_prefix(&*m.key)?;
            if rest.is_empty() {
                Some((m, "/"))
            } else if rest.starts_with('/') {
                Some((m, rest))
            } else {
                None
            }
        })
    }
}

/// Every custom domain by name: exact names, then one-label wildcards by the suffix they
/// cover.
#[derive(Debug, Default)]
pub struct DomainTable {
    exact: HashMap<String, Arc<CompiledDomain>>,
    /// `example.com` for `*.example.com`.
    wildcard: HashMap<String, Arc<CompiledDomain>>,
}

impl DomainTable {
    pub fn compile(
        snapshot: &portico_proto::Snapshot,
        sessions: &TlsSessions,
    ) -> Result<Self, (String, DomainError)> {
        let mut keys: HashMap<&str, Arc<CertifiedKey>> = HashMap::new();
        for c in &snapshot.certificates {
            let key = tls::certified_key(&c.chain_pem, &c.private_key_pem).map_err(|reason| {
                (
                    String::new(),
                    DomainError::Certificate {
                        arn: c.certificate_arn.clone(),
                        reason,
                    },
                )
            })?;
            keys.insert(&c.certificate_arn, key);
        }
        let mut table = DomainTable::default();
        for d in &snapshot.domain_names {
            let compiled =
                compile_domain(d, &keys, sessions).map_err(|e| (d.domain_name.clone(), e))?;
            let name = compiled.name.to_string();
            let (map, key) = match name.strip_prefix("*.") {
                Some(suffix) => (&mut table.wildcard, suffix.to_string()),
                None => (&mut table.exact, name),
            };
            if map.insert(key, Arc::new(compiled)).is_some() {
                return Err((d.domain_name.clone(), DomainError::Duplicate));
            }
        }
        Ok(table)
    }

    pub fn is_empty(&self) -> bool {
        self.exact.is_empty() && self.wildcard.is_empty()
    }

    pub fn len(&self) -> usize {
        self.exact.len() + self.wildcard.len()
    }

    /// The domain serving `host` (no port, any case, a trailing dot allowed): the exact
    /// name, else the wildcard on its parent (`a.example.com` → `*.example.com`; one label
    /// only, like the certificate that covers it).
    pub fn lookup(&self, host: &str) -> Option<&Arc<CompiledDomain>> {
        if self.is_empty() {
            return None;
        }
        let host = host.strip_suffix('.').unwrap_or(host);
        let lowered;
        let host = if host.bytes().any(|b| b.is_ascii_uppercase()) {
            lowered = host.to_ascii_lowercase();
            lowered.as_str()
        } else {
            host
        };
        if let Some(d) = self.exact.get(host) {
            return Some(d);
        }
        let (first, parent) = host.split_once('.')?;
        if first.is_empty() {
            return None;
        }
        self.wildcard.get(parent)
    }
}

fn compile_domain(
    d: &portico_proto::DomainName,
    keys: &HashMap<&str, Arc<CertifiedKey>>,
    sessions: &TlsSessions,
) -> Result<CompiledDomain, DomainError> {
    let name = validate_domain_name(&d.domain_name).map_err(|e| DomainError::Name(e.message))?;
    if d.security_policy != SECURITY_POLICY_TLS_1_2 {
        return Err(DomainError::SecurityPolicy(d.security_policy.clone()));
    }
    let key = keys
        .get(d.certificate_arn.as_str())
        .ok_or_else(|| DomainError::MissingCertificate(d.certificate_arn.clone()))?;
    let truststore = if d.truststore_pem.is_empty() {
        None
    } else {
        Some(tls::client_roots(&d.truststore_pem).map_err(DomainError::Truststore)?)
    };
    let mutual_tls = truststore.is_some();
    let tls = tls::server_config(key.clone(), truststore, sessions).map_err(|reason| {
        DomainError::Certificate {
            arn: d.certificate_arn.clone(),
            reason,
        }
    })?;
    let mut mappings = Vec::with_capacity(d.api_mappings.len());
    for m in &d.api_mappings {
        let mapping_error = |reason: String| DomainError::Mapping {
            id: m.api_mapping_id.clone(),
            reason,
        };
        validate_api_mapping_key(&m.api_mapping_key).map_err(|e| mapping_error(e.message))?;
        if mappings
            .iter()
            .any(|c: &CompiledMapping| *c.key == *m.api_mapping_key)
        {
            return Err(mapping_error(format!(
                "key {:?} appears twice",
                m.api_mapping_key
            )));
        }
        mappings.push(CompiledMapping {
            key: m.api_mapping_key.as_str().into(),
            api_id: m.api_id.to_ascii_lowercase().into(),
            stage: m.stage.as_str().into(),
        });
    }
    // Longest first; segments only ever match whole, so length orders specificity.
    mappings.sort_by(|a, b| b.key.len().cmp(&a.key.len()).then(a.key.cmp(&b.key)));
    Ok(CompiledDomain {
        name: name.into(),
        tls,
        mutual_tls,
        mappings: mappings.into_boxed_slice(),
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use portico_proto as wire;

    use super::*;
    use crate::config::tls::tests::leaf;

    /// (domain name, its mappings as (key, api, stage)).
    type DomainSpec<'a> = (&'a str, &'a [(&'a str, &'a str, &'a str)]);

    pub(crate) fn domain_snapshot(names: &[DomainSpec<'_>]) -> wire::Snapshot {
        let all: Vec<&str> = names.iter().map(|(n, _)| *n).collect();
        let (chain, key, _) = leaf(&all);
        wire::Snapshot {
            certificates: vec![wire::Certificate {
                certificate_arn: "arn:cert".into(),
                chain_pem: chain,
                private_key_pem: key,
            }],
            domain_names: names
                .iter()
                .map(|(name, mappings)| wire::DomainName {
                    domain_name: name.to_string(),
                    certificate_arn: "arn:cert".into(),
                    security_policy: "TLS_1_2".into(),
                    truststore_pem: String::new(),
                    api_mappings: mappings
                        .iter()
                        .enumerate()
                        .map(|(i, (key, api, stage))| wire::ApiMapping {
                            api_mapping_id: format!("m{i}"),
                            api_id: api.to_string(),
                            stage: stage.to_string(),
                            api_mapping_key: key.to_string(),
                        })
                        .collect(),
                })
                .collect(),
            ..Default::default()
        }
    }

    /// Longest match first, whole segments only, the key removed from the path
    /// (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-mappings.html).
    #[test]
    fn mappings_match_the_longest_key_by_whole_segments() {
        let snapshot = domain_snapshot(&[(
            "api.example.com",
            &[
                ("", "root", "prod"),
                ("v1", "one", "prod"),
                ("v1/orders", "orders", "dev"),
                ("v10", "ten", "prod"),
            ],
        )]);
        let table = DomainTable::compile(&snapshot, &TlsSessions::default()).expect("compiles");
        let d = table.lookup("api.example.com").expect("domain");
        for (path, api, stage, rest) in [
            ("/", "root", "prod", "/"),
            ("/notes", "root", "prod", "/notes"),
            ("/v1", "one", "prod", "/"),
            ("/v1/", "one", "prod", "/"),
            ("/v1/notes/7", "one", "prod", "/notes/7"),
            ("/v1/orders", "orders", "dev", "/"),
            ("/v1/orders/7", "orders", "dev", "/7"),
            ("/v1/ordersx", "one", "prod", "/ordersx"),
            ("/v10/x", "ten", "prod", "/x"),
            ("/v100", "root", "prod", "/v100"),
            ("/V1/x", "root", "prod", "/V1/x"),
        ] {
            let (m, seen) = d.mapping_for(path).expect(path);
            assert_eq!((&*m.api_id, &*m.stage, seen), (api, stage, rest), "{path}");
        }

        let no_root = domain_snapshot(&[("api.example.com", &[("v1", "one", "prod")])]);
        let table = DomainTable::compile(&no_root, &TlsSessions::default()).expect("compiles");
        let d = table.lookup("api.example.com").expect("domain");
        assert!(d.mapping_for("/v2/x").is_none());
        assert!(d.mapping_for("/").is_none());
    }

    #[test]
    fn hosts_find_exact_names_then_one_wildcard_label() {
        let snapshot = domain_snapshot(&[
            ("api.example.com", &[]),
            ("*.example.com", &[]),
            ("*.deep.example.com", &[]),
        ]);
        let table = DomainTable::compile(&snapshot, &TlsSessions::default()).expect("compiles");
        let name = |host: &str| table.lookup(host).map(|d| d.name.to_string());
        assert_eq!(name("api.example.com").as_deref(), Some("api.example.com"));
        assert_eq!(name("API.Example.COM.").as_deref(), Some("api.example.com"));
        assert_eq!(name("other.example.com").as_deref(), Some("*.example.com"));
        assert_eq!(
            name("a.deep.example.com").as_deref(),
            Some("*.deep.example.com")
        );
        assert_eq!(name("a.b.example.com"), None);
        assert_eq!(name("example.com"), None);
        assert_eq!(name(".example.com"), None);
        assert_eq!(name("api.example.org"), None);
    }

    #[test]
    fn broken_domains_are_refused_whole() {
        let mut s = domain_snapshot(&[("api.example.com", &[])]);
        s.domain_names[0].security_policy = "TLS_1_0".into();
        let (name, e) = DomainTable::compile(&s, &TlsSessions::default()).expect_err("policy");
        assert_eq!(name, "api.example.com");
        assert!(matches!(e, DomainError::SecurityPolicy(_)), "{e}");

        let mut s = domain_snapshot(&[("api.example.com", &[])]);
        s.domain_names[0].certificate_arn = "arn:other".into();
        let (_, e) = DomainTable::compile(&s, &TlsSessions::default()).expect_err("cert");
        assert!(matches!(e, DomainError::MissingCertificate(_)), "{e}");

        let s = domain_snapshot(&[("api.example.com", &[("v1", "a", "p"), ("v1", "b", "p")])]);
        let (_, e) = DomainTable::compile(&s, &TlsSessions::default()).expect_err("dup key");
        assert!(e.to_string().contains("appears twice"), "{e}");

        let s = domain_snapshot(&[("api.example.com", &[]), ("API.example.com", &[])]);
        let (_, e) = DomainTable::compile(&s, &TlsSessions::default()).expect_err("dup name");
        assert_eq!(e, DomainError::Duplicate);
    }
}
