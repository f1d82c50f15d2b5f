//! VPC links and the private targets behind them. The link itself is AWS's (`CreateVpcLink`
//! and its shapes, "Working with VPC links for HTTP APIs",
//! https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-vpc-links.html);
//! what AWS keeps in a load balancer or Cloud Map behind the link (the targets, their
//! health check, how load is spread) is Portico's own, under `/portico/vpclinks/{id}/targets`.
//! A link's `subnetIds` name the node groups (`portico-proxy --vpc-link-group`) that can
//! reach its targets.
use std::collections::BTreeMap;
use std::net::IpAddr;

use serde::{Deserialize, Serialize};

use crate::ValidationError;

pub const VPC_LINK_AVAILABLE: &str = "AVAILABLE";
pub const VPC_LINK_VERSION: &str = "V2";
/// AWS's message for a link that can carry traffic.
pub const VPC_LINK_READY_MESSAGE: &str = "VPC link is ready to route traffic";
pub const CONNECTION_INTERNET: &str = "INTERNET";
pub const CONNECTION_VPC_LINK: &str = "VPC_LINK";

pub const LOAD_BALANCING_ROUND_ROBIN: &str = "ROUND_ROBIN";
pub const LOAD_BALANCING_LEAST_REQUEST: &str = "LEAST_REQUEST";
pub const HEALTH_CHECK_HTTP: &str = "HTTP";
pub const HEALTH_CHECK_HTTPS: &str = "HTTPS";

/// Targets one link may have, and the weight range (as an ALB's target-group weights).
pub const MAX_TARGETS: usize = 100;
pub const MAX_WEIGHT: u32 = 999;
/// Subnets (node groups) and security groups a link may name.
pub const MAX_GROUPS: usize = 16;

