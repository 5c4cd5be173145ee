//! Participant endpoints: join (by session id or join code), nickname check, heartbeat,
//! "who am I" for rejoining, and the organizer's list with presence, remove and ban.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::sessions::PublicSession;
use crate::http::error::{ApiError, ErrorCode, ErrorEnvelope};
use crate::http::extract::{
    AppJson, AppPath, AppQuery, ClientIp, HostAuth, Paging, ParticipantAuth,
};
use crate::http::state::AppState;
use crate::ids::{ActivityId, ParticipantId, SessionId};
use crate::model::invalid::{Invalid, Rule};
use crate::model::participant::NICKNAME_MAX;
use crate::model::participant::{ParticipantStatus, Presence};
use crate::model::session::Session;
use crate::participants::{self};
use crate::responses;
use crate::sessions::{self, SessionError};

/// The participant routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(join_session))
        .routes(routes!(validate_nickname))
        .routes(routes!(heartbeat))
        .routes(routes!(whoami))
        .routes(routes!(list_participants))
        .routes(routes!(remove_participant))
}

/// Resolves a path segment that is a session id or a join code; a code that names no open
/// session counts against the address's failed lookups.
async fn session_by_id_or_code(
    state: &AppState,
    ip: std::net::IpAddr,
    raw: &str,
) -> Result<Session, ApiError> {
    let found = match raw.parse::<SessionId>() {
        Ok(id) => state.store.session(id).await?,
        Err(_) => super::sessions::open_session_by_code(state, ip, raw).await?,
    };
    found.ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            ErrorCode::SessionNotFound,
            "no such session",
        )
    })
}

/// Joining, or coming back.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct JoinRequest {
    /// 1–40 characters after trimming; optional when the session does not require one.
    #[schema(max_length = 40)]
    pub nickname: Option<String>,
    /// A token from an earlier join: the same participant comes back (also accepted as
    /// `Authorization: Bearer`).
    #[schema(max_length = 200)]
    pub token: Option<String>,
    /// In a session whose participants pick their team: its index in the session's
    /// `teams.names`. Refused where the server deals teams out or there are none.
    #[schema(minimum = 0, maximum = 11)]
    pub team: Option<u32>,
}

/// A joined participant.
#[derive(Debug, Serialize, ToSchema)]
pub struct JoinResponse {
    /// Who.
    pub participant_id: ParticipantId,
    /// The nickname as stored.
    pub nickname: String,
    /// Secret: send as `Authorization: Bearer <token>` with every participant request.
    pub token: String,
    /// The session.
    pub session_id: SessionId,
    /// True when an existing participant came back.
    pub rejoined: bool,
    /// Their team (an index into the session's `teams.names`), if it has teams.
    pub team: Option<u16>,
}

/// Joins a session by id or join code; a valid earlier token restores the same participant.
#[utoipa::path(post, path = "/sessions/{id}/join", tag = "participants", request_body = JoinRequest,
    params(("id" = String, Path, description = "Session id or join code")),
    responses(
        (status = 201, description = "Joined", body = JoinResponse),
        (status = 200, description = "Rejoined as the same participant", body = JoinResponse),
        (status = 403, description = "Banned", body = ErrorEnvelope),
        (status = 404, body = ErrorEnvelope),
        (status = 409, description = "Not open, full, or nickname taken (with a suggestion)", body = ErrorEnvelope),
        (status = 422, description = "Invalid nickname", body = ErrorEnvelope),
        (status = 429, body = ErrorEnvelope),
    ))]
