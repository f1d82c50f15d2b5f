//! What a matched route calls: `HTTP_PROXY` today; Lambda (the Invoke API) and VPC links
//! are further files here.
pub mod http_proxy;
