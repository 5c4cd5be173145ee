//! Report endpoints: the session summary and the exports (CSV, JSON), organizer-only.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::views::SessionResponse;
use crate::http::error::{ApiError, ErrorEnvelope};
use crate::http::extract::{AppPath, HostAuth};
use crate::http::state::AppState;
use crate::ids::SessionId;
use crate::model::activity::Activity;
use crate::reports::{self, Report, Summary};
use crate::sessions::{self};

/// The report routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(session_summary))
        .routes(routes!(export_csv))
        .routes(routes!(export_xlsx))
        .routes(routes!(export_json))
}

/// The organizer's session and its report.
pub async fn report(
    state: &AppState,
    auth: &HostAuth,
    id: SessionId,
) -> Result<(crate::model::session::Session, Report), ApiError> {
    let session = sessions::owned(state.store.as_ref(), &auth.0.organizer, id).await?;
    let report = reports::build(&state.live, &session).await?;
    Ok((session, report))
}

/// The summary with its session.
#[derive(Debug, Serialize, ToSchema)]
pub struct SummaryResponse {
    /// The session.
    pub session: SessionResponse,
    /// Participants and per-activity participation and results.
    #[serde(flatten)]
    pub summary: Summary,
}

/// Participants, and per activity and round the participation rate and results.
#[utoipa::path(get, path = "/sessions/{id}/summary", tag = "reports", params(("id" = SessionId, Path)),
    responses((status = 200, body = SummaryResponse), (status = 404, body = ErrorEnvelope)))]
async fn session_summary(
    State(state): State<AppState>,
    auth: HostAuth,
    AppPath(id): AppPath<SessionId>,
) -> Result<Json<SummaryResponse>, ApiError> {
    let (session, report) = report(&state, &auth, id).await?;
    Ok(Json(SummaryResponse {
        session: SessionResponse::new(session, &state.public_base_url),
        summary: report.summary,
    }))
}

/// A CSV file to save as `name`, or the error of writing it (a 500, logged).
pub fn csv_file(name: &str, body: Result<Vec<u8>, csv::Error>) -> Result<Response, ApiError> {
    // Every CSV download starts with the UTF-8 byte-order mark, so Excel reads umlauts and
    // emoji as they are.
    let mut body = body.map_err(|e| ApiError::internal(&e))?;
    body.splice(0..0, reports::UTF8_BOM.iter().copied());
    Ok((
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/csv; charset=utf-8"),
            ),
            (header::CONTENT_DISPOSITION, attachment(name)),
        ],
        body,
    )
        .into_response())
}

/// A `Content-Disposition` that saves the body under `name`.
pub fn attachment(name: &str) -> HeaderValue {
    HeaderValue::from_str(&format!("attachment; filename=\"{name}\""))
        .unwrap_or_else(|_| HeaderValue::from_static("attachment"))
}

/// Every response as CSV (one row per answer, with activity and nickname).
#[utoipa::path(get, path = "/sessions/{id}/export.csv", tag = "reports", params(("id" = SessionId, Path)),
    responses((status = 200, content_type = "text/csv", body = String), (status = 404, body = ErrorEnvelope)))]
async fn export_csv(
    State(state): State<AppState>,
    auth: HostAuth,
    AppPath(id): AppPath<SessionId>,
) -> Result<Response, ApiError> {
    let (session, report) = report(&state, &auth, id).await?;
    csv_file(
        &format!("conflicto-{}.csv", session.join_code),
        reports::to_csv(&report, &state.live.registry),
    )
}

/// The session as a spreadsheet: a summary sheet, the participants, and a sheet per
/// activity with one row per answer in the kind's columns.
#[utoipa::path(get, path = "/sessions/{id}/export.xlsx", tag = "reports", params(("id" = SessionId, Path)),
    responses((status = 200, content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", body = Vec<u8>), (status = 404, body = ErrorEnvelope)))]
async fn export_xlsx(
    State(state): State<AppState>,
    auth: HostAuth,
    AppPath(id): AppPath<SessionId>,
) -> Result<Response, ApiError> {
    let (session, report) = report(&state, &auth, id).await?;
    let body = reports::xlsx::to_xlsx(&session, &report, &state.live.registry)
        .map_err(|e| ApiError::internal(&e))?;
    Ok((
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static(
                    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                ),
            ),
            (
                header::CONTENT_DISPOSITION,
                attachment(&format!("conflicto-{}.xlsx", session.join_code)),
            ),
        ],
        body,
    )
        .into_response())
}

/// The whole session as JSON.
#[derive(Debug, Serialize, ToSchema)]
pub struct SessionExport {
    /// Format version of this document.
    pub format: &'static str,
    /// The session.
    pub session: SessionResponse,
    /// Its activities.
    pub activities: Vec<Activity>,
    /// The summary.
    pub summary: Summary,
    /// Every participant.
    #[schema(value_type = Vec<Object>)]
    pub participants: Vec<Value>,
    /// Every response.
    #[schema(value_type = Vec<Object>)]
    pub responses: Vec<Value>,
}

/// The whole session as one JSON document: session, activities, summary, participants and
/// every response.
#[utoipa::path(get, path = "/sessions/{id}/export.json", tag = "reports", params(("id" = SessionId, Path)),
    responses((status = 200, body = SessionExport), (status = 404, body = ErrorEnvelope)))]
async fn export_json(
    State(state): State<AppState>,
    auth: HostAuth,
    AppPath(id): AppPath<SessionId>,
) -> Result<Response, ApiError> {
    let (session, report) = report(&state, &auth, id).await?;
    let filename = format!("conflicto-{}.json", session.join_code);
    let export = SessionExport {
        format: "conflicto.session-export/1",
        session: SessionResponse::new(session, &state.public_base_url),
        activities: report.activities,
        summary: report.summary,
        participants: report
            .participants
            .iter()
            .map(|p| {
                serde_json::json!({
                    "id": p.id, "nickname": p.nickname.as_str(), "status": p.status,
                    "joined_at": p.joined_at, "last_seen_at": p.last_seen_at,
                })
            })
            .collect(),
        responses: report
            .responses
            .iter()
            .map(|r| {
                serde_json::json!({
                    "id": r.id, "activity_id": r.activity_id, "participant_id": r.participant_id,
                    "round": r.round, "slot": r.slot,
                    "answer": serde_json::from_str::<Value>(&r.answer).unwrap_or(Value::Null),
                    "created_at": r.created_at, "updated_at": r.updated_at,
                    // null for answers stored before migration 0008.
                    "answer_ms": r.answer_ms,
                })
            })
            .collect(),
    };
    Ok((
        [(header::CONTENT_DISPOSITION, attachment(&filename))],
        Json(export),
    )
        .into_response())
}
