//! `GET /metrics` in Prometheus text format. Request counters and latency histograms are
//! recorded by the `observe` middleware; gauges that describe current state (pool usage,
//! draining, uptime) are set here, just before rendering.

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};

use crate::http::error::ApiError;
use crate::http::state::AppState;

/// Renders every metric; requires the bearer token when `METRICS_TOKEN` is set.
pub async fn render_metrics(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if let Some(expected) = &state.config.metrics_token {
        let given = crate::http::extract::bearer_token(&headers).unwrap_or_default();
        if !constant_time_eq(given.as_bytes(), expected.expose().as_bytes()) {
            return ApiError::unauthorized("send `Authorization: Bearer <METRICS_TOKEN>`")
                .into_response();
        }
    }
    let pool = state.store.pool_stats();
    let backend = state.store.backend().as_str();
    metrics::gauge!("db_pool_connections", "state" => "open", "backend" => backend)
        .set(f64::from(pool.open));
    metrics::gauge!("db_pool_connections", "state" => "idle", "backend" => backend)
        .set(f64::from(pool.idle));
    metrics::gauge!("db_pool_connections", "state" => "in_use", "backend" => backend)
        .set(f64::from(pool.open.saturating_sub(pool.idle)));
    metrics::gauge!("db_pool_max_connections", "backend" => backend).set(f64::from(pool.max));
    metrics::gauge!("app_draining").set(if state.lifecycle.is_draining() {
        1.0
    } else {
        0.0
    });
    metrics::gauge!("app_uptime_seconds").set(state.lifecycle.uptime_seconds());
    metrics::gauge!(
        "app_info",
        "version" => env!("CARGO_PKG_VERSION"),
        "app_version" => state.config.app_version.clone(),
        "environment" => state.config.environment.as_str()
    )
    .set(1.0);
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
        )],
        state.metrics.render(),
    )
        .into_response()
}

/// Compares secrets without leaking, through timing, how much of a guess was right.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
