//! In-memory tallies: for each loaded (activity, round), every participant's current answer
//! per slot, in its kind's own type, with the nickname and the time it was received.
//! Results are folded from them on demand and cached per version, together with the views
//! of the organizer, the big screen and the phones. Only the writer task changes answers
//! (after its batch commits) and loads rounds from the database, so memory never runs ahead
//! of or behind what is stored.
//!
//! A round stays in memory while something uses it: an answer, a results view, a check.
//! Once a minute [`Tallies::sweep`] drops the rounds nobody used for [`IDLE_SWEEPS`]
//! sweeps, so a server that runs event after event holds the rounds of the events running
//! now, not of every event since it started. A dropped round is read from storage again
//! when it is next needed, exactly as after a restart.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use parking_lot::Mutex;
use serde_json::Value;

use crate::ids::{ActivityId, ParticipantId};
use crate::kinds::{AnyAnswer, AnyResults, Entry, Prepared, Reference, Viewer};
use crate::model::activity::{Activity, ActivityState};

/// One stored answer in memory.
#[derive(Clone)]
pub struct Held {
    /// The answer in its kind's type.
    pub answer: AnyAnswer,
    /// Who gave it, by name.
    pub nickname: Arc<str>,
    /// When the server received it.
    pub at: DateTime<Utc>,
    /// When the participant could first give it, if later than the round's opening
    /// ([`Entry::since`]).
    pub since: Option<DateTime<Utc>>,
    /// Their team, if the session has teams.
    pub team: Option<u16>,
}

/// How many sweeps, one a minute, a round may go unused before it leaves memory.
pub const IDLE_SWEEPS: u64 = 10;

/// How often [`Tallies::start_sweeping`] sweeps.
pub const SWEEP_EVERY: std::time::Duration = std::time::Duration::from_secs(60);

/// How often [`Tallies::start_sweeping`] lets go of folded results nobody read since the
/// time before: they are derived from the answers (and for open text or Q&A hold each
/// audience's document), so a session nobody watches keeps only its answers.
pub const FOLDED_EVERY: std::time::Duration = std::time::Duration::from_secs(4);

/// One round's answers.
struct Round {
    prepared: Arc<dyn Prepared>,
    answers: HashMap<(ParticipantId, String), Held>,
    /// Every slot some answer fills (answers replace, never leave a slot): for answers
    /// that refer to another (an upvote to its question) without a scan.
    slots: HashSet<String>,
    /// The slots each participant fills, for per-person caps.
    by_participant: HashMap<ParticipantId, Vec<String>>,
    version: u64,
    folded: Option<Arc<Folded>>,
    /// Whether `folded` was read since [`Tallies::drop_unread_folded`] last looked.
    folded_read: bool,
    /// The sweep during which it was last used.
    used_in: u64,
}

/// Round versions, unique in this process (a round read again from storage gets a new one).
static VERSIONS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

fn next_version() -> u64 {
    VERSIONS.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}

/// This process, in entity tags: the same version in another instance is other content.
fn process_tag() -> &'static str {
    static TAG: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    TAG.get_or_init(|| uuid::Uuid::new_v4().simple().to_string()[..8].to_owned())
}

/// A results document (the view with `activity_id`, `kind`, `round` and `state`) built
/// once and shared by every stream and read that needs it, with its JSON bytes and an
/// entity tag for `If-None-Match`.
#[derive(Debug)]
pub struct Document {
    /// The document.
    pub doc: Arc<Value>,
    /// It, serialised.
    pub bytes: bytes::Bytes,
    /// A strong entity tag, quoted.
    pub etag: String,
}

/// A document serialises as the document itself (its bytes serve HTTP reads and
/// snapshots without serialising again).
impl serde::Serialize for Document {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.doc.serialize(serializer)
    }
}

impl Document {
    fn new(doc: Value, etag: String) -> Arc<Document> {
        let bytes = serde_json::to_vec(&doc).unwrap_or_default().into();
        Arc::new(Document {
            doc: Arc::new(doc),
            bytes,
            etag,
        })
    }
}

/// Results folded at one version, with the documents built from them so far.
pub struct Folded {
    /// The version of the round they reflect, unique in this process.
    pub version: u64,
    /// The kind's results.
    pub results: AnyResults,
    prepared: Arc<dyn Prepared>,
    /// Documents built so far: per shared viewer and activity state. A viewer's view is
    /// made when its document is first asked for, and lives only inside the document.
    documents: Mutex<Vec<(u8, ActivityState, Arc<Document>)>>,
}

impl Folded {
    /// The binding that folded them.
    pub fn prepared(&self) -> &Arc<dyn Prepared> {
        &self.prepared
    }

    /// What `viewer` may see of the results now (`None`: nothing).
    pub fn view(&self, viewer: Viewer) -> Option<Value> {
        self.prepared.view(&self.results, viewer)
    }

