//! The PostgreSQL [`Store`]: production, shared by several app instances.
//! `migrate` runs are serialised by a session advisory lock held on a dedicated connection;
//! backups shell out to `pg_dump`, with the password passed in the environment, never argv.

use std::path::{Path, PathBuf};

use async_trait::async_trait;
use percent_encoding::percent_decode_str;
use sqlx::migrate::Migrator;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{AssertSqlSafe, Connection, PgConnection, PgPool};

use super::migrations::{
    self, IntegrityReport, MigrationError, MigrationLock, MigrationStep, ScanDepth,
};
use super::{
    Backend, CHANGE_CHANNEL, ChangeListener, ConnectOptions, Engine, PoolStats, SchemaStatus,
    StoreError,
};

/// What [`shared`] compiles against on this engine (see its module docs).
type Db = sqlx::Postgres;
type EngineStore = PostgresStore;
type WriteTx = sqlx::Transaction<'static, sqlx::Postgres>;
const FOR_SHARE: &str = " for share";
const FOR_KEY_SHARE: &str = " for key share";
const FOR_UPDATE: &str = " for update";

#[allow(
    clippy::duplicate_mod,
    reason = "each engine compiles the shared SQL against its own types"
)]
#[path = "shared.rs"]
mod shared;

/// How long a migration statement may wait for a lock before it fails.
pub const MIGRATION_LOCK_TIMEOUT: &str = "5s";
/// How long a migration statement may run.
pub const MIGRATION_STATEMENT_TIMEOUT: &str = "15min";

static MIGRATOR: Migrator = sqlx::migrate!("migrations/postgres");

/// Advisory lock key for `conflicto migrate` ("conflict" as eight ASCII bytes). It differs
/// from the key sqlx's own migrator derives, so the two never block each other.
const MIGRATE_LOCK_KEY: i64 = i64::from_be_bytes(*b"conflict");

/// The PostgreSQL implementation of [`Store`].
pub struct PostgresStore {
    pool: PgPool,
    url: url::Url,
    connect: PgConnectOptions,
}

impl PostgresStore {
    /// The one connection migrations run on: its own, with a lock timeout, so a migration that
    /// would wait behind the serving release's transactions (and make every query after it
    /// wait too) fails fast and the deploy stops; and a statement timeout, so none runs
    /// unbounded. Both are docs/deployment.md's migration rules.
    async fn migration_pool(&self) -> Result<PgPool, MigrationError> {
        let options = self.connect.clone().options([
            ("lock_timeout", MIGRATION_LOCK_TIMEOUT),
            ("statement_timeout", MIGRATION_STATEMENT_TIMEOUT),
        ]);
        Ok(PgPoolOptions::new()
            .max_connections(1)
            .connect_with(options)
            .await?)
    }

    /// Connects a pool to the database at `url`; fails when the server does not answer.
    pub async fn connect(url: &url::Url, options: &ConnectOptions) -> Result<Self, StoreError> {
        let connect: PgConnectOptions = url.as_str().parse()?;
        let connect = connect.application_name("conflicto");
        let pool = PgPoolOptions::new()
            .max_connections(options.max_connections.max(1))
            .acquire_timeout(options.acquire_timeout)
            .connect_with(connect.clone())
            .await?;
        Ok(Self {
            pool,
            url: url.clone(),
            connect,
        })
    }

