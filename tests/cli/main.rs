//! Tests of the `conflicto` executable itself: help text, configuration errors, env files,
//! the default start on the embedded database, signals, and the `migrate` and
//! `health-check` subcommands, on SQLite and PostgreSQL.

#[path = "../common/mod.rs"]
mod common;

mod process;

use std::process::{Command, Output};
use std::time::{Duration, Instant};

use common::{TestDb, free_port};
use process::Server;

/// Variables this crate reads; removed so the developer's environment cannot leak in.
const OUR_VARIABLES: &[&str] = &[
    "DATABASE_URL",
    "DATABASE_MAX_CONNECTIONS",
    "ENVIRONMENT",
    "BACKUP_DIR",
    "LISTEN_ADDR",
    "PUBLIC_BASE_URL",
    "APP_VERSION",
    "ALLOWED_ORIGINS",
    "REQUEST_TIMEOUT_SECONDS",
    "MAX_BODY_BYTES",
    "SHUTDOWN_DRAIN_SECONDS",
    "SHUTDOWN_TIMEOUT_SECONDS",
    "METRICS_TOKEN",
    "ENV_FILE",
    "LOG_FORMAT",
    "LOG_LEVEL",
    "HEALTH_CHECK_URL",
];

/// The binary, with a clean slate of our variables and JSON logs.
pub fn conflicto() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_conflicto"));
    for variable in OUR_VARIABLES {
        command.env_remove(variable);
    }
    command.env("LOG_FORMAT", "json");
    command
}

