//! An HTTP API as the OpenAPI 3.0 document ExportApi gives ("Export HTTP APIs from API
//! Gateway"): one path per route path, one operation per method (`ANY` as
//! `x-amazon-apigateway-any-method`, `$default` under `/$default`), generated path
//! parameters, each route's integration inline, authorizers as security schemes, CORS,
//! tags and the import/export version as extensions. Everything is ordered by name, so
//! two APIs built alike export alike whatever their ids.
use std::collections::HashMap;

use indexmap::IndexMap;
use openapiv3::{
    APIKeyLocation, Components, Info, OAuth2Flows, OpenAPI, Operation, Parameter, ParameterData,
    ParameterSchemaOrContent, PathItem, PathStyle, Paths, ReferenceOr, Response, Responses, Schema,
    SchemaData, SchemaKind, SecurityRequirement, SecurityScheme, Server, ServerVariable,
    StringType, Tag, Type,
};
use serde_json::{Map, Value, json};

use super::{IMPORT_EXPORT_VERSION, OPENAPI_VERSION};
use crate::{
    AUTHORIZATION_AWS_IAM, AUTHORIZATION_CUSTOM, AUTHORIZATION_JWT, AUTHORIZER_JWT, Api,
    Authorizer, Cors, Integration, Route, RouteKey, parse_route_target,
};

/// The security scheme AWS names for routes with IAM (SigV4) authorization.
pub const SIGV4_SCHEME: &str = "sigv4";
const DEFAULT_ROUTE_PATH: &str = "/$default";

/// What an export is made from: the API's current configuration, or what a stage's
/// deployment froze.
pub struct ExportSource<'a> {
    pub api: &'a Api,
    pub routes: &'a [Route],
    pub integrations: &'a [Integration],
    pub authorizers: &'a [Authorizer],
    pub cors: Option<&'a Cors>,
    pub server: Option<ExportedServer>,
    pub include_extensions: bool,
}

/// `servers[0]`: where the API (or the stage) is invoked.
pub struct ExportedServer {
    /// The API's endpoint, without a trailing `/`.
    pub endpoint: String,
    /// The `basePath` variable's default: the stage name, empty for `$default`.
    pub base_path: String,
}

pub fn export_document(source: &ExportSource<'_>) -> OpenAPI {
    let api = source.api;
    let ext = source.include_extensions;
    let mut doc = OpenAPI {
        openapi: OPENAPI_VERSION.to_string(),
        info: Info {
            title: api.name.clone(),
            description: api.description.clone(),
            version: api
                .version
                .clone()
                .unwrap_or_else(|| version_from_date(&api.created_date)),
            ..Default::default()
        },
        ..Default::default()
    };
    if let Some(server) = &source.server {
        doc.servers.push(Server {
            url: format!("{}/{{basePath}}", server.endpoint),
            variables: Some(IndexMap::from([(
                "basePath".to_string(),
                ServerVariable {
                    default: server.base_path.clone(),
                    // openapiv3 writes an absent description as `null`, which OpenAPI
                    // does not allow: say what the variable is instead.
                    description: Some("The stage: empty for $default".to_string()),
                    ..Default::default()
                },
            )])),
            ..Default::default()
        });
    }
    let (shared, components_integrations) = if ext {
        shared_integrations(source)
    } else {
        Default::default()
    };
    doc.paths = paths(source, &shared);
    let schemes = security_schemes(source);
    if !schemes.is_empty() || !components_integrations.is_empty() {
        let mut components = Components {
            security_schemes: schemes,
            ..Default::default()
        };
        if !components_integrations.is_empty() {
            components.extensions.insert(
                "x-amazon-apigateway-integrations".to_string(),
                Value::Object(components_integrations),
            );
        }
        doc.components = Some(components);
    }
    if ext {
        if let Some(cors) = source.cors {
            doc.extensions.insert(
                "x-amazon-apigateway-cors".to_string(),
                serde_json::to_value(cors).unwrap_or_default(),
            );
        }
        // OpenAPI 3.0 carries it on the server object.
        if api.disable_execute_api_endpoint
            && let Some(server) = doc.servers.first_mut()
        {
            server.extensions.insert(
                "x-amazon-apigateway-endpoint-configuration".to_string(),
                json!({ "disableExecuteApiEndpoint": true }),
            );
        }
        doc.extensions.insert(
            "x-amazon-apigateway-importexport-version".to_string(),
            Value::String(IMPORT_EXPORT_VERSION.to_string()),
        );
        // Without the extension a tag's value would be lost: tags go with it.
        doc.tags = api
            .tags
            .iter()
            .map(|(name, value)| Tag {
                name: name.clone(),
                extensions: IndexMap::from([(
                    "x-amazon-apigateway-tag-value".to_string(),
                    Value::String(value.clone()),
                )]),
                ..Default::default()
            })
            .collect();
    }
    doc
}

