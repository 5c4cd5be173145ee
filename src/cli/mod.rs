//! The `conflicto` command line: [`Cli`] and its subcommands, each documenting every flag
//! and the environment variable behind it. Secrets show only whether they are set.
//! Each subcommand's work lives in its own file; this one parses and dispatches.

mod health_check;
pub mod loadtest;
mod migrate;
mod organizer;
mod serve;
mod smoke;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, CommandFactory, FromArgMatches, Parser, Subcommand};

use crate::config::Environment;
use crate::telemetry::{LogFormat, LogWriter};

/// Live audience engagement: polls, Q&A, word clouds, quizzes, planning poker.
#[derive(Debug, Parser)]
#[command(name = "conflicto", version, propagate_version = true)]
pub struct Cli {
    /// Read environment variables from this file first (KEY=value lines); variables already
    /// set in the environment win. See .env.dev.example and .env.prod.example.
    #[arg(long, global = true, env = "ENV_FILE", value_name = "PATH")]
    pub env_file: Option<PathBuf>,

    /// Log format: `json` (one object per line), `pretty`, or `auto` (pretty on a terminal,
    /// JSON otherwise).
    #[arg(
        long,
        global = true,
        env = "LOG_FORMAT",
        value_name = "LOG_FORMAT",
        default_value = "auto"
    )]
    pub log_format: LogFormat,

    /// Log filter, e.g. `info` or `conflicto=debug,sqlx=warn`.
    #[arg(
        long,
        global = true,
        env = "LOG_LEVEL",
        value_name = "LOG_LEVEL",
        default_value = "info"
    )]
    pub log_level: String,

    /// What to do; `serve` when omitted.
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Start the HTTP server (the default command).
    Serve(Box<ServeArgs>),
    /// Apply, revert or list database migrations.
    Migrate(MigrateArgs),
    /// Ask a running server whether it is healthy; exit 0 if so, 1 if not.
    HealthCheck(HealthCheckArgs),
    /// Manage organizer accounts (create the first admin).
    Organizer(OrganizerArgs),
    /// Simulate a live event against a server and measure it (see docs/performance.md).
    Loadtest(loadtest::LoadtestArgs),
    /// Run the post-deploy critical path against a deployment; exit 0 only if every step passed.
    Smoke(smoke::SmokeArgs),
}

/// Options of `conflicto organizer`.
#[derive(Debug, Clone, Args)]
pub struct OrganizerArgs {
    #[command(flatten)]
    pub database: DatabaseArgs,

    /// What to do.
    #[command(subcommand)]
    pub action: OrganizerAction,
}

/// What `organizer` does.
#[derive(Debug, Clone, Subcommand)]
pub enum OrganizerAction {
    /// Create an organizer account. The password is asked for twice on a terminal, or read
    /// from the first line of standard input with --password-stdin.
    Create {
        /// The organizer's email (their login).
        #[arg(long, value_name = "EMAIL")]
        email: String,
        /// Make it an admin, who sees and changes every session.
        #[arg(long)]
        admin: bool,
        /// Read the password from standard input instead of prompting.
        #[arg(long)]
        password_stdin: bool,
    },
    /// List every organizer: email, role, whether disabled, when created.
    List,
    /// Set an organizer's password (asked for like `create`'s), ending every login and
    /// API token they have. For an organizer who forgot theirs, or a stolen account.
    SetPassword {
        /// The organizer's email.
        #[arg(long, value_name = "EMAIL")]
        email: String,
        /// Read the password from standard input instead of prompting.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Disable an organizer: they cannot sign in, and every login and API token ends.
    /// Their sessions stay.
    Disable {
        /// The organizer's email.
        #[arg(long, value_name = "EMAIL")]
        email: String,
    },
    /// Let a disabled organizer sign in again.
    Enable {
        /// The organizer's email.
        #[arg(long, value_name = "EMAIL")]
        email: String,
    },
    /// Delete an organizer with every session, answer and template they own. This cannot
    /// be undone, so it needs --yes.
    Delete {
        /// The organizer's email.
        #[arg(long, value_name = "EMAIL")]
        email: String,
        /// Confirm the deletion.
        #[arg(long)]
        yes: bool,
    },
}

/// Which database to use; shared by `serve` and `migrate`.
#[derive(Debug, Clone, Args)]
pub struct DatabaseArgs {
    /// Database URL: `sqlite://FILE` or `postgres://USER:PASSWORD@HOST:PORT/DB`.
    /// Unset means the embedded file sqlite://conflicto.db, created and migrated on start.
    #[arg(
        long,
        env = "DATABASE_URL",
        value_name = "DATABASE_URL",
        hide_env_values = true
    )]
    pub database_url: Option<String>,

    /// Most database connections in the pool.
    #[arg(long, env = "DATABASE_MAX_CONNECTIONS", value_name = "DATABASE_MAX_CONNECTIONS", default_value_t = 10,
          value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub database_max_connections: u32,

    /// Deployment environment. Outside `development`, migrations are preceded by a backup.
    #[arg(
        long,
        env = "ENVIRONMENT",
        value_name = "ENVIRONMENT",
        default_value = "development"
    )]
    pub environment: Environment,

    /// Folder for the backups taken before migrating.
    #[arg(
        long,
        env = "BACKUP_DIR",
        value_name = "BACKUP_DIR",
        default_value = "backups"
    )]
    pub backup_dir: PathBuf,
}

