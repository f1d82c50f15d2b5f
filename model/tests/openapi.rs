//! The OpenAPI importer and exporter on their own: AWS-style documents plan into the
//! resources AWS creates for them, malformed ones fail naming a JSON pointer, export
//! then import gives the same document back, and arbitrary or damaged documents never
//! panic the importer.
//!
//! The rules are AWS's:
//! - "Working with OpenAPI definitions for HTTP APIs":
//!   https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-open-api.html
//! - "x-amazon-apigateway-integration object", "x-amazon-apigateway-integrations object",
//!   "x-amazon-apigateway-authorizer object", "x-amazon-apigateway-cors object",
//!   "x-amazon-apigateway-any-method object" in "Working with API Gateway extensions to
//!   OpenAPI": https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-swagger-extensions.html
//! - "x-amazon-apigateway-integration.tlsConfig object" (same page) and "Working with
//!   private integrations for HTTP APIs":
//!   https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-integrations-private.html
//! - "Set the OpenAPI basePath property":
//!   https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-import-api-basePath.html
use std::collections::BTreeMap;

use portico_model::openapi::{
    Basepath, ExportSource, ExportedServer, ImportPlan, export_document, plan_import,
};
use portico_model::{Api, Authorizer, Cors, Integration, JwtConfiguration, Route};
use proptest::prelude::*;
use serde_json::{Value, json};

const LAMBDA: &str = "arn:aws:lambda:us-east-2:123456789012:function:my-function";

fn aws_style() -> Value {
    json!({
        "openapi": "3.0.1",
        "info": { "title": "pets", "version": "2024-01-01", "description": "Pets" },
        "servers": [{ "url": "https://example.com/{basePath}",
                      "variables": { "basePath": { "default": "v1" } } }],
        "tags": [{ "name": "team", "x-amazon-apigateway-tag-value": "pets" }],
        "paths": {
            "/pets": {
                "get": {
                    "operationId": "listPets",
                    "security": [{ "my-jwt": ["pets:read"] }],
                    "x-amazon-apigateway-integration": {
                        "$ref": "#/components/x-amazon-apigateway-integrations/backend"
                    }
                },
                "post": {
                    "x-amazon-apigateway-integration": {
                        "$ref": "#/components/x-amazon-apigateway-integrations/backend"
                    }
                }
            },
            "/pets/{petId}": {
                "x-amazon-apigateway-any-method": {
                    "security": [{ "lambda-auth": [] }],
                    "x-amazon-apigateway-integration": {
                        "type": "aws_proxy",
                        "httpMethod": "POST",
                        "uri": format!("arn:aws:apigateway:us-east-2:lambda:path/2015-03-31/functions/{LAMBDA}/invocations"),
                        "payloadFormatVersion": "2.0",
                        "passthroughBehavior": "when_no_templates"
                    }
                }
            },
            "/$default": {
                "x-amazon-apigateway-any-method": {
                    "isDefaultRoute": true,
                    "x-amazon-apigateway-integration": {
                        "type": "http_proxy", "httpMethod": "ANY",
                        "uri": "https://fallback.example.com/",
                        "payloadFormatVersion": "1.0", "timeoutInMillis": 5000,
                        "requestParameters": { "append:header.x-from": "$context.requestId" },
                        "responseParameters": { "200": { "overwrite:header.x-seen": "yes" } }
                    }
                }
            }
        },
        "components": {
            "x-amazon-apigateway-integrations": {
                "backend": { "type": "http_proxy", "httpMethod": "GET",
                             "uri": "https://pets.example.com/pets", "payloadFormatVersion": "1.0" }
            },
            "securitySchemes": {
                "my-jwt": {
                    "type": "oauth2", "flows": {},
                    "x-amazon-apigateway-authorizer": {
                        "type": "jwt",
                        "identitySource": "$request.header.Authorization",
                        "jwtConfiguration": { "issuer": "https://issuer.example.com",
                                              "audience": ["pets"] }
                    }
                },
                "lambda-auth": {
                    "type": "apiKey", "name": "Unused", "in": "header",
                    "x-amazon-apigateway-authorizer": {
                        "type": "request",
                        "identitySource": "$request.header.x-token, $request.querystring.user",
                        "authorizerUri": format!("arn:aws:apigateway:us-east-2:lambda:path/2015-03-31/functions/{LAMBDA}/invocations"),
                        "authorizerPayloadFormatVersion": "2.0",
                        "authorizerResultTtlInSeconds": 300,
                        "enableSimpleResponses": true
                    }
                }
            }
        },
        "x-amazon-apigateway-cors": { "allowOrigins": ["https://app.example.com"],
                                      "allowMethods": ["GET", "POST"], "maxAge": 300 },
        "x-amazon-apigateway-binary-media-types": ["image/png"],
        "x-amazon-apigateway-importexport-version": "1.0"
    })
}

