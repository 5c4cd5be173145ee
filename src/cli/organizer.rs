//! `conflicto organizer`: the operator's account tools, working directly on the database.
//! `create` makes an account (the first admin, typically), `list` shows them all,
//! `set-password` recovers one, `disable`/`enable` stop and restart one, and `delete`
//! removes one with everything it owns. Passwords come from a prompt or standard input,
//! never argv.

use std::io::BufRead;
use std::process::ExitCode;
use std::sync::Arc;

use chrono::Utc;

use crate::organizers::{self, ChangePasswordError, CreateOrganizerError, Email, Organizer};
use crate::storage::Store;
use crate::storage::migrations::{self, BackupPolicy};

use super::{OrganizerAction, OrganizerArgs};

fn read_password(from_stdin: bool) -> Result<String, String> {
    if from_stdin {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .map_err(|e| format!("cannot read the password from standard input: {e}"))?;
        return Ok(line.trim_end_matches(['\r', '\n']).to_owned());
    }
    let first = rpassword::prompt_password("Password: ").map_err(|e| {
        format!("cannot read the password (use --password-stdin without a terminal): {e}")
    })?;
    let second = rpassword::prompt_password("Repeat the password: ").map_err(|e| e.to_string())?;
    if first != second {
        return Err("the passwords differ".into());
    }
    Ok(first)
}

/// A refusal the operator can fix (exit code 2), or a failure (exit code 1).
enum Failure {
    Usage(String),
    Error(String),
}

impl From<crate::storage::StoreError> for Failure {
    fn from(error: crate::storage::StoreError) -> Self {
        Failure::Error(error.to_string())
    }
}

/// Opens the database, migrating the embedded default as `serve` would; any other database
/// must be migrated by `conflicto migrate up` first.
async fn open(args: &OrganizerArgs) -> Result<Arc<dyn Store>, ExitCode> {
    let (store, embedded) = args.database.open().await?;
    let schema = if embedded {
        migrations::upgrade(store.as_ref(), &BackupPolicy::Skip)
            .await
            .map(|_| ())
            .map_err(|e| e.to_string())
    } else {
        match store.schema_status().await {
            Ok(status) if status.verdict().is_servable() => Ok(()),
            Ok(status) => Err(status.verdict().explain()),
            Err(error) => Err(error.to_string()),
        }
    };
    if let Err(error) = schema {
        eprintln!("error: {error}");
        store.close().await;
        return Err(ExitCode::FAILURE);
    }
    Ok(store)
}

/// The organizer with this email, or a usage error naming it.
async fn find(store: &dyn Store, email: &str) -> Result<Organizer, Failure> {
    let parsed = Email::parse(email).map_err(|e| Failure::Usage(format!("{email}: {e}")))?;
    store
        .organizer_by_email(parsed.as_str())
        .await?
        .map(|(organizer, _)| organizer)
        .ok_or_else(|| Failure::Usage(format!("no organizer has the email {}", parsed.as_str())))
}

/// Runs an organizer action.
pub async fn run(args: OrganizerArgs) -> ExitCode {
    // Passwords are read before the database is opened, so a typo costs no migration.
    let password = match &args.action {
        OrganizerAction::Create { password_stdin, .. }
        | OrganizerAction::SetPassword { password_stdin, .. } => {
            match read_password(*password_stdin) {
                Ok(password) => Some(password),
                Err(error) => {
                    eprintln!("error: {error}");
                    return ExitCode::from(2);
                }
            }
        }
        _ => None,
    };
    if let OrganizerAction::Delete { yes: false, email } = &args.action {
        eprintln!(
            "error: deleting {email} also deletes every session, answer and template they own; \
             add --yes to confirm"
        );
        return ExitCode::from(2);
    }
    let store = match open(&args).await {
        Ok(store) => store,
        Err(code) => return code,
    };
    let outcome = act(store.as_ref(), args.action, password.unwrap_or_default()).await;
    store.close().await;
    match outcome {
        Ok(message) => {
            println!("{message}");
            ExitCode::SUCCESS
        }
        Err(Failure::Usage(error)) => {
            eprintln!("error: {error}");
            ExitCode::from(2)
        }
        Err(Failure::Error(error)) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}

fn role(organizer: &Organizer) -> &'static str {
    if organizer.is_admin {
        "admin"
    } else {
        "organizer"
    }
}

async fn act(
    store: &dyn Store,
    action: OrganizerAction,
    password: String,
) -> Result<String, Failure> {
    match action {
        OrganizerAction::Create { email, admin, .. } => {
            match organizers::create(store, &email, &password, admin).await {
                Ok(organizer) => Ok(format!(
                    "created {} {} ({})",
                    role(&organizer),
                    organizer.email,
                    organizer.id
                )),
                Err(
                    error @ (CreateOrganizerError::InvalidEmail(_)
                    | CreateOrganizerError::WeakPassword(_)
                    | CreateOrganizerError::EmailTaken),
                ) => Err(Failure::Usage(error.to_string())),
                Err(error) => Err(Failure::Error(error.to_string())),
            }
        }
        OrganizerAction::List => {
            let all = store.list_organizers().await?;
            let mut lines = vec![format!(
                "{:<40} {:<9} {:<9} {}",
                "EMAIL", "ROLE", "STATE", "CREATED"
            )];
            for organizer in &all {
                let state = if organizer.disabled_at.is_some() {
                    "disabled"
                } else {
                    "active"
                };
                lines.push(format!(
                    "{:<40} {:<9} {:<9} {}",
                    organizer.email,
                    role(organizer),
                    state,
                    organizer.created_at.format("%Y-%m-%d %H:%M UTC")
                ));
            }
            lines.push(format!("{} organizer(s)", all.len()));
            Ok(lines.join("\n"))
        }
        OrganizerAction::SetPassword { email, .. } => {
            let organizer = find(store, &email).await?;
            match organizers::set_password(store, organizer.id, &password).await {
                Ok(_) => Ok(format!(
                    "set the password of {}; every login and API token they had has ended",
                    organizer.email
                )),
                Err(ChangePasswordError::Store(error)) => Err(error.into()),
                Err(error) => Err(Failure::Usage(error.to_string())),
            }
        }
        OrganizerAction::Disable { email } => {
            let organizer = find(store, &email).await?;
            store
                .set_organizer_disabled(organizer.id, Some(Utc::now()))
                .await?;
            Ok(format!(
                "disabled {}; every login and API token they had has ended",
                organizer.email
            ))
        }
        OrganizerAction::Enable { email } => {
            let organizer = find(store, &email).await?;
            store.set_organizer_disabled(organizer.id, None).await?;
            Ok(format!("enabled {}", organizer.email))
        }
        OrganizerAction::Delete { email, .. } => {
            let organizer = find(store, &email).await?;
            store.delete_organizer(organizer.id).await?;
            Ok(format!(
                "deleted {} with their sessions and templates",
                organizer.email
            ))
        }
    }
}
