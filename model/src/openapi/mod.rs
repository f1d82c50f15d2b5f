//! OpenAPI 3.0 definitions of HTTP APIs with API Gateway's `x-amazon-apigateway-*`
//! extensions, both ways: `export` turns an API's routes, integrations, authorizers and
//! CORS into the document AWS's ExportApi produces, and `import` reads such a document
//! (AWS's, or one written the way AWS's developer guide shows) into an `ImportPlan` the
//! control plane writes in one transaction and the console shows for review first.
//!
//! The export builds `openapiv3`'s model, so what goes out is OpenAPI 3.0 by
//! construction. The import reads plain JSON values instead: AWS accepts documents that
//! the strict model refuses (its own samples have operations without `responses`), and
//! every error has to name the JSON pointer of what it is about.
mod export;
mod import;
mod pointer;
mod yaml;

pub use export::{ExportSource, ExportedServer, SIGV4_SCHEME, export_document};
pub use import::{Basepath, ImportError, ImportPlan, PlannedRoute, plan_import};
pub use pointer::escape as escape_pointer_token;
pub use yaml::to_yaml;

/// `x-amazon-apigateway-importexport-version`: the only version AWS has.
pub const IMPORT_EXPORT_VERSION: &str = "1.0";
/// The OpenAPI version Portico writes, as AWS does.
pub const OPENAPI_VERSION: &str = "3.0.1";
