//! What the phases share about one request: the client's connection, worked out once
//! when it connects, and what each phase has learnt, borrowed from the config the request
//! loaded.

use std::net::SocketAddr;
use std::time::Instant;

use http::HeaderValue;

use super::request_id::RequestId;
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
    pub request_id: RequestId,
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
            request_id: RequestId::new(),
            received_at: Instant::now(),
            config_version: config.version,
            matched: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// X-Forwarded-For carries the client's address as IPv4 when it arrived IPv4-mapped
    /// on a dual-stack socket.
    #[test]
    fn the_client_address_is_worked_out_once() {
        let forwarded =
            |addr: &str| ClientConnection::new(addr.parse().expect("address")).forwarded_for;
        assert_eq!(forwarded("10.0.0.1:1"), "10.0.0.1");
        assert_eq!(forwarded("[::ffff:10.0.0.2]:2"), "10.0.0.2");
        assert_eq!(forwarded("[2001:db8::1]:3"), "2001:db8::1");
    }
}
