//! Real-time fan-out: one [`Hub`] per process holds a room per session with three
//! audiences (organizer, viewer, participant). Every event is serialised once per audience
//! into a pre-framed SSE frame and appended to the room's log, which every stream of the
//! room reads from with a cursor of its own and which a reconnecting client resumes from.
//! The log is capped in bytes ([`ROOM_LOG_BYTES`]); a stream whose cursor falls off its
//! start is dropped and reconnects into a fresh snapshot. A stream costs its cursor, never
//! a copy of what it has not read.
//!
//! Results travel as deltas ([`delta`]): the room keeps, per audience and participants'
//! lane, the last results document it sent, and sends what changed since.
//!
//! A room nobody watches keeps little: when its last stream leaves, its log and results
//! bases go; results are not published to it, and its log holds at most
//! [`UNWATCHED_LOG_BYTES`] of other events, so that an organizer whose one device drops for
//! a moment resumes where it was. A client that resumes from before anything the room did
//! not keep gets a snapshot instead, as does one whose room was forgotten and made again.
//!
//! Use cases call [`Hub::changed`] after they commit; the hub re-reads the state and
//! publishes. Results are coalesced: the writer marks an activity dirty after each commit and
//! a ticker publishes its results at most every 100 ms to organizer and viewer, and every
//! second to participants (only when results are visible to them).

pub mod delta;
pub mod events;
pub mod relay;

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use bytes::Bytes;
use parking_lot::{Mutex, RwLock};
use tokio::sync::Notify;

pub use self::events::Audience;
use self::events::Frame;
use crate::ids::{ActivityId, SessionId};
use crate::model::activity::Activity;
pub use crate::model::changes::Change;
use crate::responses::live::{Live, ReadCache};
use crate::responses::tally::Document;

/// Bytes of frames a room keeps: every stream of the room reads from them, and a client
/// reconnecting with `Last-Event-ID` resumes from them. A stream that falls further behind
/// is dropped. Each frame counts its length plus [`FRAME_OVERHEAD`].
pub const ROOM_LOG_BYTES: usize = 2 << 20;
/// Bytes of frames a room keeps while no stream is subscribed to it.
pub const UNWATCHED_LOG_BYTES: usize = 64 << 10;
/// What one kept frame costs beside its bytes (its place in the log, its shared buffer).
pub const FRAME_OVERHEAD: usize = 64;
/// How often organizer and viewer get fresh results while votes come in.
pub const FAST_RESULTS: Duration = Duration::from_millis(100);
/// How often participants get fresh results (when visible to them).
pub const SLOW_RESULTS: Duration = Duration::from_secs(1);
/// Participants' streams are spread over this many lanes, and while votes come in each
/// publishing round refreshes one lane's results, so every phone gets results once per
/// [`SLOW_RESULTS`] (or less often, see [`PHONE_RESULTS_PER_SECOND`]) but never all at
/// once: waking every phone's stream in one burst holds up the answers queued behind it.
/// State changes still go to every lane at once.
pub const LANES: usize = (SLOW_RESULTS.as_millis() / FAST_RESULTS.as_millis()) as usize;
/// Most results frames one instance sends to participants' streams a second, over all
/// rooms. Up to this many phones, each gets results once per [`SLOW_RESULTS`]; with more,
/// lanes are paid less often (10,000 phones: every 2 s; 19,000: every 3.8 s), so the cost
/// of keeping phones' results fresh stays bounded however large the crowd, and state
/// changes, answers and the big screen keep the CPU. Organizer and viewer are not counted.
pub const PHONE_RESULTS_PER_SECOND: f64 = 5_000.0;
/// How often rooms without subscribers are forgotten.
pub const ROOM_IDLE: Duration = Duration::from_secs(300);

/// The use cases' changes reach every screen through the hub.
impl crate::model::changes::Changes for Hub {
    fn changed(&self, session: SessionId, change: Change) {
        Hub::changed(self, session, change);
    }

    fn timer(&self, activity: &Activity, now: chrono::DateTime<chrono::Utc>) {
        events::publish_timer(self, activity, now);
    }
}

/// Who a frame is for: an audience (on every lane for participants), or one participants'
/// lane.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Target {
    Audience(Audience),
    Lane(usize),
}

impl Target {
    /// The wake-up list its streams wait on: organizer, viewer, then one per lane.
    fn wake_index(self) -> usize {
        match self {
            Target::Audience(audience) => audience.index(),
            Target::Lane(lane) => 2 + lane,
        }
    }

