//! The simulated phones: each joins, holds its live stream and acts when its stream says
//! an activity opened. A group of phones runs in the load generator's own process, or in
//! a worker process of its own (`conflicto loadtest --worker`), which reads its [`Plan`] as
//! one JSON line on stdin, writes [`Progress`] lines and finally its [`Record`] on stdout,
//! and stops when stdin says `stop` or closes.
//!
//! Times that cross processes (when a phone heard of an activity, when an answer was
//! acknowledged) are wall-clock microseconds: every process runs on the same machine.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use futures_util::StreamExt;
use parking_lot::Mutex;
use rand::Rng;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::cli::root_cause;

/// Words phones put in the word cloud: plain, distinct, never stopwords.
pub const WORDS: [&str; 12] = [
    "rust", "speed", "latency", "tokio", "axum", "sqlite", "postgres", "stream", "phone", "screen",
    "cloud", "vote",
];
/// Every this-many-th participant asks a question in the Q&A.
pub const ASK_EVERY: usize = 100;
/// At most this many questions in all, so the wall shows every one.
pub const ASKED_MAX: usize = 150;
/// Joins and answers in flight at once per process, each on a connection of its own; the
/// rest wait their turn here. Phones behind a load balancer reach a server the same way:
/// the balancer carries their requests over a pool of connections to the server, while
/// every live stream holds one. Without a cap, a slow moment makes the pool open ever more
/// connections until the server runs out of file descriptors.
const IN_FLIGHT: usize = 128;
/// The same over venue Wi-Fi, where every request spends at least 200 ms on the air: the
/// wait is on each phone's own link, not in a balancer's pool, so many more are in flight.
const IN_FLIGHT_VENUE: usize = 1024;

/// What one group of phones does.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Plan {
    /// Servers; phone `i` uses `urls[i % len]`.
    pub urls: Vec<url::Url>,
    /// The session.
    pub session: String,
    /// The group's first participant index and how many it has.
    pub first: usize,
    pub count: usize,
    /// Joins per second for this group.
    pub join_rate: f64,
    /// Each phone answers at a random moment within this many seconds of hearing.
    pub vote_within: f64,
    /// Options of the polls.
    pub options: usize,
    /// The activities, by phase.
    pub activities: Activities,
    /// Participants in the whole run (all groups), to pace the ingest.
    pub total: usize,
    /// Seconds of continuous re-voting in the ingest phase, and the run's target rate.
    pub ingest: Option<(f64, f64)>,
    /// The phones reach the servers through the venue Wi-Fi proxy (`super::venue`).
    #[serde(default)]
    pub venue_wifi: bool,
}

/// The activity ids of each phase (absent phases are skipped).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Activities {
    pub poll: String,
    pub cloud: Option<String>,
    pub qna: Option<String>,
    pub ingest: Option<String>,
}

/// The phases, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    Poll = 0,
    Cloud = 1,
    Qna = 2,
    Ingest = 3,
}

impl Phase {
    pub const ALL: [Phase; 4] = [Phase::Poll, Phase::Cloud, Phase::Qna, Phase::Ingest];

    pub fn name(self) -> &'static str {
        match self {
            Phase::Poll => "poll",
            Phase::Cloud => "word cloud",
            Phase::Qna => "Q&A",
            Phase::Ingest => "ingest",
        }
    }

    pub fn activity(self, activities: &Activities) -> Option<&str> {
        match self {
            Phase::Poll => Some(&activities.poll),
            Phase::Cloud => activities.cloud.as_deref(),
            Phase::Qna => activities.qna.as_deref(),
            Phase::Ingest => activities.ingest.as_deref(),
        }
    }
}

/// Counters the coordinator polls while the run goes on.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize)]
pub struct Progress {
    pub joined: usize,
    pub connected: usize,
    pub failed: usize,
    /// Phones done with each phase (answered, failed, or had nothing to do).
    pub done: [usize; 4],
}

