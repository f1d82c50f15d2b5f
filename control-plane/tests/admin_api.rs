//! The admin API's HTTP contract, called without a socket: AWS status codes, field names
//! and error shapes.
mod support;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use portico_control_plane::admin::{AdminState, app};
use serde_json::{Value, json};
use tower::ServiceExt;

struct Reply {
    status: StatusCode,
    error_type: Option<String>,
    body: Value,
}

async fn call(
    router: &(axum::Router, String),
    method: &str,
    path: &str,
    body: Option<&str>,
) -> Reply {
    let (router, token) = router;
    let mut req = Request::builder()
        .method(method)
        .uri(path)
        .header("authorization", format!("Bearer {token}"));
    if body.is_some() {
        req = req.header("content-type", "application/json");
    }
    let req = req
        .body(Body::from(body.unwrap_or("").to_string()))
        .unwrap();
    let res = router.clone().oneshot(req).await.unwrap();
    let status = res.status();
    let error_type = res
        .headers()
        .get("x-amzn-ErrorType")
        .map(|v| v.to_str().unwrap().to_string());
    let bytes = res.into_body().collect().await.unwrap().to_bytes();
    let body = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes).unwrap()
    };
    Reply {
        status,
        error_type,
        body,
    }
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
                "/v2/vpclinks",
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