/// Help text with line wrapping undone, so phrases can be searched.
fn unwrapped(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn run(command: &mut Command) -> (Output, String, String) {
    let output = command.output().expect("run conflicto");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    (output, stdout, stderr)
}

#[test]
fn help_lists_the_three_commands() {
    let (output, stdout, _) = run(conflicto().arg("--help"));
    assert!(output.status.success());
    for command in ["serve", "migrate", "health-check"] {
        assert!(
            stdout.contains(command),
            "{command} missing from:\n{stdout}"
        );
    }
}

#[test]
fn each_subcommand_help_documents_its_options_and_variables() {
    let expectations: &[(&[&str], &[&str])] = &[
        (
            &["serve", "--help"],
            &[
                "DATABASE_URL",
                "DATABASE_MAX_CONNECTIONS",
                "ENVIRONMENT",
                "BACKUP_DIR",
                "LISTEN_ADDR",
                "PUBLIC_BASE_URL",
                "APP_VERSION",
                "ALLOWED_ORIGINS",
                "REQUEST_TIMEOUT_SECONDS",
                "MAX_BODY_BYTES",
                "SHUTDOWN_DRAIN_SECONDS",
                "SHUTDOWN_TIMEOUT_SECONDS",
                "METRICS_TOKEN",
                "ENV_FILE",
                "LOG_FORMAT",
                "LOG_LEVEL",
                "--env-file",
                "--listen-addr",
            ],
        ),
        (
            &["migrate", "--help"],
            &[
                "DATABASE_URL",
                "ENVIRONMENT",
                "BACKUP_DIR",
                "--skip-backup",
                "up",
                "down",
                "status",
                "verify",
            ],
        ),
        (&["migrate", "down", "--help"], &["STEPS", "--skip-backup"]),
        (&["migrate", "up", "--help"], &["--skip-backup"]),
        (&["migrate", "status", "--help"], &["Usage"]),
        (
            &["health-check", "--help"],
            &["--url", "HEALTH_CHECK_URL", "--timeout-seconds"],
        ),
        (
            &["smoke", "--help"],
            &["--url", "CONFLICTO_TOKEN", "SMOKE_URL"],
        ),
        (
            &["loadtest", "--help"],
            &[
                "--url",
                "CONFLICTO_TOKEN",
                "--participants",
                "--vote-within",
                "--join-rate",
                "--server-pid",
                "--timeout-seconds",
            ],
        ),
    ];
    for (args, needles) in expectations {
        let (output, stdout, stderr) = run(conflicto().args(*args));
        assert!(output.status.success(), "{args:?}: {stderr}");
        for needle in *needles {
            assert!(
                stdout.contains(needle),
                "{args:?} help lacks {needle}:\n{stdout}"
            );
        }
    }
}

#[test]
fn secrets_show_as_set_or_unset_never_their_value() {
    let (_, unset, _) = run(conflicto().args(["serve", "--help"]));
    let unset = unwrapped(&unset);
    assert_eq!(unset.matches("currently unset").count(), 2, "{unset}");

    let (_, set, _) = run(conflicto()
        .args(["serve", "--help"])
        .env("DATABASE_URL", "postgres://app:topsecretpw@db/conflicto")
        .env("METRICS_TOKEN", "metrics-secret-value-123"));
    let set = unwrapped(&set);
    assert_eq!(set.matches("currently set").count(), 2, "{set}");
    assert!(
        !set.contains("topsecretpw") && !set.contains("metrics-secret-value-123"),
        "{set}"
    );
    let (_, migrate, _) = run(conflicto()
        .args(["migrate", "--help"])
        .env("DATABASE_URL", "postgres://app:topsecretpw@db/conflicto"));
    let migrate = unwrapped(&migrate);
    assert!(
        migrate.contains("currently set") && !migrate.contains("topsecretpw"),
        "{migrate}"
    );
}

#[test]
fn invalid_values_stop_start_up_naming_the_variable() {
    let cases = [
        ("ENVIRONMENT", "staging"),
        ("LISTEN_ADDR", "not-an-address"),
        ("DATABASE_URL", "mysql://root:hunter2@db/x"),
        ("PUBLIC_BASE_URL", "ftp://files.example"),
        ("ALLOWED_ORIGINS", "*"),
        (
            "ALLOWED_ORIGINS",
            "https://ok.example,https://bad.example/path",
        ),
        ("REQUEST_TIMEOUT_SECONDS", "0"),
        ("MAX_BODY_BYTES", "lots"),
        ("DATABASE_MAX_CONNECTIONS", "0"),
        ("LOG_LEVEL", "[[["),
        ("LOG_FORMAT", "xml"),
        ("METRICS_TOKEN", "short"),
        ("SHUTDOWN_DRAIN_SECONDS", "30"),
    ];
    for (variable, value) in cases {
        let dir = tempfile::tempdir().unwrap();
        let (output, _, stderr) = run(conflicto()
            .arg("serve")
            .current_dir(dir.path())
            .env("LISTEN_ADDR", "127.0.0.1:0")
            .env(variable, value));
        assert!(!output.status.success(), "{variable}={value} was accepted");
        assert!(stderr.contains(variable), "{variable}={value}: {stderr}");
        assert!(
            !stderr.contains("hunter2"),
            "a password was echoed: {stderr}"
        );
        assert!(
            !dir.path().join("conflicto.db").exists(),
            "{variable}: nothing started"
        );
    }
}

#[test]
fn an_env_file_feeds_the_configuration_and_the_real_environment_wins() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let file = dir.path().join(".env.test");
    std::fs::write(
        &file,
        format!("LISTEN_ADDR=127.0.0.1:{port}\nAPP_VERSION=from-file\nENVIRONMENT=development\n"),
    )
    .unwrap();
    let mut command = conflicto();
    command
        .args(["serve", "--env-file"])
        .arg(&file)
        .current_dir(dir.path())
        .env("APP_VERSION", "from-environment");
    let mut server = Server::start(command);
    assert_eq!(server.url, format!("http://127.0.0.1:{port}/"));
    let health: serde_json::Value = server.get_json("/api/v1/health/");
    assert_eq!(health["app_version"], "from-environment");
    server.terminate();

    let bad = dir.path().join(".env.bad");
    std::fs::write(&bad, "ENVIRONMENT=staging\n").unwrap();
    let (output, _, stderr) = run(conflicto()
        .arg("--env-file")
        .arg(&bad)
        .current_dir(dir.path()));
    assert!(!output.status.success());
    assert!(stderr.contains("ENVIRONMENT"), "{stderr}");
    let (output, _, stderr) = run(conflicto().args(["--env-file", "/no/such/file"]));
    assert!(!output.status.success());
    assert!(stderr.contains("/no/such/file"), "{stderr}");
}

