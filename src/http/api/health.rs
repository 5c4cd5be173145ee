//! Health endpoints for load balancers, containers and pipelines (product.md section 6):
//! `/health/` answers whether the database does, `/health/ready` whether this instance
//! should get traffic, `/health/live` whether the process serves at all.

use std::time::{Duration, Instant};

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::http::error::{ApiError, ErrorBody, ErrorCode};
use crate::http::state::AppState;

/// How long the database gets to answer a health ping.
const PING_TIMEOUT: Duration = Duration::from_secs(2);

/// The health routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(health))
        .routes(routes!(ready))
        .routes(routes!(live))
}

/// Body of `/api/v1/health/`.
#[derive(Debug, Serialize, ToSchema)]
pub struct HealthResponse {
    /// `healthy` or `unhealthy`.
    pub status: &'static str,
    /// When this answer was made (RFC 3339).
    pub timestamp: String,
    /// The server build's version.
    pub version: &'static str,
    /// `development`, `dev` or `prod`.
    pub environment: &'static str,
    /// The deployed release (`APP_VERSION`).
    pub app_version: String,
    /// The database check.
    pub database: DatabaseHealth,
    /// Present when unhealthy.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorBody>,
}

/// The database part of a health answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct DatabaseHealth {
    /// `up` or `down`.
    pub status: &'static str,
    /// `sqlite` or `postgres`.
    pub backend: &'static str,
    /// How long the ping took.
    pub latency_ms: f64,
}

async fn ping(state: &AppState) -> (Result<(), String>, DatabaseHealth) {
    let started = Instant::now();
    let result = match tokio::time::timeout(PING_TIMEOUT, state.store.ping()).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(error)) => Err(format!("the database did not answer: {error}")),
        Err(_) => Err(format!(
            "the database did not answer within {} s",
            PING_TIMEOUT.as_secs()
        )),
    };
    let latency_ms = started.elapsed().as_secs_f64() * 1000.0;
    metrics::histogram!("db_ping_duration_seconds").record(latency_ms / 1000.0);
    let database = DatabaseHealth {
        status: if result.is_ok() { "up" } else { "down" },
        backend: state.store.backend().as_str(),
        latency_ms,
    };
    (result, database)
}

fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// Whether the service and its database answer.
#[utoipa::path(get, path = "/health/", tag = "health",
    responses((status = 200, body = HealthResponse), (status = 503, description = "The database does not answer", body = HealthResponse)))]
async fn health(State(state): State<AppState>) -> Response {
    let (result, database) = ping(&state).await;
    let error = result.as_ref().err().map(|message| {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            ErrorCode::DatabaseUnavailable,
            message.clone(),
        )
        .envelope()
        .error
    });
    let body = HealthResponse {
        status: if result.is_ok() {
            "healthy"
        } else {
            "unhealthy"
        },
        timestamp: now(),
        version: env!("CARGO_PKG_VERSION"),
        environment: state.config.environment.as_str(),
        app_version: state.config.app_version.clone(),
        database,
        error,
    };
    let status = if result.is_ok() {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, Json(body)).into_response()
}

/// Body of `/api/v1/health/ready`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReadyResponse {
    /// `ready` or `not_ready`.
    pub status: &'static str,
    /// When this answer was made.
    pub timestamp: String,
    /// The server build's version.
    pub version: &'static str,
    /// `development`, `dev` or `prod`.
    pub environment: &'static str,
    /// The deployed release.
    pub app_version: String,
    /// Each condition of readiness.
    pub checks: ReadyChecks,
    /// Present when not ready: why.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorBody>,
}

/// The conditions `/ready` checks.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReadyChecks {
    /// `up` or `down`.
    pub database: &'static str,
    /// The schema verdict in words.
    pub schema: String,
    /// True once shutdown has begun.
    pub draining: bool,
}

/// Whether this instance should get traffic: database up, schema current, not draining.
#[utoipa::path(get, path = "/health/ready", tag = "health",
    responses((status = 200, body = ReadyResponse), (status = 503, body = ReadyResponse)))]
async fn ready(State(state): State<AppState>) -> Response {
    let draining = state.lifecycle.is_draining();
    let (db, database) = ping(&state).await;
    let schema = if db.is_ok() {
        match state.store.schema_status().await {
            Ok(status) => {
                let verdict = status.verdict();
                (verdict.is_servable(), verdict.explain())
            }
            Err(error) => (false, format!("cannot read the schema status: {error}")),
        }
    } else {
        (false, "unknown: the database is down".to_owned())
    };
    let reason = if draining {
        Some("the instance is shutting down".to_owned())
    } else if let Err(message) = &db {
        Some(message.clone())
    } else if !schema.0 {
        Some(schema.1.clone())
    } else {
        None
    };
    let body = ReadyResponse {
        status: if reason.is_none() {
            "ready"
        } else {
            "not_ready"
        },
        timestamp: now(),
        version: env!("CARGO_PKG_VERSION"),
        environment: state.config.environment.as_str(),
        app_version: state.config.app_version.clone(),
        checks: ReadyChecks {
            database: database.status,
            schema: schema.1,
            draining,
        },
        error: reason.clone().map(|message| {
            ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                ErrorCode::NotReady,
                message,
            )
            .envelope()
            .error
        }),
    };
    let status = if reason.is_none() {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, Json(body)).into_response()
}

/// Body of `/api/v1/health/live`.
#[derive(Debug, Serialize, ToSchema)]
pub struct LiveResponse {
    /// Always `alive`.
    pub status: &'static str,
    /// When this answer was made.
    pub timestamp: String,
    /// The server build's version.
    pub version: &'static str,
    /// The deployed release.
    pub app_version: String,
    /// Seconds since the app started.
    pub uptime_seconds: f64,
}

/// Whether the process serves at all.
#[utoipa::path(get, path = "/health/live", tag = "health", responses((status = 200, body = LiveResponse)))]
async fn live(State(state): State<AppState>) -> Json<LiveResponse> {
    Json(LiveResponse {
        status: "alive",
        timestamp: now(),
        version: env!("CARGO_PKG_VERSION"),
        app_version: state.config.app_version.clone(),
        uptime_seconds: state.lifecycle.uptime_seconds(),
    })
}
