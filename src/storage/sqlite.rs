//! The embedded SQLite [`Store`]: one file, WAL mode, one writer at a time.
//! `migrate` runs are serialised with an OS file lock beside the database file, since
//! SQLite has no advisory locks; backups use `VACUUM INTO`, which is safe while serving.

use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use sqlx::migrate::Migrator;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{AssertSqlSafe, SqlitePool};

use super::migrations::{self, IntegrityReport, MigrationError, MigrationLock, MigrationStep};
use super::{Backend, ChangeListener, ConnectOptions, Engine, PoolStats, SchemaStatus, StoreError};

#[allow(clippy::wildcard_imports)]
use super::portable::prelude::*;

impl_store!(
    SqliteStore,
    sqlx::Sqlite,
    for_share = "",
    for_key_share = "",
    for_update = "",
    begin_write = "BEGIN IMMEDIATE"
);

static MIGRATOR: Migrator = sqlx::migrate!("migrations/sqlite");

/// The SQLite implementation of [`Store`].
pub struct SqliteStore {
    pool: SqlitePool,
    /// The one connection every write transaction uses, behind the write gate. A SQLite
    /// connection drops its whole page cache when it sees that another connection wrote,
    /// so writes spread over the pool each began cold, reading the indexes' pages from the
    /// OS again; on one connection they stay cached.
    write_pool: SqlitePool,
    write_gate: WriteGate,
    path: PathBuf,
}

impl SqliteStore {
    /// Opens (creating if missing) the database file at `path`.
    pub async fn connect(path: &Path, options: &ConnectOptions) -> Result<Self, StoreError> {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|e| StoreError::Unavailable(e.into()))?;
        }
        let connect = SqliteConnectOptions::from_str("sqlite://")?
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // FULL: a commit is on disk before it returns, so an acknowledged answer survives
            // a power cut. Answers are committed in batches, so the fsync per commit is cheap.
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(Duration::from_secs(5))
            .foreign_keys(true);
        let pool = SqlitePoolOptions::new()
            .max_connections(options.max_connections.max(1))
            .acquire_timeout(options.acquire_timeout)
            .connect_with(connect.clone())
            .await?;
        let write_pool = SqlitePoolOptions::new()
            .max_connections(1)
            .acquire_timeout(options.acquire_timeout)
            .connect_with(connect)
            .await?;
        Ok(Self {
            pool,
            write_pool,
            write_gate: Some(std::sync::Arc::default()),
            path: path.to_owned(),
        })
    }

    async fn migrations_table_exists(&self) -> Result<bool, sqlx::Error> {
        let count: i64 = sqlx::query_scalar(
            "select count(*) from sqlite_master where type = 'table' and name = '_sqlx_migrations'",
        )
        .fetch_one(&self.pool)
        .await?;
        Ok(count > 0)
    }

    async fn oldest_compatible_version(&self) -> Option<i64> {
        sqlx::query_scalar(
            "select oldest_compatible_version from schema_compatibility where id = 1",
        )
        .fetch_optional(&self.pool)
        .await
        .ok()
        .flatten()
    }
}

#[async_trait]
impl Engine for SqliteStore {
    fn backend(&self) -> Backend {
        Backend::Sqlite
    }