    /// Its place in [`Log::gone`]: each audience, then each lane.
    fn gone_index(self) -> usize {
        match self {
            Target::Audience(audience) => audience.index(),
            Target::Lane(lane) => 3 + lane,
        }
    }
}

/// One frame in a room's log.
struct Logged {
    seq: u64,
    target: Target,
    frame: Frame,
}

/// A room's recent frames, capped in bytes. Positions count every frame ever appended, so a
/// stream's cursor stays valid while frames leave the front.
#[derive(Default)]
struct Log {
    entries: VecDeque<Logged>,
    /// The position of `entries[0]`.
    first: u64,
    bytes: usize,
    /// The highest event id that has left the log: a client that last saw an older one
    /// may have missed frames.
    dropped_seq: u64,
    /// For each target ([`Target::gone_index`]), one past the position of its last frame
    /// that left the log: a stream behind that missed one of its own; one behind only
    /// other audiences' frames (a phone while the organizer's results roll the log over)
    /// missed nothing.
    gone: [u64; 3 + LANES],
}

impl Log {
    fn end(&self) -> u64 {
        self.first + self.entries.len() as u64
    }

    /// Forgets every frame (nobody is left to read them): a client that comes back gets a
    /// snapshot.
    fn clear(&mut self) {
        if let Some(last) = self.entries.back() {
            self.dropped_seq = self.dropped_seq.max(last.seq);
        }
        self.first = self.end();
        self.gone = [self.first; 3 + LANES];
        self.entries = VecDeque::new();
        self.bytes = 0;
    }

    /// Whether a stream of `audience` reading `target`, next at `position`, missed a frame
    /// of its own that left the log.
    fn missed(&self, position: u64, audience: Target, target: Target) -> bool {
        self.gone[audience.gone_index()] > position || self.gone[target.gone_index()] > position
    }

    fn push(&mut self, seq: u64, target: Target, frame: Frame, cap: usize) {
        self.bytes += frame.len() + FRAME_OVERHEAD;
        self.entries.push_back(Logged { seq, target, frame });
        while self.bytes > cap && self.entries.len() > 1 {
            if let Some(gone) = self.entries.pop_front() {
                self.bytes -= gone.frame.len() + FRAME_OVERHEAD;
                self.dropped_seq = self.dropped_seq.max(gone.seq);
                self.first += 1;
                self.gone[gone.target.gone_index()] = self.first;
            }
        }
    }
}

/// The last results document a room sent to one audience or lane, the base of the next
/// delta ([`events::publish_results`]).
#[derive(Clone)]
pub(crate) struct Published {
    pub(crate) activity: ActivityId,
    pub(crate) round: i32,
    /// Unique in this process; clients apply a delta only to the version it was made from.
    pub(crate) version: u64,
    /// `None` while this audience may not see results.
    pub(crate) doc: Option<Arc<Document>>,
}

impl Published {
    pub(crate) fn of(activity: &Activity, version: u64, doc: Option<Arc<Document>>) -> Self {
        Self {
            activity: activity.id,
            round: activity.round,
            version,
            doc,
        }
    }

    /// Whether it is the base for this activity's current round.
    pub(crate) fn is_for(&self, activity: &Activity) -> bool {
        self.activity == activity.id && self.round == activity.round
    }
}

/// One session's subscribers and recent frames.
pub struct Room {
    log: RwLock<Log>,
    /// Organizer, viewer, then the participants' lanes.
    wake: Vec<Notify>,
    subscribers: [AtomicU64; 3],
    lane_subscribers: [AtomicU64; LANES],
    /// The lane the next participant's stream joins.
    next_lane: AtomicUsize,
    /// Per audience or lane, the results last sent (deltas are made against it).
    pub(crate) published: Mutex<HashMap<Target, Published>>,
    /// The reaction totals last sent (a `reactions` event counts what is new since).
    pub(crate) reactions: Mutex<Option<std::collections::BTreeMap<String, i64>>>,
}

