//! The proxy itself: the listener, the request pipeline and its phases, and the one place
//! errors become responses. Integrations and upstream connections live beside it.

pub mod body;
pub mod client_tls;
pub mod context;
pub mod error;
pub mod phases;
pub mod pipeline;
pub mod request_id;
pub mod request_time;
pub(crate) mod server;
pub mod trace_context;