fn plan(doc: &Value) -> ImportPlan {
    plan_import(&doc.to_string(), Basepath::Ignore).expect("imports")
}

fn route<'a>(plan: &'a ImportPlan, key: &str) -> &'a portico_model::openapi::PlannedRoute {
    plan.routes
        .iter()
        .find(|r| r.route_key == key)
        .unwrap_or_else(|| panic!("no route {key}: {:?}", plan.routes))
}

#[test]
fn an_aws_style_document_plans_what_aws_creates() {
    let p = plan(&aws_style());
    assert_eq!(p.name, "pets");
    assert_eq!(p.version.as_deref(), Some("2024-01-01"));
    assert_eq!(p.tags, BTreeMap::from([("team".into(), "pets".into())]));
    assert_eq!(
        p.cors_configuration.as_ref().unwrap().allow_origins,
        Some(vec!["https://app.example.com".to_string()])
    );
    let keys: Vec<&str> = p.routes.iter().map(|r| r.route_key.as_str()).collect();
    assert_eq!(keys.len(), 4, "{keys:?}");
    // Two routes referring to one shared integration share it.
    let get = route(&p, "GET /pets");
    let post = route(&p, "POST /pets");
    assert_eq!(get.integration, post.integration);
    assert_eq!(p.integrations.len(), 3);
    assert_eq!(get.authorization_type, "JWT");
    assert_eq!(get.authorization_scopes, vec!["pets:read".to_string()]);
    assert_eq!(get.operation_name.as_deref(), Some("listPets"));
    let any = route(&p, "ANY /pets/{petId}");
    assert_eq!(any.authorization_type, "CUSTOM");
    let auth = &p.authorizers[any.authorizer.unwrap()];
    assert_eq!(auth.name, "lambda-auth");
    assert_eq!(
        auth.identity_source.as_deref(),
        Some(
            &[
                "$request.header.x-token".to_string(),
                "$request.querystring.user".to_string()
            ][..]
        )
    );
    let default = route(&p, "$default");
    let fallback = &p.integrations[default.integration.unwrap()];
    assert_eq!(fallback.timeout_in_millis, Some(5000));
    assert_eq!(
        fallback.request_parameters.as_ref().unwrap()["append:header.x-from"],
        "$context.requestId"
    );
    // REST-only extensions and fields are warned about, by pointer.
    assert!(
        p.warnings
            .iter()
            .any(|w| w.starts_with("/x-amazon-apigateway-binary-media-types:")),
        "{:?}",
        p.warnings
    );
    assert!(
        p.warnings.iter().any(|w| w.starts_with(
            "/paths/~1pets~1{petId}/x-amazon-apigateway-any-method/x-amazon-apigateway-integration/passthroughBehavior:"
        )),
        "{:?}",
        p.warnings
    );
}

#[test]
fn yaml_with_unquoted_numbers_imports() {
    let yaml = r#"
openapi: 3.0.1
info:
  title: yaml-api
  version: 1.0
paths:
  /items/{proxy+}:
    get:
      responses:
        200:
          description: ok
      x-amazon-apigateway-integration:
        type: HTTP_PROXY
        httpMethod: GET
        uri: https://items.example.com/{proxy}
        payloadFormatVersion: 1.0
        responseParameters:
          404:
            overwrite:statuscode: 410
"#;
    let p = plan_import(yaml, Basepath::Ignore).unwrap();
    assert_eq!(p.version.as_deref(), Some("1.0"));
    assert_eq!(p.routes[0].route_key, "GET /items/{proxy+}");
    let i = &p.integrations[0];
    assert_eq!(i.payload_format_version.as_deref(), Some("1.0"));
    assert!(i.response_parameters.as_ref().unwrap().contains_key("404"));
}

