//! Reading an OpenAPI 3.0 document (JSON or YAML) into what ImportApi creates, by AWS's
//! rules for HTTP APIs ("Working with OpenAPI definitions for HTTP APIs", the
//! `x-amazon-apigateway-integration(s)`, `-authorizer`, `-cors` and `-any-method` objects,
//! and "Set the OpenAPI basePath property"). Errors are for documents Portico cannot
//! import faithfully and name the JSON pointer of the offending value; warnings are for
//! what it imports without (REST-only extensions, fields with no HTTP API meaning), as
//! AWS's `Warnings` are.
use std::collections::{BTreeMap, HashMap};

use serde_json::{Map, Value};

use super::IMPORT_EXPORT_VERSION;
use super::pointer::child;
use crate::{
    AUTHORIZATION_AWS_IAM, AUTHORIZATION_CUSTOM, AUTHORIZATION_JWT, AUTHORIZATION_NONE,
    AUTHORIZER_JWT, AUTHORIZER_REQUEST, CONNECTION_VPC_LINK, Cors, CreateAuthorizer,
    CreateIntegration, INTEGRATION_AWS_PROXY, INTEGRATION_HTTP_PROXY, JwtConfiguration, RouteKey,
    TlsConfig, ValidationError, validate_api_name, validate_authorizer, validate_cors,
    validate_description, validate_integration, validate_route_authorization, validate_tags,
};

/// How the document's base path (`servers[0]`'s `basePath` variable, or its URL's path)
/// shapes the route paths, as ImportApi's `basepath` parameter says.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Basepath {
    /// The base path is not part of any route.
    #[default]
    Ignore,
    /// Every route path starts with the whole base path.
    Prepend,
    /// The base path's first segment is dropped (on AWS it names a stage) and the rest
    /// is prepended.
    Split,
}

impl Basepath {
    pub fn parse(value: &str) -> Result<Self, ValidationError> {
        match value {
            "ignore" => Ok(Basepath::Ignore),
            "prepend" => Ok(Basepath::Prepend),
            "split" => Ok(Basepath::Split),
            other => Err(ValidationError::new(
                "basepath",
                format!("Invalid basepath '{other}': use ignore, prepend or split"),
            )),
        }
    }
}

/// A document Portico cannot import, and where in it the problem is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message} (at {})", if pointer.is_empty() { "/" } else { pointer.as_str() })]
pub struct ImportError {
    /// A JSON pointer into the document; empty for the document as a whole.
    pub pointer: String,
    pub message: String,
}

fn error(pointer: &str, message: impl Into<String>) -> ImportError {
    ImportError {
        pointer: pointer.to_string(),
        message: message.into(),
    }
}