#[test]
fn with_no_arguments_it_serves_the_embedded_database_logs_each_request_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut command = conflicto();
    command
        .current_dir(dir.path())
        .env("LISTEN_ADDR", format!("127.0.0.1:{port}"));
    let mut server = Server::start(command);
    assert_eq!(server.url, format!("http://127.0.0.1:{port}/"));
    assert!(
        dir.path().join("conflicto.db").exists(),
        "the embedded database is created"
    );

    let response = server.get("/api/v1/health/ready?token=must-not-be-logged");
    assert_eq!(response.status, 200);
    let request_id = response.request_id.clone();
    let health: serde_json::Value = server.get_json("/api/v1/health/");
    assert_eq!(health["status"], "healthy");
    assert_eq!(health["database"]["backend"], "sqlite");

    let (status, elapsed) = server.terminate();
    assert!(status.success(), "exit status {status:?}");
    assert!(elapsed < Duration::from_secs(10), "took {elapsed:?}");

    let logs = server.logs();
    let line = logs
        .iter()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find(|l| l["request_id"] == request_id.as_str())
        .unwrap_or_else(|| panic!("no log line for request {request_id} in {logs:#?}"));
    assert_eq!(line["method"], "GET");
    assert_eq!(line["route"], "/api/v1/health/ready");
    assert_eq!(line["status"], 200);
    assert!(line["latency_ms"].as_f64().is_some());
    assert!(
        !logs.iter().any(|l| l.contains("must-not-be-logged")),
        "query strings are never logged"
    );
}

#[test]
fn sigint_stops_the_server_too() {
    let dir = tempfile::tempdir().unwrap();
    let mut command = conflicto();
    command
        .arg("serve")
        .current_dir(dir.path())
        .env("LISTEN_ADDR", format!("127.0.0.1:{}", free_port()));
    let mut server = Server::start(command);
    let (status, elapsed) = server.signal("INT");
    assert!(status.success(), "{status:?}");
    assert!(elapsed < Duration::from_secs(10));
}

#[test]
fn health_check_exits_0_when_healthy_and_1_with_one_line_when_not() {
    let dir = tempfile::tempdir().unwrap();
    let mut command = conflicto();
    command
        .arg("serve")
        .current_dir(dir.path())
        .env("LISTEN_ADDR", format!("127.0.0.1:{}", free_port()))
        .env("APP_VERSION", "abc123");
    let mut server = Server::start(command);
    let origin = server.url.trim_end_matches('/').to_owned();
    for url in [
        origin.clone(),
        format!("{origin}/api/v1/health/ready"),
        format!("{origin}/api/v1/health/live"),
    ] {
        let (output, stdout, _) = run(conflicto().args(["health-check", "--url", &url]));
        assert!(output.status.success(), "{url}: {stdout}");
        assert_eq!(stdout.lines().count(), 1, "{stdout}");
        assert!(
            stdout.starts_with("healthy:") && stdout.contains("abc123"),
            "{stdout}"
        );
    }
    let (output, stdout, _) =
        run(conflicto().args(["health-check", "--url", &format!("{origin}/no/such")]));
    assert_eq!(output.status.code(), Some(1), "{stdout}");
    assert!(stdout.starts_with("unhealthy:"), "{stdout}");
    server.terminate();

    let closed = format!("http://127.0.0.1:{}", free_port());
    let started = Instant::now();
    let (output, stdout, _) =
        run(conflicto().args(["health-check", "--timeout-seconds", "2", "--url", &closed]));
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(stdout.lines().count(), 1, "{stdout}");
    assert!(
        stdout.starts_with("unhealthy:") && stdout.contains("could not be reached"),
        "{stdout}"
    );
    assert!(started.elapsed() < Duration::from_secs(5));
}

/// `conflicto migrate ARGS` on `db`, with extra environment.
fn migrate(db: &TestDb, args: &[&str], env: &[(&str, &str)]) -> (Output, String, String) {
    let mut command = conflicto();
    command
        .arg("migrate")
        .args(args)
        .env("DATABASE_URL", &db.raw_url)
        .current_dir(db.scratch());
    for (key, value) in env {
        command.env(key, value);
    }
    run(&mut command)
}

