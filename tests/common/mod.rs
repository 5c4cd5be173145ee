//! Shared by the test binaries: a fresh database per test on SQLite or PostgreSQL, the
//! `both_backends!` macro that runs one scenario on each, and a private PostgreSQL cluster
//! for tests that stop the server. PostgreSQL comes from TEST_DATABASE_URL (an admin URL);
//! with CONFLICTO_REQUIRE_POSTGRES=1 or CI set, a missing one fails instead of skipping.
#![allow(dead_code)]

pub mod oidc;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use conflicto::storage::migrations::{self, BackupPolicy};
use conflicto::storage::{self, ConnectOptions, DatabaseUrl, Store};
use sqlx::Connection;

/// Runs each listed test function once on SQLite and once on PostgreSQL, as `name::sqlite`
/// and `name::postgres`. A function is an ordinary `async fn name(db: TestDb)` beside the
/// list, so rustfmt and an IDE see it; one left off the list is unused, which the lint
/// refuses.
#[macro_export]
macro_rules! both_backends {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$name($crate::common::TestDb::sqlite().await).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                if let Some(db) = $crate::common::TestDb::postgres().await {
                    super::$name(db).await;
                }
            }
        }
    )*};
}

/// A database created for one test.
pub struct TestDb {
    /// Where it is.
    pub url: DatabaseUrl,
    /// The raw URL string, as an operator would pass it in DATABASE_URL.
    pub raw_url: String,
    dir: tempfile::TempDir,
}

impl TestDb {
    /// A new SQLite file in a temporary folder.
    pub async fn sqlite() -> TestDb {
        let dir = tempfile::tempdir().expect("temp dir");
        let raw_url = format!("sqlite://{}", dir.path().join("test.db").display());
        TestDb {
            url: DatabaseUrl::parse(&raw_url).unwrap(),
            raw_url,
            dir,
        }
    }

    /// A new, empty database on the test PostgreSQL server, or None when there is none
    /// and none is required.
    pub async fn postgres() -> Option<TestDb> {
        let admin = postgres_admin_url()?;
        let name = format!("t_{}", uuid::Uuid::new_v4().simple());
        let mut conn = sqlx::PgConnection::connect(&admin)
            .await
            .expect("connect to TEST_DATABASE_URL");
        sqlx::query(sqlx::AssertSqlSafe(format!("create database {name}")))
            .execute(&mut conn)
            .await
            .expect("create test database");
        conn.close().await.ok();
        let mut url = url::Url::parse(&admin).unwrap();
        url.set_path(&name);
        let raw_url = url.to_string();
        Some(TestDb {
            url: DatabaseUrl::parse(&raw_url).unwrap(),
            raw_url,
            dir: tempfile::tempdir().expect("temp dir"),
        })
    }

    /// A database at an existing PostgreSQL URL (a private cluster's own database).
    pub fn postgres_at(raw_url: &str) -> TestDb {
        TestDb {
            url: DatabaseUrl::parse(raw_url).unwrap(),
            raw_url: raw_url.to_owned(),
            dir: tempfile::tempdir().expect("temp dir"),
        }
    }

    /// A scratch folder that lives as long as this database (backups, env files).
    pub fn scratch(&self) -> &Path {
        self.dir.path()
    }

    /// Opens a store on this database without migrating it.
    pub async fn store(&self) -> Arc<dyn Store> {
        storage::connect(&ConnectOptions {
            url: self.url.clone(),
            max_connections: 5,
            acquire_timeout: std::time::Duration::from_secs(3),
        })
        .await
        .expect("open test database")
    }

    /// Opens a store and applies every migration.
    pub async fn migrated_store(&self) -> Arc<dyn Store> {
        let store = self.store().await;
        let report = migrations::upgrade(store.as_ref(), &BackupPolicy::Skip)
            .await
            .expect("migrate test database");
        assert!(report.integrity.is_ok(), "{}", report.integrity);
        store
    }

    /// Which engine this is.
    pub fn backend(&self) -> storage::Backend {
        self.url.backend()
    }
}

/// True when PostgreSQL tests must run rather than skip.
pub fn postgres_required() -> bool {
    std::env::var_os("CONFLICTO_REQUIRE_POSTGRES").is_some_and(|v| v == "1")
        || std::env::var_os("CI").is_some_and(|v| !v.is_empty() && v != "false")
}

/// The admin URL of the test PostgreSQL server, if any.
pub fn postgres_admin_url() -> Option<String> {
    match std::env::var("TEST_DATABASE_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ if postgres_required() => {
            panic!(
                "TEST_DATABASE_URL is not set but PostgreSQL tests are required; run scripts/test.sh"
            )
        }
        _ => {
            eprintln!(
                "skipping a PostgreSQL test: TEST_DATABASE_URL is not set (scripts/test.sh sets it)"
            );
            None
        }
    }
}

/// A PostgreSQL cluster of one test's own, which the test may stop and start.
pub struct PrivateCluster {
    dir: PathBuf,
    port: u16,
}

impl PrivateCluster {
    /// Starts a new cluster with scripts/pg-cluster.sh, or None when PostgreSQL is optional
    /// and its binaries are missing.
    pub fn start() -> Option<PrivateCluster> {
        postgres_admin_url()?;
        let dir = PathBuf::from(format!(
            "/tmp/conflicto-private-{}",
            uuid::Uuid::new_v4().simple()
        ));
        let port = free_port();
        let cluster = PrivateCluster { dir, port };
        cluster.run("start");
        Some(cluster)
    }

    fn run(&self, action: &str) {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/pg-cluster.sh");
        let output = Command::new(script)
            .arg(action)
            .arg(&self.dir)
            .arg(self.port.to_string())
            .output()
            .expect("run pg-cluster.sh");
        assert!(
            output.status.success(),
            "pg-cluster.sh {action} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }

    /// The cluster's admin database URL.
    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// Stops the server (fast mode: connections are cut).
    pub fn stop(&self) {
        self.run("stop");
    }

    /// Starts it again on the same port.
    pub fn restart(&self) {
        self.run("start");
    }
}

impl Drop for PrivateCluster {
    fn drop(&mut self) {
        self.stop();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A TCP port nobody listens on right now, for a server a test starts itself (the OpenID
/// Provider, a CLI server, a PostgreSQL cluster). It is chosen below the range the system
/// hands out for port 0: a port from that range, let go to be used a moment later, could
/// meanwhile go to a server of a test running alongside, which binds port 0.
pub fn free_port() -> u16 {
    use rand::Rng;
    let ephemeral_low = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|range| range.split_whitespace().next()?.parse::<u16>().ok())
        .unwrap_or(32_768);
    let below = 10_000..ephemeral_low.max(10_001);
    for _ in 0..100 {
        let port = rand::rng().random_range(below.clone());
        if std::net::TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// How many migrations the binary ships (counted from the SQLite folder).
pub fn migration_count() -> usize {
    std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations/sqlite"))
        .unwrap()
        .filter(|entry| {
            entry
                .as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .ends_with(".up.sql")
        })
        .count()
}
