//! Storage: the one [`Store`] trait every use case talks to, its SQLite and PostgreSQL
//! implementations, and the schema migrations that ship inside the binary.
//! Nothing above this module writes SQL, and nothing in it knows about HTTP.

pub mod migrations;
mod postgres;
mod sqlite;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;

pub use migrations::{
    IntegrityReport, MigrationError, MigrationLock, MigrationStep, SchemaStatus, SchemaVerdict,
};
pub use postgres::PostgresStore;
pub use sqlite::SqliteStore;

/// Which database engine a [`Store`] runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// An embedded SQLite file: the default, one instance.
    Sqlite,
    /// A PostgreSQL server: production, several instances.
    Postgres,
}

impl Backend {
    /// The lowercase name used in logs, metrics and health output.
    pub fn as_str(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

/// What can go wrong in storage, without any HTTP in it.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The row asked for does not exist.
    #[error("not found")]
    NotFound,
    /// A uniqueness or similar constraint refused the write.
    #[error("conflict: {0}")]
    Conflict(String),
    /// The database could not be reached in time.
    #[error("database unavailable")]
    Unavailable(#[source] sqlx::Error),
    /// Any other database failure.
    #[error("database error")]
    Backend(#[source] sqlx::Error),
}

impl From<sqlx::Error> for StoreError {
    fn from(error: sqlx::Error) -> Self {
        match error {
            sqlx::Error::RowNotFound => StoreError::NotFound,
            sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) => {
                StoreError::Unavailable(error)
            }
            sqlx::Error::Database(ref db) if db.is_unique_violation() => {
                StoreError::Conflict(db.message().to_owned())
            }
            other => StoreError::Backend(other),
        }
    }
}

/// Connection pool figures, exported as metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolStats {
    /// Connections currently open (idle or in use).
    pub open: u32,
    /// Open connections not in use.
    pub idle: u32,
    /// The most connections the pool will open.
    pub max: u32,
}

/// How to open a database: the parsed `DATABASE_URL` plus pool settings.
#[derive(Debug, Clone)]
pub struct ConnectOptions {
    /// The database to open.
    pub url: DatabaseUrl,
    /// The most connections the pool may hold.
    pub max_connections: u32,
    /// How long a request waits for a free connection before the database counts as down.
    pub acquire_timeout: Duration,
}

/// A validated `DATABASE_URL`. Its `Debug` and `Display` never show a password.
#[derive(Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    /// `sqlite://path/to/file.db` (relative paths are relative to the working directory).
    Sqlite {
        /// Path of the database file.
        path: PathBuf,
    },
    /// `postgres://user:password@host:port/database?options`.
    Postgres {
        /// The full URL, password included; never log it.
        url: url::Url,
    },
}

impl DatabaseUrl {
    /// Parses `sqlite://…`, `sqlite:…`, `postgres://…` or `postgresql://…`.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let raw = raw.trim();
        if let Some(rest) = raw
            .strip_prefix("sqlite://")
            .or_else(|| raw.strip_prefix("sqlite:"))
        {
            let path = rest.split('?').next().unwrap_or_default();
            if path.is_empty() || path == ":memory:" {
                return Err("a SQLite URL needs a file path, such as sqlite://conflicto.db".into());
            }
            return Ok(DatabaseUrl::Sqlite {
                path: PathBuf::from(path),
            });
        }
        if raw.starts_with("postgres://") || raw.starts_with("postgresql://") {
            let url = url::Url::parse(raw).map_err(|error| format!("not a valid URL: {error}"))?;
            if url.host_str().is_none_or(str::is_empty) {
                return Err("a PostgreSQL URL needs a host".into());
            }
            if url.path().trim_start_matches('/').is_empty() {
                return Err("a PostgreSQL URL needs a database name".into());
            }
            return Ok(DatabaseUrl::Postgres { url });
        }
        Err("must start with sqlite:// or postgres://".into())
    }

    /// Which engine this URL selects.
    pub fn backend(&self) -> Backend {
        match self {
            DatabaseUrl::Sqlite { .. } => Backend::Sqlite,
            DatabaseUrl::Postgres { .. } => Backend::Postgres,
        }
    }
}

impl std::fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DatabaseUrl::Sqlite { path } => write!(f, "sqlite://{}", path.display()),
            DatabaseUrl::Postgres { url } => {
                let mut shown = url.clone();
                if shown.password().is_some() {
                    // Cannot fail: the URL has a host, so it can carry a password.
                    let _ = shown.set_password(Some("********"));
                }
                write!(f, "{shown}")
            }
        }
    }
}

impl std::fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "DatabaseUrl({self})")
    }
}

/// The database behind every use case. One implementation per engine, same behaviour.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// Which engine this store runs on.
    fn backend(&self) -> Backend;

    /// Answers when the database can run a trivial query.
    async fn ping(&self) -> Result<(), StoreError>;

    /// Current pool usage.
    fn pool_stats(&self) -> PoolStats;

    /// Closes every pooled connection; later calls fail.
    async fn close(&self);

    /// Compares the migrations applied to the database with those built into this binary.
    async fn schema_status(&self) -> Result<SchemaStatus, MigrationError>;

    /// Takes the lock that serialises concurrent `migrate` runs on this database.
    async fn lock_migrations(&self) -> Result<MigrationLock, MigrationError>;

    /// Applies every pending migration in order and returns what was applied.
    async fn apply_migrations(&self) -> Result<Vec<MigrationStep>, MigrationError>;

    /// Reverts migrations down to (and keeping) `target` and returns what was reverted.
    async fn revert_migrations(&self, target: i64) -> Result<Vec<MigrationStep>, MigrationError>;

    /// Writes a consistent copy of the database into `dir` and returns its path.
    async fn backup(&self, dir: &Path) -> Result<PathBuf, MigrationError>;

    /// Checks that the schema matches this binary's migrations and that foreign keys hold.
    async fn integrity_check(&self) -> Result<IntegrityReport, MigrationError>;
}

/// Opens the database named by `options` (creating a SQLite file if missing).
pub async fn connect(options: &ConnectOptions) -> Result<Arc<dyn Store>, StoreError> {
    Ok(match &options.url {
        DatabaseUrl::Sqlite { path } => Arc::new(SqliteStore::connect(path, options).await?),
        DatabaseUrl::Postgres { url } => Arc::new(PostgresStore::connect(url, options).await?),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_urls_parse_by_scheme() {
        let cases = [
            ("sqlite://conflicto.db", Some(Backend::Sqlite)),
            ("sqlite:data/x.db?mode=rwc", Some(Backend::Sqlite)),
            ("postgres://u:p@localhost:5432/db", Some(Backend::Postgres)),
            ("postgresql://localhost/db", Some(Backend::Postgres)),
            ("postgres://localhost", None),
            ("sqlite://", None),
            ("sqlite::memory:", None),
            ("mysql://localhost/db", None),
            ("", None),
        ];
        for (raw, expected) in cases {
            assert_eq!(
                DatabaseUrl::parse(raw).ok().map(|u| u.backend()),
                expected,
                "parsing {raw:?}"
            );
        }
    }

    #[test]
    fn a_postgres_password_never_shows_in_display_or_debug() {
        let url = DatabaseUrl::parse("postgres://app:s3cret@db:5432/conflicto").unwrap();
        assert!(!url.to_string().contains("s3cret"));
        assert!(!format!("{url:?}").contains("s3cret"));
        assert!(url.to_string().contains("app:********@db"));
    }
}
