//! The configuration store: Postgres in production, embedded SQLite by default, one
//! schema (see `migrations/`) and one set of queries for both through sqlx's `Any` driver.
//! Every access happens in a `StoreTx`; write transactions bump the snapshot version first,
//! which also serialises writers so versions follow commit order.
mod custom_domains;
mod identity;
mod metrics;
mod nodes;
mod resources;
mod route_match_keys;
mod settings;
mod vpc_links;

use sqlx::any::{AnyPoolOptions, install_default_drivers};
use sqlx::{Any, AnyPool, Row, Transaction};

pub use custom_domains::{CustomDomainSource, SourceDomain, StoredCertificate, StoredTruststore};
pub use identity::{AuditRecord, KeyForAuth, SessionForAuth, UserRecord};
pub use metrics::{MetricRow, UsageRow, month_of};
pub use nodes::NodeLoad;
pub use resources::{DamagedRow, ResourceKind, SnapshotSource};
pub use route_match_keys::{MatchKeyBackfill, match_key};
pub use settings::EXECUTE_API_ENDPOINT;
pub use vpc_links::{SourceVpcLink, TargetHealthRow, VpcLinkUser};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("unsupported database URL '{0}': use postgres://… or sqlite://…")]
    UnsupportedUrl(String),
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("unique constraint violated: {0}")]
    Unique(String),
    #[error("cannot create the database file {path}: {source}")]
    CreateFile {
        path: String,
        source: std::io::Error,
    },
    #[error("invalid route key {0}")]
    InvalidRouteKey(String),
    #[error("stored {kind} is corrupt: {source}")]
    Corrupt {
        kind: &'static str,
        source: serde_json::Error,
    },
}

impl StoreError {
    fn from_sqlx(e: sqlx::Error) -> Self {
        if let sqlx::Error::Database(db) = &e
            && db.is_unique_violation()
        {
            return StoreError::Unique(db.constraint().unwrap_or("unique").to_string());
        }
        StoreError::Database(e)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Postgres,
    Sqlite,
}

#[derive(Clone)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
    url: String,
}

static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("../migrations/postgres");
static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("../migrations/sqlite");

impl Store {
    /// Connects, creating the SQLite file if needed, and brings the schema up to date.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        install_default_drivers();
        let backend = if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Backend::Postgres
        } else if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else {
            return Err(StoreError::UnsupportedUrl(redact_url(url)));
        };
        let mut options = AnyPoolOptions::new();
        let connect_url = match backend {
            Backend::Postgres => {
                options = options.max_connections(10);
                url.to_string()
            }
            Backend::Sqlite => {
                create_owner_only(url)?;
                // The file is the whole store: create it on first start.
                let sep = if url.contains('?') { '&' } else { '?' };
                let url = if url.contains("mode=") {
                    url.to_string()
                } else {
                    format!("{url}{sep}mode=rwc")
                };
                options = options.max_connections(4).after_connect(|conn, _| {
                    Box::pin(async move {
                        // WAL lets readers (snapshot compiles, the console) run beside the
                        // one writer; the busy timeout makes writers wait instead of fail.
                        sqlx::query("PRAGMA journal_mode = WAL")
                            .execute(&mut *conn)
                            .await?;
                        sqlx::query("PRAGMA busy_timeout = 10000")
                            .execute(&mut *conn)
                            .await?;
                        sqlx::query("PRAGMA foreign_keys = ON")
                            .execute(&mut *conn)
                            .await?;
                        Ok(())
                    })
                });
                url
            }
        };
        let pool = options.connect(&connect_url).await?;
        match backend {
            Backend::Postgres => POSTGRES_MIGRATIONS.run(&pool).await?,
            Backend::Sqlite => SQLITE_MIGRATIONS.run(&pool).await?,
        }
        let store = Store {
            pool,
            backend,
            url: url.to_string(),
        };
        let backfill = store.backfill_route_match_keys().await?;
        if backfill.filled > 0 {
            tracing::info!(
                routes = backfill.filled,
                "filled in the match keys of routes stored before migration 0008"
            );
        }
        Ok(store)
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The URL the store was opened with (for LISTEN connections); contains credentials.
    pub fn url(&self) -> &str {
        &self.url
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// A read transaction that sees one consistent state of the store.
    pub async fn read(&self) -> Result<StoreTx, StoreError> {
        let mut tx = self.pool.begin().await?;
        if self.backend == Backend::Postgres {
            sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
                .execute(&mut *tx)
                .await?;
        }
        Ok(StoreTx {
            tx,
            backend: self.backend,
            serves_changed: false,
            locked_version: 0,
        })
    }

    /// A write transaction, and the snapshot version its changes will carry.
    pub async fn write(&self) -> Result<(StoreTx, u64), StoreError> {
        let mut tx = self.pool.begin().await?;
        // Taking the row lock first serialises writers (Postgres) and takes SQLite's write
        // lock up front, so a deferred transaction never has to upgrade and fail.
        let row = sqlx::query(
            "UPDATE cluster_state SET snapshot_version = snapshot_version + 1 WHERE id = 1 RETURNING snapshot_version",
        )
        .fetch_one(&mut *tx)
        .await?;
        let version: i64 = row.try_get(0)?;
        Ok((
            StoreTx {
                tx,
                backend: self.backend,
                serves_changed: false,
                locked_version: version as u64,
            },
            version as u64,
        ))
    }

    /// A write transaction whose version is settled at the end (`settle_version`): bumped
    /// only if it wrote something the snapshot reads. Routes, integrations and
    /// authorizers reach nodes only through a deployment, so 10,000 CreateRoute calls on
    /// an API with no auto-deploy stage would otherwise make every replica recompile the
    /// whole snapshot 10,000 times for nothing. It takes the write lock up front as
    /// `write` does, so versions still follow commit order.
    pub async fn write_deferred(&self) -> Result<StoreTx, StoreError> {
        let mut tx = self.pool.begin().await?;
        // The lock statement also reads the version: one round trip fewer under the lock.
        let row = sqlx::query(
            "UPDATE cluster_state SET snapshot_version = snapshot_version WHERE id = 1 RETURNING snapshot_version",
        )
        .fetch_one(&mut *tx)
        .await?;
        let version: i64 = row.try_get(0)?;
        Ok(StoreTx {
            tx,
            backend: self.backend,
            serves_changed: false,
            locked_version: version as u64,
        })
    }

    /// A write transaction for changes that are not configuration (users, keys,
    /// sessions): it takes the same write lock as `write` but leaves the version alone.
    pub async fn write_unversioned(&self) -> Result<StoreTx, StoreError> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("UPDATE cluster_state SET snapshot_version = snapshot_version WHERE id = 1")
            .execute(&mut *tx)
            .await?;
        Ok(StoreTx {
            tx,
            backend: self.backend,
            serves_changed: false,
            locked_version: 0,
        })
    }

    /// The current snapshot version, outside any transaction (cheap poll).
    pub async fn snapshot_version(&self) -> Result<u64, StoreError> {
        let row = sqlx::query("SELECT snapshot_version FROM cluster_state WHERE id = 1")
            .fetch_one(&self.pool)
            .await?;
        Ok(row.try_get::<i64, _>(0)? as u64)
    }

    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }
}