/// What importing the document creates. Integrations and authorizers are referred to by
/// their index here; the control plane gives them ids when it writes them.
#[derive(Debug, Clone)]
pub struct ImportPlan {
    pub name: String,
    pub description: Option<String>,
    pub version: Option<String>,
    pub tags: BTreeMap<String, String>,
    pub cors_configuration: Option<Cors>,
    pub disable_execute_api_endpoint: bool,
    pub integrations: Vec<CreateIntegration>,
    pub authorizers: Vec<CreateAuthorizer>,
    pub routes: Vec<PlannedRoute>,
    /// `POINTER: what was left out and why`, in document order.
    pub warnings: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedRoute {
    pub route_key: String,
    /// Index into `ImportPlan::integrations`.
    pub integration: Option<usize>,
    pub authorization_type: String,
    /// Index into `ImportPlan::authorizers`.
    pub authorizer: Option<usize>,
    pub authorization_scopes: Vec<String>,
    pub operation_name: Option<String>,
}

const OPERATIONS: [(&str, &str); 7] = [
    ("get", "GET"),
    ("put", "PUT"),
    ("post", "POST"),
    ("delete", "DELETE"),
    ("options", "OPTIONS"),
    ("head", "HEAD"),
    ("patch", "PATCH"),
];
const ANY_METHOD: &str = "x-amazon-apigateway-any-method";
const INTEGRATION: &str = "x-amazon-apigateway-integration";
const AUTHORIZER: &str = "x-amazon-apigateway-authorizer";
const AUTHTYPE: &str = "x-amazon-apigateway-authtype";
const CORS: &str = "x-amazon-apigateway-cors";
const ENDPOINT_CONFIGURATION: &str = "x-amazon-apigateway-endpoint-configuration";
const IMPORTEXPORT_VERSION: &str = "x-amazon-apigateway-importexport-version";
const TAG_VALUE: &str = "x-amazon-apigateway-tag-value";
const AWS_EXTENSION: &str = "x-amazon-apigateway-";
/// `$ref`s followed in a row before the document is called circular.
const MAX_REF_HOPS: usize = 32;

/// Parses `text` (JSON, or YAML when it does not start with `{`) and plans its import.
pub fn plan_import(text: &str, basepath: Basepath) -> Result<ImportPlan, ImportError> {
    let root = parse_text(text)?;
    Reader {
        root: &root,
        warnings: Vec::new(),
    }
    .plan(basepath)
}

fn parse_text(text: &str) -> Result<Value, ImportError> {
    let trimmed = text.trim_start_matches('\u{feff}').trim_start();
    if trimmed.is_empty() {
        return Err(error("", "The OpenAPI document is empty"));
    }
    if trimmed.starts_with('{') {
        return serde_json::from_str(trimmed)
            .map_err(|e| error("", format!("The OpenAPI document is not valid JSON: {e}")));
    }
    let mut yaml: serde_yaml_ng::Value = serde_yaml_ng::from_str(trimmed).map_err(|e| {
        error(
            "",
            format!("The OpenAPI document is not valid JSON or YAML: {e}"),
        )
    })?;
    yaml.apply_merge()
        .map_err(|e| error("", format!("The OpenAPI document's YAML merge keys: {e}")))?;
    yaml_to_json(yaml, "")
}

/// YAML to JSON values. YAML keys may be numbers or booleans (`200:` under responses),
/// which JSON keys spell as strings.
fn yaml_to_json(value: serde_yaml_ng::Value, at: &str) -> Result<Value, ImportError> {
    use serde_yaml_ng::Value as Y;
    Ok(match value {
        Y::Null => Value::Null,
        Y::Bool(b) => Value::Bool(b),
        Y::Number(n) => {
            if let Some(i) = n.as_i64() {
                Value::from(i)
            } else if let Some(u) = n.as_u64() {
                Value::from(u)
            } else {
                n.as_f64()
                    .and_then(serde_json::Number::from_f64)
                    .map(Value::Number)
                    .ok_or_else(|| error(at, format!("{n} is not a number JSON can hold")))?
            }
        }
        Y::String(s) => Value::String(s),
        Y::Sequence(items) => Value::Array(
            items
                .into_iter()
                .enumerate()
                .map(|(i, v)| yaml_to_json(v, &child(at, &i.to_string())))
                .collect::<Result<_, _>>()?,
        ),
        Y::Mapping(map) => {
            let mut out = Map::new();
            for (k, v) in map {
                let key = match k {
                    Y::String(s) => s,
                    Y::Number(n) => n.to_string(),
                    Y::Bool(b) => b.to_string(),
                    Y::Null => "null".to_string(),
                    _ => return Err(error(at, "A mapping key is not a scalar")),
                };
                let value = yaml_to_json(v, &child(at, &key))?;
                out.insert(key, value);
            }
            Value::Object(out)
        }
        Y::Tagged(tagged) => yaml_to_json(tagged.value, at)?,
    })
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn as_object<'a>(v: &'a Value, at: &str) -> Result<&'a Map<String, Value>, ImportError> {
    v.as_object()
        .ok_or_else(|| error(at, format!("Expected an object, found {}", kind(v))))
}

fn as_str<'a>(v: &'a Value, at: &str) -> Result<&'a str, ImportError> {
    v.as_str()
        .ok_or_else(|| error(at, format!("Expected a string, found {}", kind(v))))
}

fn as_bool(v: &Value, at: &str) -> Result<bool, ImportError> {
    v.as_bool()
        .ok_or_else(|| error(at, format!("Expected a boolean, found {}", kind(v))))
}

/// A number, or a string of digits (YAML documents quote them as often as not).
fn as_u32(v: &Value, at: &str) -> Result<u32, ImportError> {
    let n = match v {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.parse::<u64>().ok(),
        _ => None,
    };
    n.and_then(|n| u32::try_from(n).ok()).ok_or_else(|| {
        error(
            at,
            format!("Expected a whole number, found {}", describe(v)),
        )
    })
}

fn describe(v: &Value) -> String {
    match v {
        Value::String(s) => format!("'{s}'"),
        Value::Number(n) => n.to_string(),
        other => kind(other).to_string(),
    }
}

/// A list of strings; one string is taken as a list of one.
fn string_list(v: &Value, at: &str) -> Result<Vec<String>, ImportError> {
    match v {
        Value::String(s) => Ok(vec![s.clone()]),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .map(|(i, item)| as_str(item, &child(at, &i.to_string())).map(str::to_string))
            .collect(),
        other => Err(error(
            at,
            format!("Expected a list of strings, found {}", kind(other)),
        )),
    }
}

/// Mapping values; YAML's unquoted `410` or `true` are the strings they spell.
fn string_map(v: &Value, at: &str) -> Result<BTreeMap<String, String>, ImportError> {
    as_object(v, at)?
        .iter()
        .map(|(k, v)| {
            let value = match v {
                Value::Number(n) => n.to_string(),
                Value::Bool(b) => b.to_string(),
                other => as_str(other, &child(at, k))?.to_string(),
            };
            Ok((k.clone(), value))
        })
        .collect()
}