/// One phase's measurements.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct PhaseRecord {
    /// When each phone's stream delivered the activity (wall µs), and the server it is on
    /// (its index in the plan's URLs).
    pub heard: Vec<(u64, usize)>,
    /// Acknowledged answers: when (wall µs) and after how long (µs).
    pub acks: Vec<(u64, u64)>,
    pub errors: usize,
    /// What was acknowledged, counted: poll options (by index, as text), cloud words,
    /// upvotes per question id.
    pub counts: BTreeMap<String, u64>,
    /// Questions asked (Q&A).
    pub asked: usize,
}

/// Everything a group measured.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Record {
    pub join_errors: usize,
    pub stream_errors: usize,
    /// Streams the server ended (a restart, a drain) that were opened again.
    #[serde(default)]
    pub reconnects: usize,
    /// Answers sent again after a connection closed under them (see `Phone::post`).
    #[serde(default)]
    pub retried: usize,
    /// Answers sent a second time beside the first after [`HEDGE_AFTER`] without a reply.
    #[serde(default)]
    pub hedged: usize,
    /// Requests the server answered 429 or 503 that were sent again after `Retry-After`:
    /// joins, answers and stream opens (see [`told_to_wait`]).
    #[serde(default)]
    pub waits: usize,
    pub first_errors: Vec<String>,
    pub phases: [PhaseRecord; 4],
}

impl Record {
    pub fn error(&mut self, what: String) {
        if self.first_errors.len() < 5 {
            self.first_errors.push(what);
        }
    }

    /// Adds another group's record to this one.
    pub fn merge(&mut self, other: Record) {
        self.join_errors += other.join_errors;
        self.stream_errors += other.stream_errors;
        self.reconnects += other.reconnects;
        self.retried += other.retried;
        self.waits += other.waits;
        self.hedged += other.hedged;
        for error in other.first_errors {
            self.error(error);
        }
        for (mine, theirs) in self.phases.iter_mut().zip(other.phases) {
            mine.heard.extend(theirs.heard);
            mine.acks.extend(theirs.acks);
            mine.errors += theirs.errors;
            mine.asked += theirs.asked;
            for (key, count) in theirs.counts {
                *mine.counts.entry(key).or_default() += count;
            }
        }
    }
}

/// Wall-clock microseconds.
pub fn now_us() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_micros()).unwrap_or(u64::MAX))
}

/// No poll answer acknowledged yet.
const NO_PICK: u8 = u8::MAX;

/// A running group of phones.
pub struct Group {
    plan: Plan,
    client: reqwest::Client,
    record: Mutex<Record>,
    joined: AtomicUsize,
    connected: AtomicUsize,
    failed: AtomicUsize,
    done: [AtomicUsize; 4],
    /// Each phone's last acknowledged pick in the poll and in the ingest poll: the counts
    /// the server must show are these, since a later answer replaces an earlier one.
    picks: [Vec<AtomicU8>; 2],
    /// Questions this group's askers got acknowledged, for its upvoters.
    questions: Mutex<Vec<String>>,
    /// The phones' tasks (and the starter's), aborted by [`Group::finish`].
    tasks: Mutex<Vec<tokio::task::JoinHandle<()>>>,
    /// See [`IN_FLIGHT`].
    in_flight: tokio::sync::Semaphore,
}

impl Group {
    pub fn new(plan: Plan) -> anyhow::Result<Arc<Group>> {
        let client = reqwest::Client::builder()
            .pool_max_idle_per_host(1024)
            .tcp_nodelay(true)
            .connect_timeout(Duration::from_secs(10))
            .build()?;
        let picks = std::array::from_fn(|_| {
            (0..plan.count)
                .map(|_| AtomicU8::new(NO_PICK))
                .collect::<Vec<_>>()
        });
        let in_flight = if plan.venue_wifi {
            IN_FLIGHT_VENUE
        } else {
            IN_FLIGHT
        };
        Ok(Arc::new(Group {
            plan,
            client,
            record: Mutex::new(Record::default()),
            joined: AtomicUsize::new(0),
            connected: AtomicUsize::new(0),
            failed: AtomicUsize::new(0),
            done: std::array::from_fn(|_| AtomicUsize::new(0)),
            picks,
            questions: Mutex::new(Vec::new()),
            tasks: Mutex::new(Vec::new()),
            in_flight: tokio::sync::Semaphore::new(in_flight),
        }))
    }