#[test]
fn base_path_modes() {
    let mut doc = aws_style();
    doc["servers"][0]["variables"]["basePath"]["default"] = json!("stage/v1");
    let keys = |mode| {
        let p = plan_import(&doc.to_string(), mode).unwrap();
        let mut k: Vec<String> = p.routes.into_iter().map(|r| r.route_key).collect();
        k.sort();
        k
    };
    assert!(keys(Basepath::Ignore).contains(&"GET /pets".to_string()));
    assert!(keys(Basepath::Prepend).contains(&"GET /stage/v1/pets".to_string()));
    assert!(keys(Basepath::Split).contains(&"GET /v1/pets".to_string()));
    // $default is not a path: no base path goes in front of it.
    assert!(keys(Basepath::Prepend).contains(&"$default".to_string()));
}

fn import_error(doc: &Value) -> (String, String) {
    let e = plan_import(&doc.to_string(), Basepath::Ignore).expect_err("must fail");
    (e.pointer, e.message)
}

#[test]
fn malformed_documents_name_the_pointer() {
    let mut doc = aws_style();
    doc["paths"]["/pets/{petId}"]["x-amazon-apigateway-any-method"]["x-amazon-apigateway-integration"]
        ["type"] = json!("websocket");
    let (at, msg) = import_error(&doc);
    assert_eq!(
        at,
        "/paths/~1pets~1{petId}/x-amazon-apigateway-any-method/x-amazon-apigateway-integration/type"
    );
    assert!(msg.contains("websocket"), "{msg}");

    // A REST API's `mock` integration: the route is imported without it, with a warning.
    let mut doc = aws_style();
    doc["paths"]["/pets/{petId}"]["x-amazon-apigateway-any-method"]["x-amazon-apigateway-integration"]
        ["type"] = json!("mock");
    let p = plan(&doc);
    assert_eq!(route(&p, "ANY /pets/{petId}").integration, None);
    assert!(
        p.warnings.iter().any(|w| w.contains("'mock'")),
        "{:?}",
        p.warnings
    );

    // Several security requirements on one operation are an error, as on AWS.
    let mut doc = aws_style();
    doc["paths"]["/pets"]["get"]["security"] = json!([{ "my-jwt": [] }, { "lambda-auth": [] }]);
    assert_eq!(import_error(&doc).0, "/paths/~1pets/get/security/1");

    // A JWT authorizer of an openIdConnect scheme takes its issuer from the URL.
    let mut doc = aws_style();
    doc["components"]["securitySchemes"]["my-jwt"] = json!({
        "type": "openIdConnect",
        "openIdConnectUrl": "https://idp.example.com/.well-known/openid-configuration",
        "x-amazon-apigateway-authorizer": { "type": "jwt",
            "identitySource": "$request.header.Authorization",
            "jwtConfiguration": { "audience": ["pets"] } }
    });
    let p = plan(&doc);
    let jwt = p.authorizers.iter().find(|a| a.name == "my-jwt").unwrap();
    assert_eq!(
        jwt.jwt_configuration.as_ref().unwrap().issuer.as_deref(),
        Some("https://idp.example.com")
    );
    // Without it, the missing issuer is named by pointer, member by member.
    doc["components"]["securitySchemes"]["my-jwt"]["type"] = json!("oauth2");
    doc["components"]["securitySchemes"]["my-jwt"]["flows"] = json!({});
    assert_eq!(
        import_error(&doc).0,
        "/components/securitySchemes/my-jwt/x-amazon-apigateway-authorizer/jwtConfiguration/issuer"
    );

    // An error in a shared integration points at the shared definition.
    let mut doc = aws_style();
    doc["components"]["x-amazon-apigateway-integrations"]["backend"]["timeoutInMillis"] =
        json!(90_000);
    let (at, msg) = import_error(&doc);
    assert_eq!(
        at,
        "/components/x-amazon-apigateway-integrations/backend/timeoutInMillis"
    );
    assert!(msg.contains("30000"), "{msg}");

    let mut doc = aws_style();
    doc["paths"]["/pets"]["get"]["security"] = json!([{ "nobody": [] }]);
    assert_eq!(import_error(&doc).0, "/paths/~1pets/get/security/0/nobody");

    // A scheme API Gateway cannot enforce would leave the route open: refused.
    let mut doc = aws_style();
    doc["components"]["securitySchemes"]["basic"] = json!({ "type": "http", "scheme": "basic" });
    doc["paths"]["/pets"]["get"]["security"] = json!([{ "basic": [] }]);
    assert!(import_error(&doc).1.contains("open"));

    let mut doc = aws_style();
    doc["paths"]["/pets"]["post"]["x-amazon-apigateway-integration"] =
        json!({ "$ref": "other.json#/x" });
    assert_eq!(
        import_error(&doc).0,
        "/paths/~1pets/post/x-amazon-apigateway-integration/$ref"
    );

    let mut doc = aws_style();
    doc["components"]["x-amazon-apigateway-integrations"]["backend"] =
        json!({ "$ref": "#/components/x-amazon-apigateway-integrations/backend" });
    assert!(import_error(&doc).1.contains("circular"));

    let mut doc = aws_style();
    doc["paths"]["/pets/{id}"] = json!({ "get": {} });
    doc["paths"]["/pets/{other}"] = json!({ "get": {} });
    assert!(import_error(&doc).1.contains("same requests"));

    let mut doc = aws_style();
    doc["info"]["title"] = json!(7);
    assert_eq!(
        import_error(&doc),
        (
            "/info/title".into(),
            "Expected a string, found a number".into()
        )
    );

    assert_eq!(import_error(&json!({ "swagger": "2.0" })).0, "/swagger");
    let e = plan_import("openapi: [3.0", Basepath::Ignore).unwrap_err();
    assert_eq!(e.pointer, "");
    assert!(e.to_string().contains("YAML"), "{e}");
}