/// How a node reports a target it has not checked yet, one that passes its checks, one
/// that failed them, and one taken out for a while after failed requests.
pub const TARGET_UNKNOWN: &str = "UNKNOWN";
pub const TARGET_HEALTHY: &str = "HEALTHY";
pub const TARGET_UNHEALTHY: &str = "UNHEALTHY";
pub const TARGET_EJECTED: &str = "EJECTED";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VpcLink {
    pub vpc_link_id: String,
    pub name: String,
    pub subnet_ids: Vec<String>,
    pub security_group_ids: Vec<String>,
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    pub created_date: String,
    pub vpc_link_status: String,
    pub vpc_link_status_message: String,
    pub vpc_link_version: String,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateVpcLink {
    pub name: Option<String>,
    pub subnet_ids: Option<Vec<String>>,
    pub security_group_ids: Option<Vec<String>>,
    pub tags: Option<BTreeMap<String, String>>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UpdateVpcLink {
    pub name: Option<String>,
}

pub fn validate_vpc_link_name(name: &str) -> Result<(), ValidationError> {
    if name.is_empty() || name.chars().count() > 128 {
        return Err(ValidationError::new(
            "name",
            "name must be between 1 and 128 characters",
        ));
    }
    Ok(())
}

/// A node group (a subnet id) or a security group id: what `--vpc-link-group` takes.
pub fn validate_group_name(field: &'static str, name: &str) -> Result<(), ValidationError> {
    let ok = !name.is_empty()
        && name.len() <= 128
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._:-".contains(c));
    if !ok {
        return Err(ValidationError::new(
            field,
            format!(
                "Invalid {field} entry '{name}': use 1 to 128 letters, digits and . _ : - (e.g. subnet-0a1b2c or private-east)"
            ),
        ));
    }
    Ok(())
}

fn validate_groups(
    field: &'static str,
    ids: &[String],
    required: bool,
) -> Result<(), ValidationError> {
    if required && ids.is_empty() {
        return Err(ValidationError::new(
            field,
            format!("{field} must name at least one subnet (a node group)"),
        ));
    }
    if ids.len() > MAX_GROUPS {
        return Err(ValidationError::new(
            field,
            format!(
                "{field} takes at most {MAX_GROUPS} entries, got {}",
                ids.len()
            ),
        ));
    }
    for (i, id) in ids.iter().enumerate() {
        validate_group_name(field, id)?;
        if ids[..i].contains(id) {
            return Err(ValidationError::new(
                field,
                format!("{field} names '{id}' twice"),
            ));
        }
    }
    Ok(())
}

/// The checked fields of a `CreateVpcLink` (tags are checked by `validate_tags`).
pub fn validate_create_vpc_link(
    input: &CreateVpcLink,
) -> Result<(String, Vec<String>, Vec<String>), ValidationError> {
    let name = input
        .name
        .as_deref()
        .ok_or_else(|| ValidationError::new("name", "name is required"))?;
    validate_vpc_link_name(name)?;
    let subnets = input.subnet_ids.clone().ok_or_else(|| {
        ValidationError::new(
            "subnetIds",
            "subnetIds is required: the node groups that can reach the link's targets",
        )
    })?;
    validate_groups("subnetIds", &subnets, true)?;
    let security_groups = input.security_group_ids.clone().unwrap_or_default();
    validate_groups("securityGroupIds", &security_groups, false)?;
    Ok((name.to_string(), subnets, security_groups))
}

/// A link's private targets and how nodes check and balance them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VpcLinkTargets {
    pub targets: Vec<VpcLinkTarget>,
    pub health_check: HealthCheck,
    pub load_balancing: String,
    pub passive_ejection: PassiveEjection,
    /// PEM CA certificates that https targets' certificates must chain to; without it,
    /// the public web PKI roots.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_bundle_pem: Option<String>,
}

impl Default for VpcLinkTargets {
    fn default() -> Self {
        VpcLinkTargets {
            targets: Vec::new(),
            health_check: HealthCheck::default(),
            load_balancing: LOAD_BALANCING_ROUND_ROBIN.into(),
            passive_ejection: PassiveEjection::default(),
            ca_bundle_pem: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VpcLinkTarget {
    /// `host:port`: an IP address or a DNS name, re-resolved on a schedule.
    pub address: String,
    pub weight: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HealthCheck {
    pub protocol: String,
    pub path: String,
    pub interval_seconds: u32,
    pub timeout_seconds: u32,
    pub healthy_threshold: u32,
    pub unhealthy_threshold: u32,
}

impl Default for HealthCheck {
    fn default() -> Self {
        HealthCheck {
            protocol: HEALTH_CHECK_HTTP.into(),
            path: "/".into(),
            interval_seconds: 5,
            timeout_seconds: 2,
            healthy_threshold: 2,
            unhealthy_threshold: 2,
        }
    }
}

/// Requests themselves take a target out: at once when it refuses or drops connections,
/// after `consecutive5xx` 5xx answers in a row; for `baseEjectionSeconds`, doubling with
/// each ejection in a row up to `maxEjectionSeconds`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PassiveEjection {
    #[serde(rename = "consecutive5xx")]
    pub consecutive_5xx: u32,
    pub base_ejection_seconds: u32,
    pub max_ejection_seconds: u32,
}

impl Default for PassiveEjection {
    fn default() -> Self {
        PassiveEjection {
            consecutive_5xx: 3,
            base_ejection_seconds: 10,
            max_ejection_seconds: 300,
        }
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PutVpcLinkTargets {
    pub targets: Option<Vec<VpcLinkTargetInput>>,
    pub health_check: Option<HealthCheckInput>,
    pub load_balancing: Option<String>,
    pub passive_ejection: Option<PassiveEjectionInput>,
    pub ca_bundle_pem: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct VpcLinkTargetInput {
    pub address: Option<String>,
    pub weight: Option<u32>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct HealthCheckInput {
    pub protocol: Option<String>,
    pub path: Option<String>,
    pub interval_seconds: Option<u32>,
    pub timeout_seconds: Option<u32>,
    pub healthy_threshold: Option<u32>,
    pub unhealthy_threshold: Option<u32>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PassiveEjectionInput {
    #[serde(rename = "consecutive5xx")]
    pub consecutive_5xx: Option<u32>,
    pub base_ejection_seconds: Option<u32>,
    pub max_ejection_seconds: Option<u32>,
}

/// A target's address split into host and port; the host is an IP address or a DNS name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetAddress {
    pub host: String,
    pub port: u16,
    /// Set when the host is an IP address: nothing to resolve.
    pub ip: Option<IpAddr>,
}

/// The canonical spelling (`10.0.1.5:80`, `[::1]:80`, `orders.internal:80`), which the
/// admin API stores and nodes report.
impl std::fmt::Display for TargetAddress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.ip {
            Some(ip) => std::net::SocketAddr::new(ip, self.port).fmt(f),
            None => write!(f, "{}:{}", self.host, self.port),
        }
    }
}

impl TargetAddress {
    pub fn parse(address: &str) -> Result<Self, String> {
        let (host, port) = if let Some(rest) = address.strip_prefix('[') {
            let (ip, port) = rest
                .split_once("]:")
                .ok_or("an IPv6 address is written [addr]:port")?;
            (ip, port)
        } else {
            address
                .rsplit_once(':')
                .ok_or("use host:port (e.g. 10.0.1.5:8080 or orders.internal:80)")?
        };
        let port: u16 = port
            .parse()
            .ok()
            .filter(|p| *p != 0)
            .ok_or("the port must be a number from 1 to 65535")?;
        if let Ok(ip) = host.parse::<IpAddr>() {
            if address.starts_with('[') != ip.is_ipv6() {
                return Err("an IPv6 address is written [addr]:port".into());
            }
            return Ok(TargetAddress {
                host: host.to_string(),
                port,
                ip: Some(ip),
            });
        }
        if !is_dns_name(host) {
            return Err(format!("'{host}' is neither an IP address nor a DNS name"));
        }
        Ok(TargetAddress {
            host: host.to_ascii_lowercase(),
            port,
            ip: None,
        })
    }
}

/// Letters, digits and hyphens in dot-separated labels of up to 63, 253 in all; a label
/// does not start or end with a hyphen. (`_` is allowed too: SRV-style service names.)
pub fn is_dns_name(host: &str) -> bool {
    let host = host.strip_suffix('.').unwrap_or(host);
    !host.is_empty()
        && host.len() <= 253
        && host.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        })
        // A name of digits and dots only is a malformed IPv4 address, not a host name.
        && !host.chars().all(|c| c.is_ascii_digit() || c == '.')
}

fn range(field: &'static str, value: u32, min: u32, max: u32) -> Result<u32, ValidationError> {
    if !(min..=max).contains(&value) {
        return Err(ValidationError::new(
            field,
            format!("{field} must be between {min} and {max}, got {value}"),
        ));
    }
    Ok(value)
}

/// Checks and defaults a `PUT /portico/vpclinks/{id}/targets` body. The CA bundle's PEM is
/// checked by the control plane, which parses certificates.
pub fn validate_vpc_link_targets(
    input: &PutVpcLinkTargets,
) -> Result<VpcLinkTargets, ValidationError> {
    let given = input.targets.as_deref().ok_or_else(|| {
        ValidationError::new(
            "targets",
            "targets is required: [{\"address\":\"host:port\",\"weight\":1}, …] (an empty list leaves the link without targets)",
        )
    })?;
    if given.len() > MAX_TARGETS {
        return Err(ValidationError::new(
            "targets",
            format!(
                "A link has at most {MAX_TARGETS} targets, got {}",
                given.len()
            ),
        ));
    }
    let mut targets: Vec<VpcLinkTarget> = Vec::with_capacity(given.len());
    for (i, t) in given.iter().enumerate() {
        let address = t.address.as_deref().ok_or_else(|| {
            ValidationError::new(
                "targets",
                format!("targets[{i}].address is required (host:port)"),
            )
        })?;
        let parsed = TargetAddress::parse(address).map_err(|why| {
            ValidationError::new(
                "targets",
                format!("Invalid targets[{i}].address '{address}': {why}"),
            )
        })?;
        let address = parsed.to_string();
        if targets.iter().any(|t| t.address == address) {
            return Err(ValidationError::new(
                "targets",
                format!("targets names {address} twice"),
            ));
        }
        let weight = t.weight.unwrap_or(1);
        if !(1..=MAX_WEIGHT).contains(&weight) {
            return Err(ValidationError::new(
                "targets",
                format!("targets[{i}].weight must be between 1 and {MAX_WEIGHT}, got {weight}"),
            ));
        }
        targets.push(VpcLinkTarget { address, weight });
    }

    let defaults = HealthCheck::default();
    let hc = input.health_check.clone().unwrap_or_default();
    let protocol = hc.protocol.unwrap_or(defaults.protocol);
    if protocol != HEALTH_CHECK_HTTP && protocol != HEALTH_CHECK_HTTPS {
        return Err(ValidationError::new(
            "healthCheck.protocol",
            format!("Invalid healthCheck.protocol '{protocol}': use HTTP or HTTPS"),
        ));
    }
    let path = hc.path.unwrap_or(defaults.path);
    if !path.starts_with('/')
        || path.len() > 1024
        || path.parse::<http::uri::PathAndQuery>().is_err()
    {
        return Err(ValidationError::new(
            "healthCheck.path",
            format!("Invalid healthCheck.path '{path}': a path starting with / (e.g. /health)"),
        ));
    }
    let interval = range(
        "healthCheck.intervalSeconds",
        hc.interval_seconds.unwrap_or(defaults.interval_seconds),
        1,
        300,
    )?;
    let timeout = range(
        "healthCheck.timeoutSeconds",
        hc.timeout_seconds.unwrap_or(defaults.timeout_seconds),
        1,
        120,
    )?;
    if timeout >= interval {
        return Err(ValidationError::new(
            "healthCheck.timeoutSeconds",
            format!(
                "healthCheck.timeoutSeconds ({timeout}) must be less than healthCheck.intervalSeconds ({interval})"
            ),
        ));
    }
    let health_check = HealthCheck {
        protocol,
        path,
        interval_seconds: interval,
        timeout_seconds: timeout,
        healthy_threshold: range(
            "healthCheck.healthyThreshold",
            hc.healthy_threshold.unwrap_or(defaults.healthy_threshold),
            1,
            10,
        )?,
        unhealthy_threshold: range(
            "healthCheck.unhealthyThreshold",
            hc.unhealthy_threshold
                .unwrap_or(defaults.unhealthy_threshold),
            1,
            10,
        )?,
    };

    let load_balancing = input
        .load_balancing
        .clone()
        .unwrap_or_else(|| LOAD_BALANCING_ROUND_ROBIN.into());
    if load_balancing != LOAD_BALANCING_ROUND_ROBIN
        && load_balancing != LOAD_BALANCING_LEAST_REQUEST
    {
        return Err(ValidationError::new(
            "loadBalancing",
            format!("Invalid loadBalancing '{load_balancing}': use ROUND_ROBIN or LEAST_REQUEST"),
        ));
    }

    let defaults = PassiveEjection::default();
    let pe = input.passive_ejection.clone().unwrap_or_default();
    let base = range(
        "passiveEjection.baseEjectionSeconds",
        pe.base_ejection_seconds
            .unwrap_or(defaults.base_ejection_seconds),
        1,
        3600,
    )?;
    let max = range(
        "passiveEjection.maxEjectionSeconds",
        pe.max_ejection_seconds
            .unwrap_or(defaults.max_ejection_seconds.max(base)),
        1,
        3600,
    )?;
    if max < base {
        return Err(ValidationError::new(
            "passiveEjection.maxEjectionSeconds",
            format!(
                "passiveEjection.maxEjectionSeconds ({max}) must be at least baseEjectionSeconds ({base})"
            ),
        ));
    }
    let passive_ejection = PassiveEjection {
        consecutive_5xx: range(
            "passiveEjection.consecutive5xx",
            pe.consecutive_5xx.unwrap_or(defaults.consecutive_5xx),
            1,
            100,
        )?,
        base_ejection_seconds: base,
        max_ejection_seconds: max,
    };

    let ca_bundle_pem = match input.ca_bundle_pem.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(pem) if pem.contains("-----BEGIN CERTIFICATE-----") => Some(pem.to_string()),
        Some(_) => {
            return Err(ValidationError::new(
                "caBundlePem",
                "caBundlePem must hold PEM certificates (-----BEGIN CERTIFICATE-----)",
            ));
        }
    };

    Ok(VpcLinkTargets {
        targets,
        health_check,
        load_balancing,
        passive_ejection,
        ca_bundle_pem,
    })
}

/// One target endpoint's health as one node sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TargetHealth {
    pub node_id: String,
    /// The target as configured (`orders.internal:80`).
    pub target: String,
    /// The address it resolved to and is checked at (`10.0.1.5:80`).
    pub endpoint: String,
    /// `UNKNOWN`, `HEALTHY`, `UNHEALTHY` or `EJECTED`.
    pub state: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub reason: String,
    /// RFC 3339: when the node last reported this endpoint.
    pub updated: String,
}

/// `GET /portico/vpclinks/{id}/targets`: the targets as configured, and their health as
/// every node that can reach the link last reported it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VpcLinkTargetsView {
    pub vpc_link_id: String,
    #[serde(flatten)]
    pub config: VpcLinkTargets,
    #[serde(default)]
    pub health: Vec<TargetHealth>,
}

/// What a private integration's `integrationUri` names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PrivateIntegrationUri {
    /// `http(s)://host[:port]/path`: the host is sent as `Host` (and SNI); the connection
    /// goes to one of the link's targets.
    Url,
    /// An ELB listener ARN (`arn:aws:elasticloadbalancing:REGION:ACCOUNT:listener/app|net/…`)
    /// or a Cloud Map service ARN (`arn:aws:servicediscovery:REGION:ACCOUNT:service/srv-…`):
    /// on Portico both name the link's targets, and the client's path is sent as is.
    Arn,
}

