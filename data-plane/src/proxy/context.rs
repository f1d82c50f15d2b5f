//! What the phases share about one request: the client's connection, worked out once
//! when it connects, and what each phase has learnt, borrowed from the config the request
//! loaded.

use std::net::SocketAddr;
use std::time::Instant;

use http::HeaderValue;

use crate::config::route_table::RouteEntry;
use crate::config::{CompiledApi, CompiledConfig, CompiledStage};

/// The client's connection, as worked out once when it connects rather than per request.
#[derive(Debug)]
pub struct ClientConnection {
    pub addr: SocketAddr,
    /// The client's address as `X-Forwarded-For` carries it.
    pub forwarded_for: HeaderValue,
}

impl ClientConnection {
    pub fn new(addr: SocketAddr) -> Self {
        let ip = addr.ip().to_canonical().to_string();
        ClientConnection {
            addr,
            // An address always makes a valid header value.
            forwarded_for: HeaderValue::try_from(ip)
                .unwrap_or_else(|_| HeaderValue::from_static("unknown")),
        }
    }
}

/// What resolve found, set once: every phase after it takes this, never an `Option`.
#[derive(Debug, Clone, Copy)]
pub struct Matched<'cfg> {
    pub api: &'cfg CompiledApi,
    pub stage: &'cfg CompiledStage,
    pub route: &'cfg RouteEntry,
}

/// One request's context, from the moment its config is loaded to its response.
#[derive(Debug)]
pub struct RequestContext<'cfg> {
    pub client: &'cfg ClientConnection,
    pub received_at: Instant,
    pub config_version: u64,
    /// `None` until resolve has matched a route; respond and log read it for requests
    /// that ended before (a 404 has no route).
    pub matched: Option<Matched<'cfg>>,
}

impl<'cfg> RequestContext<'cfg> {
    pub fn new(client: &'cfg ClientConnection, config: &'cfg CompiledConfig) -> Self {
        RequestContext {
            client,
            received_at: Instant::now(),
            config_version: config.version,
            matched: None,
        }
    }
}
