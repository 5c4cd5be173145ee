//! Responses: a participant submits an answer to the active activity. The kind validates it,
//! the writer commits it in a batch, and only then is it acknowledged. A retried request
//! with the same `client_request_id` is answered as a replay and never counted twice.

pub mod live;
pub mod tally;
pub mod writer;

use chrono::{DateTime, Utc};
use serde_json::Value;

use std::sync::Arc;

use self::live::{Live, LoadError};
use self::tally::Held;
use crate::ids::{ParticipantId, ResponseId};
use crate::kinds::{AnswerContext, PrepareError};
use crate::model::activity::{Activity, ActivityState};
use crate::model::invalid::Invalid;
use crate::model::session::{Pace, Window};
use crate::storage::{ResponseWrite, Store, StoreError, StoredResponse, WriteOutcome};

/// Longest accepted `client_request_id`.
pub const REQUEST_ID_MAX: usize = 64;

/// Why a submission was refused.
#[derive(Debug, thiserror::Error)]
pub enum SubmitError {
    /// The activity is not taking answers.
    #[error("the activity is {0:?}, not taking answers")]
    NotActive(ActivityState),
    /// The activity's time limit has passed.
    #[error("time is up for this activity")]
    TimeUp,
    /// A self-paced session that opens later.
    #[error("the session opens at {0}")]
    NotYetOpen(DateTime<Utc>),
    /// A self-paced session whose closing time has passed.
    #[error("the session has closed")]
    SessionClosed(Option<DateTime<Utc>>),
    /// The kind refused the answer.
    #[error("{0}")]
    InvalidAnswer(Invalid),
    /// The client_request_id is unusable.
    #[error("client_request_id must be 1 to {REQUEST_ID_MAX} visible ASCII characters")]
    InvalidRequestId,
    /// The kind's answers are final and this one was given before.
    #[error("already answered")]
    AlreadyAnswered,
    /// The participant was removed meanwhile.
    #[error("you were removed from this session")]
    ParticipantRemoved,
    /// The activity could not be bound to its kind.
    #[error(transparent)]
    Prepare(#[from] PrepareError),
    /// Storage failed; nothing was stored.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<LoadError> for SubmitError {
    fn from(error: LoadError) -> Self {
        match error {
            LoadError::Prepare(error) => SubmitError::Prepare(error),
            LoadError::Store(error) => SubmitError::Store(error),
        }
    }
}

/// An acknowledged submission.
#[derive(Debug, Clone)]
pub struct Submitted {
    /// False when this replayed an earlier request; nothing changed then.
    pub stored: bool,
    /// The round it counts in.
    pub round: i32,
    /// The slot it fills.
    pub slot: String,
    /// The normalised answer (None on a replay).
    pub answer: Option<Value>,
}

/// Who is answering.
#[derive(Debug, Clone)]
pub struct Author {
    /// The participant.
    pub id: ParticipantId,
    /// Their nickname, as results show it.
    pub nickname: Arc<str>,
    /// Their team, if the session has teams.
    pub team: Option<u16>,
}

/// Validates and stores one answer; returns once it is committed.
pub async fn submit(
    live: &Live,
    activity: &Activity,
    author: Author,
    answer: Value,
    client_request_id: Option<String>,
) -> Result<Submitted, SubmitError> {
    let (writer, tallies) = (&live.writer, &live.tallies);
    if let Some(id) = &client_request_id
        && (id.is_empty() || id.len() > REQUEST_ID_MAX || !id.bytes().all(|b| b.is_ascii_graphic()))
    {
        return Err(SubmitError::InvalidRequestId);
    }
    let received = Utc::now();
    let facts = live.session_facts(activity.session_id).await?;
    let paced = facts.as_ref().is_some_and(|f| f.pace == Pace::SelfPaced);
    if paced {
        // Alone, every activity but a draft takes answers while the hours allow.
        if activity.state == ActivityState::Draft {
            return Err(SubmitError::NotActive(activity.state));
        }
        match facts.as_ref().map(|f| f.window(received)) {
            Some(Window::NotYetOpen(opens)) => return Err(SubmitError::NotYetOpen(opens)),
            Some(Window::Closed(closes)) => return Err(SubmitError::SessionClosed(Some(closes))),
            _ => {}
        }
    } else {
        if activity.state != ActivityState::Active {
            return Err(SubmitError::NotActive(activity.state));
        }
        if activity
            .deadline_at
            .is_some_and(|deadline| received >= deadline)
        {
            return Err(SubmitError::TimeUp);
        }
    }
    let prepared = live.prepared(activity).await?;
    let moderator = match &facts {
        Some(facts) => facts.moderator.clone(),
        None => Arc::new(crate::moderation::Moderator::OFF),
    };
    let context = AnswerContext {
        participant: author.id,
        received,
        revealed: activity.results_visible_to_participants(),
        moderator: &moderator,
        own_slots: &|| tallies.slots_of(activity.id, activity.round, author.id),
    };
    let checked = if paced {
        if !prepared.self_paced() {
            return Err(SubmitError::NotActive(activity.state));
        }
        let seen = paced_steps_seen(live, activity, author.id).await?;
        // An activity's own time limit runs, for each participant, from when they opened it.
        if let (Some(limit), Some(first)) = (activity.time_limit_seconds, seen.values().min())
            && received >= *first + chrono::Duration::seconds(i64::from(limit))
        {
            return Err(SubmitError::TimeUp);
        }
        prepared.check_paced_answer(answer, &context, &|step| seen.get(&step).copied())
    } else {
        prepared.check_answer(answer, &context)
    }
    .map_err(SubmitError::InvalidAnswer)?;
    // An answer about another (an upvote about its question) is refused, not stored and
    // ignored, when that other does not exist. Memory first; storage when memory says no,
    // since another instance may have stored it a moment ago.
    if let Some(reference) = &checked.refers_to {
        let (activity_id, round, me) = (activity.id, activity.round, author.id);
        let found = match tallies.has_reference(activity_id, round, me, reference) {
            Some(true) => true,
            _ => {
                writer
                    .has_reference(activity_id, round, me, reference)
                    .await?
            }
        };
        if !found {
            return Err(SubmitError::InvalidAnswer(reference.missing.clone()));
        }
    }
    let normalized: Value = serde_json::from_str(&checked.json).unwrap_or(Value::Null);
    let write = ResponseWrite {
        id: ResponseId::new(),
        activity_id: activity.id,
        session_id: activity.session_id,
        participant_id: author.id,
        round: activity.round,
        slot: checked.slot.clone(),
        answer: checked.json,
        client_request_id,
        at: received,
        answerable_since: checked.answerable_since,
        final_answer: prepared.final_answers(),
    };
    let held = Held {
        answer: checked.value,
        nickname: author.nickname,
        at: received,
        since: checked.answerable_since,
        team: author.team,
    };
    match writer.write(write, held).await? {
        WriteOutcome::Stored => Ok(Submitted {
            stored: true,
            round: activity.round,
            slot: checked.slot,
            answer: Some(normalized),
        }),
        WriteOutcome::Replay => Ok(Submitted {
            stored: false,
            round: activity.round,
            slot: checked.slot,
            answer: None,
        }),
        WriteOutcome::ActivityNotActive => Err(SubmitError::NotActive(ActivityState::Closed)),
        WriteOutcome::TimeUp => Err(SubmitError::TimeUp),
        WriteOutcome::ParticipantInactive => Err(SubmitError::ParticipantRemoved),
        WriteOutcome::AlreadyAnswered => Err(SubmitError::AlreadyAnswered),
        WriteOutcome::SessionClosed => Err(SubmitError::SessionClosed(
            facts.and_then(|f| f.hours.closes_at),
        )),
    }
}

/// When the participant first opened each step of the activity's current round.
async fn paced_steps_seen(
    live: &Live,
    activity: &Activity,
    participant: ParticipantId,
) -> Result<std::collections::HashMap<usize, DateTime<Utc>>, StoreError> {
    Ok(live
        .store
        .steps_seen(participant, activity.id, activity.round)
        .await?
        .into_iter()
        .filter_map(|(step, at)| Some((usize::try_from(step).ok()?, at)))
        .collect())
}

/// The participant's own responses in the session, to restore a phone after a reload.
pub async fn mine(
    store: &dyn Store,
    participant: ParticipantId,
) -> Result<Vec<StoredResponse>, StoreError> {
    store.responses_of_participant(participant).await
}
