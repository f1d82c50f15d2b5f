//! A fresh Postgres database per test on the server at `DATABASE_URL` (default
//! postgres://postgres@127.0.0.1:5432/postgres), dropped afterwards.
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
    let start = base.find("://").map(|i| i + 3).unwrap_or(0);
    let end = base[start..]
        .find('/')
        .map(|j| start + j)
        .unwrap_or(base.len());
    match query {
        Some(q) => format!("{}/{db}?{q}", &base[..end]),
        None => format!("{}/{db}", &base[..end]),
    }
}

pub struct TestDatabase {
    pub url: String,
    name: String,
}

impl TestDatabase {
    pub async fn create(tag: &str) -> TestDatabase {
        let name = format!("portico_e2e_{tag}_{}", std::process::id());
        let mut admin = sqlx::PgConnection::connect(&server_url())
            .await
            .expect("connect to Postgres (set DATABASE_URL)");
        sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .execute(&mut admin)
            .await
            .expect("drop old test database");
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&mut admin)
            .await
            .expect("create test database");
        TestDatabase {
            url: with_database(&server_url(), &name),
            name,
        }
    }

    pub async fn connect(&self) -> sqlx::PgConnection {
        sqlx::PgConnection::connect(&self.url)
            .await
            .expect("connect to test database")
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
