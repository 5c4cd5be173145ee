//! Self-paced sessions: a participant reads the course and where they are in it, opens a
//! step (which starts a quiz question's clock for them) and says when they are done; the
//! organizer reads everyone's progress. Answers use the usual responses endpoint.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::PARTICIPANT_TOKEN_PREFIX;
use crate::http::api::live::{StreamQuery, audience_of, token_of};
use crate::http::error::{ApiError, ErrorCode, ErrorEnvelope};
use crate::http::extract::{AppJson, AppPath, AppQuery, ParticipantAuth};
use crate::http::state::AppState;
use crate::ids::{ActivityId, SessionId};
use crate::model::session::{Pace, Session, Window};
use crate::participants::course::{self, CourseError};
use crate::realtime::events::{ActivityView, Audience};
use crate::sessions::SessionError;

/// The course routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(my_course))
        .routes(routes!(open_step))
        .routes(routes!(finish_course))
        .routes(routes!(session_progress))
}

impl From<CourseError> for ApiError {
    fn from(error: CourseError) -> Self {
        match error {
            CourseError::NotSelfPaced => ApiError::new(
                StatusCode::CONFLICT,
                ErrorCode::SessionNotActive,
                "the presenter paces this session now; follow the screen",
            ),
            CourseError::NotYetOpen(opens_at) => {
                crate::responses::SubmitError::NotYetOpen(opens_at).into()
            }
            CourseError::Closed(closes_at) => {
                crate::responses::SubmitError::SessionClosed(Some(closes_at)).into()
            }
            CourseError::NoSuchStep => ApiError::new(
                StatusCode::NOT_FOUND,
                ErrorCode::ActivityNotFound,
                "no such step in this session's course",
            ),
            CourseError::Prepare(error) => crate::activities::ActivityError::from(error).into(),
            CourseError::Store(error) => error.into(),
        }
    }
}

/// Whether a self-paced session takes answers now.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Opening {
    /// Before the opening time.
    NotYetOpen,
    /// Open.
    Open,
    /// After the closing time.
    Closed,
}

/// One activity of the course.
#[derive(Debug, Serialize, ToSchema)]
pub struct CourseActivity {
    /// The activity.
    pub activity_id: ActivityId,
    /// Its kind.
    pub kind: String,
    /// Its title.
    pub title: String,
    /// Its current round, which answers count in.
    pub round: i32,
    /// How many steps it has (a quiz: one per question).
    pub steps: usize,
    /// Whether its answers are final (going back shows them, but they cannot change).
    pub final_answers: bool,
    /// The steps this participant opened, in this round.
    pub opened: Vec<i32>,
}

/// A participant's course.
#[derive(Debug, Serialize, ToSchema)]
pub struct Course {
    /// Live or self-paced; a live session has an empty course.
    pub pace: Pace,
    /// Opening time, if set.
    pub opens_at: Option<DateTime<Utc>>,
    /// Closing time, if set.
    pub closes_at: Option<DateTime<Utc>>,
    /// Whether it takes answers now.
    pub opening: Opening,
    /// The activities, in order.
    pub activities: Vec<CourseActivity>,
    /// The activity this participant opened last.
    pub current_activity_id: Option<ActivityId>,
    /// When this participant finished, if they did.
    pub finished_at: Option<DateTime<Utc>>,
    /// The server's clock, to count down deadlines right.
    pub server_time: DateTime<Utc>,
}

async fn session_of(state: &AppState, id: SessionId) -> Result<Session, ApiError> {
    Ok(state
        .store
        .session(id)
        .await?
        .ok_or(SessionError::NotFound)?)
}

/// The self-paced course of the participant's session and where they are in it.
#[utoipa::path(get, path = "/participants/me/course", tag = "participants",
    responses((status = 200, body = Course), (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope)))]
