//! Domain types shared by the control plane, the proxy nodes and the console: APIs,
//! routes, integrations, stages and deployments in the AWS API Gateway V2 JSON shape
//! (camelCase), route keys and integration URI templates, and the validation rules that
//! every write path applies. No I/O: this crate also builds for wasm.
#![forbid(unsafe_code)]

mod access_log;
mod authorizer;
mod certificate;
mod cors;
mod custom_domain;
mod deployment_diff;
mod error;
mod identity;
mod lambda_arn;
mod metrics;
pub mod openapi;
mod parameter_mapping;
mod resources;
mod route_key;
mod settings;
mod tags;
mod throttling;
mod uri_template;
mod usage;
mod validate;
mod vpc_link;

pub use access_log::*;
pub use authorizer::*;
pub use certificate::*;
pub use cors::*;
pub use custom_domain::*;
pub use deployment_diff::*;
pub use error::ValidationError;
pub use identity::*;
pub use lambda_arn::LambdaFunctionArn;
pub use metrics::*;
pub use parameter_mapping::*;
pub use resources::*;
pub use route_key::{HttpMethod, RouteKey, RouteMethod, RoutePath, Segment};
pub use settings::*;
pub use tags::*;
pub use throttling::*;
pub use uri_template::{UriPart, UriTemplate};
pub use usage::*;
pub use validate::*;
pub use vpc_link::*;
