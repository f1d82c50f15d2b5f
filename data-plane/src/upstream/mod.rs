//! Connections to upstreams: the per-worker pool, dialling a chosen address (a VPC-link
//! endpoint), and what VPC links need to choose one: the balancer, each endpoint's health
//! and the active checks. Nothing here knows the proxy's types: the pool is generic over
//! the request body it sends.
pub mod balancer;
pub mod dial;
pub mod health;
pub mod health_check;
pub mod pool;
