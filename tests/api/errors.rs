//! The one error envelope for every error: unknown paths, wrong methods, malformed and
//! oversized JSON, timeouts and even a panicking handler. Never a bare 500 or text body.

use std::time::Duration;

use axum::Router;
use axum::routing::{get, post};
use conflicto::http::extract::AppJson;
use conflicto::http::state::AppState;
use reqwest::StatusCode;
use serde::Deserialize;

use crate::both_backends;
use crate::common::TestDb;
use crate::helpers::{TestApp, assert_envelope, json};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct Probe {
    name: String,
    count: u32,
}

/// Probes mounted on the real middleware stack: a JSON endpoint, a slow one, a panicking one.
fn probes() -> Router<AppState> {
    Router::new()
        .route(
            "/test/echo",
            post(|AppJson(probe): AppJson<Probe>| async move {
                format!("{}:{}", probe.name, probe.count)
            }),
        )
        .route(
            "/test/slow",
            get(|| async {
                tokio::time::sleep(Duration::from_secs(5)).await;
                "late"
            }),
        )
        .route(
            "/test/panic",
            get(|| async {
                let empty: Vec<u8> = Vec::new();
                #[allow(clippy::indexing_slicing)]
                let _ = empty[std::hint::black_box(3)];
                "unreachable"
            }),
        )
}

async fn spawn(db: crate::common::TestDb) -> TestApp {
    TestApp::spawn_with(
        db,
        |config| {
            config.request_timeout = Duration::from_millis(300);
            config.max_body_bytes = 4096;
        },
        probes(),
    )
    .await
}

both_backends!(
    every_error_uses_the_envelope,
    a_valid_body_passes_the_same_stack,
    oversized_bodies_get_413_in_the_envelope,
    a_405_keeps_its_allow_header,
    hostile_paths_and_headers_never_cause_a_5xx
);

async fn every_error_uses_the_envelope(db: TestDb) {
    let app = spawn(db).await;
    let post_json = |body: &'static str, content_type: &'static str| {
        app.client
            .post(app.url("/test/echo"))
            .header("content-type", content_type)
            .body(body)
            .send()
    };
    let cases: Vec<(&str, reqwest::Response, StatusCode, &str)> = vec![
        (
            "unknown path",
            app.get("/no/such/path").await,
            StatusCode::NOT_FOUND,
            "not_found",
        ),
        (
            "unknown API path",
            app.get("/api/v1/nothing").await,
            StatusCode::NOT_FOUND,
            "not_found",
        ),
        (
            "wrong method",
            app.client
                .delete(app.url("/api/v1/health/"))
                .send()
                .await
                .unwrap(),
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
        ),
        (
            "malformed JSON",
            post_json("{\"name\": ", "application/json").await.unwrap(),
            StatusCode::BAD_REQUEST,
            "malformed_json",
        ),
        (
            "wrong JSON shape",
            post_json("{\"name\": 5, \"count\": 1}", "application/json")
                .await
                .unwrap(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_body",
        ),
        (
            "unknown field",
            post_json(
                "{\"name\": \"a\", \"count\": 1, \"admin\": true}",
                "application/json",
            )
            .await
            .unwrap(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_body",
        ),
        (
            "not JSON content type",
            post_json("name=a", "application/x-www-form-urlencoded")
                .await
                .unwrap(),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
        ),
        (
            "slow handler",
            app.get("/test/slow").await,
            StatusCode::REQUEST_TIMEOUT,
            "request_timeout",
        ),
        (
            "panicking handler",
            app.get("/test/panic").await,
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal_error",
        ),
    ];
    for (what, response, status, code) in cases {
        assert_eq!(response.status(), status, "{what}");
        let content_type = response.headers()["content-type"]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(
            content_type.starts_with("application/json"),
            "{what}: {content_type}"
        );
        let body = json(response).await;
        assert_envelope(&body, code);
    }
}

async fn a_valid_body_passes_the_same_stack(db: TestDb) {
    let app = spawn(db).await;
    let response = app
        .client
        .post(app.url("/test/echo"))
        .json(&serde_json::json!({"name": "x", "count": 2}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.text().await.unwrap(), "x:2");
}

async fn oversized_bodies_get_413_in_the_envelope(db: TestDb) {
    let app = spawn(db).await;
    let big = format!("{{\"name\": \"{}\", \"count\": 1}}", "a".repeat(10_000));
    for chunked in [false, true] {
        let request = app
            .client
            .post(app.url("/test/echo"))
            .header("content-type", "application/json");
        let request = if chunked {
            let stream = futures_util::stream::iter(vec![Ok::<_, std::io::Error>(big.clone())]);
            request.body(reqwest::Body::wrap_stream(stream))
        } else {
            request.body(big.clone())
        };
        let response = request.send().await.unwrap();
        assert_eq!(
            response.status(),
            StatusCode::PAYLOAD_TOO_LARGE,
            "chunked: {chunked}"
        );
        assert_envelope(&json(response).await, "payload_too_large");
    }
}

async fn a_405_keeps_its_allow_header(db: TestDb) {
    let app = spawn(db).await;
    let response = app
        .client
        .post(app.url("/api/v1/health/live"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
    let allow = response.headers()["allow"].to_str().unwrap().to_owned();
    assert!(allow.contains("GET"), "{allow}");
}

async fn hostile_paths_and_headers_never_cause_a_5xx(db: TestDb) {
    let app = spawn(db).await;
    let paths = [
        "/%00",
        "/..%2f..%2fetc%2fpasswd",
        "/api/v1/health/%ff%fe",
        "/api/v1//health",
        "/api/v1/health/?a=%zz",
        &format!("/{}", "x".repeat(8000)),
    ];
    for path in paths {
        let response = app.get(path).await;
        assert!(
            response.status().as_u16() < 500,
            "{path}: {}",
            response.status()
        );
    }
    let response = app
        .client
        .get(app.url("/api/v1/health/"))
        .header("x-request-id", "bad id with spaces")
        .header("authorization", "Bearer \u{1}")
        .send()
        .await;
    // A header reqwest refuses to send is fine; one it sends must not break the server.
    if let Ok(response) = response {
        assert!(response.status().as_u16() < 500);
    }
}