async fn join_session(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    AppPath(id): AppPath<String>,
    AppJson(request): AppJson<JoinRequest>,
) -> Result<Response, ApiError> {
    if request.nickname.as_ref().is_some_and(|n| n.len() > 400) {
        return Err(Invalid::new(
            "nickname",
            Rule::Length {
                min: 1,
                max: NICKNAME_MAX,
            },
        )
        .into());
    }
    if request.token.as_ref().is_some_and(|t| t.len() > 200) {
        return Err(Invalid::new("token", Rule::Length { min: 1, max: 200 }).into());
    }
    let session = session_by_id_or_code(&state, ip, &id).await?;
    let header_token = crate::http::extract::bearer_token(&headers);
    let existing = request.token.as_deref().or(header_token);
    // Someone coming back is limited as themselves; a newcomer by the session's admission.
    match existing.and_then(|token| state.key.verify_participant_token(token)) {
        Some((_, participant)) => state.limits.reconnect(participant)?,
        None => state.limits.admit(session.id)?,
    }
    let entrance = participants::Entrance {
        store: state.store.as_ref(),
        joiner: &state.joiner,
        changes: state.live.as_ref(),
        key: &state.key,
        roster: &state.roster,
        presence: &state.presence,
    };
    // The browser cookie lets a ban cover the browser; a browser without one gets one.
    let given = crate::http::extract::cookie(&headers, BROWSER_COOKIE)
        .filter(|value| value.starts_with(crate::auth::BROWSER_TOKEN_PREFIX) && value.len() < 100)
        .map(str::to_owned);
    let new_cookie = given.is_none().then(crate::auth::new_browser_token);
    let browser = given
        .as_deref()
        .or(new_cookie.as_deref())
        .map(participants::browser_hash);
    let joined = participants::join(
        entrance,
        &session,
        request.nickname.as_deref(),
        request.team,
        existing,
        browser,
    )
    .await?;
    let status = if joined.rejoined {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    let body = Json(JoinResponse {
        participant_id: joined.participant.id,
        nickname: joined.participant.nickname.as_str().to_owned(),
        token: joined.token,
        session_id: session.id,
        rejoined: joined.rejoined,
        team: joined.participant.team,
    });
    let mut response = (status, body).into_response();
    if let Some(value) = new_cookie {
        let cookie = crate::http::api::auth::set_cookie(
            &state,
            BROWSER_COOKIE,
            &value,
            &format!("SameSite=Lax; Path=/api/v1/sessions; Max-Age={BROWSER_LIFETIME_SECONDS}"),
        );
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    Ok(response)
}

/// The cookie that names a participant's browser to the join endpoint, so that a ban
/// covers the browser and not only the participant; see docs/security.md.
pub const BROWSER_COOKIE: &str = "conflicto_browser";

/// A year: longer than any session.
const BROWSER_LIFETIME_SECONDS: i64 = 365 * 24 * 3600;

/// The nickname to check.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct NicknameQuery {
    /// The nickname as typed.
    pub nickname: String,
}

/// Whether a nickname can be used.
#[derive(Debug, Serialize, ToSchema)]
pub struct NicknameValidation {
    /// As it would be stored (trimmed, spaces collapsed), when valid.
    pub nickname: Option<String>,
    /// Follows the rules.
    pub valid: bool,
    /// Valid and not taken.
    pub available: bool,
    /// Why not, in English.
    pub message: Option<String>,
    /// The rule an invalid nickname broke (`length`, `unprintable`, `refused`), as an
    /// error's details name it, for pages to say in their language.
    #[schema(value_type = Option<Object>)]
    pub rule: Option<serde_json::Value>,
    /// A free alternative when taken.
    pub suggestion: Option<String>,
}

/// Checks a nickname before joining.
#[utoipa::path(get, path = "/sessions/{id}/nicknames/validate", tag = "participants",
    params(("id" = String, Path, description = "Session id or join code"), NicknameQuery),
    responses((status = 200, body = NicknameValidation), (status = 404, body = ErrorEnvelope), (status = 429, body = ErrorEnvelope)))]