/// A validation rule broken by a value under `at`: the pointer names the field, spelled
/// as the extension spells it.
fn invalid(at: &str, e: ValidationError, field_names: &[(&str, &str)]) -> ImportError {
    let field = field_names
        .iter()
        .find(|(ours, _)| *ours == e.field)
        .map_or(e.field, |(_, theirs)| theirs);
    // `jwtConfiguration.issuer` is two members deep.
    let pointer = field.split('.').fold(at.to_string(), |p, f| child(&p, f));
    error(&pointer, e.message)
}

const INTEGRATION_FIELDS: [(&str, &str); 5] = [
    ("integrationType", "type"),
    ("integrationUri", "uri"),
    ("integrationMethod", "httpMethod"),
    ("integrationSubtype", "integrationSubtype"),
    ("credentialsArn", "credentials"),
];
const AUTHORIZER_FIELDS: [(&str, &str); 3] = [
    ("authorizerType", "type"),
    ("authorizerCredentialsArn", "authorizerCredentials"),
    ("jwtConfiguration", "jwtConfiguration"),
];

struct Reader<'a> {
    root: &'a Value,
    warnings: Vec<String>,
}

/// An authorization a security scheme gives the routes that name it.
#[derive(Clone, Copy)]
enum Scheme {
    Authorizer(usize),
    Iam,
    /// A scheme without API Gateway's extension: Portico cannot enforce it.
    Unenforced,
}

impl<'a> Reader<'a> {
    fn warn(&mut self, at: &str, message: impl std::fmt::Display) {
        let at = if at.is_empty() { "/" } else { at };
        self.warnings.push(format!("{at}: {message}"));
    }

    /// Follows `$ref`s from `v` (at `at`) to the value they name and its pointer.
    fn resolve(&self, v: &'a Value, at: &str) -> Result<(&'a Value, String), ImportError> {
        let mut value = v;
        let mut pointer = at.to_string();
        for _ in 0..MAX_REF_HOPS {
            let Some(reference) = value.as_object().and_then(|m| m.get("$ref")) else {
                return Ok((value, pointer));
            };
            let ref_at = child(&pointer, "$ref");
            let reference = as_str(reference, &ref_at)?;
            let Some(target) = reference.strip_prefix('#') else {
                return Err(error(
                    &ref_at,
                    format!(
                        "'{reference}' refers outside the document; only references within it (#/...) can be imported"
                    ),
                ));
            };
            value = self.root.pointer(target).ok_or_else(|| {
                error(
                    &ref_at,
                    format!("'{reference}' names nothing in the document"),
                )
            })?;
            pointer = target.to_string();
        }
        Err(error(at, "The $ref chain is circular or too long"))
    }

