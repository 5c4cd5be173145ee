//! Runtime configuration: one plain [`Config`] struct, built from `serve`'s flags and
//! environment variables (see `cli.rs`) or as a literal in tests. No global state.
//! Every invalid value is reported with the name of its environment variable.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use axum::http::HeaderValue;
use url::Url;

use crate::storage::{ConnectOptions, DatabaseUrl};

/// The database used when `DATABASE_URL` is not set: a file in the working directory.
pub const EMBEDDED_DATABASE_URL: &str = "sqlite://conflicto.db";

/// Where the deployment runs; decides backups before migrations and a few defaults.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Environment {
    /// A developer's machine: no backups before migrating.
    Development,
    /// The shared development deployment.
    Dev,
    /// Production.
    #[value(alias = "production")]
    Prod,
}

impl Environment {
    /// The name shown in health output and logs.
    pub fn as_str(self) -> &'static str {
        match self {
            Environment::Development => "development",
            Environment::Dev => "dev",
            Environment::Prod => "prod",
        }
    }
}

/// A secret value: shown as `[redacted]` by `Debug`, never logged.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret string.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The secret itself, for comparison only.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("[redacted]")
    }
}

/// Everything `serve` needs to run.
#[derive(Debug, Clone)]
pub struct Config {
    /// The database and its pool settings (`DATABASE_URL`, `DATABASE_MAX_CONNECTIONS`).
    pub database: ConnectOptions,
    /// True when `DATABASE_URL` was not given: the embedded SQLite file is then created and
    /// migrated on start. Any other database must be migrated with `conflicto migrate up`.
    pub embedded_database: bool,
    /// The address to listen on (`LISTEN_ADDR`); port 0 picks a free port.
    pub listen_addr: SocketAddr,
    /// The public URL used in QR codes and links (`PUBLIC_BASE_URL`); derived from the
    /// listen address when unset.
    pub public_base_url: Option<Url>,
    /// The deployment environment (`ENVIRONMENT`).
    pub environment: Environment,
    /// The deployed release, for example a commit SHA (`APP_VERSION`).
    pub app_version: String,
    /// Origins allowed to call the API from a browser (`ALLOWED_ORIGINS`); empty means
    /// same-origin only.
    pub allowed_origins: Vec<HeaderValue>,
    /// Longest time a request may take before it is answered with 408 (`REQUEST_TIMEOUT_SECONDS`).
    pub request_timeout: Duration,
    /// Largest accepted request body in bytes (`MAX_BODY_BYTES`).
    pub max_body_bytes: usize,
    /// How long to keep serving with readiness at 503 after SIGTERM, so a load balancer
    /// stops sending traffic before the listener closes (`SHUTDOWN_DRAIN_SECONDS`).
    pub shutdown_drain: Duration,
    /// Hard limit from SIGTERM to exit (`SHUTDOWN_TIMEOUT_SECONDS`).
    pub shutdown_timeout: Duration,
    /// When set, `/metrics` requires `Authorization: Bearer <token>` (`METRICS_TOKEN`).
    pub metrics_token: Option<Secret>,
    /// Folder for backups taken before migrating a non-development database (`BACKUP_DIR`).
    pub backup_dir: PathBuf,
    /// Take the client address from the last `X-Forwarded-For` entry, as set by a load
    /// balancer in front (`TRUST_FORWARDED_FOR`). Off when clients connect directly.
    pub trust_forwarded_for: bool,
    /// The flood guard: requests per second from one address
    /// (`RATE_LIMIT_ADDRESS_PER_SECOND`), far above what a whole room behind one NAT sends;
    /// 0 = no limit.
    pub rate_limit_address_per_second: u32,
    /// New participants per second admitted to one session
    /// (`RATE_LIMIT_SESSION_JOINS_PER_SECOND`), with five seconds' worth at once; 0 = no limit.
    pub rate_limit_session_joins_per_second: u32,
    /// Join-code lookups that find no open session, per minute from one address
    /// (`RATE_LIMIT_CODE_MISSES_PER_MINUTE`); 0 = no limit.
    pub rate_limit_code_misses_per_minute: u32,
    /// Largest `max_participants` a session may ask for (`SESSION_PARTICIPANT_LIMIT`).
    pub session_participant_limit: u32,
    /// How long after a session ends its nicknames and free text are removed, keeping
    /// counts (`RETENTION_DAYS`); `None` keeps them until the session is deleted.
    pub retention: Option<Duration>,
    /// Company sign-in through an OpenID Connect provider (`OIDC_*`); `None` offers only
    /// email and password.
    pub oidc: Option<OidcConfig>,
}