impl Room {
    /// A room that knows nothing before event `made_at`: a client resuming from before it
    /// gets a snapshot.
    fn new(made_at: u64) -> Self {
        Self {
            log: RwLock::new(Log {
                dropped_seq: made_at,
                ..Log::default()
            }),
            wake: (0..2 + LANES).map(|_| Notify::new()).collect(),
            subscribers: std::array::from_fn(|_| AtomicU64::new(0)),
            lane_subscribers: std::array::from_fn(|_| AtomicU64::new(0)),
            next_lane: AtomicUsize::new(0),
            published: Mutex::new(HashMap::new()),
            reactions: Mutex::new(None),
        }
    }

    /// Open streams of one audience.
    pub fn subscribers(&self, audience: Audience) -> u64 {
        self.subscribers[audience.index()].load(Ordering::Relaxed)
    }

    /// Whether any stream is subscribed.
    pub fn is_watched(&self) -> bool {
        Audience::ALL.iter().any(|a| self.subscribers(*a) > 0)
    }

    /// Bytes its log holds now.
    pub fn log_bytes(&self) -> usize {
        self.log.read().bytes
    }
}

#[derive(Default)]
struct Pending {
    sessions: HashSet<SessionId>,
    activities: HashSet<SessionId>,
    participants: HashSet<SessionId>,
    removals: HashSet<SessionId>,
    reactions: HashSet<SessionId>,
    results: HashMap<ActivityId, SessionId>,
}

/// A session's status document for one audience, serialised once per change: the JSON
/// object without its closing brace (the reply adds `server_time`), and its entity tag.
pub struct PreparedStatus {
    /// `{"session_id":…,"current_activity":…` with no closing brace.
    pub open: Bytes,
    /// A weak entity tag (the clock in the reply changes; the state it reports does not).
    pub etag: String,
}

impl PreparedStatus {
    /// From a JSON object.
    pub fn new(body: &impl serde::Serialize) -> Self {
        let mut json = serde_json::to_vec(body).unwrap_or_else(|_| b"{}".to_vec());
        json.pop(); // the closing brace
        Self {
            etag: format!("W/\"{:016x}\"", events::tag_of(&json)),
            open: Bytes::from(json),
        }
    }
}

/// The process-wide fan-out.
pub struct Hub {
    rooms: Mutex<HashMap<SessionId, Arc<Room>>>,
    /// Identifies this process in event ids, so an id from another instance (or an earlier
    /// run) is recognised as unknown and answered with a snapshot.
    epoch: String,
    sequence: AtomicU64,
    pending: Mutex<Pending>,
    pending_signal: tokio::sync::Notify,
    /// Per activity with new results: the participants' lanes not yet sent them.
    lanes_owed: Mutex<HashMap<ActivityId, LanesOwed>>,
    /// What may still be sent to phones (see [`PHONE_RESULTS_PER_SECOND`]).
    phone_budget: Mutex<PhoneBudget>,
    relay_enabled: std::sync::atomic::AtomicBool,
    outbox: Mutex<HashSet<(SessionId, Change)>>,
    pub(crate) outbox_signal: tokio::sync::Notify,
    statuses: ReadCache<(SessionId, Audience), PreparedStatus>,
    snapshots: ReadCache<(SessionId, Audience), events::SnapshotBase>,
}

impl Hub {
    /// A hub with no rooms yet; call [`Hub::start`] to run its publisher.
    pub fn new() -> Arc<Self> {
        Arc::new(Self {
            rooms: Mutex::new(HashMap::new()),
            epoch: uuid::Uuid::new_v4().simple().to_string()[..8].to_owned(),
            sequence: AtomicU64::new(0),
            pending: Mutex::new(Pending::default()),
            pending_signal: tokio::sync::Notify::new(),
            lanes_owed: Mutex::new(HashMap::new()),
            phone_budget: Mutex::new(PhoneBudget::new(std::time::Instant::now())),
            relay_enabled: std::sync::atomic::AtomicBool::new(false),
            outbox: Mutex::new(HashSet::new()),
            outbox_signal: tokio::sync::Notify::new(),
            statuses: ReadCache::default(),
            snapshots: ReadCache::default(),
        })
    }

    /// The room of a session, created on first use.
    pub fn room(&self, session: SessionId) -> Arc<Room> {
        self.rooms
            .lock()
            .entry(session)
            .or_insert_with(|| Arc::new(Room::new(self.next_seq())))
            .clone()
    }

    pub(crate) fn existing_room(&self, session: SessionId) -> Option<Arc<Room>> {
        self.rooms.lock().get(&session).cloned()
    }

