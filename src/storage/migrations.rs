//! Schema migrations: numbered up/down SQL pairs embedded in the binary, one folder per
//! engine (`migrations/sqlite`, `migrations/postgres`), with the same numbers and names.
//! This file holds what both engines share: status, verdicts, apply/revert and reports.
//! Engine-specific work (locks, backups, foreign-key checks) lives in the backend files.

use std::collections::HashMap;
use std::fmt;
use std::path::PathBuf;

use sqlx::Database;
use sqlx::migrate::{Migrate, MigrateError, Migrator};

use super::Store;

/// The bookkeeping table sqlx keeps; named here because status reads it before creating it.
pub(crate) const MIGRATIONS_TABLE: &str = "_sqlx_migrations";

/// Migration failures, named so the operator knows what to do.
#[derive(Debug, thiserror::Error)]
pub enum MigrationError {
    /// The database could not be reached or a statement failed.
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// sqlx refused or failed a migration step.
    #[error("migration failed: {0}")]
    Migrate(#[from] MigrateError),
    /// The lock file or a backup file could not be written.
    #[error("{0}")]
    Io(String),
    /// A precondition does not hold (for example no `pg_dump` on PATH).
    #[error("{0}")]
    Refused(String),
}

/// One migration built into this binary, and whether the database has it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KnownMigration {
    /// The number in the file name.
    pub version: i64,
    /// The rest of the file name, with underscores as spaces.
    pub description: String,
    /// Whether the database records it as applied.
    pub applied: bool,
    /// Applied, but the file's checksum differs from what was applied.
    pub modified: bool,
}

/// How the database's schema relates to this binary's migrations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchemaStatus {
    /// Every migration this binary knows, in order.
    pub known: Vec<KnownMigration>,
    /// Versions applied to the database that this binary does not know (a newer release).
    pub unknown_applied: Vec<i64>,
    /// A migration that failed part-way, if any.
    pub dirty: Option<i64>,
    /// From `schema_compatibility`: the oldest release schema this database still serves.
    pub oldest_compatible_version: Option<i64>,
}

/// The one-word summary of a [`SchemaStatus`] that decides whether `serve` may start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SchemaVerdict {
    /// Every known migration is applied and nothing else is.
    Current,
    /// Some known migrations are not applied yet.
    Pending(Vec<i64>),
    /// A newer release migrated the database and declared it still compatible with this one.
    NewerCompatible(Vec<i64>),
    /// A newer release migrated the database past what this release can run on.
    NewerIncompatible(Vec<i64>),
    /// An applied migration's file changed since it was applied.
    Modified(Vec<i64>),
    /// A migration failed part-way.
    Dirty(i64),
}

impl SchemaStatus {
    /// The highest migration version this binary knows.
    pub fn latest_known(&self) -> i64 {
        self.known.iter().map(|m| m.version).max().unwrap_or(0)
    }

    /// The highest applied version, known or not.
    pub fn latest_applied(&self) -> i64 {
        self.known
            .iter()
            .filter(|m| m.applied)
            .map(|m| m.version)
            .chain(self.unknown_applied.iter().copied())
            .max()
            .unwrap_or(0)
    }

    /// Known migrations that are not applied.
    pub fn pending(&self) -> Vec<i64> {
        self.known
            .iter()
            .filter(|m| !m.applied)
            .map(|m| m.version)
            .collect()
    }

    /// Applied versions, ascending, known or not.
    pub fn applied_versions(&self) -> Vec<i64> {
        let mut versions: Vec<i64> = self
            .known
            .iter()
            .filter(|m| m.applied)
            .map(|m| m.version)
            .chain(self.unknown_applied.iter().copied())
            .collect();
        versions.sort_unstable();
        versions
    }

    /// Decides what state the schema is in, worst problem first.
    pub fn verdict(&self) -> SchemaVerdict {
        if let Some(version) = self.dirty {
            return SchemaVerdict::Dirty(version);
        }
        let modified: Vec<i64> = self
            .known
            .iter()
            .filter(|m| m.modified)
            .map(|m| m.version)
            .collect();
        if !modified.is_empty() {
            return SchemaVerdict::Modified(modified);
        }
        let pending = self.pending();
        if !pending.is_empty() {
            return SchemaVerdict::Pending(pending);
        }
        if !self.unknown_applied.is_empty() {
            let oldest = self.oldest_compatible_version.unwrap_or(i64::MAX);
            return if self.latest_known() >= oldest {
                SchemaVerdict::NewerCompatible(self.unknown_applied.clone())
            } else {
                SchemaVerdict::NewerIncompatible(self.unknown_applied.clone())
            };
        }
        SchemaVerdict::Current
    }
}

