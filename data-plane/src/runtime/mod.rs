//! State that outlives a config swap, keyed by stable ids: a compile looks its pieces up
//! here instead of starting them afresh, so a new snapshot does not refill a token
//! bucket, forget what the control plane said about this node's share of a limit, drop
//! an issuer's signing keys, a Lambda authorizer's cached answers, the keys that may
//! sign requests to AWS_IAM routes, or what it knows of VPC-link targets' health.
pub mod access_log;
pub mod authorizer_cache;
pub mod invoke_keys;
pub mod jwks;
pub mod meters;
pub mod span_export;
pub mod throttle;
pub mod vpc_links;

pub use throttle::{ThrottleRegistry, TokenBucket};

/// Everything that outlives a swap, one per node. The control plane's admission check
/// compiles with a throwaway one, which fetches no keys.
#[derive(Debug, Default)]
pub struct Runtime {
    pub throttle: ThrottleRegistry,
    pub jwks: jwks::JwksRegistry,
    pub authorizer_cache: authorizer_cache::AuthorizerCaches,
    pub invoke_keys: invoke_keys::InvokeKeyring,
    /// TLS session cache and ticket keys, shared by every domain's server config.
    pub tls_sessions: crate::config::tls::TlsSessions,
    /// Counters per API, stage and route, for `/metrics` and the control plane.
    pub meters: meters::MeterRegistry,
    /// The access-log queue and writer thread.
    pub access_logs: access_log::AccessLogWriter,
    /// Where finished requests' spans go, with `--otlp-endpoint`.
    pub spans: Option<crate::runtime::span_export::SpanExport>,
    /// VPC links' endpoints, their health and balancers.
    pub vpc_links: vpc_links::VpcLinkRegistry,
}

impl Runtime {
    /// A node's runtime: issuers' keys are fetched by tasks on `background`.
    pub fn for_node(
        background: tokio::runtime::Handle,
        access_logs: access_log::AccessLogWriter,
        spans: Option<span_export::SpanExport>,
        vpc_link_groups: Vec<String>,
    ) -> Self {
        Runtime {
            vpc_links: vpc_links::VpcLinkRegistry::new(vpc_link_groups, Some(background.clone())),
            meters: Default::default(),
            access_logs,
            spans,
            throttle: ThrottleRegistry::default(),
            jwks: jwks::JwksRegistry::with_background(background),
            authorizer_cache: Default::default(),
            invoke_keys: Default::default(),
            tls_sessions: crate::config::tls::TlsSessions::with_capacity(
                crate::config::tls::NODE_SESSION_CACHE,
            ),
        }
    }
}
