//! Fresh stores for tests: a new Postgres database per test (the end-to-end tests' own
//! `TestDatabase`, on the server at `DATABASE_URL`), dropped afterwards, and a new SQLite
//! file per test. `store_cases!` runs each case against both.
#![allow(dead_code)]

use std::future::Future;

use portico_control_plane::identity::{Caller, MasterKey};
use portico_control_plane::service::{
    AdminService, ExecuteApiEndpoint, IdentityContext, UpstreamPolicy, bootstrap_admin,
};
use portico_control_plane::snapshot::SnapshotPublisher;
use portico_control_plane::store::Store;
use portico_tests::postgres::TestDatabase;

pub async fn with_postgres<F, Fut>(case: F)
where
    F: FnOnce(Store) -> Fut,
    Fut: Future<Output = ()>,
{
    let db = TestDatabase::create("store").await;
    let store = Store::connect(&db.url).await.expect("open Postgres store");
    case(store.clone()).await;
    store.close().await;
    db.drop_db().await;
}

pub async fn with_sqlite<F, Fut>(case: F)
where
    F: FnOnce(Store) -> Fut,
    Fut: Future<Output = ()>,
{
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("portico.db").display());
    let store = Store::connect(&url).await.expect("open SQLite store");
    case(store.clone()).await;
    store.close().await;
}

pub fn service(store: Store) -> AdminService {
    let endpoint =
        ExecuteApiEndpoint::parse("http://execute-api.localhost:8000").expect("endpoint");
    let publisher =
        SnapshotPublisher::new(store.clone(), endpoint, std::time::Duration::from_secs(60));
    AdminService::new(
        store,
        publisher.handle(),
        IdentityContext::new(MasterKey::generate()),
        UpstreamPolicy::new(
            vec![
                "127.0.0.1:9000".parse().unwrap(),
                "127.0.0.1:9001".parse().unwrap(),
            ],
            vec![],
        ),
    )
}

/// Portico acting for itself: an admin.
pub fn admin() -> Caller {
    Caller::bootstrap()
}

pub const ADMIN_PASSWORD: &str = "correct horse battery staple";

/// Bootstraps `admin` and logs in: a bearer token for the admin API.
pub async fn admin_token(service: &AdminService) -> String {
    bootstrap_admin(
        service.store(),
        service.identity(),
        Some(ADMIN_PASSWORD.into()),
        None,
    )
    .await
    .expect("bootstrap");
    service
        .login("admin", ADMIN_PASSWORD, "127.0.0.1")
        .await
        .expect("login")
        .token
}

/// Runs each listed `async fn(Store)` against a fresh Postgres database and a fresh
/// SQLite file.
#[macro_export]
macro_rules! store_cases {
    ($($case:ident),* $(,)?) => {
        $(
            mod $case {
                #[tokio::test]
                async fn postgres() {
                    $crate::support::with_postgres(super::$case).await;
                }
                #[tokio::test]
                async fn sqlite() {
                    $crate::support::with_sqlite(super::$case).await;
                }
            }
        )*
    };
}

/// What the admin API answered: the status, AWS's error type header, the JSON body.
pub struct Reply {
    pub status: axum::http::StatusCode,
    pub error_type: Option<String>,
    pub body: serde_json::Value,
}

/// One admin-API request without a socket, as the session `token`; a body is sent as JSON.
pub async fn call(
    router: &axum::Router,
    token: &str,
    method: &str,
    path: &str,
    body: Option<&str>,
) -> Reply {
    use http_body_util::BodyExt;
    use tower::ServiceExt;
    let mut req = axum::http::Request::builder()
        .method(method)
        .uri(path)
        .header("authorization", format!("Bearer {token}"));
    if body.is_some() {
        req = req.header("content-type", "application/json");
    }
    let req = req
        .body(axum::body::Body::from(body.unwrap_or("").to_string()))
        .unwrap();
    let res = router.clone().oneshot(req).await.unwrap();
    let status = res.status();
    let error_type = res
        .headers()
        .get("x-amzn-ErrorType")
        .map(|v| v.to_str().unwrap().to_string());
    let bytes = res.into_body().collect().await.unwrap().to_bytes();
    let body = if bytes.is_empty() {
        serde_json::Value::Null
    } else {
        serde_json::from_slice(&bytes).unwrap()
    };
    Reply {
        status,
        error_type,
        body,
    }
}
