//! Emoji reactions: a fixed, session-wide set that is always available while the session is
//! open. A tap is counted in memory and acknowledged (`202 Accepted`); every quarter second
//! the counts are added to the session's per-minute totals in the database and a
//! `reactions` event with what is new goes to the big screen and the organizer, on every
//! instance. A crash loses at most the last quarter second of taps (decision 0006).

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, DurationRound, TimeDelta, Utc};
use parking_lot::Mutex;
use tokio_util::sync::CancellationToken;

use crate::ids::SessionId;
use crate::model::changes::{Change, Changes};
use crate::storage::{Store, StoreError, WriteThread};

/// The emoji set: the name the API uses and the glyph screens show.
pub const EMOJI: [(&str, &str); 6] = [
    ("thumbs_up", "👍"),
    ("heart", "❤️"),
    ("laugh", "😂"),
    ("wow", "😮"),
    ("clap", "👏"),
    ("party", "🎉"),
];

/// How often taps are stored and published.
pub const FLUSH: Duration = Duration::from_millis(250);

/// The emoji's name, given its name or its glyph.
pub fn parse(raw: &str) -> Option<&'static str> {
    let raw = raw.trim();
    EMOJI
        .iter()
        .find(|(name, glyph)| {
            *name == raw || *glyph == raw || glyph.trim_end_matches('\u{FE0F}') == raw
        })
        .map(|(name, _)| *name)
}

/// Taps waiting to be stored.
#[derive(Default)]
pub struct Reactions {
    pending: Mutex<HashMap<SessionId, BTreeMap<&'static str, i64>>>,
}

impl Reactions {
    /// Counts one tap.
    pub fn add(&self, session: SessionId, emoji: &'static str) {
        *self
            .pending
            .lock()
            .entry(session)
            .or_default()
            .entry(emoji)
            .or_default() += 1;
    }

    /// Stores what is pending and tells the hub; what could not be stored is kept for the
    /// next attempt.
    pub async fn flush(&self, store: &dyn Store, changes: &dyn Changes) {
        let pending = std::mem::take(&mut *self.pending.lock());
        let minute = minute_of(Utc::now());
        for (session, counts) in pending {
            let rows: Vec<(&str, i64)> = counts.iter().map(|(e, c)| (*e, *c)).collect();
            match store.add_reactions(session, minute, &rows).await {
                Ok(()) => changes.changed(session, Change::Reactions),
                Err(error) => {
                    tracing::warn!(session.id = %session, error = %error, "could not store reactions; retrying");
                    let mut again = self.pending.lock();
                    let entry = again.entry(session).or_default();
                    for (emoji, count) in counts {
                        *entry.entry(emoji).or_default() += count;
                    }
                }
            }
        }
    }

    /// Flushes every quarter second on `thread` until `stop`, then once more.
    pub fn start(
        self: &Arc<Self>,
        thread: &WriteThread,
        store: Arc<dyn Store>,
        changes: Arc<dyn Changes>,
        stop: CancellationToken,
    ) {
        let reactions = self.clone();
        thread.spawn(async move {
            let mut tick = tokio::time::interval(FLUSH);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tokio::select! {
                    _ = tick.tick() => reactions.flush(store.as_ref(), &changes).await,
                    () = stop.cancelled() => {
                        reactions.flush(store.as_ref(), &changes).await;
                        return;
                    }
                }
            }
        });
    }
}

/// The start of the minute `at` falls in.
pub fn minute_of(at: DateTime<Utc>) -> DateTime<Utc> {
    at.duration_trunc(TimeDelta::minutes(1)).unwrap_or(at)
}

/// A session's reactions: totals per emoji, and counts per minute.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, utoipa::ToSchema)]
pub struct ReactionHistory {
    /// Every emoji with its total (zero included), in the set's order.
    pub totals: BTreeMap<String, i64>,
    /// Per minute, oldest first: the minute's start and its counts per emoji.
    pub minutes: Vec<ReactionMinute>,
}

/// One minute of reactions.
#[derive(Debug, Clone, PartialEq, serde::Serialize, utoipa::ToSchema)]
pub struct ReactionMinute {
    /// The minute's start.
    pub minute: DateTime<Utc>,
    /// Counts per emoji (only those tapped).
    pub counts: BTreeMap<String, i64>,
}

/// Every emoji with zero, in the set's order: the start of a totals map.
fn zeros() -> BTreeMap<String, i64> {
    EMOJI
        .iter()
        .map(|(name, _)| ((*name).to_owned(), 0))
        .collect()
}

/// A session's totals per emoji, zero included.
pub async fn totals(
    store: &dyn Store,
    session: SessionId,
) -> Result<BTreeMap<String, i64>, StoreError> {
    let mut totals = zeros();
    totals.extend(store.reaction_sums(session, DateTime::UNIX_EPOCH).await?);
    Ok(totals)
}

/// A session's counts per emoji in the current minute (only those tapped).
pub async fn this_minute(
    store: &dyn Store,
    session: SessionId,
) -> Result<BTreeMap<String, i64>, StoreError> {
    Ok(store
        .reaction_sums(session, minute_of(Utc::now()))
        .await?
        .into_iter()
        .collect())
}

/// Reads a session's reactions.
pub async fn history(store: &dyn Store, session: SessionId) -> Result<ReactionHistory, StoreError> {
    let rows = store.reaction_minutes(session).await?;
    let mut history = ReactionHistory {
        totals: EMOJI
            .iter()
            .map(|(name, _)| ((*name).to_owned(), 0))
            .collect(),
        minutes: Vec::new(),
    };
    for (minute, emoji, count) in rows {
        *history.totals.entry(emoji.clone()).or_default() += count;
        match history.minutes.last_mut() {
            Some(last) if last.minute == minute => {
                last.counts.insert(emoji, count);
            }
            _ => history.minutes.push(ReactionMinute {
                minute,
                counts: BTreeMap::from([(emoji, count)]),
            }),
        }
    }
    Ok(history)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emoji_are_known_by_name_or_glyph() {
        assert_eq!(parse("clap"), Some("clap"));
        assert_eq!(parse("👏"), Some("clap"));
        assert_eq!(parse("❤️"), Some("heart"));
        assert_eq!(parse("❤"), Some("heart"), "without the variation selector");
        assert_eq!(parse("💩"), None);
        assert_eq!(parse(""), None);
    }

    #[test]
    fn minutes_start_on_the_minute() {
        let at = DateTime::parse_from_rfc3339("2026-11-28T10:15:42.5Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(minute_of(at).to_rfc3339(), "2026-11-28T10:15:00+00:00");
    }
}