async fn validate_nickname(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    AppPath(id): AppPath<String>,
    AppQuery(query): AppQuery<NicknameQuery>,
) -> Result<Json<NicknameValidation>, ApiError> {
    if query.nickname.len() > 400 {
        return Err(Invalid::new(
            "nickname",
            Rule::Length {
                min: 1,
                max: NICKNAME_MAX,
            },
        )
        .into());
    }
    let session = session_by_id_or_code(&state, ip, &id).await?;
    let check =
        participants::check_nickname(state.store.as_ref(), &session, &query.nickname).await?;
    Ok(Json(NicknameValidation {
        valid: check.normalized.is_some(),
        available: check.normalized.is_some() && check.problem.is_none(),
        nickname: check.normalized,
        message: check.problem,
        rule: check.rule.as_ref().map(Invalid::details),
        suggestion: check.suggestion,
    }))
}

/// A heartbeat's answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct HeartbeatResponse {
    /// Always `online` after a heartbeat.
    pub presence: Presence,
    /// The server's clock.
    pub server_time: DateTime<Utc>,
}

/// Tells the server the phone is still there (every 15–30 s without a live stream).
#[utoipa::path(post, path = "/participants/{id}/heartbeat", tag = "participants", params(("id" = ParticipantId, Path)),
    responses((status = 200, body = HeartbeatResponse), (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope), (status = 429, body = ErrorEnvelope)))]
async fn heartbeat(
    State(state): State<AppState>,
    auth: ParticipantAuth,
    AppPath(id): AppPath<ParticipantId>,
) -> Result<Json<HeartbeatResponse>, ApiError> {
    if auth.participant_id != id {
        return Err(ApiError::forbidden(
            ErrorCode::NotYourself,
            "a participant can only send their own heartbeat",
        ));
    }
    state.limits.heartbeat(id)?;
    state.presence.touch(id);
    Ok(Json(HeartbeatResponse {
        presence: Presence::Online,
        server_time: Utc::now(),
    }))
}

/// One of the participant's own answers.
#[derive(Debug, Serialize, ToSchema)]
pub struct OwnResponse {
    /// The activity.
    pub activity_id: ActivityId,
    /// The round.
    pub round: i32,
    /// The slot.
    pub slot: String,
    /// The answer as stored.
    #[schema(value_type = Object)]
    pub answer: Value,
    /// Last changed.
    pub updated_at: DateTime<Utc>,
}

impl From<crate::storage::StoredResponse> for OwnResponse {
    fn from(r: crate::storage::StoredResponse) -> Self {
        Self {
            activity_id: r.activity_id,
            round: r.round,
            slot: r.slot,
            answer: serde_json::from_str(&r.answer).unwrap_or(Value::Null),
            updated_at: r.updated_at,
        }
    }
}

/// Who the token belongs to, with their answers: what a phone needs after a reload.
#[derive(Debug, Serialize, ToSchema)]
pub struct WhoAmI {
    /// Who.
    pub participant_id: ParticipantId,
    /// Nickname.
    pub nickname: String,
    /// Joined.
    pub joined_at: DateTime<Utc>,
    /// The session.
    pub session: PublicSession,
    /// Every answer given in the session.
    pub responses: Vec<OwnResponse>,
}

/// The participant the token belongs to, with their answers.
#[utoipa::path(get, path = "/participants/me", tag = "participants",
    responses((status = 200, body = WhoAmI), (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope)))]
async fn whoami(
    State(state): State<AppState>,
    auth: ParticipantAuth,
) -> Result<Json<WhoAmI>, ApiError> {
    let store = state.store.as_ref();
    let participant = store
        .participant(auth.participant_id)
        .await?
        .ok_or_else(|| ApiError::unauthorized("join the session again"))?;
    let session = store
        .session(auth.session_id)
        .await?
        .ok_or(SessionError::NotFound)?;
    let responses = responses::mine(store, auth.participant_id)
        .await?
        .into_iter()
        .map(OwnResponse::from)
        .collect();
    Ok(Json(WhoAmI {
        participant_id: participant.id,
        nickname: participant.nickname.as_str().to_owned(),
        joined_at: participant.joined_at,
        session: PublicSession::new(&session),
        responses,
    }))
}

