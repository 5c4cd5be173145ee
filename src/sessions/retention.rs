//! Retention: once a session has been completed for the configured period
//! (`RETENTION_DAYS`), or when its organizer asks, its participants' nicknames and every text
//! they typed are removed, and everything countable stays: who took part (as "Participant
//! 1", "Participant 2", … in join order), every vote, rating and score, every answer's time,
//! the number of words, answers and questions, upvotes and reactions.
//! See docs/templates.md ("Retention").

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::ids::{ActivityId, ResponseId};
use crate::kinds::ActivityRegistry;
use crate::model::session::{Session, SessionStatus};
use crate::responses::tally::Tallies;
use crate::sessions::SessionError;
use crate::storage::{Store, StoreError};

/// How often each instance looks for sessions past the retention period.
pub const SWEEP_EVERY: Duration = Duration::from_secs(3600);
/// Sessions anonymized per sweep at most; the next sweep takes the rest.
const SWEEP_BATCH: i64 = 100;

/// The nickname a participant gets, by join order from 1.
pub fn anonymous_nickname(number: usize) -> String {
    format!("Participant {number}")
}

/// Removes a completed session's nicknames and free text now; counts stay. Ok(false) when
/// it had been done already. Cached results of its activities are dropped, so nothing
/// served later still shows a name or a text.
pub async fn anonymize(
    store: &dyn Store,
    registry: &ActivityRegistry,
    tallies: &Tallies,
    session: &Session,
    now: DateTime<Utc>,
) -> Result<bool, SessionError> {
    if session.status != SessionStatus::Completed {
        return Err(SessionError::NotCompleted);
    }
    if session.anonymized_at.is_some() {
        return Ok(false);
    }
    let (participants, _) = store.list_participants(session.id, i64::MAX, 0).await?;
    let nicknames: Vec<_> = participants
        .iter()
        .enumerate()
        .map(|(index, p)| {
            let nickname = anonymous_nickname(index + 1);
            // A tab cannot be in a real nickname's key, so these never clash with one.
            let key = format!("\t{}", nickname.to_lowercase());
            (p.id, nickname, key)
        })
        .collect();
    let activities = store.activities_of(session.id).await?;
    let kinds: std::collections::HashMap<ActivityId, &str> =
        activities.iter().map(|a| (a.id, a.kind.as_str())).collect();
    let mut answers: Vec<(ResponseId, String)> = Vec::new();
    for response in store.responses_of_session(session.id).await? {
        let Some(kind) = kinds
            .get(&response.activity_id)
            .and_then(|name| registry.get(name))
        else {
            continue;
        };
        let stored: serde_json::Value = serde_json::from_str(&response.answer)
            .map_err(|e| StoreError::Corrupt(format!("response {}: {e}", response.id)))?;
        let redacted = kind
            .redact_answer(&stored)
            .map_err(|e| StoreError::Corrupt(format!("response {}: {e}", response.id)))?;
        if redacted != stored {
            answers.push((response.id, redacted.to_string()));
        }
    }
    let done = store
        .anonymize_session(session.id, &nicknames, &answers, now)
        .await?;
    for activity in &activities {
        tallies.forget(activity.id);
    }
    if done {
        tracing::info!(
            session.id = %session.id,
            participants = nicknames.len(),
            answers = answers.len(),
            "session anonymized"
        );
    }
    Ok(done)
}

/// Anonymizes the sessions completed more than `period` ago; returns how many.
pub async fn sweep(
    store: &dyn Store,
    registry: &ActivityRegistry,
    tallies: &Tallies,
    period: Duration,
    now: DateTime<Utc>,
) -> Result<usize, SessionError> {
    let period = chrono::Duration::from_std(period).unwrap_or(chrono::Duration::MAX);
    let cutoff = now
        .checked_sub_signed(period)
        .unwrap_or(DateTime::<Utc>::MIN_UTC);
    let mut done = 0;
    for id in store.sessions_to_anonymize(cutoff, SWEEP_BATCH).await? {
        let Some(session) = store.session(id).await? else {
            continue;
        };
        if anonymize(store, registry, tallies, &session, now).await? {
            done += 1;
        }
    }
    Ok(done)
}

/// Sweeps at start and then every [`SWEEP_EVERY`] until `stop` is cancelled. A failed sweep
/// is logged and tried again at the next tick.
pub fn start(
    store: Arc<dyn Store>,
    registry: Arc<ActivityRegistry>,
    tallies: Arc<Tallies>,
    period: Duration,
    stop: tokio_util::sync::CancellationToken,
) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(SWEEP_EVERY);
        loop {
            tokio::select! {
                _ = tick.tick() => {
                    match sweep(store.as_ref(), &registry, &tallies, period, Utc::now()).await {
                        Ok(0) => {}
                        Ok(count) => tracing::info!(sessions = count, "retention sweep anonymized sessions"),
                        Err(error) => tracing::warn!(error = %error, "retention sweep failed; trying again later"),
                    }
                }
                () = stop.cancelled() => return,
            }
        }
    });
}
