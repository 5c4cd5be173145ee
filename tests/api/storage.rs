//! The storage contract on both engines: migration status, up→down→up round trips,
//! serialised concurrent runs, backups, integrity checks, and the schema verdicts that
//! decide whether `serve` may start.

use conflicto::app::App;
use conflicto::config::Config;
use conflicto::storage::migrations::{self, BackupPolicy};
use conflicto::storage::{Backend, ScanDepth, SchemaVerdict};
use sqlx::{ConnectOptions, Connection};

use crate::both_backends;
use crate::common::TestDb;
use crate::helpers::{TestApp, json};

/// Runs one SQL statement on whichever engine `db` is, for arranging odd states.
async fn execute(db: &TestDb, sql: &'static str) {
    match db.backend() {
        Backend::Sqlite => {
            // Foreign keys off, as in a tool that forgets to turn them on.
            let options: sqlx::sqlite::SqliteConnectOptions = db.raw_url.parse().unwrap();
            let mut conn = options.foreign_keys(false).connect().await.unwrap();
            sqlx::query(sql).execute(&mut conn).await.unwrap();
            conn.close().await.unwrap();
        }
        Backend::Postgres => {
            let pool = sqlx::PgPool::connect(&db.raw_url).await.unwrap();
            sqlx::query(sql).execute(&pool).await.unwrap();
            pool.close().await;
        }
    }
}

/// Runs one query that returns a count, on whichever engine `db` is.
async fn count(db: &TestDb, sql: &'static str) -> i64 {
    match db.backend() {
        Backend::Sqlite => {
            let options: sqlx::sqlite::SqliteConnectOptions = db.raw_url.parse().unwrap();
            let mut conn = options.connect().await.unwrap();
            let count = sqlx::query_scalar(sql).fetch_one(&mut conn).await.unwrap();
            conn.close().await.unwrap();
            count
        }
        Backend::Postgres => {
            let pool = sqlx::PgPool::connect(&db.raw_url).await.unwrap();
            let count = sqlx::query_scalar(sql).fetch_one(&pool).await.unwrap();
            pool.close().await;
            count
        }
    }
}

both_backends!(
    a_fresh_database_reports_every_migration_pending_without_changing_it,
    migrations_round_trip_up_down_up,
    concurrent_migrate_runs_apply_each_migration_once,
    a_backup_is_taken_before_migrating_outside_development,
    the_integrity_check_finds_broken_foreign_keys,
    serve_refuses_a_database_with_pending_migrations,
    serve_migrates_the_embedded_default_itself,
    serve_runs_on_a_newer_schema_only_when_it_is_declared_compatible,
    the_request_log_keeps_its_ids_through_its_rekeying_and_goes_with_its_session,
    one_answer_batch_tells_new_replayed_and_refused_answers_apart,
    a_write_cancelled_at_any_point_leaves_the_store_writable_and_whole
);

/// On PostgreSQL a migration that has to wait for a lock the serving release holds gives
/// up after the lock timeout, instead of queueing every query behind it; once the lock is
/// gone it runs. (SQLite has one writer and its own busy timeout.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_migration_waiting_for_a_lock_gives_up_instead_of_stalling_the_release() {
    let Some(db) = TestDb::postgres().await else {
        return;
    };
    let store = db.migrated_store().await;
    // A long transaction of the serving release holds a table the newest migration changes.
    let mut holder = sqlx::PgConnection::connect(&db.raw_url).await.unwrap();
    sqlx::query("begin").execute(&mut holder).await.unwrap();
    sqlx::query("lock table participants in share row exclusive mode")
        .execute(&mut holder)
        .await
        .unwrap();
    let started = std::time::Instant::now();
    // Reverting the newest migration drops a column of it.
    let refused = migrations::downgrade(store.as_ref(), 1, &BackupPolicy::Skip).await;
    let waited = started.elapsed();
    let error = refused
        .expect_err("the migration cannot get its lock")
        .to_string();
    assert!(error.contains("lock timeout"), "{error}");
    assert!(
        waited < std::time::Duration::from_secs(60),
        "it gave up rather than waiting: {waited:?}"
    );
    sqlx::query("rollback").execute(&mut holder).await.unwrap();
    holder.close().await.unwrap();
    let down = migrations::downgrade(store.as_ref(), 1, &BackupPolicy::Skip)
        .await
        .unwrap();
    assert_eq!(down.applied.len(), 1);
    let up = migrations::upgrade(store.as_ref(), &BackupPolicy::Skip)
        .await
        .unwrap();
    assert_eq!(up.applied.len(), 1);
    store.close().await;
}

