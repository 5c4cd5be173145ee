//! A self-paced session's course: every activity but drafts whose kind can be taken alone
//! (not a buzzer), in the agenda's order, each with its steps (one, or one per quiz
//! question). A participant opens steps in any order the phone allows; the server records
//! when each was first opened, times a quiz question from then, and keeps where each
//! participant is for the organizer's progress view. Answers go through
//! [`crate::responses::submit`] like any other.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::ids::{ActivityId, ParticipantId};
use crate::kinds::{ActivityRegistry, AnyAnswer, Entry, PrepareError, Prepared};
use crate::model::activity::{Activity, ActivityState};
use crate::model::session::{Pace, Session, SessionStatus, Window};
use crate::responses::live::{Live, LoadError};
use crate::storage::{PacedPosition, PacedProgress, Store, StoreError};

/// Why a course step could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum CourseError {
    /// The session is paced by its presenter, or not open.
    #[error("the session is not self-paced now")]
    NotSelfPaced,
    /// Before the opening time.
    #[error("the session opens at {0}")]
    NotYetOpen(DateTime<Utc>),
    /// After the closing time.
    #[error("the session has closed")]
    Closed(DateTime<Utc>),
    /// No such activity in the course, or no such step in it.
    #[error("no such step in this course")]
    NoSuchStep,
    /// The activity could not be bound to its kind.
    #[error(transparent)]
    Prepare(#[from] PrepareError),
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<LoadError> for CourseError {
    fn from(error: LoadError) -> Self {
        match error {
            LoadError::Prepare(error) => CourseError::Prepare(error),
            LoadError::Store(error) => CourseError::Store(error),
        }
    }
}

/// One activity of the course.
pub struct CourseItem<'a> {
    /// The activity.
    pub activity: &'a Activity,
    /// How many steps it has.
    pub steps: usize,
    /// Whether its answers are final: a participant cannot change them going back.
    pub final_answers: bool,
}

/// The session's course, in order.
pub fn course<'a>(
    registry: &ActivityRegistry,
    activities: &'a [Activity],
) -> Result<Vec<CourseItem<'a>>, PrepareError> {
    let mut items = Vec::new();
    for activity in activities
        .iter()
        .filter(|a| a.state != ActivityState::Draft)
    {
        let prepared = registry.prepare(activity)?;
        if prepared.self_paced() {
            items.push(CourseItem {
                activity,
                steps: prepared.paced_steps(),
                final_answers: prepared.final_answers(),
            });
        }
    }
    Ok(items)
}

/// Whether the session takes self-paced steps at `at`.
fn check_open(session: &Session, at: DateTime<Utc>) -> Result<(), CourseError> {
    if session.pace != Pace::SelfPaced || session.status != SessionStatus::Active {
        return Err(CourseError::NotSelfPaced);
    }
    match session.window(at) {
        Window::NotYetOpen(opens) => Err(CourseError::NotYetOpen(opens)),
        Window::Closed(closes) => Err(CourseError::Closed(closes)),
        Window::Open => Ok(()),
    }
}

/// A step as one participant sees it once opened.
pub struct OpenedStep {
    /// The activity.
    pub activity: Arc<Activity>,
    /// The step.
    pub step: usize,
    /// Its steps in all.
    pub steps: usize,
    /// The configuration as this participant sees it on this step (a quiz: this question,
    /// with its deadline counted from `seen_at`, revealed once they answered it or its
    /// time ran out).
    pub config: Value,
    /// Their own results on this step, where the kind shows them (a quiz: right or wrong,
    /// the points, and their score so far).
    pub own: Option<Value>,
    /// When this participant first opened the step.
    pub seen_at: DateTime<Utc>,
    /// When the activity's own time limit ends for this participant, if it has one.
    pub deadline_at: Option<DateTime<Utc>>,
}

/// Opens `step` of an activity of the course for `participant`, now. Opening it again
/// keeps the first time.
pub async fn open_step(
    live: &Live,
    session: &Session,
    participant: ParticipantId,
    activity: ActivityId,
    step: usize,
) -> Result<OpenedStep, CourseError> {
    let now = Utc::now();
    check_open(session, now)?;
    let activity = live
        .activity(activity)
        .await?
        .filter(|a| a.session_id == session.id && a.state != ActivityState::Draft)
        .ok_or(CourseError::NoSuchStep)?;
    let prepared: Arc<dyn Prepared> = live.prepared(&activity).await?;
    let steps = prepared.paced_steps();
    if !prepared.self_paced() || step >= steps {
        return Err(CourseError::NoSuchStep);
    }
    let step_number = i32::try_from(step).map_err(|_| CourseError::NoSuchStep)?;
    let store = live.store.as_ref();
    let seen_at = store
        .open_step(
            session.id,
            participant,
            activity.id,
            activity.round,
            step_number,
            now,
        )
        .await?;
    let deadline_at = match activity.time_limit_seconds {
        Some(limit) => {
            let first = store
                .steps_seen(participant, activity.id, activity.round)
                .await?
                .into_iter()
                .map(|(_, at)| at)
                .min()
                .unwrap_or(seen_at);
            Some(first + chrono::Duration::seconds(i64::from(limit)))
        }
        None => None,
    };
    let mine: Vec<_> = store
        .responses_of_participant(participant)
        .await?
        .into_iter()
        .filter(|r| r.activity_id == activity.id && r.round == activity.round)
        .filter_map(|r| Some((prepared.decode_stored(&r.answer)?, r)))
        .collect();
    let entries: Vec<Entry<'_, AnyAnswer>> = mine
        .iter()
        .map(|(answer, row)| Entry {
            participant,
            nickname: "",
            slot: &row.slot,
            at: row.updated_at,
            since: row.answerable_since(),
            team: None,
            answer,
        })
        .collect();
    let view = prepared.paced_view(step, seen_at, &entries, Utc::now());
    Ok(OpenedStep {
        config: view.config,
        own: view.own,
        activity,
        step,
        steps,
        seen_at,
        deadline_at,
    })
}

/// Records that `participant` went through the whole course; returns when they first did.
pub async fn finish(
    store: &dyn Store,
    session: &Session,
    participant: ParticipantId,
) -> Result<DateTime<Utc>, CourseError> {
    let now = Utc::now();
    check_open(session, now)?;
    Ok(store.finish_course(session.id, participant, now).await?)
}

/// Where `participant` is in the course.
pub async fn position(
    store: &dyn Store,
    participant: ParticipantId,
) -> Result<PacedPosition, StoreError> {
    store.paced_position(participant).await
}

/// Where everyone is in the course.
pub async fn progress(store: &dyn Store, session: &Session) -> Result<PacedProgress, StoreError> {
    store.paced_progress(session.id).await
}
