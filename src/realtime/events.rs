//! The events a live stream carries and how each is built: `snapshot` first, then
//! `session`, `activity`, `results`, `participants`, `timer` and `shutdown`. Each is
//! serialised once per audience; what an audience may see decides its copy (hidden results
//! never reach viewers or participants; participants get the participant view of a config).
//! The shapes are documented in docs/realtime.md.

use std::sync::Arc;

use bytes::Bytes;
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;

use super::{Hub, LANES, Published, Subscription, Target, delta};
use crate::activities::{self, ActivityError};
use crate::ids::{ActivityId, ParticipantId, SessionId};
use crate::kinds::{ActivityRegistry, Viewer};
use crate::model::activity::{Activity, ActivityState, ResultsVisibility};
use crate::model::session::{Session, SessionStatus};
use crate::responses::live::Live;
use crate::responses::tally::Document;
use crate::storage::StoreError;

/// A pre-framed SSE message (`id`, `event`, `data` lines), shared by every subscriber.
pub type Frame = Bytes;

/// Who a stream is for; decides what it carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Audience {
    /// The session's organizer: everything, results at 10 Hz.
    Organizer,
    /// The big screen: what the room may see, results at 10 Hz.
    Viewer,
    /// A phone: state changes, and results once a second when visible.
    Participant,
}

impl Audience {
    /// All three.
    pub const ALL: [Audience; 3] = [Audience::Organizer, Audience::Viewer, Audience::Participant];

    pub(crate) fn index(self) -> usize {
        match self {
            Audience::Organizer => 0,
            Audience::Viewer => 1,
            Audience::Participant => 2,
        }
    }

    /// The name used in metrics.
    pub fn as_str(self) -> &'static str {
        match self {
            Audience::Organizer => "organizer",
            Audience::Viewer => "viewer",
            Audience::Participant => "participant",
        }
    }

    /// Whose view of results this audience gets.
    pub fn viewer(self) -> Viewer {
        match self {
            Audience::Organizer => Viewer::Organizer,
            Audience::Viewer => Viewer::Screen,
            Audience::Participant => Viewer::Participant { me: None },
        }
    }
}

/// Frames one event, in a buffer of exactly its size (the room's log counts frames by
/// their length, so spare capacity would be memory it does not see).
pub fn frame(id: &str, event: &str, data: &impl Serialize) -> Frame {
    let json = serde_json::to_vec(data).unwrap_or_else(|_| b"null".to_vec());
    json_frame(id, event, &json)
}

/// A complete SSE frame around JSON already serialised.
pub fn json_frame(id: &str, event: &str, json: &[u8]) -> Frame {
    let parts: [&[u8]; 7] = [
        b"id: ",
        id.as_bytes(),
        b"\nevent: ",
        event.as_bytes(),
        b"\ndata: ",
        json,
        b"\n\n",
    ];
    let mut framed = Vec::with_capacity(parts.iter().map(|p| p.len()).sum());
    for part in parts {
        framed.extend_from_slice(part);
    }
    Bytes::from(framed)
}

/// The session as every audience sees it.
#[derive(Debug, Clone, Serialize)]
pub struct SessionView {
    /// Its id.
    pub id: SessionId,
    /// Title.
    pub title: String,
    /// Draft, active or completed.
    pub status: SessionStatus,
    /// The join code.
    pub join_code: String,
    /// The link phones open; the QR code encodes it.
    pub join_url: String,
    /// Active participants.
    pub participant_count: u32,
    /// Capacity.
    pub max_participants: u32,
    /// Live or self-paced.
    pub pace: crate::model::session::Pace,
    /// A self-paced session's opening time, if set.
    pub opens_at: Option<chrono::DateTime<chrono::Utc>>,
    /// A self-paced session's closing time, if set.
    pub closes_at: Option<chrono::DateTime<chrono::Utc>>,
    /// Its teams, if any: names, how they are assigned, how the race ranks.
    pub teams: Option<crate::model::session::Teams>,
}