impl PrivateIntegrationUri {
    pub fn parse(uri: &str) -> Result<Self, ValidationError> {
        if uri.starts_with("http://") || uri.starts_with("https://") {
            crate::UriTemplate::parse(uri)?;
            return Ok(PrivateIntegrationUri::Url);
        }
        let bad = || {
            ValidationError::new(
                "integrationUri",
                format!(
                    "Invalid integrationUri '{uri}' for a VPC_LINK integration: use an http(s):// URL, \
                     an ELB listener ARN (arn:aws:elasticloadbalancing:REGION:ACCOUNT:listener/app/NAME/ID/ID) \
                     or a Cloud Map service ARN (arn:aws:servicediscovery:REGION:ACCOUNT:service/srv-ID)"
                ),
            )
        };
        let parts: Vec<&str> = uri.splitn(6, ':').collect();
        let ["arn", partition, service, region, account, resource] = parts.as_slice() else {
            return Err(bad());
        };
        let region_ok = !region.is_empty()
            && region
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        let account_ok = account.len() == 12 && account.chars().all(|c| c.is_ascii_digit());
        if !matches!(*partition, "aws" | "aws-cn" | "aws-us-gov") || !region_ok || !account_ok {
            return Err(bad());
        }
        let segments: Vec<&str> = resource.split('/').collect();
        let ok = match (*service, segments.as_slice()) {
            ("elasticloadbalancing", ["listener", "app" | "net", name, lb, listener]) => {
                [name, lb, listener].iter().all(|s| !s.is_empty())
            }
            ("servicediscovery", ["service", id]) => id.starts_with("srv-") && id.len() > 4,
            _ => false,
        };
        if ok {
            Ok(PrivateIntegrationUri::Arn)
        } else {
            Err(bad())
        }
    }
}