/// An OpenID Connect provider organizers may sign in with (docs/security.md).
#[derive(Debug, Clone)]
pub struct OidcConfig {
    /// The provider's issuer URL (`OIDC_ISSUER`); its discovery document must name exactly
    /// this issuer.
    pub issuer: Url,
    /// This server's client id at the provider (`OIDC_CLIENT_ID`).
    pub client_id: String,
    /// Its client secret (`OIDC_CLIENT_SECRET`).
    pub client_secret: Secret,
    /// Email domains whose people may sign in (`OIDC_ALLOWED_DOMAINS`), lowercased.
    pub allowed_domains: Vec<String>,
    /// Groups whose members may sign in (`OIDC_ALLOWED_GROUPS`), as the groups claim names
    /// them.
    pub allowed_groups: Vec<String>,
    /// The ID token claim that lists a person's groups (`OIDC_GROUPS_CLAIM`).
    pub groups_claim: String,
    /// Whether a first sign-in creates the organizer account (`OIDC_CREATE_ACCOUNTS`).
    pub create_accounts: bool,
    /// What the sign-in button calls the provider (`OIDC_LABEL`), such as "Acme SSO".
    pub label: Option<String>,
}

impl OidcConfig {
    /// Whether someone with this (lowercased) email and these groups may sign in: their
    /// domain is allowed, or one of their groups is.
    pub fn allows(&self, email: &str, groups: &[String]) -> bool {
        let domain = email.rsplit_once('@').map(|(_, domain)| domain);
        domain.is_some_and(|d| self.allowed_domains.iter().any(|allowed| allowed == d))
            || groups.iter().any(|g| self.allowed_groups.contains(g))
    }
}

/// The flood guard's default: requests a second from one address. The largest room the
/// server admits, 50,000 phones behind one NAT, voting within ten seconds sends about
/// 5,000 a second, and the ingest benchmark sends 10,000 (docs/security.md).
pub const DEFAULT_ADDRESS_PER_SECOND: u32 = 20_000;
/// The default admission rate of one session: a room of 5,000 joining within a minute
/// averages 83 a second.
pub const DEFAULT_SESSION_JOINS_PER_SECOND: u32 = 1_000;
/// The default of failed join-code lookups a minute from one address.
pub const DEFAULT_CODE_MISSES_PER_MINUTE: u32 = 300;

impl Config {
    /// A configuration with every default, on the given database; what tests start from.
    pub fn with_database(url: DatabaseUrl) -> Self {
        Self {
            database: ConnectOptions {
                url,
                max_connections: 10,
                acquire_timeout: Duration::from_secs(3),
            },
            embedded_database: false,
            listen_addr: SocketAddr::from(([127, 0, 0, 1], 8080)),
            public_base_url: None,
            environment: Environment::Development,
            app_version: env!("CARGO_PKG_VERSION").to_owned(),
            allowed_origins: Vec::new(),
            request_timeout: Duration::from_secs(30),
            max_body_bytes: 256 * 1024,
            shutdown_drain: Duration::ZERO,
            shutdown_timeout: Duration::from_secs(9),
            metrics_token: None,
            backup_dir: PathBuf::from("backups"),
            trust_forwarded_for: false,
            rate_limit_address_per_second: DEFAULT_ADDRESS_PER_SECOND,
            rate_limit_session_joins_per_second: DEFAULT_SESSION_JOINS_PER_SECOND,
            rate_limit_code_misses_per_minute: DEFAULT_CODE_MISSES_PER_MINUTE,
            session_participant_limit: 50_000,
            retention: None,
            oidc: None,
        }
    }
}

/// A configuration value that cannot be used, named by its environment variable.
#[derive(Debug, thiserror::Error)]
#[error("invalid {variable}: {reason}")]
pub struct InvalidConfig {
    /// The environment variable (and flag) at fault.
    pub variable: &'static str,
    /// Why it was refused.
    pub reason: String,
}

impl InvalidConfig {
    /// An error about `variable`.
    pub fn new(variable: &'static str, reason: impl Into<String>) -> Self {
        Self {
            variable,
            reason: reason.into(),
        }
    }
}

/// Parses `DATABASE_URL`, falling back to the embedded SQLite file.
pub fn parse_database_url(raw: Option<&str>) -> Result<(DatabaseUrl, bool), InvalidConfig> {
    match raw.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok((
            DatabaseUrl::parse(EMBEDDED_DATABASE_URL)
                .map_err(|reason| InvalidConfig::new("DATABASE_URL", reason))?,
            true,
        )),
        Some(raw) => DatabaseUrl::parse(raw)
            .map(|url| (url, false))
            .map_err(|reason| InvalidConfig::new("DATABASE_URL", reason)),
    }
}

