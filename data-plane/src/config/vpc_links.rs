//! VPC links as a snapshot describes them, compiled against the node's runtime: each
//! link this node reaches gets its running state (endpoints, health, balancer) from the
//! registry, and a TLS client config with the link's CA bundle (or the web PKI's roots).
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use hyper_rustls::ConfigBuilderExt as _;
use portico_model::TargetAddress;
use portico_proto::{LoadBalancing, VpcLink};
use rustls::{ClientConfig, RootCertStore};

use crate::runtime::vpc_links::{LinkRuntime, LinkSettings, VpcLinkRegistry};
use crate::upstream::balancer::Policy;
use crate::upstream::health::{Ejection, Thresholds};

#[derive(Debug)]
pub struct CompiledVpcLink {
    pub id: String,
    /// `None` when this node is outside every group of the link: its routes answer 503
    /// rather than trying.
    pub runtime: Option<Arc<LinkRuntime>>,
    pub tls: Arc<ClientConfig>,
}

pub type VpcLinks = HashMap<String, Arc<CompiledVpcLink>>;

/// Compiles every link; an error names the link and what is wrong with it.
pub fn compile(
    links: &[VpcLink],
    registry: &VpcLinkRegistry,
) -> Result<VpcLinks, (String, String)> {
    let mut out = HashMap::with_capacity(links.len());
    let mut running = HashSet::new();
    for link in links {
        let fail = |reason: String| (link.vpc_link_id.clone(), reason);
        let tls = Arc::new(client_config(&link.ca_bundle_pem).map_err(fail)?);
        let runtime = if registry.reaches(&link.groups) {
            let settings = settings(link, tls.clone()).map_err(fail)?;
            running.insert(link.vpc_link_id.as_str());
            Some(registry.link(&link.vpc_link_id, settings))
        } else {
            None
        };
        let compiled = CompiledVpcLink {
            id: link.vpc_link_id.clone(),
            runtime,
            tls,
        };
        if out
            .insert(link.vpc_link_id.clone(), Arc::new(compiled))
            .is_some()
        {
            return Err(fail("the snapshot lists it twice".into()));
        }
    }
    registry.retain(&running);
    Ok(out)
}

fn client_config(ca_bundle_pem: &str) -> Result<ClientConfig, String> {
    let builder =
        ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .map_err(|e| e.to_string())?;
    let mut config = if ca_bundle_pem.trim().is_empty() {
        builder.with_webpki_roots().with_no_client_auth()
    } else {
        let mut roots = RootCertStore::empty();
        let certs = super::tls::certificates(ca_bundle_pem).map_err(|e| e.to_string())?;
        for cert in certs {
            roots
                .add(cert)
                .map_err(|e| format!("invalid CA certificate: {e}"))?;
        }
        builder.with_root_certificates(roots).with_no_client_auth()
    };
    // HTTP/1.1 only, as AWS speaks to HTTP integrations.
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
}

fn settings(link: &VpcLink, tls: Arc<ClientConfig>) -> Result<LinkSettings, String> {
    let mut targets = Vec::with_capacity(link.targets.len());
    for t in &link.targets {
        let address = TargetAddress::parse(&t.address)
            .map_err(|why| format!("target '{}': {why}", t.address))?;
        targets.push((address, t.weight.max(1)));
    }
    let hc = link.health_check.clone().unwrap_or_default();
    let pe = link.passive_ejection.unwrap_or_default();
    let secs = |s: u32, default: u64| Duration::from_secs(if s == 0 { default } else { s.into() });
    let path = if hc.path.starts_with('/') {
        hc.path.clone()
    } else {
        "/".to_string()
    };
    let base = secs(pe.base_ejection_seconds, 10);
    Ok(LinkSettings {
        targets,
        policy: match LoadBalancing::try_from(link.load_balancing) {
            Ok(LoadBalancing::LeastRequest) => Policy::LeastRequest,
            Ok(LoadBalancing::RoundRobin) => Policy::RoundRobin,
            Err(_) => return Err(format!("unknown load balancing {}", link.load_balancing)),
        },
        https_checks: hc.https,
        check_path: path,
        interval: secs(hc.interval_seconds, 5),
        timeout: secs(hc.timeout_seconds, 2),
        thresholds: Thresholds {
            healthy: hc.healthy_threshold.max(1),
            unhealthy: hc.unhealthy_threshold.max(1),
        },
        ejection: Ejection {
            consecutive_5xx: pe.consecutive_5xx.max(1),
            base,
            max: secs(pe.max_ejection_seconds, 300).max(base),
        },
        tls,
    })
}