impl SessionView {
    fn new(session: &Session, base: &url::Url) -> Self {
        Self {
            id: session.id,
            title: session.title.clone(),
            status: session.status,
            join_code: session.join_code.as_str().to_owned(),
            join_url: session.join_code.url(base),
            participant_count: session.participant_count,
            max_participants: session.max_participants,
            pace: session.pace,
            opens_at: session.opens_at,
            closes_at: session.closes_at,
            teams: session.teams.clone(),
        }
    }
}

/// The current activity as one audience may see it: in live events and in the polling
/// status endpoint alike.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ActivityView {
    /// Its id.
    pub id: ActivityId,
    /// The kind.
    pub kind: String,
    /// Title.
    pub title: String,
    /// Active or closed.
    pub state: ActivityState,
    /// Current round.
    pub round: i32,
    /// Position in the agenda.
    pub position: i32,
    /// The configuration this audience may see.
    #[schema(value_type = Object)]
    pub config: Value,
    /// Kind-specific run-time state (a poll's lock).
    #[schema(value_type = Object)]
    pub kind_state: Value,
    /// Live or hidden.
    pub results_visibility: ResultsVisibility,
    /// Revealed this round.
    pub results_revealed: bool,
    /// Whether results are visible beyond the organizer now (live, or revealed). What
    /// each audience sees of them is the kind's choice (a poker table shows who voted
    /// before the reveal).
    pub results_visible: bool,
    /// Time limit.
    pub time_limit_seconds: Option<u32>,
    /// When it became active.
    pub activated_at: Option<DateTime<Utc>>,
    /// When the server closes it.
    pub deadline_at: Option<DateTime<Utc>>,
}

impl ActivityView {
    /// The view of `activity` for `audience`: the full config for the organizer, the
    /// participant view of it for everyone else.
    pub fn new(
        activity: &Activity,
        registry: &ActivityRegistry,
        audience: Audience,
    ) -> Result<Self, ActivityError> {
        let config = if audience == Audience::Organizer {
            activity.config.clone()
        } else {
            registry.prepare(activity)?.participant_config()
        };
        Ok(Self {
            id: activity.id,
            kind: activity.kind.clone(),
            title: activity.title.clone(),
            state: activity.state,
            round: activity.round,
            position: activity.position,
            config,
            kind_state: activity.kind_state.clone(),
            results_visibility: activity.results_visibility,
            results_revealed: activity.results_revealed,
            results_visible: audience == Audience::Organizer
                || activity.results_visible_to_participants(),
            time_limit_seconds: activity.time_limit_seconds,
            activated_at: activity.activated_at,
            deadline_at: activity.deadline_at,
        })
    }
}

/// One entry of the organizer's agenda.
#[derive(Debug, Clone, Serialize)]
pub struct AgendaItem {
    /// Its id.
    pub id: ActivityId,
    /// The kind.
    pub kind: String,
    /// Title.
    pub title: String,
    /// State.
    pub state: ActivityState,
    /// Position.
    pub position: i32,
    /// Round.
    pub round: i32,
}

/// The body of `activity` events and the activity part of `snapshot`.
#[derive(Debug, Clone, Serialize)]
pub struct ActivityEvent {
    /// The running activity, or else the one closed last; null before the first.
    pub activity: Option<ActivityView>,
    /// Its results, when this audience may see them.
    pub results: Option<Arc<Document>>,
    /// The version of `results`: the next `results` delta on this stream is made from it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub results_version: Option<u64>,
    /// Every activity in order (organizer only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agenda: Option<Vec<AgendaItem>>,
    /// The server's clock, to count down deadlines right.
    pub server_time: DateTime<Utc>,
}

/// Who a participant's stream belongs to.
#[derive(Debug, Clone, Serialize)]
pub struct Me {
    /// The participant.
    pub participant_id: ParticipantId,
    /// Their nickname.
    pub nickname: String,
}