fn api() -> Api {
    Api {
        api_id: "abc123".into(),
        name: "notes".into(),
        protocol_type: "HTTP".into(),
        api_endpoint: None,
        api_key_selection_expression: "$request.header.x-api-key".into(),
        route_selection_expression: "${request.method} ${request.path}".into(),
        created_date: "2026-12-01T00:00:00Z".into(),
        description: Some("Notes".into()),
        disable_execute_api_endpoint: false,
        version: None,
        tags: BTreeMap::from([("env".into(), "dev".into())]),
        cors_configuration: None,
    }
}

fn integration(id: &str, uri: &str) -> Integration {
    Integration {
        integration_id: id.into(),
        integration_type: "HTTP_PROXY".into(),
        integration_uri: uri.into(),
        integration_method: "ANY".into(),
        payload_format_version: "1.0".into(),
        timeout_in_millis: 30_000,
        connection_type: "INTERNET".into(),
        connection_id: None,
        tls_config: None,
        description: None,
        request_parameters: BTreeMap::from([(
            "overwrite:path".to_string(),
            "$request.path".to_string(),
        )]),
        response_parameters: BTreeMap::new(),
    }
}

fn route_to(id: &str, key: &str, target: Option<&str>) -> Route {
    Route {
        route_id: id.into(),
        route_key: key.into(),
        target: target.map(|t| format!("integrations/{t}")),
        authorization_type: "NONE".into(),
        authorizer_id: None,
        authorization_scopes: vec![],
        api_key_required: false,
        operation_name: None,
    }
}

/// Turns a plan back into resources with fresh ids, as the control plane does.
fn resources(plan: &ImportPlan) -> (Api, Vec<Route>, Vec<Integration>, Vec<Authorizer>) {
    let mut api = api();
    api.api_id = "zzz999".into();
    api.name = plan.name.clone();
    api.description = plan.description.clone();
    api.version = plan.version.clone();
    api.tags = plan.tags.clone();
    api.cors_configuration = plan.cors_configuration.clone();
    let integrations: Vec<Integration> = plan
        .integrations
        .iter()
        .enumerate()
        .map(|(n, i)| {
            let spec = portico_model::validate_integration(i).unwrap();
            Integration {
                integration_id: format!("new{n}"),
                integration_type: spec.integration_type,
                integration_uri: spec.integration_uri,
                integration_method: spec.integration_method,
                payload_format_version: spec.payload_format_version,
                timeout_in_millis: spec.timeout_in_millis,
                connection_type: spec.connection_type,
                connection_id: spec.connection_id,
                tls_config: spec.tls_config,
                description: None,
                request_parameters: spec.request_parameters,
                response_parameters: spec.response_parameters,
            }
        })
        .collect();
    let authorizers: Vec<Authorizer> = plan
        .authorizers
        .iter()
        .enumerate()
        .map(|(n, a)| portico_model::validate_authorizer(format!("auth{n}"), a).unwrap())
        .collect();
    let routes = plan
        .routes
        .iter()
        .enumerate()
        .map(|(n, r)| Route {
            route_id: format!("r{n}"),
            route_key: r.route_key.clone(),
            target: r.integration.map(|i| format!("integrations/new{i}")),
            authorization_type: r.authorization_type.clone(),
            authorizer_id: r.authorizer.map(|a| format!("auth{a}")),
            authorization_scopes: r.authorization_scopes.clone(),
            api_key_required: false,
            operation_name: r.operation_name.clone(),
        })
        .collect();
    (api, routes, integrations, authorizers)
}

