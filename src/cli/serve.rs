//! `conflicto serve`: turns flags into a [`Config`], builds the app, prints where to open
//! it, and runs until SIGTERM or SIGINT.

use std::process::ExitCode;
use std::time::Duration;

use crate::app::App;
use crate::config::{Config, InvalidConfig, OidcConfig, Secret, parse_database_url};
use crate::storage::ConnectOptions;

use super::ServeArgs;

/// Builds the configuration from parsed flags; errors name the variable at fault.
pub fn config_from_args(args: ServeArgs) -> Result<Config, InvalidConfig> {
    let (url, embedded) = parse_database_url(args.database.database_url.as_deref())?;
    let max_body_bytes = usize::try_from(args.max_body_bytes)
        .map_err(|_| InvalidConfig::new("MAX_BODY_BYTES", "too large for this platform"))?;
    let oidc = oidc_config(&args)?;
    let metrics_token = args
        .metrics_token
        .filter(|t| !t.is_empty())
        .map(|token| {
            if token.len() < 16 {
                Err(InvalidConfig::new(
                    "METRICS_TOKEN",
                    "must be at least 16 characters",
                ))
            } else {
                Ok(Secret::new(token))
            }
        })
        .transpose()?;
    if args.shutdown_drain_seconds >= args.shutdown_timeout_seconds {
        return Err(InvalidConfig::new(
            "SHUTDOWN_DRAIN_SECONDS",
            "must be less than SHUTDOWN_TIMEOUT_SECONDS",
        ));
    }
    Ok(Config {
        database: ConnectOptions {
            url,
            max_connections: args.database.database_max_connections,
            acquire_timeout: Duration::from_secs(3),
        },
        embedded_database: embedded,
        listen_addr: args.listen_addr,
        public_base_url: args.public_base_url,
        environment: args.database.environment,
        app_version: args.app_version,
        allowed_origins: args.allowed_origins,
        request_timeout: Duration::from_secs(args.request_timeout_seconds),
        max_body_bytes,
        shutdown_drain: Duration::from_secs(args.shutdown_drain_seconds),
        shutdown_timeout: Duration::from_secs(args.shutdown_timeout_seconds),
        metrics_token,
        backup_dir: args.database.backup_dir,
        trust_forwarded_for: args.trust_forwarded_for,
        rate_limit_address_per_second: args.rate_limit_address_per_second,
        rate_limit_session_joins_per_second: args.rate_limit_session_joins_per_second,
        rate_limit_code_misses_per_minute: args.rate_limit_code_misses_per_minute,
        session_participant_limit: args.session_participant_limit,
        retention: (args.retention_days > 0)
            .then(|| Duration::from_secs(u64::from(args.retention_days) * 86_400)),
        oidc,
    })
}

/// The company sign-in settings: all of issuer, client id, secret and an allow rule, or
/// none of them.
fn oidc_config(args: &ServeArgs) -> Result<Option<OidcConfig>, InvalidConfig> {
    let listed = |items: &[String]| -> Vec<String> {
        items
            .iter()
            .map(|item| item.trim().to_lowercase())
            .filter(|item| !item.is_empty())
            .collect()
    };
    let domains = listed(&args.oidc_allowed_domains);
    let groups: Vec<String> = args
        .oidc_allowed_groups
        .iter()
        .map(|g| g.trim().to_owned())
        .filter(|g| !g.is_empty())
        .collect();
    let Some(issuer) = args.oidc_issuer.clone() else {
        if args.oidc_client_id.is_some() || args.oidc_client_secret.is_some() {
            return Err(InvalidConfig::new(
                "OIDC_ISSUER",
                "is needed with OIDC_CLIENT_ID and OIDC_CLIENT_SECRET",
            ));
        }
        return Ok(None);
    };
    let required = |value: &Option<String>, name: &'static str| {
        value
            .clone()
            .filter(|v| !v.trim().is_empty())
            .ok_or_else(|| InvalidConfig::new(name, "is needed with OIDC_ISSUER"))
    };
    let client_id = required(&args.oidc_client_id, "OIDC_CLIENT_ID")?;
    let client_secret = required(&args.oidc_client_secret, "OIDC_CLIENT_SECRET")?;
    if domains.is_empty() && groups.is_empty() {
        return Err(InvalidConfig::new(
            "OIDC_ALLOWED_DOMAINS",
            "name the email domains (or OIDC_ALLOWED_GROUPS the groups) that may sign in; \
             without one, anyone the provider knows would get an account",
        ));
    }
    if !matches!(issuer.scheme(), "https" | "http") {
        return Err(InvalidConfig::new("OIDC_ISSUER", "must be an http(s) URL"));
    }
    Ok(Some(OidcConfig {
        issuer,
        client_id,
        client_secret: Secret::new(client_secret),
        allowed_domains: domains,
        allowed_groups: groups,
        groups_claim: args.oidc_groups_claim.clone(),
        create_accounts: args.oidc_create_accounts,
        label: args.oidc_label.clone().filter(|l| !l.trim().is_empty()),
    }))
}

/// Runs the server; the exit code is 0 after a clean shutdown.
pub async fn run(args: ServeArgs) -> ExitCode {
    let config = match config_from_args(args) {
        Ok(config) => config,
        Err(error) => {
            eprintln!("error: {error}");
            return ExitCode::from(2);
        }
    };
    tracing::info!(
        database = %config.database.url,
        environment = config.environment.as_str(),
        app_version = %config.app_version,
        "starting"
    );
    let app = match App::build(config).await {
        Ok(app) => app,
        Err(error) => {
            tracing::error!(error = format!("{error:#}"), "cannot start");
            eprintln!("error: {error:#}");
            return ExitCode::FAILURE;
        }
    };
    // Handlers are installed before the URL is announced, so a signal sent as soon as the
    // server is known to run is never met by the default action (an abrupt exit).
    let signal = match shutdown_signal() {
        Ok(signal) => signal,
        Err(error) => {
            eprintln!("error: cannot install signal handlers: {error}");
            return ExitCode::FAILURE;
        }
    };
    let url = app.state().public_base_url.clone();
    tracing::info!(listen = %app.local_addr(), url = %url, "listening");
    eprintln!("Conflicto is running: open {url}");
    match app.run_until_stopped(signal).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!(error = format!("{error:#}"), "server failed");
            ExitCode::FAILURE
        }
    }
}

/// Installs the SIGTERM and SIGINT handlers now; the future completes on the first signal.
#[cfg(unix)]
fn shutdown_signal() -> std::io::Result<impl std::future::Future<Output = ()> + Send + 'static> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut terminate = signal(SignalKind::terminate())?;
    let mut interrupt = signal(SignalKind::interrupt())?;
    Ok(async move {
        tokio::select! {
            _ = terminate.recv() => tracing::info!("SIGTERM received"),
            _ = interrupt.recv() => tracing::info!("SIGINT received"),
        }
    })
}

/// Completes on Ctrl-C.
#[cfg(not(unix))]
fn shutdown_signal() -> std::io::Result<impl std::future::Future<Output = ()> + Send + 'static> {
    Ok(async {
        let _ = tokio::signal::ctrl_c().await;
    })
}
