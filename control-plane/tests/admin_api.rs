//! The admin API's HTTP contract, called without a socket: AWS status codes, field names
//! and error shapes.
mod support;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use portico_control_plane::admin::{AdminState, app};
use serde_json::{Value, json};
use support::Reply;
use tower::ServiceExt;

/// The admin API called without a socket, with the session `router.1`.
async fn call(
    router: &(axum::Router, String),
    method: &str,
    path: &str,
    body: Option<&str>,
) -> Reply {
    support::call(&router.0, &router.1, method, path, body).await
}

#[tokio::test]
async fn speaks_the_apigatewayv2_shape() {
    support::with_sqlite(|store| async move {
        let service = support::service(store);
        let token = support::admin_token(&service).await;
        let router = (app(AdminState::new(service)), token);

        let r = call(&router, "POST", "/v2/apis", Some(r#"{"name":"notes","protocolType":"HTTP"}"#)).await;
        assert_eq!(r.status, StatusCode::CREATED);
        let api_id = r.body["apiId"].as_str().unwrap().to_string();
        assert_eq!(r.body["apiEndpoint"], json!(format!("http://{api_id}.execute-api.localhost:8000")));
        assert_eq!(r.body["routeSelectionExpression"], json!("${request.method} ${request.path}"));

        let r = call(
            &router,
            "POST",
            &format!("/v2/apis/{api_id}/integrations"),
            Some(r#"{"integrationType":"HTTP_PROXY","integrationUri":"http://127.0.0.1:9/notes","integrationMethod":"ANY","payloadFormatVersion":"1.0"}"#),
        )
        .await;
        assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
        let integration_id = r.body["integrationId"].as_str().unwrap().to_string();
        assert_eq!(r.body["timeoutInMillis"], json!(30000));

        let r = call(
            &router,
            "POST",
            &format!("/v2/apis/{api_id}/routes"),
            Some(&format!(r#"{{"routeKey":"GET /notes","target":"integrations/{integration_id}"}}"#)),
        )
        .await;
        assert_eq!(r.status, StatusCode::CREATED);
        let route_id = r.body["routeId"].as_str().unwrap().to_string();

        let r = call(&router, "PATCH", &format!("/v2/apis/{api_id}/routes/{route_id}"), Some(r#"{"routeKey":"GET /notes/{id}"}"#)).await;
        assert_eq!(r.status, StatusCode::OK);
        assert_eq!(r.body["routeKey"], json!("GET /notes/{id}"));

        let r = call(&router, "GET", &format!("/v2/apis/{api_id}/routes?maxResults=1"), None).await;
        assert_eq!(r.status, StatusCode::OK);
        assert_eq!(r.body["items"].as_array().unwrap().len(), 1);

        // The $default stage arrives percent-encoded, as botocore sends it.
        let r = call(&router, "POST", &format!("/v2/apis/{api_id}/stages"), Some(r#"{"stageName":"$default","autoDeploy":true}"#)).await;
        assert_eq!(r.status, StatusCode::CREATED);
        let r = call(&router, "GET", &format!("/v2/apis/{api_id}/stages/%24default"), None).await;
        assert_eq!(r.status, StatusCode::OK);
        assert_eq!(r.body["stageName"], json!("$default"));
        assert!(r.body["deploymentId"].is_string());

        let r = call(&router, "POST", &format!("/v2/apis/{api_id}/deployments"), None).await;
        assert_eq!(r.status, StatusCode::CREATED);
        assert_eq!(r.body["deploymentStatus"], json!("DEPLOYED"));

        let r = call(&router, "DELETE", &format!("/v2/apis/{api_id}/routes/{route_id}"), None).await;
        assert_eq!(r.status, StatusCode::NO_CONTENT);
        let r = call(&router, "DELETE", &format!("/v2/apis/{api_id}"), None).await;
        assert_eq!(r.status, StatusCode::NO_CONTENT);
        let r = call(&router, "GET", &format!("/v2/apis/{api_id}"), None).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);
        assert_eq!(r.error_type.as_deref(), Some("NotFoundException"));
        assert!(r.body["message"].as_str().unwrap().contains(&api_id));
    })
    .await;
}

#[tokio::test]
async fn bad_requests_get_aws_errors() {
    support::with_sqlite(|store| async move {
        let service = support::service(store);
        let token = support::admin_token(&service).await;
        let router = (app(AdminState::new(service)), token);
        let cases: Vec<(&str, &str, Option<&str>, StatusCode, &str)> = vec![
            (
                "POST",
                "/v2/apis",
                Some("{not json"),
                StatusCode::BAD_REQUEST,
                "BadRequestException",
            ),
            (
                "POST",
                "/v2/apis",
                Some(r#"{"protocolType":"HTTP"}"#),
                StatusCode::BAD_REQUEST,
                "BadRequestException",
            ),
            (
                "POST",
                "/v2/apis",
                Some(r#"{"name":"x","protocolType":"HTTP","corsConfiguratio":{}}"#),
                StatusCode::BAD_REQUEST,
                "BadRequestException",
            ),
            (
                "POST",
                "/v2/apis",
                Some(r#"{"name":"x","protocolType":"WEBSOCKET"}"#),
                StatusCode::BAD_REQUEST,
                "BadRequestException",
            ),
            (
                "GET",
                "/v2/apis/nope",
                None,
                StatusCode::NOT_FOUND,
                "NotFoundException",
            ),
            (
                "GET",
                "/v2/apis/nope/routes",
                None,
                StatusCode::NOT_FOUND,
                "NotFoundException",
            ),
            (
                "GET",
                "/v2/apis?maxResults=abc",
                None,
                StatusCode::BAD_REQUEST,
                "BadRequestException",
            ),
            (
                "GET",
                "/v2/apis?nextToken=%21%21",
                None,
                StatusCode::BAD_REQUEST,
                "BadRequestException",
            ),
            (
                "GET",
                "/v2/nothing-here",
                None,
                StatusCode::NOT_FOUND,
                "NotFoundException",
            ),
            (
                "PATCH",
                "/v2/apis",
                None,
                StatusCode::METHOD_NOT_ALLOWED,
                "MethodNotAllowedException",
            ),
            // An apigatewayv2 operation Portico lacks is named, not a missing path.
            (
                "GET",
                "/v2/apis/a1/models",
                None,
                StatusCode::NOT_IMPLEMENTED,
                "NotImplementedException",
            ),
        ];
        for (method, path, body, status, error_type) in cases {
            let r = call(&router, method, path, body).await;
            assert_eq!(r.status, status, "{method} {path} {body:?}: {:?}", r.body);
            assert_eq!(r.error_type.as_deref(), Some(error_type), "{method} {path}");
            assert!(
                r.body["message"].is_string(),
                "{method} {path}: {:?}",
                r.body
            );
        }

        let r = call(
            &router,
            "POST",
            "/v2/apis",
            Some(r#"{"name":"x","protocolType":"HTTP"}"#),
        )
        .await;
        let api_id = r.body["apiId"].as_str().unwrap().to_string();
        let r = call(
            &router,
            "POST",
            &format!("/v2/apis/{api_id}/routes"),
            Some(r#"{"routeKey":"GET notes"}"#),
        )
        .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
        assert_eq!(r.body["field"], json!("routeKey"));
        call(
            &router,
            "POST",
            &format!("/v2/apis/{api_id}/routes"),
            Some(r#"{"routeKey":"GET /notes"}"#),
        )
        .await;
        let r = call(
            &router,
            "POST",
            &format!("/v2/apis/{api_id}/routes"),
            Some(r#"{"routeKey":"GET /notes"}"#),
        )
        .await;
        assert_eq!(r.status, StatusCode::CONFLICT);
        assert_eq!(r.error_type.as_deref(), Some("ConflictException"));
    })
    .await;
}

#[tokio::test]
async fn malformed_signatures_are_refused() {
    support::with_sqlite(|store| async move {
        let service = support::service(store);
        let token = support::admin_token(&service).await;
        let router = (app(AdminState::new(service)), token);
        let req = Request::builder()
            .uri("/v2/apis")
            .header("authorization", "AWS4-HMAC-SHA256 Credential=broken")
            .body(Body::empty())
            .unwrap();
        let res = router.0.clone().oneshot(req).await.unwrap();
        assert_eq!(res.status(), StatusCode::FORBIDDEN);
        assert_eq!(
            res.headers()["x-amzn-ErrorType"],
            "IncompleteSignatureException"
        );
    })
    .await;
}

/// VPC links in botocore's apigatewayv2 shapes (CreateVpcLink 201, DeleteVpcLink 202,
/// "Invalid VPC link identifier specified"), Portico's targets with each bad field named,
/// the SSRF rule on targets instead of private integration URIs, 409 while a link is in
/// use (current or deployed), and tags by ARN.
/// https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-vpc-links.html
#[tokio::test]
async fn vpc_links_and_their_targets() {
    support::with_sqlite(|store| async move {
        let service = support::service(store);
        let token = support::admin_token(&service).await;
        let store = service.store().clone();
        let router = (app(AdminState::new(service)), token);

        let r = call(
            &router,
            "POST",
            "/v2/vpclinks",
            Some(r#"{"name":"orders","subnetIds":["private-east"],"securityGroupIds":["sg-1"],"tags":{"team":"payments"}}"#),
        )
        .await;
        assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
        let id = r.body["vpcLinkId"].as_str().unwrap().to_string();
        assert_eq!(r.body["name"], json!("orders"));
        assert_eq!(r.body["subnetIds"], json!(["private-east"]));
        assert_eq!(r.body["securityGroupIds"], json!(["sg-1"]));
        assert_eq!(r.body["tags"], json!({"team": "payments"}));
        assert_eq!(r.body["vpcLinkStatus"], json!("AVAILABLE"));
        assert_eq!(r.body["vpcLinkStatusMessage"], json!("VPC link is ready to route traffic"));
        assert_eq!(r.body["vpcLinkVersion"], json!("V2"));
        assert!(r.body["createdDate"].is_string());

        for (body, field) in [
            (r#"{"subnetIds":["a"]}"#, "name"),
            (r#"{"name":"x"}"#, "subnetIds"),
            (r#"{"name":"x","subnetIds":[]}"#, "subnetIds"),
            (r#"{"name":"x","subnetIds":["a b"]}"#, "subnetIds"),
            (r#"{"name":"x","subnetIds":["a"],"tags":{"aws:x":"y"}}"#, "tags"),
        ] {
            let r = call(&router, "POST", "/v2/vpclinks", Some(body)).await;
            assert_eq!(r.status, StatusCode::BAD_REQUEST, "{body}");
            assert_eq!(r.error_type.as_deref(), Some("BadRequestException"));
            assert_eq!(r.body["field"], json!(field), "{body}: {:?}", r.body);
        }

        let r = call(&router, "POST", "/v2/vpclinks", Some(r#"{"name":"second","subnetIds":["b"]}"#)).await;
        assert_eq!(r.status, StatusCode::CREATED);
        let r = call(&router, "GET", "/v2/vpclinks", None).await;
        assert_eq!(r.status, StatusCode::OK);
        assert_eq!(r.body["items"].as_array().unwrap().len(), 2);
        let r = call(&router, "GET", "/v2/vpclinks?maxResults=1", None).await;
        assert_eq!(r.body["items"].as_array().unwrap().len(), 1);
        let token = r.body["nextToken"].as_str().unwrap().to_string();
        let r = call(&router, "GET", &format!("/v2/vpclinks?nextToken={token}"), None).await;
        assert_eq!(r.body["items"].as_array().unwrap().len(), 1);
        assert!(r.body.get("nextToken").is_none_or(Value::is_null));

        for (method, path) in [
            ("GET", "/v2/vpclinks/nope"),
            ("PATCH", "/v2/vpclinks/nope"),
            ("DELETE", "/v2/vpclinks/nope"),
            ("GET", "/portico/vpclinks/nope/targets"),
            ("PUT", "/portico/vpclinks/nope/targets"),
        ] {
            let body = (method == "PUT").then_some(r#"{"targets":[]}"#);
            let r = call(&router, method, path, body).await;
            assert_eq!(r.status, StatusCode::NOT_FOUND, "{method} {path}");
            assert_eq!(r.error_type.as_deref(), Some("NotFoundException"));
            assert_eq!(r.body["message"], json!("Invalid VPC link identifier specified nope"));
        }

        let r = call(&router, "PATCH", &format!("/v2/vpclinks/{id}"), Some(r#"{"name":"orders-v2"}"#)).await;
        assert_eq!(r.status, StatusCode::OK);
        assert_eq!(r.body["name"], json!("orders-v2"));
        assert_eq!(r.body["subnetIds"], json!(["private-east"]));
        let r = call(&router, "PATCH", &format!("/v2/vpclinks/{id}"), Some(r#"{"name":""}"#)).await;
        assert_eq!(r.body["field"], json!("name"));

        // Targets: defaults before the first PUT.
        let targets = format!("/portico/vpclinks/{id}/targets");
        let r = call(&router, "GET", &targets, None).await;
        assert_eq!(r.status, StatusCode::OK);
        assert_eq!(r.body["vpcLinkId"], json!(id));
        assert_eq!(r.body["targets"], json!([]));
        assert_eq!(r.body["loadBalancing"], json!("ROUND_ROBIN"));
        assert_eq!(r.body["healthCheck"]["path"], json!("/"));
        assert_eq!(r.body["passiveEjection"]["consecutive5xx"], json!(3));
        assert_eq!(r.body["health"], json!([]));

        let key = rcgen::KeyPair::generate().unwrap();
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        let ca = params.self_signed(&key).unwrap().pem();
        let put = json!({
            "targets": [{"address": "10.0.1.5:8080", "weight": 2}, {"address": "Orders.Internal:80"}],
            "healthCheck": {"protocol": "HTTPS", "path": "/health", "intervalSeconds": 10,
                "timeoutSeconds": 3, "healthyThreshold": 3, "unhealthyThreshold": 2},
            "loadBalancing": "LEAST_REQUEST",
            "passiveEjection": {"consecutive5xx": 5, "baseEjectionSeconds": 20, "maxEjectionSeconds": 600},
            "caBundlePem": ca,
        })
        .to_string();
        let r = call(&router, "PUT", &targets, Some(&put)).await;
        assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
        assert_eq!(
            r.body["targets"],
            json!([{"address": "10.0.1.5:8080", "weight": 2}, {"address": "orders.internal:80", "weight": 1}])
        );
        assert_eq!(r.body["healthCheck"]["protocol"], json!("HTTPS"));
        assert_eq!(r.body["loadBalancing"], json!("LEAST_REQUEST"));
        assert_eq!(r.body["passiveEjection"]["maxEjectionSeconds"], json!(600));
        assert!(r.body["caBundlePem"].as_str().unwrap().contains("BEGIN CERTIFICATE"));
        let r = call(&router, "GET", &targets, None).await;
        assert_eq!(r.body["loadBalancing"], json!("LEAST_REQUEST"));

        let garbage = "-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n";
        let bad_pem = json!({"targets": [], "caBundlePem": garbage}).to_string();
        for (body, field) in [
            (r#"{}"#, "targets"),
            (r#"{"targets":[{"weight":1}]}"#, "targets"),
            (r#"{"targets":[{"address":"10.0.0.1"}]}"#, "targets"),
            (r#"{"targets":[{"address":"10.0.0.1:0"}]}"#, "targets"),
            (r#"{"targets":[{"address":"::1:80"}]}"#, "targets"),
            (r#"{"targets":[{"address":"bad host:80"}]}"#, "targets"),
            (r#"{"targets":[{"address":"a:1"},{"address":"A:1"}]}"#, "targets"),
            (r#"{"targets":[{"address":"a:1","weight":0}]}"#, "targets"),
            (r#"{"targets":[{"address":"a:1","weight":1000}]}"#, "targets"),
            // The SSRF rule: the control plane's own ports and metadata addresses.
            (r#"{"targets":[{"address":"127.0.0.1:9000"}]}"#, "targets"),
            (r#"{"targets":[{"address":"localhost:9001"}]}"#, "targets"),
            (r#"{"targets":[{"address":"169.254.169.254:80"}]}"#, "targets"),
            (r#"{"targets":[],"healthCheck":{"protocol":"TCP"}}"#, "healthCheck.protocol"),
            (r#"{"targets":[],"healthCheck":{"path":"health"}}"#, "healthCheck.path"),
            (r#"{"targets":[],"healthCheck":{"intervalSeconds":0}}"#, "healthCheck.intervalSeconds"),
            (r#"{"targets":[],"healthCheck":{"intervalSeconds":5,"timeoutSeconds":5}}"#, "healthCheck.timeoutSeconds"),
            (r#"{"targets":[],"healthCheck":{"healthyThreshold":11}}"#, "healthCheck.healthyThreshold"),
            (r#"{"targets":[],"healthCheck":{"unhealthyThreshold":0}}"#, "healthCheck.unhealthyThreshold"),
            (r#"{"targets":[],"loadBalancing":"RANDOM"}"#, "loadBalancing"),
            (r#"{"targets":[],"passiveEjection":{"consecutive5xx":0}}"#, "passiveEjection.consecutive5xx"),
            (r#"{"targets":[],"passiveEjection":{"baseEjectionSeconds":0}}"#, "passiveEjection.baseEjectionSeconds"),
            (r#"{"targets":[],"passiveEjection":{"baseEjectionSeconds":60,"maxEjectionSeconds":30}}"#, "passiveEjection.maxEjectionSeconds"),
            (r#"{"targets":[],"caBundlePem":"nope"}"#, "caBundlePem"),
            (bad_pem.as_str(), "caBundlePem"),
        ] {
            let r = call(&router, "PUT", &targets, Some(body)).await;
            assert_eq!(r.status, StatusCode::BAD_REQUEST, "{body}: {:?}", r.body);
            assert_eq!(r.error_type.as_deref(), Some("BadRequestException"), "{body}");
            assert_eq!(r.body["field"], json!(field), "{body}: {:?}", r.body);
        }
        // An unknown field is refused too (no field to name: the body is not the shape).
        let r = call(&router, "PUT", &targets, Some(r#"{"targets":[],"nope":1}"#)).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
        // None of the refused bodies changed what was stored.
        let r = call(&router, "GET", &targets, None).await;
        assert_eq!(r.body["targets"].as_array().unwrap().len(), 2);

        // Health as connected nodes reported it; a disconnected node's rows are not shown.
        for (node_id, connected) in [("n1", true), ("n2", false)] {
            store
                .record_node(&portico_model::Node {
                    node_id: node_id.into(),
                    address: "127.0.0.1:8000".into(),
                    applied_version: 1,
                    last_status: None,
                    last_error: None,
                    rejected_version: None,
                    connected,
                    control_plane: "cp".into(),
                    last_seen: portico_control_plane::service::now(),
                })
                .await
                .unwrap();
            let row = portico_control_plane::store::TargetHealthRow {
                vpc_link_id: id.clone(),
                target: "orders.internal:80".into(),
                endpoint: "10.0.2.7:80".into(),
                state: "UNHEALTHY".into(),
                reason: "connection refused".into(),
            };
            store
                .record_target_health(node_id, &[row], "2026-11-25T00:00:00Z")
                .await
                .unwrap();
        }
        let r = call(&router, "GET", &targets, None).await;
        assert_eq!(
            r.body["health"],
            json!([{"nodeId": "n1", "target": "orders.internal:80", "endpoint": "10.0.2.7:80",
                "state": "UNHEALTHY", "reason": "connection refused", "updated": "2026-11-25T00:00:00Z"}])
        );

        // Tags by ARN.
        let arn = format!("arn%3Aaws%3Aapigateway%3Aus-east-1%3A%3A%2Fvpclinks%2F{id}");
        let r = call(&router, "POST", &format!("/v2/tags/{arn}"), Some(r#"{"tags":{"env":"prod"}}"#)).await;
        assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
        let r = call(&router, "GET", &format!("/v2/tags/{arn}"), None).await;
        assert_eq!(r.body["tags"], json!({"team": "payments", "env": "prod"}));
        let r = call(&router, "DELETE", &format!("/v2/tags/{arn}?tagKeys=team"), None).await;
        assert_eq!(r.status, StatusCode::NO_CONTENT);
        let r = call(&router, "GET", &format!("/v2/vpclinks/{id}"), None).await;
        assert_eq!(r.body["tags"], json!({"env": "prod"}));
        let r = call(&router, "GET", "/v2/tags/arn%3Aaws%3Aapigateway%3Aus-east-1%3A%3A%2Fvpclinks%2Fnope", None).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);

        // Private integrations: the link must exist; its URL's host is not judged by the
        // SSRF rule (the connection goes to the link's targets).
        let r = call(&router, "POST", "/v2/apis", Some(r#"{"name":"orders","protocolType":"HTTP"}"#)).await;
        let api_id = r.body["apiId"].as_str().unwrap().to_string();
        let integrations = format!("/v2/apis/{api_id}/integrations");
        let private = |link: &str| {
            json!({"integrationType": "HTTP_PROXY", "integrationMethod": "ANY",
                "payloadFormatVersion": "1.0", "connectionType": "VPC_LINK", "connectionId": link,
                "integrationUri": "http://127.0.0.1:9000/orders",
                "tlsConfig": {"serverNameToVerify": "orders.internal"}})
            .to_string()
        };
        let r = call(&router, "POST", &integrations, Some(&private("nope"))).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
        assert_eq!(r.body["field"], json!("connectionId"));
        assert_eq!(r.body["message"], json!("Invalid VPC link identifier specified nope"));
        let r = call(&router, "POST", &integrations, Some(&private(&id))).await;
        assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
        assert_eq!(r.body["connectionType"], json!("VPC_LINK"));
        assert_eq!(r.body["connectionId"], json!(id));
        assert_eq!(r.body["tlsConfig"], json!({"serverNameToVerify": "orders.internal"}));
        let integration_id = r.body["integrationId"].as_str().unwrap().to_string();
        let one = format!("{integrations}/{integration_id}");
        let r = call(&router, "PATCH", &one, Some(r#"{"connectionId":"nope"}"#)).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
        assert_eq!(r.body["field"], json!("connectionId"));
        // Moving it onto the internet brings the SSRF rule back.
        let r = call(&router, "PATCH", &one, Some(r#"{"connectionType":"INTERNET"}"#)).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{:?}", r.body);
        assert_eq!(r.body["field"], json!("integrationUri"));

        // In use: refused, naming the API and integration.
        let link = format!("/v2/vpclinks/{id}");
        let r = call(&router, "DELETE", &link, None).await;
        assert_eq!(r.status, StatusCode::CONFLICT);
        assert_eq!(r.error_type.as_deref(), Some("ConflictException"));
        let message = r.body["message"].as_str().unwrap();
        assert!(message.contains(&api_id) && message.contains(&integration_id), "{message}");

        // Deployed to a stage, it stays in use after the integration moves on.
        let r = call(&router, "POST", &format!("/v2/apis/{api_id}/stages"), Some(r#"{"stageName":"prod"}"#)).await;
        assert_eq!(r.status, StatusCode::CREATED);
        let deploy = format!("/v2/apis/{api_id}/deployments");
        let r = call(&router, "POST", &deploy, Some(r#"{"stageName":"prod"}"#)).await;
        assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
        let r = call(&router, "PATCH", &one, Some(r#"{"connectionType":"INTERNET","integrationUri":"http://example.com/orders"}"#)).await;
        assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
        assert!(r.body.get("connectionId").is_none_or(Value::is_null));
        let r = call(&router, "DELETE", &link, None).await;
        assert_eq!(r.status, StatusCode::CONFLICT);
        assert!(r.body["message"].as_str().unwrap().contains("deployment"), "{:?}", r.body);

        let r = call(&router, "POST", &deploy, Some(r#"{"stageName":"prod"}"#)).await;
        assert_eq!(r.status, StatusCode::CREATED);
        let r = call(&router, "DELETE", &link, None).await;
        assert_eq!(r.status, StatusCode::ACCEPTED, "{:?}", r.body);
        assert_eq!(r.body, Value::Null);
        let r = call(&router, "GET", &link, None).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);
        assert!(store.target_health(&id).await.unwrap().is_empty());
    })
    .await;
}

/// ImportApi and ReimportApi take private integrations ("x-amazon-apigateway-integration
/// object": connectionType, connectionId, tlsConfig) when the link exists, and refuse
/// them naming connectionId when it does not; export writes them back.
/// https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-swagger-extensions-integration.html
#[tokio::test]
async fn imports_check_their_vpc_links() {
    support::with_sqlite(|store| async move {
        let service = support::service(store);
        let token = support::admin_token(&service).await;
        let router = (app(AdminState::new(service)), token);
        let r = call(
            &router,
            "POST",
            "/v2/vpclinks",
            Some(r#"{"name":"l","subnetIds":["g"]}"#),
        )
        .await;
        let id = r.body["vpcLinkId"].as_str().unwrap().to_string();
        let doc = |link: &str| {
            let openapi = json!({
                "openapi": "3.0.1",
                "info": { "title": "internal", "version": "1" },
                "paths": { "/internal": { "get": { "x-amazon-apigateway-integration": {
                    "type": "http_proxy", "httpMethod": "ANY", "payloadFormatVersion": "1.0",
                    "uri": "https://orders.internal/v1", "connectionType": "VPC_LINK",
                    "connectionId": link, "tlsConfig": { "serverNameToVerify": "orders.internal" }
                } } } }
            });
            json!({ "body": openapi.to_string() }).to_string()
        };
        let r = call(&router, "PUT", "/v2/apis", Some(&doc("nope"))).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{:?}", r.body);
        assert_eq!(r.body["field"], json!("connectionId"));
        let r = call(&router, "PUT", "/v2/apis", Some(&doc(&id))).await;
        assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
        let api_id = r.body["apiId"].as_str().unwrap().to_string();
        let r = call(
            &router,
            "PUT",
            &format!("/v2/apis/{api_id}"),
            Some(&doc("nope")),
        )
        .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{:?}", r.body);
        assert_eq!(r.body["field"], json!("connectionId"));
        let r = call(
            &router,
            "PUT",
            &format!("/v2/apis/{api_id}"),
            Some(&doc(&id)),
        )
        .await;
        assert!(r.status.is_success(), "{:?}", r.body);
        let r = call(
            &router,
            "GET",
            &format!("/v2/apis/{api_id}/exports/OAS30?outputType=JSON"),
            None,
        )
        .await;
        assert_eq!(r.status, StatusCode::OK);
        let extension = &r.body["paths"]["/internal"]["get"]["x-amazon-apigateway-integration"];
        assert_eq!(extension["connectionType"], json!("VPC_LINK"));
        assert_eq!(extension["connectionId"], json!(id));
        assert_eq!(
            extension["tlsConfig"],
            json!({ "serverNameToVerify": "orders.internal" })
        );
        // The imported API uses the link now.
        let r = call(&router, "DELETE", &format!("/v2/vpclinks/{id}"), None).await;
        assert_eq!(r.status, StatusCode::CONFLICT);
    })
    .await;
}

/// The balancer's view of a replica: 200 while it serves, 503 once it is closing (the
/// load balancer's health check then moves traffic elsewhere before the replica stops).
/// Unauthenticated, like an ALB target group's health check path must be.
#[tokio::test]
async fn health_says_whether_the_replica_serves() {
    support::with_sqlite(|store| async move {
        let service = support::service(store);
        let (closing, draining) = tokio::sync::watch::channel(false);
        let router = (
            app(AdminState::new(service).with_draining(draining)),
            "not-a-token".to_string(),
        );
        let r = call(&router, "GET", "/portico/health", None).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert_eq!(r.body["status"], "SERVING");
        closing.send_replace(true);
        let r = call(&router, "GET", "/portico/health", None).await;
        assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(r.body["status"], "DRAINING");
    })
    .await;
}
