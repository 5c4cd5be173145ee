//! The embedded SQLite [`Store`]: one file, WAL mode, one writer at a time.
//! `migrate` runs are serialised with an OS file lock beside the database file, since
//! SQLite has no advisory locks; backups use `VACUUM INTO`, which is safe while serving.

use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use sqlx::migrate::Migrator;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{AssertSqlSafe, ConnectOptions as _, Connection as _, SqliteConnection, SqlitePool};
use tokio::sync::{Mutex, OwnedMappedMutexGuard, OwnedMutexGuard};

use super::migrations::{
    self, IntegrityReport, MigrationError, MigrationLock, MigrationStep, ScanDepth,
};
use super::{Backend, ChangeListener, ConnectOptions, Engine, PoolStats, SchemaStatus, StoreError};

/// What [`shared`] compiles against on this engine (see its module docs).
type Db = sqlx::Sqlite;
type EngineStore = SqliteStore;
type WriteTx = SqliteWriteTx;
const FOR_SHARE: &str = "";
const FOR_KEY_SHARE: &str = "";
const FOR_UPDATE: &str = "";

#[allow(
    clippy::duplicate_mod,
    reason = "each engine compiles the shared SQL against its own types"
)]
#[path = "shared.rs"]
mod shared;

static MIGRATOR: Migrator = sqlx::migrate!("migrations/sqlite");

/// The SQLite implementation of [`Store`].
pub struct SqliteStore {
    /// Read-only connections for every read: a write through one of them fails at once
    /// ("attempt to write a readonly database"), so every write takes `writer`.
    pool: SqlitePool,
    /// The one connection every write transaction runs on; `None` once the store is closed.
    /// Its lock is the write gate: SQLite has one writer at a time, and two connections of
    /// one process that both want to write leave the loser in SQLite's busy handler, which
    /// sleeps in steps of up to 100 ms, so a run of short writes (a presence flush) could
    /// starve the answers' group commit. Behind an async lock, writers queue first come,
    /// first served instead.
    ///
    /// It is one connection, always the same, and never returned to a pool: a SQLite
    /// connection drops its whole page cache when it sees that another connection wrote,
    /// so writes spread over a pool each began cold; and a pool pings a connection when it
    /// is returned and again when it is handed out, two more round trips to SQLite's
    /// worker thread per transaction, which a group commit under load waits for.
    writer: Arc<Mutex<Option<SqliteConnection>>>,
    /// For opening the writing connection again if its worker thread ever dies.
    connect: SqliteConnectOptions,
    path: PathBuf,
}

/// The writing connection, held for the length of one write transaction.
type Writing = OwnedMappedMutexGuard<Option<SqliteConnection>, SqliteConnection>;

/// A write transaction on [`SqliteStore`]'s writing connection, which it holds (and so
/// every other writer of this process waits) until it ends. `BEGIN IMMEDIATE` takes
/// SQLite's write lock at once, so two writers never deadlock on a lock upgrade.
///
/// Dropped before it ends (an error on the way, or a cancelled request), it rolls back in
/// a task that holds the connection until the rollback is done, so the next writer always
/// begins on a connection with no transaction open.
pub(crate) struct SqliteWriteTx {
    /// `Some` until the transaction has ended.
    conn: Option<Writing>,
}

impl SqliteWriteTx {
    fn conn(&mut self) -> &mut SqliteConnection {
        self.conn
            .as_deref_mut()
            .expect("a write transaction holds its connection until it ends")
    }

    pub(crate) async fn commit(mut self) -> Result<(), sqlx::Error> {
        sqlx::query("COMMIT").execute(self.conn()).await?;
        // Ended: release the connection. On an error, or if this future is dropped while
        // COMMIT runs, `conn` is still held and `drop` rolls back.
        self.conn = None;
        Ok(())
    }

    pub(crate) async fn rollback(mut self) -> Result<(), sqlx::Error> {
        sqlx::query("ROLLBACK").execute(self.conn()).await?;
        self.conn = None;
        Ok(())
    }
}

impl Drop for SqliteWriteTx {
    fn drop(&mut self) {
        let Some(mut conn) = self.conn.take() else {
            return;
        };
        // Without a runtime the process is ending, and the open transaction with it.
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move {
                // An error here means no transaction was open (a COMMIT had gone through).
                let _ = sqlx::query("ROLLBACK").execute(&mut *conn).await;
            });
        }
    }
}

impl std::ops::Deref for SqliteWriteTx {
    type Target = SqliteConnection;

    fn deref(&self) -> &SqliteConnection {
        self.conn
            .as_deref()
            .expect("a write transaction holds its connection until it ends")
    }
}

impl std::ops::DerefMut for SqliteWriteTx {
    fn deref_mut(&mut self) -> &mut SqliteConnection {
        self.conn()
    }
}

