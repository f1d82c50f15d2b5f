//! Custom domain names, their API mappings and the truststores mutual TLS uses. The
//! rules are AWS's for HTTP APIs: Regional endpoints and the TLS 1.2 policy only, one
//! configuration per domain with a certificate that covers the name
//! (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-custom-domain-names.html),
//! mapping keys unique per domain
//! (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-mappings.html),
//! and a PEM truststore for mutual TLS
//! (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-mutual-tls.html),
//! which AWS reads from S3 and Portico keeps itself.
use sha2::{Digest, Sha256};

use portico_data_plane::config::tls;
use portico_model::{
    API_MAPPING_SELECTION_EXPRESSION, ApiMapping, CreateApiMapping, CreateDomainName,
    DOMAIN_AVAILABLE, DomainName, DomainNameConfiguration, DomainNameConfigurationInput,
    ENDPOINT_REGIONAL, MutualTlsAuthentication, MutualTlsAuthenticationInput, Page,
    SECURITY_POLICY_TLS_1_2, TRUSTSTORE_URI_SCHEME, Truststore, UpdateApiMapping, UpdateDomainName,
    certificate_covers, domain_name_arn, validate_api_mapping_key, validate_domain_name,
    validate_truststore_name,
};
use x509_parser::prelude::{FromDer, X509Certificate};

use super::paging::page;
use super::{AdminService, Change, ListParams, ServiceError, ServiceResult, allow, new_id, now};
use crate::identity::{Caller, Permission};
use crate::store::{ResourceKind, StoreTx, StoredTruststore};

fn domain_not_found(name: &str) -> ServiceError {
    ServiceError::NotFound(format!("Invalid domain name identifier specified {name}"))
}

fn mapping_not_found(id: &str) -> ServiceError {
    ServiceError::NotFound(format!("Invalid API mapping identifier specified {id}"))
}

/// The one configuration a domain takes, checked: a certificate that exists, is valid
/// and covers `name`; REGIONAL; TLS_1_2.
async fn configuration(
    tx: &mut StoreTx,
    name: &str,
    input: &[DomainNameConfigurationInput],
) -> ServiceResult<DomainNameConfiguration> {
    let [c] = input else {
        return Err(ServiceError::invalid(
            "domainNameConfigurations",
            "Exactly one domain name configuration is required: its certificateArn, endpointType REGIONAL and securityPolicy TLS_1_2",
        ));
    };
    let endpoint_type = c.endpoint_type.as_deref().unwrap_or(ENDPOINT_REGIONAL);
    if endpoint_type != ENDPOINT_REGIONAL {
        return Err(ServiceError::invalid(
            "endpointType",
            format!(
                "Invalid endpointType {endpoint_type}: HTTP APIs take REGIONAL custom domain names only"
            ),
        ));
    }
    let policy = c
        .security_policy
        .as_deref()
        .unwrap_or(SECURITY_POLICY_TLS_1_2);
    if policy != SECURITY_POLICY_TLS_1_2 {
        return Err(ServiceError::invalid(
            "securityPolicy",
            format!(
                "Portico cannot honour securityPolicy {policy}: HTTP APIs take TLS_1_2 only (TLS 1.2 and 1.3), and Portico's TLS never speaks TLS 1.0 or 1.1"
            ),
        ));
    }
    if let Some(ip) = c.ip_address_type.as_deref()
        && !matches!(ip, "ipv4" | "dualstack")
    {
        return Err(ServiceError::invalid(
            "ipAddressType",
            format!("Invalid ipAddressType {ip}: use ipv4 or dualstack"),
        ));
    }
    if c.ownership_verification_certificate_arn.is_some() {
        return Err(ServiceError::invalid(
            "ownershipVerificationCertificateArn",
            "Ownership verification is for certificates ACM issued; Portico serves imported certificates only",
        ));
    }
    let arn = c
        .certificate_arn
        .as_deref()
        .ok_or_else(|| ServiceError::invalid("certificateArn", "certificateArn is required"))?;
    super::certificates::check_certificate_arn(arn).map_err(|_| {
        ServiceError::invalid("certificateArn", format!("Invalid certificateArn {arn}"))
    })?;
    let cert = tx.get_certificate(arn).await?.ok_or_else(|| {
        ServiceError::invalid("certificateArn", format!("Certificate {arn} not found"))
    })?;
    if cert.detail.not_after < super::certificates::now_epoch() {
        return Err(ServiceError::invalid(
            "certificateArn",
            format!("Certificate {arn} has expired"),
        ));
    }
    if !certificate_covers(&cert.detail.subject_alternative_names, name) {
        return Err(ServiceError::invalid(
            "certificateArn",
            format!(
                "Certificate {arn} does not cover {name}: it is for {}",
                cert.detail.subject_alternative_names.join(", ")
            ),
        ));
    }
    let uploaded = chrono::DateTime::from_timestamp(cert.detail.imported_at as i64, 0)
        .map(|d| d.to_rfc3339_opts(chrono::SecondsFormat::Secs, true));
    Ok(DomainNameConfiguration {
        certificate_arn: Some(arn.to_string()),
        certificate_upload_date: uploaded,
        domain_name_status: Some(DOMAIN_AVAILABLE.into()),
        domain_name_status_message: None,
        endpoint_type: Some(ENDPOINT_REGIONAL.into()),
        security_policy: Some(SECURITY_POLICY_TLS_1_2.into()),
        ip_address_type: c.ip_address_type.clone(),
    })
}