/// Parses `PUBLIC_BASE_URL`: an absolute http(s) URL without query or fragment. The path
/// gets a trailing slash, so links joined onto it keep every segment.
pub fn parse_public_base_url(raw: &str) -> Result<Url, String> {
    let mut url = Url::parse(raw.trim()).map_err(|e| format!("not an absolute URL: {e}"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err("must start with http:// or https://".into());
    }
    if url.host_str().is_none() {
        return Err("must name a host".into());
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err("must not have a query or fragment".into());
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("must not contain credentials".into());
    }
    if !url.path().ends_with('/') {
        let path = format!("{}/", url.path());
        url.set_path(&path);
    }
    Ok(url)
}

/// Parses one `ALLOWED_ORIGINS` entry: `scheme://host[:port]`, nothing more.
pub fn parse_origin(raw: &str) -> Result<HeaderValue, String> {
    let raw = raw.trim();
    if raw == "*" {
        return Err("`*` is not allowed: list each origin".into());
    }
    let url = Url::parse(raw).map_err(|e| format!("{raw:?} is not an origin: {e}"))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(format!("{raw:?} must look like https://host[:port]"));
    }
    if url.path() != "/" || url.query().is_some() || raw.ends_with('/') {
        return Err(format!("{raw:?} must not have a path"));
    }
    HeaderValue::from_str(&url.origin().ascii_serialization()).map_err(|e| e.to_string())
}

/// The URL phones use when `PUBLIC_BASE_URL` is unset: the listen address, with an
/// unspecified IP (0.0.0.0 or ::) shown as `localhost`.
pub fn derived_base_url(addr: SocketAddr) -> Url {
    let host = if addr.ip().is_unspecified() {
        "localhost".to_owned()
    } else if addr.is_ipv6() {
        format!("[{}]", addr.ip())
    } else {
        addr.ip().to_string()
    };
    Url::parse(&format!("http://{host}:{}/", addr.port()))
        .unwrap_or_else(|_| Url::parse("http://localhost/").expect("static URL parses"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unset_database_url_selects_the_embedded_file() {
        let (url, embedded) = parse_database_url(None).unwrap();
        assert!(embedded);
        assert_eq!(url.to_string(), EMBEDDED_DATABASE_URL);
        let (_, embedded) = parse_database_url(Some("sqlite://other.db")).unwrap();
        assert!(!embedded);
    }

    #[test]
    fn a_bad_database_url_names_the_variable_but_not_the_value() {
        let error = parse_database_url(Some("mysql://root:hunter2@db/x")).unwrap_err();
        let text = error.to_string();
        assert!(text.contains("DATABASE_URL"), "{text}");
        assert!(!text.contains("hunter2"), "{text}");
    }

    #[test]
    fn origins_must_be_bare_scheme_host_port() {
        assert!(parse_origin("https://conflicto.app").is_ok());
        assert!(parse_origin("http://localhost:5173").is_ok());
        for bad in [
            "*",
            "https://x.app/path",
            "ftp://x.app",
            "x.app",
            "https://x.app/",
        ] {
            assert!(parse_origin(bad).is_err(), "{bad} should be refused");
        }
    }

    #[test]
    fn public_base_urls_must_be_plain_http_urls() {
        assert!(parse_public_base_url("https://conflicto.app").is_ok());
        assert!(parse_public_base_url("https://x.app/events/").is_ok());
        for bad in [
            "conflicto.app",
            "ftp://x",
            "https://x.app/?a=1",
            "https://u:p@x.app",
        ] {
            assert!(
                parse_public_base_url(bad).is_err(),
                "{bad} should be refused"
            );
        }
    }

    #[test]
    fn links_keep_the_public_base_urls_path() {
        for raw in ["https://x.app/events", "https://x.app/events/"] {
            let base = parse_public_base_url(raw).unwrap();
            assert_eq!(
                base.join("join/ABC234").unwrap().as_str(),
                "https://x.app/events/join/ABC234",
                "{raw}"
            );
        }
        let root = parse_public_base_url("https://x.app").unwrap();
        assert_eq!(
            root.join("join/ABC234").unwrap().as_str(),
            "https://x.app/join/ABC234"
        );
    }

    #[test]
    fn the_derived_base_url_replaces_unspecified_addresses_with_localhost() {
        let cases = [
            ("127.0.0.1:8080", "http://127.0.0.1:8080/"),
            ("0.0.0.0:80", "http://localhost:80/"),
            ("[::1]:9000", "http://[::1]:9000/"),
        ];
        for (addr, expected) in cases {
            let derived = derived_base_url(addr.parse().unwrap());
            assert_eq!(derived.as_str(), expected.replace(":80/", "/"), "{addr}");
        }
    }
}