fn export_json(
    api: &Api,
    routes: &[Route],
    integrations: &[Integration],
    authorizers: &[Authorizer],
) -> Value {
    let doc = export_document(&ExportSource {
        api,
        routes,
        integrations,
        authorizers,
        cors: api.cors_configuration.as_ref(),
        server: Some(ExportedServer {
            endpoint: "https://example.test".into(),
            base_path: String::new(),
        }),
        include_extensions: true,
    });
    serde_json::to_value(doc).unwrap()
}

#[test]
fn export_then_import_gives_the_same_document() {
    let mut api = api();
    api.cors_configuration = Some(Cors {
        allow_origins: Some(vec!["*".into()]),
        ..Default::default()
    });
    let integrations = vec![
        integration("i1", "https://notes.example.com/{proxy}"),
        integration("i2", "https://other.example.com/"),
    ];
    let authorizers = vec![Authorizer {
        authorizer_id: "a1".into(),
        name: "jwt".into(),
        authorizer_type: "JWT".into(),
        identity_source: vec!["$request.header.Authorization".into()],
        jwt_configuration: Some(JwtConfiguration {
            audience: vec!["notes".into()],
            issuer: Some("https://issuer.example.com".into()),
        }),
        authorizer_uri: None,
        authorizer_payload_format_version: None,
        enable_simple_responses: None,
        authorizer_result_ttl_in_seconds: None,
        authorizer_credentials_arn: None,
    }];
    let mut secured = route_to("r3", "GET /notes/{id}", Some("i2"));
    secured.authorization_type = "JWT".into();
    secured.authorizer_id = Some("a1".into());
    secured.authorization_scopes = vec!["notes:read".into()];
    let routes = vec![
        route_to("r1", "ANY /notes/{proxy+}", Some("i1")),
        route_to("r2", "$default", Some("i1")),
        secured,
        route_to("r4", "POST /bare", None),
        {
            let mut r = route_to("r5", "DELETE /notes/{id}", Some("i2"));
            r.authorization_type = "AWS_IAM".into();
            r
        },
    ];
    let first = export_json(&api, &routes, &integrations, &authorizers);
    assert_eq!(first["openapi"], "3.0.1");
    assert_eq!(
        first["paths"]["/notes/{id}"]["get"]["security"],
        json!([{ "jwt": ["notes:read"] }])
    );
    assert_eq!(
        first["paths"]["/$default"]["x-amazon-apigateway-any-method"]["isDefaultRoute"],
        true
    );
    assert_eq!(
        first["paths"]["/notes/{proxy+}"]["x-amazon-apigateway-any-method"]["parameters"][0]["name"],
        "proxy+"
    );
    // i1 and i2 each serve two routes: shared through components, so an import makes
    // one integration of each again.
    let shared = &first["components"]["x-amazon-apigateway-integrations"];
    assert_eq!(shared.as_object().unwrap().len(), 2, "{shared}");
    let plan = plan(&first);
    assert!(plan.warnings.is_empty(), "{:?}", plan.warnings);
    assert_eq!(plan.integrations.len(), 2);
    let (api2, routes2, integrations2, authorizers2) = resources(&plan);
    let second = export_json(&api2, &routes2, &integrations2, &authorizers2);
    assert_eq!(first, second);
}

