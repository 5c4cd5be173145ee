//! In-memory tallies: for each loaded (activity, round), every participant's current answer
//! per slot, in its kind's own type. Results are folded from them on demand and cached per
//! version. Only the writer task changes answers (after its batch commits) and loads rounds
//! from the database, so memory never runs ahead of or behind what is stored.

use std::collections::HashMap;
use std::sync::Arc;

use parking_lot::Mutex;
use serde_json::Value;

use crate::activities::activity::Activity;
use crate::activities::kind::{AnyAnswer, Prepared};
use crate::ids::{ActivityId, ParticipantId};

/// One round's answers.
struct Round {
    prepared: Arc<dyn Prepared>,
    answers: HashMap<(ParticipantId, String), AnyAnswer>,
    version: u64,
    results: Option<(u64, Arc<Value>)>,
}

/// Every loaded round, shared by request handlers (readers) and the writer (the one writer).
#[derive(Default)]
pub struct Tallies {
    rounds: Mutex<HashMap<(ActivityId, i32), Round>>,
}

impl Tallies {
    /// True when the round is in memory.
    pub fn is_loaded(&self, activity: ActivityId, round: i32) -> bool {
        self.rounds.lock().contains_key(&(activity, round))
    }

    /// Puts a round in memory with the answers read from storage. Writer only.
    pub(crate) fn insert(
        &self,
        activity: &Activity,
        prepared: Arc<dyn Prepared>,
        answers: HashMap<(ParticipantId, String), AnyAnswer>,
    ) {
        self.rounds.lock().insert(
            (activity.id, activity.round),
            Round {
                prepared,
                answers,
                version: 1,
                results: None,
            },
        );
    }

    /// Records a committed answer. Writer only; a round not in memory is skipped, since
    /// loading it later reads the committed row.
    pub(crate) fn apply(
        &self,
        activity: ActivityId,
        round: i32,
        participant: ParticipantId,
        slot: String,
        answer: AnyAnswer,
    ) {
        if let Some(entry) = self.rounds.lock().get_mut(&(activity, round)) {
            entry.answers.insert((participant, slot), answer);
            entry.version += 1;
        }
    }

    /// Replaces the kind binding after a host command changed the kind's state (a lock).
    pub fn rebind(&self, activity: ActivityId, round: i32, prepared: Arc<dyn Prepared>) {
        if let Some(entry) = self.rounds.lock().get_mut(&(activity, round)) {
            entry.prepared = prepared;
        }
    }

    /// The kind binding of a loaded round.
    pub fn prepared(&self, activity: ActivityId, round: i32) -> Option<Arc<dyn Prepared>> {
        self.rounds
            .lock()
            .get(&(activity, round))
            .map(|r| r.prepared.clone())
    }

    /// Current results of a loaded round (folded again only when answers changed), with
    /// the version they reflect.
    pub fn results(&self, activity: ActivityId, round: i32) -> Option<(u64, Arc<Value>)> {
        let (prepared, answers, version) = {
            let rounds = self.rounds.lock();
            let entry = rounds.get(&(activity, round))?;
            if let Some((version, results)) = &entry.results
                && *version == entry.version
            {
                return Some((*version, results.clone()));
            }
            let answers: Vec<AnyAnswer> = entry.answers.values().cloned().collect();
            (entry.prepared.clone(), answers, entry.version)
        };
        // Folding happens outside the lock so the writer is never held up by a reader.
        let results = Arc::new(prepared.tally(&mut answers.iter()));
        if let Some(entry) = self.rounds.lock().get_mut(&(activity, round))
            && entry.version == version
        {
            entry.results = Some((version, results.clone()));
        }
        Some((version, results))
    }

    /// Every round in memory.
    pub fn loaded(&self) -> Vec<(ActivityId, i32)> {
        self.rounds.lock().keys().copied().collect()
    }

    /// Drops every round of an activity (deleted, or its session completed).
    pub fn forget(&self, activity: ActivityId) {
        self.rounds.lock().retain(|(id, _), _| *id != activity);
    }
}
