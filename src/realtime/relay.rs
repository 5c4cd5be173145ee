//! Across instances: every local change is also sent as a notice through the database
//! (PostgreSQL `NOTIFY`, coalesced to one per change per 100 ms), and notices from other
//! instances are replayed into the local hub. A `results` notice makes this instance read
//! the round again (at most every [`RELOAD_EVERY`]), so its tallies and the counts it
//! publishes equal what is stored. A lost
//! listener connection is re-established and followed by a full resync. On SQLite (one
//! instance) none of this runs.

use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;

use super::{Change, Hub};
use crate::ids::{ActivityId, SessionId};
use crate::model::activity::ActivityState;
use crate::participants::roster::Roster;
use crate::responses::live::Live;
use crate::storage::StoreError;

/// How long notices are gathered before they are sent.
pub const COALESCE: Duration = Duration::from_millis(100);
/// How often at most an activity's round is read again for other instances' answers.
/// A reload reads the whole round and holds up this instance's group commit while it runs,
/// so with several instances taking answers at once, reloading at every notice (ten a
/// second from each) kept the commit busy reading and answers waited for seconds.
pub const RELOAD_EVERY: Duration = Duration::from_millis(500);

/// Rounds other instances committed answers to, waiting to be read again.
#[derive(Default)]
struct Stale {
    rounds: parking_lot::Mutex<std::collections::HashMap<ActivityId, SessionId>>,
    signal: tokio::sync::Notify,
}

/// A change notice as sent between instances.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notice {
    /// The sending instance's epoch, so it ignores its own notices.
    pub origin: String,
    /// The session.
    pub session: SessionId,
    /// `session`, `activity`, `participants` or `results`.
    pub change: String,
    /// The activity, for `results`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub activity: Option<ActivityId>,
}

impl Notice {
    /// The notice for a local change.
    pub fn new(origin: &str, session: SessionId, change: Change) -> Self {
        let (name, activity) = match change {
            Change::Session => ("session", None),
            Change::Activity => ("activity", None),
            Change::Participants => ("participants", None),
            Change::Removed => ("removed", None),
            Change::Reactions => ("reactions", None),
            Change::Results(activity) => ("results", Some(activity)),
        };
        Self {
            origin: origin.to_owned(),
            session,
            change: name.to_owned(),
            activity,
        }
    }

    /// The change this notice reports.
    pub fn change(&self) -> Option<Change> {
        match (self.change.as_str(), self.activity) {
            ("session", _) => Some(Change::Session),
            ("activity", _) => Some(Change::Activity),
            ("participants", _) => Some(Change::Participants),
            ("removed", _) => Some(Change::Removed),
            ("reactions", _) => Some(Change::Reactions),
            ("results", Some(activity)) => Some(Change::Results(activity)),
            _ => None,
        }
    }
}

/// What the listener needs to apply notices.
pub struct Relay {
    /// The hub.
    pub hub: Arc<Hub>,
    /// The domain's live state: what a notice makes stale is forgotten there, and rounds
    /// are read again through its writer.
    pub live: Arc<Live>,
    /// Forgotten when another instance removes someone.
    pub roster: Arc<Roster>,
}

impl Relay {
    /// Starts the sender and the listener, if the database connects several instances.
    pub async fn start(self, stop: CancellationToken) -> Result<(), StoreError> {
        let Some(listener) = self.live.store.change_listener().await? else {
            return Ok(()); // SQLite: one instance, nobody to tell
        };
        self.hub.enable_relay();
        let relay = Arc::new(self);
        let stale = Arc::new(Stale::default());
        tokio::spawn(send_notices(relay.clone(), stop.clone()));
        tokio::spawn(reload_stale(relay.clone(), stale.clone(), stop.clone()));
        tokio::spawn(listen(relay, stale, listener, stop));
        Ok(())
    }

    fn apply(&self, stale: &Stale, notice: Notice) {
        let Some(change) = notice.change() else {
            return;
        };
        match change {
            Change::Participants | Change::Removed => self.roster.clear(),
            Change::Results(activity) => {
                // Read again shortly, then published (see RELOAD_EVERY).
                stale.rounds.lock().insert(activity, notice.session);
                stale.signal.notify_one();
                return;
            }
            Change::Session | Change::Activity | Change::Reactions => {}
        }
        self.live.forget(notice.session, change);
        self.hub.apply_remote(notice.session, change);
    }

    /// Reads a loaded round again (answers were committed elsewhere).
    async fn reload(&self, activity: ActivityId) -> Result<(), StoreError> {
        let Some(activity) = self.live.store.activity(activity).await? else {
            return Ok(());
        };
        if !self.live.tallies.is_loaded(activity.id, activity.round) {
            return Ok(()); // loaded from storage when first needed
        }
        let prepared = self
            .live
            .registry
            .prepare(&activity)
            .map_err(|e| StoreError::Internal(e.to_string()))?;
        self.live.writer.reload(activity, prepared).await
    }

