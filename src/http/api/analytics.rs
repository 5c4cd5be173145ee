//! Analytics endpoints: one session's attendance, participation, time to answer, reactions
//! and questions; an organizer's history of events; two runs side by side. Each is also a
//! CSV file. Organizer-only, like the reports they are computed from.

use axum::Json;
use axum::extract::State;
use axum::response::Response;
use chrono::Utc;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::reports::{csv_file, report};
use crate::http::error::{ApiError, ErrorEnvelope};
use crate::http::extract::{AppPath, AppQuery, HostAuth};
use crate::http::state::AppState;
use crate::ids::SessionId;
use crate::reports::analytics::{self, Comparison, EventEngagement, SessionAnalytics};

/// Events in the history at most.
const HISTORY_MAX: i64 = 500;

/// The analytics routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(session_analytics))
        .routes(routes!(session_analytics_csv))
        .routes(routes!(history))
        .routes(routes!(history_csv))
        .routes(routes!(compare))
        .routes(routes!(compare_csv))
}

async fn of_session(
    state: &AppState,
    auth: &HostAuth,
    id: SessionId,
) -> Result<SessionAnalytics, ApiError> {
    let (session, report) = report(state, auth, id).await?;
    let reactions = state.store.reaction_minutes(session.id).await?;
    Ok(analytics::of_session(
        &state.registry,
        &session,
        &report,
        &reactions,
        Utc::now(),
    ))
}

/// Attendance over time (joins, people present, peak and average), answers and reactions
/// over time, each activity's participation and time to answer, reactions per emoji and
/// the questions asked.
#[utoipa::path(get, path = "/sessions/{id}/analytics", tag = "analytics", params(("id" = SessionId, Path)),
    responses((status = 200, body = SessionAnalytics), (status = 404, body = ErrorEnvelope)))]
async fn session_analytics(
    State(state): State<AppState>,
    auth: HostAuth,
    AppPath(id): AppPath<SessionId>,
) -> Result<Json<SessionAnalytics>, ApiError> {
    Ok(Json(of_session(&state, &auth, id).await?))
}

/// One table of a session's analytics as CSV: `timeline.csv`, `activities.csv`,
/// `questions.csv` or `reactions.csv`.
#[utoipa::path(get, path = "/sessions/{id}/analytics/{table}", tag = "analytics",
    params(("id" = SessionId, Path), ("table" = String, Path, description = "timeline.csv, activities.csv, questions.csv or reactions.csv")),
    responses((status = 200, content_type = "text/csv", body = String), (status = 404, body = ErrorEnvelope)))]
async fn session_analytics_csv(
    State(state): State<AppState>,
    auth: HostAuth,
    AppPath((id, table)): AppPath<(SessionId, String)>,
) -> Result<Response, ApiError> {
    let unknown = || {
        ApiError::not_found(
            "no such table; use timeline.csv, activities.csv, questions.csv or reactions.csv",
        )
    };
    let name = table.strip_suffix(".csv").ok_or_else(unknown)?;
    if !["timeline", "activities", "questions", "reactions"].contains(&name) {
        return Err(unknown());
    }
    let analytics = of_session(&state, &auth, id).await?;
    let body = analytics::session_csv(&analytics, name).ok_or_else(unknown)?;
    csv_file(&format!("conflicto-{id}-{name}.csv"), body)
}

/// An organizer's events.
#[derive(Debug, Serialize, ToSchema)]
pub struct History {
    /// Oldest first, the latest 500 at most.
    pub items: Vec<EventEngagement>,
}

async fn events(state: &AppState, auth: &HostAuth) -> Result<Vec<EventEngagement>, ApiError> {
    let organizer = &auth.0.organizer;
    let owner = (!organizer.is_admin).then_some(organizer.id);
    let mut items: Vec<EventEngagement> = state
        .store
        .session_engagement(owner, HISTORY_MAX)
        .await?
        .into_iter()
        .map(EventEngagement::from)
        .collect();
    items.reverse();
    Ok(items)
}

/// Engagement per event over time: your sessions (every session for an admin), oldest
/// first, with participants, the share who answered, answers, activities and reactions.
#[utoipa::path(get, path = "/analytics/sessions", tag = "analytics",
    responses((status = 200, body = History), (status = 401, body = ErrorEnvelope)))]
async fn history(State(state): State<AppState>, auth: HostAuth) -> Result<Json<History>, ApiError> {
    Ok(Json(History {
        items: events(&state, &auth).await?,
    }))
}

/// The history as CSV, one event per row.
#[utoipa::path(get, path = "/analytics/sessions.csv", tag = "analytics",
    responses((status = 200, content_type = "text/csv", body = String), (status = 401, body = ErrorEnvelope)))]
async fn history_csv(State(state): State<AppState>, auth: HostAuth) -> Result<Response, ApiError> {
    let items = events(&state, &auth).await?;
    csv_file("conflicto-history.csv", analytics::history_csv(&items))
}

/// The two runs to compare.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CompareQuery {
    /// The first session.
    pub a: SessionId,
    /// The second session.
    pub b: SessionId,
}

async fn comparison(
    state: &AppState,
    auth: &HostAuth,
    query: &CompareQuery,
) -> Result<Comparison, ApiError> {
    let a = of_session(state, auth, query.a).await?;
    let b = of_session(state, auth, query.b).await?;
    Ok(analytics::compare(a, b))
}

/// Two runs side by side (typically two sessions made from the same template version),
/// activity by activity, matched by template key.
#[utoipa::path(get, path = "/analytics/compare", tag = "analytics", params(CompareQuery),
    responses((status = 200, body = Comparison), (status = 400, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)))]
async fn compare(
    State(state): State<AppState>,
    auth: HostAuth,
    AppQuery(query): AppQuery<CompareQuery>,
) -> Result<Json<Comparison>, ApiError> {
    Ok(Json(comparison(&state, &auth, &query).await?))
}

/// The comparison as CSV, one activity per row with both runs' figures.
#[utoipa::path(get, path = "/analytics/compare.csv", tag = "analytics", params(CompareQuery),
    responses((status = 200, content_type = "text/csv", body = String), (status = 400, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)))]
async fn compare_csv(
    State(state): State<AppState>,
    auth: HostAuth,
    AppQuery(query): AppQuery<CompareQuery>,
) -> Result<Response, ApiError> {
    let comparison = comparison(&state, &auth, &query).await?;
    csv_file(
        &format!("conflicto-compare-{}-{}.csv", query.a, query.b),
        analytics::comparison_csv(&comparison),
    )
}
