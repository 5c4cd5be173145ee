//! Session endpoints: CRUD for organizers, the public lookup by join code, and the status
//! endpoint phones poll when they cannot hold a live stream.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use bytes::Bytes;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::views::SessionResponse;
use crate::activities;
use crate::http::error::{ApiError, ErrorCode, ErrorEnvelope};
use crate::http::extract::{AnyAuth, AppJson, AppPath, AppQuery, ClientIp, HostAuth, Paging};
use crate::http::state::AppState;
use crate::ids::SessionId;
use crate::model::activity::Activity;
use crate::model::join_code::JoinCode;
use crate::model::session::{Hours, Pace, Session, SessionSettings, SessionStatus, Teams};
use crate::realtime::PreparedStatus;
use crate::realtime::events::{ActivityView, Audience};
use crate::session_templates::{self, definition::Definition};
use crate::sessions::{self, NewSession, SessionChanges, SessionError};

/// The session routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_session, list_sessions))
        .routes(routes!(get_session, update_session, delete_session))
        .routes(routes!(session_by_code))
        .routes(routes!(session_status))
        .routes(routes!(import_session))
        .routes(routes!(session_definition))
        .routes(routes!(anonymize_session))
}

/// Removes a completed session's participants' nicknames and free text now, as the
/// retention period would later: nicknames become "Participant 1", "Participant 2", … in
/// join order, typed texts become "[removed]", and every count stays. Doing it again
/// changes nothing.
#[utoipa::path(post, path = "/sessions/{id}/anonymize", tag = "sessions", params(("id" = SessionId, Path)),
    responses((status = 200, body = SessionResponse), (status = 404, body = ErrorEnvelope),
        (status = 409, description = "The session is not completed", body = ErrorEnvelope)))]
async fn anonymize_session(
    State(state): State<AppState>,
    HostAuth(auth): HostAuth,
    AppPath(id): AppPath<SessionId>,
) -> Result<Json<SessionResponse>, ApiError> {
    let store = state.store.as_ref();
    let session = sessions::owned(store, &auth.organizer, id).await?;
    sessions::retention::anonymize(
        store,
        &state.registry,
        &state.live.tallies,
        &session,
        Utc::now(),
    )
    .await?;
    let session = sessions::owned(store, &auth.organizer, id).await?;
    Ok(Json(SessionResponse::new(session, &state.public_base_url)))
}

/// Makes a draft session from a definition document (docs/templates.md); its variants, if
/// any, are not used.
#[utoipa::path(post, path = "/sessions/import", tag = "sessions", request_body = Definition,
    responses((status = 201, body = SessionResponse),
        (status = 422, description = "Invalid; `details.field` names the field at fault", body = ErrorEnvelope)))]
async fn import_session(
    State(state): State<AppState>,
    HostAuth(auth): HostAuth,
    AppJson(document): AppJson<serde_json::Value>,
) -> Result<(StatusCode, Json<SessionResponse>), ApiError> {
    let session = session_templates::import_session(
        state.store.as_ref(),
        &state.registry,
        &auth.organizer,
        document,
        state.config.session_participant_limit,
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(SessionResponse::new(session, &state.public_base_url)),
    ))
}

/// Exports a session as a definition document: its title, settings and activities with
/// their keys, ready for `POST /sessions/import` or a template version.
#[utoipa::path(get, path = "/sessions/{id}/definition", tag = "sessions", params(("id" = SessionId, Path)),
    responses((status = 200, body = Definition), (status = 404, body = ErrorEnvelope)))]
async fn session_definition(
    State(state): State<AppState>,
    HostAuth(auth): HostAuth,
    AppPath(id): AppPath<SessionId>,
) -> Result<Json<Definition>, ApiError> {
    let session = sessions::owned(state.store.as_ref(), &auth.organizer, id).await?;
    Ok(Json(
        session_templates::export_session(state.store.as_ref(), &session).await?,
    ))
}

/// A new session.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateSessionRequest {
    /// 1–200 characters.
    #[schema(min_length = 1, max_length = 200)]
    pub title: String,
    /// Up to 2000 characters.
    #[schema(max_length = 2000)]
    pub description: Option<String>,
    /// Capacity (default 1000, at most the server's limit: `SESSION_PARTICIPANT_LIMIT`,
    /// 50,000 unless configured).
    #[schema(minimum = 1, maximum = 50000)]
    pub max_participants: Option<u32>,
    /// Switches (defaults: late join on, nickname required, profanity filter off).
    #[serde(default, deserialize_with = "crate::model::json::object")]
    pub settings: Option<SessionSettings>,
    /// `live` (default): the presenter paces it; `self_paced`: each participant goes
    /// through the activities alone.
    pub pace: Option<Pace>,
    /// A self-paced session's opening and closing times.
    #[serde(default, deserialize_with = "crate::model::json::object")]
    pub hours: Option<Hours>,
    /// Teams for quizzes and buzzers: 2–12 names, picked at join or dealt out.
    #[serde(default, deserialize_with = "crate::model::json::object")]
    pub teams: Option<Teams>,
}