impl DatabaseArgs {
    /// Opens the database for a one-off command (migrate, organizer). Errors are printed;
    /// the exit code to return is given back instead. The bool says whether this is the
    /// embedded default.
    pub async fn open(
        &self,
    ) -> Result<(std::sync::Arc<dyn crate::storage::Store>, bool), ExitCode> {
        let (url, embedded) = crate::config::parse_database_url(self.database_url.as_deref())
            .map_err(|error| {
                eprintln!("error: {error}");
                ExitCode::from(2)
            })?;
        let options = crate::storage::ConnectOptions {
            url: url.clone(),
            max_connections: 2,
            acquire_timeout: std::time::Duration::from_secs(10),
        };
        match crate::storage::connect(&options).await {
            Ok(store) => Ok((store, embedded)),
            Err(error) => {
                eprintln!(
                    "error: cannot open the database {url}: {error} ({})",
                    root_cause(&error)
                );
                Err(ExitCode::FAILURE)
            }
        }
    }
}

/// Options of `conflicto serve`.
#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    #[command(flatten)]
    pub database: DatabaseArgs,

    /// Address and port to listen on; port 0 picks a free one.
    #[arg(
        long,
        env = "LISTEN_ADDR",
        value_name = "LISTEN_ADDR",
        default_value = "127.0.0.1:8080"
    )]
    pub listen_addr: std::net::SocketAddr,

    /// Public URL of this server, used in QR codes and links (e.g. https://conflicto.app).
    /// Derived from LISTEN_ADDR when unset.
    #[arg(long, env = "PUBLIC_BASE_URL", value_name = "PUBLIC_BASE_URL",
          value_parser = crate::config::parse_public_base_url)]
    pub public_base_url: Option<url::Url>,

    /// Release identifier reported by the health endpoints (e.g. the image tag).
    #[arg(long, env = "APP_VERSION", value_name = "APP_VERSION", default_value = env!("CARGO_PKG_VERSION"))]
    pub app_version: String,

    /// Comma-separated origins allowed to call the API from a browser
    /// (e.g. https://conflicto.app,https://admin.conflicto.app). Empty: same origin only.
    #[arg(long, env = "ALLOWED_ORIGINS", value_name = "ALLOWED_ORIGINS", value_delimiter = ',',
          value_parser = crate::config::parse_origin)]
    pub allowed_origins: Vec<axum::http::HeaderValue>,

    /// Seconds before an unanswered request gets 408 (live streams are not affected).
    #[arg(long, env = "REQUEST_TIMEOUT_SECONDS", value_name = "REQUEST_TIMEOUT_SECONDS", default_value_t = 30,
          value_parser = clap::value_parser!(u64).range(1..=600))]
    pub request_timeout_seconds: u64,

    /// Largest request body accepted, in bytes; larger ones get 413.
    #[arg(long, env = "MAX_BODY_BYTES", value_name = "MAX_BODY_BYTES", default_value_t = 262_144,
          value_parser = clap::value_parser!(u64).range(1024..=16_777_216))]
    pub max_body_bytes: u64,

    /// Seconds to keep serving, with readiness at 503, after SIGTERM before the listener
    /// closes, so a load balancer can stop routing here. Use about 5 behind a load balancer.
    #[arg(long, env = "SHUTDOWN_DRAIN_SECONDS", value_name = "SHUTDOWN_DRAIN_SECONDS", default_value_t = 0,
          value_parser = clap::value_parser!(u64).range(0..=60))]
    pub shutdown_drain_seconds: u64,

    /// Days after a session ends before its participants' nicknames and free text are
    /// removed (counts stay); 0 keeps them until the session is deleted.
    #[arg(long, env = "RETENTION_DAYS", value_name = "RETENTION_DAYS", default_value_t = 0,
          value_parser = clap::value_parser!(u32).range(0..=36_500))]
    pub retention_days: u32,

    /// Seconds from SIGTERM until the process exits even if requests are still running.
    #[arg(long, env = "SHUTDOWN_TIMEOUT_SECONDS", value_name = "SHUTDOWN_TIMEOUT_SECONDS", default_value_t = 9,
          value_parser = clap::value_parser!(u64).range(1..=120))]
    pub shutdown_timeout_seconds: u64,

    /// Trust the last X-Forwarded-For entry as the client address (behind a load balancer).
    #[arg(long, env = "TRUST_FORWARDED_FOR", value_name = "TRUST_FORWARDED_FOR", default_value_t = false,
          action = clap::ArgAction::Set)]
    pub trust_forwarded_for: bool,

    /// Flood guard: requests per second from one client address, far above what a whole
    /// room behind one NAT sends; 0 turns it off. Answers, reactions and joins are limited
    /// per participant and per session instead (docs/security.md).
    #[arg(
        long,
        env = "RATE_LIMIT_ADDRESS_PER_SECOND",
        value_name = "RATE_LIMIT_ADDRESS_PER_SECOND",
        default_value_t = crate::config::DEFAULT_ADDRESS_PER_SECOND
    )]
    pub rate_limit_address_per_second: u32,

    /// New participants per second admitted to one session (five seconds' worth may come at
    /// once); 0 turns it off. The session's max_participants caps the total.
    #[arg(
        long,
        env = "RATE_LIMIT_SESSION_JOINS_PER_SECOND",
        value_name = "RATE_LIMIT_SESSION_JOINS_PER_SECOND",
        default_value_t = crate::config::DEFAULT_SESSION_JOINS_PER_SECOND
    )]
    pub rate_limit_session_joins_per_second: u32,

    /// Join-code lookups that find no open session, per minute from one client address, so
    /// codes cannot be enumerated; 0 turns it off. Right codes never count.
    #[arg(
        long,
        env = "RATE_LIMIT_CODE_MISSES_PER_MINUTE",
        value_name = "RATE_LIMIT_CODE_MISSES_PER_MINUTE",
        default_value_t = crate::config::DEFAULT_CODE_MISSES_PER_MINUTE
    )]
    pub rate_limit_code_misses_per_minute: u32,

    /// Largest max_participants a session may ask for.
    #[arg(long, env = "SESSION_PARTICIPANT_LIMIT", value_name = "SESSION_PARTICIPANT_LIMIT", default_value_t = 50_000,
          value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub session_participant_limit: u32,

    /// Company sign-in: the OpenID Connect provider's issuer URL. With it, OIDC_CLIENT_ID,
    /// OIDC_CLIENT_SECRET and OIDC_ALLOWED_DOMAINS or OIDC_ALLOWED_GROUPS are needed. The
    /// provider must allow the redirect URI PUBLIC_BASE_URL/auth/oidc/callback.
    #[arg(long, env = "OIDC_ISSUER", value_name = "OIDC_ISSUER")]
    pub oidc_issuer: Option<url::Url>,

    /// This server's client id at the OpenID Connect provider.
    #[arg(long, env = "OIDC_CLIENT_ID", value_name = "OIDC_CLIENT_ID")]
    pub oidc_client_id: Option<String>,

    /// This server's client secret at the OpenID Connect provider.
    #[arg(
        long,
        env = "OIDC_CLIENT_SECRET",
        value_name = "OIDC_CLIENT_SECRET",
        hide_env_values = true
    )]
    pub oidc_client_secret: Option<String>,

    /// Comma-separated email domains whose people may sign in through the provider
    /// (e.g. example.org,example.com).
    #[arg(
        long,
        env = "OIDC_ALLOWED_DOMAINS",
        value_name = "OIDC_ALLOWED_DOMAINS",
        value_delimiter = ','
    )]
    pub oidc_allowed_domains: Vec<String>,

    /// Comma-separated groups (from the groups claim) whose members may sign in.
    #[arg(
        long,
        env = "OIDC_ALLOWED_GROUPS",
        value_name = "OIDC_ALLOWED_GROUPS",
        value_delimiter = ','
    )]
    pub oidc_allowed_groups: Vec<String>,

    /// The ID token claim that lists a person's groups.
    #[arg(
        long,
        env = "OIDC_GROUPS_CLAIM",
        value_name = "OIDC_GROUPS_CLAIM",
        default_value = "groups"
    )]
    pub oidc_groups_claim: String,

    /// Create the organizer account at a person's first company sign-in; false lets in
    /// only people who have an account already.
    #[arg(long, env = "OIDC_CREATE_ACCOUNTS", value_name = "OIDC_CREATE_ACCOUNTS", default_value_t = true,
          action = clap::ArgAction::Set)]
    pub oidc_create_accounts: bool,

    /// What the sign-in button calls the provider (e.g. "Acme SSO").
    #[arg(long, env = "OIDC_LABEL", value_name = "OIDC_LABEL")]
    pub oidc_label: Option<String>,

    /// When set, /metrics requires `Authorization: Bearer <METRICS_TOKEN>`.
    #[arg(
        long,
        env = "METRICS_TOKEN",
        value_name = "METRICS_TOKEN",
        hide_env_values = true
    )]
    pub metrics_token: Option<String>,
}