async fn a_fresh_database_reports_every_migration_pending_without_changing_it(db: TestDb) {
    let store = db.store().await;
    let status = store.schema_status().await.unwrap();
    assert!(status.known.len() >= 2);
    assert!(status.known.iter().all(|m| !m.applied));
    assert!(matches!(status.verdict(), SchemaVerdict::Pending(v) if v.len() == status.known.len()));
    let again = store.schema_status().await.unwrap();
    assert_eq!(status, again, "reading status changes nothing");
}

async fn migrations_round_trip_up_down_up(db: TestDb) {
    let store = db.store().await;
    let known = store.schema_status().await.unwrap().known.len();

    let up = migrations::upgrade(store.as_ref(), &BackupPolicy::Skip)
        .await
        .unwrap();
    assert_eq!(up.applied.len(), known);
    assert!(up.integrity.is_ok(), "{}", up.integrity);
    assert_eq!(
        store.schema_status().await.unwrap().verdict(),
        SchemaVerdict::Current
    );

    let down_one = migrations::downgrade(store.as_ref(), 1, &BackupPolicy::Skip)
        .await
        .unwrap();
    assert_eq!(down_one.applied.len(), 1);
    assert_eq!(down_one.applied[0].version, i64::try_from(known).unwrap());
    assert!(down_one.integrity.is_ok(), "{}", down_one.integrity);
    assert!(
        down_one
            .integrity
            .schema
            .contains(&format!("{} of {known}", known - 1)),
        "{}",
        down_one.integrity
    );

    let down_all = migrations::downgrade(store.as_ref(), 100, &BackupPolicy::Skip)
        .await
        .unwrap();
    assert_eq!(down_all.applied.len(), known - 1);
    assert!(
        down_all
            .applied
            .windows(2)
            .all(|w| w[0].version > w[1].version),
        "newest first"
    );
    let status = store.schema_status().await.unwrap();
    assert!(status.known.iter().all(|m| !m.applied));

    let again = migrations::upgrade(store.as_ref(), &BackupPolicy::Skip)
        .await
        .unwrap();
    assert_eq!(again.applied.len(), known);
    assert!(again.integrity.is_ok(), "{}", again.integrity);

    let nothing = migrations::upgrade(store.as_ref(), &BackupPolicy::Skip)
        .await
        .unwrap();
    assert!(nothing.applied.is_empty());
}

async fn concurrent_migrate_runs_apply_each_migration_once(db: TestDb) {
    let mut runs = Vec::new();
    for _ in 0..4 {
        let store = db.store().await;
        runs.push(tokio::spawn(async move {
            migrations::upgrade(store.as_ref(), &BackupPolicy::Skip).await
        }));
    }
    let mut applied = 0;
    for run in runs {
        let report = run.await.unwrap().expect("every concurrent run succeeds");
        assert!(report.integrity.is_ok(), "{}", report.integrity);
        applied += report.applied.len();
    }
    let status = db.store().await.schema_status().await.unwrap();
    assert_eq!(
        applied,
        status.known.len(),
        "each migration applied by exactly one run"
    );
    assert_eq!(status.verdict(), SchemaVerdict::Current);
}

async fn a_backup_is_taken_before_migrating_outside_development(db: TestDb) {
    let store = db.store().await;
    let dir = db.scratch().join("backups");
    let report = migrations::upgrade(store.as_ref(), &BackupPolicy::Required(dir.clone()))
        .await
        .unwrap();
    let backup = report.backup.expect("a backup was taken");
    assert!(backup.starts_with(&dir));
    assert!(std::fs::metadata(&backup).unwrap().len() > 0);
    // Nothing pending, nothing to back up.
    let again = migrations::upgrade(store.as_ref(), &BackupPolicy::Required(dir))
        .await
        .unwrap();
    assert!(again.backup.is_none());
    if db.backend() == Backend::Sqlite {
        // The copy is a database of its own, with the schema as it was before migrating.
        let copy = sqlx::SqlitePool::connect(&format!("sqlite://{}", backup.display()))
            .await
            .unwrap();
        let tables: i64 =
            sqlx::query_scalar("select count(*) from sqlite_master where type = 'table'")
                .fetch_one(&copy)
                .await
                .unwrap();
        assert_eq!(tables, 0, "backed up before the first migration");
    } else {
        let listing = std::process::Command::new("pg_restore")
            .arg("--list")
            .arg(&backup)
            .output()
            .unwrap();
        assert!(listing.status.success(), "pg_restore can read the dump");
    }
}