    fn plan(mut self, basepath: Basepath) -> Result<ImportPlan, ImportError> {
        let root = as_object(self.root, "")?;
        if root.contains_key("swagger") {
            return Err(error(
                "/swagger",
                "OpenAPI 2.0 (swagger) documents are not imported; convert the document to OpenAPI 3.0",
            ));
        }
        let version = root
            .get("openapi")
            .ok_or_else(|| error("/openapi", "The document has no 'openapi' version"))?;
        let version = as_str(version, "/openapi")?;
        if !version.starts_with("3.0.") && version != "3.0" {
            return Err(error(
                "/openapi",
                format!(
                    "OpenAPI {version} is not supported: HTTP APIs import OpenAPI 3.0 documents"
                ),
            ));
        }
        let info = root
            .get("info")
            .ok_or_else(|| error("/info", "The document has no 'info' object"))?;
        let info = as_object(info, "/info")?;
        let title = info
            .get("title")
            .ok_or_else(|| error("/info/title", "The document has no 'info.title'"))?;
        let name = as_str(title, "/info/title")?.to_string();
        validate_api_name(&name).map_err(|e| error("/info/title", e.message))?;
        let description = match info.get("description") {
            Some(d) => {
                let d = as_str(d, "/info/description")?.to_string();
                validate_description("description", &d)
                    .map_err(|e| error("/info/description", e.message))?;
                Some(d)
            }
            None => None,
        };
        let api_version = match info.get("version") {
            Some(v @ Value::Number(_)) => Some(v.to_string()),
            Some(v) => Some(as_str(v, "/info/version")?.to_string()),
            None => None,
        };

        let prefix = self.base_path_prefix(root, basepath)?;
        let mut plan = ImportPlan {
            name,
            description,
            version: api_version,
            tags: self.tags(root)?,
            cors_configuration: self.cors(root)?,
            disable_execute_api_endpoint: self.endpoint_configuration(root)?,
            integrations: Vec::new(),
            authorizers: Vec::new(),
            routes: Vec::new(),
            warnings: Vec::new(),
        };
        let schemes = self.security_schemes(root, &mut plan.authorizers)?;
        let default_security = root.get("security").map(|s| (s, "/security".to_string()));
        self.top_level_extensions(root);

        let paths = root
            .get("paths")
            .ok_or_else(|| error("/paths", "The document has no 'paths' object"))?;
        let paths = as_object(paths, "/paths")?;
        let mut shared: HashMap<String, usize> = HashMap::new();
        let mut taken: HashMap<String, (String, String)> = HashMap::new();
        for (path, item) in paths {
            let item_at = child("/paths", path);
            if path.starts_with("x-") {
                continue;
            }
            if !path.starts_with('/') {
                return Err(error(
                    &item_at,
                    format!("Path '{path}' must start with '/'"),
                ));
            }
            let (item, item_at) = self.resolve(item, &item_at)?;
            let item = as_object(item, &item_at)?;
            for (key, op) in item {
                let op_at = child(&item_at, key);
                let method = if key == ANY_METHOD {
                    "ANY"
                } else if let Some((_, m)) = OPERATIONS.iter().find(|(k, _)| k == key) {
                    m
                } else {
                    match key.as_str() {
                        "trace" => self.warn(&op_at, "TRACE routes are not supported; ignored"),
                        k if k.starts_with(AWS_EXTENSION) => self.warn(
                            &op_at,
                            format!("{k} has no meaning for an HTTP API's path; ignored"),
                        ),
                        _ => {}
                    }
                    continue;
                };
                let op = as_object(op, &op_at)?;
                let is_default = match op.get("isDefaultRoute") {
                    Some(v) if key == ANY_METHOD => as_bool(v, &child(&op_at, "isDefaultRoute"))?,
                    _ => false,
                };
                let route_key = if is_default || path == "/$default" {
                    if key != ANY_METHOD {
                        return Err(error(
                            &op_at,
                            format!("The $default route is defined with {ANY_METHOD}, not '{key}'"),
                        ));
                    }
                    "$default".to_string()
                } else {
                    format!("{method} {}", join_path(&prefix, path))
                };
                let parsed = RouteKey::parse(&route_key).map_err(|e| error(&op_at, e.message))?;
                let shape = match &parsed {
                    RouteKey::Default => "$default".to_string(),
                    RouteKey::Route { method, path } => {
                        format!("{} {}", method.as_str(), path.shape())
                    }
                };
                if let Some((other, other_at)) = taken.get(&shape) {
                    return Err(error(
                        &op_at,
                        format!(
                            "Route '{route_key}' matches the same requests as route '{other}' (at {other_at})"
                        ),
                    ));
                }
                taken.insert(shape, (route_key.clone(), op_at.clone()));
                let route = self.route(
                    route_key,
                    op,
                    &op_at,
                    &schemes,
                    &plan.authorizers,
                    default_security.as_ref().map(|(s, a)| (*s, a.as_str())),
                    &mut plan.integrations,
                    &mut shared,
                )?;
                plan.routes.push(route);
            }
        }
        self.unused_integrations(root, &mut plan.integrations, &shared)?;
        plan.warnings = self.warnings;
        Ok(plan)
    }

    /// The path every route gets in front of its own, from `servers[0]`.
    fn base_path_prefix(
        &mut self,
        root: &Map<String, Value>,
        basepath: Basepath,
    ) -> Result<String, ImportError> {
        let Some(servers) = root.get("servers") else {
            return Ok(String::new());
        };
        let Some(first) = servers
            .as_array()
            .ok_or_else(|| error("/servers", "Expected an array of servers"))?
            .first()
        else {
            return Ok(String::new());
        };
        let server = as_object(first, "/servers/0")?;
        let from_variable = server
            .get("variables")
            .and_then(|v| v.get("basePath"))
            .and_then(|v| v.get("default"));
        let base = match from_variable {
            Some(v) => as_str(v, "/servers/0/variables/basePath/default")?.to_string(),
            None => {
                let url = match server.get("url") {
                    Some(u) => as_str(u, "/servers/0/url")?,
                    None => "",
                };
                let after_scheme = url.split_once("://").map_or(url, |(_, rest)| rest);
                match after_scheme.find('/') {
                    // `{basePath}` in the URL with no default adds nothing.
                    Some(i) => after_scheme[i..].replace("{basePath}", ""),
                    None => String::new(),
                }
            }
        };
        let segments: Vec<&str> = base.split('/').filter(|s| !s.is_empty()).collect();
        let kept: &[&str] = match basepath {
            Basepath::Ignore => &[],
            Basepath::Prepend => &segments,
            Basepath::Split => segments.get(1..).unwrap_or(&[]),
        };
        if kept.iter().any(|s| s.contains(['{', '}'])) {
            return Err(error(
                "/servers/0",
                format!("The base path '{base}' has a variable Portico cannot put in a route"),
            ));
        }
        Ok(kept.iter().map(|s| format!("/{s}")).collect())
    }

    fn tags(&mut self, root: &Map<String, Value>) -> Result<BTreeMap<String, String>, ImportError> {
        let mut tags = BTreeMap::new();
        let Some(list) = root.get("tags") else {
            return Ok(tags);
        };
        let list = list
            .as_array()
            .ok_or_else(|| error("/tags", format!("Expected an array, found {}", kind(list))))?;
        for (i, tag) in list.iter().enumerate() {
            let at = child("/tags", &i.to_string());
            let tag = as_object(tag, &at)?;
            let name = tag
                .get("name")
                .ok_or_else(|| error(&at, "A tag has no 'name'"))?;
            let name = as_str(name, &child(&at, "name"))?.to_string();
            let value = match tag.get(TAG_VALUE) {
                Some(v) => as_str(v, &child(&at, TAG_VALUE))?.to_string(),
                None => String::new(),
            };
            tags.insert(name, value);
        }
        validate_tags(&tags).map_err(|e| error("/tags", e.message))?;
        Ok(tags)
    }