    pub fn progress(&self) -> Progress {
        Progress {
            joined: self.joined.load(Ordering::Relaxed),
            connected: self.connected.load(Ordering::Relaxed),
            failed: self.failed.load(Ordering::Relaxed),
            done: std::array::from_fn(|i| self.done[i].load(Ordering::Relaxed)),
        }
    }

    /// Starts the phones, at the plan's join rate, in the background.
    pub fn start(self: &Arc<Self>) {
        let group = self.clone();
        let starter = tokio::spawn(async move {
            let pace = Duration::from_secs_f64(1.0 / group.plan.join_rate.max(1.0));
            let mut next = tokio::time::Instant::now();
            for local in 0..group.plan.count {
                tokio::time::sleep_until(next).await;
                next += pace;
                let phone = tokio::spawn(group.clone().phone(local));
                group.tasks.lock().push(phone);
            }
        });
        self.tasks.lock().push(starter);
    }

    /// Stops every phone; the record, with the last acknowledged poll picks counted in.
    pub fn finish(&self) -> Record {
        for task in self.tasks.lock().drain(..) {
            task.abort();
        }
        let mut record = std::mem::take(&mut *self.record.lock());
        for (phase, picks) in [Phase::Poll, Phase::Ingest].into_iter().zip(&self.picks) {
            let counts = &mut record.phases[phase as usize].counts;
            for pick in picks {
                let pick = pick.load(Ordering::Relaxed);
                if pick != NO_PICK {
                    *counts.entry(pick.to_string()).or_default() += 1;
                }
            }
        }
        record
    }

    fn fail(&self, stream: bool, what: String) {
        let mut record = self.record.lock();
        if stream {
            record.stream_errors += 1;
        } else {
            record.join_errors += 1;
        }
        record.error(what);
        drop(record);
        self.failed.fetch_add(1, Ordering::Relaxed);
    }

    async fn phone(self: Arc<Self>, local: usize) {
        let index = self.plan.first + local;
        let base = &self.plan.urls[index % self.plan.urls.len()];
        let joined = async {
            let url = base.join(&format!("api/v1/sessions/{}/join", self.plan.session))?;
            let started = Instant::now();
            loop {
                let turn = self.in_flight.acquire().await?;
                let response = self
                    .client
                    .post(url.clone())
                    .json(&json!({"nickname": format!("Phone {index}")}))
                    .send()
                    .await?;
                drop(turn);
                let status = response.status();
                if let Some(wait) = told_to_wait(&response, started, JOIN_PATIENCE) {
                    self.record.lock().waits += 1;
                    tokio::time::sleep(wait).await;
                    continue;
                }
                let body: Value = response.json().await?;
                anyhow::ensure!(status.is_success(), "join: {status} {body}");
                break Ok::<String, anyhow::Error>(
                    body["token"].as_str().unwrap_or_default().to_owned(),
                );
            }
        };
        let token = match joined.await {
            Ok(token) => token,
            Err(error) => {
                self.joined.fetch_add(1, Ordering::Relaxed);
                return self.fail(false, format!("{error:#}"));
            }
        };
        self.joined.fetch_add(1, Ordering::Relaxed);
        let events = match base.join(&format!("api/v1/sessions/{}/events", self.plan.session)) {
            Ok(url) => url,
            Err(error) => return self.fail(true, format!("stream: {error}")),
        };
        let phone = Phone {
            group: self.clone(),
            local,
            index,
            base: base.clone(),
            token: Arc::from(token),
        };
        let mut started = [false; 4];
        let mut connected = false;
        let held = hold_stream(&self.client, &events, &phone.token, |event| match event {
            StreamEvent::Opened => {
                if !std::mem::replace(&mut connected, true) {
                    self.connected.fetch_add(1, Ordering::Relaxed);
                }
            }
            StreamEvent::Reopened => self.record.lock().reconnects += 1,
            StreamEvent::Waited => self.record.lock().waits += 1,
            StreamEvent::Refused(why) => {
                let mut record = self.record.lock();
                record.stream_errors += 1;
                record.error(format!("stream: {why}"));
            }
            StreamEvent::Frame(frame) => {
                // Only `activity` events start a phase; they are few, so parsing is cheap.
                if !contains(frame, b"\nevent: activity\n") {
                    return;
                }
                let heard = now_us();
                let Some(current) = active_activity(frame) else {
                    return;
                };
                for phase in Phase::ALL {
                    if !started[phase as usize]
                        && phase.activity(&self.plan.activities) == Some(current.as_str())
                    {
                        started[phase as usize] = true;
                        self.record.lock().phases[phase as usize]
                            .heard
                            .push((heard, index % self.plan.urls.len()));
                        tokio::spawn(phone.clone().act(phase));
                    }
                }
            }
        })
        .await;
        if let Err(why) = held {
            self.fail(true, format!("stream: {why}"));
        }
    }
}