/// A private integration as AWS's extension docs write it: an ELB listener ARN, the
/// VPC link and the name to verify on the target's certificate.
fn private_style() -> Value {
    json!({
        "openapi": "3.0.1",
        "info": { "title": "internal", "version": "1" },
        "paths": {
            "/internal": {
                "get": {
                    "x-amazon-apigateway-integration": {
                        "payloadFormatVersion": "1.0",
                        "connectionId": "abc123",
                        "type": "http_proxy",
                        "httpMethod": "ANY",
                        "uri": "arn:aws:elasticloadbalancing:us-east-2:123456789012:listener/app/my-load-balancer/50dc6c495c0c9188/0467ef3c8400ae65",
                        "connectionType": "VPC_LINK",
                        "tlsConfig": { "serverNameToVerify": "example.com" }
                    }
                }
            },
            "/orders": {
                "post": {
                    "x-amazon-apigateway-integration": {
                        "type": "http_proxy", "httpMethod": "POST",
                        "uri": "http://orders.internal/v1/orders",
                        "connectionType": "VPC_LINK", "connectionId": "abc123",
                        "payloadFormatVersion": "1.0"
                    }
                }
            }
        }
    })
}

#[test]
fn private_integrations_import_with_their_link_and_tls() {
    let p = plan(&private_style());
    assert!(p.warnings.is_empty(), "{:?}", p.warnings);
    let internal = &p.integrations[route(&p, "GET /internal").integration.unwrap()];
    assert_eq!(internal.connection_type.as_deref(), Some("VPC_LINK"));
    assert_eq!(internal.connection_id.as_deref(), Some("abc123"));
    assert_eq!(
        internal
            .tls_config
            .as_ref()
            .and_then(|t| t.server_name_to_verify.as_deref()),
        Some("example.com")
    );
    let orders = &p.integrations[route(&p, "POST /orders").integration.unwrap()];
    assert_eq!(orders.connection_id.as_deref(), Some("abc123"));
    assert!(orders.tls_config.is_none());

    // A private integration needs its link; the error names the integration.
    let mut doc = private_style();
    doc["paths"]["/orders"]["post"]["x-amazon-apigateway-integration"]
        .as_object_mut()
        .unwrap()
        .remove("connectionId");
    let e = plan_import(&doc.to_string(), Basepath::Ignore).expect_err("no link");
    assert_eq!(
        e.pointer,
        "/paths/~1orders/post/x-amazon-apigateway-integration/connectionId"
    );
    let mut doc = private_style();
    doc["paths"]["/internal"]["get"]["x-amazon-apigateway-integration"]["tlsConfig"]["serverNameToVerify"] =
        json!("not a name");
    let e = plan_import(&doc.to_string(), Basepath::Ignore).expect_err("bad name");
    assert!(e.pointer.ends_with("/tlsConfig"), "{e:?}");

    // On an internet integration tlsConfig means nothing for HTTP APIs: warned, dropped.
    let mut doc = aws_style();
    doc["paths"]["/$default"]["x-amazon-apigateway-any-method"]["x-amazon-apigateway-integration"]
        ["tlsConfig"] = json!({ "insecureSkipVerification": true });
    let p = plan(&doc);
    assert!(
        p.warnings.iter().any(|w| w.contains("tlsConfig")),
        "{:?}",
        p.warnings
    );
    assert!(p.integrations.iter().all(|i| i.tls_config.is_none()));
}

#[test]
fn private_integrations_survive_export_and_import() {
    let mut private = integration("i1", "http://orders.internal/{proxy}");
    private.connection_type = "VPC_LINK".into();
    private.connection_id = Some("abc123".into());
    private.tls_config = Some(portico_model::TlsConfig {
        server_name_to_verify: Some("orders.internal".into()),
    });
    let mut https = integration(
        "i2",
        "arn:aws:servicediscovery:us-east-2:123456789012:service/srv-0a1b2c3d4e5f",
    );
    https.connection_type = "VPC_LINK".into();
    https.connection_id = Some("abc123".into());
    https.tls_config = Some(portico_model::TlsConfig::default());
    let integrations = vec![private, https];
    let routes = vec![
        route_to("r1", "ANY /orders/{proxy+}", Some("i1")),
        route_to("r2", "GET /catalog", Some("i2")),
    ];
    let first = export_json(&api(), &routes, &integrations, &[]);
    let extension = &first["paths"]["/orders/{proxy+}"]["x-amazon-apigateway-any-method"]["x-amazon-apigateway-integration"];
    assert_eq!(extension["connectionType"], "VPC_LINK");
    assert_eq!(extension["connectionId"], "abc123");
    assert_eq!(
        extension["tlsConfig"],
        json!({ "serverNameToVerify": "orders.internal" })
    );
    assert_eq!(
        first["paths"]["/catalog"]["get"]["x-amazon-apigateway-integration"]["tlsConfig"],
        json!({})
    );
    let plan = plan(&first);
    assert!(plan.warnings.is_empty(), "{:?}", plan.warnings);
    let (api2, routes2, integrations2, authorizers2) = resources(&plan);
    assert!(
        integrations2
            .iter()
            .all(|i| i.connection_id.as_deref() == Some("abc123"))
    );
    let second = export_json(&api2, &routes2, &integrations2, &authorizers2);
    assert_eq!(first, second);
}