/// One transaction on the store; dropped without `commit`, it rolls back.
pub struct StoreTx {
    tx: Transaction<'static, Any>,
    backend: Backend,
    /// Whether this transaction wrote a row the snapshot reads (`snapshot_source`: APIs,
    /// stages, deployments). Only a `write_deferred` transaction is settled by it: a
    /// `write` one bumped the version when it began.
    serves_changed: bool,
    /// The version this transaction holds under the write lock (0 where no one asks:
    /// reads and `write_unversioned`).
    locked_version: u64,
}

/// The Postgres channel on which replicas announce committed configuration changes.
pub const CHANGE_CHANNEL: &str = "portico_config";

impl StoreTx {
    pub async fn commit(self) -> Result<(), StoreError> {
        self.tx.commit().await.map_err(StoreError::from_sqlx)
    }

    /// Notes that this transaction wrote a row the snapshot reads.
    fn serves_changed(&mut self) {
        self.serves_changed = true;
    }

    /// The version a `write_deferred` transaction's changes carry: a new one if it wrote
    /// what the snapshot reads, else the current one (nodes have nothing new to get).
    /// Returns whether it bumped.
    pub async fn settle_version(&mut self) -> Result<(u64, bool), StoreError> {
        if !self.serves_changed {
            // No one else can have bumped it: this transaction holds the write lock.
            return Ok((self.locked_version, false));
        }
        let row = sqlx::query(
            "UPDATE cluster_state SET snapshot_version = snapshot_version + 1 WHERE id = 1 RETURNING snapshot_version",
        )
        .fetch_one(&mut *self.tx)
        .await?;
        // Settled once: a second call must not bump again.
        self.serves_changed = false;
        self.locked_version = row.try_get::<i64, _>(0)? as u64;
        Ok((self.locked_version, true))
    }

    pub async fn snapshot_version(&mut self) -> Result<u64, StoreError> {
        let row = sqlx::query("SELECT snapshot_version FROM cluster_state WHERE id = 1")
            .fetch_one(&mut *self.tx)
            .await?;
        Ok(row.try_get::<i64, _>(0)? as u64)
    }

    /// Tells the other replicas about this transaction's changes. Postgres delivers the
    /// notification only if and when the transaction commits.
    pub async fn announce(&mut self, version: u64) -> Result<(), StoreError> {
        if self.backend == Backend::Postgres {
            sqlx::query("SELECT pg_notify($1, $2)")
                .bind(CHANGE_CHANNEL)
                .bind(version.to_string())
                .execute(&mut *self.tx)
                .await?;
        }
        Ok(())
    }
}

/// Creates a new SQLite database file readable by its owner alone, as the cluster token
/// and master key beside it are: it holds sealed secrets and password hashes. SQLite
/// gives its WAL and shared-memory files the database file's permissions.
fn create_owner_only(url: &str) -> Result<(), StoreError> {
    let path = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .unwrap_or(url);
    let path = path.split('?').next().unwrap_or(path);
    // `create_new` leaves an existing file alone (AlreadyExists below).
    if path.is_empty() || path.starts_with(':') {
        return Ok(());
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    match options.open(path) {
        Ok(_) => Ok(()),
        // Another process made it first: it is theirs to have set up.
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(StoreError::CreateFile {
            path: path.to_string(),
            source: e,
        }),
    }
}

/// Hides the password of a database URL for messages.
pub fn redact_url(url: &str) -> String {
    match url.split_once("://") {
        Some((scheme, rest)) => match rest.rsplit_once('@') {
            Some((creds, host)) => {
                let user = creds.split(':').next().unwrap_or("");
                format!("{scheme}://{user}:***@{host}")
            }
            None => url.to_string(),
        },
        None => url.to_string(),
    }
}
