//! The safety baseline on every response: security headers, the CORS allowlist, request ids.

use reqwest::StatusCode;

use crate::both_backends;
use crate::common::TestDb;
use crate::helpers::TestApp;

both_backends!(
    every_response_carries_the_security_headers,
    cors_answers_only_allowed_origins,
    without_an_allowlist_no_cors_headers_are_sent,
    request_ids_are_generated_kept_or_replaced,
    hsts_is_sent_when_the_public_url_is_https
);

async fn every_response_carries_the_security_headers(db: TestDb) {
    let app = TestApp::spawn(db).await;
    for path in ["/", "/api/v1/health/", "/no/such/page", "/metrics"] {
        let response = app.get(path).await;
        let headers = response.headers();
        let csp = headers["content-security-policy"].to_str().unwrap();
        assert!(csp.contains("frame-ancestors 'none'"), "{path}: {csp}");
        assert!(csp.contains("default-src 'self'"), "{path}: {csp}");
        assert_eq!(headers["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(headers["referrer-policy"], "no-referrer", "{path}");
        assert_eq!(headers["x-frame-options"], "DENY", "{path}");
        assert!(
            !headers.contains_key("strict-transport-security"),
            "no HSTS over plain http"
        );
    }
}

async fn cors_answers_only_allowed_origins(db: TestDb) {
    let app = TestApp::spawn_with(
        db,
        |config| {
            config.allowed_origins = vec!["https://allowed.example".parse().unwrap()];
        },
        axum::Router::new(),
    )
    .await;
    let preflight = |origin: &'static str| {
        app.client
            .request(reqwest::Method::OPTIONS, app.url("/api/v1/health/"))
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header(
                "access-control-request-headers",
                "content-type,authorization",
            )
            .send()
    };
    let allowed = preflight("https://allowed.example").await.unwrap();
    assert_eq!(
        allowed.headers()["access-control-allow-origin"],
        "https://allowed.example"
    );
    let denied = preflight("https://evil.example").await.unwrap();
    assert!(!denied.headers().contains_key("access-control-allow-origin"));

    let simple = app
        .client
        .get(app.url("/api/v1/health/"))
        .header("origin", "https://evil.example")
        .send()
        .await
        .unwrap();
    assert!(!simple.headers().contains_key("access-control-allow-origin"));
}

async fn without_an_allowlist_no_cors_headers_are_sent(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let response = app
        .client
        .get(app.url("/api/v1/health/"))
        .header("origin", "https://anyone.example")
        .send()
        .await
        .unwrap();
    assert!(
        !response
            .headers()
            .contains_key("access-control-allow-origin")
    );
    assert!(
        !response
            .headers()
            .contains_key("access-control-allow-credentials")
    );
}

async fn request_ids_are_generated_kept_or_replaced(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let generated = app.get("/api/v1/health/live").await;
    let id = generated.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_owned();
    assert_eq!(id.len(), 36, "a UUID: {id}");

    let kept = app
        .client
        .get(app.url("/api/v1/health/live"))
        .header("x-request-id", "trace-abc.123")
        .send()
        .await
        .unwrap();
    assert_eq!(kept.headers()["x-request-id"], "trace-abc.123");

    let replaced = app
        .client
        .get(app.url("/no/such"))
        .header("x-request-id", "x".repeat(200))
        .send()
        .await
        .unwrap();
    assert_eq!(replaced.status(), StatusCode::NOT_FOUND);
    assert_eq!(replaced.headers()["x-request-id"].len(), 36);
}

async fn hsts_is_sent_when_the_public_url_is_https(db: TestDb) {
    let app = TestApp::spawn_with(
        db,
        |config| config.public_base_url = Some("https://conflicto.example".parse().unwrap()),
        axum::Router::new(),
    )
    .await;
    let response = app.get("/api/v1/health/live").await;
    assert!(
        response.headers()["strict-transport-security"]
            .to_str()
            .unwrap()
            .contains("max-age=")
    );
}