    /// Opens a write transaction on any pooled connection: row locks order PostgreSQL's
    /// writers, and its one shared buffer cache serves every connection alike.
    async fn begin_write(&self) -> Result<sqlx::Transaction<'static, sqlx::Postgres>, StoreError> {
        Ok(self.pool.begin().await?)
    }

    async fn migrations_table_exists(&self) -> Result<bool, sqlx::Error> {
        sqlx::query_scalar("select to_regclass('_sqlx_migrations') is not null")
            .fetch_one(&self.pool)
            .await
    }

    async fn oldest_compatible_version(&self) -> Option<i64> {
        let exists: bool =
            sqlx::query_scalar("select to_regclass('schema_compatibility') is not null")
                .fetch_one(&self.pool)
                .await
                .ok()?;
        if !exists {
            return None;
        }
        sqlx::query_scalar(
            "select oldest_compatible_version from schema_compatibility where id = 1",
        )
        .fetch_optional(&self.pool)
        .await
        .ok()
        .flatten()
    }

    /// The environment `pg_dump` needs to reach this database, password included.
    fn libpq_environment(&self) -> Vec<(&'static str, String)> {
        let mut env = vec![
            (
                "PGHOST",
                self.url.host_str().unwrap_or("localhost").to_owned(),
            ),
            ("PGPORT", self.url.port().unwrap_or(5432).to_string()),
            (
                "PGDATABASE",
                self.url.path().trim_start_matches('/').to_owned(),
            ),
        ];
        let decode = |s: &str| percent_decode_str(s).decode_utf8_lossy().into_owned();
        if !self.url.username().is_empty() {
            env.push(("PGUSER", decode(self.url.username())));
        }
        if let Some(password) = self.url.password() {
            env.push(("PGPASSWORD", decode(password)));
        }
        for (key, value) in self.url.query_pairs() {
            if key == "sslmode" {
                env.push(("PGSSLMODE", value.into_owned()));
            }
        }
        env
    }
}

#[async_trait]
impl Engine for PostgresStore {
    fn backend(&self) -> Backend {
        Backend::Postgres
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
        self.pool.close().await;
    }

    async fn schema_status(&self) -> Result<SchemaStatus, MigrationError> {
        let exists = self.migrations_table_exists().await?;
        let oldest = self.oldest_compatible_version().await;
        let mut conn = self.pool.acquire().await?;
        migrations::status::<sqlx::Postgres>(&mut conn, &MIGRATOR, exists, oldest).await
    }