impl SchemaVerdict {
    /// Whether a release with this verdict may serve traffic.
    pub fn is_servable(&self) -> bool {
        matches!(
            self,
            SchemaVerdict::Current | SchemaVerdict::NewerCompatible(_)
        )
    }

    /// A one-line explanation that names the command to run, for logs and `/ready`.
    pub fn explain(&self) -> String {
        let list = |v: &[i64]| {
            v.iter()
                .map(|n| format!("{n:04}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        match self {
            SchemaVerdict::Current => "schema is current".into(),
            SchemaVerdict::Pending(v) => format!(
                "{} migration(s) pending ({}): run `conflicto migrate up`",
                v.len(),
                list(v)
            ),
            SchemaVerdict::NewerCompatible(v) => format!(
                "schema has newer migrations ({}) that declare this release compatible",
                list(v)
            ),
            SchemaVerdict::NewerIncompatible(v) => format!(
                "schema has newer migrations ({}) that this release cannot run on: deploy the newer release, or run its `conflicto migrate down`",
                list(v)
            ),
            SchemaVerdict::Modified(v) => format!(
                "applied migration(s) {} differ from the files in this release: restore the original files",
                list(v)
            ),
            SchemaVerdict::Dirty(n) => format!(
                "migration {n:04} failed part-way: repair the database by hand, then run `conflicto migrate up`"
            ),
        }
    }
}

/// A migration applied or reverted by one run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MigrationStep {
    /// The migration's number.
    pub version: i64,
    /// Its description.
    pub description: String,
}

impl fmt::Display for MigrationStep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04} {}", self.version, self.description)
    }
}

/// How far an integrity check reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScanDepth {
    /// What every migration run does: on PostgreSQL, each foreign key must be validated with
    /// its enforcing triggers enabled, and only one that is not is scanned for orphan rows
    /// (the database enforces the rest), so a deploy does not read every row of every table
    /// while the old release serves. SQLite has no such record and is always scanned.
    Enforcement,
    /// Scans every foreign key for orphan rows (`conflicto migrate verify`): it also finds
    /// rows written while enforcement was off and back on since, which the catalog no
    /// longer shows. For a quiet hour or after a restore.
    Full,
}

/// What the post-migration integrity check found.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct IntegrityReport {
    /// The verdict on applied versions versus the files.
    pub schema: String,
    /// How many foreign-key constraints were checked.
    pub foreign_keys_checked: usize,
    /// How many of them were scanned for orphan rows.
    pub foreign_keys_scanned: usize,
    /// Every problem found; empty means the database is sound.
    pub problems: Vec<String>,
}

impl IntegrityReport {
    /// True when nothing is wrong.
    pub fn is_ok(&self) -> bool {
        self.problems.is_empty()
    }
}

impl fmt::Display for IntegrityReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let verdict = if self.is_ok() { "ok" } else { "FAILED" };
        write!(
            f,
            "integrity check {verdict}: {}; {} foreign key(s) checked, {} scanned for orphan rows",
            self.schema, self.foreign_keys_checked, self.foreign_keys_scanned
        )?;
        for problem in &self.problems {
            write!(f, "\n  - {problem}")?;
        }
        Ok(())
    }
}

/// Serialises `migrate` runs; released when dropped.
pub struct MigrationLock {
    // Held only for its Drop: a file lock on SQLite, a session advisory lock on PostgreSQL.
    _guard: Box<dyn Send + Sync>,
}

impl MigrationLock {
    pub(crate) fn new(guard: impl Send + Sync + 'static) -> Self {
        Self {
            _guard: Box::new(guard),
        }
    }
}

/// Whether to back the database up before changing its schema.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BackupPolicy {
    /// No backup (development, or `--skip-backup` after a manual snapshot).
    Skip,
    /// Back up into this folder first; failing to back up stops the migration.
    Required(PathBuf),
}

