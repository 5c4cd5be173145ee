//! Graceful shutdown: readiness turns 503 first, in-flight requests finish, live streams are
//! told to end through the lifecycle's cancellation token, and the server stops promptly.

use std::convert::Infallible;
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::State;
use axum::response::sse::{Event, Sse};
use axum::routing::get;
use conflicto::http::state::AppState;
use futures_util::StreamExt;
use reqwest::StatusCode;

use crate::both_backends;
use crate::common::TestDb;
use crate::helpers::{TestApp, json};

/// A slow request and a stream that ends when the lifecycle's token is cancelled, the way
/// the live event stream will.
fn probes() -> Router<AppState> {
    Router::new()
        .route(
            "/test/slow",
            get(|| async {
                tokio::time::sleep(Duration::from_millis(1500)).await;
                "finished"
            }),
        )
        .route(
            "/test/stream",
            get(|State(state): State<AppState>| async move {
                let token = state.lifecycle.streams_token();
                let ticks = futures_util::stream::unfold(0u32, |n| async move {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    Some((
                        Ok::<_, Infallible>(Event::default().data(n.to_string())),
                        n + 1,
                    ))
                });
                let ending = futures_util::stream::once(async {
                    Ok(Event::default()
                        .event("shutdown")
                        .retry(Duration::from_millis(500))
                        .data("reconnect"))
                });
                Sse::new(ticks.take_until(token.cancelled_owned()).chain(ending))
            }),
        )
}

both_backends!(
    shutdown_drains_in_order,
    a_request_that_outlives_the_shutdown_timeout_does_not_block_exit
);

async fn shutdown_drains_in_order(db: TestDb) {
    let mut app = TestApp::spawn_with(
        db,
        |config| {
            config.shutdown_drain = Duration::from_millis(800);
            config.shutdown_timeout = Duration::from_secs(9);
        },
        probes(),
    )
    .await;
    let stream = app
        .client
        .get(app.url("/test/stream"))
        .send()
        .await
        .unwrap();
    assert_eq!(stream.status(), StatusCode::OK);
    let slow = tokio::spawn(app.client.get(app.url("/test/slow")).send());
    tokio::time::sleep(Duration::from_millis(200)).await;

    let started = Instant::now();
    let server = app.begin_stop();
    tokio::time::sleep(Duration::from_millis(100)).await;

    // Still serving during the drain, but no longer ready.
    let ready = app.get("/api/v1/health/ready").await;
    assert_eq!(ready.status(), StatusCode::SERVICE_UNAVAILABLE);
    let ready = json(ready).await;
    assert_eq!(ready["checks"]["draining"], true);
    assert!(app.state.lifecycle.streams_token().is_cancelled());

    // The open stream ends with a reconnect hint instead of holding shutdown up.
    let body = tokio::time::timeout(Duration::from_secs(3), stream.text())
        .await
        .expect("the stream ends promptly")
        .unwrap();
    assert!(body.contains("event: shutdown"), "{body}");
    assert!(body.contains("retry: 500"), "{body}");

    // The in-flight request finishes normally.
    let slow = slow.await.unwrap().unwrap();
    assert_eq!(slow.status(), StatusCode::OK);
    assert_eq!(slow.text().await.unwrap(), "finished");

    server.await.unwrap().unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "stopped in {:?}",
        started.elapsed()
    );
    assert!(
        app.client
            .get(app.url("/api/v1/health/live"))
            .send()
            .await
            .is_err(),
        "listener closed"
    );
}

async fn a_request_that_outlives_the_shutdown_timeout_does_not_block_exit(db: TestDb) {
    let mut app = TestApp::spawn_with(
        db,
        |config| {
            config.shutdown_timeout = Duration::from_millis(500);
            config.request_timeout = Duration::from_secs(60);
        },
        Router::new().route(
            "/test/forever",
            get(|| async {
                tokio::time::sleep(Duration::from_secs(60)).await;
                "never"
            }),
        ),
    )
    .await;
    let _pending = tokio::spawn(app.client.get(app.url("/test/forever")).send());
    tokio::time::sleep(Duration::from_millis(100)).await;
    let started = Instant::now();
    app.stop().await.unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "took {:?}",
        started.elapsed()
    );
}
