//! The domain's live state, one per process: the rows the hot paths read (sessions'
//! status and content filter, activities), kept until a change forgets them, and the rounds
//! in the tallies, loaded through the writer and rebound when a host command changes a
//! kind's state. Use cases receive it as one argument, and it is where they report what
//! they committed ([`Changes`]): it forgets what changed, then tells the fan-out.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use parking_lot::Mutex;

use super::tally::{Folded, Tallies};
use super::writer::Writer;
use crate::ids::{ActivityId, SessionId};
use crate::kinds::{ActivityRegistry, PrepareError, Prepared};
use crate::model::activity::{self, Activity, ActivityState};
use crate::model::changes::{Change, Changes};
use crate::model::session::{Hours, Pace, SessionStatus, Window};
use crate::moderation::Moderator;
use crate::storage::{Store, StoreError};

/// Why a round could not be loaded into the tallies: its activity does not fit its kind,
/// or storage failed.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The activity could not be bound to its kind.
    #[error(transparent)]
    Prepare(#[from] PrepareError),
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What the participants' paths need of a session; see [`Live::session_facts`].
pub struct SessionFacts {
    /// The content filter, from the session's settings.
    pub moderator: Arc<Moderator>,
    /// Draft, active or completed.
    pub status: SessionStatus,
    /// Live or self-paced.
    pub pace: Pace,
    /// A self-paced session's opening and closing times.
    pub hours: Hours,
}

impl SessionFacts {
    /// Where `at` falls in a self-paced session's hours; a live session is always open.
    pub fn window(&self, at: DateTime<Utc>) -> Window {
        self.pace.window(self.hours, at)
    }
}

/// Values read from storage (or built from it), kept until a change forgets them. Every
/// forget bumps a generation, so a read that raced a change is not kept.
pub struct ReadCache<K, V> {
    inner: Mutex<(u64, HashMap<K, Arc<V>>)>,
}

impl<K: Copy + Eq + std::hash::Hash, V> Default for ReadCache<K, V> {
    fn default() -> Self {
        Self {
            inner: Mutex::new((0, HashMap::new())),
        }
    }
}

impl<K: Copy + Eq + std::hash::Hash, V> ReadCache<K, V> {
    /// The kept value, or else what `load` reads, kept unless a forget came while it read.
    /// Nothing is kept for a row that does not exist. (`load` is only called on a miss: the
    /// storage futures are boxed.)
    pub async fn get_or_load<E, F: Future<Output = Result<Option<V>, E>>>(
        &self,
        key: K,
        load: impl FnOnce() -> F,
    ) -> Result<Option<Arc<V>>, E> {
        let generation = {
            let inner = self.inner.lock();
            if let Some(found) = inner.1.get(&key) {
                return Ok(Some(found.clone()));
            }
            inner.0
        };
        let Some(found) = load().await?.map(Arc::new) else {
            return Ok(None);
        };
        let mut inner = self.inner.lock();
        if inner.0 == generation {
            inner.1.insert(key, found.clone());
        }
        Ok(Some(found))
    }

    /// Forgets the values `stale` picks.
    pub fn forget(&self, mut stale: impl FnMut(&K, &V) -> bool) {
        let mut inner = self.inner.lock();
        inner.0 += 1;
        inner.1.retain(|key, value| !stale(key, value));
    }
}

/// The domain's live state (see the module docs).
pub struct Live {
    /// The database.
    pub store: Arc<dyn Store>,
    /// Every activity kind.
    pub registry: Arc<ActivityRegistry>,
    /// The running rounds' answers and folded results.
    pub tallies: Arc<Tallies>,
    /// The group-commit writer, which also loads rounds into the tallies.
    pub writer: Writer,
    /// The URL phones and QR codes use.
    pub public_base_url: url::Url,
    /// Where committed changes go on to (the fan-out).
    fan_out: Arc<dyn Changes>,
    sessions: ReadCache<SessionId, SessionFacts>,
    activities: ReadCache<ActivityId, Activity>,
}

impl Live {
    /// The live state over storage, the tallies and their writer; changes go on to
    /// `fan_out` once this has forgotten what they make stale.
    pub fn new(
        store: Arc<dyn Store>,
        registry: Arc<ActivityRegistry>,
        tallies: Arc<Tallies>,
        writer: Writer,
        public_base_url: url::Url,
        fan_out: Arc<dyn Changes>,
    ) -> Arc<Self> {
        Arc::new(Self {
            store,
            registry,
            tallies,
            writer,
            public_base_url,
            fan_out,
            sessions: ReadCache::default(),
            activities: ReadCache::default(),
        })
    }

    /// A session's status and content filter, read from storage only when this instance
    /// has not read them since the session last changed (here or, through the relay, on
    /// another instance). For the high-rate participant paths (answers, reactions) that
    /// must not cost a database read each.
    pub async fn session_facts(
        &self,
        session: SessionId,
    ) -> Result<Option<Arc<SessionFacts>>, StoreError> {
        let read = async || {
            Ok(self.store.session(session).await?.map(|s| SessionFacts {
                moderator: Arc::new(Moderator::for_settings(&s.settings)),
                status: s.status,
                pace: s.pace,
                hours: s.hours(),
            }))
        };
        self.sessions.get_or_load(session, read).await
    }

    /// The content filter of a session, from its settings (off for a session that is gone).
    pub async fn moderator(&self, session: SessionId) -> Result<Arc<Moderator>, StoreError> {
        Ok(match self.session_facts(session).await? {
            Some(facts) => facts.moderator.clone(),
            None => Arc::new(Moderator::OFF),
        })
    }

    /// An activity as the answer path needs it, read from storage only when this instance
    /// has not read it since its session's activities last changed (here or, through the
    /// relay, on another instance). A stale copy in the moment before a notice arrives is
    /// harmless: the group commit checks state, round and deadline again in its
    /// transaction.
    pub async fn activity(&self, id: ActivityId) -> Result<Option<Arc<Activity>>, StoreError> {
        self.activities
            .get_or_load(id, || self.store.activity(id))
            .await
    }

    /// The kind bound to the activity's current round, loading the round into the tallies
    /// first if it is not there.
    pub async fn prepared(&self, activity: &Activity) -> Result<Arc<dyn Prepared>, LoadError> {
        match self.tallies.prepared(activity.id, activity.round) {
            Some(prepared) => Ok(prepared),
            None => self.load(activity).await,
        }
    }

    /// Current results of the activity's current round, folded on the server; the round
    /// is read from storage if it is not in memory.
    pub async fn results(&self, activity: &Activity) -> Result<Arc<Folded>, LoadError> {
        if let Some(folded) = self.tallies.results(activity.id, activity.round) {
            return Ok(folded);
        }
        self.load(activity).await?;
        self.tallies
            .results(activity.id, activity.round)
            .ok_or_else(|| StoreError::Internal("a loaded round vanished".into()).into())
    }

    /// Reads the activity's current round from storage into the tallies, through the
    /// writer (so a load never races a commit), bound to its kind.
    async fn load(&self, activity: &Activity) -> Result<Arc<dyn Prepared>, LoadError> {
        let prepared = self.registry.prepare(activity)?;
        self.writer.load(activity.clone(), prepared.clone()).await?;
        Ok(prepared)
    }

    /// Makes sure the session's current round is in the tallies, so events carry results.
    pub async fn ensure_loaded(&self, activities: &[Activity]) -> Result<(), LoadError> {
        if let Some(current) = activity::current(activities)
            && current.activated_at.is_some()
            && !self.tallies.is_loaded(current.id, current.round)
        {
            self.results(current).await?;
        }
        Ok(())
    }

    /// Binds the loaded rounds of the running activities to their kinds' state again: a
    /// host command here or on another instance may have changed it (a poll's lock), and
    /// answers are checked against it.
    pub fn rebind_running(&self, activities: &[Activity]) -> Result<(), PrepareError> {
        for activity in activities
            .iter()
            .filter(|a| a.state == ActivityState::Active)
        {
            if self.tallies.is_loaded(activity.id, activity.round) {
                self.tallies.rebind(
                    activity.id,
                    activity.round,
                    self.registry.prepare(activity)?,
                );
            }
        }
        Ok(())
    }

    /// Forgets what a change in `session` (made here or on another instance) makes stale.
    pub fn forget(&self, session: SessionId, change: Change) {
        if change == Change::Session {
            self.sessions.forget(|id, _| *id == session);
        }
        if matches!(change, Change::Session | Change::Activity) {
            self.activities
                .forget(|_, activity| activity.session_id == session);
        }
    }

    /// Forgets every kept row (after notices from other instances may have been missed).
    pub fn forget_all(&self) {
        self.activities.forget(|_, _| true);
        self.sessions.forget(|_, _| true);
    }

    /// Forgets the sessions' facts, to read them again when next needed (the fan-out's
    /// idle sweep, so memory follows the sessions in use).
    pub fn forget_sessions(&self) {
        self.sessions.forget(|_, _| true);
    }
}

impl Changes for Live {
    fn changed(&self, session: SessionId, change: Change) {
        self.forget(session, change);
        self.fan_out.changed(session, change);
    }

    fn timer(&self, activity: &Activity, now: DateTime<Utc>) {
        self.fan_out.timer(activity, now);
    }
}