both_backends!(
    migrate_cli_round_trips_and_reports_integrity,
    migrate_cli_backs_up_first_outside_development,
    concurrent_migrate_processes_are_serialised,
    serve_refuses_pending_migrations_and_names_the_command
);

async fn migrate_cli_round_trips_and_reports_integrity(db: TestDb) {
    // A schema with pending migrations is one this release cannot serve: exit 3, not 1.
    let (output, stdout, _) = migrate(&db, &["status"], &[]);
    assert_eq!(output.status.code(), Some(3), "{stdout}");
    assert!(
        stdout.contains("pending") && stdout.contains("conflicto migrate up"),
        "{stdout}"
    );

    let (output, stdout, stderr) = migrate(&db, &["up"], &[]);
    assert!(output.status.success(), "{stdout}{stderr}");
    assert!(
        stdout.contains("applied 0001 create schema compatibility"),
        "{stdout}"
    );
    assert!(
        stdout.contains("applied 0002 create organizers"),
        "{stdout}"
    );
    assert!(stdout.contains("integrity check ok"), "{stdout}");
    assert!(
        !stdout.contains("backup written"),
        "no backup in development"
    );

    let (output, stdout, _) = migrate(&db, &["status"], &[]);
    assert!(output.status.success(), "{stdout}");
    assert!(stdout.contains("schema is current"), "{stdout}");
    // The full scan reads every foreign key, whatever the engine enforces.
    let (output, stdout, _) = migrate(&db, &["verify"], &[]);
    assert!(output.status.success(), "{stdout}");
    let line = stdout
        .lines()
        .find(|l| l.starts_with("integrity check ok"))
        .expect(&stdout);
    let counts: Vec<&str> = line
        .split(|c: char| !c.is_ascii_digit())
        .filter(|n| !n.is_empty())
        .collect();
    assert_eq!(counts[counts.len() - 2], counts[counts.len() - 1], "{line}");

    let latest = format!("reverted {:04}", common::migration_count());
    let (output, stdout, _) = migrate(&db, &["down"], &[]);
    assert!(output.status.success(), "{stdout}");
    assert!(stdout.contains(&latest), "{stdout}");
    assert_eq!(stdout.matches("reverted ").count(), 1, "{stdout}");
    let (output, stdout, _) = migrate(&db, &["down", "100"], &[]);
    assert!(output.status.success(), "{stdout}");
    assert!(stdout.contains("reverted 0001"), "{stdout}");
    let (output, stdout, _) = migrate(&db, &["up"], &[]);
    assert!(
        output.status.success() && stdout.contains("applied 0002"),
        "{stdout}"
    );
}

async fn migrate_cli_backs_up_first_outside_development(db: TestDb) {
    let backups = db.scratch().join("before-migrate");
    let backups = backups.to_str().unwrap();
    let (output, stdout, stderr) = migrate(
        &db,
        &["up"],
        &[("ENVIRONMENT", "prod"), ("BACKUP_DIR", backups)],
    );
    assert!(output.status.success(), "{stdout}{stderr}");
    let line = stdout
        .lines()
        .find(|l| l.starts_with("backup written to "))
        .expect(&stdout);
    let path = line.trim_start_matches("backup written to ");
    assert!(std::fs::metadata(path).unwrap().len() > 0);
    assert!(
        stdout.find("backup written").unwrap() < stdout.find("applied 0001").unwrap(),
        "backup first"
    );
}