async fn my_course(
    State(state): State<AppState>,
    auth: ParticipantAuth,
) -> Result<Json<Course>, ApiError> {
    let session = session_of(&state, auth.session_id).await?;
    let now = Utc::now();
    let opening = match session.window(now) {
        Window::NotYetOpen(_) => Opening::NotYetOpen,
        Window::Open => Opening::Open,
        Window::Closed(_) => Opening::Closed,
    };
    let activities = if session.pace == Pace::SelfPaced {
        state.store.activities_of(session.id).await?
    } else {
        Vec::new()
    };
    let position = course::position(state.store.as_ref(), auth.participant_id).await?;
    let items = course::course(&state.live.registry, &activities)
        .map_err(crate::activities::ActivityError::from)?
        .into_iter()
        .map(|item| CourseActivity {
            activity_id: item.activity.id,
            kind: item.activity.kind.clone(),
            title: item.activity.title.clone(),
            round: item.activity.round,
            steps: item.steps,
            final_answers: item.final_answers,
            opened: position
                .opened
                .iter()
                .filter(|(id, round, _)| *id == item.activity.id && *round == item.activity.round)
                .map(|(_, _, step)| *step)
                .collect(),
        })
        .collect();
    Ok(Json(Course {
        pace: session.pace,
        opens_at: session.opens_at,
        closes_at: session.closes_at,
        opening,
        activities: items,
        current_activity_id: position.activity,
        finished_at: position.finished_at,
        server_time: now,
    }))
}

/// A step to open.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OpenStepRequest {
    /// The activity.
    pub activity_id: ActivityId,
    /// The step, from 0 (a quiz question's index); 0 when absent.
    #[serde(default)]
    #[schema(minimum = 0, maximum = 1000)]
    pub step: u32,
}

/// An opened step.
#[derive(Debug, Serialize, ToSchema)]
pub struct OpenedStep {
    /// The activity as this participant sees it on this step: its `config` is the step's
    /// (a quiz's `current` question with its deadline), and `deadline_at` is the activity's
    /// own time limit counted from when they opened it.
    pub activity: ActivityView,
    /// The step.
    pub step: usize,
    /// Its steps in all.
    pub steps: usize,
    /// When this participant first opened the step; a quiz question is timed from it.
    pub seen_at: DateTime<Utc>,
    /// The participant's own results on this step, where the kind shows them; shaped like
    /// the kind's results for a participant. A quiz question, once they answered it or its
    /// time ran out, is revealed to them in `activity.config` and gives `you` here: right
    /// or wrong and the points (`last`), and their score over the questions they answered.
    #[schema(value_type = Option<Object>)]
    pub own_results: Option<serde_json::Value>,
    /// The server's clock, to count down deadlines right.
    pub server_time: DateTime<Utc>,
}

/// Opens a step of the course for the participant: the first opening is recorded and a
/// quiz question's time runs from it; opening it again keeps that time.
#[utoipa::path(post, path = "/participants/me/steps", tag = "participants", request_body = OpenStepRequest,
    responses(
        (status = 200, body = OpenedStep),
        (status = 401, body = ErrorEnvelope),
        (status = 403, body = ErrorEnvelope),
        (status = 404, description = "`activity_not_found`: no such step in the course", body = ErrorEnvelope),
        (status = 409, description = "`session_not_active` (the presenter paces it), `session_not_open` (`details.opens_at`), `session_closed` (`details.closes_at`)", body = ErrorEnvelope),
        (status = 422, body = ErrorEnvelope),
        (status = 429, body = ErrorEnvelope),
    ))]
async fn open_step(
    State(state): State<AppState>,
    auth: ParticipantAuth,
    AppJson(request): AppJson<OpenStepRequest>,
) -> Result<Json<OpenedStep>, ApiError> {
    state.limits.submit(auth.participant_id)?;
    let session = session_of(&state, auth.session_id).await?;
    let step = usize::try_from(request.step).unwrap_or(usize::MAX);
    let opened = course::open_step(
        &state.live,
        &session,
        auth.participant_id,
        request.activity_id,
        step,
    )
    .await?;
    let mut activity = ActivityView::new(
        &opened.activity,
        &state.live.registry,
        Audience::Participant,
    )?;
    activity.config = opened.config;
    activity.deadline_at = opened.deadline_at;
    Ok(Json(OpenedStep {
        activity,
        step: opened.step,
        steps: opened.steps,
        seen_at: opened.seen_at,
        own_results: opened.own,
        server_time: Utc::now(),
    }))
}