/// What [`hold_stream`] reports.
pub enum StreamEvent<'a> {
    /// The stream is open (the first time, or again).
    Opened,
    /// The server ended the stream and it was opened again.
    Reopened,
    /// A (re)connect was answered with an error or failed; it is tried again.
    Refused(String),
    /// A (re)connect was answered 429 or 503, and waited out as `Retry-After` asked.
    Waited,
    /// One whole event, up to its blank line.
    Frame(&'a [u8]),
}

/// Reconnects per stream before [`hold_stream`] gives up.
pub const MAX_RECONNECTS: u32 = 20;

/// Holds a live stream the way a browser's `EventSource` does: when the server ends it (a
/// restart, a drain during a deploy), it waits a random 0.1–1 s and reconnects with
/// `Last-Event-ID`, so the server replays what was missed. A 429 or 503 is waited out as
/// its `Retry-After` asks; another 4xx answer ends it for good (removed, session gone);
/// other 5xx answers and transport errors are reported and retried.
/// Returns why it gave up.
pub async fn hold_stream(
    client: &reqwest::Client,
    url: &url::Url,
    token: &str,
    mut on: impl FnMut(StreamEvent<'_>),
) -> Result<(), String> {
    let mut last_id: Option<String> = None;
    let mut opened_before = false;
    let mut attempts = 0;
    let mut waiting_since: Option<Instant> = None;
    loop {
        if attempts > 0 && waiting_since.is_none() {
            sleep_random(0.1, 1.0).await;
        }
        attempts += 1;
        if attempts > MAX_RECONNECTS + 1 {
            return Err(format!("gave up after {MAX_RECONNECTS} reconnects"));
        }
        let mut request = client.get(url.clone()).bearer_auth(token);
        if let Some(id) = &last_id {
            request = request.header("last-event-id", id.as_str());
        }
        let response = match request.send().await {
            Ok(r) if r.status().is_success() => r,
            Ok(r) if is_busy(r.status()) => {
                let since = *waiting_since.get_or_insert_with(Instant::now);
                match told_to_wait(&r, since, ANSWER_PATIENCE) {
                    Some(wait) => {
                        on(StreamEvent::Waited);
                        attempts -= 1;
                        tokio::time::sleep(wait).await;
                    }
                    None => on(StreamEvent::Refused(r.status().to_string())),
                }
                continue;
            }
            Ok(r) if r.status().is_client_error() => return Err(r.status().to_string()),
            Ok(r) => {
                on(StreamEvent::Refused(r.status().to_string()));
                continue;
            }
            Err(error) => {
                on(StreamEvent::Refused(error.to_string()));
                continue;
            }
        };
        waiting_since = None;
        on(StreamEvent::Opened);
        if std::mem::replace(&mut opened_before, true) {
            on(StreamEvent::Reopened);
        }
        let mut body = response.bytes_stream();
        let mut buffer: Vec<u8> = Vec::new();
        while let Some(Ok(chunk)) = body.next().await {
            buffer.extend_from_slice(&chunk);
            while let Some(frame) = next_frame(&mut buffer) {
                if let Some(id) = event_id(&frame) {
                    last_id = Some(id.to_owned());
                }
                on(StreamEvent::Frame(&frame));
            }
        }
    }
}

/// The `id:` of one event, if it has one.
fn event_id(frame: &[u8]) -> Option<&str> {
    std::str::from_utf8(frame)
        .ok()?
        .lines()
        .find_map(|line| {
            line.strip_prefix("id: ")
                .or_else(|| line.strip_prefix("id:"))
        })
        .map(str::trim)
        .filter(|id| !id.is_empty())
}

/// The id of the activity an `activity` event says is running, if any. Every phone reads
/// this frame at the same moment, on the cores the servers use, so only the two fields are
/// read, borrowed, rather than the whole frame into a `Value`.
fn active_activity(frame: &[u8]) -> Option<String> {
    #[derive(Deserialize)]
    struct Event<'a> {
        #[serde(borrow)]
        activity: Option<Running<'a>>,
    }
    #[derive(Deserialize)]
    struct Running<'a> {
        id: &'a str,
        state: &'a str,
    }
    let start = find(frame, b"\ndata: ")? + b"\ndata: ".len();
    let end = memchr::memchr(b'\n', &frame[start..]).map_or(frame.len(), |end| start + end);
    let event: Event<'_> = serde_json::from_slice(&frame[start..end]).ok()?;
    let activity = event.activity?;
    (activity.state == "active").then(|| activity.id.to_owned())
}