/// Mutual TLS that names a truststore Portico holds (`s3://NAME`), at its current
/// version if one is given.
async fn mutual_tls(
    tx: &mut StoreTx,
    input: &MutualTlsAuthenticationInput,
) -> ServiceResult<Option<MutualTlsAuthentication>> {
    let Some(uri) = input.truststore_uri.as_deref().filter(|u| !u.is_empty()) else {
        return Ok(None);
    };
    let name = uri.strip_prefix(TRUSTSTORE_URI_SCHEME).ok_or_else(|| {
        ServiceError::invalid(
            "truststoreUri",
            format!("Invalid truststoreUri {uri}: use s3://NAME for a truststore uploaded with PUT /portico/truststores/NAME"),
        )
    })?;
    let stored = tx.get_truststore(name).await?.ok_or_else(|| {
        ServiceError::invalid(
            "truststoreUri",
            format!("No truststore {name}: upload it first with PUT /portico/truststores/{name}"),
        )
    })?;
    let current = &stored.truststore.truststore_version;
    if let Some(v) = input.truststore_version.as_deref()
        && v != current
    {
        return Err(ServiceError::invalid(
            "truststoreVersion",
            format!("Truststore {name} is at version {current}, not {v}"),
        ));
    }
    Ok(Some(MutualTlsAuthentication {
        truststore_uri: Some(uri.to_string()),
        truststore_version: Some(current.clone()),
        truststore_warnings: Vec::new(),
    }))
}

fn check_routing_mode(mode: Option<&str>) -> ServiceResult<()> {
    match mode {
        None | Some("API_MAPPING_ONLY") => Ok(()),
        Some(other) => Err(ServiceError::invalid(
            "routingMode",
            format!(
                "Invalid routingMode {other}: Portico routes by API mappings only (API_MAPPING_ONLY)"
            ),
        )),
    }
}