fn agenda_of(activities: &[Activity]) -> Vec<AgendaItem> {
    activities
        .iter()
        .map(|a| AgendaItem {
            id: a.id,
            kind: a.kind.clone(),
            title: a.title.clone(),
            state: a.state,
            position: a.position,
            round: a.round,
        })
        .collect()
}

async fn activity_event(
    live: &Live,
    activities: &[Activity],
    audience: Audience,
) -> Result<ActivityEvent, ActivityError> {
    let current = activities::current(activities);
    let view = current
        .map(|activity| ActivityView::new(activity, &live.registry, audience))
        .transpose()?;
    let results = current
        .filter(|a| a.activated_at.is_some())
        .and_then(|activity| {
            let folded = live.tallies.results(activity.id, activity.round)?;
            folded.document(audience.viewer(), activity)
        });
    let agenda = (audience == Audience::Organizer).then(|| agenda_of(activities));
    Ok(ActivityEvent {
        activity: view,
        results,
        results_version: None,
        agenda,
        server_time: Utc::now(),
    })
}

/// What every new stream of one audience of a session starts from, prepared once and kept
/// until the session, its activities or its participants change (here or, through the
/// relay, on another instance): the session, the current activity and, for the organizer,
/// the agenda, already serialised.
pub struct SnapshotBase {
    /// The session.
    pub session: Session,
    /// The activity the session is on (see [`activities::current`]).
    current: Option<Activity>,
    /// `{"session":…,"activity":…` and the organizer's `,"agenda":…`, left open.
    members: Vec<u8>,
}

impl SnapshotBase {
    /// The activity the session is on.
    pub fn current(&self) -> Option<&Activity> {
        self.current.as_ref()
    }

    /// Reads and serialises what it holds; `None` when the session does not exist.
    pub(crate) async fn load(
        live: &Live,
        session_id: SessionId,
        audience: Audience,
    ) -> Result<Option<SnapshotBase>, ActivityError> {
        let Some(session) = live.store.session(session_id).await? else {
            return Ok(None);
        };
        let activities = live.store.activities_of(session_id).await?;
        let current = activities::current(&activities).cloned();
        let view = current
            .as_ref()
            .map(|activity| ActivityView::new(activity, &live.registry, audience))
            .transpose()?;
        let mut members = Members::default();
        members.value(
            "session",
            &SessionView::new(&session, &live.public_base_url),
        );
        members.value("activity", &view);
        if audience == Audience::Organizer {
            members.value("agenda", &agenda_of(&activities));
        }
        Ok(Some(SnapshotBase {
            session,
            current,
            members: members.0,
        }))
    }
}

/// A JSON object written member by member, some of them already serialised.
#[derive(Default)]
struct Members(Vec<u8>);

impl Members {
    fn key(&mut self, key: &str) {
        self.0.push(if self.0.is_empty() { b'{' } else { b',' });
        let _ = serde_json::to_writer(&mut self.0, key);
        self.0.push(b':');
    }

    fn value(&mut self, key: &str, value: &impl Serialize) {
        self.key(key);
        if serde_json::to_writer(&mut self.0, value).is_err() {
            self.0.extend_from_slice(b"null");
        }
    }

    fn raw(&mut self, key: &str, json: &[u8]) {
        self.key(key);
        self.0.extend_from_slice(json);
    }

    fn finish(mut self) -> Vec<u8> {
        if self.0.is_empty() {
            self.0.push(b'{');
        }
        self.0.push(b'}');
        self.0
    }
}

/// The `snapshot` a stream starts with, and what `GET /sessions/{id}/snapshot` answers:
/// `{"audience", "session", "activity", "agenda"?, "results", "results_version"?, "me"?,
/// "participants_online", "reactions"?, "server_time"}`. It is put together from prepared
/// bytes: the [`SnapshotBase`], the results document every stream shares (for a stream,
/// the base of its next delta, whose version it names), and the few values that are the
/// reader's own.
pub struct Snapshot {
    members: Members,
}