/// The name and the data line of one event frame.
pub fn event_of(frame: &[u8]) -> Option<(&str, &str)> {
    let text = std::str::from_utf8(frame).ok()?;
    let field = |name: &str| text.lines().find_map(|l| l.strip_prefix(name));
    Some((field("event: ")?, field("data: ")?))
}

/// One joined phone, cheap to clone into its answering tasks.
#[derive(Clone)]
struct Phone {
    group: Arc<Group>,
    local: usize,
    index: usize,
    base: url::Url,
    token: Arc<str>,
}

impl Phone {
    async fn act(self, phase: Phase) {
        let plan = &self.group.plan;
        let within = plan.vote_within.max(0.001);
        let Some(activity) = phase.activity(&plan.activities).map(str::to_owned) else {
            return;
        };
        match phase {
            Phase::Poll => {
                sleep_random(0.0, within).await;
                let pick = rand::rng().random_range(0..plan.options);
                self.answer(phase, &activity, json!({"options": [pick]}), Some(pick))
                    .await;
            }
            Phase::Cloud => {
                sleep_random(0.0, within).await;
                let words: Vec<&str> = {
                    let mut rng = rand::rng();
                    let mut words: Vec<&str> = Vec::new();
                    for _ in 0..rng.random_range(1..=3) {
                        let word = WORDS[rng.random_range(0..WORDS.len())];
                        if !words.contains(&word) {
                            words.push(word);
                        }
                    }
                    words
                };
                if self
                    .answer(phase, &activity, json!({"words": words}), None)
                    .await
                {
                    let mut record = self.group.record.lock();
                    for word in words {
                        *record.phases[phase as usize]
                            .counts
                            .entry(word.to_owned())
                            .or_default() += 1;
                    }
                }
            }
            Phase::Qna => {
                let asker =
                    self.index.is_multiple_of(ASK_EVERY) && self.index / ASK_EVERY < ASKED_MAX;
                if asker {
                    sleep_random(0.0, within / 2.0).await;
                    let text = format!("Question from p{} about the load test?", self.index);
                    self.ask(&activity, &text).await;
                } else {
                    sleep_random(within / 2.0, within).await;
                    let question = {
                        let questions = self.group.questions.lock();
                        (!questions.is_empty()).then(|| {
                            questions[rand::rng().random_range(0..questions.len())].clone()
                        })
                    };
                    match question {
                        Some(id) => {
                            if self
                                .answer(phase, &activity, json!({"upvote": id}), None)
                                .await
                            {
                                *self.group.record.lock().phases[phase as usize]
                                    .counts
                                    .entry(id)
                                    .or_default() += 1;
                            }
                        }
                        // Nobody in this group asked in time: nothing to upvote.
                        None => {
                            self.group.done[phase as usize].fetch_add(1, Ordering::Relaxed);
                        }
                    }
                }
            }
            Phase::Ingest => self.ingest(&activity).await,
        }
    }