    async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("select 1").execute(&self.pool).await?;
        Ok(())
    }

    fn pool_stats(&self) -> PoolStats {
        PoolStats {
            open: self.pool.size(),
            idle: u32::try_from(self.pool.num_idle()).unwrap_or(u32::MAX),
            max: self.pool.options().get_max_connections(),
        }
    }

    async fn close(&self) {
        self.write_pool.close().await;
        self.pool.close().await;
    }

    async fn schema_status(&self) -> Result<SchemaStatus, MigrationError> {
        let exists = self.migrations_table_exists().await?;
        let oldest = self.oldest_compatible_version().await;
        let mut conn = self.pool.acquire().await?;
        migrations::status::<sqlx::Sqlite>(&mut conn, &MIGRATOR, exists, oldest).await
    }

    async fn lock_migrations(&self) -> Result<MigrationLock, MigrationError> {
        let mut lock_path = self.path.clone().into_os_string();
        lock_path.push(".migrate-lock");
        let file = tokio::task::spawn_blocking(move || -> std::io::Result<File> {
            let file = OpenOptions::new()
                .create(true)
                .truncate(false)
                .write(true)
                .open(&lock_path)?;
            // Blocks until any other `migrate` on this file is done; closing the file unlocks.
            file.lock()?;
            Ok(file)
        })
        .await
        .map_err(|e| MigrationError::Io(format!("migration lock task failed: {e}")))?
        .map_err(|e| MigrationError::Io(format!("cannot lock the database file: {e}")))?;
        Ok(MigrationLock::new(file))
    }

    async fn apply_migrations(&self) -> Result<Vec<MigrationStep>, MigrationError> {
        let before = self.schema_status().await?;
        MIGRATOR.run(&self.pool).await?;
        let after = self.schema_status().await?;
        Ok(migrations::steps_between(&MIGRATOR, &before, &after))
    }

    async fn revert_migrations(&self, target: i64) -> Result<Vec<MigrationStep>, MigrationError> {
        let before = self.schema_status().await?;
        MIGRATOR.undo(&self.pool, target).await?;
        let after = self.schema_status().await?;
        Ok(migrations::steps_between(&MIGRATOR, &before, &after))
    }

    async fn backup(&self, dir: &Path) -> Result<PathBuf, MigrationError> {
        std::fs::create_dir_all(dir).map_err(|e| {
            MigrationError::Io(format!(
                "cannot create backup folder {}: {e}",
                dir.display()
            ))
        })?;
        let stem = self
            .path
            .file_stem()
            .map_or_else(|| "conflicto".into(), |s| s.to_string_lossy().into_owned());
        let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%S%.3fZ");
        let target = dir.join(format!("{stem}-{stamp}.backup.db"));
        let quoted = target.to_string_lossy().replace('\'', "''");
        // VACUUM INTO writes a consistent, compacted copy while other connections keep working.
        sqlx::query(AssertSqlSafe(format!("vacuum into '{quoted}'")))
            .execute(&self.pool)
            .await?;
        Ok(target)
    }

    async fn integrity_check(&self) -> Result<IntegrityReport, MigrationError> {
        let status = self.schema_status().await?;
        let (schema, mut problems) = migrations::schema_problems(&status);
        let quick: Vec<String> = sqlx::query_scalar("pragma quick_check")
            .fetch_all(&self.pool)
            .await?;
        if quick != ["ok"] {
            problems.extend(quick.into_iter().map(|line| format!("quick_check: {line}")));
        }
        let foreign_keys: i64 = sqlx::query_scalar(
            "select count(*) from sqlite_master m, pragma_foreign_key_list(m.name) \
             where m.type = 'table'",
        )
        .fetch_one(&self.pool)
        .await?;
        let violations: Vec<(String, Option<i64>, String)> =
            sqlx::query_as("select \"table\", rowid, parent from pragma_foreign_key_check")
                .fetch_all(&self.pool)
                .await?;
        problems.extend(violations.into_iter().map(|(table, rowid, parent)| {
            let row = rowid.map_or_else(|| "a row".to_owned(), |id| format!("row {id}"));
            format!("foreign key violation: {row} of {table} points to a missing {parent} row")
        }));
        Ok(IntegrityReport {
            schema,
            foreign_keys_checked: usize::try_from(foreign_keys).unwrap_or_default(),
            problems,
        })
    }

    async fn notify_change(&self, _payload: &str) -> Result<(), StoreError> {
        Ok(())
    }

    async fn change_listener(&self) -> Result<Option<Box<dyn ChangeListener>>, StoreError> {
        Ok(None)
    }
}