/// An API without a version is exported with its creation time as AWS writes it,
/// `2026-12-01 10:00:00UTC`.
fn version_from_date(created: &str) -> String {
    match created.strip_suffix('Z') {
        Some(at) => format!("{}UTC", at.replacen('T', " ", 1)),
        None => created.to_string(),
    }
}

/// The path a route key puts its operation under, and its method (`ANY` included).
fn path_and_method(route: &Route) -> Option<(String, String)> {
    match RouteKey::parse(&route.route_key).ok()? {
        RouteKey::Default => Some((DEFAULT_ROUTE_PATH.to_string(), "ANY".to_string())),
        RouteKey::Route { method, .. } => {
            let (_, path) = route.route_key.split_once(' ')?;
            Some((path.to_string(), method.as_str().to_string()))
        }
    }
}

fn method_rank(method: &str) -> usize {
    [
        "GET", "PUT", "POST", "DELETE", "OPTIONS", "HEAD", "PATCH", "ANY",
    ]
    .iter()
    .position(|m| *m == method)
    .unwrap_or(usize::MAX)
}

/// The exported routes, in the document's order.
fn sorted_routes<'a>(source: &ExportSource<'a>) -> Vec<(String, String, &'a Route)> {
    let mut routes: Vec<(String, String, &Route)> = source
        .routes
        .iter()
        .filter_map(|r| path_and_method(r).map(|(p, m)| (p, m, r)))
        .collect();
    routes
        .sort_by(|a, b| (a.0.as_str(), method_rank(&a.1)).cmp(&(b.0.as_str(), method_rank(&b.1))));
    routes
}

fn target_id(route: &Route) -> Option<&str> {
    route
        .target
        .as_deref()
        .and_then(|t| parse_route_target(t).ok())
}

/// Integrations that several routes use, and those no route uses, go into
/// `components.x-amazon-apigateway-integrations` (routes refer to the shared ones with
/// `$ref`), so an import makes them again as they were: one shared integration, and the
/// unused ones too. Their names come from the document's order, not their ids, so two
/// APIs built alike export alike. Returns each shared id's name, and the components.
fn shared_integrations(source: &ExportSource<'_>) -> (HashMap<String, String>, Map<String, Value>) {
    let mut uses: HashMap<&str, usize> = HashMap::new();
    let mut first_use: Vec<&str> = Vec::new();
    for (_, _, route) in sorted_routes(source) {
        if let Some(id) = target_id(route) {
            let n = uses.entry(id).or_insert(0);
            if *n == 0 {
                first_use.push(id);
            }
            *n += 1;
        }
    }
    let mut names = HashMap::new();
    let mut components = Map::new();
    for id in first_use.into_iter().filter(|id| uses[id] > 1) {
        if let Some(i) = source.integrations.iter().find(|i| i.integration_id == id) {
            let name = format!("integration{}", names.len() + 1);
            components.insert(name.clone(), integration_extension(i));
            names.insert(id.to_string(), name);
        }
    }
    let mut unused: Vec<Value> = source
        .integrations
        .iter()
        .filter(|i| !uses.contains_key(i.integration_id.as_str()))
        .map(integration_extension)
        .collect();
    unused.sort_by_key(|v| v.to_string());
    for (n, v) in unused.into_iter().enumerate() {
        components.insert(format!("unusedIntegration{}", n + 1), v);
    }
    (names, components)
}