impl Snapshot {
    /// A strong entity tag of everything but the clock.
    pub fn etag(&self) -> String {
        format!("\"s{:016x}\"", tag_of(&self.members.0))
    }

    /// The JSON, with the clock.
    pub fn finish(self) -> Vec<u8> {
        with_clock(&self.members.0)
    }
}

/// A hash of a prepared reply's JSON (all but the clock), for its entity tag.
pub fn tag_of(open: &[u8]) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::hash::DefaultHasher::new();
    open.hash(&mut hasher);
    hasher.finish()
}

/// A JSON object left open (`{"a":1` with no closing brace), closed with the server's
/// clock as `server_time`: how every prepared reply that carries the clock ends.
pub fn with_clock(open: &[u8]) -> Vec<u8> {
    let mut members = Members(open.to_vec());
    members.value("server_time", &Utc::now());
    members.finish()
}

/// The snapshot of `audience`; `stream` is the subscription it starts (a stream's results
/// become the base of its deltas).
pub async fn snapshot(
    hub: &Hub,
    live: &Live,
    base: &SnapshotBase,
    audience: Audience,
    stream: Option<&Subscription>,
    me: Option<&Me>,
) -> Result<Snapshot, ActivityError> {
    let session_id = base.session.id;
    let reactions = if audience == Audience::Participant {
        None
    } else {
        let room = hub.existing_room(session_id);
        let known = room.as_ref().and_then(|room| room.reactions.lock().clone());
        Some(match known {
            Some(totals) => totals,
            None => {
                let totals = crate::reactions::totals(live.store.as_ref(), session_id).await?;
                // Later `reactions` events count what is new from here.
                if let Some(room) = room {
                    room.reactions.lock().get_or_insert_with(|| totals.clone());
                }
                totals
            }
        })
    };
    let mut out = Members(base.members.clone());
    out.value("audience", &audience);
    let mut results = None;
    if let Some(current) = &base.current {
        if current.activated_at.is_some() {
            live.ensure_loaded(std::slice::from_ref(current)).await?;
            results = live
                .tallies
                .results(current.id, current.round)
                .and_then(|folded| folded.document(audience.viewer(), current));
        }
        if let Some(stream) = stream {
            let mut published = stream.room().published.lock();
            let kept = published
                .get(&stream.target())
                .filter(|p| p.is_for(current))
                .cloned();
            let sent = kept.unwrap_or_else(|| {
                let fresh = Published::of(current, hub.next_id().0, results);
                published.insert(stream.target(), fresh.clone());
                fresh
            });
            results = sent.doc;
            out.value("results_version", &sent.version);
        }
    }
    match &results {
        Some(document) => out.raw("results", &document.bytes),
        None => out.raw("results", b"null"),
    }
    if let Some(me) = me {
        out.value("me", me);
    }
    // Only the organizer's run view shows who is online; a count per phone's snapshot would
    // cost a query each when a crowd reconnects.
    if audience == Audience::Organizer {
        let online = crate::participants::online(live.store.as_ref(), session_id).await?;
        out.value("participants_online", &online);
    }
    if let Some(reactions) = &reactions {
        out.value("reactions", reactions);
    }
    Ok(Snapshot { members: out })
}

/// Publishes a `session` event after the session itself changed (status, title, capacity).
pub async fn publish_session(
    hub: &Hub,
    live: &Live,
    session_id: SessionId,
) -> Result<(), StoreError> {
    let Some(room) = hub.existing_room(session_id) else {
        return Ok(());
    };
    let Some(session) = live.store.session(session_id).await? else {
        return Ok(());
    };
    let body = serde_json::json!({
        "session": SessionView::new(&session, &live.public_base_url),
        "server_time": Utc::now(),
    });
    let (seq, id) = hub.next_id();
    let shared = frame(&id, "session", &body);
    for audience in Audience::ALL {
        hub.send(&room, audience, seq, shared.clone());
    }
    Ok(())
}