    /// Records a change made here: published locally and told to other instances.
    pub fn changed(&self, session: SessionId, change: Change) {
        if self.relay_enabled.load(Ordering::Relaxed) {
            self.outbox.lock().insert((session, change));
            self.outbox_signal.notify_one();
        }
        self.apply_remote(session, change);
    }

    /// Sends notices of local changes to other instances from now on.
    pub(crate) fn enable_relay(&self) {
        self.relay_enabled.store(true, Ordering::Relaxed);
    }

    /// The notices waiting to be sent.
    pub(crate) fn take_outbox(&self) -> Vec<relay::Notice> {
        std::mem::take(&mut *self.outbox.lock())
            .into_iter()
            .map(|(session, change)| relay::Notice::new(&self.epoch, session, change))
            .collect()
    }

    /// This process's epoch.
    pub fn epoch(&self) -> &str {
        &self.epoch
    }

    /// Sessions that have (or had) subscribers here.
    pub fn watched_sessions(&self) -> Vec<SessionId> {
        self.rooms.lock().keys().copied().collect()
    }

    /// A session's prepared status for an audience, built by `load` only when this
    /// instance has not built it since the session, its activities or its participants
    /// last changed (here or, through the relay, on another instance).
    pub async fn status<E, F: Future<Output = Result<Option<PreparedStatus>, E>>>(
        &self,
        session: SessionId,
        audience: Audience,
        load: impl FnOnce() -> F,
    ) -> Result<Option<Arc<PreparedStatus>>, E> {
        self.statuses.get_or_load((session, audience), load).await
    }

    /// What every new stream of an audience of a session starts from (`None`: no such
    /// session), built only when this instance has not built it since the session, its
    /// activities or its participants last changed (here or, through the relay, on another
    /// instance).
    pub async fn snapshot_base(
        &self,
        live: &Live,
        session: SessionId,
        audience: Audience,
    ) -> Result<Option<Arc<events::SnapshotBase>>, crate::activities::ActivityError> {
        self.snapshots
            .get_or_load((session, audience), || {
                events::SnapshotBase::load(live, session, audience)
            })
            .await
    }

    /// Drops every prepared snapshot and status (after notices may have been missed).
    pub(crate) fn forget_cached(&self) {
        self.snapshots.forget(|_, _| true);
        self.statuses.forget(|_, _| true);
    }

    /// Records a change (made here or reported by another instance) to publish shortly,
    /// coalesced with others.
    pub fn apply_remote(&self, session: SessionId, change: Change) {
        if !matches!(change, Change::Reactions | Change::Results(_)) {
            // Snapshot bases first: a status is built from one, and must not be built
            // from a stale one after its own cache was cleared.
            self.snapshots.forget(|(id, _), _| *id == session);
            self.statuses.forget(|(id, _), _| *id == session);
        }
        {
            let mut pending = self.pending.lock();
            match change {
                Change::Session => pending.sessions.insert(session),
                Change::Activity => pending.activities.insert(session),
                Change::Participants => pending.participants.insert(session),
                Change::Removed => pending.removals.insert(session),
                Change::Reactions => pending.reactions.insert(session),
                Change::Results(activity) => pending.results.insert(activity, session).is_none(),
            };
        }
        self.pending_signal.notify_one();
    }

    /// A new event id.
    pub(crate) fn next_id(&self) -> (u64, String) {
        let seq = self.next_seq();
        (seq, format!("{}-{seq}", self.epoch))
    }

    fn next_seq(&self) -> u64 {
        self.sequence.fetch_add(1, Ordering::Relaxed) + 1
    }

    /// When nobody watches the room, notes that a change was not sent to it (a client
    /// resuming from before then gets a snapshot) and returns true. Decided under the log's
    /// lock, so a stream subscribing meanwhile either is counted or sees the note.
    pub(crate) fn skip_unwatched(&self, room: &Room) -> bool {
        let mut log = room.log.write();
        if room.is_watched() {
            return false;
        }
        log.dropped_seq = log.dropped_seq.max(self.next_seq());
        true
    }

    /// Parses an event id of this process.
    pub fn parse_id(&self, id: &str) -> Option<u64> {
        let (epoch, seq) = id.split_once('-')?;
        (epoch == self.epoch).then(|| seq.parse().ok()).flatten()
    }

    /// Sends a frame to one audience of a room and keeps it for resuming clients.
    pub(crate) fn send(&self, room: &Room, audience: Audience, seq: u64, frame: Frame) {
        Self::send_to(room, Target::Audience(audience), seq, frame);
    }