/// Options of `conflicto migrate`.
#[derive(Debug, Clone, Args)]
pub struct MigrateArgs {
    #[command(flatten)]
    pub database: DatabaseArgs,

    /// Migrate without taking a backup first, even outside `development`. Only after taking
    /// a snapshot some other way.
    #[arg(long, global = true)]
    pub skip_backup: bool,

    /// The migration action.
    #[command(subcommand)]
    pub action: MigrateAction,
}

/// What `migrate` does.
#[derive(Debug, Clone, Subcommand)]
pub enum MigrateAction {
    /// Apply every pending migration, then run the integrity check.
    Up,
    /// Revert the last N applied migrations (default 1), then run the integrity check.
    Down {
        /// How many migrations to revert.
        #[arg(default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..))]
        steps: u32,
    },
    /// List every migration and whether it is applied; say whether `serve` may start.
    /// Exits 0 when this release can serve the schema, 3 when it cannot, 1 on an error.
    Status,
    /// Scan every foreign key for orphan rows, reading every row (up and down check only
    /// what the database does not enforce). For a quiet hour or after a restore.
    Verify,
}

/// The innermost cause of an error: what went wrong, without the outer layers that repeat
/// the URL or only say that sending failed.
pub(crate) fn root_cause(error: &(dyn std::error::Error + 'static)) -> String {
    let mut cause = error;
    while let Some(next) = cause.source() {
        cause = next;
    }
    cause.to_string()
}

/// The organizer's API token of the commands that act as an organizer over HTTP
/// (`smoke`, `loadtest`). Never shown: `--help` says only whether it is set.
#[derive(Debug, Clone, Args)]
pub struct OrganizerToken {
    /// An organizer's API token (`cfo_…`), from `POST /api/v1/auth/tokens` or a login.
    #[arg(
        long,
        env = "CONFLICTO_TOKEN",
        value_name = "TOKEN",
        hide_env_values = true
    )]
    pub token: String,
}