/// Creates a draft session with a fresh join code.
#[utoipa::path(post, path = "/sessions/", tag = "sessions", request_body = CreateSessionRequest,
    responses((status = 201, body = SessionResponse), (status = 401, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
async fn create_session(
    State(state): State<AppState>,
    HostAuth(auth): HostAuth,
    AppJson(request): AppJson<CreateSessionRequest>,
) -> Result<(StatusCode, Json<SessionResponse>), ApiError> {
    let new = NewSession {
        title: request.title,
        description: request.description,
        max_participants: request.max_participants,
        settings: request.settings,
        pace: request.pace,
        hours: request.hours,
        teams: request.teams,
    };
    let session = sessions::create(
        state.store.as_ref(),
        &auth.organizer,
        new,
        state.config.session_participant_limit,
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(SessionResponse::new(session, &state.public_base_url)),
    ))
}

/// Filters for the session list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SessionFilter {
    /// Only sessions with this status.
    pub status: Option<SessionStatus>,
}

/// A page of sessions.
#[derive(Debug, Serialize, ToSchema)]
pub struct SessionList {
    /// The sessions on this page, newest first.
    pub items: Vec<SessionResponse>,
    /// All matching sessions, across pages.
    pub total: i64,
    /// This page.
    pub page: u32,
    /// Page size.
    pub per_page: u32,
}

/// Lists the organizer's sessions (every session for an admin), newest first.
#[utoipa::path(get, path = "/sessions/", tag = "sessions", params(Paging, SessionFilter),
    responses((status = 200, body = SessionList), (status = 401, body = ErrorEnvelope)))]
async fn list_sessions(
    State(state): State<AppState>,
    HostAuth(auth): HostAuth,
    AppQuery(paging): AppQuery<Paging>,
    AppQuery(filter): AppQuery<SessionFilter>,
) -> Result<Json<SessionList>, ApiError> {
    let paging = paging.checked()?;
    let (items, total) = sessions::list(
        state.store.as_ref(),
        &auth.organizer,
        filter.status,
        paging.page,
        paging.per_page,
    )
    .await?;
    Ok(Json(SessionList {
        items: items
            .into_iter()
            .map(|s| SessionResponse::new(s, &state.public_base_url))
            .collect(),
        total,
        page: paging.page,
        per_page: paging.per_page,
    }))
}

/// A session with its activities.
#[derive(Debug, Serialize, ToSchema)]
pub struct SessionDetail {
    /// The session.
    #[serde(flatten)]
    pub session: SessionResponse,
    /// Its activities in order.
    pub activities: Vec<Activity>,
}

/// One session with its activities.
#[utoipa::path(get, path = "/sessions/{id}", tag = "sessions", params(("id" = SessionId, Path)),
    responses((status = 200, body = SessionDetail), (status = 404, body = ErrorEnvelope)))]
async fn get_session(
    State(state): State<AppState>,
    HostAuth(auth): HostAuth,
    AppPath(id): AppPath<SessionId>,
) -> Result<Json<SessionDetail>, ApiError> {
    let session = sessions::owned(state.store.as_ref(), &auth.organizer, id).await?;
    let activities = state.store.activities_of(session.id).await?;
    Ok(Json(SessionDetail {
        session: SessionResponse::new(session, &state.public_base_url),
        activities,
    }))
}

/// Changes to a session; absent fields stay as they are.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateSessionRequest {
    /// New title.
    #[schema(min_length = 1, max_length = 200)]
    pub title: Option<String>,
    /// New description.
    #[schema(max_length = 2000)]
    pub description: Option<String>,
    /// New capacity (at most the server's limit, 50,000 unless configured).
    #[schema(minimum = 1, maximum = 50000)]
    pub max_participants: Option<u32>,
    /// New switches.
    #[serde(default, deserialize_with = "crate::model::json::object")]
    pub settings: Option<SessionSettings>,
    /// `active` opens the session, `completed` ends it.
    pub status: Option<SessionStatus>,
    /// Switch between `live` and `self_paced`, also while it runs.
    pub pace: Option<Pace>,
    /// New opening and closing times (both replaced; null removes one).
    #[serde(default, deserialize_with = "crate::model::json::object")]
    pub hours: Option<Hours>,
    /// New teams; `{"names": []}` removes them. People who joined keep their team number.
    #[serde(default, deserialize_with = "crate::model::json::object")]
    pub teams: Option<Teams>,
}