/// What one `migrate up` or `migrate down` did.
#[derive(Debug, Clone)]
pub struct MigrationReport {
    /// The backup taken first, if any.
    pub backup: Option<PathBuf>,
    /// The migrations applied or reverted, in the order they ran.
    pub applied: Vec<MigrationStep>,
    /// The integrity check run afterwards.
    pub integrity: IntegrityReport,
}

/// Applies every pending migration under the migration lock: backup first when the policy
/// asks and something is pending, integrity check after.
pub async fn upgrade(
    store: &dyn Store,
    backup: &BackupPolicy,
) -> Result<MigrationReport, MigrationError> {
    let _lock = store.lock_migrations().await?;
    let status = store.schema_status().await?;
    refuse_broken(&status)?;
    let mut report = MigrationReport {
        backup: None,
        applied: Vec::new(),
        integrity: IntegrityReport::default(),
    };
    if !status.pending().is_empty() {
        if let BackupPolicy::Required(dir) = backup {
            report.backup = Some(store.backup(dir).await?);
        }
        report.applied = store.apply_migrations().await?;
    }
    report.integrity = store.integrity_check(ScanDepth::Enforcement).await?;
    let left = store.schema_status().await?.pending();
    if !left.is_empty() {
        report.integrity.problems.push(format!(
            "migrations still pending after migrating: {left:?}"
        ));
    }
    Ok(report)
}

/// Reverts the last `steps` applied migrations under the migration lock, with the same
/// backup and integrity check as [`upgrade`].
pub async fn downgrade(
    store: &dyn Store,
    steps: u32,
    backup: &BackupPolicy,
) -> Result<MigrationReport, MigrationError> {
    let _lock = store.lock_migrations().await?;
    let status = store.schema_status().await?;
    refuse_broken(&status)?;
    if !status.unknown_applied.is_empty() {
        return Err(MigrationError::Refused(format!(
            "the database has migrations this release does not know ({:?}); revert them with the release that added them",
            status.unknown_applied
        )));
    }
    let applied = status.applied_versions();
    let steps = usize::try_from(steps)
        .unwrap_or(usize::MAX)
        .min(applied.len());
    let mut report = MigrationReport {
        backup: None,
        applied: Vec::new(),
        integrity: IntegrityReport::default(),
    };
    if steps > 0 {
        let target = applied
            .len()
            .checked_sub(steps + 1)
            .map_or(0, |index| applied[index]);
        if let BackupPolicy::Required(dir) = backup {
            report.backup = Some(store.backup(dir).await?);
        }
        report.applied = store.revert_migrations(target).await?;
    }
    report.integrity = store.integrity_check(ScanDepth::Enforcement).await?;
    Ok(report)
}

fn refuse_broken(status: &SchemaStatus) -> Result<(), MigrationError> {
    match status.verdict() {
        verdict @ (SchemaVerdict::Dirty(_) | SchemaVerdict::Modified(_)) => {
            Err(MigrationError::Refused(verdict.explain()))
        }
        _ => Ok(()),
    }
}

/// Reads the status shared by both engines. `table_exists` tells whether sqlx's bookkeeping
/// table is there, so that reading status never creates it.
pub(crate) async fn status<DB>(
    conn: &mut DB::Connection,
    migrator: &Migrator,
    table_exists: bool,
    oldest_compatible_version: Option<i64>,
) -> Result<SchemaStatus, MigrationError>
where
    DB: Database,
    DB::Connection: Migrate,
{
    let (applied, dirty) = if table_exists {
        let applied = conn.list_applied_migrations(MIGRATIONS_TABLE).await?;
        let dirty = conn.dirty_version(MIGRATIONS_TABLE).await?;
        (applied, dirty)
    } else {
        (Vec::new(), None)
    };
    let applied: HashMap<i64, Vec<u8>> = applied
        .into_iter()
        .map(|m| (m.version, m.checksum.into_owned()))
        .collect();
    let known: Vec<KnownMigration> = migrator
        .iter()
        .filter(|m| m.migration_type.is_up_migration())
        .map(|m| {
            let applied_checksum = applied.get(&m.version);
            KnownMigration {
                version: m.version,
                description: m.description.to_string(),
                applied: applied_checksum.is_some(),
                modified: applied_checksum.is_some_and(|c| c.as_slice() != &*m.checksum),
            }
        })
        .collect();
    let mut unknown_applied: Vec<i64> = applied
        .keys()
        .copied()
        .filter(|v| !migrator.version_exists(*v))
        .collect();
    unknown_applied.sort_unstable();
    Ok(SchemaStatus {
        known,
        unknown_applied,
        dirty,
        oldest_compatible_version,
    })
}