fn paths(source: &ExportSource<'_>, shared: &HashMap<String, String>) -> Paths {
    let routes = sorted_routes(source);
    let mut paths = Paths::default();
    for (path, method, route) in routes {
        if method == "ANY" && !source.include_extensions {
            // ANY has no OpenAPI method: only the extension can say it.
            continue;
        }
        let operation = operation(source, route, &path, shared);
        let item = paths
            .paths
            .entry(path)
            .or_insert_with(|| ReferenceOr::Item(PathItem::default()));
        let ReferenceOr::Item(item) = item else {
            continue;
        };
        let slot = match method.as_str() {
            "GET" => &mut item.get,
            "PUT" => &mut item.put,
            "POST" => &mut item.post,
            "DELETE" => &mut item.delete,
            "OPTIONS" => &mut item.options,
            "HEAD" => &mut item.head,
            "PATCH" => &mut item.patch,
            _ => {
                let mut value = serde_json::to_value(&operation).unwrap_or_default();
                if route.route_key == "$default"
                    && let Value::Object(map) = &mut value
                {
                    map.insert("isDefaultRoute".to_string(), Value::Bool(true));
                }
                item.extensions
                    .insert("x-amazon-apigateway-any-method".to_string(), value);
                continue;
            }
        };
        *slot = Some(operation);
    }
    paths
}

/// `{name}` and `{name+}` of a path, as OpenAPI names them.
fn path_parameters(path: &str) -> impl Iterator<Item = &str> {
    path.split('/')
        .filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
}

fn operation(
    source: &ExportSource<'_>,
    route: &Route,
    path: &str,
    shared: &HashMap<String, String>,
) -> Operation {
    let mut op = Operation {
        operation_id: route.operation_name.clone(),
        responses: Responses {
            default: Some(ReferenceOr::Item(Response {
                description: format!("Default response for {}", route.route_key),
                ..Default::default()
            })),
            ..Default::default()
        },
        ..Default::default()
    };
    for name in path_parameters(path) {
        op.parameters.push(ReferenceOr::Item(Parameter::Path {
            parameter_data: ParameterData {
                name: name.to_string(),
                description: Some(format!("Generated path parameter for {name}")),
                required: true,
                deprecated: None,
                format: ParameterSchemaOrContent::Schema(ReferenceOr::Item(Schema {
                    schema_data: SchemaData::default(),
                    schema_kind: SchemaKind::Type(Type::String(StringType::default())),
                })),
                example: None,
                examples: IndexMap::new(),
                explode: None,
                extensions: IndexMap::new(),
            },
            style: PathStyle::Simple,
        }));
    }
    let scheme = match route.authorization_type.as_str() {
        AUTHORIZATION_JWT | AUTHORIZATION_CUSTOM => route
            .authorizer_id
            .as_ref()
            .and_then(|id| source.authorizers.iter().find(|a| &a.authorizer_id == id))
            .map(|a| a.name.clone()),
        AUTHORIZATION_AWS_IAM => Some(SIGV4_SCHEME.to_string()),
        _ => None,
    };
    if let Some(scheme) = scheme {
        let requirement: SecurityRequirement =
            IndexMap::from([(scheme, route.authorization_scopes.clone())]);
        op.security = Some(vec![requirement]);
    }
    if source.include_extensions
        && let Some(id) = target_id(route)
    {
        let value = match shared.get(id) {
            Some(name) => Some(json!({
                "$ref": format!("#/components/x-amazon-apigateway-integrations/{name}")
            })),
            None => source
                .integrations
                .iter()
                .find(|i| i.integration_id == id)
                .map(integration_extension),
        };
        if let Some(value) = value {
            op.extensions
                .insert("x-amazon-apigateway-integration".to_string(), value);
        }
    }
    op
}

