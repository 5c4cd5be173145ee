//! `conflicto organizer create`: makes an organizer account (the first admin, typically)
//! directly in the database. The password comes from a prompt or standard input, never argv.

use std::io::BufRead;
use std::process::ExitCode;

use crate::organizers::{self, CreateOrganizerError};
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

/// Runs an organizer action.
pub async fn run(args: OrganizerArgs) -> ExitCode {
    let OrganizerAction::Create {
        email,
        admin,
        password_stdin,
    } = args.action;
    let password = match read_password(password_stdin) {
        Ok(password) => password,
        Err(error) => {
            eprintln!("error: {error}");
            return ExitCode::from(2);
        }
    };
    let (store, embedded) = match args.database.open().await {
        Ok(opened) => opened,
        Err(code) => return code,
    };
    // The embedded default is migrated here as `serve` would; any other database must be
    // migrated by `conflicto migrate up` first.
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
        return ExitCode::FAILURE;
    }
    let outcome = organizers::create(store.as_ref(), &email, &password, admin).await;
    store.close().await;
    match outcome {
        Ok(organizer) => {
            let role = if organizer.is_admin {
                "admin"
            } else {
                "organizer"
            };
            println!("created {role} {} ({})", organizer.email, organizer.id);
            ExitCode::SUCCESS
        }
        Err(
            error @ (CreateOrganizerError::InvalidEmail(_)
            | CreateOrganizerError::WeakPassword(_)
            | CreateOrganizerError::EmailTaken),
        ) => {
            eprintln!("error: {error}");
            ExitCode::from(2)
        }
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}