/// The up migrations of `migrator` that `before` lacks and `after` has, as steps.
pub(crate) fn steps_between(
    migrator: &Migrator,
    before: &SchemaStatus,
    after: &SchemaStatus,
) -> Vec<MigrationStep> {
    let was: Vec<i64> = before.applied_versions();
    let now: Vec<i64> = after.applied_versions();
    let changed = |v: &i64| was.contains(v) != now.contains(v);
    let mut steps: Vec<MigrationStep> = migrator
        .iter()
        .filter(|m| m.migration_type.is_up_migration() && changed(&m.version))
        .map(|m| MigrationStep {
            version: m.version,
            description: m.description.to_string(),
        })
        .collect();
    if now.len() < was.len() {
        steps.reverse();
    }
    steps
}

/// Builds the integrity report's schema part from a status read after migrating.
pub(crate) fn schema_problems(status: &SchemaStatus) -> (String, Vec<String>) {
    let verdict = status.verdict();
    let summary = format!(
        "{} of {} known migration(s) applied, latest {:04}",
        status.known.iter().filter(|m| m.applied).count(),
        status.known.len(),
        status.latest_applied()
    );
    // Pending migrations are normal after `migrate down`; `upgrade` checks for leftovers.
    let problems = match verdict {
        SchemaVerdict::Current | SchemaVerdict::NewerCompatible(_) | SchemaVerdict::Pending(_) => {
            Vec::new()
        }
        other => vec![other.explain()],
    };
    (summary, problems)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(applied: &[i64], known: &[i64], unknown: &[i64], oldest: i64) -> SchemaStatus {
        SchemaStatus {
            known: known
                .iter()
                .map(|&version| KnownMigration {
                    version,
                    description: format!("m{version}"),
                    applied: applied.contains(&version),
                    modified: false,
                })
                .collect(),
            unknown_applied: unknown.to_vec(),
            dirty: None,
            oldest_compatible_version: Some(oldest),
        }
    }

    #[test]
    fn verdicts_cover_each_schema_state() {
        let cases = [
            (status(&[1, 2], &[1, 2], &[], 1), SchemaVerdict::Current),
            (
                status(&[1], &[1, 2], &[], 1),
                SchemaVerdict::Pending(vec![2]),
            ),
            (
                status(&[1, 2], &[1, 2], &[3], 1),
                SchemaVerdict::NewerCompatible(vec![3]),
            ),
            (
                status(&[1, 2], &[1, 2], &[3, 4], 4),
                SchemaVerdict::NewerIncompatible(vec![3, 4]),
            ),
        ];
        for (status, expected) in cases {
            assert_eq!(status.verdict(), expected, "for {status:?}");
        }
    }

    #[test]
    fn only_current_and_compatible_schemas_are_servable() {
        assert!(SchemaVerdict::Current.is_servable());
        assert!(SchemaVerdict::NewerCompatible(vec![3]).is_servable());
        assert!(!SchemaVerdict::Pending(vec![1]).is_servable());
        assert!(!SchemaVerdict::NewerIncompatible(vec![3]).is_servable());
        assert!(!SchemaVerdict::Dirty(2).is_servable());
        assert!(!SchemaVerdict::Modified(vec![1]).is_servable());
    }

    #[test]
    fn a_dirty_migration_outranks_everything_else() {
        let mut s = status(&[1], &[1, 2], &[], 1);
        s.dirty = Some(2);
        assert_eq!(s.verdict(), SchemaVerdict::Dirty(2));
    }

    #[test]
    fn a_pending_verdict_names_the_command_to_run() {
        assert!(
            SchemaVerdict::Pending(vec![2])
                .explain()
                .contains("conflicto migrate up")
        );
    }
}