    fn cors(&mut self, root: &Map<String, Value>) -> Result<Option<Cors>, ImportError> {
        let Some(v) = root.get(CORS) else {
            return Ok(None);
        };
        let at = child("", CORS);
        let (v, at) = self.resolve(v, &at)?;
        as_object(v, &at)?;
        let cors: Cors =
            serde_json::from_value(v.clone()).map_err(|e| error(&at, e.to_string()))?;
        validate_cors(&cors).map_err(|e| error(&child(&at, e.field), e.message))?;
        Ok(Some(cors))
    }

    /// `x-amazon-apigateway-endpoint-configuration`: under `servers[0]` in OpenAPI 3.0
    /// (AWS's place for it), or at the document's root.
    fn endpoint_configuration(&mut self, root: &Map<String, Value>) -> Result<bool, ImportError> {
        let in_server = root
            .get("servers")
            .and_then(|s| s.get(0))
            .and_then(|s| s.get(ENDPOINT_CONFIGURATION));
        let (v, at) = match (in_server, root.get(ENDPOINT_CONFIGURATION)) {
            (Some(v), _) => (v, child("/servers/0", ENDPOINT_CONFIGURATION)),
            (None, Some(v)) => (v, child("", ENDPOINT_CONFIGURATION)),
            (None, None) => return Ok(false),
        };
        let mut disable = false;
        for (key, value) in as_object(v, &at)? {
            let field_at = child(&at, key);
            match key.as_str() {
                "disableExecuteApiEndpoint" => disable = as_bool(value, &field_at)?,
                _ => self.warn(
                    &field_at,
                    format!("{key} is not supported by Portico (no VPC endpoints); ignored"),
                ),
            }
        }
        Ok(disable)
    }

    fn top_level_extensions(&mut self, root: &Map<String, Value>) {
        for (key, value) in root {
            let at = child("", key);
            match key.as_str() {
                CORS | ENDPOINT_CONFIGURATION => {}
                IMPORTEXPORT_VERSION if value.as_str() == Some(IMPORT_EXPORT_VERSION) => {}
                IMPORTEXPORT_VERSION => self.warn(
                    &at,
                    format!(
                        "import/export version {} is not known; read as {IMPORT_EXPORT_VERSION}",
                        describe(value)
                    ),
                ),
                k if k.starts_with(AWS_EXTENSION) => {
                    self.warn(&at, format!("{k} is not supported for HTTP APIs; ignored"))
                }
                _ => {}
            }
        }
    }

    /// Every security scheme with an API Gateway authorizer becomes one, as AWS creates
    /// them whether a route uses them or not.
    fn security_schemes(
        &mut self,
        root: &'a Map<String, Value>,
        authorizers: &mut Vec<CreateAuthorizer>,
    ) -> Result<HashMap<String, Scheme>, ImportError> {
        let mut schemes = HashMap::new();
        let Some(components) = root.get("components") else {
            return Ok(schemes);
        };
        let components = as_object(components, "/components")?;
        for key in components.keys() {
            if key.starts_with(AWS_EXTENSION) && key != "x-amazon-apigateway-integrations" {
                self.warn(
                    &child("/components", key),
                    format!("{key} is not supported for HTTP APIs; ignored"),
                );
            }
        }
        let Some(list) = components.get("securitySchemes") else {
            return Ok(schemes);
        };
        let list_at = "/components/securitySchemes";
        for (name, scheme) in as_object(list, list_at)? {
            let (scheme, at) = self.resolve(scheme, &child(list_at, name))?;
            let scheme = as_object(scheme, &at)?;
            let found = if let Some(authorizer) = scheme.get(AUTHORIZER) {
                // An openIdConnect scheme's URL names the issuer a JWT authorizer
                // leaves out ("x-amazon-apigateway-authorizer object").
                let discovery = match (scheme.get("type"), scheme.get("openIdConnectUrl")) {
                    (Some(Value::String(t)), Some(url)) if t == "openIdConnect" => Some(
                        as_str(url, &child(&at, "openIdConnectUrl"))?
                            .trim_end_matches('/')
                            .trim_end_matches("/.well-known/openid-configuration")
                            .to_string(),
                    ),
                    _ => None,
                };
                let input =
                    self.authorizer(name, authorizer, &child(&at, AUTHORIZER), discovery)?;
                authorizers.push(input);
                Scheme::Authorizer(authorizers.len() - 1)
            } else if let Some(t) = scheme.get(AUTHTYPE) {
                let t_at = child(&at, AUTHTYPE);
                match as_str(t, &t_at)? {
                    t if t.eq_ignore_ascii_case("awsSigv4") => Scheme::Iam,
                    other => {
                        return Err(error(
                            &t_at,
                            format!("Authorization type '{other}' is not supported: use awsSigv4"),
                        ));
                    }
                }
            } else {
                Scheme::Unenforced
            };
            schemes.insert(name.clone(), found);
        }
        Ok(schemes)
    }