    /// Appends a frame for `target` to the room's log and wakes its streams; returns how
    /// many streams it is for.
    pub(crate) fn send_to(room: &Room, target: Target, seq: u64, frame: Frame) -> usize {
        {
            let mut log = room.log.write();
            let cap = if room.is_watched() {
                ROOM_LOG_BYTES
            } else {
                UNWATCHED_LOG_BYTES
            };
            log.push(seq, target, frame, cap);
        }
        match target {
            Target::Audience(Audience::Participant) => {
                room.wake[2..].iter().for_each(Notify::notify_waiters);
                usize::try_from(room.subscribers(Audience::Participant)).unwrap_or(usize::MAX)
            }
            Target::Audience(audience) => {
                room.wake[target.wake_index()].notify_waiters();
                usize::try_from(room.subscribers(audience)).unwrap_or(usize::MAX)
            }
            Target::Lane(lane) => {
                room.wake[target.wake_index()].notify_waiters();
                usize::try_from(room.lane_subscribers[lane].load(Ordering::Relaxed))
                    .unwrap_or(usize::MAX)
            }
        }
    }

    /// Subscribes to one audience of a session (participants: to the next lane in turn),
    /// from the end of its log.
    pub fn subscribe(&self, session: SessionId, audience: Audience) -> Subscription {
        let room = self.room(session);
        room.subscribers[audience.index()].fetch_add(1, Ordering::Relaxed);
        metrics::gauge!("live_streams_open", "audience" => audience.as_str()).increment(1.0);
        let target = match audience {
            Audience::Participant => {
                let lane = room.next_lane.fetch_add(1, Ordering::Relaxed) % LANES;
                room.lane_subscribers[lane].fetch_add(1, Ordering::Relaxed);
                Target::Lane(lane)
            }
            other => Target::Audience(other),
        };
        let next = room.log.read().end();
        Subscription {
            room,
            audience,
            target,
            next,
            after_seq: 0,
        }
    }

    /// Moves a new subscription back to just after event `seq`, if the log still holds
    /// every frame since; returns false when a frame may have been missed (the client then
    /// needs a snapshot).
    pub fn resume_after(&self, subscription: &mut Subscription, seq: u64) -> bool {
        let log = subscription.room.log.read();
        if seq < log.dropped_seq {
            return false;
        }
        subscription.next = log.first;
        subscription.after_seq = seq;
        true
    }

    /// Forgets rooms nobody is subscribed to, so memory follows the sessions being watched,
    /// not every session ever watched. A client that reconnects later gets a snapshot.
    pub fn sweep(&self) {
        self.rooms.lock().retain(|_, room| room.is_watched());
    }

