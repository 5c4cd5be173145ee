//! Health endpoints for load balancers, containers and pipelines (product.md section 6):
//! `/health/` answers whether the database does, `/health/ready` whether this instance
//! should get traffic right now, `/health/live` whether the process serves and can serve
//! the schema it last saw. Load balancers that replace what they mark unhealthy (the ALB
//! with ECS) check `/live`, so a database failover does not recycle every instance
//! (docs/decisions/0020-liveness-for-the-load-balancer.md).

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use tokio_util::sync::CancellationToken;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::http::error::{ApiError, ErrorBody, ErrorCode};
use crate::http::state::{AppState, Lifecycle, SchemaSeen};
use crate::storage::Store;

/// How long the database gets to answer a health ping.
const PING_TIMEOUT: Duration = Duration::from_secs(2);

/// How often every instance re-reads the schema verdict that `/live` answers from: the
/// ALB's check interval, so a schema this release cannot serve takes it out within about
/// three intervals (this read, then two failed checks).
pub const SCHEMA_RECHECK: Duration = Duration::from_secs(10);

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

/// Reads the schema verdict and records it for `/live`. A database that does not answer
/// leaves the last verdict in place.
async fn read_schema(store: &dyn Store, lifecycle: &Lifecycle) -> Result<SchemaSeen, String> {
    let status = match tokio::time::timeout(PING_TIMEOUT, store.schema_status()).await {
        Ok(Ok(status)) => status,
        Ok(Err(error)) => return Err(format!("cannot read the schema status: {error}")),
        Err(_) => {
            return Err(format!(
                "cannot read the schema status within {} s",
                PING_TIMEOUT.as_secs()
            ));
        }
    };
    let verdict = status.verdict();
    let seen = SchemaSeen {
        servable: verdict.is_servable(),
        explained: verdict.explain(),
    };
    lifecycle.note_schema(seen.clone());
    Ok(seen)
}

/// Re-reads the schema verdict every [`SCHEMA_RECHECK`] until `stop`, so `/live` notices a
/// schema migrated or reverted under a running instance even when nothing calls `/ready`.
pub fn start_schema_watch(
    store: Arc<dyn Store>,
    lifecycle: Arc<Lifecycle>,
    stop: CancellationToken,
) {
    tokio::spawn(async move {
        // Start-up has just accepted the schema: the first read is one period on.
        let mut every =
            tokio::time::interval_at(tokio::time::Instant::now() + SCHEMA_RECHECK, SCHEMA_RECHECK);
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                () = stop.cancelled() => return,
                _ = every.tick() => {}
            }
            if let Err(message) = read_schema(store.as_ref(), &lifecycle).await {
                tracing::debug!("schema watch: {message}; keeping the last verdict");
            }
        }
    });
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
        match read_schema(state.store.as_ref(), &state.lifecycle).await {
            Ok(seen) => (seen.servable, seen.explained),
            Err(message) => (false, message),
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
    /// `alive`, or `refusing` once this instance has read a schema it cannot serve.
    pub status: &'static str,
    /// When this answer was made.
    pub timestamp: String,
    /// The server build's version.
    pub version: &'static str,
    /// The deployed release.
    pub app_version: String,
    /// Seconds since the app started.
    pub uptime_seconds: f64,
    /// The latest schema verdict this instance read, in words; it stays while the database
    /// is away.
    pub schema: String,
    /// Present when refusing: why.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorBody>,
}

/// Whether the process serves and can serve the schema it last read. It does not ask the
/// database, so it stays 200 through a database failover; it turns 503 only for a schema
/// this release cannot run on, which no waiting will fix.
#[utoipa::path(get, path = "/health/live", tag = "health",
    responses((status = 200, body = LiveResponse), (status = 503, description = "The schema this instance last read is one it cannot serve", body = LiveResponse)))]
async fn live(State(state): State<AppState>) -> Response {
    let seen = state.lifecycle.schema_seen();
    let body = LiveResponse {
        status: if seen.servable { "alive" } else { "refusing" },
        timestamp: now(),
        version: env!("CARGO_PKG_VERSION"),
        app_version: state.config.app_version.clone(),
        uptime_seconds: state.lifecycle.uptime_seconds(),
        error: (!seen.servable).then(|| {
            ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                ErrorCode::SchemaIncompatible,
                seen.explained.clone(),
            )
            .envelope()
            .error
        }),
        schema: seen.explained,
    };
    let status = if seen.servable {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, Json(body)).into_response()
}