async fn the_integrity_check_finds_broken_foreign_keys(db: TestDb) {
    let store = db.migrated_store().await;
    let sound = store.integrity_check(ScanDepth::Enforcement).await.unwrap();
    assert!(sound.is_ok(), "{sound}");
    assert!(sound.foreign_keys_checked >= 14, "{sound}");
    match db.backend() {
        Backend::Sqlite => {
            // SQLite keeps no record of enforcement: every check scans every key.
            assert_eq!(sound.foreign_keys_scanned, sound.foreign_keys_checked);
            execute(
                &db,
                "insert into api_tokens (id, organizer_id, kind, name, token_hash, created_at) \
                          values (x'01', x'02', 'api', 't', x'03', '2026-01-01T00:00:00Z')",
            )
            .await;
        }
        Backend::Postgres => {
            // PostgreSQL enforces validated keys: a deploy's check reads the catalog only.
            assert_eq!(sound.foreign_keys_scanned, 0, "{sound}");
            execute(&db, "alter table api_tokens disable trigger all").await;
            execute(&db, "insert into api_tokens (id, organizer_id, kind, name, token_hash, created_at) \
                          values (gen_random_uuid(), gen_random_uuid(), 'api', 't', '\\x03', now())").await;
            // With enforcement off, the catalog says so and that key is scanned.
            let off = store.integrity_check(ScanDepth::Enforcement).await.unwrap();
            assert!(
                off.problems.iter().any(|p| p.contains("not enforced")),
                "{off}"
            );
            assert!(
                off.problems.iter().any(|p| p.contains("violation")),
                "{off}"
            );
            assert!(
                off.foreign_keys_scanned >= 1
                    && off.foreign_keys_scanned < off.foreign_keys_checked
            );
            let after_up = migrations::upgrade(store.as_ref(), &BackupPolicy::Skip)
                .await
                .unwrap();
            assert!(!after_up.integrity.is_ok(), "migrate reports it too");
            // Back on, the catalog no longer shows it; only the full scan finds the row.
            execute(&db, "alter table api_tokens enable trigger all").await;
            let on = store.integrity_check(ScanDepth::Enforcement).await.unwrap();
            assert!(on.is_ok(), "{on}");
        }
    }
    let report = store.integrity_check(ScanDepth::Full).await.unwrap();
    assert!(!report.is_ok());
    assert_eq!(report.foreign_keys_scanned, report.foreign_keys_checked);
    assert!(
        report.problems.iter().any(|p| p.contains("api_tokens")),
        "{report}"
    );
    if db.backend() == Backend::Sqlite {
        let after_up = migrations::upgrade(store.as_ref(), &BackupPolicy::Skip)
            .await
            .unwrap();
        assert!(!after_up.integrity.is_ok(), "migrate reports it too");
    }
}

async fn serve_refuses_a_database_with_pending_migrations(db: TestDb) {
    let mut config = Config::with_database(db.url.clone());
    config.listen_addr = "127.0.0.1:0".parse().unwrap();
    let error = App::build(config).await.err().expect("refused").to_string();
    assert!(error.contains("conflicto migrate up"), "{error}");
}

async fn serve_migrates_the_embedded_default_itself(db: TestDb) {
    let mut config = Config::with_database(db.url.clone());
    config.listen_addr = "127.0.0.1:0".parse().unwrap();
    config.embedded_database = true;
    let app = App::build(config)
        .await
        .expect("the embedded default migrates on start");
    let status = app.state().store.schema_status().await.unwrap();
    assert_eq!(status.verdict(), SchemaVerdict::Current);
}

async fn serve_runs_on_a_newer_schema_only_when_it_is_declared_compatible(db: TestDb) {
    let store = db.migrated_store().await;
    // A newer release applied 9001, an expand migration that keeps old releases working.
    execute(&db, match db.backend() {
        Backend::Sqlite => "insert into _sqlx_migrations (version, description, success, checksum, execution_time) \
                            values (9001, 'add column from a newer release', true, x'00', 1)",
        Backend::Postgres => "insert into _sqlx_migrations (version, description, success, checksum, execution_time) \
                              values (9001, 'add column from a newer release', true, '\\x00', 1)",
    }).await;
    let newer = store.schema_status().await.unwrap();
    assert_eq!(newer.unknown_applied, vec![9001]);
    assert_eq!(newer.verdict(), SchemaVerdict::NewerCompatible(vec![9001]));
    let mut config = Config::with_database(db.url.clone());
    config.listen_addr = "127.0.0.1:0".parse().unwrap();
    App::build(config.clone())
        .await
        .expect("starts on a compatible newer schema");

    // Then a contract migration declares releases before 9001 unable to run on it.
    execute(
        &db,
        "update schema_compatibility set oldest_compatible_version = 9001",
    )
    .await;
    let error = App::build(config).await.err().expect("refused").to_string();
    assert!(error.contains("cannot run on"), "{error}");
    // Nor may this release revert migrations it does not know.
    let refused = migrations::downgrade(store.as_ref(), 1, &BackupPolicy::Skip).await;
    assert!(refused.is_err());
}

