//! Connections to upstreams: the per-worker pool today; load balancing and health checks
//! of VPC-link targets are further files here. Nothing here knows the proxy's types: the
//! pool is generic over the request body it sends.
pub mod pool;
