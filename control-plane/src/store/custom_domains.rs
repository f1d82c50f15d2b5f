//! Queries for what custom domains need: imported certificates (private keys sealed),
//! truststores, domain names and their API mappings.
use portico_model::{ApiMapping, CertificateDetail, DomainName, Truststore};
use sqlx::Row;

use super::resources::{from_json, to_json};
use super::{StoreError, StoreTx};

/// A certificate as stored: its description, PEM, and the private key sealed with the
/// master key (associated data: the ARN).
#[derive(Debug, Clone, PartialEq)]
pub struct StoredCertificate {
    pub detail: CertificateDetail,
    pub certificate_pem: String,
    pub chain_pem: String,
    pub sealed_key: String,
}

/// A truststore as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredTruststore {
    pub truststore: Truststore,
    pub bundle_pem: String,
}

impl StoreTx {
    pub async fn upsert_certificate(&mut self, c: &StoredCertificate) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO certificates (certificate_arn, body, certificate_pem, chain_pem, sealed_key)
             VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (certificate_arn) DO UPDATE SET body = excluded.body,
                certificate_pem = excluded.certificate_pem, chain_pem = excluded.chain_pem,
                sealed_key = excluded.sealed_key",
        )
        .bind(&c.detail.certificate_arn)
        .bind(to_json(&c.detail))
        .bind(&c.certificate_pem)
        .bind(&c.chain_pem)
        .bind(&c.sealed_key)
        .execute(&mut *self.tx)
        .await
        .map_err(StoreError::from_sqlx)?;
        Ok(())
    }

    pub async fn get_certificate(
        &mut self,
        arn: &str,
    ) -> Result<Option<StoredCertificate>, StoreError> {
        let row = sqlx::query(
            "SELECT body, certificate_pem, chain_pem, sealed_key FROM certificates WHERE certificate_arn = $1",
        )
        .bind(arn)
        .fetch_optional(&mut *self.tx)
        .await?;
        row.map(|r| stored_certificate(&r)).transpose()
    }

    /// Certificates in ARN order after `after`, at most `limit`.
    pub async fn list_certificates(
        &mut self,
        after: Option<&str>,
        limit: u32,
    ) -> Result<Vec<CertificateDetail>, StoreError> {
        let rows = sqlx::query(
            "SELECT body FROM certificates WHERE certificate_arn > $1 ORDER BY certificate_arn LIMIT $2",
        )
        .bind(after.unwrap_or(""))
        .bind(i64::from(limit))
        .fetch_all(&mut *self.tx)
        .await?;
        rows.iter()
            .map(|r| from_json("certificate", r.try_get::<String, _>(0)?.as_str()))
            .collect()
    }

    pub async fn delete_certificate(&mut self, arn: &str) -> Result<bool, StoreError> {
        let done = sqlx::query("DELETE FROM certificates WHERE certificate_arn = $1")
            .bind(arn)
            .execute(&mut *self.tx)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    /// The domain names that use certificate `arn`, in name order.
    pub async fn domains_using_certificate(
        &mut self,
        arn: &str,
    ) -> Result<Vec<String>, StoreError> {
        let rows = sqlx::query(
            "SELECT domain_name FROM domain_names WHERE certificate_arn = $1 ORDER BY domain_name",
        )
        .bind(arn)
        .fetch_all(&mut *self.tx)
        .await?;
        rows.iter()
            .map(|r| r.try_get::<String, _>(0).map_err(StoreError::from))
            .collect()
    }

    pub async fn upsert_truststore(&mut self, t: &StoredTruststore) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO truststores (name, body, bundle_pem) VALUES ($1, $2, $3)
             ON CONFLICT (name) DO UPDATE SET body = excluded.body, bundle_pem = excluded.bundle_pem",
        )
        .bind(&t.truststore.name)
        .bind(to_json(&t.truststore))
        .bind(&t.bundle_pem)
        .execute(&mut *self.tx)
        .await
        .map_err(StoreError::from_sqlx)?;
        Ok(())
    }

    pub async fn get_truststore(
        &mut self,
        name: &str,
    ) -> Result<Option<StoredTruststore>, StoreError> {
        let row = sqlx::query("SELECT body, bundle_pem FROM truststores WHERE name = $1")
            .bind(name)
            .fetch_optional(&mut *self.tx)
            .await?;
        row.map(|r| {
            Ok(StoredTruststore {
                truststore: from_json("truststore", r.try_get::<String, _>(0)?.as_str())?,
                bundle_pem: r.try_get(1)?,
            })
        })
        .transpose()
    }

    pub async fn list_truststores(&mut self) -> Result<Vec<Truststore>, StoreError> {
        let rows = sqlx::query("SELECT body FROM truststores ORDER BY name")
            .fetch_all(&mut *self.tx)
            .await?;
        rows.iter()
            .map(|r| from_json("truststore", r.try_get::<String, _>(0)?.as_str()))
            .collect()
    }

    pub async fn delete_truststore(&mut self, name: &str) -> Result<bool, StoreError> {
        let done = sqlx::query("DELETE FROM truststores WHERE name = $1")
            .bind(name)
            .execute(&mut *self.tx)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    pub async fn domains_using_truststore(
        &mut self,
        name: &str,
    ) -> Result<Vec<String>, StoreError> {
        let rows = sqlx::query(
            "SELECT domain_name FROM domain_names WHERE truststore_name = $1 ORDER BY domain_name",
        )
        .bind(name)
        .fetch_all(&mut *self.tx)
        .await?;
        rows.iter()
            .map(|r| r.try_get::<String, _>(0).map_err(StoreError::from))
            .collect()
    }

    pub async fn insert_domain_name(&mut self, d: &DomainName) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO domain_names (domain_name, certificate_arn, truststore_name, body) VALUES ($1, $2, $3, $4)",
        )
        .bind(&d.domain_name)
        .bind(d.certificate_arn().unwrap_or_default())
        .bind(d.truststore_name().map(str::to_string))
        .bind(to_json(d))
        .execute(&mut *self.tx)
        .await
        .map_err(StoreError::from_sqlx)?;
        Ok(())
    }

    pub async fn update_domain_name(&mut self, d: &DomainName) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE domain_names SET certificate_arn = $2, truststore_name = $3, body = $4 WHERE domain_name = $1",
        )
        .bind(&d.domain_name)
        .bind(d.certificate_arn().unwrap_or_default())
        .bind(d.truststore_name().map(str::to_string))
        .bind(to_json(d))
        .execute(&mut *self.tx)
        .await
        .map_err(StoreError::from_sqlx)?;
        Ok(())
    }

    pub async fn get_domain_name(&mut self, name: &str) -> Result<Option<DomainName>, StoreError> {
        let row = sqlx::query("SELECT body FROM domain_names WHERE domain_name = $1")
            .bind(name)
            .fetch_optional(&mut *self.tx)
            .await?;
        row.map(|r| from_json("domain name", r.try_get::<String, _>(0)?.as_str()))
            .transpose()
    }

    pub async fn list_domain_names(
        &mut self,
        after: Option<&str>,
        limit: u32,
    ) -> Result<Vec<DomainName>, StoreError> {
        let rows = sqlx::query(
            "SELECT body FROM domain_names WHERE domain_name > $1 ORDER BY domain_name LIMIT $2",
        )
        .bind(after.unwrap_or(""))
        .bind(i64::from(limit))
        .fetch_all(&mut *self.tx)
        .await?;
        rows.iter()
            .map(|r| from_json("domain name", r.try_get::<String, _>(0)?.as_str()))
            .collect()
    }

    /// Deletes the domain and, by cascade, its API mappings.
    pub async fn delete_domain_name(&mut self, name: &str) -> Result<bool, StoreError> {
        let done = sqlx::query("DELETE FROM domain_names WHERE domain_name = $1")
            .bind(name)
            .execute(&mut *self.tx)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    pub async fn upsert_api_mapping(
        &mut self,
        domain_name: &str,
        m: &ApiMapping,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO api_mappings (domain_name, api_mapping_id, api_mapping_key, api_id, stage_name, body)
             VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT (domain_name, api_mapping_id) DO UPDATE SET
                api_mapping_key = excluded.api_mapping_key, api_id = excluded.api_id,
                stage_name = excluded.stage_name, body = excluded.body",
        )
        .bind(domain_name)
        .bind(&m.api_mapping_id)
        .bind(&m.api_mapping_key)
        .bind(&m.api_id)
        .bind(&m.stage)
        .bind(to_json(m))
        .execute(&mut *self.tx)
        .await
        .map_err(StoreError::from_sqlx)?;
        Ok(())
    }

    pub async fn get_api_mapping(
        &mut self,
        domain_name: &str,
        id: &str,
    ) -> Result<Option<ApiMapping>, StoreError> {
        let row = sqlx::query(
            "SELECT body FROM api_mappings WHERE domain_name = $1 AND api_mapping_id = $2",
        )
        .bind(domain_name)
        .bind(id)
        .fetch_optional(&mut *self.tx)
        .await?;
        row.map(|r| from_json("API mapping", r.try_get::<String, _>(0)?.as_str()))
            .transpose()
    }

    /// A domain's mappings in id order after `after`, at most `limit`.
    pub async fn list_api_mappings(
        &mut self,
        domain_name: &str,
        after: Option<&str>,
        limit: u32,
    ) -> Result<Vec<ApiMapping>, StoreError> {
        let rows = sqlx::query(
            "SELECT body FROM api_mappings WHERE domain_name = $1 AND api_mapping_id > $2
             ORDER BY api_mapping_id LIMIT $3",
        )
        .bind(domain_name)
        .bind(after.unwrap_or(""))
        .bind(i64::from(limit))
        .fetch_all(&mut *self.tx)
        .await?;
        rows.iter()
            .map(|r| from_json("API mapping", r.try_get::<String, _>(0)?.as_str()))
            .collect()
    }

    pub async fn delete_api_mapping(
        &mut self,
        domain_name: &str,
        id: &str,
    ) -> Result<bool, StoreError> {
        let done =
            sqlx::query("DELETE FROM api_mappings WHERE domain_name = $1 AND api_mapping_id = $2")
                .bind(domain_name)
                .bind(id)
                .execute(&mut *self.tx)
                .await?;
        Ok(done.rows_affected() > 0)
    }

    /// What custom domains put in the snapshot: every domain with its mappings and
    /// truststore bundle, and the certificates they use (keys still sealed).
    pub async fn custom_domain_source(&mut self) -> Result<CustomDomainSource, StoreError> {
        let domains = self.list_domain_names(None, u32::MAX >> 1).await?;
        let mut source = CustomDomainSource::default();
        for d in domains {
            let mappings = self
                .list_api_mappings(&d.domain_name, None, u32::MAX >> 1)
                .await?;
            let truststore_pem = match d.truststore_name() {
                Some(name) => self.get_truststore(name).await?.map(|t| t.bundle_pem),
                None => None,
            };
            if let Some(arn) = d.certificate_arn()
                && !source
                    .certificates
                    .iter()
                    .any(|c| c.detail.certificate_arn == arn)
                && let Some(c) = self.get_certificate(arn).await?
            {
                source.certificates.push(c);
            }
            source.domains.push(SourceDomain {
                domain: d,
                mappings,
                truststore_pem,
            });
        }
        Ok(source)
    }
}

/// A domain as the snapshot compiler reads it.
#[derive(Debug, Clone, PartialEq)]
pub struct SourceDomain {
    pub domain: DomainName,
    pub mappings: Vec<ApiMapping>,
    /// `None` without mutual TLS (or when its truststore is gone).
    pub truststore_pem: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct CustomDomainSource {
    pub domains: Vec<SourceDomain>,
    pub certificates: Vec<StoredCertificate>,
}

fn stored_certificate(r: &sqlx::any::AnyRow) -> Result<StoredCertificate, StoreError> {
    Ok(StoredCertificate {
        detail: from_json("certificate", r.try_get::<String, _>(0)?.as_str())?,
        certificate_pem: r.try_get(1)?,
        chain_pem: r.try_get(2)?,
        sealed_key: r.try_get(3)?,
    })
}