/// Publishes an `activity` event (one copy per audience) after an activity or the agenda
/// changed.
pub async fn publish_activity(
    hub: &Hub,
    live: &Live,
    session_id: SessionId,
) -> Result<(), ActivityError> {
    let Some(room) = hub.existing_room(session_id) else {
        return Ok(());
    };
    let activities = live.store.activities_of(session_id).await?;
    live.ensure_loaded(&activities).await?;
    live.rebind_running(&activities)?;
    let current = activities::current(&activities);
    for audience in Audience::ALL {
        let mut body = activity_event(live, &activities, audience).await?;
        // Its results are the base of the deltas that follow, on every lane of the audience.
        let mut published = room.published.lock();
        let (seq, id) = hub.next_id();
        if let Some(current) = current {
            let doc = body.results.clone();
            for target in targets_of(audience) {
                published.insert(target, Published::of(current, seq, doc.clone()));
            }
            body.results_version = Some(seq);
        }
        hub.send(&room, audience, seq, frame(&id, "activity", &body));
    }
    Ok(())
}

/// The keys of [`Room::published`] an audience's frames go to.
fn targets_of(audience: Audience) -> Vec<Target> {
    match audience {
        Audience::Participant => (0..LANES).map(Target::Lane).collect(),
        other => vec![Target::Audience(other)],
    }
}

/// Publishes the participant count to the organizer and the big screen, and to phones only
/// when `phones` (after a removal, so that the removed one's stream wakes and ends). Phones
/// do not get every count: while a crowd joins it changes ten times a second, and sending
/// each change to every phone already there costs the square of the crowd.
pub async fn publish_participants(
    hub: &Hub,
    live: &Live,
    session_id: SessionId,
    phones: bool,
) -> Result<(), StoreError> {
    let Some(room) = hub.existing_room(session_id) else {
        return Ok(());
    };
    let Some(session) = live.store.session(session_id).await? else {
        return Ok(());
    };
    let body = serde_json::json!({
        "participant_count": session.participant_count,
        "max_participants": session.max_participants,
        "participants_online": crate::participants::online(live.store.as_ref(), session_id).await?,
    });
    let (seq, id) = hub.next_id();
    let shared = frame(&id, "participants", &body);
    let audiences: &[Audience] = if phones {
        &Audience::ALL
    } else {
        &[Audience::Organizer, Audience::Viewer]
    };
    for audience in audiences {
        hub.send(&room, *audience, seq, shared.clone());
    }
    Ok(())
}

/// Publishes a `reactions` event to the organizer and the big screen: the taps stored
/// since the last event (on any instance), and the session's totals.
pub async fn publish_reactions(
    hub: &Hub,
    live: &Live,
    session_id: SessionId,
) -> Result<(), StoreError> {
    let Some(room) = hub.existing_room(session_id) else {
        return Ok(());
    };
    let totals = crate::reactions::totals(live.store.as_ref(), session_id).await?;
    let this_minute = crate::reactions::this_minute(live.store.as_ref(), session_id).await?;
    let counts: std::collections::BTreeMap<String, i64> = {
        let before = room.reactions.lock().replace(totals.clone());
        totals
            .iter()
            .map(|(emoji, total)| {
                let seen = before.as_ref().and_then(|b| b.get(emoji)).copied();
                // A first event after subscribing shows nothing as new: only totals.
                (emoji.clone(), seen.map_or(0, |seen| total - seen))
            })
            .filter(|(_, new)| *new > 0)
            .collect()
    };
    let body = serde_json::json!({
        "counts": counts,
        "totals": totals,
        "this_minute": (!this_minute.is_empty()).then_some(&this_minute),
        "server_time": Utc::now(),
    });
    let (seq, id) = hub.next_id();
    let shared = frame(&id, "reactions", &body);
    for audience in [Audience::Organizer, Audience::Viewer] {
        hub.send(&room, audience, seq, shared.clone());
    }
    Ok(())
}

