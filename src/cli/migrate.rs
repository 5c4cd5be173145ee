//! `conflicto migrate up | down [N] | status | verify`: schema changes for operators and
//! pipelines.
//! Outside `development` a backup comes first (or `--skip-backup`), and an integrity check
//! always follows. Output is plain text meant to be read in a deploy log.

use std::process::ExitCode;

use crate::config::{Environment, parse_database_url};
use crate::storage::migrations::{self, BackupPolicy, MigrationReport};
use crate::storage::{ScanDepth, SchemaStatus};

use super::{MigrateAction, MigrateArgs};

/// The exit status of `migrate status` when this release cannot serve the schema, apart from
/// 1 (the database could not be read), so a rollback can ask the release it goes back to.
pub const CANNOT_SERVE: u8 = 3;

/// Runs one migrate action; exit 1 on any failure, including a failed integrity check, and
/// [`CANNOT_SERVE`] from `status` for a schema this release cannot serve.
pub async fn run(args: MigrateArgs) -> ExitCode {
    let (store, _) = match args.database.open().await {
        Ok(opened) => opened,
        Err(code) => return code,
    };
    let url = match parse_database_url(args.database.database_url.as_deref()) {
        Ok((url, _)) => url,
        Err(_) => return ExitCode::from(2),
    };
    let backup = if args.skip_backup || args.database.environment == Environment::Development {
        BackupPolicy::Skip
    } else {
        BackupPolicy::Required(args.database.backup_dir.clone())
    };
    println!(
        "database: {url} (environment {})",
        args.database.environment.as_str()
    );
    let outcome = match args.action {
        MigrateAction::Status => match store.schema_status().await {
            Ok(status) => {
                print_status(&status);
                if !status.verdict().is_servable() {
                    store.close().await;
                    return ExitCode::from(CANNOT_SERVE);
                }
                Ok(true)
            }
            Err(error) => Err(error),
        },
        MigrateAction::Verify => store.integrity_check(ScanDepth::Full).await.map(|report| {
            println!("{report}");
            report.is_ok()
        }),
        MigrateAction::Up => migrations::upgrade(store.as_ref(), &backup)
            .await
            .map(|report| print_report("applied", &report)),
        MigrateAction::Down { steps } => migrations::downgrade(store.as_ref(), steps, &backup)
            .await
            .map(|report| print_report("reverted", &report)),
    };
    store.close().await;
    match outcome {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}

fn print_status(status: &SchemaStatus) {
    for migration in &status.known {
        let state = match (migration.applied, migration.modified) {
            (true, true) => "applied, MODIFIED since",
            (true, false) => "applied",
            (false, _) => "pending",
        };
        println!(
            "  {:04} {:<40} {state}",
            migration.version, migration.description
        );
    }
    for version in &status.unknown_applied {
        println!(
            "  {version:04} {:<40} applied, unknown to this release",
            "?"
        );
    }
    println!("{}", status.verdict().explain());
}

/// Prints what ran and the integrity check; true when the check passed.
fn print_report(verb: &str, report: &MigrationReport) -> bool {
    if let Some(path) = &report.backup {
        println!("backup written to {}", path.display());
    }
    if report.applied.is_empty() {
        println!("nothing to do: no migration {verb}");
    }
    for step in &report.applied {
        println!("{verb} {step}");
    }
    println!("{}", report.integrity);
    report.integrity.is_ok()
}
