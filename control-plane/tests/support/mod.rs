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
