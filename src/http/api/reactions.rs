//! Reaction endpoints: a participant taps an emoji; the organizer reads the session's
//! reactions per minute.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::http::error::{ApiError, ErrorCode, ErrorEnvelope};
use crate::http::extract::{AppJson, AppPath, HostAuth, ParticipantAuth};
use crate::http::state::AppState;
use crate::ids::SessionId;
use crate::model::session::SessionStatus;
use crate::reactions::{self, EMOJI, ReactionHistory};
use crate::sessions;

/// The reaction routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(react, session_reactions))
}

/// One tap.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReactRequest {
    /// `thumbs_up`, `heart`, `laugh`, `wow`, `clap` or `party` (or the emoji itself).
    pub emoji: String,
}

/// A tap was counted.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReactResponse {
    /// The emoji's name.
    pub emoji: String,
}

/// Sends an emoji reaction to the session's big screen (at most 5 a second per person).
#[utoipa::path(post, path = "/sessions/{id}/reactions", tag = "reactions", params(("id" = SessionId, Path)), request_body = ReactRequest,
    responses(
        (status = 202, description = "Counted; on the big screen within half a second", body = ReactResponse),
        (status = 401, body = ErrorEnvelope),
        (status = 404, body = ErrorEnvelope),
        (status = 409, description = "The session is not running (`session_completed`, `session_not_active`)", body = ErrorEnvelope),
        (status = 422, description = "Not one of the emoji", body = ErrorEnvelope),
        (status = 429, body = ErrorEnvelope),
    ))]
async fn react(
    State(state): State<AppState>,
    auth: ParticipantAuth,
    AppPath(id): AppPath<SessionId>,
    AppJson(request): AppJson<ReactRequest>,
) -> Result<(StatusCode, Json<ReactResponse>), ApiError> {
    if auth.session_id != id {
        return Err(ApiError::not_found("no such session"));
    }
    let Some(emoji) = reactions::parse(&request.emoji) else {
        return Err(ApiError::invalid(
            ErrorCode::InvalidEmoji,
            format!(
                "use one of {}",
                EMOJI.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(", ")
            ),
        )
        .with_details(serde_json::json!({ "field": "emoji" })));
    };
    // Taps count only while the session runs (read from the hub's cache, not storage).
    match state
        .live
        .session_facts(id)
        .await?
        .map(|facts| facts.status)
    {
        Some(SessionStatus::Active) => {}
        Some(SessionStatus::Completed) => {
            return Err(ApiError::conflict(
                ErrorCode::SessionCompleted,
                "the session is over; reactions are closed",
            ));
        }
        Some(SessionStatus::Draft) | None => {
            return Err(ApiError::conflict(
                ErrorCode::SessionNotActive,
                "the session is not open",
            ));
        }
    }
    state.limits.react(auth.participant_id)?;
    state.reactions.add(id, emoji);
    Ok((
        StatusCode::ACCEPTED,
        Json(ReactResponse {
            emoji: emoji.to_owned(),
        }),
    ))
}

/// The session's reactions: totals per emoji and counts per minute.
#[utoipa::path(get, path = "/sessions/{id}/reactions", tag = "reactions", params(("id" = SessionId, Path)),
    responses((status = 200, body = ReactionHistory), (status = 404, body = ErrorEnvelope)))]
async fn session_reactions(
    State(state): State<AppState>,
    HostAuth(auth): HostAuth,
    AppPath(id): AppPath<SessionId>,
) -> Result<Json<ReactionHistory>, ApiError> {
    let session = sessions::owned(state.store.as_ref(), &auth.organizer, id).await?;
    Ok(Json(
        reactions::history(state.store.as_ref(), session.id).await?,
    ))
}