/// When the participant finished.
#[derive(Debug, Serialize, ToSchema)]
pub struct Finished {
    /// When they first said so.
    pub finished_at: DateTime<Utc>,
}

/// Says the participant went through the whole course.
#[utoipa::path(post, path = "/participants/me/finish", tag = "participants",
    responses(
        (status = 200, body = Finished),
        (status = 401, body = ErrorEnvelope),
        (status = 403, body = ErrorEnvelope),
        (status = 409, description = "`session_not_active` (the presenter paces it), `session_not_open`, `session_closed`", body = ErrorEnvelope),
    ))]
async fn finish_course(
    State(state): State<AppState>,
    auth: ParticipantAuth,
) -> Result<Json<Finished>, ApiError> {
    let session = session_of(&state, auth.session_id).await?;
    let finished_at = course::finish(state.store.as_ref(), &session, auth.participant_id).await?;
    Ok(Json(Finished { finished_at }))
}

/// How many are on one activity.
#[derive(Debug, Serialize, ToSchema)]
pub struct ActivityProgress {
    /// The activity.
    pub activity_id: ActivityId,
    /// Its title.
    pub title: String,
    /// Participants on it now who have not finished.
    pub on: i64,
}

/// Where everyone is in a self-paced session.
#[derive(Debug, Serialize, ToSchema)]
pub struct Progress {
    /// Live or self-paced.
    pub pace: Pace,
    /// Active participants.
    pub participants: u32,
    /// Participants who opened at least one step.
    pub started: i64,
    /// Participants who finished the course.
    pub finished: i64,
    /// Every activity of the course, in order, with how many are on it.
    pub activities: Vec<ActivityProgress>,
}

/// Where the session's participants are in its self-paced course: for the organizer's run
/// view, and for the big screen with its viewer token, which shows the room how far it is.
#[utoipa::path(get, path = "/sessions/{id}/progress", tag = "sessions", params(("id" = SessionId, Path), StreamQuery),
    responses((status = 200, body = Progress), (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)))]
async fn session_progress(
    State(state): State<AppState>,
    headers: HeaderMap,
    AppPath(id): AppPath<SessionId>,
    AppQuery(query): AppQuery<StreamQuery>,
) -> Result<Json<Progress>, ApiError> {
    let token = token_of(&headers, query.token)?;
    // A participant's token is refused before anything is read: progress is the room's
    // overview, not a phone's.
    if token.starts_with(PARTICIPANT_TOKEN_PREFIX) {
        return Err(ApiError::forbidden(
            ErrorCode::OrganizerOnly,
            "only the organizer and the big screen see the progress",
        ));
    }
    audience_of(&state, id, &token).await?;
    let session = session_of(&state, id).await?;
    let activities = state.store.activities_of(session.id).await?;
    let progress = course::progress(state.store.as_ref(), &session).await?;
    let items: Vec<ActivityProgress> = course::course(&state.live.registry, &activities)
        .map_err(crate::activities::ActivityError::from)?
        .into_iter()
        .map(|item| ActivityProgress {
            activity_id: item.activity.id,
            title: item.activity.title.clone(),
            on: progress
                .on
                .iter()
                .find(|(id, _)| *id == item.activity.id)
                .map_or(0, |(_, n)| *n),
        })
        .collect();
    let started = progress.finished + progress.on.iter().map(|(_, n)| n).sum::<i64>();
    Ok(Json(Progress {
        pace: session.pace,
        participants: session.participant_count,
        started,
        finished: progress.finished,
        activities: items,
    }))
}