async fn concurrent_migrate_processes_are_serialised(db: TestDb) {
    let children: Vec<_> = (0..6)
        .map(|_| {
            conflicto()
                .args(["migrate", "up"])
                .env("DATABASE_URL", &db.raw_url)
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let mut applied = 0;
    for child in children {
        let output = child.wait_with_output().unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(
            output.status.success(),
            "{stdout}{}",
            String::from_utf8_lossy(&output.stderr)
        );
        assert!(stdout.contains("integrity check ok"), "{stdout}");
        applied += stdout.lines().filter(|l| l.starts_with("applied ")).count();
    }
    assert_eq!(
        applied,
        common::migration_count(),
        "each migration applied by exactly one process"
    );
}

async fn serve_refuses_pending_migrations_and_names_the_command(db: TestDb) {
    let (output, _, stderr) = run(conflicto()
        .arg("serve")
        .env("DATABASE_URL", &db.raw_url)
        .env("LISTEN_ADDR", "127.0.0.1:0")
        .current_dir(db.scratch()));
    assert_eq!(output.status.code(), Some(1));
    assert!(stderr.contains("conflicto migrate up"), "{stderr}");
}

#[tokio::test]
async fn without_pg_dump_a_production_migration_stops_unless_backup_is_skipped() {
    let Some(db) = TestDb::postgres().await else {
        return;
    };
    let empty_path = db.scratch().join("empty-path");
    std::fs::create_dir_all(&empty_path).unwrap();
    let path = empty_path.to_str().unwrap();
    let (output, stdout, stderr) =
        migrate(&db, &["up"], &[("ENVIRONMENT", "prod"), ("PATH", path)]);
    assert_eq!(output.status.code(), Some(1), "{stdout}");
    assert!(
        stderr.contains("pg_dump") && stderr.contains("--skip-backup"),
        "{stderr}"
    );
    assert!(
        !stdout.contains("applied"),
        "nothing was migrated: {stdout}"
    );

    let (output, stdout, stderr) = migrate(
        &db,
        &["up", "--skip-backup"],
        &[("ENVIRONMENT", "prod"), ("PATH", path)],
    );
    assert!(output.status.success(), "{stdout}{stderr}");
    assert!(stdout.contains("applied 0001"), "{stdout}");
}

fn create_organizer(
    dir: &std::path::Path,
    email: &str,
    password: &str,
    extra: &[&str],
) -> (Output, String, String) {
    let mut args = vec!["create", "--email", email, "--password-stdin"];
    args.extend_from_slice(extra);
    organizer(dir, &args, &format!("{password}\n"))
}

#[test]
fn organizer_create_makes_an_account_that_can_sign_in() {
    let dir = tempfile::tempdir().unwrap();
    let (output, stdout, stderr) = create_organizer(
        dir.path(),
        "Admin@Example.org",
        "a long admin password",
        &["--admin"],
    );
    assert!(output.status.success(), "{stdout}{stderr}");
    assert!(
        stdout.starts_with("created admin admin@example.org"),
        "{stdout}"
    );
    assert!(!stdout.contains("a long admin password") && !stderr.contains("a long admin password"));

    let (output, _, stderr) = create_organizer(
        dir.path(),
        "admin@example.org",
        "another long password",
        &[],
    );
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr.contains("exists already"), "{stderr}");
    let (output, _, stderr) = create_organizer(dir.path(), "weak@example.org", "short", &[]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr.contains("at least"), "{stderr}");
    let (output, _, stderr) =
        create_organizer(dir.path(), "not-an-email", "a long enough password", &[]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr.contains("email"), "{stderr}");

    let mut command = conflicto();
    command
        .current_dir(dir.path())
        .env("LISTEN_ADDR", format!("127.0.0.1:{}", free_port()));
    let mut server = Server::start(command);
    let url = format!("{}api/v1/auth/login", server.url);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let status = runtime.block_on(async {
        reqwest::Client::new()
            .post(&url)
            .json(&serde_json::json!({"email": "admin@example.org", "password": "a long admin password"}))
            .send()
            .await
            .unwrap()
            .status()
    });
    assert_eq!(status, reqwest::StatusCode::OK);
    server.terminate();
}

/// Runs `conflicto organizer ARGS` in `dir`, with `stdin` as its standard input.
fn organizer(dir: &std::path::Path, args: &[&str], stdin: &str) -> (Output, String, String) {
    use std::io::Write;
    let mut child = conflicto()
        .arg("organizer")
        .args(args)
        .current_dir(dir)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    (output, stdout, stderr)
}

#[test]
fn organizer_list_set_password_disable_and_delete() {
    let dir = tempfile::tempdir().unwrap();
    let old = "a long admin password";
    let new = "purple elephant juggles seven lanterns";
    for (email, extra) in [
        ("root@example.org", &["--admin"][..]),
        ("ada@example.org", &[]),
    ] {
        let (output, stdout, stderr) = create_organizer(dir.path(), email, old, extra);
        assert!(output.status.success(), "{stdout}{stderr}");
    }
    let (output, stdout, _) = organizer(dir.path(), &["list"], "");
    assert!(output.status.success());
    let lines: Vec<&str> = stdout.lines().collect();
    assert!(lines[0].starts_with("EMAIL"), "{stdout}");
    assert!(
        lines[1].starts_with("root@example.org")
            && lines[1].contains("admin")
            && lines[1].contains("active"),
        "{stdout}"
    );
    assert!(
        lines[2].starts_with("ada@example.org") && lines[2].contains("organizer"),
        "{stdout}"
    );
    assert_eq!(lines[3], "2 organizer(s)");

    let (output, _, stderr) = organizer(
        dir.path(),
        &[
            "set-password",
            "--email",
            "ada@example.org",
            "--password-stdin",
        ],
        "password12\n",
    );
    assert_eq!(
        output.status.code(),
        Some(2),
        "a guessable password is refused"
    );
    assert!(stderr.contains("easy to guess"), "{stderr}");
    let (output, _, stderr) = organizer(
        dir.path(),
        &[
            "set-password",
            "--email",
            "nobody@example.org",
            "--password-stdin",
        ],
        &format!("{new}\n"),
    );
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr.contains("no organizer"), "{stderr}");
    let (output, stdout, stderr) = organizer(
        dir.path(),
        &[
            "set-password",
            "--email",
            "ADA@example.org",
            "--password-stdin",
        ],
        &format!("{new}\n"),
    );
    assert!(output.status.success(), "{stdout}{stderr}");
    assert!(stdout.contains("every login and API token"), "{stdout}");

    let (output, stdout, _) =
        organizer(dir.path(), &["disable", "--email", "root@example.org"], "");
    assert!(output.status.success(), "{stdout}");
    let (_, stdout, _) = organizer(dir.path(), &["list"], "");
    assert!(
        stdout.lines().nth(1).unwrap().contains("disabled"),
        "{stdout}"
    );

    // The server agrees: the new password works, the disabled admin is refused.
    let mut command = conflicto();
    command
        .current_dir(dir.path())
        .env("LISTEN_ADDR", format!("127.0.0.1:{}", free_port()));
    let mut server = Server::start(command);
    let url = format!("{}api/v1/auth/login", server.url);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let login = |email: &str, password: &str| {
        runtime.block_on(async {
            reqwest::Client::new()
                .post(&url)
                .json(&serde_json::json!({"email": email, "password": password}))
                .send()
                .await
                .unwrap()
                .status()
        })
    };
    assert_eq!(login("ada@example.org", new), reqwest::StatusCode::OK);
    assert_eq!(
        login("ada@example.org", old),
        reqwest::StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        login("root@example.org", old),
        reqwest::StatusCode::FORBIDDEN
    );
    server.terminate();

    let (output, _, stderr) = organizer(dir.path(), &["delete", "--email", "ada@example.org"], "");
    assert_eq!(output.status.code(), Some(2), "deleting needs --yes");
    assert!(stderr.contains("--yes"), "{stderr}");
    let (output, stdout, stderr) = organizer(
        dir.path(),
        &["delete", "--email", "ada@example.org", "--yes"],
        "",
    );
    assert!(output.status.success(), "{stdout}{stderr}");
    let (output, stdout, _) = organizer(dir.path(), &["enable", "--email", "root@example.org"], "");
    assert!(output.status.success(), "{stdout}");
    let (_, stdout, _) = organizer(dir.path(), &["list"], "");
    assert!(
        !stdout.contains("ada@example.org") && !stdout.contains("disabled"),
        "{stdout}"
    );
    assert!(stdout.contains("1 organizer(s)"), "{stdout}");
}