/// Publishes an activity's current results: to organizer and viewer when `screens`, to
/// the participants of `lane` when given, each only if that audience may see them.
/// Returns how many participants' streams it reached.
pub async fn publish_results(
    hub: &Hub,
    live: &Live,
    session_id: SessionId,
    activity_id: ActivityId,
    screens: bool,
    lane: Option<usize>,
) -> Result<usize, ActivityError> {
    let Some(room) = hub.existing_room(session_id) else {
        return Ok(0);
    };
    if hub.skip_unwatched(&room) {
        return Ok(0);
    }
    let Some(activity) = live.activity(activity_id).await? else {
        return Ok(0);
    };
    // A round not in memory (never needed here, or dropped unused by the tallies' sweep)
    // is read from storage, now that someone watches it.
    let folded = live.results(&activity).await?;
    let mut targets = Vec::with_capacity(3);
    if screens {
        targets.extend([
            (Audience::Organizer, Target::Audience(Audience::Organizer)),
            (Audience::Viewer, Target::Audience(Audience::Viewer)),
        ]);
    }
    if let Some(lane) = lane {
        targets.push((Audience::Participant, Target::Lane(lane % LANES)));
    }
    // Each audience gets its own view, serialised once for all its subscribers; one that
    // may not see results now gets nothing.
    let mut phones = 0;
    for (audience, target) in targets {
        let Some(document) = folded.document(audience.viewer(), &activity) else {
            continue;
        };
        let lists = folded.prepared().lists();
        let mut published = room.published.lock();
        let before = published
            .get(&target)
            .filter(|p| p.is_for(&activity))
            .and_then(|p| Some((p.version, p.doc.as_ref()?.doc.clone())));
        if before
            .as_ref()
            .is_some_and(|(_, old)| **old == *document.doc)
        {
            continue;
        }
        let (seq, id) = hub.next_id();
        let shared = results_frame(&id, seq, &activity, before, &document.doc, lists);
        published.insert(target, Published::of(&activity, seq, Some(document)));
        let reached = Hub::send_to(&room, target, seq, shared);
        if audience == Audience::Participant {
            phones = reached;
        }
    }
    metrics::counter!("live_results_published_total").increment(1);
    Ok(phones)
}

/// A `results` frame: the delta from `before` (its version and document) when there is
/// one and it is smaller, else the whole document.
fn results_frame(
    id: &str,
    version: u64,
    activity: &Activity,
    before: Option<(u64, Arc<Value>)>,
    doc: &Value,
    lists: &[(&str, &str)],
) -> Frame {
    let whole = || {
        frame(
            id,
            "results",
            &serde_json::json!({"activity_id": activity.id, "version": version, "results": doc}),
        )
    };
    let Some((base, old)) = before else {
        return whole();
    };
    let Some(change) = delta::diff(&old, doc, lists) else {
        return whole();
    };
    let small = frame(
        id,
        "results",
        &serde_json::json!({"activity_id": activity.id, "version": version, "base": base, "delta": change}),
    );
    if small.len() > 4096 {
        let full = whole();
        if full.len() < small.len() {
            metrics::counter!("live_results_frames_total", "kind" => "whole").increment(1);
            return full;
        }
    }
    metrics::counter!("live_results_frames_total", "kind" => "delta").increment(1);
    small
}

/// Publishes a running activity's countdown to every audience.
pub fn publish_timer(hub: &Hub, activity: &Activity, now: DateTime<Utc>) {
    let (Some(room), Some(deadline)) =
        (hub.existing_room(activity.session_id), activity.deadline_at)
    else {
        return;
    };
    let body = serde_json::json!({
        "activity_id": activity.id,
        "deadline_at": deadline,
        "remaining_ms": (deadline - now).num_milliseconds().max(0),
        "server_time": now,
    });
    let (seq, id) = hub.next_id();
    let shared = frame(&id, "timer", &body);
    for audience in Audience::ALL {
        hub.send(&room, audience, seq, shared.clone());
    }
}