    fn authorizer(
        &mut self,
        name: &str,
        v: &'a Value,
        at: &str,
        discovered_issuer: Option<String>,
    ) -> Result<CreateAuthorizer, ImportError> {
        let (v, at) = self.resolve(v, at)?;
        let fields = as_object(v, &at)?;
        let type_at = child(&at, "type");
        let t = fields
            .get("type")
            .ok_or_else(|| error(&type_at, "The authorizer has no 'type'"))?;
        let authorizer_type = match as_str(t, &type_at)?.to_ascii_lowercase().as_str() {
            "jwt" => AUTHORIZER_JWT,
            "request" => AUTHORIZER_REQUEST,
            other => {
                return Err(error(
                    &type_at,
                    format!(
                        "Authorizer type '{other}' is for REST APIs: HTTP APIs use jwt or request"
                    ),
                ));
            }
        };
        let mut input = CreateAuthorizer {
            name: name.to_string(),
            authorizer_type: authorizer_type.to_string(),
            ..Default::default()
        };
        for (key, value) in fields {
            let field_at = child(&at, key);
            match key.as_str() {
                "type" => {}
                "identitySource" => {
                    let sources = match value {
                        // AWS writes several sources as one comma-separated string.
                        Value::String(s) => s
                            .split(',')
                            .map(str::trim)
                            .filter(|s| !s.is_empty())
                            .map(str::to_string)
                            .collect(),
                        other => string_list(other, &field_at)?,
                    };
                    input.identity_source = Some(sources);
                }
                "jwtConfiguration" => {
                    let jwt = as_object(value, &field_at)?;
                    let mut config = JwtConfiguration::default();
                    for (k, v) in jwt {
                        let k_at = child(&field_at, k);
                        match k.as_str() {
                            "issuer" => config.issuer = Some(as_str(v, &k_at)?.to_string()),
                            "audience" => config.audience = string_list(v, &k_at)?,
                            _ => {
                                return Err(error(
                                    &k_at,
                                    format!("Unknown jwtConfiguration field '{k}'"),
                                ));
                            }
                        }
                    }
                    input.jwt_configuration = Some(config);
                }
                "authorizerUri" => {
                    input.authorizer_uri = Some(as_str(value, &field_at)?.to_string())
                }
                "authorizerPayloadFormatVersion" => {
                    input.authorizer_payload_format_version =
                        Some(as_str(value, &field_at)?.to_string())
                }
                "enableSimpleResponses" => {
                    input.enable_simple_responses = Some(as_bool(value, &field_at)?)
                }
                "authorizerResultTtlInSeconds" => {
                    input.authorizer_result_ttl_in_seconds = Some(as_u32(value, &field_at)?)
                }
                "authorizerCredentials" => {
                    input.authorizer_credentials_arn = Some(as_str(value, &field_at)?.to_string())
                }
                "identityValidationExpression" => self.warn(
                    &field_at,
                    "identityValidationExpression is for REST API TOKEN authorizers; ignored",
                ),
                other => self.warn(
                    &field_at,
                    format!("Unknown authorizer field '{other}'; ignored"),
                ),
            }
        }
        if input.authorizer_type == AUTHORIZER_JWT
            && let Some(issuer) = discovered_issuer
        {
            let config = input.jwt_configuration.get_or_insert_with(Default::default);
            if config.issuer.is_none() {
                config.issuer = Some(issuer);
            }
        }
        validate_authorizer(String::new(), &input)
            .map_err(|e| invalid(&at, e, &AUTHORIZER_FIELDS))?;
        Ok(input)
    }

