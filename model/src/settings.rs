//! Cluster settings: values every control-plane replica must agree on because they shape
//! the snapshot nodes serve (`GET` and `PATCH /portico/settings`).
use serde::{Deserialize, Serialize};

/// `GET /portico/settings`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClusterSettings {
    /// Where clients reach APIs, `{scheme}://{domain}[:{port}]`: each API is served at
    /// `{scheme}://{apiId}.{domain}[:{port}]` and its `apiEndpoint` says so.
    pub execute_api_endpoint: String,
}

/// `PATCH /portico/settings`: the fields given change, the others stay.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UpdateClusterSettings {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub execute_api_endpoint: Option<String>,
}
