//! The admin API's resources, shaped like AWS API Gateway V2's JSON so that boto3, the
//! AWS CLI and the console read the same fields. `Create*`/`Update*` are request bodies;
//! they refuse fields Portico does not know, so nothing a client sends is silently lost.
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::{Cors, RouteSettings};

pub const PROTOCOL_HTTP: &str = "HTTP";
pub const INTEGRATION_HTTP_PROXY: &str = "HTTP_PROXY";
/// A Lambda proxy integration: the request goes to a function through the Invoke API.
pub const INTEGRATION_AWS_PROXY: &str = "AWS_PROXY";
/// The event shapes a Lambda proxy integration can send.
pub const PAYLOAD_FORMAT_VERSIONS: [&str; 2] = ["1.0", "2.0"];
pub const AUTHORIZATION_NONE: &str = "NONE";
pub const DEFAULT_STAGE: &str = "$default";
pub const DEFAULT_TIMEOUT_MILLIS: u32 = 30_000;
pub const ROUTE_SELECTION_EXPRESSION: &str = "${request.method} ${request.path}";
pub const API_KEY_SELECTION_EXPRESSION: &str = "$request.header.x-api-key";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Api {
    pub api_id: String,
    pub name: String,
    pub protocol_type: String,
    /// Filled in when the API is shown: it depends on where the proxies are reached.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_endpoint: Option<String>,
    pub api_key_selection_expression: String,
    pub route_selection_expression: String,
    pub created_date: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub disable_execute_api_endpoint: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cors_configuration: Option<Cors>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateApi {
    pub name: String,
    pub protocol_type: String,
    pub description: Option<String>,
    pub version: Option<String>,
    pub tags: Option<BTreeMap<String, String>>,
    pub disable_execute_api_endpoint: Option<bool>,
    pub route_selection_expression: Option<String>,
    pub api_key_selection_expression: Option<String>,
    /// Quick create: an `HTTP_PROXY` integration to this URI, a route and a `$default`
    /// auto-deploy stage, as AWS does.
    pub target: Option<String>,
    pub route_key: Option<String>,
    pub cors_configuration: Option<Cors>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UpdateApi {
    pub name: Option<String>,
    pub description: Option<String>,
    pub version: Option<String>,
    pub disable_execute_api_endpoint: Option<bool>,
    pub route_selection_expression: Option<String>,
    pub api_key_selection_expression: Option<String>,
    /// Replaces the API's CORS configuration whole, as AWS does.
    pub cors_configuration: Option<Cors>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Route {
    pub route_id: String,
    pub route_key: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    pub authorization_type: String,
    /// The JWT or REQUEST authorizer of a `JWT` or `CUSTOM` route.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorizer_id: Option<String>,
    /// A JWT route's scopes: the token must carry one of them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub authorization_scopes: Vec<String>,
    pub api_key_required: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operation_name: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateRoute {
    pub route_key: String,
    pub target: Option<String>,
    pub authorization_type: Option<String>,
    pub authorizer_id: Option<String>,
    pub authorization_scopes: Option<Vec<String>>,
    pub api_key_required: Option<bool>,
    pub operation_name: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UpdateRoute {
    pub route_key: Option<String>,
    pub target: Option<String>,
    pub authorization_type: Option<String>,
    pub authorizer_id: Option<String>,
    pub authorization_scopes: Option<Vec<String>>,
    pub api_key_required: Option<bool>,
    pub operation_name: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Integration {
    pub integration_id: String,
    pub integration_type: String,
    pub integration_uri: String,
    pub integration_method: String,
    pub payload_format_version: String,
    pub timeout_in_millis: u32,
    pub connection_type: String,
    /// The VPC link of a `VPC_LINK` integration.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connection_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls_config: Option<crate::TlsConfig>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// `append:header.x` → `$request.header.y`, …: applied to the request on its way to
    /// the backend (`parameter_mapping`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub request_parameters: BTreeMap<String, String>,
    /// By the backend's status code: applied to the response on its way to the client.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub response_parameters: BTreeMap<String, BTreeMap<String, String>>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateIntegration {
    pub integration_type: String,
    pub integration_uri: Option<String>,
    pub integration_method: Option<String>,
    pub payload_format_version: Option<String>,
    pub timeout_in_millis: Option<u32>,
    pub connection_type: Option<String>,
    pub connection_id: Option<String>,
    pub tls_config: Option<crate::TlsConfig>,
    pub description: Option<String>,
    pub request_parameters: Option<BTreeMap<String, String>>,
    pub response_parameters: Option<BTreeMap<String, BTreeMap<String, String>>>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UpdateIntegration {
    pub integration_type: Option<String>,
    pub integration_uri: Option<String>,
    pub integration_method: Option<String>,
    pub payload_format_version: Option<String>,
    pub timeout_in_millis: Option<u32>,
    pub connection_type: Option<String>,
    pub connection_id: Option<String>,
    pub tls_config: Option<crate::TlsConfig>,
    pub description: Option<String>,
    pub request_parameters: Option<BTreeMap<String, String>>,
    pub response_parameters: Option<BTreeMap<String, BTreeMap<String, String>>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Stage {
    pub stage_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deployment_id: Option<String>,
    pub auto_deploy: bool,
    #[serde(default)]
    pub stage_variables: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub created_date: String,
    pub last_updated_date: String,
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    /// Why what the stage points at is not served as deployed (held back, or routes that
    /// answer 500), from the last publish; AWS's field of the same name. Never stored:
    /// the admin API fills it in on the way out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_deployment_status_message: Option<String>,
    /// Throttling for every route of the stage that has no setting of its own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_route_settings: Option<RouteSettings>,
    /// By route key (`GET /notes`); a field set here wins over the default's.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub route_settings: BTreeMap<String, RouteSettings>,
    /// Where and how nodes write this stage's access log; none: no access log.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_log_settings: Option<crate::AccessLogSettings>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateStage {
    pub stage_name: String,
    pub deployment_id: Option<String>,
    pub auto_deploy: Option<bool>,
    pub stage_variables: Option<BTreeMap<String, String>>,
    pub description: Option<String>,
    pub tags: Option<BTreeMap<String, String>>,
    pub default_route_settings: Option<RouteSettings>,
    pub route_settings: Option<BTreeMap<String, RouteSettings>>,
    pub access_log_settings: Option<crate::AccessLogSettings>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UpdateStage {
    pub deployment_id: Option<String>,
    pub auto_deploy: Option<bool>,
    /// Merged into the stage's variables: a name given with an empty value is removed.
    pub stage_variables: Option<BTreeMap<String, String>>,
    pub description: Option<String>,
    /// Merged field by field into the stored default; takes effect without a deployment.
    pub default_route_settings: Option<RouteSettings>,
    /// Merged by route key, each route's fields over what it had.
    pub route_settings: Option<BTreeMap<String, RouteSettings>>,
    /// Replaces the stage's settings; empty settings turn the access log off.
    pub access_log_settings: Option<crate::AccessLogSettings>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Deployment {
    pub deployment_id: String,
    /// DEPLOYED, or FAILED while publishing holds it back (filled in on the way out,
    /// like `deployment_status_message`).
    pub deployment_status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deployment_status_message: Option<String>,
    pub created_date: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub auto_deployed: bool,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateDeployment {
    pub stage_name: Option<String>,
    pub description: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UpdateDeployment {
    pub description: Option<String>,
}

/// What a deployment freezes: the API's routes and integrations as they were.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeployedApi {
    pub routes: Vec<Route>,
    pub integrations: Vec<Integration>,
    /// Deployments made before authorizers existed have none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub authorizers: Vec<crate::Authorizer>,
    /// Deployments made before CORS existed have none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cors: Option<Cors>,
}

/// ImportApi's and ReimportApi's answer: the API, and what the import left out.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ImportedApi {
    #[serde(flatten)]
    pub api: Api,
    #[serde(default)]
    pub warnings: Vec<String>,
}

/// ImportApi's and ReimportApi's body: the OpenAPI document as text.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ImportApiBody {
    pub body: String,
}

/// TagResource's body.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TagResourceBody {
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
}

/// GetTags' answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResourceTags {
    pub tags: BTreeMap<String, String>,
}

/// One page of a list, as AWS returns it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Page<T> {
    pub items: Vec<T>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
}

/// A proxy node as the control plane last saw it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Node {
    pub node_id: String,
    pub address: String,
    /// Snapshot version the node serves.
    pub applied_version: u64,
    /// "ACK" or "NACK" for the node's last answer, absent before the first one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_status: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    /// The version the last NACK refused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rejected_version: Option<u64>,
    pub connected: bool,
    /// The control-plane replica the node is (or was last) connected to.
    pub control_plane: String,
    pub last_seen: String,
}

/// Whether a node is still there, as the Nodes list tells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum NodeState {
    /// Its stream is open and its replica refreshed it within three heartbeats.
    Connected,
    /// Its stream closed and its replica recorded that.
    Disconnected,
    /// Its row still says connected, but its replica has not refreshed it for three
    /// heartbeats: the replica died without saying so.
    Lost,
}

impl NodeState {
    /// Three missed node-session heartbeats of 10 s.
    pub const LOST_AFTER_SECONDS: i64 = 30;

    /// What a stored row means `seconds_since_seen` after its last refresh.
    pub fn of(connected: bool, seconds_since_seen: i64) -> NodeState {
        match (connected, seconds_since_seen > Self::LOST_AFTER_SECONDS) {
            (false, _) => NodeState::Disconnected,
            (true, false) => NodeState::Connected,
            (true, true) => NodeState::Lost,
        }
    }
}

/// A node as `GET /portico/nodes` lists it: the stored record (its `connected` already
/// false for a lost node) and what that record means now.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListedNode {
    #[serde(flatten)]
    pub node: Node,
    pub state: NodeState,
    /// Seconds between `lastSeen` and the answer, by the control plane's clock.
    pub seconds_since_seen: i64,
}

/// `GET /portico/nodes`: the nodes seen recently (every node ever seen with
/// `?history=true`), and the version they should all be serving.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NodeList {
    pub items: Vec<ListedNode>,
    /// The configuration's current snapshot version; a node below it is behind.
    pub current_version: u64,
}

/// `GET /portico/apis/{apiId}/serving`: what the proxy nodes serve of each stage, beside
/// what was deployed to it (the stage's `deploymentId`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApiServing {
    pub api_id: String,
    /// The newest snapshot version the control plane publishes.
    pub current_version: u64,
    pub stages: Vec<StageServing>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StageServing {
    pub stage_name: String,
    /// The deployment nodes are sent for the stage: the stage's own, or the one it keeps
    /// while that is held back; absent when nodes are sent nothing for it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deployment_id: Option<String>,
    /// The snapshot version since which the stage is published as it is now; a node that
    /// applied it or a later one serves the stage as published.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since_version: Option<u64>,
    /// Connected nodes.
    pub nodes: u32,
    /// Connected nodes that serve the stage as published.
    pub nodes_serving: u32,
    /// Connected nodes that have not applied `sinceVersion` yet (the NACKs among them in
    /// `refusals`).
    #[serde(default)]
    pub behind: Vec<NodeBehind>,
    #[serde(default)]
    pub refusals: Vec<NodeRefusal>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NodeBehind {
    pub node_id: String,
    pub applied_version: u64,
}

/// A node that refused (NACKed) a version the stage needs, and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NodeRefusal {
    pub node_id: String,
    pub rejected_version: u64,
    pub error: String,
}

/// `POST /portico/apis/{apiId}/test-invoke`: one request sent through a proxy node, as
/// AWS's TestInvokeMethod does for REST APIs (same field names).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TestInvokeRequest {
    pub stage_name: String,
    pub http_method: String,
    /// The path after the stage, with its query string: `/notes?limit=2`.
    pub path_with_query_string: String,
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    #[serde(default)]
    pub body: Option<String>,
    /// The node to send it through; any up-to-date connected node when absent.
    #[serde(default)]
    pub node_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TestInvokeResponse {
    pub status: u16,
    pub headers: BTreeMap<String, String>,
    pub multi_value_headers: BTreeMap<String, Vec<String>>,
    /// The response body as text (lossy for binary), cut at 1 MiB.
    pub body: String,
    pub body_truncated: bool,
    /// Milliseconds from sending the request to the end of the body, as AWS reports it.
    pub latency: u64,
    pub latency_micros: u64,
    pub node_id: String,
    /// The URL the request went to; its Host header named the API.
    pub url: String,
}