/// Edits a session, or moves it draft → active → completed.
#[utoipa::path(patch, path = "/sessions/{id}", tag = "sessions", params(("id" = SessionId, Path)), request_body = UpdateSessionRequest,
    responses(
        (status = 200, body = SessionResponse),
        (status = 404, body = ErrorEnvelope),
        (status = 409, description = "Not an allowed transition, or the session is completed", body = ErrorEnvelope),
        (status = 422, body = ErrorEnvelope),
    ))]
async fn update_session(
    State(state): State<AppState>,
    HostAuth(auth): HostAuth,
    AppPath(id): AppPath<SessionId>,
    AppJson(request): AppJson<UpdateSessionRequest>,
) -> Result<Json<SessionResponse>, ApiError> {
    let session = sessions::owned(state.store.as_ref(), &auth.organizer, id).await?;
    if request.status == Some(SessionStatus::Completed) && session.status == SessionStatus::Active {
        // Ending a session closes its running activity first, so no answer lands after the end.
        activities::close_running(&state.live, &session).await?;
    }
    let changes = SessionChanges {
        title: request.title,
        description: request.description,
        max_participants: request.max_participants,
        settings: request.settings,
        status: request.status,
        pace: request.pace,
        hours: request.hours,
        teams: request.teams,
    };
    let session = sessions::update(
        state.store.as_ref(),
        state.live.as_ref(),
        session,
        changes,
        state.config.session_participant_limit,
    )
    .await?;
    Ok(Json(SessionResponse::new(session, &state.public_base_url)))
}

/// Deletes a session with everything in it.
#[utoipa::path(delete, path = "/sessions/{id}", tag = "sessions", params(("id" = SessionId, Path)),
    responses((status = 204, description = "Deleted"), (status = 404, body = ErrorEnvelope)))]
async fn delete_session(
    State(state): State<AppState>,
    HostAuth(auth): HostAuth,
    AppPath(id): AppPath<SessionId>,
) -> Result<StatusCode, ApiError> {
    let session = sessions::owned(state.store.as_ref(), &auth.organizer, id).await?;
    for activity in state.store.activities_of(session.id).await? {
        state.live.tallies.forget(activity.id);
    }
    sessions::delete(state.store.as_ref(), &session).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// What a joining phone learns from a code: nothing secret.
#[derive(Debug, Serialize, ToSchema)]
pub struct PublicSession {
    /// The session id, to join with.
    pub id: SessionId,
    /// Title.
    pub title: String,
    /// Draft or active (completed sessions are not found by code).
    pub status: SessionStatus,
    /// The code, normalised.
    pub join_code: String,
    /// Whether joining would work now.
    pub joinable: bool,
    /// Why not, when it would not.
    pub reason: Option<String>,
    /// Whether a nickname must be typed.
    pub require_nickname: bool,
    /// The teams (the phone shows its own; with `assign` `choose` a joiner picks one);
    /// null when there are none.
    pub teams: Option<Teams>,
}

impl PublicSession {
    /// The public view of a session.
    pub fn new(session: &Session) -> Self {
        let reason = match session.status {
            SessionStatus::Draft => Some("the session has not started yet"),
            SessionStatus::Completed => Some("the session has ended"),
            SessionStatus::Active if session.participant_count >= session.max_participants => {
                Some("the session is full")
            }
            SessionStatus::Active => None,
        };
        Self {
            id: session.id,
            title: session.title.clone(),
            status: session.status,
            join_code: session.join_code.as_str().to_owned(),
            joinable: reason.is_none(),
            reason: reason.map(str::to_owned),
            require_nickname: session.settings.require_nickname,
            teams: session.teams.clone(),
        }
    }
}

/// The open session a typed join code names, spending the address's budget of failed
/// lookups on a miss. A malformed code names no session and is no guess at one, so it
/// costs nothing.
pub(super) async fn open_session_by_code(
    state: &AppState,
    ip: std::net::IpAddr,
    raw: &str,
) -> Result<Option<Session>, ApiError> {
    if JoinCode::parse(raw).is_none() {
        return Ok(None);
    }
    state.limits.code_lookup(ip)?;
    match sessions::by_code(state.store.as_ref(), raw).await {
        Ok(session) => Ok(Some(session)),
        Err(SessionError::NotFound) => {
            state.limits.code_missed(ip)?;
            // A code whose session ended lately (a QR code still on a slide) says so.
            match sessions::ended_by_code(state.store.as_ref(), raw).await? {
                Some(ended) => Err(ApiError::new(
                    StatusCode::GONE,
                    ErrorCode::SessionEnded,
                    "this session has ended",
                )
                .with_details(serde_json::json!({ "title": ended.title }))),
                None => Ok(None),
            }
        }
        Err(other) => Err(other.into()),
    }
}

/// Finds an open session by its join code (case-insensitive; spaces and dashes ignored).
#[utoipa::path(get, path = "/sessions/code/{code}", tag = "sessions", params(("code" = String, Path, description = "Join code")),
    responses((status = 200, body = PublicSession), (status = 404, body = ErrorEnvelope),
        (status = 410, description = "The session with this code ended lately; `details.title` names it", body = ErrorEnvelope),
        (status = 429, description = "Too many codes from this address named no session", body = ErrorEnvelope)))]