/// A server on a fresh SQLite folder with one organizer, and that organizer's API token.
/// `env` is extra configuration for the server.
fn serve_with_organizer(email: &str, env: &[(&str, &str)]) -> (tempfile::TempDir, Server, String) {
    let password = "a long enough password";
    let dir = tempfile::tempdir().unwrap();
    let (output, stdout, stderr) = create_organizer(dir.path(), email, password, &[]);
    assert!(output.status.success(), "{stdout}{stderr}");
    let mut command = conflicto();
    command
        .current_dir(dir.path())
        .env("LISTEN_ADDR", format!("127.0.0.1:{}", free_port()))
        .envs(env.iter().copied());
    let server = Server::start(command);
    let login: serde_json::Value = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(async {
            reqwest::Client::new()
                .post(format!("{}api/v1/auth/login", server.url))
                .json(&serde_json::json!({"email": email, "password": password}))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap()
        });
    let token = login["token"].as_str().unwrap().to_owned();
    (dir, server, token)
}

/// `conflicto loadtest` runs a small event against a real server: every participant joins,
/// holds a stream and answers a poll, a word cloud and a Q&A, the counts are checked
/// exactly, and the last line sums it up. It does the same from worker processes, with a
/// sustained-voting phase. A wrong token fails the run with exit code 1.
#[test]
fn loadtest_runs_an_exact_event_and_fails_on_a_bad_token() {
    let (_dir, mut server, token) = serve_with_organizer("load@example.org", &[]);
    let token = token.as_str();

    let (output, stdout, stderr) = run(conflicto()
        .args(["loadtest", "--url", &server.url, "--participants", "40"])
        .args(["--vote-within", "1", "--timeout-seconds", "60"])
        .env("CONFLICTO_TOKEN", token));
    assert!(output.status.success(), "{stdout}{stderr}");
    let last = stdout.lines().last().unwrap_or_default();
    assert!(
        last.starts_with("loadtest PASSED: 40 participants, 40 votes, 0 errors, counts exact"),
        "{stdout}"
    );
    assert!(stdout.contains("40 phones told"), "{stdout}");
    for phase in ["word cloud:", "Q&A:"] {
        assert!(stdout.contains(phase), "{stdout}");
    }

    // The same event from two worker processes, with a sustained-voting phase after it,
    // and the phones spread over two URLs (of the same server here), each reported apart.
    let (output, stdout, stderr) = run(conflicto()
        .args([
            "loadtest",
            "--url",
            &server.url,
            "--also-url",
            &server.url,
            "--participants",
            "30",
            "--processes",
            "2",
        ])
        .args([
            "--vote-within",
            "1",
            "--ingest-seconds",
            "2",
            "--ingest-rate",
            "60",
        ])
        .args(["--timeout-seconds", "90"])
        .env("CONFLICTO_TOKEN", token));
    assert!(output.status.success(), "{stdout}{stderr}");
    assert!(stdout.contains("from 2 process(es)"), "{stdout}");
    assert!(stdout.contains("against 2 server(s)"), "{stdout}");
    for server in ["    on server 1: p50 ", "    on server 2: p50 "] {
        assert!(stdout.contains(server), "{stdout}");
    }
    assert!(stdout.contains("stored answers/s"), "{stdout}");
    let last = stdout.lines().last().unwrap_or_default();
    assert!(
        last.starts_with("loadtest PASSED: 30 participants, 30 votes, 0 errors, counts exact"),
        "{stdout}"
    );

    let (output, stdout, _) = run(conflicto()
        .args(["loadtest", "--url", &server.url, "--participants", "2"])
        .env("CONFLICTO_TOKEN", "cfo_not-a-token"));
    assert_eq!(output.status.code(), Some(1));
    let last = stdout.lines().last().unwrap_or_default();
    assert!(
        last.starts_with("loadtest FAILED:") && last.contains("401"),
        "{stdout}"
    );
    server.terminate();
}