    /// The results document of `viewer` (`None` when they may not see results now). For
    /// the organizer, the big screen and the phones' shared copy it is built once per
    /// version and activity state; a known participant's own view is built for them, and
    /// when the kind shows every phone the same (a poll), the shared copy serves them.
    pub fn document(&self, viewer: Viewer, activity: &Activity) -> Option<Arc<Document>> {
        let class = match viewer {
            Viewer::Organizer => 0,
            Viewer::Screen => 1,
            Viewer::Participant { me: Some(me) } if self.prepared.personal() => {
                let view = self.view(viewer)?;
                let etag = format!(
                    "\"{}-{}-{me}-{}\"",
                    process_tag(),
                    self.version,
                    activity.state.as_str()
                );
                return Some(Document::new(activity.results_document(view), etag));
            }
            Viewer::Participant { .. } => 2,
        };
        let mut documents = self.documents.lock();
        if let Some((_, _, found)) = documents
            .iter()
            .find(|(c, state, _)| *c == class && *state == activity.state)
        {
            return Some(found.clone());
        }
        let view = match class {
            0 => self.view(Viewer::Organizer).unwrap_or(Value::Null),
            1 => self.view(Viewer::Screen)?,
            _ => self.view(Viewer::Participant { me: None })?,
        };
        let etag = format!(
            "\"{}-{}-{class}-{}\"",
            process_tag(),
            self.version,
            activity.state.as_str()
        );
        let document = Document::new(activity.results_document(view), etag);
        documents.push((class, activity.state, document.clone()));
        Some(document)
    }
}

/// Every loaded round, shared by request handlers (readers) and the writer (the one writer).
#[derive(Default)]
pub struct Tallies {
    rounds: Mutex<Rounds>,
}

#[derive(Default)]
struct Rounds {
    by_key: HashMap<(ActivityId, i32), Round>,
    /// Sweeps so far.
    sweep: u64,
}

impl Rounds {
    /// The round, marked as used now.
    fn used(&mut self, activity: ActivityId, round: i32) -> Option<&mut Round> {
        let sweep = self.sweep;
        let entry = self.by_key.get_mut(&(activity, round))?;
        entry.used_in = sweep;
        Some(entry)
    }
}

impl Tallies {
    /// True when the round is in memory.
    pub fn is_loaded(&self, activity: ActivityId, round: i32) -> bool {
        self.rounds.lock().used(activity, round).is_some()
    }

    /// Puts a round in memory with the answers read from storage. Writer only.
    pub(crate) fn insert(
        &self,
        activity: &Activity,
        prepared: Arc<dyn Prepared>,
        answers: HashMap<(ParticipantId, String), Held>,
    ) {
        let mut by_participant: HashMap<ParticipantId, Vec<String>> = HashMap::new();
        for (participant, slot) in answers.keys() {
            by_participant
                .entry(*participant)
                .or_default()
                .push(slot.clone());
        }
        let mut rounds = self.rounds.lock();
        let used_in = rounds.sweep;
        rounds.by_key.insert(
            (activity.id, activity.round),
            Round {
                prepared,
                slots: answers.keys().map(|(_, slot)| slot.clone()).collect(),
                by_participant,
                answers,
                version: next_version(),
                folded: None,
                folded_read: false,
                used_in,
            },
        );
    }

    /// Records a committed answer. Writer only; a round not in memory is skipped, since
    /// loading it later reads the committed row.
    ///
    /// What the round keeps is decoded again from `stored`, the JSON just committed, rather
    /// than taken from the request: memory then holds exactly what storage holds, and what
    /// an event keeps is allocated here, on the writer's thread, instead of among a burst
    /// of requests' short-lived buffers, whose pages then go back to the system whole. The
    /// request's own answer (`held`) stands in only if the JSON cannot be decoded.
    pub(crate) fn apply(
        &self,
        activity: ActivityId,
        round: i32,
        participant: ParticipantId,
        slot: &str,
        held: Held,
        stored: &str,
    ) {
        let Some(prepared) = self.prepared(activity, round) else {
            return;
        };
        let held = Held {
            answer: prepared.decode_stored(stored).unwrap_or(held.answer),
            ..held
        };
        if let Some(entry) = self.rounds.lock().used(activity, round) {
            if !entry.slots.contains(slot) {
                entry.slots.insert(slot.to_owned());
            }
            let own = entry.by_participant.entry(participant).or_default();
            if !own.iter().any(|s| s == slot) {
                own.push(slot.to_owned());
            }
            entry.answers.insert((participant, slot.to_owned()), held);
            entry.version = next_version();
        }
    }

    /// Whether what an answer refers to is in a loaded round: `None` when the round is not
    /// in memory. A `false` may only mean that this instance has not heard of another's
    /// answer yet; [`crate::responses::submit`] then asks storage.
    pub fn has_reference(
        &self,
        activity: ActivityId,
        round: i32,
        participant: ParticipantId,
        reference: &Reference,
    ) -> Option<bool> {
        let mut rounds = self.rounds.lock();
        let entry = rounds.used(activity, round)?;
        Some(if reference.own {
            entry
                .answers
                .contains_key(&(participant, reference.slot.clone()))
        } else {
            entry.slots.contains(&reference.slot)
        })
    }