impl AdminService {
    pub async fn create_domain_name(
        &self,
        caller: &Caller,
        input: CreateDomainName,
    ) -> ServiceResult<DomainName> {
        allow(caller, Permission::EditApis)?;
        let name = validate_domain_name(&input.domain_name)?;
        check_routing_mode(input.routing_mode.as_deref())?;
        if let Some(t) = &input.tags {
            portico_model::validate_tags(t)?;
        }
        let (mut tx, version) = self.store.write().await?;
        let config = configuration(&mut tx, &name, &input.domain_name_configurations).await?;
        let mtls = match &input.mutual_tls_authentication {
            Some(m) => mutual_tls(&mut tx, m).await?,
            None => None,
        };
        if tx.get_domain_name(&name).await?.is_some() {
            return Err(ServiceError::Conflict(format!(
                "The domain name {name} already exists"
            )));
        }
        let domain = DomainName {
            domain_name_arn: domain_name_arn(&name),
            domain_name: name.clone(),
            api_mapping_selection_expression: API_MAPPING_SELECTION_EXPRESSION.into(),
            domain_name_configurations: vec![config],
            mutual_tls_authentication: mtls,
            tags: input.tags.unwrap_or_default(),
        };
        tx.insert_domain_name(&domain).await?;
        self.commit(
            tx,
            version,
            caller,
            Change::new("CreateDomainName", "domainname", name),
        )
        .await?;
        Ok(domain)
    }

    pub async fn get_domain_name(&self, caller: &Caller, name: &str) -> ServiceResult<DomainName> {
        allow(caller, Permission::Read)?;
        let mut tx = self.store.read().await?;
        tx.get_domain_name(&name.to_ascii_lowercase())
            .await?
            .ok_or_else(|| domain_not_found(name))
    }

    pub async fn list_domain_names(
        &self,
        caller: &Caller,
        params: ListParams,
    ) -> ServiceResult<Page<DomainName>> {
        allow(caller, Permission::Read)?;
        let limit = params.limit()?;
        let after = params.after()?;
        let mut tx = self.store.read().await?;
        let items = tx.list_domain_names(after.as_deref(), limit + 1).await?;
        Ok(page(items, limit, |d: &DomainName| &d.domain_name))
    }

    pub async fn update_domain_name(
        &self,
        caller: &Caller,
        name: &str,
        input: UpdateDomainName,
    ) -> ServiceResult<DomainName> {
        allow(caller, Permission::EditApis)?;
        check_routing_mode(input.routing_mode.as_deref())?;
        let name = name.to_ascii_lowercase();
        let (mut tx, version) = self.store.write().await?;
        let mut domain = tx
            .get_domain_name(&name)
            .await?
            .ok_or_else(|| domain_not_found(&name))?;
        if let Some(configs) = &input.domain_name_configurations {
            domain.domain_name_configurations = vec![configuration(&mut tx, &name, configs).await?];
        }
        if let Some(m) = &input.mutual_tls_authentication {
            domain.mutual_tls_authentication = mutual_tls(&mut tx, m).await?;
        }
        tx.update_domain_name(&domain).await?;
        self.commit(
            tx,
            version,
            caller,
            Change::new("UpdateDomainName", "domainname", name),
        )
        .await?;
        Ok(domain)
    }

    pub async fn delete_domain_name(&self, caller: &Caller, name: &str) -> ServiceResult<()> {
        allow(caller, Permission::EditApis)?;
        let name = name.to_ascii_lowercase();
        let (mut tx, version) = self.store.write().await?;
        if !tx.delete_domain_name(&name).await? {
            return Err(domain_not_found(&name));
        }
        self.commit(
            tx,
            version,
            caller,
            Change::new("DeleteDomainName", "domainname", name),
        )
        .await
    }

    /// The API and stage a mapping names must exist, and its key be free on the domain.
    async fn check_mapping(
        &self,
        tx: &mut StoreTx,
        domain: &str,
        mapping: &ApiMapping,
    ) -> ServiceResult<()> {
        validate_api_mapping_key(&mapping.api_mapping_key)?;
        if tx.get_api(&mapping.api_id).await?.is_none() {
            return Err(ServiceError::NotFound(format!(
                "Invalid API identifier specified {}",
                mapping.api_id
            )));
        }
        let stage: Option<portico_model::Stage> = tx
            .get(ResourceKind::Stage, &mapping.api_id, &mapping.stage)
            .await?;
        if stage.is_none() {
            return Err(ServiceError::NotFound(format!(
                "Invalid stage identifier specified {}",
                mapping.stage
            )));
        }
        let taken = tx
            .list_api_mappings(domain, None, u32::MAX >> 1)
            .await?
            .into_iter()
            .any(|m| {
                m.api_mapping_key == mapping.api_mapping_key
                    && m.api_mapping_id != mapping.api_mapping_id
            });
        if taken {
            return Err(ServiceError::Conflict(format!(
                "The API mapping key '{}' is already used on {domain}",
                mapping.api_mapping_key
            )));
        }
        Ok(())
    }

