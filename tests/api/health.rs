//! Health endpoints: shapes, 503 when the database does not answer, readiness conditions.

use conflicto::storage::migrations::{self, BackupPolicy};
use reqwest::StatusCode;

use crate::both_backends;
use crate::common::{PrivateCluster, TestDb};
use crate::helpers::{TestApp, assert_envelope, json};

both_backends!(
    health_is_healthy_with_every_documented_field,
    health_is_503_unhealthy_when_the_database_does_not_answer,
    ready_and_live_answer_while_serving,
    ready_is_503_when_a_migration_goes_missing_under_a_running_app,
    live_turns_503_by_itself_for_a_schema_the_release_cannot_serve
);

async fn health_is_healthy_with_every_documented_field(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let response = app.get("/api/v1/health/").await;
    assert_eq!(response.status(), StatusCode::OK);
    let body = json(response).await;
    assert_eq!(body["status"], "healthy");
    assert_eq!(body["environment"], "development");
    assert_eq!(body["version"], env!("CARGO_PKG_VERSION"));
    assert!(body["app_version"].is_string());
    assert!(body["timestamp"].as_str().unwrap().contains('T'));
    assert_eq!(body["database"]["status"], "up");
    assert_eq!(body["database"]["backend"], app.db.backend().as_str());
}

async fn health_is_503_unhealthy_when_the_database_does_not_answer(db: TestDb) {
    let app = TestApp::spawn(db).await;
    app.state.store.close().await;
    let response = app.get("/api/v1/health/").await;
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    let body = json(response).await;
    assert_eq!(body["status"], "unhealthy");
    assert_eq!(body["database"]["status"], "down");
    assert_envelope(&body, "database_unavailable");
    let ready = app.get("/api/v1/health/ready").await;
    assert_eq!(ready.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(json(ready).await["status"], "not_ready");
    let live = app.get("/api/v1/health/live").await;
    assert_eq!(
        live.status(),
        StatusCode::OK,
        "liveness ignores the database"
    );
}

async fn ready_and_live_answer_while_serving(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let ready = app.get("/api/v1/health/ready").await;
    assert_eq!(ready.status(), StatusCode::OK);
    let ready = json(ready).await;
    assert_eq!(ready["status"], "ready");
    assert_eq!(ready["checks"]["database"], "up");
    assert_eq!(ready["checks"]["draining"], false);
    let live = app.get("/api/v1/health/live").await;
    assert_eq!(live.status(), StatusCode::OK);
    let live = json(live).await;
    assert_eq!(live["status"], "alive");
    assert!(live["uptime_seconds"].as_f64().unwrap() >= 0.0);
}

async fn ready_is_503_when_a_migration_goes_missing_under_a_running_app(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let other = app.db.store().await;
    migrations::downgrade(other.as_ref(), 1, &BackupPolicy::Skip)
        .await
        .unwrap();
    let response = app.get("/api/v1/health/ready").await;
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    let body = json(response).await;
    let message = assert_envelope(&body, "not_ready");
    assert!(message.contains("conflicto migrate up"), "{message}");
    let health = app.get("/api/v1/health/").await;
    assert_eq!(
        health.status(),
        StatusCode::OK,
        "the database still answers"
    );
    // Readiness read the schema, so liveness answers from that verdict at once.
    let live = app.get("/api/v1/health/live").await;
    assert_eq!(live.status(), StatusCode::SERVICE_UNAVAILABLE);
    let body = json(live).await;
    assert_eq!(body["status"], "refusing");
    let message = assert_envelope(&body, "schema_incompatible");
    assert!(message.contains("conflicto migrate up"), "{message}");
}

/// Nothing calls `/ready` here: the instance's own schema watch must notice a schema it
/// cannot serve, as on ECS, where the ALB checks `/live` only. Migrating back up brings it
/// back, so a mistaken `migrate down` corrected in time needs no new instances.
async fn live_turns_503_by_itself_for_a_schema_the_release_cannot_serve(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let live = json(app.get("/api/v1/health/live").await).await;
    assert_eq!(live["status"], "alive");
    assert!(live["schema"].is_string());
    let other = app.db.store().await;
    migrations::downgrade(other.as_ref(), 1, &BackupPolicy::Skip)
        .await
        .unwrap();
    let wait = live_status_until(&app, StatusCode::SERVICE_UNAVAILABLE).await;
    assert!(
        wait.is_some(),
        "the schema watch did not notice the downgrade"
    );
    migrations::upgrade(other.as_ref(), &BackupPolicy::Skip)
        .await
        .unwrap();
    let wait = live_status_until(&app, StatusCode::OK).await;
    assert!(
        wait.is_some(),
        "the schema watch did not notice the upgrade"
    );
}

/// Polls `/live` for up to three schema-watch periods until it answers `want`.
async fn live_status_until(app: &TestApp, want: StatusCode) -> Option<std::time::Duration> {
    let started = std::time::Instant::now();
    let limit = conflicto::http::api::health::SCHEMA_RECHECK * 3;
    while started.elapsed() < limit {
        if app.get("/api/v1/health/live").await.status() == want {
            return Some(started.elapsed());
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    None
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_turns_503_when_postgresql_stops_and_recovers_when_it_restarts() {
    let Some(cluster) = PrivateCluster::start() else {
        return;
    };
    let raw = cluster.url();
    let db = TestDb::postgres_at(&raw);
    let app = TestApp::spawn(db).await;
    assert_eq!(app.get("/api/v1/health/").await.status(), StatusCode::OK);

    cluster.stop();
    let response = app.get("/api/v1/health/").await;
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(json(response).await["status"], "unhealthy");
    assert_eq!(
        app.get("/api/v1/health/ready").await.status(),
        StatusCode::SERVICE_UNAVAILABLE
    );
    // What the load balancer checks stays up through the outage, past a schema watch
    // that finds no database: a failover must not get the instance replaced.
    tokio::time::sleep(conflicto::http::api::health::SCHEMA_RECHECK).await;
    let live = app.get("/api/v1/health/live").await;
    assert_eq!(live.status(), StatusCode::OK);
    assert_eq!(json(live).await["status"], "alive");

    cluster.restart();
    let mut status = StatusCode::SERVICE_UNAVAILABLE;
    for _ in 0..50 {
        status = app.get("/api/v1/health/").await.status();
        if status == StatusCode::OK {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(
        status,
        StatusCode::OK,
        "the pool reconnects after a restart"
    );
}