    /// The slots a participant fills in a loaded round (empty when the round is not in
    /// memory).
    pub fn slots_of(
        &self,
        activity: ActivityId,
        round: i32,
        participant: ParticipantId,
    ) -> Vec<String> {
        self.rounds
            .lock()
            .used(activity, round)
            .and_then(|r| r.by_participant.get(&participant).cloned())
            .unwrap_or_default()
    }

    /// Replaces the kind binding after a host command changed the kind's state (a lock, a
    /// reveal): answers are checked and results folded against it from now on.
    pub fn rebind(&self, activity: ActivityId, round: i32, prepared: Arc<dyn Prepared>) {
        if let Some(entry) = self.rounds.lock().used(activity, round) {
            entry.prepared = prepared;
            entry.version = next_version();
        }
    }

    /// The kind binding of a loaded round.
    pub fn prepared(&self, activity: ActivityId, round: i32) -> Option<Arc<dyn Prepared>> {
        self.rounds
            .lock()
            .used(activity, round)
            .map(|r| r.prepared.clone())
    }

    /// Current results of a loaded round (folded again only when answers or the binding
    /// changed).
    pub fn results(&self, activity: ActivityId, round: i32) -> Option<Arc<Folded>> {
        let (prepared, answers, version) = {
            let mut rounds = self.rounds.lock();
            let entry = rounds.used(activity, round)?;
            entry.folded_read = true;
            if let Some(folded) = &entry.folded
                && folded.version == entry.version
            {
                return Some(folded.clone());
            }
            let answers: Vec<((ParticipantId, String), Held)> = entry
                .answers
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            (entry.prepared.clone(), answers, entry.version)
        };
        // Folding happens outside the lock so the writer is never held up by a reader.
        let entries: Vec<Entry<'_, AnyAnswer>> = answers
            .iter()
            .map(|((participant, slot), held)| Entry {
                participant: *participant,
                nickname: &held.nickname,
                slot,
                at: held.at,
                since: held.since,
                team: held.team,
                answer: &held.answer,
            })
            .collect();
        let results = prepared.tally(&entries);
        let folded = Arc::new(Folded {
            version,
            results,
            prepared,
            documents: Mutex::new(Vec::new()),
        });
        if let Some(entry) = self.rounds.lock().by_key.get_mut(&(activity, round))
            && entry.version == version
        {
            entry.folded = Some(folded.clone());
        }
        Some(folded)
    }

    /// Every round in memory.
    pub fn loaded(&self) -> Vec<(ActivityId, i32)> {
        self.rounds.lock().by_key.keys().copied().collect()
    }

    /// Drops every round of an activity (deleted, or its session completed).
    pub fn forget(&self, activity: ActivityId) {
        self.rounds
            .lock()
            .by_key
            .retain(|(id, _), _| *id != activity);
    }

    /// Ends a sweep: drops the rounds not used during this one nor the `idle - 1` before
    /// it, and returns how many it dropped.
    pub fn sweep(&self, idle: u64) -> usize {
        let mut rounds = self.rounds.lock();
        let before = rounds.by_key.len();
        let sweep = rounds.sweep;
        rounds
            .by_key
            .retain(|_, round| sweep - round.used_in < idle);
        rounds.sweep += 1;
        let dropped = before - rounds.by_key.len();
        metrics::gauge!("tally_rounds_loaded").set(rounds.by_key.len() as f64);
        metrics::counter!("tally_rounds_dropped_total").increment(dropped as u64);
        dropped
    }

    /// Drops the folded results that nobody read since the previous call, and returns
    /// how many it dropped. They are folded again when next asked for, at the same version.
    pub fn drop_unread_folded(&self) -> usize {
        let mut dropped = 0;
        for round in self.rounds.lock().by_key.values_mut() {
            if !std::mem::take(&mut round.folded_read) && round.folded.take().is_some() {
                dropped += 1;
            }
        }
        dropped
    }

    /// Until `stop`: sweeps every [`SWEEP_EVERY`], dropping rounds unused for
    /// [`IDLE_SWEEPS`] sweeps, and every [`FOLDED_EVERY`] drops unread folded results.
    pub fn start_sweeping(self: &Arc<Self>, stop: tokio_util::sync::CancellationToken) {
        let tallies = self.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(SWEEP_EVERY);
            let mut folded = tokio::time::interval(FOLDED_EVERY);
            tick.tick().await; // the first tick is immediate
            loop {
                tokio::select! {
                    _ = tick.tick() => {
                        tallies.sweep(IDLE_SWEEPS);
                    }
                    _ = folded.tick() => {
                        tallies.drop_unread_folded();
                    }
                    () = stop.cancelled() => return,
                }
            }
        });
    }
}
