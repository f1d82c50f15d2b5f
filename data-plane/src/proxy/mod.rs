//! The proxy itself: the listener, the request pipeline and its phases, the HTTP_PROXY
//! integration and the error responses.

pub mod body;
pub mod error;
pub mod http_proxy;
pub mod pipeline;
pub(crate) mod server;
pub mod upstream_pool;