    /// Runs the publisher until `stop` is cancelled. It builds events from `live`, the
    /// domain's state, which it forgets sessions of when it sweeps idle rooms.
    pub fn start(self: &Arc<Self>, live: Arc<Live>, stop: tokio_util::sync::CancellationToken) {
        let hub = self.clone();
        let sweeper = self.clone();
        let sweep_stop = stop.clone();
        let sweep_live = live.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(ROOM_IDLE);
            loop {
                tokio::select! {
                    _ = tick.tick() => {
                        sweeper.sweep();
                        // Read again from storage when next needed.
                        sweep_live.forget_sessions();
                    }
                    () = sweep_stop.cancelled() => return,
                }
            }
        });
        tokio::spawn(async move {
            loop {
                // Wake for new changes, or at once while lanes are owed results.
                let owed = !hub.lanes_owed.lock().is_empty();
                let wait = if owed {
                    Duration::ZERO
                } else {
                    Duration::from_secs(3600)
                };
                tokio::select! {
                    () = hub.pending_signal.notified() => {}
                    () = tokio::time::sleep(wait) => {}
                    () = stop.cancelled() => return,
                }
                hub.publish_pending(&live).await;
                // Coalesce: whatever changes during the pause goes out in the next round.
                tokio::select! {
                    () = tokio::time::sleep(FAST_RESULTS) => {}
                    () = stop.cancelled() => return,
                }
            }
        });
    }

    async fn publish_pending(&self, live: &Live) {
        let pending = std::mem::take(&mut *self.pending.lock());
        for session in &pending.sessions {
            if let Err(error) = events::publish_session(self, live, *session).await {
                tracing::warn!(session.id = %session, error = %error, "could not publish a session change");
            }
        }
        for session in &pending.activities {
            if let Err(error) = events::publish_activity(self, live, *session).await {
                tracing::warn!(session.id = %session, error = %error, "could not publish an activity change");
            }
        }
        for session in pending.participants.union(&pending.removals) {
            let phones = pending.removals.contains(session);
            if let Err(error) = events::publish_participants(self, live, *session, phones).await {
                tracing::warn!(session.id = %session, error = %error, "could not publish the participant count");
            }
        }
        for session in &pending.reactions {
            if let Err(error) = events::publish_reactions(self, live, *session).await {
                tracing::warn!(session.id = %session, error = %error, "could not publish reactions");
            }
        }
        let fresh: Vec<(ActivityId, SessionId)> = pending
            .results
            .into_iter()
            // Nobody has ever subscribed: nothing to send.
            .filter(|(_, session)| self.existing_room(*session).is_some())
            .collect();
        // New results go to the screens now, and every activity owing participants results
        // pays its next lane (one per round: see LANES) while the phones' budget lasts, both
        // in one publish.
        let phones_may = self.phone_budget.lock().refill(std::time::Instant::now());
        let publish: Vec<(ActivityId, SessionId, bool, Option<usize>)> = {
            let mut owed = self.lanes_owed.lock();
            for (activity, session) in &fresh {
                owed.entry(*activity)
                    .and_modify(LanesOwed::owe_all)
                    .or_insert_with(|| LanesOwed::all(*session));
            }
            let publish = owed
                .iter_mut()
                .map(|(activity, lanes)| {
                    let screens = fresh.iter().any(|(new, _)| new == activity);
                    let lane = if phones_may { lanes.take_next() } else { None };
                    (*activity, lanes.session, screens, lane)
                })
                .filter(|(_, _, screens, lane)| *screens || lane.is_some())
                .collect();
            owed.retain(|_, lanes| !lanes.is_paid());
            publish
        };
        for (activity, session, screens, lane) in publish {
            match events::publish_results(self, live, session, activity, screens, lane).await {
                Ok(phones) => self.phone_budget.lock().spend(phones),
                Err(error) => {
                    tracing::warn!(activity.id = %activity, error = %error, "could not publish results");
                }
            }
        }
    }
}

/// Results frames that may still go to phones: refilled at [`PHONE_RESULTS_PER_SECOND`],
/// kept to one publishing round's worth, and spent per stream reached. A lane is paid
/// while anything is left, so the balance may go below zero by up to a lane; then the
/// next lanes wait until it is refilled.
struct PhoneBudget {
    balance: f64,
    at: std::time::Instant,
}

impl PhoneBudget {
    const MOST: f64 = PHONE_RESULTS_PER_SECOND * FAST_RESULTS.as_secs_f64();

    fn new(now: std::time::Instant) -> Self {
        Self {
            balance: Self::MOST,
            at: now,
        }
    }

    /// Adds what accrued since the last call; whether a lane may be paid now.
    fn refill(&mut self, now: std::time::Instant) -> bool {
        let elapsed = now.saturating_duration_since(self.at).as_secs_f64();
        self.at = now;
        self.balance = (self.balance + elapsed * PHONE_RESULTS_PER_SECOND).min(Self::MOST);
        self.balance > 0.0
    }

    #[expect(
        clippy::cast_precision_loss,
        reason = "stream counts are far below 2^52"
    )]
    fn spend(&mut self, frames: usize) {
        self.balance -= frames as f64;
    }
}

/// The participants' lanes still owed an activity's latest results, paid one per
/// publishing round in turn.
struct LanesOwed {
    session: SessionId,
    owed: [bool; LANES],
    next: usize,
}

impl LanesOwed {
    fn all(session: SessionId) -> Self {
        Self {
            session,
            owed: [true; LANES],
            next: 0,
        }
    }

    /// New results: every lane is owed them again, and the turn carries on where it was, so
    /// that while answers keep coming every lane is still paid in turn.
    fn owe_all(&mut self) {
        self.owed = [true; LANES];
    }

    /// The next owed lane, now counted as paid.
    fn take_next(&mut self) -> Option<usize> {
        let lane = (0..LANES)
            .map(|step| (self.next + step) % LANES)
            .find(|lane| self.owed[*lane])?;
        self.owed[lane] = false;
        self.next = (lane + 1) % LANES;
        Some(lane)
    }