/// `conflicto smoke` walks the critical path against a running server: one PASS line per
/// step, exit 0, and the session it made is gone afterwards. A wrong token fails at the login
/// step without creating anything; a stopped server fails at health. Both exit 1.
#[test]
fn smoke_passes_every_step_cleans_up_and_fails_with_exit_1() {
    let (_dir, mut server, token) = serve_with_organizer("smoke@example.org", &[]);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let client = reqwest::Client::new();
    let sessions = || -> serde_json::Value {
        runtime.block_on(async {
            client
                .get(format!("{}api/v1/sessions/", server.url))
                .bearer_auth(&token)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap()
        })
    };

    let (output, stdout, stderr) = run(conflicto()
        .args(["smoke", "--url", &server.url])
        .env("CONFLICTO_TOKEN", &token));
    assert!(output.status.success(), "{stdout}{stderr}");
    let steps = [
        "health",
        "ready",
        "organizer login",
        "create session",
        "create poll",
        "join two participants",
        "open poll",
        "vote",
        "exact results",
        "clean up",
    ];
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), steps.len() + 1, "{stdout}");
    for (line, step) in lines.iter().zip(steps) {
        assert!(line.starts_with(&format!("PASS {step} (")), "{stdout}");
    }
    assert!(
        lines[steps.len()].starts_with("smoke passed: 10 of 10 steps"),
        "{stdout}"
    );
    assert_eq!(
        sessions()["items"].as_array().map(Vec::len),
        Some(0),
        "the smoke session was not deleted"
    );

    let (output, stdout, _) = run(conflicto()
        .args(["smoke", "--url", &server.url])
        .env("CONFLICTO_TOKEN", "cfo_not-a-token"));
    assert_eq!(output.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("FAIL organizer login"), "{stdout}");
    assert!(!stdout.contains("create session"), "{stdout}");
    assert!(
        stdout
            .lines()
            .last()
            .unwrap_or_default()
            .starts_with("smoke FAILED: 1 of 3 steps"),
        "{stdout}"
    );

    let url = server.url.clone();
    server.terminate();
    let (output, stdout, _) = run(conflicto()
        .args(["smoke", "--url", &url, "--timeout-seconds", "2"])
        .env("CONFLICTO_TOKEN", &token));
    assert_eq!(output.status.code(), Some(1), "{stdout}");
    assert!(stdout.starts_with("FAIL health"), "{stdout}");
}