    async fn ask(&self, activity: &str, text: &str) {
        let phase = Phase::Qna as usize;
        match self.post(activity, json!({"ask": {"text": text}})).await {
            Ok((at, took, body)) => {
                let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
                let mut record = self.group.record.lock();
                record.phases[phase].acks.push((at, took));
                record.phases[phase].asked += 1;
                drop(record);
                if let Some(id) = body["answer"]["ask"]["id"].as_str() {
                    self.group.questions.lock().push(id.to_owned());
                }
            }
            Err(error) => self.failed(Phase::Qna, error),
        }
        self.group.done[phase].fetch_add(1, Ordering::Relaxed);
    }

    /// Re-votes in the ingest poll, one answer at a time, for the phase's duration, paced
    /// so that all phones together send the target rate.
    async fn ingest(&self, activity: &str) {
        let plan = &self.group.plan;
        let Some((seconds, rate)) = plan.ingest else {
            return;
        };
        let interval = Duration::from_secs_f64(plan.total as f64 / rate.max(1.0));
        let url = match self.answer_url(activity) {
            Ok(url) => url,
            Err(error) => {
                self.failed(Phase::Ingest, error);
                self.group.done[Phase::Ingest as usize].fetch_add(1, Ordering::Relaxed);
                return;
            }
        };
        let end = Instant::now() + Duration::from_secs_f64(seconds);
        // Spread the phones' first answers over one interval.
        sleep_random(0.0, interval.as_secs_f64()).await;
        let mut next = tokio::time::Instant::now();
        while Instant::now() < end {
            let pick = rand::rng().random_range(0..plan.options);
            match self.post_to(&url, json!({"options": [pick]})).await {
                Ok((at, took, _)) => {
                    self.group.record.lock().phases[Phase::Ingest as usize]
                        .acks
                        .push((at, took));
                    self.group.picks[1][self.local].store(pick_byte(pick), Ordering::Relaxed);
                }
                Err(error) => self.failed(Phase::Ingest, error),
            }
            next += interval;
            tokio::time::sleep_until(next).await;
        }
        self.group.done[Phase::Ingest as usize].fetch_add(1, Ordering::Relaxed);
    }

    /// Sends one answer and records it; true when it was acknowledged as stored.
    async fn answer(
        &self,
        phase: Phase,
        activity: &str,
        answer: Value,
        pick: Option<usize>,
    ) -> bool {
        let stored = match self.post(activity, answer).await {
            Ok((at, took, _)) => {
                self.group.record.lock().phases[phase as usize]
                    .acks
                    .push((at, took));
                if let Some(pick) = pick {
                    self.group.picks[0][self.local].store(pick_byte(pick), Ordering::Relaxed);
                }
                true
            }
            Err(error) => {
                self.failed(phase, error);
                false
            }
        };
        self.group.done[phase as usize].fetch_add(1, Ordering::Relaxed);
        stored
    }

    fn failed(&self, phase: Phase, error: String) {
        let mut record = self.group.record.lock();
        record.phases[phase as usize].errors += 1;
        record.error(format!("{}: {error}", phase.name()));
    }

    /// Where answers to `activity` go.
    fn answer_url(&self, activity: &str) -> Result<url::Url, String> {
        self.base
            .join(&format!("api/v1/activities/{activity}/responses"))
            .map_err(|e| e.to_string())
    }

