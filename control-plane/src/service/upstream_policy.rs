//! Which upstreams an integration may point at. Without it, anyone who can edit an API
//! could make every proxy node call the control plane's own admin or gRPC port, or a
//! cloud metadata service, on the attacker's behalf (SSRF). Operators lift the rule per
//! host with `--allow-upstream`. Names are not resolved here, and this machine's own
//! non-loopback addresses are not enumerated: a host name that resolves to the control
//! plane, or a LAN address of it, is not caught.
use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use portico_model::{
    CONNECTION_VPC_LINK, INTEGRATION_AWS_PROXY, Integration, Stage, UriPart, UriTemplate,
    ValidationError,
};

const METADATA: [IpAddr; 2] = [
    IpAddr::V4(Ipv4Addr::new(169, 254, 169, 254)),
    IpAddr::V6(Ipv6Addr::new(0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x254)),
];

#[derive(Debug, Clone, Default)]
pub struct UpstreamPolicy {
    /// The control plane's own listeners.
    control_plane: Vec<SocketAddr>,
    /// `host` or `host:port` entries that are allowed whatever else says.
    allowed: Vec<String>,
}

fn is_local(host: &str, ip: Option<IpAddr>) -> bool {
    host.eq_ignore_ascii_case("localhost")
        || host.to_ascii_lowercase().ends_with(".localhost")
        || ip.is_some_and(|ip| ip.is_loopback() || ip.is_unspecified())
}

impl UpstreamPolicy {
    pub fn new(control_plane: Vec<SocketAddr>, allowed: Vec<String>) -> Self {
        UpstreamPolicy {
            control_plane,
            allowed: allowed
                .into_iter()
                .map(|a| a.to_ascii_lowercase())
                .collect(),
        }
    }

    /// Checks one fully rendered upstream URI.
    pub fn check(&self, uri: &str) -> Result<(), ValidationError> {
        let refuse = |why: String| ValidationError::new("integrationUri", why);
        let parsed: http::Uri = uri
            .parse()
            .map_err(|e| refuse(format!("Invalid integration URI '{uri}': {e}")))?;
        let Some(host) = parsed.host() else {
            return Err(refuse(format!(
                "Invalid integration URI '{uri}': it has no host"
            )));
        };
        let port = parsed
            .port_u16()
            .unwrap_or(if parsed.scheme_str() == Some("https") {
                443
            } else {
                80
            });
        match self.refusal(host, port) {
            Some(why) => Err(refuse(format!("Integration URI '{uri}' {why}"))),
            None => Ok(()),
        }
    }

    /// Checks one VPC link target (`host:port`, as the model normalised it): nodes connect
    /// to it directly, so the same rule applies as to an integration's host.
    pub fn check_target(&self, address: &str) -> Result<(), ValidationError> {
        let refuse = |why: String| ValidationError::new("targets", why);
        let target = portico_model::TargetAddress::parse(address)
            .map_err(|why| refuse(format!("Invalid target address '{address}': {why}")))?;
        match self.refusal(&target.host, target.port) {
            Some(why) => Err(refuse(format!("Target {address} {why}"))),
            None => Ok(()),
        }
    }

    /// Why nodes may not connect to `host:port`, if they may not.
    fn refusal(&self, host: &str, port: u16) -> Option<String> {
        let host = host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_ascii_lowercase();
        if self
            .allowed
            .iter()
            .any(|a| *a == host || *a == format!("{host}:{port}"))
        {
            return None;
        }
        let ip: Option<IpAddr> = host.parse().ok();
        if ip.is_some_and(|ip| METADATA.contains(&ip)) {
            return Some(format!(
                "points at a cloud metadata address; an operator can allow it with --allow-upstream {host}"
            ));
        }
        for cp in &self.control_plane {
            if cp.port() != port {
                continue;
            }
            let same = ip == Some(cp.ip())
                || ((cp.ip().is_unspecified() || cp.ip().is_loopback()) && is_local(&host, ip));
            if same {
                return Some(format!(
                    "points at the control plane's own address {cp}; an operator can allow it with --allow-upstream {host}:{port}"
                ));
            }
        }
        None
    }

