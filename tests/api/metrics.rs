//! `/metrics`: request counts by route and status, latency histograms, pool usage, and the
//! optional bearer token.

use conflicto::config::Secret;
use reqwest::StatusCode;

use crate::both_backends;
use crate::common::TestDb;
use crate::helpers::{TestApp, assert_envelope, json};

both_backends!(
    metrics_count_requests_by_route_and_status,
    a_metrics_token_is_required_when_configured
);

async fn metrics_count_requests_by_route_and_status(db: TestDb) {
    let app = TestApp::spawn(db).await;
    for _ in 0..3 {
        app.get("/api/v1/health/live").await;
    }
    app.get("/definitely/missing").await;
    let response = app.get("/metrics").await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    let text = response.text().await.unwrap();
    let live_line = text
        .lines()
        .find(|l| {
            l.starts_with("http_requests_total{")
                && l.contains("route=\"/api/v1/health/live\"")
                && l.contains("status=\"200\"")
        })
        .unwrap_or_else(|| panic!("no request counter for the live route in:\n{text}"));
    let count: f64 = live_line.rsplit(' ').next().unwrap().parse().unwrap();
    assert!(count >= 3.0, "{live_line}");
    assert!(
        text.contains("route=\"unmatched\"") && text.contains("status=\"404\""),
        "404s are counted"
    );
    assert!(
        text.contains("http_request_duration_seconds_bucket{"),
        "latency histogram"
    );
    assert!(text.contains("db_pool_connections{"), "pool usage");
    assert!(text.contains("db_pool_max_connections{"), "pool size");
}

async fn a_metrics_token_is_required_when_configured(db: TestDb) {
    let app = TestApp::spawn_with(
        db,
        |config| config.metrics_token = Some(Secret::new("0123456789abcdef-metrics")),
        axum::Router::new(),
    )
    .await;
    let anonymous = app.get("/metrics").await;
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    assert_envelope(&json(anonymous).await, "unauthorized");
    let wrong = app
        .client
        .get(app.url("/metrics"))
        .bearer_auth("nope")
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    let right = app
        .client
        .get(app.url("/metrics"))
        .bearer_auth("0123456789abcdef-metrics")
        .send()
        .await
        .unwrap();
    assert_eq!(right.status(), StatusCode::OK);
}
