//! Response endpoints: a participant submits an answer (acknowledged only once stored;
//! idempotent by `client_request_id`) and reads back their own answers.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::http::error::{ApiError, ErrorCode, ErrorEnvelope};
use crate::http::extract::{AppJson, AppPath, ParticipantAuth};
use crate::http::state::AppState;
use crate::ids::ActivityId;
use crate::responses;

/// The response routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(submit_response))
        .routes(routes!(my_responses))
}

/// The activity, if it belongs to the participant's session (404 otherwise, so other
/// sessions' activities do not even seem to exist). Read through the hub's cache: this is
/// on every answer's path.
async fn activity_of_session(
    state: &AppState,
    id: ActivityId,
    session: crate::ids::SessionId,
) -> Result<std::sync::Arc<crate::model::activity::Activity>, ApiError> {
    state
        .live
        .activity(id)
        .await?
        .filter(|a| a.session_id == session)
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::NOT_FOUND,
                ErrorCode::ActivityNotFound,
                "no such activity in your session",
            )
        })
}

/// An answer.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SubmitRequest {
    /// Valid for the kind's answer schema (a poll: `{"options": [0]}`).
    #[schema(value_type = Object)]
    pub answer: Value,
    /// Any 1–64 visible ASCII characters, unique per submission: a retry with the same
    /// value is never counted twice.
    #[schema(max_length = 64)]
    pub client_request_id: Option<String>,
}

/// An acknowledged answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct SubmitResponse {
    /// The activity.
    pub activity_id: ActivityId,
    /// The round it counts in.
    pub round: i32,
    /// The slot it fills.
    pub slot: String,
    /// The answer as stored; null on a replay.
    #[schema(value_type = Option<Object>)]
    pub answer: Option<Value>,
    /// True when this repeated an earlier `client_request_id`: nothing changed.
    pub replayed: bool,
    /// When the server acknowledged it.
    pub acknowledged_at: DateTime<Utc>,
}

/// Submits an answer to the active activity of the participant's session.
#[utoipa::path(post, path = "/activities/{id}/responses", tag = "responses", params(("id" = ActivityId, Path)), request_body = SubmitRequest,
    responses(
        (status = 201, description = "Stored", body = SubmitResponse),
        (status = 200, description = "A replay of an earlier client_request_id; not counted again", body = SubmitResponse),
        (status = 401, body = ErrorEnvelope),
        (status = 403, body = ErrorEnvelope),
        (status = 404, body = ErrorEnvelope),
        (status = 409, description = "The activity is not active", body = ErrorEnvelope),
        (status = 422, description = "The answer does not fit the activity", body = ErrorEnvelope),
        (status = 429, body = ErrorEnvelope),
    ))]
async fn submit_response(
    State(state): State<AppState>,
    auth: ParticipantAuth,
    AppPath(id): AppPath<ActivityId>,
    AppJson(request): AppJson<SubmitRequest>,
) -> Result<(StatusCode, Json<SubmitResponse>), ApiError> {
    state.limits.submit(auth.participant_id)?;
    let activity = activity_of_session(&state, id, auth.session_id).await?;
    let submitted = responses::submit(
        &state.live,
        &activity,
        responses::Author {
            id: auth.participant_id,
            nickname: auth.nickname.clone(),
            team: auth.team,
        },
        request.answer,
        request.client_request_id,
    )
    .await?;
    let status = if submitted.stored {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((
        status,
        Json(SubmitResponse {
            activity_id: activity.id,
            round: submitted.round,
            slot: submitted.slot,
            answer: submitted.answer,
            replayed: !submitted.stored,
            acknowledged_at: Utc::now(),
        }),
    ))
}

/// The participant's answers to one activity.
#[derive(Debug, Serialize, ToSchema)]
pub struct MyResponses {
    /// Answers of the current round, by slot.
    pub items: Vec<super::participants::OwnResponse>,
}

/// The participant's own answers to the activity's current round.
#[utoipa::path(get, path = "/activities/{id}/responses/me", tag = "responses", params(("id" = ActivityId, Path)),
    responses((status = 200, body = MyResponses), (status = 401, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)))]
async fn my_responses(
    State(state): State<AppState>,
    auth: ParticipantAuth,
    AppPath(id): AppPath<ActivityId>,
) -> Result<Json<MyResponses>, ApiError> {
    let activity = activity_of_session(&state, id, auth.session_id).await?;
    let items = responses::mine(state.store.as_ref(), auth.participant_id)
        .await?
        .into_iter()
        .filter(|r| r.activity_id == activity.id && r.round == activity.round)
        .map(super::participants::OwnResponse::from)
        .collect();
    Ok(Json(MyResponses { items }))
}