/// An integration's `tlsConfig`: with it, private integration traffic is HTTPS, and the
/// target's certificate must name `serverNameToVerify`, which is also the SNI.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TlsConfig {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_name_to_verify: Option<String>,
}

pub fn validate_tls_config(tls: &TlsConfig) -> Result<(), ValidationError> {
    if let Some(name) = &tls.server_name_to_verify
        && (name.len() > 512 || !is_dns_name(name.trim_start_matches("*.")))
    {
        return Err(ValidationError::new(
            "tlsConfig",
            format!(
                "Invalid tlsConfig.serverNameToVerify '{name}': a DNS name such as orders.internal.example.com"
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn targets(json: &str) -> Result<VpcLinkTargets, ValidationError> {
        validate_vpc_link_targets(&serde_json::from_str(json).expect("json"))
    }

    #[test]
    fn targets_default_and_normalise() {
        let t = targets(r#"{"targets":[{"address":"10.0.0.1:80"},{"address":"Orders.Internal:8080","weight":3},{"address":"[::1]:9000"}]}"#)
            .expect("valid");
        assert_eq!(t.targets[0].weight, 1);
        assert_eq!(t.targets[1].address, "orders.internal:8080");
        assert_eq!(t.targets[2].address, "[::1]:9000");
        assert_eq!(t.health_check, HealthCheck::default());
        assert_eq!(t.load_balancing, "ROUND_ROBIN");
        assert_eq!(t.passive_ejection, PassiveEjection::default());
        assert!(targets(r#"{"targets":[]}"#).is_ok());
    }

    #[test]
    fn each_bad_field_is_named() {
        for (body, field, fragment) in [
            (r#"{}"#, "targets", "required"),
            (
                r#"{"targets":[{"weight":1}]}"#,
                "targets",
                "targets[0].address is required",
            ),
            (
                r#"{"targets":[{"address":"10.0.0.1"}]}"#,
                "targets",
                "host:port",
            ),
            (
                r#"{"targets":[{"address":"10.0.0.1:0"}]}"#,
                "targets",
                "1 to 65535",
            ),
            (
                r#"{"targets":[{"address":"10.0.0.1:http"}]}"#,
                "targets",
                "1 to 65535",
            ),
            (
                r#"{"targets":[{"address":"::1:80"}]}"#,
                "targets",
                "[addr]:port",
            ),
            (
                r#"{"targets":[{"address":"bad host:80"}]}"#,
                "targets",
                "neither",
            ),
            (
                r#"{"targets":[{"address":"300.1.1.1:80"}]}"#,
                "targets",
                "neither",
            ),
            (
                r#"{"targets":[{"address":"a:1"},{"address":"A:1"}]}"#,
                "targets",
                "twice",
            ),
            (
                r#"{"targets":[{"address":"a:1","weight":0}]}"#,
                "targets",
                "targets[0].weight",
            ),
            (
                r#"{"targets":[],"healthCheck":{"path":"health"}}"#,
                "healthCheck.path",
                "starting with /",
            ),
            (
                r#"{"targets":[],"healthCheck":{"protocol":"TCP"}}"#,
                "healthCheck.protocol",
                "HTTP or HTTPS",
            ),
            (
                r#"{"targets":[],"healthCheck":{"intervalSeconds":0}}"#,
                "healthCheck.intervalSeconds",
                "between 1 and 300",
            ),
            (
                r#"{"targets":[],"healthCheck":{"intervalSeconds":5,"timeoutSeconds":5}}"#,
                "healthCheck.timeoutSeconds",
                "less than",
            ),
            (
                r#"{"targets":[],"healthCheck":{"healthyThreshold":11}}"#,
                "healthCheck.healthyThreshold",
                "between 1 and 10",
            ),
            (
                r#"{"targets":[],"healthCheck":{"unhealthyThreshold":0}}"#,
                "healthCheck.unhealthyThreshold",
                "between 1 and 10",
            ),
            (
                r#"{"targets":[],"loadBalancing":"RANDOM"}"#,
                "loadBalancing",
                "ROUND_ROBIN or LEAST_REQUEST",
            ),
            (
                r#"{"targets":[],"passiveEjection":{"consecutive5xx":0}}"#,
                "passiveEjection.consecutive5xx",
                "between 1 and 100",
            ),
            (
                r#"{"targets":[],"passiveEjection":{"baseEjectionSeconds":60,"maxEjectionSeconds":30}}"#,
                "passiveEjection.maxEjectionSeconds",
                "at least",
            ),
            (
                r#"{"targets":[],"caBundlePem":"nope"}"#,
                "caBundlePem",
                "PEM",
            ),
        ] {
            let err = targets(body).expect_err(body);
            assert_eq!(err.field, field, "{body}: {err}");
            assert!(err.message.contains(fragment), "{body}: {err}");
        }
        let unknown = serde_json::from_str::<PutVpcLinkTargets>(r#"{"targets":[],"nope":1}"#);
        assert!(unknown.is_err());
    }

    #[test]
    fn links_need_a_name_and_a_group() {
        let ok = validate_create_vpc_link(&CreateVpcLink {
            name: Some("orders".into()),
            subnet_ids: Some(vec!["subnet-a".into(), "private-east".into()]),
            ..Default::default()
        })
        .expect("valid");
        assert_eq!(ok.1, ["subnet-a", "private-east"]);
        for (input, field) in [
            (CreateVpcLink::default(), "name"),
            (
                CreateVpcLink {
                    name: Some("x".into()),
                    ..Default::default()
                },
                "subnetIds",
            ),
            (
                CreateVpcLink {
                    name: Some("x".into()),
                    subnet_ids: Some(vec![]),
                    ..Default::default()
                },
                "subnetIds",
            ),
            (
                CreateVpcLink {
                    name: Some("x".into()),
                    subnet_ids: Some(vec!["a b".into()]),
                    ..Default::default()
                },
                "subnetIds",
            ),
            (
                CreateVpcLink {
                    name: Some("x".into()),
                    subnet_ids: Some(vec!["a".into()]),
                    security_group_ids: Some(vec!["sg-1".into(), "sg-1".into()]),
                    ..Default::default()
                },
                "securityGroupIds",
            ),
            (
                CreateVpcLink {
                    name: Some("".into()),
                    subnet_ids: Some(vec!["a".into()]),
                    ..Default::default()
                },
                "name",
            ),
        ] {
            assert_eq!(
                validate_create_vpc_link(&input).expect_err("bad").field,
                field
            );
        }
    }

    /// https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-integrations-private.html
    #[test]
    fn private_integration_uris() {
        for uri in [
            "http://orders.internal/v1/{proxy}",
            "https://orders.internal:8443",
            "arn:aws:elasticloadbalancing:us-east-2:123456789012:listener/app/my-load-balancer/50dc6c495c0c9188/0467ef3c8400ae65",
            "arn:aws:elasticloadbalancing:eu-west-1:123456789012:listener/net/my-nlb/1234/5678",
            "arn:aws:servicediscovery:us-east-2:123456789012:service/srv-0a1b2c3d4e5f",
        ] {
            assert!(PrivateIntegrationUri::parse(uri).is_ok(), "{uri}");
        }
        for uri in [
            "orders.internal",
            "arn:aws:lambda:us-east-1:123456789012:function:f",
            "arn:aws:elasticloadbalancing:us-east-2:123456789012:loadbalancer/app/x/1",
            "arn:aws:elasticloadbalancing:us-east-2:1234:listener/app/x/1/2",
            "arn:aws:servicediscovery:us-east-2:123456789012:service/",
            "ftp://h",
        ] {
            let err = PrivateIntegrationUri::parse(uri).expect_err(uri);
            assert_eq!(err.field, "integrationUri", "{uri}");
        }
    }

    #[test]
    fn tls_server_names() {
        let name = |n: &str| TlsConfig {
            server_name_to_verify: Some(n.into()),
        };
        assert!(validate_tls_config(&name("orders.example.com")).is_ok());
        assert!(validate_tls_config(&TlsConfig::default()).is_ok());
        assert!(validate_tls_config(&name("bad name")).is_err());
        assert!(validate_tls_config(&name("")).is_err());
    }
}