async fn the_request_log_keeps_its_ids_through_its_rekeying_and_goes_with_its_session(db: TestDb) {
    let mut app = TestApp::spawn(db).await;
    let host = app.host("ada@example.org", false).await;
    let (session, _) = app.open_session(&host, None).await;
    let poll = app
        .poll(
            &host,
            &session,
            serde_json::json!({"question": "q", "options": ["a", "b"]}),
            serde_json::json!({}),
        )
        .await;
    app.transition(&host, &poll, "active").await;
    let first = app.join(&session, "First").await;
    let second = app.join(&session, "Second").await;
    assert_eq!(
        app.vote(
            &first,
            &poll,
            serde_json::json!({"options": [0]}),
            Some("req-1")
        )
        .await
        .status(),
        reqwest::StatusCode::CREATED
    );
    assert_eq!(
        app.vote(
            &second,
            &poll,
            serde_json::json!({"options": [1]}),
            Some("req-1")
        )
        .await
        .status(),
        reqwest::StatusCode::CREATED
    );
    assert_eq!(
        app.vote(
            &first,
            &poll,
            serde_json::json!({"options": [1]}),
            Some("req-2")
        )
        .await
        .status(),
        reqwest::StatusCode::CREATED
    );
    app.stop().await.unwrap();

    // Back to the key by participant (migration 0010 and every later one down), and
    // forward again.
    let steps = crate::common::migration_count() - 9;
    let store = app.db.store().await;
    let down = migrations::downgrade(store.as_ref(), steps as u32, &BackupPolicy::Skip)
        .await
        .unwrap();
    assert_eq!(down.applied.len(), steps);
    assert!(down.integrity.is_ok(), "{}", down.integrity);
    assert_eq!(
        count(&app.db, "select count(*) from response_requests").await,
        3
    );
    let up = migrations::upgrade(store.as_ref(), &BackupPolicy::Skip)
        .await
        .unwrap();
    assert_eq!(up.applied.len(), steps);
    assert!(up.integrity.is_ok(), "{}", up.integrity);
    assert_eq!(
        count(&app.db, "select count(*) from response_requests").await,
        3
    );
    store.close().await;

    // Every id is still known: a late retry changes nothing.
    let app = app.restart().await;
    let stale = app
        .vote(
            &first,
            &poll,
            serde_json::json!({"options": [0]}),
            Some("req-1"),
        )
        .await;
    assert_eq!(stale.status(), reqwest::StatusCode::OK);
    assert_eq!(json(stale).await["replayed"], true);
    assert_eq!(
        crate::helpers::counts(&app.results(&host.token, &poll).await),
        [0, 2]
    );

    // Deleting the session takes its activities' request rows along.
    app.complete(&host, &session).await;
    let path = format!("/api/v1/sessions/{session}");
    assert_eq!(
        app.call(reqwest::Method::DELETE, &path, Some(&host.token), None)
            .await
            .status(),
        reqwest::StatusCode::NO_CONTENT
    );
    assert_eq!(
        count(&app.db, "select count(*) from response_requests").await,
        0
    );
    assert_eq!(count(&app.db, "select count(*) from participants").await, 0);
}