    async fn lock_migrations(&self) -> Result<MigrationLock, MigrationError> {
        // A connection of its own, outside the pool: when it is dropped the session ends and
        // PostgreSQL releases the lock, even if this process dies mid-migration.
        let mut conn = PgConnection::connect_with(&self.connect).await?;
        // Asked again and again rather than waited for in one statement: a statement that
        // waits holds a snapshot, and an index built concurrently by the migration holding
        // the lock would wait for that snapshot, and so for us, until its lock timeout.
        loop {
            let taken: bool = sqlx::query_scalar("select pg_try_advisory_lock($1)")
                .bind(MIGRATE_LOCK_KEY)
                .fetch_one(&mut conn)
                .await?;
            if taken {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        }
        Ok(MigrationLock::new(std::sync::Mutex::new(conn)))
    }

    async fn apply_migrations(&self) -> Result<Vec<MigrationStep>, MigrationError> {
        let before = self.schema_status().await?;
        let pool = self.migration_pool().await?;
        let ran = MIGRATOR.run(&pool).await;
        pool.close().await;
        ran?;
        let after = self.schema_status().await?;
        Ok(migrations::steps_between(&MIGRATOR, &before, &after))
    }

    async fn revert_migrations(&self, target: i64) -> Result<Vec<MigrationStep>, MigrationError> {
        let before = self.schema_status().await?;
        let pool = self.migration_pool().await?;
        let ran = MIGRATOR.undo(&pool, target).await;
        pool.close().await;
        ran?;
        let after = self.schema_status().await?;
        Ok(migrations::steps_between(&MIGRATOR, &before, &after))
    }

    async fn backup(&self, dir: &Path) -> Result<PathBuf, MigrationError> {
        let Some(pg_dump) = find_on_path("pg_dump") else {
            return Err(MigrationError::Refused(
                "pg_dump is not on PATH, so no backup can be taken: install the PostgreSQL \
                 client tools, take a snapshot yourself (see docs/runbooks/database.md) and \
                 rerun with --skip-backup"
                    .into(),
            ));
        };
        std::fs::create_dir_all(dir).map_err(|e| {
            MigrationError::Io(format!(
                "cannot create backup folder {}: {e}",
                dir.display()
            ))
        })?;
        let database = self.url.path().trim_start_matches('/');
        let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%S%.3fZ");
        let target = dir.join(format!("{database}-{stamp}.dump"));
        let output = tokio::process::Command::new(pg_dump)
            .arg("--format=custom")
            .arg("--no-owner")
            .arg("--file")
            .arg(&target)
            .env_clear()
            .envs(self.libpq_environment())
            .output()
            .await
            .map_err(|e| MigrationError::Io(format!("cannot run pg_dump: {e}")))?;
        if !output.status.success() {
            return Err(MigrationError::Refused(format!(
                "pg_dump failed ({}): {}",
                output.status,
                String::from_utf8_lossy(&output.stderr).trim()
            )));
        }
        Ok(target)
    }

    async fn integrity_check(&self, depth: ScanDepth) -> Result<IntegrityReport, MigrationError> {
        let status = self.schema_status().await?;
        let (schema, mut problems) = migrations::schema_problems(&status);
        // Identifiers are quoted by PostgreSQL's own format('%I'), so the checks built from
        // them below are safe to run as dynamic SQL.
        type Constraint = (String, String, String, Vec<String>, Vec<String>, bool, bool);
        let constraints: Vec<Constraint> =
            sqlx::query_as(
                "select c.conname::text, \
                   format('%I.%I', cn.nspname, cl.relname), \
                   format('%I.%I', pn.nspname, pl.relname), \
                   array(select format('%I', a.attname) from unnest(c.conkey) with ordinality k(n, o) \
                         join pg_attribute a on a.attrelid = c.conrelid and a.attnum = k.n order by k.o), \
                   array(select format('%I', a.attname) from unnest(c.confkey) with ordinality k(n, o) \
                         join pg_attribute a on a.attrelid = c.confrelid and a.attnum = k.n order by k.o), \
                   c.convalidated, \
                   exists(select 1 from pg_trigger t where t.tgconstraint = c.oid and t.tgenabled = 'D') \
                 from pg_constraint c \
                 join pg_class cl on cl.oid = c.conrelid \
                 join pg_namespace cn on cn.oid = cl.relnamespace \
                 join pg_class pl on pl.oid = c.confrelid \
                 join pg_namespace pn on pn.oid = pl.relnamespace \
                 where c.contype = 'f' and cn.nspname = current_schema() \
                 order by 1",
            )
            .fetch_all(&self.pool)
            .await?;
        let mut scanned = 0;
        for (name, child, parent, child_columns, parent_columns, validated, disabled) in
            &constraints
        {
            if !validated {
                problems.push(format!("foreign key {name} on {child} is NOT VALID"));
            }
            if *disabled {
                problems.push(format!(
                    "foreign key {name} on {child} is not enforced: a trigger of it is disabled"
                ));
            }
            if depth == ScanDepth::Enforcement && *validated && !disabled {
                continue;
            }
            scanned += 1;
            let present = child_columns
                .iter()
                .map(|c| format!("c.{c} is not null"))
                .collect::<Vec<_>>()
                .join(" and ");
            let joined = child_columns
                .iter()
                .zip(parent_columns)
                .map(|(c, p)| format!("p.{p} = c.{c}"))
                .collect::<Vec<_>>()
                .join(" and ");
            let sql = format!(
                "select count(*) from {child} c where {present} \
                 and not exists (select 1 from {parent} p where {joined})"
            );
            let orphans: i64 = sqlx::query_scalar(AssertSqlSafe(sql))
                .fetch_one(&self.pool)
                .await?;
            if orphans > 0 {
                problems.push(format!(
                    "foreign key violation: {orphans} row(s) of {child} break {name} (missing {parent} rows)"
                ));
            }
        }
        Ok(IntegrityReport {
            schema,
            foreign_keys_checked: constraints.len(),
            foreign_keys_scanned: scanned,
            problems,
        })
    }

    async fn notify_change(&self, payload: &str) -> Result<(), StoreError> {
        sqlx::query("select pg_notify($1, $2)")
            .bind(CHANGE_CHANNEL)
            .bind(payload)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn change_listener(&self) -> Result<Option<Box<dyn ChangeListener>>, StoreError> {
        let mut listener = sqlx::postgres::PgListener::connect_with(&self.pool).await?;
        listener.listen(CHANGE_CHANNEL).await?;
        Ok(Some(Box::new(PgChangeListener(listener))))
    }
}

struct PgChangeListener(sqlx::postgres::PgListener);

#[async_trait]
impl ChangeListener for PgChangeListener {
    async fn next(&mut self) -> Result<Option<String>, StoreError> {
        Ok(self.0.try_recv().await?.map(|n| n.payload().to_owned()))
    }
}

/// The first executable called `name` in a PATH folder.
fn find_on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
}