    /// Sends one answer, and once more beside it if no reply came within [`HEDGE_AFTER`], as
    /// the web app's phones do; the first reply wins. Both carry the same request id, so
    /// the server stores the answer once.
    async fn hedged_send(
        &self,
        url: &url::Url,
        body: &Value,
    ) -> Result<reqwest::Response, reqwest::Error> {
        let send = || {
            self.group
                .client
                .post(url.clone())
                .bearer_auth(&*self.token)
                .json(body)
                .send()
        };
        let first = send();
        tokio::pin!(first);
        tokio::select! {
            sent = &mut first => sent,
            () = tokio::time::sleep(HEDGE_AFTER) => {
                self.group.record.lock().hedged += 1;
                let second = send();
                tokio::pin!(second);
                tokio::select! {
                    sent = &mut first => sent,
                    sent = &mut second => sent,
                }
            }
        }
    }

    /// POSTs an answer to `activity` (see [`Phone::post_to`]).
    async fn post(&self, activity: &str, answer: Value) -> Result<(u64, u64, Bytes), String> {
        self.post_to(&self.answer_url(activity)?, answer).await
    }

    /// POSTs an answer: (acknowledged at, took µs, body) once it is stored. Like the web
    /// app's phones, a request that got no answer at all (a connection closed under it) is
    /// sent again with the same `client_request_id`, at most [`SEND_ATTEMPTS`] times; the
    /// server stores it once and answers a repeat with 200. Each repeat is counted in
    /// [`Record::retried`]. A 429 or 503 is waited out as the server asks (counted in
    /// [`Record::waits`]); any other HTTP error answer fails at once. The body is left unread
    /// as JSON: only a question's id is ever needed from it.
    async fn post_to(&self, url: &url::Url, answer: Value) -> Result<(u64, u64, Bytes), String> {
        // Time-ordered, like the web app's (docs/decisions/0011).
        let body = json!({"answer": answer, "client_request_id": uuid::Uuid::now_v7().to_string()});
        let sent = Instant::now();
        let mut attempt = 1;
        let response = loop {
            let turn = self
                .group
                .in_flight
                .acquire()
                .await
                .map_err(|e| e.to_string())?;
            let sending = self.hedged_send(url, &body).await;
            drop(turn);
            match sending {
                Ok(response) => match told_to_wait(&response, sent, ANSWER_PATIENCE) {
                    Some(wait) => {
                        self.group.record.lock().waits += 1;
                        tokio::time::sleep(wait).await;
                    }
                    None => break response,
                },
                Err(error) if attempt >= SEND_ATTEMPTS => {
                    return Err(format!("{attempt} attempts: {}", root_cause(&error)));
                }
                Err(_) => {
                    self.group.record.lock().retried += 1;
                    tokio::time::sleep(Duration::from_millis(200 * attempt)).await;
                    attempt += 1;
                }
            }
        };
        let took = u64::try_from(sent.elapsed().as_micros()).unwrap_or(u64::MAX);
        let at = now_us();
        let status = response.status();
        let body = response.bytes().await.unwrap_or_default();
        if status.is_success() {
            Ok((at, took, body))
        } else {
            Err(format!("{status} {}", String::from_utf8_lossy(&body)))
        }
    }
}

/// How often a phone sends one answer when no answer comes back (the web app: 3).
const SEND_ATTEMPTS: u64 = 3;

/// After this long without a reply an answer is sent once more beside the first (the web
/// app's `HEDGE_MS`).
const HEDGE_AFTER: Duration = Duration::from_millis(600);

/// How long the web app's phones keep trying to join a busy server before they say so.
const JOIN_PATIENCE: Duration = Duration::from_secs(30);

/// Answers and streams wait a busy server out for as long as the run lasts, as the web
/// app's do: it never drops an answer or stops following the stream, so a database
/// failover of a minute or two costs time, not votes.
const ANSWER_PATIENCE: Duration = Duration::MAX;

/// 429 and 503: the server asks to come back later.
fn is_busy(status: reqwest::StatusCode) -> bool {
    status == reqwest::StatusCode::TOO_MANY_REQUESTS
        || status == reqwest::StatusCode::SERVICE_UNAVAILABLE
}