async fn one_answer_batch_tells_new_replayed_and_refused_answers_apart(db: TestDb) {
    // The batch counts its participants and inserts its request ids without reading
    // them back; a removed participant or a replayed id sends it the long way. Each
    // answer must get the outcome it would get alone.
    let mut app = TestApp::spawn(db).await;
    let host = app.host("ada@example.org", false).await;
    let (session, _) = app.open_session(&host, None).await;
    let poll = app
        .poll(
            &host,
            &session,
            serde_json::json!({"question": "q", "options": ["a", "b"]}),
            serde_json::json!({}),
        )
        .await;
    app.transition(&host, &poll, "active").await;
    let (ann, bob, cat) = (
        app.join(&session, "Ann").await,
        app.join(&session, "Bob").await,
        app.join(&session, "Cat").await,
    );
    assert_eq!(
        app.vote(
            &ann,
            &poll,
            serde_json::json!({"options": [0]}),
            Some("ann-1")
        )
        .await
        .status(),
        reqwest::StatusCode::CREATED
    );
    let removed = app
        .call(
            reqwest::Method::DELETE,
            format!("/api/v1/sessions/{session}/participants/{}", cat.id),
            Some(&host.token),
            None,
        )
        .await;
    assert_eq!(removed.status(), reqwest::StatusCode::NO_CONTENT);
    app.stop().await.unwrap();

    let store = app.db.store().await;
    let at = chrono::Utc::now();
    let answer =
        |who: &crate::helpers::Guest, option: u8, key: &str| conflicto::storage::ResponseWrite {
            id: conflicto::ids::ResponseId::new(),
            activity_id: poll.parse().unwrap(),
            session_id: session.parse().unwrap(),
            participant_id: who.id.parse().unwrap(),
            round: 1,
            slot: "vote".into(),
            answer: format!("{{\"options\":[{option}]}}"),
            client_request_id: Some(key.into()),
            at,
            answerable_since: None,
            final_answer: false,
        };
    use conflicto::storage::WriteOutcome::{ParticipantInactive, Replay, Stored};
    // Every answer new and every participant active: the short way.
    let fresh = store
        .write_responses(&[answer(&bob, 0, "bob-1"), answer(&ann, 0, "ann-2")])
        .await
        .unwrap();
    assert_eq!(fresh, [Stored, Stored]);
    // A replay of an earlier batch's id, a removed participant, a replay within the batch.
    let batch = [
        answer(&ann, 1, "ann-1"),
        answer(&bob, 1, "bob-2"),
        answer(&cat, 1, "cat-1"),
        answer(&bob, 0, "bob-2"),
        answer(&ann, 1, "ann-3"),
    ];
    let outcomes = store.write_responses(&batch).await.unwrap();
    assert_eq!(
        outcomes,
        [Replay, Stored, ParticipantInactive, Replay, Stored]
    );
    assert_eq!(
        count(&app.db, "select count(*) from response_requests").await,
        5,
        "ann-1, bob-1, ann-2, bob-2, ann-3"
    );
    assert_eq!(
        count(&app.db, "select count(*) from responses").await,
        2,
        "one answer each for Ann and Bob"
    );
    store.close().await;

    // Both answers are the ones stored last: Ann's ann-3 and Bob's first bob-2.
    let app = app.restart().await;
    assert_eq!(
        crate::helpers::counts(&app.results(&host.token, &poll).await),
        [0, 2]
    );
}

async fn a_write_cancelled_at_any_point_leaves_the_store_writable_and_whole(db: TestDb) {
    let mut app = TestApp::spawn(db).await;
    let host = app.host("ada@example.org", false).await;
    let (session, _) = app.open_session(&host, None).await;
    let session: conflicto::ids::SessionId = session.parse().unwrap();
    let store = app.db.store().await;
    let minute = chrono::DateTime::from_timestamp(1_800_000_000, 0).unwrap();

    // Dropped after 0, 4, 8, ... µs of polling without pause (tokio's timer counts in
    // milliseconds, too coarse): before the transaction begins, while BEGIN, the
    // statement or COMMIT runs, and after it ended.
    let attempts = 400;
    let mut finished = 0;
    for i in 0..attempts {
        let until = std::time::Instant::now() + std::time::Duration::from_micros(i * 4);
        let mut write = std::pin::pin!(store.add_reactions(session, minute, &[("👍", 1)]));
        let outcome = std::future::poll_fn(|cx| match write.as_mut().poll(cx) {
            std::task::Poll::Ready(result) => std::task::Poll::Ready(Some(result)),
            std::task::Poll::Pending if std::time::Instant::now() >= until => {
                std::task::Poll::Ready(None)
            }
            std::task::Poll::Pending => {
                cx.waker().wake_by_ref();
                std::task::Poll::Pending
            }
        })
        .await;
        if let Some(result) = outcome {
            result.unwrap();
            finished += 1;
        }
    }
    assert!(finished < attempts, "some writes were cancelled");
    // Another connection can write at once: no transaction was left open.
    execute(&app.db, "update reaction_counts set count = count").await;
    let last = tokio::time::timeout(
        std::time::Duration::from_secs(10),
        store.add_reactions(session, minute, &[("👍", 1)]),
    );
    last.await
        .expect("a write after the cancelled ones finishes")
        .unwrap();

    // Each write is whole: a cancelled one counted once or not at all.
    let stored = count(
        &app.db,
        "select cast(coalesce(sum(count), 0) as bigint) from reaction_counts",
    )
    .await;
    assert!(
        (finished + 1..=attempts + 1).contains(&u64::try_from(stored).unwrap()),
        "{stored} counted, {finished} of {attempts} finished"
    );
    store.close().await;
    app.stop().await.unwrap();
}