/// Every pointer in `v`, the root's `""` first.
fn pointers(v: &Value, at: String, out: &mut Vec<String>) {
    out.push(at.clone());
    match v {
        Value::Object(m) => {
            for (k, child) in m {
                pointers(
                    child,
                    format!("{at}/{}", k.replace('~', "~0").replace('/', "~1")),
                    out,
                );
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                pointers(child, format!("{at}/{i}"), out);
            }
        }
        _ => {}
    }
}

fn arbitrary_json() -> impl Strategy<Value = Value> {
    let key = prop::sample::select(vec![
        "openapi",
        "info",
        "title",
        "paths",
        "/x",
        "/{p}",
        "/{p+}",
        "get",
        "x-amazon-apigateway-any-method",
        "x-amazon-apigateway-integration",
        "type",
        "uri",
        "$ref",
        "security",
        "components",
        "securitySchemes",
        "x-amazon-apigateway-authorizer",
        "isDefaultRoute",
        "tags",
        "servers",
        "timeoutInMillis",
        "responseParameters",
        "x-amazon-apigateway-cors",
        "identitySource",
    ])
    .prop_map(str::to_string);
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        prop::sample::select(vec![
            "3.0.1",
            "http_proxy",
            "aws_proxy",
            "#/components",
            "#/",
            "https://x.example/",
            "jwt",
            "request",
            "",
            "GET",
            "/",
        ])
        .prop_map(|s| Value::String(s.to_string())),
        ".{0,12}".prop_map(Value::String),
    ];
    leaf.prop_recursive(5, 64, 6, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(key.clone(), inner, 0..5)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn check_error_location(text: &str, doc: Option<&Value>) {
    match plan_import(text, Basepath::Prepend) {
        Ok(_) => {}
        Err(e) => {
            assert!(
                e.pointer.is_empty() || e.pointer.starts_with('/'),
                "{e:?} is not a JSON pointer"
            );
            // The pointer names the value, or the missing member of a value that exists.
            if let Some(doc) = doc
                && !e.pointer.is_empty()
            {
                let parent = &e.pointer[..e.pointer.rfind('/').unwrap_or(0)];
                assert!(
                    doc.pointer(&e.pointer).is_some() || doc.pointer(parent).is_some(),
                    "{e:?} names nothing in {doc}"
                );
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    /// Arbitrary text: never a panic.
    #[test]
    fn arbitrary_text_never_panics(text in ".{0,200}") {
        check_error_location(&text, None);
    }

    /// Arbitrary JSON built from OpenAPI's own words: never a panic, and an error names
    /// a place in the document.
    #[test]
    fn arbitrary_documents_fail_at_a_location(doc in arbitrary_json()) {
        check_error_location(&doc.to_string(), Some(&doc));
    }

    /// A valid document with one value replaced by anything: imports, or fails naming a
    /// place in the damaged document.
    #[test]
    fn damaged_documents_fail_at_a_location(pick in any::<prop::sample::Index>(), with in arbitrary_json()) {
        let mut doc = aws_style();
        let mut all = Vec::new();
        pointers(&doc, String::new(), &mut all);
        let at = pick.get(&all).clone();
        if at.is_empty() {
            doc = with;
        } else if let Some(slot) = doc.pointer_mut(&at) {
            *slot = with;
        }
        check_error_location(&doc.to_string(), Some(&doc));
    }

    /// The same for a document of private integrations (connectionId, tlsConfig).
    #[test]
    fn damaged_private_documents_fail_at_a_location(pick in any::<prop::sample::Index>(), with in arbitrary_json()) {
        let mut doc = private_style();
        let mut all = Vec::new();
        pointers(&doc, String::new(), &mut all);
        let at = pick.get(&all).clone();
        if at.is_empty() {
            doc = with;
        } else if let Some(slot) = doc.pointer_mut(&at) {
            *slot = with;
        }
        check_error_location(&doc.to_string(), Some(&doc));
    }
}