    pub async fn create_api_mapping(
        &self,
        caller: &Caller,
        domain: &str,
        input: CreateApiMapping,
    ) -> ServiceResult<ApiMapping> {
        allow(caller, Permission::EditApis)?;
        let domain = domain.to_ascii_lowercase();
        let mapping = ApiMapping {
            api_id: input.api_id,
            api_mapping_id: new_id(6),
            api_mapping_key: input.api_mapping_key.unwrap_or_default(),
            stage: input.stage,
        };
        validate_api_mapping_key(&mapping.api_mapping_key)?;
        let (mut tx, version) = self.store.write().await?;
        if tx.get_domain_name(&domain).await?.is_none() {
            return Err(domain_not_found(&domain));
        }
        self.check_mapping(&mut tx, &domain, &mapping).await?;
        tx.upsert_api_mapping(&domain, &mapping).await?;
        let id = format!("{domain}/{}", mapping.api_mapping_id);
        self.commit(
            tx,
            version,
            caller,
            Change::new("CreateApiMapping", "apimapping", id),
        )
        .await?;
        Ok(mapping)
    }

    pub async fn get_api_mapping(
        &self,
        caller: &Caller,
        domain: &str,
        id: &str,
    ) -> ServiceResult<ApiMapping> {
        allow(caller, Permission::Read)?;
        let domain = domain.to_ascii_lowercase();
        let mut tx = self.store.read().await?;
        if tx.get_domain_name(&domain).await?.is_none() {
            return Err(domain_not_found(&domain));
        }
        tx.get_api_mapping(&domain, id)
            .await?
            .ok_or_else(|| mapping_not_found(id))
    }

    pub async fn list_api_mappings(
        &self,
        caller: &Caller,
        domain: &str,
        params: ListParams,
    ) -> ServiceResult<Page<ApiMapping>> {
        allow(caller, Permission::Read)?;
        let domain = domain.to_ascii_lowercase();
        let limit = params.limit()?;
        let after = params.after()?;
        let mut tx = self.store.read().await?;
        if tx.get_domain_name(&domain).await?.is_none() {
            return Err(domain_not_found(&domain));
        }
        let items = tx
            .list_api_mappings(&domain, after.as_deref(), limit + 1)
            .await?;
        Ok(page(items, limit, |m: &ApiMapping| &m.api_mapping_id))
    }

    pub async fn update_api_mapping(
        &self,
        caller: &Caller,
        domain: &str,
        id: &str,
        input: UpdateApiMapping,
    ) -> ServiceResult<ApiMapping> {
        allow(caller, Permission::EditApis)?;
        let domain = domain.to_ascii_lowercase();
        let (mut tx, version) = self.store.write().await?;
        let mut mapping = tx
            .get_api_mapping(&domain, id)
            .await?
            .ok_or_else(|| mapping_not_found(id))?;
        mapping.api_id = input.api_id;
        if let Some(key) = input.api_mapping_key {
            mapping.api_mapping_key = key;
        }
        if let Some(stage) = input.stage {
            mapping.stage = stage;
        }
        self.check_mapping(&mut tx, &domain, &mapping).await?;
        tx.upsert_api_mapping(&domain, &mapping).await?;
        let change = Change::new("UpdateApiMapping", "apimapping", format!("{domain}/{id}"));
        self.commit(tx, version, caller, change).await?;
        Ok(mapping)
    }