    /// After notices may have been missed: read every loaded round again and republish
    /// every watched session.
    async fn resync(&self) -> Result<(), StoreError> {
        metrics::counter!("live_relay_resyncs_total").increment(1);
        self.roster.clear();
        self.live.forget_all();
        self.hub.forget_cached();
        for (id, round) in self.live.tallies.loaded() {
            if let Some(activity) = self.live.store.activity(id).await?
                && activity.round == round
                && activity.state == ActivityState::Active
            {
                self.reload(id).await?;
                self.hub
                    .apply_remote(activity.session_id, Change::Results(id));
            }
        }
        for session in self.hub.watched_sessions() {
            for change in [Change::Session, Change::Activity, Change::Participants] {
                self.hub.apply_remote(session, change);
            }
        }
        Ok(())
    }
}

async fn send_notices(relay: Arc<Relay>, stop: CancellationToken) {
    loop {
        tokio::select! {
            () = relay.hub.outbox_signal.notified() => {}
            () = stop.cancelled() => return,
        }
        for notice in relay.hub.take_outbox() {
            let Ok(payload) = serde_json::to_string(&notice) else {
                continue;
            };
            if let Err(error) = relay.live.store.notify_change(&payload).await {
                tracing::warn!(error = %error, "could not tell other instances about a change");
            }
        }
        tokio::select! {
            () = tokio::time::sleep(COALESCE) => {}
            () = stop.cancelled() => return,
        }
    }
}

/// Reads the rounds other instances answered again, each at most every [`RELOAD_EVERY`],
/// and publishes their results.
async fn reload_stale(relay: Arc<Relay>, stale: Arc<Stale>, stop: CancellationToken) {
    loop {
        tokio::select! {
            () = stale.signal.notified() => {}
            () = stop.cancelled() => return,
        }
        let rounds = std::mem::take(&mut *stale.rounds.lock());
        for (activity, session) in rounds {
            match relay.reload(activity).await {
                Ok(()) => relay.hub.apply_remote(session, Change::Results(activity)),
                Err(error) => {
                    tracing::warn!(activity.id = %activity, error = %error, "could not read a round again");
                }
            }
        }
        tokio::select! {
            () = tokio::time::sleep(RELOAD_EVERY) => {}
            () = stop.cancelled() => return,
        }
    }
}

async fn listen(
    relay: Arc<Relay>,
    stale: Arc<Stale>,
    mut listener: Box<dyn crate::storage::ChangeListener>,
    stop: CancellationToken,
) {
    loop {
        let received = tokio::select! {
            received = listener.next() => received,
            () = stop.cancelled() => return,
        };
        match received {
            Ok(Some(payload)) => {
                let Ok(notice) = serde_json::from_str::<Notice>(&payload) else {
                    tracing::warn!("ignoring a malformed change notice");
                    continue;
                };
                if notice.origin == relay.hub.epoch() {
                    continue;
                }
                metrics::counter!("live_relay_notices_total").increment(1);
                relay.apply(&stale, notice);
            }
            Ok(None) => {
                tracing::warn!("the change listener reconnected; resyncing");
                if let Err(error) = relay.resync().await {
                    tracing::warn!(error = %error, "resync failed");
                }
            }
            // The pool is closed for good (shutdown): release the connection and stop.
            Err(StoreError::Unavailable(sqlx::Error::PoolClosed)) => return,
            Err(_) if stop.is_cancelled() => return,
            Err(error) => {
                tracing::warn!(error = %error, "the change listener failed; reconnecting");
                tokio::select! {
                    () = tokio::time::sleep(Duration::from_millis(500)) => {}
                    () = stop.cancelled() => return,
                }
                match relay.live.store.change_listener().await {
                    Ok(Some(fresh)) => {
                        listener = fresh;
                        if let Err(error) = relay.resync().await {
                            tracing::warn!(error = %error, "resync failed");
                        }
                    }
                    Ok(None) => return,
                    Err(error) => {
                        tracing::warn!(error = %error, "could not reconnect the change listener")
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notices_round_trip_every_change() {
        let activity = ActivityId::new();
        for change in [
            Change::Session,
            Change::Activity,
            Change::Participants,
            Change::Removed,
            Change::Reactions,
            Change::Results(activity),
        ] {
            let notice = Notice::new("abc", SessionId::new(), change);
            let back: Notice =
                serde_json::from_str(&serde_json::to_string(&notice).unwrap()).unwrap();
            assert_eq!(back.change(), Some(change));
            assert!(
                serde_json::to_string(&notice).unwrap().len() < 200,
                "far below NOTIFY's 8000 bytes"
            );
        }
    }
}