/// The deployment guide and the runbooks name only files that exist, and name every
/// workflow: a renamed script or workflow fails here, not during an incident.
#[test]
fn deployment_docs_name_only_files_that_exist() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut docs = vec![root.join("docs/deployment.md")];
    let mut runbooks: Vec<_> = std::fs::read_dir(root.join("docs/runbooks"))
        .expect("docs/runbooks/ exists")
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|e| e == "md"))
        .collect();
    runbooks.sort();
    for name in [
        "deploy.md",
        "rollback.md",
        "database.md",
        "incident-response.md",
    ] {
        assert!(
            runbooks.iter().any(|p| p.ends_with(name)),
            "docs/runbooks/{name} is missing"
        );
    }
    docs.extend(runbooks);
    let roots = [
        ".github/",
        ".ci/",
        "deploy/",
        "scripts/",
        "docs/",
        "migrations/",
        "src/",
        "tests/",
    ];
    let mut named = std::collections::BTreeSet::new();
    for doc in &docs {
        let text = std::fs::read_to_string(doc).unwrap();
        // Inline code spans: `…`.
        for (i, span) in text.split('`').enumerate() {
            if i % 2 == 0 || span.contains(char::is_whitespace) || span.contains(['*', '<', '$']) {
                continue;
            }
            let path = span.trim_end_matches([':', ',', '.']);
            let path = if path.ends_with(".yml") && !path.contains('/') {
                format!(".github/workflows/{path}")
            } else {
                path.to_owned()
            };
            let file_like = roots.iter().any(|r| path.starts_with(r))
                || [
                    "Dockerfile",
                    ".dockerignore",
                    ".env.dev.example",
                    ".env.prod.example",
                ]
                .contains(&path.as_str());
            if file_like {
                assert!(
                    root.join(&path).exists(),
                    "{} names `{span}`, which does not exist",
                    doc.strip_prefix(root).unwrap().display()
                );
                named.insert(path);
            }
        }
    }
    for workflow in [
        "ci.yml",
        "deploy-dev.yml",
        "deploy-prod.yml",
        "rollback.yml",
    ] {
        assert!(
            named.contains(&format!(".github/workflows/{workflow}")),
            "the deployment docs never name {workflow}"
        );
    }
    for file in [
        "Dockerfile",
        "deploy/terraform/environments/dev",
        "deploy/terraform/environments/prod",
        "deploy/scripts/ecs.sh",
        "scripts/rehearse-deploy.sh",
        "scripts/check-deploy.sh",
    ] {
        assert!(
            named.contains(file),
            "the deployment docs never name {file}"
        );
    }
}