    pub async fn delete_api_mapping(
        &self,
        caller: &Caller,
        domain: &str,
        id: &str,
    ) -> ServiceResult<()> {
        allow(caller, Permission::EditApis)?;
        let domain = domain.to_ascii_lowercase();
        let (mut tx, version) = self.store.write().await?;
        if !tx.delete_api_mapping(&domain, id).await? {
            return Err(mapping_not_found(id));
        }
        let change = Change::new("DeleteApiMapping", "apimapping", format!("{domain}/{id}"));
        self.commit(tx, version, caller, change).await
    }

    /// Uploads (or replaces) a truststore. Domains that use it serve the new bundle at
    /// the next snapshot.
    pub async fn put_truststore(
        &self,
        caller: &Caller,
        name: &str,
        bundle_pem: String,
    ) -> ServiceResult<Truststore> {
        allow(caller, Permission::EditApis)?;
        validate_truststore_name(name)?;
        tls::client_roots(&bundle_pem)
            .map_err(|e| ServiceError::invalid("truststore", e.to_string()))?;
        let certs = tls::certificates(&bundle_pem)
            .map_err(|e| ServiceError::invalid("truststore", e.to_string()))?;
        let subjects = certs
            .iter()
            .map(|der| {
                X509Certificate::from_der(der)
                    .map(|(_, c)| c.subject().to_string())
                    .unwrap_or_else(|_| "(unreadable)".into())
            })
            .collect();
        let digest = hex::encode(Sha256::digest(bundle_pem.as_bytes()));
        let truststore = Truststore {
            name: name.to_string(),
            truststore_uri: format!("{TRUSTSTORE_URI_SCHEME}{name}"),
            truststore_version: digest[..16].to_string(),
            certificates: certs.len(),
            subjects,
            updated_date: now(),
        };
        let (mut tx, version) = self.store.write().await?;
        tx.upsert_truststore(&StoredTruststore {
            truststore: truststore.clone(),
            bundle_pem,
        })
        .await?;
        // Domains show the version they serve.
        for d in tx.domains_using_truststore(name).await? {
            if let Some(mut domain) = tx.get_domain_name(&d).await? {
                if let Some(m) = domain.mutual_tls_authentication.as_mut() {
                    m.truststore_version = Some(truststore.truststore_version.clone());
                }
                tx.update_domain_name(&domain).await?;
            }
        }
        self.commit(
            tx,
            version,
            caller,
            Change::new("PutTruststore", "truststore", name.into()),
        )
        .await?;
        Ok(truststore)
    }

    pub async fn get_truststore(&self, caller: &Caller, name: &str) -> ServiceResult<Truststore> {
        allow(caller, Permission::Read)?;
        let mut tx = self.store.read().await?;
        tx.get_truststore(name)
            .await?
            .map(|t| t.truststore)
            .ok_or_else(|| ServiceError::NotFound(format!("No truststore {name}")))
    }

    pub async fn list_truststores(&self, caller: &Caller) -> ServiceResult<Vec<Truststore>> {
        allow(caller, Permission::Read)?;
        let mut tx = self.store.read().await?;
        Ok(tx.list_truststores().await?)
    }

    pub async fn delete_truststore(&self, caller: &Caller, name: &str) -> ServiceResult<()> {
        allow(caller, Permission::EditApis)?;
        let (mut tx, version) = self.store.write().await?;
        let users = tx.domains_using_truststore(name).await?;
        if !users.is_empty() {
            return Err(ServiceError::Conflict(format!(
                "Truststore {name} is used by {}; change their mutual TLS first",
                users.join(", ")
            )));
        }
        if !tx.delete_truststore(name).await? {
            return Err(ServiceError::NotFound(format!("No truststore {name}")));
        }
        self.commit(
            tx,
            version,
            caller,
            Change::new("DeleteTruststore", "truststore", name.into()),
        )
        .await
    }
}