    /// Checks every integration as each stage would render it (stage variables can
    /// carry the host), and as written when the API has no stages yet.
    pub fn check_api(
        &self,
        integrations: &[Integration],
        stages: &[Stage],
    ) -> Result<(), ValidationError> {
        let empty = BTreeMap::new();
        let variable_sets: Vec<&BTreeMap<String, String>> = if stages.is_empty() {
            vec![&empty]
        } else {
            stages.iter().map(|s| &s.stage_variables).collect()
        };
        // A Lambda integration names a function, not a host: the node calls the Lambda
        // endpoint its operator set (`--lambda-endpoint`), never one an editor chose.
        // A private integration's URL names the Host header and SNI only: nodes connect to
        // the link's targets, which are checked when they are set (`check_target`).
        let http = integrations.iter().filter(|i| {
            i.integration_type != INTEGRATION_AWS_PROXY && i.connection_type != CONNECTION_VPC_LINK
        });
        for integration in http {
            let template = UriTemplate::parse(&integration.integration_uri)?;
            for vars in &variable_sets {
                let rendered = template
                    .for_stage(vars)
                    .substitute(|_| None, |_| Some("x".to_string()));
                let uri: String = rendered
                    .parts
                    .iter()
                    .map(|p| match p {
                        UriPart::Literal(l) => l.as_str(),
                        _ => "",
                    })
                    .collect();
                // A host that a stage variable gives, with no stage to give it yet, cannot
                // be judged now; it is when a stage sets the variable.
                let has_host = uri
                    .parse::<http::Uri>()
                    .is_ok_and(|u| u.host().is_some_and(|h| !h.is_empty()));
                if has_host {
                    self.check(&uri)?;
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> UpstreamPolicy {
        UpstreamPolicy::new(
            vec![
                "127.0.0.1:9000".parse().unwrap(),
                "0.0.0.0:9001".parse().unwrap(),
            ],
            vec!["169.254.169.254".into()],
        )
    }

    #[test]
    fn refuses_the_control_plane_and_metadata() {
        let p = UpstreamPolicy::new(
            vec![
                "127.0.0.1:9000".parse().unwrap(),
                "0.0.0.0:9001".parse().unwrap(),
            ],
            vec![],
        );
        for bad in [
            "http://127.0.0.1:9000/v2/apis",
            "http://localhost:9000/",
            "http://127.0.0.1:9001/",
            "http://[::1]:9001/",
            "http://169.254.169.254/latest/meta-data/",
            "http://[fd00:ec2::254]/",
        ] {
            assert!(p.check(bad).is_err(), "{bad}");
        }
        // Another host's port 9001 is not known to be ours; this machine's non-loopback
        // addresses are not enumerated (see the module note).
        for ok in [
            "http://127.0.0.1:8080/",
            "https://example.com/",
            "http://10.1.2.3:9000/",
            "http://10.1.2.3:9001/",
        ] {
            p.check(ok).unwrap_or_else(|e| panic!("{ok}: {e}"));
        }
    }

    #[test]
    fn stage_variables_carry_the_host() {
        let integration = |uri: &str| Integration {
            integration_id: "i".into(),
            integration_type: "HTTP_PROXY".into(),
            integration_uri: uri.into(),
            integration_method: "ANY".into(),
            payload_format_version: "1.0".into(),
            timeout_in_millis: 30_000,
            connection_type: "INTERNET".into(),
            connection_id: None,
            tls_config: None,
            description: None,
            request_parameters: Default::default(),
            response_parameters: Default::default(),
        };
        let stage = |host: &str| Stage {
            stage_name: "dev".into(),
            deployment_id: None,
            auto_deploy: false,
            stage_variables: [("h".to_string(), host.to_string())].into(),
            description: None,
            created_date: String::new(),
            last_updated_date: String::new(),
            tags: BTreeMap::new(),
            last_deployment_status_message: None,
            default_route_settings: None,
            route_settings: Default::default(),
            access_log_settings: None,
        };
        let p = UpstreamPolicy::new(vec!["127.0.0.1:9000".parse().unwrap()], vec![]);
        let i = [integration("http://${stageVariables.h}/x/{id}")];
        p.check_api(&i, &[]).unwrap();
        p.check_api(&i, &[stage("127.0.0.1:8080")]).unwrap();
        assert!(p.check_api(&i, &[stage("127.0.0.1:9000")]).is_err());
        assert!(p.check_api(&i, &[stage("169.254.169.254")]).is_err());
    }

    /// A private integration's host is only its Host header; its link's targets are
    /// what nodes connect to, and they are checked instead.
    #[test]
    fn private_integrations_are_judged_by_their_targets() {
        let p = UpstreamPolicy::new(vec!["127.0.0.1:9000".parse().unwrap()], vec![]);
        let mut i = Integration {
            integration_id: "i".into(),
            integration_type: "HTTP_PROXY".into(),
            integration_uri: "http://127.0.0.1:9000/".into(),
            integration_method: "ANY".into(),
            payload_format_version: "1.0".into(),
            timeout_in_millis: 30_000,
            connection_type: "VPC_LINK".into(),
            connection_id: Some("vl1".into()),
            tls_config: None,
            description: None,
            request_parameters: Default::default(),
            response_parameters: Default::default(),
        };
        p.check_api(std::slice::from_ref(&i), &[]).unwrap();
        i.connection_type = "INTERNET".into();
        assert!(p.check_api(&[i], &[]).is_err());
        for bad in [
            "127.0.0.1:9000",
            "localhost:9000",
            "169.254.169.254:80",
            "[::1]:9000",
        ] {
            let e = p.check_target(bad).expect_err(bad);
            assert_eq!(e.field, "targets", "{bad}");
            assert!(e.message.contains(bad), "{}", e.message);
        }
        for ok in ["127.0.0.1:8080", "10.0.0.1:9000", "orders.internal:80"] {
            p.check_target(ok).unwrap_or_else(|e| panic!("{ok}: {e}"));
        }
    }

    #[test]
    fn operators_can_allow_a_host() {
        policy().check("http://169.254.169.254/latest/").unwrap();
        assert!(policy().check("http://localhost:9000/").is_err());
    }
}
