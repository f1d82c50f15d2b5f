//! What a node lets one client take: the size of a request head, its URI and body, how
//! slowly it may send, how many connections the node holds at once, and the HTTP/2
//! stream limits that blunt rapid-reset and CONTINUATION floods. Each is a flag (and a
//! `PORTICO_*` variable) with a default a production gateway user expects; where AWS
//! documents a quota ("Quotas for configuring and running an HTTP API in API Gateway")
//! the default follows it.

use std::time::Duration;

/// A node's client limits; flattened into [`crate::NodeArgs`].
#[derive(clap::Args, Clone, Debug, PartialEq, Eq)]
pub struct ClientLimits {
    /// Largest request head (request line and headers) in bytes; a larger one gets 431.
    /// On HTTP/1.1 it is the size of the connection's read buffer, on HTTP/2 the
    /// SETTINGS_MAX_HEADER_LIST_SIZE the node announces.
    #[arg(
        long,
        env = "PORTICO_MAX_HEADER_BYTES",
        value_name = "BYTES",
        default_value_t = ClientLimits::DEFAULT.max_header_bytes,
        value_parser = clap::value_parser!(u32).range(8192..=256 * 1024)
    )]
    pub max_header_bytes: u32,

    /// Most header fields in one request; more get 431.
    #[arg(
        long,
        env = "PORTICO_MAX_HEADERS",
        value_name = "N",
        default_value_t = ClientLimits::DEFAULT.max_headers,
        value_parser = clap::value_parser!(u16).range(1..)
    )]
    pub max_headers: u16,

    /// Longest request target (path and query) in bytes; a longer one gets 414.
    #[arg(
        long,
        env = "PORTICO_MAX_URI_BYTES",
        value_name = "BYTES",
        default_value_t = ClientLimits::DEFAULT.max_uri_bytes,
        value_parser = clap::value_parser!(u32).range(1..=65534)
    )]
    pub max_uri_bytes: u32,

    /// Largest request body in bytes; a larger declared Content-Length gets 413 before
    /// anything is read. At most AWS's 10 MB payload quota, which integrations also
    /// enforce on streamed bodies.
    #[arg(
        long,
        env = "PORTICO_MAX_BODY_BYTES",
        value_name = "BYTES",
        default_value_t = ClientLimits::DEFAULT.max_body_bytes,
        value_parser = clap::value_parser!(u64).range(0..=crate::integrations::MAX_BODY_BYTES as u64)
    )]
    pub max_body_bytes: u64,

    /// Seconds a client has to finish the TLS handshake and send a request head; on
    /// HTTP/1.1 hyper starts this clock as soon as a connection waits for its next
    /// request, so it also closes keep-alive connections left idle that long.
    #[arg(
        long,
        env = "PORTICO_HEADER_READ_TIMEOUT",
        value_name = "SECONDS",
        default_value = "30",
        value_parser = parse_seconds
    )]
    pub header_read_timeout: Duration,

    /// Seconds the node waits for the next piece of a request body before the request
    /// fails with 408 and the connection closes.
    #[arg(
        long,
        env = "PORTICO_BODY_READ_TIMEOUT",
        value_name = "SECONDS",
        default_value = "30",
        value_parser = parse_seconds
    )]
    pub body_read_timeout: Duration,

    /// Seconds a connection may pass with no byte in either direction before the node
    /// closes it (HTTP/1.1 and HTTP/2).
    #[arg(
        long,
        env = "PORTICO_IDLE_TIMEOUT",
        value_name = "SECONDS",
        default_value = "60",
        value_parser = parse_seconds
    )]
    pub idle_timeout: Duration,

    /// Client connections a node holds open at once (all workers, plain and TLS). Over
    /// it the node stops accepting, so new connections wait in the kernel's backlog.
    #[arg(
        long,
        env = "PORTICO_MAX_CONNECTIONS",
        value_name = "N",
        default_value_t = ClientLimits::DEFAULT.max_connections,
        value_parser = clap::value_parser!(u32).range(1..)
    )]
    pub max_connections: u32,

    /// Streams one HTTP/2 connection may have open at once.
    #[arg(
        long,
        env = "PORTICO_H2_MAX_CONCURRENT_STREAMS",
        value_name = "N",
        default_value_t = ClientLimits::DEFAULT.h2_max_concurrent_streams
    )]
    pub h2_max_concurrent_streams: u32,

    /// Streams an HTTP/2 client may open and reset before the node has accepted them;
    /// past it the connection gets GOAWAY (rapid reset, CVE-2023-44487).
    #[arg(
        long,
        env = "PORTICO_H2_MAX_PENDING_RESETS",
        value_name = "N",
        default_value_t = ClientLimits::DEFAULT.h2_max_pending_resets
    )]
    pub h2_max_pending_resets: u32,

    /// Streams the node may reset for a client's protocol errors before the connection
    /// gets GOAWAY.
    #[arg(
        long,
        env = "PORTICO_H2_MAX_ERROR_RESETS",
        value_name = "N",
        default_value_t = ClientLimits::DEFAULT.h2_max_error_resets
    )]
    pub h2_max_error_resets: u32,
}

impl ClientLimits {
    pub const DEFAULT: ClientLimits = ClientLimits {
        // The 64 KiB; AWS caps request line and header values at 10,240 bytes.
        max_header_bytes: 64 * 1024,
        // hyper's and nginx's working default; AWS documents no count.
        max_headers: 100,
        max_uri_bytes: 8 * 1024,
        max_body_bytes: crate::integrations::MAX_BODY_BYTES as u64,
        header_read_timeout: Duration::from_secs(30),
        body_read_timeout: Duration::from_secs(30),
        idle_timeout: Duration::from_secs(60),
        max_connections: 10_000,
        // AWS documents no stream limit; 128 is nginx's http2_max_concurrent_streams.
        h2_max_concurrent_streams: 128,
        // h2's own defaults since the rapid-reset fix, set here so they are visible.
        h2_max_pending_resets: 20,
        h2_max_error_resets: 1024,
    };
}

impl Default for ClientLimits {
    fn default() -> Self {
        ClientLimits::DEFAULT
    }
}

/// Whole or fractional seconds (`2`, `0.5`), above zero.
fn parse_seconds(value: &str) -> Result<Duration, String> {
    let seconds: f64 = value
        .parse()
        .map_err(|_| format!("'{value}' is not a number of seconds"))?;
    if !(seconds > 0.0 && seconds <= 86_400.0) {
        return Err(format!(
            "'{value}' must be above 0 and at most 86400 seconds"
        ));
    }
    Ok(Duration::from_secs_f64(seconds))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seconds_may_be_fractional_but_not_zero() {
        assert_eq!(parse_seconds("2"), Ok(Duration::from_secs(2)));
        assert_eq!(parse_seconds("0.5"), Ok(Duration::from_millis(500)));
        for bad in ["0", "-1", "x", "1e9", "NaN"] {
            assert!(parse_seconds(bad).is_err(), "{bad}");
        }
    }
}