fn integration_extension(i: &Integration) -> Value {
    let mut map = Map::new();
    map.insert(
        "type".into(),
        Value::String(i.integration_type.to_ascii_lowercase()),
    );
    map.insert("uri".into(), Value::String(i.integration_uri.clone()));
    map.insert(
        "httpMethod".into(),
        Value::String(i.integration_method.clone()),
    );
    map.insert(
        "payloadFormatVersion".into(),
        Value::String(i.payload_format_version.clone()),
    );
    map.insert(
        "connectionType".into(),
        Value::String(i.connection_type.clone()),
    );
    if let Some(id) = &i.connection_id {
        map.insert("connectionId".into(), Value::String(id.clone()));
    }
    if let Some(tls) = &i.tls_config {
        map.insert(
            "tlsConfig".into(),
            serde_json::to_value(tls).unwrap_or_default(),
        );
    }
    map.insert("timeoutInMillis".into(), Value::from(i.timeout_in_millis));
    if !i.request_parameters.is_empty() {
        map.insert(
            "requestParameters".into(),
            serde_json::to_value(&i.request_parameters).unwrap_or_default(),
        );
    }
    if !i.response_parameters.is_empty() {
        map.insert(
            "responseParameters".into(),
            serde_json::to_value(&i.response_parameters).unwrap_or_default(),
        );
    }
    Value::Object(map)
}

fn authorizer_extension(a: &Authorizer) -> Value {
    let mut map = Map::new();
    let kind = if a.authorizer_type == AUTHORIZER_JWT {
        "jwt"
    } else {
        "request"
    };
    map.insert("type".into(), Value::String(kind.into()));
    if !a.identity_source.is_empty() {
        // AWS writes the sources as one comma-separated string.
        map.insert(
            "identitySource".into(),
            Value::String(a.identity_source.join(", ")),
        );
    }
    if let Some(jwt) = &a.jwt_configuration {
        map.insert(
            "jwtConfiguration".into(),
            serde_json::to_value(jwt).unwrap_or_default(),
        );
    }
    let optional = [
        ("authorizerUri", a.authorizer_uri.clone().map(Value::String)),
        (
            "authorizerPayloadFormatVersion",
            a.authorizer_payload_format_version
                .clone()
                .map(Value::String),
        ),
        (
            "authorizerResultTtlInSeconds",
            a.authorizer_result_ttl_in_seconds.map(Value::from),
        ),
        (
            "enableSimpleResponses",
            a.enable_simple_responses.map(Value::Bool),
        ),
        (
            "authorizerCredentials",
            a.authorizer_credentials_arn.clone().map(Value::String),
        ),
    ];
    for (key, value) in optional {
        if let Some(v) = value {
            map.insert(key.into(), v);
        }
    }
    Value::Object(map)
}

fn security_schemes(source: &ExportSource<'_>) -> IndexMap<String, ReferenceOr<SecurityScheme>> {
    let mut authorizers: Vec<&Authorizer> = source.authorizers.iter().collect();
    authorizers.sort_by(|a, b| a.name.cmp(&b.name));
    let mut schemes = IndexMap::new();
    let extensions = |value: Value| {
        if source.include_extensions {
            IndexMap::from([("x-amazon-apigateway-authorizer".to_string(), value)])
        } else {
            IndexMap::new()
        }
    };
    for a in authorizers {
        let scheme = if a.authorizer_type == AUTHORIZER_JWT {
            SecurityScheme::OAuth2 {
                flows: OAuth2Flows::default(),
                description: None,
                extensions: extensions(authorizer_extension(a)),
            }
        } else {
            // The key a Lambda authorizer reads is in its identity sources; AWS names
            // the OpenAPI side of it "Unused".
            SecurityScheme::APIKey {
                location: APIKeyLocation::Header,
                name: "Unused".to_string(),
                description: None,
                extensions: extensions(authorizer_extension(a)),
            }
        };
        schemes.insert(a.name.clone(), ReferenceOr::Item(scheme));
    }
    if source
        .routes
        .iter()
        .any(|r| r.authorization_type == AUTHORIZATION_AWS_IAM)
    {
        let mut extensions = IndexMap::new();
        if source.include_extensions {
            extensions.insert(
                "x-amazon-apigateway-authtype".to_string(),
                Value::String("awsSigv4".to_string()),
            );
        }
        schemes.insert(
            SIGV4_SCHEME.to_string(),
            ReferenceOr::Item(SecurityScheme::APIKey {
                location: APIKeyLocation::Header,
                name: "Authorization".to_string(),
                description: None,
                extensions,
            }),
        );
    }
    schemes
}