/// A participant in the organizer's list.
#[derive(Debug, Serialize, ToSchema)]
pub struct ParticipantView {
    /// Its id.
    pub id: ParticipantId,
    /// Nickname.
    pub nickname: String,
    /// Active, removed or banned.
    pub status: ParticipantStatus,
    /// Online, idle or disconnected.
    pub presence: Presence,
    /// Joined.
    pub joined_at: DateTime<Utc>,
    /// Last contact.
    pub last_seen_at: DateTime<Utc>,
}

/// A page of participants.
#[derive(Debug, Serialize, ToSchema)]
pub struct ParticipantList {
    /// In join order.
    pub items: Vec<ParticipantView>,
    /// All participants of the session, across pages, removed and banned ones included.
    pub total: i64,
    /// Joined: the participants still in the session (not removed or banned).
    pub joined: u32,
    /// Online: joined, and in touch within the last 30 seconds (an open live stream is
    /// contact every 15 seconds). The items' `presence` reads the same contact times.
    pub online: i64,
    /// This page.
    pub page: u32,
    /// Page size.
    pub per_page: u32,
}

/// The session's participants with presence.
#[utoipa::path(get, path = "/sessions/{id}/participants", tag = "participants", params(("id" = SessionId, Path), Paging),
    responses((status = 200, body = ParticipantList), (status = 404, body = ErrorEnvelope)))]
async fn list_participants(
    State(state): State<AppState>,
    HostAuth(auth): HostAuth,
    AppPath(id): AppPath<SessionId>,
    AppQuery(paging): AppQuery<Paging>,
) -> Result<Json<ParticipantList>, ApiError> {
    let paging = paging.checked()?;
    let session = sessions::owned(state.store.as_ref(), &auth.organizer, id).await?;
    let (listed, total) =
        participants::list(state.store.as_ref(), &session, paging.page, paging.per_page).await?;
    let online = participants::online(state.store.as_ref(), session.id).await?;
    Ok(Json(ParticipantList {
        items: listed
            .into_iter()
            .map(|l| ParticipantView {
                id: l.participant.id,
                nickname: l.participant.nickname.as_str().to_owned(),
                status: l.participant.status,
                presence: l.presence,
                joined_at: l.participant.joined_at,
                last_seen_at: l.participant.last_seen_at,
            })
            .collect(),
        total,
        joined: session.participant_count,
        online,
        page: paging.page,
        per_page: paging.per_page,
    }))
}

/// Whether to ban as well.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RemoveQuery {
    /// Also refuse the token and the nickname from now on.
    #[serde(default)]
    pub ban: bool,
}

/// Removes a participant, optionally banning token and nickname for this session.
#[utoipa::path(delete, path = "/sessions/{id}/participants/{participant_id}", tag = "participants",
    params(("id" = SessionId, Path), ("participant_id" = ParticipantId, Path), RemoveQuery),
    responses((status = 204, description = "Removed"), (status = 404, body = ErrorEnvelope)))]
async fn remove_participant(
    State(state): State<AppState>,
    HostAuth(auth): HostAuth,
    AppPath((id, participant_id)): AppPath<(SessionId, ParticipantId)>,
    AppQuery(query): AppQuery<RemoveQuery>,
) -> Result<StatusCode, ApiError> {
    let session = sessions::owned(state.store.as_ref(), &auth.organizer, id).await?;
    if participants::remove(
        state.store.as_ref(),
        state.live.as_ref(),
        &state.roster,
        &session,
        participant_id,
        query.ban,
    )
    .await?
    {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::new(
            StatusCode::NOT_FOUND,
            ErrorCode::ParticipantNotFound,
            "no such participant in this session",
        ))
    }
}
