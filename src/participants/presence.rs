//! Presence: when each participant was last in touch, noted in memory (a heartbeat or a
//! request is a map insert, not a database write) and flushed to storage every few seconds.
//! Everything that shows presence reads storage (see `participants::online`), so every
//! page and every instance counts the same people as online.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use parking_lot::Mutex;

use crate::ids::ParticipantId;
use crate::storage::{Store, WriteThread};

/// How often each participant's last contact is written to storage.
pub const FLUSH_EVERY: Duration = Duration::from_secs(10);

/// The flush is spread over [`FLUSH_EVERY`] in this many shares, one share of the
/// participants (by id) each tick: a tenth of them every second rather than all of them at
/// once, so the answers' group commit never waits behind a run of presence statements.
const SHARES: u32 = 10;

/// Last contact per participant, not yet flushed.
#[derive(Default)]
pub struct PresenceBook {
    unflushed: Mutex<HashMap<ParticipantId, DateTime<Utc>>>,
}

impl PresenceBook {
    /// Notes contact now.
    pub fn touch(&self, participant: ParticipantId) {
        self.unflushed.lock().insert(participant, Utc::now());
    }

    /// Writes every pending contact time to storage.
    pub async fn flush(&self, store: &dyn Store) {
        self.flush_where(store, |_| true).await;
    }

    /// Writes the pending contact times of one share of the participants (see [`SHARES`]).
    pub async fn flush_share(&self, store: &dyn Store, share: u32) {
        let share = share % SHARES;
        self.flush_where(store, |id| share_of(id) == share).await;
    }

    async fn flush_where(&self, store: &dyn Store, mut due: impl FnMut(ParticipantId) -> bool) {
        let mut pending: Vec<(ParticipantId, DateTime<Utc>)> =
            self.unflushed.lock().extract_if(|id, _| due(*id)).collect();
        if pending.is_empty() {
            return;
        }
        // Ids are time-ordered (UUIDv7), and so is SQLite's row order of participants: in id
        // order, each chunk of the flush updates rows that share pages, instead of a page per
        // row.
        pending.sort_unstable_by_key(|(id, _)| *id);
        if let Err(error) = store.record_presence(&pending).await {
            tracing::warn!(error = %error, "could not record presence; will retry");
            let mut unflushed = self.unflushed.lock();
            for (id, at) in pending {
                unflushed.entry(id).or_insert(at);
            }
        }
    }

    /// Flushes one share every [`FLUSH_EVERY`] / [`SHARES`] on `thread`, so each
    /// participant's contact is written every [`FLUSH_EVERY`], until `stop` is cancelled;
    /// then flushes everything once more.
    pub fn start_flushing(
        self: &Arc<Self>,
        thread: &WriteThread,
        store: Arc<dyn Store>,
        stop: tokio_util::sync::CancellationToken,
    ) {
        let book = self.clone();
        thread.spawn(async move {
            let mut tick = tokio::time::interval(FLUSH_EVERY / SHARES);
            let mut share = 0;
            loop {
                tokio::select! {
                    _ = tick.tick() => {
                        book.flush_share(store.as_ref(), share).await;
                        share = (share + 1) % SHARES;
                    }
                    () = stop.cancelled() => {
                        book.flush(store.as_ref()).await;
                        return;
                    }
                }
            }
        });
    }
}

/// The share of the flush a participant belongs to: from the random end of its id.
fn share_of(id: ParticipantId) -> u32 {
    (id.0.as_u128() % u128::from(SHARES)) as u32
}