/// Options of `conflicto health-check`.
#[derive(Debug, Clone, Args)]
pub struct HealthCheckArgs {
    /// Server to check. A bare origin checks /api/v1/health/; a URL with a path checks that
    /// path (for example .../api/v1/health/ready).
    #[arg(
        long,
        env = "HEALTH_CHECK_URL",
        value_name = "URL",
        default_value = "http://127.0.0.1:8080"
    )]
    pub url: url::Url,

    /// Seconds to wait for an answer.
    #[arg(long, value_name = "SECONDS", default_value_t = 5,
          value_parser = clap::value_parser!(u64).range(1..=120))]
    pub timeout_seconds: u64,
}

/// Environment variables holding secrets: `--help` says whether each is set, never its value.
const SECRETS: &[(&str, &str)] = &[
    ("database_url", "DATABASE_URL"),
    ("metrics_token", "METRICS_TOKEN"),
    ("token", "CONFLICTO_TOKEN"),
];

/// The clap command, with each secret's help line saying whether it is currently set.
pub fn command() -> clap::Command {
    let mark = |arg: clap::Arg| {
        let Some(&(_, variable)) = SECRETS.iter().find(|(id, _)| arg.get_id() == *id) else {
            return arg;
        };
        let state = if std::env::var_os(variable).is_some_and(|v| !v.is_empty()) {
            "set"
        } else {
            "unset"
        };
        let help = arg.get_help().map(ToString::to_string).unwrap_or_default();
        arg.help(format!("{help} [secret; currently {state}]"))
    };
    Cli::command().mut_subcommands(|sub| sub.mut_args(mark))
}