    fn is_paid(&self) -> bool {
        !self.owed.contains(&true)
    }
}

/// One open stream's place in a room: a cursor into its log.
pub struct Subscription {
    room: Arc<Room>,
    audience: Audience,
    /// The audience's frames, or a participants' lane's.
    target: Target,
    /// The log position to read next.
    next: u64,
    /// Frames with this event id or an older one are skipped (already seen before a
    /// reconnect).
    after_seq: u64,
}

/// The stream fell so far behind that the frames it had not read left the log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lagged;

impl Subscription {
    /// The next frame for this stream, waiting for one if needed.
    pub async fn recv(&mut self) -> Result<Frame, Lagged> {
        let Self {
            room,
            audience,
            target,
            next,
            after_seq,
        } = self;
        let mine = Target::Audience(*audience);
        let wake = &room.wake[target.wake_index()];
        loop {
            // Registered before the log is read, so a frame appended in between still wakes.
            let notified = wake.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            {
                let log = room.log.read();
                if *next < log.first {
                    if log.missed(*next, mine, *target) {
                        return Err(Lagged);
                    }
                    *next = log.first;
                }
                while *next < log.end() {
                    let entry = &log.entries[usize::try_from(*next - log.first).unwrap_or(0)];
                    *next += 1;
                    if entry.seq > *after_seq && (entry.target == mine || entry.target == *target) {
                        return Ok(entry.frame.clone());
                    }
                }
            }
            notified.await;
        }
    }

    /// Whom it is for.
    pub fn audience(&self) -> Audience {
        self.audience
    }

    /// The audience or lane it reads.
    pub(crate) fn target(&self) -> Target {
        self.target
    }

    /// Its room.
    pub(crate) fn room(&self) -> &Arc<Room> {
        &self.room
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        self.room.subscribers[self.audience.index()].fetch_sub(1, Ordering::Relaxed);
        if let Target::Lane(lane) = self.target {
            self.room.lane_subscribers[lane].fetch_sub(1, Ordering::Relaxed);
        }
        // The last stream of the room is gone: its frames and results bases go too, rather
        // than wait for the sweep. (A stream that subscribes meanwhile starts at the end of
        // the log, so it misses nothing.)
        if !self.room.is_watched() {
            self.room.log.write().clear();
            self.room.published.lock().clear();
        }
        metrics::gauge!("live_streams_open", "audience" => self.audience.as_str()).decrement(1.0);
    }
}

/// A keep-alive comment, sent when nothing else was.
pub fn keep_alive() -> Bytes {
    Bytes::from_static(b": keep-alive\n\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phones_get_results_once_a_second_up_to_the_budget_and_less_often_beyond() {
        // Rounds in which a lane of `per_lane` phones is paid, over 10 s of rounds.
        let paid_rounds = |per_lane: usize| {
            let start = std::time::Instant::now();
            let mut budget = PhoneBudget::new(start);
            let mut paid = 0;
            for round in 1..=100 {
                if budget.refill(start + FAST_RESULTS * round) {
                    budget.spend(per_lane);
                    paid += 1;
                }
            }
            paid
        };
        assert_eq!(paid_rounds(0), 100, "no phones: nothing spent");
        assert_eq!(
            paid_rounds(400),
            100,
            "4,000 phones: every lane once a second"
        );
        assert_eq!(paid_rounds(500), 100, "5,000 phones: still once a second");
        assert_eq!(paid_rounds(1_000), 50, "10,000 phones: every 2 s");
        let crowd = paid_rounds(1_900);
        assert!(
            (26..=27).contains(&crowd),
            "19,000 phones: about every 3.8 s, got {crowd}"
        );
    }

    #[test]
    fn while_results_keep_changing_every_lane_is_still_paid_in_turn() {
        let mut owed = LanesOwed::all(SessionId::new());
        let mut paid = Vec::new();
        for _ in 0..LANES {
            // New answers before every publishing round.
            owed.owe_all();
            paid.push(owed.take_next().unwrap());
        }
        paid.sort_unstable();
        assert_eq!(paid, (0..LANES).collect::<Vec<_>>());
        // Once answers stop, the rest are paid and then nothing is owed.
        while owed.take_next().is_some() {}
        assert!(owed.is_paid());
    }
}