/// For a 429 or 503 answer while the action has been tried for less than `patience`:
/// how long to wait, as the web app's phones do, `Retry-After` (1 s when absent) plus up
/// to half of it again as jitter. None for any other answer, or once patience ran out.
pub fn told_to_wait(
    response: &reqwest::Response,
    since: Instant,
    patience: Duration,
) -> Option<Duration> {
    if !is_busy(response.status()) || since.elapsed() > patience {
        return None;
    }
    let seconds = response
        .headers()
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<f64>().ok())
        .unwrap_or(1.0)
        .clamp(0.0, 30.0);
    let jitter = rand::rng().random_range(0.0..=seconds.max(0.5) / 2.0);
    Some(Duration::from_secs_f64(seconds + jitter))
}

fn pick_byte(pick: usize) -> u8 {
    u8::try_from(pick).unwrap_or(NO_PICK - 1)
}

async fn sleep_random(from: f64, to: f64) {
    let seconds = if to > from {
        rand::rng().random_range(from..to)
    } else {
        from
    };
    tokio::time::sleep(Duration::from_secs_f64(seconds.max(0.0))).await;
}

/// Takes one whole event (up to its blank line) off the front of what a stream delivered.
pub fn next_frame(buffer: &mut Vec<u8>) -> Option<Vec<u8>> {
    let end = find(buffer, b"\n\n")?;
    Some(buffer.drain(..end + 2).collect())
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    memchr::memmem::find(haystack, needle)
}

pub fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    find(haystack, needle).is_some()
}

/// A worker process: reads its plan, runs its phones, reports progress every 200 ms and
/// its record when told to stop (or when stdin closes, or after `timeout`).
pub async fn worker(timeout: Duration) -> anyhow::Result<()> {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    let mut lines = BufReader::new(tokio::io::stdin()).lines();
    let plan: Plan = match lines.next_line().await? {
        Some(line) => serde_json::from_str(&line)?,
        None => anyhow::bail!("no plan on stdin"),
    };
    let group = Group::new(super::venue::routed(plan).await?)?;
    group.start();
    let mut stdout = tokio::io::stdout();
    let deadline = tokio::time::Instant::now() + timeout;
    let mut tick = tokio::time::interval(Duration::from_millis(200));
    loop {
        tokio::select! {
            _ = tick.tick() => {
                let line = serde_json::to_string(&json!({"progress": group.progress()}))?;
                stdout.write_all(format!("{line}\n").as_bytes()).await?;
                stdout.flush().await?;
            }
            line = lines.next_line() => {
                match line {
                    Ok(Some(line)) if line.trim() != "stop" => {}
                    _ => break,
                }
            }
            () = tokio::time::sleep_until(deadline) => break,
        }
    }
    let line = serde_json::to_string(&json!({"record": group.finish()}))?;
    stdout.write_all(format!("{line}\n").as_bytes()).await?;
    stdout.flush().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_activity_event_names_the_running_activity_only() {
        let event = |body: &str| format!("id: e-1\nevent: activity\ndata: {body}\n\n");
        let running = event(
            r#"{"activity":{"id":"a1","kind":"poll","config":{"options":["x"]},"state":"active"},"results":{}}"#,
        );
        assert_eq!(active_activity(running.as_bytes()).as_deref(), Some("a1"));
        let closed = event(r#"{"activity":{"id":"a1","state":"closed"}}"#);
        assert_eq!(active_activity(closed.as_bytes()), None);
        assert_eq!(
            active_activity(event(r#"{"activity":null}"#).as_bytes()),
            None
        );
        assert_eq!(active_activity(b"event: activity\n\n"), None);

        let mut buffer = [
            running.as_bytes(),
            b"id: e-2\nevent: results\ndata: {}\n\nid: e-3",
        ]
        .concat();
        let frame = next_frame(&mut buffer).unwrap();
        assert_eq!(frame, running.as_bytes());
        assert_eq!(event_id(&frame), Some("e-1"));
        assert!(contains(
            &next_frame(&mut buffer).unwrap(),
            b"\nevent: results\n"
        ));
        assert_eq!(
            next_frame(&mut buffer),
            None,
            "the rest is not a whole frame yet"
        );
    }
}