    #[allow(clippy::too_many_arguments)]
    fn route(
        &mut self,
        route_key: String,
        op: &'a Map<String, Value>,
        op_at: &str,
        schemes: &HashMap<String, Scheme>,
        authorizers: &[CreateAuthorizer],
        default_security: Option<(&'a Value, &str)>,
        integrations: &mut Vec<CreateIntegration>,
        shared: &mut HashMap<String, usize>,
    ) -> Result<PlannedRoute, ImportError> {
        let mut route = PlannedRoute {
            route_key,
            integration: None,
            authorization_type: AUTHORIZATION_NONE.to_string(),
            authorizer: None,
            authorization_scopes: Vec::new(),
            operation_name: None,
        };
        for (key, value) in op {
            let at = child(op_at, key);
            match key.as_str() {
                "operationId" => route.operation_name = Some(as_str(value, &at)?.to_string()),
                INTEGRATION => {
                    route.integration = self.integration(value, &at, integrations, shared)?
                }
                "security" | "isDefaultRoute" => {}
                k if k.starts_with(AWS_EXTENSION) => {
                    self.warn(&at, format!("{k} is not supported for HTTP APIs; ignored"))
                }
                _ => {}
            }
        }
        let security = match op.get("security") {
            Some(s) => Some((s, child(op_at, "security"))),
            None => default_security.map(|(s, at)| (s, at.to_string())),
        };
        if let Some((security, at)) = security {
            self.authorization(&mut route, security, &at, schemes, authorizers)?;
        }
        // The same rule CreateRoute applies, with the authorizer named by its index.
        validate_route_authorization(
            &route.authorization_type,
            route.authorizer.map(|_| "imported"),
            &route.authorization_scopes,
            |_| {
                route
                    .authorizer
                    .map(|i| authorizers[i].authorizer_type.clone())
            },
        )
        .map_err(|e| error(op_at, e.message))?;
        Ok(route)
    }

    fn authorization(
        &mut self,
        route: &mut PlannedRoute,
        security: &Value,
        at: &str,
        schemes: &HashMap<String, Scheme>,
        authorizers: &[CreateAuthorizer],
    ) -> Result<(), ImportError> {
        let list = security.as_array().ok_or_else(|| {
            error(
                at,
                format!(
                    "Expected an array of security requirements, found {}",
                    kind(security)
                ),
            )
        })?;
        let Some(first) = list.first() else {
            return Ok(());
        };
        if list.len() > 1 {
            // "Working with OpenAPI definitions for HTTP APIs": modelling several
            // security requirements is an error on AWS.
            return Err(error(
                &child(at, "1"),
                "A route has one authorization: several security requirements cannot be imported",
            ));
        }
        let first_at = child(at, "0");
        let requirement = as_object(first, &first_at)?;
        let mut names = requirement.iter();
        let Some((name, scopes)) = names.next() else {
            return Ok(());
        };
        if names.next().is_some() {
            return Err(error(
                &first_at,
                "A route has one authorization: a requirement naming several schemes cannot be enforced",
            ));
        }
        let name_at = child(&first_at, name);
        let scopes = string_list(scopes, &name_at)?;
        match schemes.get(name) {
            None => {
                return Err(error(
                    &name_at,
                    format!(
                        "Security scheme '{name}' is not defined in components.securitySchemes"
                    ),
                ));
            }
            Some(Scheme::Unenforced) => {
                return Err(error(
                    &name_at,
                    format!(
                        "Security scheme '{name}' has no {AUTHORIZER}: Portico cannot enforce it, and the route would be open"
                    ),
                ));
            }
            Some(Scheme::Iam) => route.authorization_type = AUTHORIZATION_AWS_IAM.to_string(),
            Some(Scheme::Authorizer(i)) => {
                route.authorizer = Some(*i);
                route.authorization_type = if authorizers[*i].authorizer_type == AUTHORIZER_JWT {
                    AUTHORIZATION_JWT
                } else {
                    AUTHORIZATION_CUSTOM
                }
                .to_string();
            }
        }
        route.authorization_scopes = scopes;
        Ok(())
    }

    fn integration(
        &mut self,
        v: &'a Value,
        at: &str,
        integrations: &mut Vec<CreateIntegration>,
        shared: &mut HashMap<String, usize>,
    ) -> Result<Option<usize>, ImportError> {
        let (v, target_at) = self.resolve(v, at)?;
        // Routes that refer to one integration share it, as they do on AWS.
        let is_reference = target_at != at;
        if is_reference && let Some(&i) = shared.get(&target_at) {
            return Ok(Some(i));
        }
        let Some(input) = self.integration_fields(v, &target_at)? else {
            return Ok(None);
        };
        integrations.push(input);
        let index = integrations.len() - 1;
        if is_reference {
            shared.insert(target_at, index);
        }
        Ok(Some(index))
    }

    /// The integrations of `components.x-amazon-apigateway-integrations` that no route
    /// refers to: AWS creates them too (and exports them there).
    fn unused_integrations(
        &mut self,
        root: &'a Map<String, Value>,
        integrations: &mut Vec<CreateIntegration>,
        shared: &HashMap<String, usize>,
    ) -> Result<(), ImportError> {
        let Some(list) = root
            .get("components")
            .and_then(|c| c.get("x-amazon-apigateway-integrations"))
        else {
            return Ok(());
        };
        let list_at = "/components/x-amazon-apigateway-integrations";
        for (name, v) in as_object(list, list_at)? {
            let (v, at) = self.resolve(v, &child(list_at, name))?;
            if shared.contains_key(&at) {
                continue;
            }
            if let Some(input) = self.integration_fields(v, &at)? {
                integrations.push(input);
            }
        }
        Ok(())
    }

    fn integration_fields(
        &mut self,
        v: &Value,
        at: &str,
    ) -> Result<Option<CreateIntegration>, ImportError> {
        let fields = as_object(v, at)?;
        let type_at = child(at, "type");
        let t = fields
            .get("type")
            .ok_or_else(|| error(&type_at, "The integration has no 'type'"))?;
        let integration_type = match as_str(t, &type_at)?.to_ascii_lowercase().as_str() {
            "http_proxy" => INTEGRATION_HTTP_PROXY,
            "aws_proxy" => INTEGRATION_AWS_PROXY,
            // REST APIs' non-proxy types: AWS imports the route without the integration
            // and warns ("Working with OpenAPI definitions for HTTP APIs").
            kind @ ("aws" | "http" | "mock") => {
                self.warn(
                    &type_at,
                    format!(
                        "integration type '{kind}' is for REST APIs: the route is imported without an integration"
                    ),
                );
                return Ok(None);
            }
            other => {
                return Err(error(
                    &type_at,
                    format!(
                        "Integration type '{other}' is not supported for HTTP APIs: use http_proxy or aws_proxy"
                    ),
                ));
            }
        };
        let mut input = CreateIntegration {
            integration_type: integration_type.to_string(),
            ..Default::default()
        };
        for (key, value) in fields {
            let field_at = child(at, key);
            match key.as_str() {
                "type" => {}
                "uri" => input.integration_uri = Some(as_str(value, &field_at)?.to_string()),
                "httpMethod" => {
                    input.integration_method = Some(as_str(value, &field_at)?.to_ascii_uppercase())
                }
                "payloadFormatVersion" => {
                    input.payload_format_version = Some(match value {
                        // YAML's unquoted `2.0` is a number.
                        Value::Number(n) => format!("{:.1}", n.as_f64().unwrap_or_default()),
                        other => as_str(other, &field_at)?.to_string(),
                    })
                }
                "connectionType" => {
                    input.connection_type = Some(as_str(value, &field_at)?.to_ascii_uppercase())
                }
                // A private integration: the VPC link (which must exist where the
                // document is imported) and, below, the TLS settings toward its targets.
                "connectionId" => input.connection_id = Some(as_str(value, &field_at)?.to_string()),
                "timeoutInMillis" => input.timeout_in_millis = Some(as_u32(value, &field_at)?),
                "description" => input.description = Some(as_str(value, &field_at)?.to_string()),
                "requestParameters" => {
                    input.request_parameters = Some(string_map(value, &field_at)?)
                }
                "responseParameters" => {
                    let by_status = as_object(value, &field_at)?
                        .iter()
                        .map(|(status, m)| Ok((status.clone(), string_map(m, &child(&field_at, status))?)))
                        .collect::<Result<_, ImportError>>()?;
                    input.response_parameters = Some(by_status)
                }
                "integrationSubtype" => {
                    return Err(error(
                        &field_at,
                        "AWS service integrations (integrationSubtype) are not supported",
                    ));
                }
                "credentials" => self.warn(
                    &field_at,
                    "integration credentials are not used: Portico calls Lambda with its own credentials",
                ),
                "tlsConfig" => input.tls_config = Some(self.tls_config(value, &field_at)?),
                "passthroughBehavior" | "requestTemplates" | "responses" | "contentHandling"
                | "cacheKeyParameters" | "cacheNamespace" => self.warn(
                    &field_at,
                    format!("{key} is for REST APIs; ignored"),
                ),
                other => self.warn(&field_at, format!("Unknown integration field '{other}'; ignored")),
            }
        }
        // HTTP APIs use tlsConfig for private integrations only; an exported internet
        // integration that carries one imports without it, as before.
        if input.tls_config.is_some()
            && input.connection_type.as_deref() != Some(CONNECTION_VPC_LINK)
        {
            self.warn(
                &child(at, "tlsConfig"),
                "tlsConfig applies to private integrations (connectionType VPC_LINK); ignored",
            );
            input.tls_config = None;
        }
        validate_integration(&input).map_err(|e| invalid(at, e, &INTEGRATION_FIELDS))?;
        Ok(Some(input))
    }

    /// `x-amazon-apigateway-integration.tlsConfig`: `serverNameToVerify` is the HTTP
    /// APIs' member; `insecureSkipVerification` is REST APIs' own.
    fn tls_config(&mut self, v: &Value, at: &str) -> Result<TlsConfig, ImportError> {
        let mut tls = TlsConfig::default();
        for (key, value) in as_object(v, at)? {
            let field_at = child(at, key);
            match key.as_str() {
                "serverNameToVerify" => {
                    tls.server_name_to_verify = Some(as_str(value, &field_at)?.to_string())
                }
                "insecureSkipVerification" => self.warn(
                    &field_at,
                    "insecureSkipVerification is for REST APIs; ignored",
                ),
                other => self.warn(
                    &field_at,
                    format!("Unknown tlsConfig field '{other}'; ignored"),
                ),
            }
        }
        Ok(tls)
    }
}

/// `prefix` (`/v1` or empty) before a route path; `/` alone under a prefix is the prefix.
fn join_path(prefix: &str, path: &str) -> String {
    if prefix.is_empty() {
        path.to_string()
    } else if path == "/" {
        prefix.to_string()
    } else {
        format!("{prefix}{path}")
    }
}
