//! Fresh stores for tests: a new Postgres database per test on the server at
//! `DATABASE_URL` (default postgres://postgres@127.0.0.1:5432/postgres), dropped afterwards,
//! and a new SQLite file per test. `store_cases!` runs each case against both.
#![allow(dead_code)]

use std::future::Future;

use portico_control_plane::identity::{Caller, MasterKey};
use portico_control_plane::service::{
    AdminService, ExecuteApiEndpoint, IdentityContext, UpstreamPolicy, bootstrap_admin,
};
use portico_control_plane::snapshot::SnapshotPublisher;
use portico_control_plane::store::Store;
use sqlx::Connection;

pub fn server_url() -> String {
    std::env::var("DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_string())
}

fn with_database(url: &str, db: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let authority_end = base
        .find("://")
        .map(|i| i + 3)
        .and_then(|start| base[start..].find('/').map(|j| start + j))
        .unwrap_or(base.len());
    let mut out = format!("{}/{db}", &base[..authority_end]);
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    out
}

pub struct PostgresDb {
    pub url: String,
    name: String,
}

impl PostgresDb {
    pub async fn create() -> Self {
        let name = format!(
            "portico_test_{}",
            portico_control_plane::service::new_id(12)
        );
        let mut admin = sqlx::PgConnection::connect(&server_url())
            .await
            .expect("connect to the test Postgres server (set DATABASE_URL)");
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&mut admin)
            .await
            .expect("create test database");
        PostgresDb {
            url: with_database(&server_url(), &name),
            name,
        }
    }

    pub async fn drop_db(self) {
        if let Ok(mut admin) = sqlx::PgConnection::connect(&server_url()).await {
            let _ = sqlx::query(&format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ))
            .execute(&mut admin)
            .await;
        }
    }
}

pub async fn with_postgres<F, Fut>(case: F)
where
    F: FnOnce(Store) -> Fut,
    Fut: Future<Output = ()>,
{
    let db = PostgresDb::create().await;
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
    let publisher = SnapshotPublisher::new(
        store.clone(),
        endpoint.domain.clone(),
        std::time::Duration::from_secs(60),
    );
    AdminService::new(
        store,
        publisher.handle(),
        endpoint,
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