async fn session_by_code(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    AppPath(code): AppPath<String>,
) -> Result<Json<PublicSession>, ApiError> {
    let session = open_session_by_code(&state, ip, &code)
        .await?
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::NOT_FOUND,
                ErrorCode::SessionNotFound,
                "no open session has this code",
            )
        })?;
    Ok(Json(PublicSession::new(&session)))
}

/// The polling fallback: everything a phone or screen needs to show the session now.
#[derive(Debug, Serialize, ToSchema)]
pub struct SessionStatusResponse {
    /// The session's state, prepared once per change.
    #[serde(flatten)]
    pub state: SessionState,
    /// The server's clock, to show deadlines right on any phone.
    pub server_time: DateTime<Utc>,
}

/// What the status tells, without the clock.
#[derive(Debug, Serialize, ToSchema)]
pub struct SessionState {
    /// The session.
    pub session_id: SessionId,
    /// Title.
    pub title: String,
    /// Draft, active or completed.
    pub status: SessionStatus,
    /// Active participants.
    pub participant_count: u32,
    /// The running activity, or else the one closed last; null before the first.
    pub current_activity: Option<ActivityView>,
}

/// The session's state, for clients that poll instead of holding a live stream.
/// Served from a body prepared once per change, with a weak `ETag`: a repeated read with
/// `If-None-Match` gets `304 Not Modified`.
#[utoipa::path(get, path = "/sessions/{id}/status", tag = "sessions",
    params(("id" = SessionId, Path), ("If-None-Match" = Option<String>, Header, description = "The ETag of a copy already held")),
    responses((status = 200, body = SessionStatusResponse, headers(("ETag" = String))), (status = 304, description = "The copy held is current"),
        (status = 401, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)))]
async fn session_status(
    State(state): State<AppState>,
    headers: HeaderMap,
    auth: AnyAuth,
    AppPath(id): AppPath<SessionId>,
) -> Result<Response, ApiError> {
    let audience = match &auth {
        AnyAuth::Organizer(organizer) => {
            sessions::owned(state.store.as_ref(), &organizer.organizer, id).await?;
            Audience::Organizer
        }
        AnyAuth::Participant(participant) if participant.session_id == id => Audience::Participant,
        AnyAuth::Participant(_) => return Err(SessionError::NotFound.into()),
    };
    // Built once per change of the session, its activities or its participants, and then
    // served from bytes; the clock is added to each reply.
    let load = async || {
        let state = session_state(&state, id, audience).await?;
        Ok::<_, ApiError>(state.map(|state| PreparedStatus::new(&state)))
    };
    let prepared = state
        .hub
        .status(id, audience, load)
        .await?
        .ok_or(SessionError::NotFound)?;
    Ok(crate::http::prepared::prepared_json(
        &headers,
        &prepared.etag,
        || Bytes::from(crate::realtime::events::with_clock(&prepared.open)),
    ))
}

/// The session's state for the status, or `None` when the session is gone: from the same
/// prepared base as a new stream's snapshot, so the two reads share one trip to storage.
async fn session_state(
    state: &AppState,
    id: SessionId,
    audience: Audience,
) -> Result<Option<SessionState>, ApiError> {
    let Some(base) = state.hub.snapshot_base(&state.live, id, audience).await? else {
        return Ok(None);
    };
    let current_activity = base
        .current()
        .map(|activity| ActivityView::new(activity, &state.registry, audience))
        .transpose()?;
    let session = &base.session;
    Ok(Some(SessionState {
        session_id: session.id,
        title: session.title.clone(),
        status: session.status,
        participant_count: session.participant_count,
        current_activity,
    }))
}