/// Reads `--env-file PATH` / `--env-file=PATH` (or `ENV_FILE`) before clap runs, so the
/// file's variables can feed clap's `env` defaults.
pub fn env_file_from_args(args: &[std::ffi::OsString]) -> Option<PathBuf> {
    let mut iter = args.iter().skip(1);
    while let Some(arg) = iter.next() {
        let arg = arg.to_string_lossy();
        if arg == "--" {
            break;
        }
        if arg == "--env-file" {
            return iter.next().map(PathBuf::from);
        }
        if let Some(path) = arg.strip_prefix("--env-file=") {
            return Some(PathBuf::from(path));
        }
    }
    std::env::var_os("ENV_FILE").map(PathBuf::from)
}

/// Parses the process arguments, loads the env file, runs the chosen command.
pub fn main() -> ExitCode {
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    if let Some(path) = env_file_from_args(&args)
        && let Err(error) = dotenvy::from_path(&path)
    {
        eprintln!("error: cannot read --env-file {}: {error}", path.display());
        return ExitCode::from(2);
    }
    let matches = command().get_matches_from(&args);
    let cli = match Cli::from_arg_matches(&matches) {
        Ok(cli) => cli,
        Err(error) => error.exit(),
    };
    // The server logs a line per request, through a thread of its own.
    let writer = match cli.command {
        Some(Command::Serve(_)) | None => LogWriter::Thread,
        Some(_) => LogWriter::Direct,
    };
    let _log = match crate::telemetry::init_tracing(cli.log_format, &cli.log_level, writer) {
        Ok(guard) => guard,
        Err(error) => {
            eprintln!("error: invalid LOG_LEVEL: {error}");
            return ExitCode::from(2);
        }
    };
    let command = match cli.command {
        Some(command) => command,
        None => {
            // No subcommand: serve, with every option from the environment.
            let matches = command().get_matches_from(["conflicto", "serve"]);
            match Cli::from_arg_matches(&matches).map(|c| c.command) {
                Ok(Some(command)) => command,
                Ok(None) => unreachable!("`serve` was given"),
                Err(error) => error.exit(),
            }
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .on_thread_park(crate::memory::on_idle)
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(async move {
        match command {
            Command::Serve(args) => serve::run(*args).await,
            Command::Migrate(args) => migrate::run(args).await,
            Command::HealthCheck(args) => health_check::run(args).await,
            Command::Organizer(args) => organizer::run(args).await,
            Command::Loadtest(args) => loadtest::run(args).await,
            Command::Smoke(args) => smoke::run(args).await,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cli_definition_is_valid() {
        command().debug_assert();
    }

    #[test]
    fn the_env_file_is_found_in_either_flag_form() {
        let args = |v: &[&str]| {
            v.iter()
                .map(Into::into)
                .collect::<Vec<std::ffi::OsString>>()
        };
        assert_eq!(
            env_file_from_args(&args(&["conflicto", "--env-file", ".env.dev", "serve"])),
            Some(PathBuf::from(".env.dev"))
        );
        assert_eq!(
            env_file_from_args(&args(&["conflicto", "serve", "--env-file=x.env"])),
            Some(PathBuf::from("x.env"))
        );
    }
}