/// How long a statement waits for another connection's lock, and opening the database for
/// other processes opening it at the same time.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Runs `open` again while SQLite says the database is busy. Turning a new file to WAL
/// needs an exclusive lock, and when two processes open the same new file at once SQLite
/// refuses one of them at once instead of calling its busy handler (each holds a shared
/// lock the other waits for), so the busy timeout does not cover it.
async fn until_not_busy<T, F>(mut open: impl FnMut() -> F) -> Result<T, sqlx::Error>
where
    F: std::future::Future<Output = Result<T, sqlx::Error>>,
{
    let deadline = tokio::time::Instant::now() + BUSY_TIMEOUT;
    let mut pause = Duration::from_millis(5);
    loop {
        match open().await {
            Err(sqlx::Error::Database(error))
                if error
                    .code()
                    .and_then(|code| code.parse::<u32>().ok())
                    .is_some_and(|code| code & 0xff == 5)
                    && tokio::time::Instant::now() + pause < deadline =>
            {
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(Duration::from_millis(200));
            }
            outcome => return outcome,
        }
    }
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
            .busy_timeout(BUSY_TIMEOUT)
            .foreign_keys(true);
        // The writer first: it creates the file and turns on WAL, which readers then share.
        let writer = until_not_busy(|| connect.connect()).await?;
        let readers = connect.clone().create_if_missing(false).read_only(true);
        let pool = until_not_busy(|| {
            SqlitePoolOptions::new()
                .max_connections(options.max_connections.max(1))
                .acquire_timeout(options.acquire_timeout)
                .connect_with(readers.clone())
        })
        .await?;
        Ok(Self {
            pool,
            writer: Arc::new(Mutex::new(Some(writer))),
            connect,
            path: path.to_owned(),
        })
    }

    /// The writing connection, once every earlier writer of this process is done with it.
    async fn writing(&self) -> Result<Writing, sqlx::Error> {
        let slot = self.writer.clone().lock_owned().await;
        OwnedMutexGuard::try_map(slot, Option::as_mut).map_err(|_| sqlx::Error::PoolClosed)
    }

    /// For running migrations, which `sqlx` runs through a pool: a read-write pool of one
    /// connection, with the writing connection's lock, so that no other write of this
    /// process runs beside them.
    async fn migration_pool(&self) -> Result<(Writing, SqlitePool), sqlx::Error> {
        let writing = self.writing().await?;
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(self.connect.clone())
            .await?;
        Ok((writing, pool))
    }

    /// Opens a write transaction once every earlier writer of this process is done.
    async fn begin_write(&self) -> Result<SqliteWriteTx, StoreError> {
        let conn = self.writing().await?;
        // Held before BEGIN is sent: if this future is dropped while BEGIN runs, the
        // transaction's drop rolls back what BEGIN may have opened.
        let mut tx = SqliteWriteTx { conn: Some(conn) };
        match sqlx::query("BEGIN IMMEDIATE").execute(tx.conn()).await {
            Ok(_) => Ok(tx),
            // The connection's worker thread is gone: open it again, once.
            Err(sqlx::Error::WorkerCrashed) => {
                tracing::warn!("the SQLite writing connection stopped; opening it again");
                *tx.conn() = self.connect.connect().await?;
                sqlx::query("BEGIN IMMEDIATE").execute(tx.conn()).await?;
                Ok(tx)
            }
            Err(error) => Err(error.into()),
        }
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
        if let Some(writer) = self.writer.lock().await.take() {
            let _ = writer.close().await;
        }
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
        let (_writing, pool) = self.migration_pool().await?;
        let ran = MIGRATOR.run(&pool).await;
        pool.close().await;
        ran?;
        let after = self.schema_status().await?;
        Ok(migrations::steps_between(&MIGRATOR, &before, &after))
    }

    async fn revert_migrations(&self, target: i64) -> Result<Vec<MigrationStep>, MigrationError> {
        let before = self.schema_status().await?;
        let (_writing, pool) = self.migration_pool().await?;
        let ran = MIGRATOR.undo(&pool, target).await;
        pool.close().await;
        ran?;
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

    async fn integrity_check(&self, _depth: ScanDepth) -> Result<IntegrityReport, MigrationError> {
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
        let foreign_keys = usize::try_from(foreign_keys).unwrap_or_default();
        Ok(IntegrityReport {
            schema,
            foreign_keys_checked: foreign_keys,
            foreign_keys_scanned: foreign_keys,
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::{DatabaseUrl, Store as _};

    async fn store(dir: &tempfile::TempDir) -> SqliteStore {
        let path = dir.path().join("conflicto.db");
        let options = ConnectOptions {
            url: DatabaseUrl::Sqlite { path: path.clone() },
            max_connections: 2,
            acquire_timeout: Duration::from_secs(5),
        };
        let store = SqliteStore::connect(&path, &options).await.unwrap();
        store.apply_migrations().await.unwrap();
        store
    }

    /// A write on a pooled connection would contend with the writing connection in
    /// SQLite's busy handler (sleeping up to 100 ms a try) and leave its page cache cold.
    #[tokio::test]
    async fn only_the_writing_connection_writes() {
        let dir = tempfile::tempdir().unwrap();
        let store = store(&dir).await;
        let refused = sqlx::query(
            "insert into signing_keys (id, secret, created_at) values (1, x'00', '2026-12-05')",
        )
        .execute(&store.pool)
        .await
        .unwrap_err();
        assert!(
            refused.to_string().contains("readonly"),
            "a pooled connection wrote, or failed otherwise: {refused}"
        );
        // The store's own writes take the writing connection, and the pool reads them.
        let key = store
            .signing_key(&[7; 32], chrono::Utc::now())
            .await
            .unwrap();
        assert_eq!(key, [7; 32]);
        assert_eq!(
            store
                .signing_key(&[8; 32], chrono::Utc::now())
                .await
                .unwrap(),
            [7; 32]
        );
    }

    /// Migrations run through a pool of their own; reverting and applying again works with
    /// the read pool read-only.
    #[tokio::test]
    async fn migrations_revert_and_apply_beside_a_read_only_pool() {
        let dir = tempfile::tempdir().unwrap();
        let store = store(&dir).await;
        let latest = MIGRATOR.iter().map(|m| m.version).max().unwrap();
        let reverted = store.revert_migrations(latest - 1).await.unwrap();
        assert_eq!(reverted.len(), 1);
        let applied = store.apply_migrations().await.unwrap();
        assert_eq!(applied.len(), 1);
        store.close().await;
    }
}
