//! The SQL both engines share, written once. `impl_store!` expands to the `Store`
//! implementation for one engine; engine-specific fragments (row locks, how a write
//! transaction begins) come in as arguments. Rows are read into private `FromRow` structs and
//! mapped to domain types here, so nothing above storage sees a row.
//!
//! Portability rules: `$n` placeholders, `returning`, `on conflict`, no `now()` (timestamps
//! come from Rust), JSON stored as text, booleans bound as `bool`.
//!
//! A statement whose text grows with its batch (`in (…)` lists, multi-row `values`) is
//! built with `persistent(false)`: cached, every batch size would keep a prepared program of
//! its own on every connection.

use chrono::{DateTime, Utc};
use sqlx::FromRow;

use super::StoreError;
use crate::activities::activity::{Activity, ActivityState, ResultsVisibility};
use crate::ids::{
    ActivityId, OrganizerId, ParticipantId, ResponseId, SessionId, TemplateId, TokenId,
};
use crate::organizers::{Organizer, TokenKind, TokenRecord};
use crate::participants::participant::{Nickname, Participant, ParticipantStatus};
use crate::session_templates::{Template, TemplateVersion};
use crate::sessions::join_code::JoinCode;
use crate::sessions::session::{Session, SessionSettings, SessionStatus, TemplateOrigin};

/// What [`super::Store::join_sessions`] did with one join.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JoinOutcome {
    /// The participant was added.
    Joined,
    /// The session is not active.
    SessionNotOpen,
    /// The session is at capacity.
    SessionFull,
    /// Someone in the session has the nickname (or it is banned there).
    NicknameTaken,
}

/// One session's free seats while a batch of joins is stored.
pub(crate) struct Seats {
    pub(crate) session: SessionId,
    /// `None` when the session does not exist or is not active.
    free: Option<i64>,
    /// Joins added so far in this batch.
    pub(crate) joined: i32,
}

impl Seats {
    pub(crate) fn new(session: SessionId, row: Option<(String, i32, i32)>) -> Seats {
        let free = row
            .filter(|(status, _, _)| status == "active")
            .map(|(_, count, max)| i64::from(max) - i64::from(count));
        Seats {
            session,
            free,
            joined: 0,
        }
    }

    /// Why the next join is refused, if it is.
    pub(crate) fn refusal(&self) -> Option<JoinOutcome> {
        match self.free {
            None => Some(JoinOutcome::SessionNotOpen),
            Some(free) if i64::from(self.joined) >= free => Some(JoinOutcome::SessionFull),
            Some(_) => None,
        }
    }
}

/// One submission in a group-commit batch.
#[derive(Debug, Clone)]
pub struct ResponseWrite {
    /// The new row's id (kept by an existing row when the slot is replaced).
    pub id: ResponseId,
    /// The activity answered.
    pub activity_id: ActivityId,
    /// Its session.
    pub session_id: SessionId,
    /// Who answered.
    pub participant_id: ParticipantId,
    /// The round the answer is for; refused if the activity moved on.
    pub round: i32,
    /// The slot it fills.
    pub slot: String,
    /// Normalised answer JSON.
    pub answer: String,
    /// The client's idempotency key, if it sent one.
    pub client_request_id: Option<String>,
    /// When it was received.
    pub at: DateTime<Utc>,
    /// The kind's answers are final: a slot already filled is refused, not replaced.
    pub final_answer: bool,
}

/// What happened to one submission of a batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteOutcome {
    /// Stored and committed.
    Stored,
    /// Its client_request_id was used before: nothing changed.
    Replay,
    /// The activity is not active in that round any more.
    ActivityNotActive,
    /// The answer arrived after the activity's deadline.
    TimeUp,
    /// The participant was removed.
    ParticipantInactive,
    /// The kind's answers are final and this slot was already filled.
    AlreadyAnswered,
}

/// One session with its engagement counts, for an organizer's history.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionEngagement {
    /// The session.
    pub session: Session,
    /// Everyone who joined.
    pub participants: i64,
    /// Distinct participants who answered anything.
    pub respondents: i64,
    /// Responses stored.
    pub answers: i64,
    /// Activities that were ever opened.
    pub activities_run: i64,
    /// Emoji reactions counted.
    pub reactions: i64,
}

#[derive(FromRow)]
pub(crate) struct EngagementRow {
    #[sqlx(flatten)]
    session: SessionRow,
    participants: i64,
    respondents: i64,
    answers: i64,
    activities_run: i64,
    reactions: i64,
}

impl EngagementRow {
    pub(crate) fn into_engagement(self) -> Result<SessionEngagement, StoreError> {
        Ok(SessionEngagement {
            session: self.session.into_session()?,
            participants: self.participants,
            respondents: self.respondents,
            answers: self.answers,
            activities_run: self.activities_run,
            reactions: self.reactions,
        })
    }
}

/// A response as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredResponse {
    /// Its id.
    pub id: ResponseId,
    /// The activity.
    pub activity_id: ActivityId,
    /// Who answered.
    pub participant_id: ParticipantId,
    /// The round.
    pub round: i32,
    /// The slot.
    pub slot: String,
    /// Normalised answer JSON.
    pub answer: String,
    /// First stored.
    pub created_at: DateTime<Utc>,
    /// Last replaced.
    pub updated_at: DateTime<Utc>,
    /// Milliseconds from the round's opening to the first answer in this slot; `None` when
    /// a release before migration 0008 stored it.
    pub answer_ms: Option<i32>,
}

#[derive(FromRow)]
pub(crate) struct OrganizerRow {
    id: OrganizerId,
    email: String,
    password_hash: String,
    is_admin: bool,
    created_at: DateTime<Utc>,
}

impl OrganizerRow {
    pub(crate) fn into_parts(self) -> (Organizer, String) {
        (
            Organizer {
                id: self.id,
                email: self.email,
                is_admin: self.is_admin,
                created_at: self.created_at,
            },
            self.password_hash,
        )
    }
}

#[derive(FromRow)]
pub(crate) struct TokenRow {
    id: TokenId,
    organizer_id: OrganizerId,
    kind: String,
    name: String,
    token_hash: Vec<u8>,
    created_at: DateTime<Utc>,
    expires_at: Option<DateTime<Utc>>,
}

impl TokenRow {
    pub(crate) fn into_record(self) -> Result<TokenRecord, StoreError> {
        Ok(TokenRecord {
            id: self.id,
            organizer_id: self.organizer_id,
            kind: TokenKind::parse(&self.kind)
                .ok_or_else(|| StoreError::Corrupt(format!("token kind {}", self.kind)))?,
            name: self.name,
            token_hash: self.token_hash,
            created_at: self.created_at,
            expires_at: self.expires_at,
        })
    }
}

#[derive(FromRow)]
pub(crate) struct TokenOwnerRow {
    #[sqlx(flatten)]
    token: TokenRow,
    email: String,
    password_hash: String,
    is_admin: bool,
    organizer_created_at: DateTime<Utc>,
}

impl TokenOwnerRow {
    pub(crate) fn into_parts(self) -> Result<(Organizer, TokenRecord), StoreError> {
        let organizer = OrganizerRow {
            id: self.token.organizer_id,
            email: self.email,
            password_hash: self.password_hash,
            is_admin: self.is_admin,
            created_at: self.organizer_created_at,
        }
        .into_parts()
        .0;
        Ok((organizer, self.token.into_record()?))
    }
}

pub(crate) const SESSION_COLUMNS: &str = "id, organizer_id, title, description, status, join_code, \
     max_participants, participant_count, settings, created_at, updated_at, started_at, completed_at, \
     template_id, template_version, template_variant, anonymized_at";

#[derive(FromRow)]
pub(crate) struct SessionRow {
    id: SessionId,
    organizer_id: OrganizerId,
    title: String,
    description: String,
    status: String,
    join_code: String,
    max_participants: i32,
    participant_count: i32,
    settings: String,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    started_at: Option<DateTime<Utc>>,
    completed_at: Option<DateTime<Utc>>,
    template_id: Option<TemplateId>,
    template_version: Option<i32>,
    template_variant: Option<String>,
    anonymized_at: Option<DateTime<Utc>>,
}

impl SessionRow {
    pub(crate) fn into_session(self) -> Result<Session, StoreError> {
        let corrupt = |what: &str| StoreError::Corrupt(format!("session {}: {what}", self.id));
        Ok(Session {
            id: self.id,
            organizer_id: self.organizer_id,
            status: SessionStatus::parse(&self.status).ok_or_else(|| corrupt("status"))?,
            join_code: JoinCode::from_stored(self.join_code.clone()),
            max_participants: u32::try_from(self.max_participants)
                .map_err(|_| corrupt("max_participants"))?,
            participant_count: u32::try_from(self.participant_count)
                .map_err(|_| corrupt("participant_count"))?,
            settings: serde_json::from_str::<SessionSettings>(&self.settings)
                .map_err(|_| corrupt("settings"))?,
            title: self.title,
            description: self.description,
            created_at: self.created_at,
            updated_at: self.updated_at,
            started_at: self.started_at,
            completed_at: self.completed_at,
            template: self
                .template_id
                .zip(self.template_version)
                .map(|(template_id, version)| TemplateOrigin {
                    template_id,
                    version,
                    variant: self.template_variant,
                }),
            anonymized_at: self.anonymized_at,
        })
    }
}

pub(crate) const PARTICIPANT_COLUMNS: &str =
    "id, session_id, nickname, status, joined_at, last_seen_at";

#[derive(FromRow)]
pub(crate) struct ParticipantRow {
    id: ParticipantId,
    session_id: SessionId,
    nickname: String,
    status: String,
    joined_at: DateTime<Utc>,
    last_seen_at: DateTime<Utc>,
}

impl ParticipantRow {
    pub(crate) fn into_participant(self) -> Result<Participant, StoreError> {
        Ok(Participant {
            id: self.id,
            session_id: self.session_id,
            status: ParticipantStatus::parse(&self.status)
                .ok_or_else(|| StoreError::Corrupt(format!("participant {} status", self.id)))?,
            nickname: Nickname::from_stored(self.nickname),
            joined_at: self.joined_at,
            last_seen_at: self.last_seen_at,
        })
    }
}

pub(crate) const ACTIVITY_COLUMNS: &str = "id, session_id, kind, title, position, config, kind_state, state, \
     round, results_visibility, results_revealed, time_limit_seconds, activated_at, deadline_at, closed_at, \
     created_at, updated_at, template_key";

#[derive(FromRow)]
pub(crate) struct ActivityRow {
    id: ActivityId,
    session_id: SessionId,
    kind: String,
    title: String,
    position: i32,
    config: String,
    kind_state: String,
    state: String,
    round: i32,
    results_visibility: String,
    results_revealed: bool,
    time_limit_seconds: Option<i32>,
    activated_at: Option<DateTime<Utc>>,
    deadline_at: Option<DateTime<Utc>>,
    closed_at: Option<DateTime<Utc>>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    template_key: Option<String>,
}

impl ActivityRow {
    pub(crate) fn into_activity(self) -> Result<Activity, StoreError> {
        let corrupt = |what: &str| StoreError::Corrupt(format!("activity {}: {what}", self.id));
        Ok(Activity {
            id: self.id,
            session_id: self.session_id,
            position: self.position,
            config: serde_json::from_str(&self.config).map_err(|_| corrupt("config"))?,
            kind_state: serde_json::from_str(&self.kind_state)
                .map_err(|_| corrupt("kind_state"))?,
            state: ActivityState::parse(&self.state).ok_or_else(|| corrupt("state"))?,
            round: self.round,
            results_visibility: ResultsVisibility::parse(&self.results_visibility)
                .ok_or_else(|| corrupt("visibility"))?,
            results_revealed: self.results_revealed,
            time_limit_seconds: self
                .time_limit_seconds
                .map(u32::try_from)
                .transpose()
                .map_err(|_| corrupt("time limit"))?,
            activated_at: self.activated_at,
            deadline_at: self.deadline_at,
            closed_at: self.closed_at,
            created_at: self.created_at,
            updated_at: self.updated_at,
            kind: self.kind,
            title: self.title,
            template_key: self.template_key,
        })
    }
}

pub(crate) const RESPONSE_COLUMNS: &str =
    "id, activity_id, participant_id, round, slot, answer, created_at, updated_at, answer_ms";

#[derive(FromRow)]
pub(crate) struct ResponseRow {
    id: ResponseId,
    activity_id: ActivityId,
    participant_id: ParticipantId,
    round: i32,
    slot: String,
    answer: String,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    answer_ms: Option<i32>,
}

/// A response with its author's nickname, as the tallies load a round.
#[derive(FromRow)]
pub(crate) struct RoundAnswerRow {
    #[sqlx(flatten)]
    pub(crate) response: ResponseRow,
    pub(crate) nickname: String,
}

impl From<ResponseRow> for StoredResponse {
    fn from(row: ResponseRow) -> Self {
        StoredResponse {
            id: row.id,
            activity_id: row.activity_id,
            participant_id: row.participant_id,
            round: row.round,
            slot: row.slot,
            answer: row.answer,
            created_at: row.created_at,
            updated_at: row.updated_at,
            answer_ms: row.answer_ms,
        }
    }
}

pub(crate) const TEMPLATE_COLUMNS: &str = "t.id, t.organizer_id, t.name, t.description, t.created_at, t.updated_at, \
     (select coalesce(max(v.version), 0) from template_versions v where v.template_id = t.id) as latest_version";

#[derive(FromRow)]
pub(crate) struct TemplateRow {
    id: TemplateId,
    organizer_id: OrganizerId,
    name: String,
    description: String,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    latest_version: i32,
}

impl From<TemplateRow> for Template {
    fn from(row: TemplateRow) -> Self {
        Template {
            id: row.id,
            organizer_id: row.organizer_id,
            name: row.name,
            description: row.description,
            latest_version: row.latest_version,
            created_at: row.created_at,
            updated_at: row.updated_at,
        }
    }
}

pub(crate) const VERSION_COLUMNS: &str =
    "template_id, version, note, definition, source_session_id, created_at";

#[derive(FromRow)]
pub(crate) struct VersionRow {
    template_id: TemplateId,
    version: i32,
    note: String,
    definition: String,
    source_session_id: Option<SessionId>,
    created_at: DateTime<Utc>,
}

impl VersionRow {
    pub(crate) fn into_version(self) -> Result<TemplateVersion, StoreError> {
        let definition = serde_json::from_str(&self.definition).map_err(|e| {
            StoreError::Corrupt(format!(
                "template {} version {}: {e}",
                self.template_id, self.version
            ))
        })?;
        Ok(TemplateVersion {
            template_id: self.template_id,
            version: self.version,
            note: self.note,
            definition,
            source_session_id: self.source_session_id,
            created_at: self.created_at,
        })
    }
}

/// Everything the body of `impl_store!` names, for the engine files to import.
pub(crate) mod prelude {
    pub(crate) use super::{
        ACTIVITY_COLUMNS, ActivityRow, EngagementRow, JoinOutcome, OrganizerRow,
        PARTICIPANT_COLUMNS, PRESENCE_CHUNK, ParticipantRow, RESPONSE_COLUMNS, ResponseRow,
        ResponseWrite, RoundAnswerRow, SESSION_COLUMNS, Seats, SessionEngagement, SessionRow,
        StoredResponse, TEMPLATE_COLUMNS, TemplateRow, TokenOwnerRow, TokenRow, VERSION_COLUMNS,
        VersionRow, WriteOutcome, answer_ms, as_i32,
    };
    pub(crate) use crate::activities::activity::{Activity, ActivityState};
    pub(crate) use crate::ids::{
        ActivityId, OrganizerId, ParticipantId, ResponseId, SessionId, TemplateId, TokenId,
    };
    pub(crate) use crate::organizers::{Organizer, TokenRecord};
    pub(crate) use crate::participants::participant::{Participant, ParticipantStatus};
    pub(crate) use crate::session_templates::{NewVersion, Template, TemplateVersion};
    pub(crate) use crate::sessions::session::{Session, SessionStatus};
    pub(crate) use chrono::{DateTime, Utc};
}

/// Participants' last-contact times written by one statement.
pub const PRESENCE_CHUNK: usize = 250;

/// Milliseconds from a round's opening to an answer, for `responses.answer_ms`; `None`
/// when the opening is unknown. Clamped into `0..=i32::MAX` (a clock step cannot make it
/// negative, and 24 days is longer than any round).
pub(crate) fn answer_ms(opened: Option<DateTime<Utc>>, at: DateTime<Utc>) -> Option<i32> {
    let ms = (at - opened?)
        .num_milliseconds()
        .clamp(0, i64::from(i32::MAX));
    i32::try_from(ms).ok()
}

/// Converts a count or capacity for binding; they always fit.
pub(crate) fn as_i32(value: u32) -> i32 {
    i32::try_from(value).unwrap_or(i32::MAX)
}

/// Expands to `impl Store for $store` over the engine `$db`.
/// - `$for_share`: appended to reads that must hold rows still until commit (`" for share"` on
///   PostgreSQL; empty on SQLite, whose write transactions already exclude each other).
/// - `$for_key_share`: the same, but letting plain updates of other columns through
///   (`" for key share"` on PostgreSQL): an answer batch holds its participants this way,
///   which still blocks a removal (it locks `for update` first) but not a presence flush.
///   Holding them `for share` deadlocked against the flush's updates.
/// - `$for_update`: the same for rows about to be changed (`" for update"` on PostgreSQL).
/// - `$write_tx`: the write transaction `$store::begin_write` opens, which derefs to the
///   engine's connection and ends with `commit` or `rollback` (dropped, it rolls back).
macro_rules! impl_store {
    ($store:ty, $db:ty, for_share = $for_share:literal, for_key_share = $for_key_share:literal, for_update = $for_update:literal, write_tx = $write_tx:ty) => {
        impl $store {
            /// Runs one writing statement in a write transaction of its own. Every write goes
            /// through [`Self::begin_write`], so on SQLite it queues for the one writing
            /// connection instead of sleeping in SQLite's busy handler on a pooled one, and the
            /// writing connection's page cache stays warm.
            async fn write_one(
                &self,
                statement: sqlx::query::Query<'_, $db, <$db as sqlx::Database>::Arguments>,
            ) -> Result<<$db as sqlx::Database>::QueryResult, StoreError> {
                let mut tx = self.begin_write().await?;
                let done = statement.execute(&mut *tx).await?;
                tx.commit().await?;
                Ok(done)
            }

            /// One answer batch in one transaction (see [`Store::write_responses`]). With
            /// `find_replays` false it expects no request id that an earlier batch stored:
            /// the request log's insert then sends no rows back, and if it stored fewer keys
            /// than it was given, the transaction is rolled back and `None` says to run the
            /// batch again with `find_replays`, which reads back which keys were new.
            async fn write_answer_batch(&self, batch: &[ResponseWrite], find_replays: bool) -> Result<Option<Vec<WriteOutcome>>, StoreError> {
                use std::collections::{HashMap, HashSet};
                let mut outcomes = vec![WriteOutcome::Stored; batch.len()];
                let mut tx = self.begin_write().await?;

                // 1. Which activities still take answers in the submitted round. The rows stay
                //    locked until commit, so a concurrent close waits for this batch.
                let activity_ids: HashSet<ActivityId> = batch.iter().map(|w| w.activity_id).collect();
                let mut query = sqlx::QueryBuilder::<$db>::new("select id, round, deadline_at, activated_at from activities where state = 'active' and id in (");
                let mut list = query.separated(", ");
                for id in &activity_ids {
                    list.push_bind(*id);
                }
                query.push(")");
                query.push($for_share);
                // Per activity: round, deadline, and when the round opened.
                type Open = (i32, Option<DateTime<Utc>>, Option<DateTime<Utc>>);
                let open: HashMap<ActivityId, Open> = query
                    .build_query_as::<(ActivityId, i32, Option<DateTime<Utc>>, Option<DateTime<Utc>>)>().persistent(false)
                    .fetch_all(&mut *tx)
                    .await?
                    .into_iter()
                    .map(|(id, round, deadline, activated)| (id, (round, deadline, activated)))
                    .collect();

                // 2. Which participants may still answer. Nearly always every one: they are
                //    counted (one row back, not one per participant), and listed only when
                //    some are not.
                let participant_ids: HashSet<ParticipantId> = batch.iter().map(|w| w.participant_id).collect();
                let active_participants = |query: &mut sqlx::QueryBuilder<$db>| {
                    query.push("select id from participants where status = 'active' and id in (");
                    let mut list = query.separated(", ");
                    for id in &participant_ids {
                        list.push_bind(*id);
                    }
                    query.push(")");
                    query.push($for_key_share);
                };
                // The rows are locked inside: PostgreSQL locks no rows for an aggregate.
                let mut query = sqlx::QueryBuilder::<$db>::new("select count(*) from (");
                active_participants(&mut query);
                query.push(") as locked");
                let counted: i64 = query.build_query_scalar().persistent(false).fetch_one(&mut *tx).await?;
                // None: every one is active.
                let active: Option<HashSet<ParticipantId>> = if usize::try_from(counted).is_ok_and(|n| n == participant_ids.len()) {
                    None
                } else {
                    let mut query = sqlx::QueryBuilder::<$db>::default();
                    active_participants(&mut query);
                    Some(query.build_query_scalar::<ParticipantId>().persistent(false).fetch_all(&mut *tx).await?.into_iter().collect())
                };

                for (write, outcome) in batch.iter().zip(outcomes.iter_mut()) {
                    match open.get(&write.activity_id) {
                        Some((round, _, _)) if *round != write.round => *outcome = WriteOutcome::ActivityNotActive,
                        None => *outcome = WriteOutcome::ActivityNotActive,
                        // Judged by when the answer arrived, not when its batch commits.
                        Some((_, Some(deadline), _)) if write.at >= *deadline => *outcome = WriteOutcome::TimeUp,
                        Some(_) => {}
                    }
                    if *outcome != WriteOutcome::Stored {
                        continue;
                    }
                    if active.as_ref().is_some_and(|active| !active.contains(&write.participant_id)) {
                        *outcome = WriteOutcome::ParticipantInactive;
                    }
                }

                // 3. Final answers (quiz, buzzer): a slot filled before, or earlier in this
                //    batch, is refused, not replaced.
                let finals: Vec<usize> = (0..batch.len())
                    .filter(|&i| batch[i].final_answer && outcomes[i] == WriteOutcome::Stored)
                    .collect();
                if !finals.is_empty() {
                    let mut query = sqlx::QueryBuilder::<$db>::new(
                        "select activity_id, round, participant_id, slot from responses where participant_id in (",
                    );
                    let mut list = query.separated(", ");
                    for &index in &finals {
                        list.push_bind(batch[index].participant_id);
                    }
                    query.push(")");
                    let mut filled: HashSet<(ActivityId, i32, ParticipantId, String)> = query
                        .build_query_as::<(ActivityId, i32, ParticipantId, String)>().persistent(false)
                        .fetch_all(&mut *tx)
                        .await?
                        .into_iter()
                        .collect();
                    for &index in &finals {
                        let w = &batch[index];
                        if !filled.insert((w.activity_id, w.round, w.participant_id, w.slot.clone())) {
                            outcomes[index] = WriteOutcome::AlreadyAnswered;
                        }
                    }
                }

                // 4. Idempotency: the first use of a client_request_id wins, within the batch
                //    and across all earlier ones.
                let mut seen_in_batch: HashSet<(ParticipantId, &str)> = HashSet::new();
                let mut keyed: Vec<usize> = Vec::new();
                for (index, write) in batch.iter().enumerate() {
                    if outcomes[index] != WriteOutcome::Stored {
                        continue;
                    }
                    if let Some(key) = write.client_request_id.as_deref() {
                        if seen_in_batch.insert((write.participant_id, key)) {
                            keyed.push(index);
                        } else {
                            outcomes[index] = WriteOutcome::Replay;
                        }
                    }
                }
                if !keyed.is_empty() {
                    let mut query = sqlx::QueryBuilder::<$db>::new(
                        "insert into response_requests (participant_id, client_request_id, activity_id, round, slot, created_at) ",
                    );
                    query.push_values(keyed.iter().map(|&i| &batch[i]), |mut row, w| {
                        row.push_bind(w.participant_id)
                            .push_bind(w.client_request_id.clone())
                            .push_bind(w.activity_id)
                            .push_bind(w.round)
                            .push_bind(w.slot.clone())
                            .push_bind(w.at);
                    });
                    query.push(" on conflict (participant_id, client_request_id) do nothing");
                    if find_replays {
                        query.push(" returning participant_id, client_request_id");
                        let fresh: HashSet<(ParticipantId, String)> = query
                            .build_query_as::<(ParticipantId, String)>().persistent(false)
                            .fetch_all(&mut *tx)
                            .await?
                            .into_iter()
                            .collect();
                        for &index in &keyed {
                            let w = &batch[index];
                            let key = (w.participant_id, w.client_request_id.clone().unwrap_or_default());
                            if !fresh.contains(&key) {
                                outcomes[index] = WriteOutcome::Replay;
                            }
                        }
                    } else {
                        // Every key new, as nearly always: nothing to read back.
                        let stored = query.build().persistent(false).execute(&mut *tx).await?.rows_affected();
                        if usize::try_from(stored).ok() != Some(keyed.len()) {
                            tx.rollback().await?;
                            return Ok(None);
                        }
                    }
                }

                // 5. Upsert the answers. Within a batch the last answer for a slot wins; a
                //    statement may not touch the same row twice. (Final answers reach this
                //    point at most once per slot.)
                let mut last_for_slot: HashMap<(ActivityId, i32, ParticipantId, &str), usize> = HashMap::new();
                for (index, write) in batch.iter().enumerate() {
                    if outcomes[index] == WriteOutcome::Stored {
                        last_for_slot.insert((write.activity_id, write.round, write.participant_id, write.slot.as_str()), index);
                    }
                }
                let mut rows: Vec<usize> = last_for_slot.into_values().collect();
                rows.sort_unstable();
                if !rows.is_empty() {
                    let mut query = sqlx::QueryBuilder::<$db>::new(
                        "insert into responses (id, activity_id, session_id, participant_id, round, slot, answer, \
                         client_request_id, created_at, updated_at, answer_ms) ",
                    );
                    query.push_values(rows.iter().map(|&i| &batch[i]), |mut row, w| {
                        row.push_bind(w.id)
                            .push_bind(w.activity_id)
                            .push_bind(w.session_id)
                            .push_bind(w.participant_id)
                            .push_bind(w.round)
                            .push_bind(w.slot.clone())
                            .push_bind(w.answer.clone())
                            .push_bind(w.client_request_id.clone())
                            .push_bind(w.at)
                            .push_bind(w.at)
                            .push_bind(answer_ms(open.get(&w.activity_id).and_then(|o| o.2), w.at));
                    });
                    // A replaced answer keeps its first time to answer.
                    query.push(
                        " on conflict (activity_id, round, participant_id, slot) do update set \
                         answer = excluded.answer, client_request_id = excluded.client_request_id, \
                         updated_at = excluded.updated_at",
                    );
                    query.build().persistent(false).execute(&mut *tx).await?;
                }
                tx.commit().await?;
                Ok(Some(outcomes))
            }

            /// Inserts one session row (its activities are separate rows).
            async fn insert_session_row(tx: &mut $write_tx, s: &Session) -> Result<(), StoreError> {
                let settings = serde_json::to_string(&s.settings).map_err(|e| StoreError::Internal(e.to_string()))?;
                sqlx::query::<$db>(
                    "insert into sessions (id, organizer_id, title, description, status, join_code, max_participants, \
                     participant_count, settings, created_at, updated_at, started_at, completed_at, template_id, \
                     template_version, template_variant) \
                     values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)",
                )
                .bind(s.id)
                .bind(s.organizer_id)
                .bind(&s.title)
                .bind(&s.description)
                .bind(s.status.as_str())
                .bind(s.join_code.as_str())
                .bind(as_i32(s.max_participants))
                .bind(as_i32(s.participant_count))
                .bind(settings)
                .bind(s.created_at)
                .bind(s.updated_at)
                .bind(s.started_at)
                .bind(s.completed_at)
                .bind(s.template.as_ref().map(|t| t.template_id))
                .bind(s.template.as_ref().map(|t| t.version))
                .bind(s.template.as_ref().and_then(|t| t.variant.as_deref()))
                .execute(&mut **tx)
                .await?;
                Ok(())
            }

            /// Stores `new` as the template's next version and links its source session.
            async fn insert_version_row(tx: &mut $write_tx, new: &NewVersion<'_>) -> Result<i32, StoreError> {
                // Touching the template first locks its row (PostgreSQL), so two saves of
                // one template take numbers one after the other.
                let touched = sqlx::query::<$db>("update templates set updated_at = $2 where id = $1")
                    .bind(new.template_id)
                    .bind(new.at)
                    .execute(&mut **tx)
                    .await?;
                if touched.rows_affected() == 0 {
                    return Err(StoreError::NotFound);
                }
                let version: i32 = sqlx::query_scalar::<$db, i32>(
                    "select coalesce(max(version), 0) + 1 from template_versions where template_id = $1",
                )
                .bind(new.template_id)
                .fetch_one(&mut **tx)
                .await?;
                let definition = serde_json::to_string(new.definition).map_err(|e| StoreError::Internal(e.to_string()))?;
                sqlx::query::<$db>(
                    "insert into template_versions (template_id, version, note, definition, source_session_id, created_at) \
                     values ($1, $2, $3, $4, $5, $6)",
                )
                .bind(new.template_id)
                .bind(version)
                .bind(new.note)
                .bind(definition)
                .bind(new.source)
                .bind(new.at)
                .execute(&mut **tx)
                .await?;
                if let Some(session) = new.source {
                    sqlx::query::<$db>(
                        "update sessions set template_id = $2, template_version = $3, template_variant = null where id = $1",
                    )
                    .bind(session)
                    .bind(new.template_id)
                    .bind(version)
                    .execute(&mut **tx)
                    .await?;
                    for (activity, key) in new.keys {
                        sqlx::query::<$db>("update activities set template_key = $3 where id = $1 and session_id = $2")
                            .bind(activity)
                            .bind(session)
                            .bind(key)
                            .execute(&mut **tx)
                            .await?;
                    }
                }
                Ok(version)
            }

            /// Inserts one activity row at `position`.
            async fn insert_activity_row(tx: &mut $write_tx, a: &Activity, position: i32) -> Result<(), StoreError> {
                let config = a.config.to_string();
                let kind_state = a.kind_state.to_string();
                sqlx::query::<$db>(
                    "insert into activities (id, session_id, kind, title, position, config, kind_state, state, round, \
                     results_visibility, results_revealed, time_limit_seconds, activated_at, deadline_at, closed_at, \
                     created_at, updated_at, template_key) \
                     values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)",
                )
                .bind(a.id)
                .bind(a.session_id)
                .bind(&a.kind)
                .bind(&a.title)
                .bind(position)
                .bind(config)
                .bind(kind_state)
                .bind(a.state.as_str())
                .bind(a.round)
                .bind(a.results_visibility.as_str())
                .bind(a.results_revealed)
                .bind(a.time_limit_seconds.map(as_i32))
                .bind(a.activated_at)
                .bind(a.deadline_at)
                .bind(a.closed_at)
                .bind(a.created_at)
                .bind(a.updated_at)
                .bind(a.template_key.as_deref())
                .execute(&mut **tx)
                .await?;
                Ok(())
            }
        }

        #[async_trait::async_trait]
        impl $crate::storage::Store for $store {
            async fn insert_organizer(&self, o: &Organizer, password_hash: &str) -> Result<(), StoreError> {
                self.write_one(sqlx::query::<$db>(
                    "insert into organizers (id, email, password_hash, is_admin, created_at) values ($1, $2, $3, $4, $5)",
                )
                .bind(o.id)
                .bind(&o.email)
                .bind(password_hash)
                .bind(o.is_admin)
                .bind(o.created_at))
                .await?;
                Ok(())
            }

            async fn organizer_by_email(&self, email: &str) -> Result<Option<(Organizer, String)>, StoreError> {
                let row: Option<OrganizerRow> = sqlx::query_as::<$db, OrganizerRow>(
                    "select id, email, password_hash, is_admin, created_at from organizers where email = $1",
                )
                .bind(email)
                .fetch_optional(&self.pool)
                .await?;
                Ok(row.map(OrganizerRow::into_parts))
            }

            async fn insert_token(&self, t: &TokenRecord) -> Result<(), StoreError> {
                self.write_one(sqlx::query::<$db>(
                    "insert into api_tokens (id, organizer_id, kind, name, token_hash, created_at, expires_at) \
                     values ($1, $2, $3, $4, $5, $6, $7)",
                )
                .bind(t.id)
                .bind(t.organizer_id)
                .bind(t.kind.as_str())
                .bind(&t.name)
                .bind(&t.token_hash)
                .bind(t.created_at)
                .bind(t.expires_at))
                .await?;
                Ok(())
            }

            async fn organizer_by_token_hash(&self, hash: &[u8], now: DateTime<Utc>) -> Result<Option<(Organizer, TokenRecord)>, StoreError> {
                let row: Option<TokenOwnerRow> = sqlx::query_as::<$db, TokenOwnerRow>(
                    "select t.id, t.organizer_id, t.kind, t.name, t.token_hash, t.created_at, t.expires_at, \
                            o.email, o.password_hash, o.is_admin, o.created_at as organizer_created_at \
                     from api_tokens t join organizers o on o.id = t.organizer_id \
                     where t.token_hash = $1 and (t.expires_at is null or t.expires_at > $2)",
                )
                .bind(hash)
                .bind(now)
                .fetch_optional(&self.pool)
                .await?;
                row.map(TokenOwnerRow::into_parts).transpose()
            }

            async fn delete_token(&self, organizer: OrganizerId, token: TokenId) -> Result<bool, StoreError> {
                let done = self.write_one(sqlx::query::<$db>("delete from api_tokens where id = $1 and organizer_id = $2")
                    .bind(token)
                    .bind(organizer))
                    .await?;
                Ok(done.rows_affected() > 0)
            }

            async fn api_tokens_of(&self, organizer: OrganizerId) -> Result<Vec<TokenRecord>, StoreError> {
                let rows: Vec<TokenRow> = sqlx::query_as::<$db, TokenRow>(
                    "select id, organizer_id, kind, name, token_hash, created_at, expires_at from api_tokens \
                     where organizer_id = $1 and kind = 'api' order by created_at",
                )
                .bind(organizer)
                .fetch_all(&self.pool)
                .await?;
                rows.into_iter().map(TokenRow::into_record).collect()
            }

            async fn signing_key(&self, candidate: &[u8; 32], now: DateTime<Utc>) -> Result<[u8; 32], StoreError> {
                self.write_one(sqlx::query::<$db>("insert into signing_keys (id, secret, created_at) values (1, $1, $2) on conflict (id) do nothing")
                    .bind(candidate.as_slice())
                    .bind(now))
                    .await?;
                let secret: Vec<u8> = sqlx::query_scalar::<$db, Vec<u8>>("select secret from signing_keys where id = 1")
                    .fetch_one(&self.pool)
                    .await?;
                secret
                    .try_into()
                    .map_err(|_| StoreError::Corrupt("signing key is not 32 bytes".into()))
            }

            async fn insert_session(&self, s: &Session, activities: &[Activity]) -> Result<(), StoreError> {
                let mut tx = self.begin_write().await?;
                Self::insert_session_row(&mut tx, s).await?;
                for (index, activity) in activities.iter().enumerate() {
                    let position = i32::try_from(index + 1).unwrap_or(i32::MAX);
                    Self::insert_activity_row(&mut tx, activity, position).await?;
                }
                tx.commit().await?;
                Ok(())
            }

            async fn session(&self, id: SessionId) -> Result<Option<Session>, StoreError> {
                let sql = sqlx::AssertSqlSafe(format!("select {SESSION_COLUMNS} from sessions where id = $1"));
                let row: Option<SessionRow> = sqlx::query_as::<$db, SessionRow>(sql).bind(id).fetch_optional(&self.pool).await?;
                row.map(SessionRow::into_session).transpose()
            }

            async fn open_session_by_code(&self, code: &str) -> Result<Option<Session>, StoreError> {
                let sql = sqlx::AssertSqlSafe(format!(
                    "select {SESSION_COLUMNS} from sessions where join_code = $1 and status <> 'completed'"
                ));
                let row: Option<SessionRow> = sqlx::query_as::<$db, SessionRow>(sql).bind(code).fetch_optional(&self.pool).await?;
                row.map(SessionRow::into_session).transpose()
            }

            async fn list_sessions(&self, owner: Option<OrganizerId>, status: Option<SessionStatus>, limit: i64, offset: i64) -> Result<(Vec<Session>, i64), StoreError> {
                // One statement for both filters: a null parameter disables its filter.
                let filter = "($1 is null or organizer_id = $1) and ($2 is null or status = $2)";
                let sql = sqlx::AssertSqlSafe(format!(
                    "select {SESSION_COLUMNS} from sessions where {filter} order by created_at desc, id desc limit $3 offset $4"
                ));
                let rows: Vec<SessionRow> = sqlx::query_as::<$db, SessionRow>(sql)
                    .bind(owner)
                    .bind(status.map(SessionStatus::as_str))
                    .bind(limit)
                    .bind(offset)
                    .fetch_all(&self.pool)
                    .await?;
                let total: i64 = sqlx::query_scalar::<$db, i64>(sqlx::AssertSqlSafe(format!("select count(*) from sessions where {filter}")))
                    .bind(owner)
                    .bind(status.map(SessionStatus::as_str))
                    .fetch_one(&self.pool)
                    .await?;
                let sessions = rows.into_iter().map(SessionRow::into_session).collect::<Result<Vec<_>, _>>()?;
                Ok((sessions, total))
            }

            async fn update_session_details(&self, s: &Session) -> Result<bool, StoreError> {
                let settings = serde_json::to_string(&s.settings).map_err(|e| StoreError::Internal(e.to_string()))?;
                let done = self.write_one(sqlx::query::<$db>(
                    "update sessions set title = $2, description = $3, max_participants = $4, settings = $5, updated_at = $6 \
                     where id = $1",
                )
                .bind(s.id)
                .bind(&s.title)
                .bind(&s.description)
                .bind(as_i32(s.max_participants))
                .bind(settings)
                .bind(s.updated_at))
                .await?;
                Ok(done.rows_affected() > 0)
            }

            async fn transition_session(&self, id: SessionId, from: SessionStatus, to: SessionStatus, now: DateTime<Utc>) -> Result<bool, StoreError> {
                let done = self.write_one(sqlx::query::<$db>(
                    "update sessions set status = $3, updated_at = $4, \
                       started_at = case when $3 = 'active' then $4 else started_at end, \
                       completed_at = case when $3 = 'completed' then $4 else completed_at end \
                     where id = $1 and status = $2",
                )
                .bind(id)
                .bind(from.as_str())
                .bind(to.as_str())
                .bind(now))
                .await?;
                Ok(done.rows_affected() > 0)
            }

            async fn delete_session(&self, id: SessionId) -> Result<bool, StoreError> {
                let done = self.write_one(sqlx::query::<$db>("delete from sessions where id = $1").bind(id)).await?;
                Ok(done.rows_affected() > 0)
            }

            async fn join_sessions(&self, joins: &[Participant]) -> Result<Vec<JoinOutcome>, StoreError> {
                if joins.is_empty() {
                    return Ok(Vec::new());
                }
                let mut tx = self.begin_write().await?;
                // Each session's row is read (and locked) once per batch, and its count
                // written once: concurrent joins do not queue on that row one by one.
                let mut sessions: Vec<Seats> = Vec::new();
                let mut outcomes = Vec::with_capacity(joins.len());
                for p in joins {
                    let seats = match sessions.iter().position(|r| r.session == p.session_id) {
                        Some(at) => at,
                        None => {
                            let mut query = sqlx::QueryBuilder::<$db>::new(
                                "select status, participant_count, max_participants from sessions where id = ",
                            );
                            query.push_bind(p.session_id).push($for_update);
                            let row: Option<(String, i32, i32)> =
                                query.build_query_as::<(String, i32, i32)>().fetch_optional(&mut *tx).await?;
                            sessions.push(Seats::new(p.session_id, row));
                            sessions.len() - 1
                        }
                    };
                    let seats = &mut sessions[seats];
                    if let Some(refused) = seats.refusal() {
                        outcomes.push(refused);
                        continue;
                    }
                    let inserted = sqlx::query::<$db>(
                        "insert into participants (id, session_id, nickname, nickname_key, status, joined_at, last_seen_at) \
                         values ($1, $2, $3, $4, $5, $6, $7) \
                         on conflict (session_id, nickname_key) where status <> 'removed' do nothing",
                    )
                    .bind(p.id)
                    .bind(p.session_id)
                    .bind(p.nickname.as_str())
                    .bind(p.nickname.key())
                    .bind(p.status.as_str())
                    .bind(p.joined_at)
                    .bind(p.last_seen_at)
                    .execute(&mut *tx)
                    .await?;
                    if inserted.rows_affected() == 0 {
                        outcomes.push(JoinOutcome::NicknameTaken);
                    } else {
                        seats.joined += 1;
                        outcomes.push(JoinOutcome::Joined);
                    }
                }
                for seats in sessions.iter().filter(|r| r.joined > 0) {
                    sqlx::query::<$db>("update sessions set participant_count = participant_count + $2 where id = $1")
                        .bind(seats.session)
                        .bind(seats.joined)
                        .execute(&mut *tx)
                        .await?;
                }
                tx.commit().await?;
                Ok(outcomes)
            }

            async fn participant(&self, id: ParticipantId) -> Result<Option<Participant>, StoreError> {
                let sql = sqlx::AssertSqlSafe(format!("select {PARTICIPANT_COLUMNS} from participants where id = $1"));
                let row: Option<ParticipantRow> = sqlx::query_as::<$db, ParticipantRow>(sql).bind(id).fetch_optional(&self.pool).await?;
                row.map(ParticipantRow::into_participant).transpose()
            }

            async fn participant_by_nickname(&self, session: SessionId, key: &str) -> Result<Option<Participant>, StoreError> {
                let sql = sqlx::AssertSqlSafe(format!(
                    "select {PARTICIPANT_COLUMNS} from participants \
                     where session_id = $1 and nickname_key = $2 and status <> 'removed'"
                ));
                let row: Option<ParticipantRow> = sqlx::query_as::<$db, ParticipantRow>(sql)
                    .bind(session)
                    .bind(key)
                    .fetch_optional(&self.pool)
                    .await?;
                row.map(ParticipantRow::into_participant).transpose()
            }

            async fn nickname_keys_with_prefix(&self, session: SessionId, prefix: &str) -> Result<Vec<String>, StoreError> {
                // Compared with substr, not LIKE, so % and _ in nicknames are plain characters.
                let keys: Vec<String> = sqlx::query_scalar::<$db, String>(
                    "select nickname_key from participants where session_id = $1 and status <> 'removed' \
                     and substr(nickname_key, 1, $3) = $2",
                )
                .bind(session)
                .bind(prefix)
                .bind(i32::try_from(prefix.chars().count()).unwrap_or(i32::MAX))
                .fetch_all(&self.pool)
                .await?;
                Ok(keys)
            }

            async fn list_participants(&self, session: SessionId, limit: i64, offset: i64) -> Result<(Vec<Participant>, i64), StoreError> {
                let sql = sqlx::AssertSqlSafe(format!(
                    "select {PARTICIPANT_COLUMNS} from participants where session_id = $1 \
                     order by joined_at, id limit $2 offset $3"
                ));
                let rows: Vec<ParticipantRow> = sqlx::query_as::<$db, ParticipantRow>(sql)
                    .bind(session)
                    .bind(limit)
                    .bind(offset)
                    .fetch_all(&self.pool)
                    .await?;
                let total: i64 = sqlx::query_scalar::<$db, i64>("select count(*) from participants where session_id = $1")
                    .bind(session)
                    .fetch_one(&self.pool)
                    .await?;
                let participants = rows.into_iter().map(ParticipantRow::into_participant).collect::<Result<Vec<_>, _>>()?;
                Ok((participants, total))
            }

            async fn set_participant_status(&self, session: SessionId, participant: ParticipantId, status: ParticipantStatus) -> Result<Option<ParticipantStatus>, StoreError> {
                let mut tx = self.begin_write().await?;
                let mut query = sqlx::QueryBuilder::<$db>::new("select status from participants where id = ");
                query.push_bind(participant).push(" and session_id = ").push_bind(session).push($for_update);
                let previous: Option<String> = query.build_query_scalar::<String>().fetch_optional(&mut *tx).await?;
                let Some(previous) = previous else {
                    tx.rollback().await?;
                    return Ok(None);
                };
                sqlx::query::<$db>("update participants set status = $2 where id = $1")
                    .bind(participant)
                    .bind(status.as_str())
                    .execute(&mut *tx)
                    .await?;
                let previous = ParticipantStatus::parse(&previous)
                    .ok_or_else(|| StoreError::Corrupt(format!("participant {participant} status")))?;
                let delta: i32 = match (previous == ParticipantStatus::Active, status == ParticipantStatus::Active) {
                    (true, false) => -1,
                    (false, true) => 1,
                    _ => 0,
                };
                if delta != 0 {
                    sqlx::query::<$db>("update sessions set participant_count = participant_count + $2 where id = $1")
                        .bind(session)
                        .bind(delta)
                        .execute(&mut *tx)
                        .await?;
                }
                tx.commit().await?;
                Ok(Some(previous))
            }

            async fn record_presence(&self, seen: &[(ParticipantId, DateTime<Utc>)]) -> Result<(), StoreError> {
                // Short transactions of one multi-row statement each, so other writers (the
                // answers' group commit above all) never wait long behind a flush.
                for chunk in seen.chunks(PRESENCE_CHUNK) {
                    let mut query = sqlx::QueryBuilder::<$db>::new(
                        "update participants set last_seen_at = v.column2 from (",
                    );
                    query.push_values(chunk, |mut row, (id, at)| {
                        row.push_bind(*id).push_bind(*at);
                    });
                    query.push(") as v where participants.id = v.column1 and participants.last_seen_at < v.column2");
                    let mut tx = self.begin_write().await?;
                    query.build().persistent(false).execute(&mut *tx).await?;
                    tx.commit().await?;
                }
                Ok(())
            }

            async fn insert_activity(&self, a: &Activity) -> Result<Activity, StoreError> {
                let mut tx = self.begin_write().await?;
                let position: i32 = sqlx::query_scalar::<$db, i32>(
                    "select coalesce(max(position), 0) + 1 from activities where session_id = $1",
                )
                .bind(a.session_id)
                .fetch_one(&mut *tx)
                .await?;
                Self::insert_activity_row(&mut tx, a, position).await?;
                tx.commit().await?;
                let mut stored = a.clone();
                stored.position = position;
                Ok(stored)
            }

            async fn activity(&self, id: ActivityId) -> Result<Option<Activity>, StoreError> {
                let sql = sqlx::AssertSqlSafe(format!("select {ACTIVITY_COLUMNS} from activities where id = $1"));
                let row: Option<ActivityRow> = sqlx::query_as::<$db, ActivityRow>(sql).bind(id).fetch_optional(&self.pool).await?;
                row.map(ActivityRow::into_activity).transpose()
            }

            async fn activities_of(&self, session: SessionId) -> Result<Vec<Activity>, StoreError> {
                let sql = sqlx::AssertSqlSafe(format!(
                    "select {ACTIVITY_COLUMNS} from activities where session_id = $1 order by position, created_at"
                ));
                let rows: Vec<ActivityRow> = sqlx::query_as::<$db, ActivityRow>(sql).bind(session).fetch_all(&self.pool).await?;
                rows.into_iter().map(ActivityRow::into_activity).collect()
            }

            async fn active_activities(&self) -> Result<Vec<Activity>, StoreError> {
                let sql = sqlx::AssertSqlSafe(format!("select {ACTIVITY_COLUMNS} from activities where state = 'active'"));
                let rows: Vec<ActivityRow> = sqlx::query_as::<$db, ActivityRow>(sql).fetch_all(&self.pool).await?;
                rows.into_iter().map(ActivityRow::into_activity).collect()
            }

            async fn update_activity(&self, a: &Activity) -> Result<bool, StoreError> {
                let done = self.write_one(sqlx::query::<$db>(
                    "update activities set title = $2, config = $3, kind_state = $4, results_visibility = $5, \
                     results_revealed = $6, time_limit_seconds = $7, updated_at = $8 where id = $1",
                )
                .bind(a.id)
                .bind(&a.title)
                .bind(a.config.to_string())
                .bind(a.kind_state.to_string())
                .bind(a.results_visibility.as_str())
                .bind(a.results_revealed)
                .bind(a.time_limit_seconds.map(as_i32))
                .bind(a.updated_at))
                .await?;
                Ok(done.rows_affected() > 0)
            }

            async fn update_activity_run(&self, a: &Activity, previous: &Activity) -> Result<bool, StoreError> {
                let done = self.write_one(sqlx::query::<$db>(
                    "update activities set kind_state = $2, results_revealed = $3, round = $4, activated_at = $5, \
                     deadline_at = $6, updated_at = $7 \
                     where id = $1 and state = $8 and round = $9 and kind_state = $10 and results_revealed = $11 \
                     and deadline_at is not distinct from $12",
                )
                .bind(a.id)
                .bind(a.kind_state.to_string())
                .bind(a.results_revealed)
                .bind(a.round)
                .bind(a.activated_at)
                .bind(a.deadline_at)
                .bind(a.updated_at)
                .bind(previous.state.as_str())
                .bind(previous.round)
                .bind(previous.kind_state.to_string())
                .bind(previous.results_revealed)
                .bind(previous.deadline_at))
                .await?;
                Ok(done.rows_affected() > 0)
            }

            async fn set_activity_state(&self, a: &Activity, from: ActivityState) -> Result<bool, StoreError> {
                let done = self.write_one(sqlx::query::<$db>(
                    "update activities set state = $2, round = $3, results_revealed = $4, kind_state = $5, \
                     activated_at = $6, deadline_at = $7, closed_at = $8, updated_at = $9 \
                     where id = $1 and state = $10",
                )
                .bind(a.id)
                .bind(a.state.as_str())
                .bind(a.round)
                .bind(a.results_revealed)
                .bind(a.kind_state.to_string())
                .bind(a.activated_at)
                .bind(a.deadline_at)
                .bind(a.closed_at)
                .bind(a.updated_at)
                .bind(from.as_str()))
                .await?;
                Ok(done.rows_affected() > 0)
            }

            async fn delete_activity(&self, id: ActivityId) -> Result<bool, StoreError> {
                let done = self.write_one(sqlx::query::<$db>("delete from activities where id = $1").bind(id)).await?;
                Ok(done.rows_affected() > 0)
            }

            async fn reorder_activities(&self, session: SessionId, order: &[ActivityId]) -> Result<(), StoreError> {
                let mut tx = self.begin_write().await?;
                for (index, id) in order.iter().enumerate() {
                    sqlx::query::<$db>("update activities set position = $3 where id = $1 and session_id = $2")
                        .bind(id)
                        .bind(session)
                        .bind(i32::try_from(index + 1).unwrap_or(i32::MAX))
                        .execute(&mut *tx)
                        .await?;
                }
                tx.commit().await?;
                Ok(())
            }

            async fn write_responses(&self, batch: &[ResponseWrite]) -> Result<Vec<WriteOutcome>, StoreError> {
                if batch.is_empty() {
                    return Ok(Vec::new());
                }
                if let Some(outcomes) = self.write_answer_batch(batch, false).await? {
                    return Ok(outcomes);
                }
                // A request id was stored before (a client sent an answer again): once more,
                // finding out which.
                metrics::counter!("response_batches_redone_total").increment(1);
                self.write_answer_batch(batch, true)
                    .await?
                    .ok_or_else(|| StoreError::Internal("an answer batch asked to be run again twice".into()))
            }

            async fn add_reactions(&self, session: SessionId, minute: DateTime<Utc>, counts: &[(&str, i64)]) -> Result<(), StoreError> {
                if counts.is_empty() {
                    return Ok(());
                }
                let mut query = sqlx::QueryBuilder::<$db>::new("insert into reaction_counts (session_id, minute, emoji, count) ");
                query.push_values(counts, |mut row, (emoji, count)| {
                    row.push_bind(session).push_bind(minute).push_bind(*emoji).push_bind(*count);
                });
                query.push(" on conflict (session_id, minute, emoji) do update set count = reaction_counts.count + excluded.count");
                let mut tx = self.begin_write().await?;
                query.build().persistent(false).execute(&mut *tx).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn reaction_sums(&self, session: SessionId, since: DateTime<Utc>) -> Result<Vec<(String, i64)>, StoreError> {
                let rows: Vec<(String, i64)> = sqlx::query_as::<$db, (String, i64)>(
                    "select emoji, cast(sum(count) as bigint) from reaction_counts \
                     where session_id = $1 and minute >= $2 group by emoji",
                )
                .bind(session)
                .bind(since)
                .fetch_all(&self.pool)
                .await?;
                Ok(rows)
            }

            async fn reaction_minutes(&self, session: SessionId) -> Result<Vec<(DateTime<Utc>, String, i64)>, StoreError> {
                let rows: Vec<(DateTime<Utc>, String, i64)> = sqlx::query_as::<$db, (DateTime<Utc>, String, i64)>(
                    "select minute, emoji, count from reaction_counts where session_id = $1 order by minute, emoji",
                )
                .bind(session)
                .fetch_all(&self.pool)
                .await?;
                Ok(rows)
            }

            async fn slot_filled(&self, activity: ActivityId, round: i32, slot: &str, participant: Option<ParticipantId>) -> Result<bool, StoreError> {
                let found: Option<i32> = sqlx::query_scalar::<$db, i32>(
                    "select 1 from responses where activity_id = $1 and round = $2 and slot = $3 \
                     and ($4 is null or participant_id = $4) limit 1",
                )
                .bind(activity)
                .bind(round)
                .bind(slot)
                .bind(participant)
                .fetch_optional(&self.pool)
                .await?;
                Ok(found.is_some())
            }

            async fn round_answers(&self, activity: ActivityId, round: i32) -> Result<Vec<(StoredResponse, String)>, StoreError> {
                let rows: Vec<RoundAnswerRow> = sqlx::query_as::<$db, RoundAnswerRow>(
                    "select r.id, r.activity_id, r.participant_id, r.round, r.slot, r.answer, r.created_at, r.updated_at, \
                     r.answer_ms, p.nickname from responses r join participants p on p.id = r.participant_id \
                     where r.activity_id = $1 and r.round = $2 order by r.created_at, r.id",
                )
                .bind(activity)
                .bind(round)
                .fetch_all(&self.pool)
                .await?;
                Ok(rows
                    .into_iter()
                    .map(|row| (StoredResponse::from(row.response), row.nickname))
                    .collect())
            }

            async fn responses_of_participant(&self, participant: ParticipantId) -> Result<Vec<StoredResponse>, StoreError> {
                let sql = sqlx::AssertSqlSafe(format!(
                    "select {RESPONSE_COLUMNS} from responses where participant_id = $1 order by created_at, id"
                ));
                let rows: Vec<ResponseRow> = sqlx::query_as::<$db, ResponseRow>(sql).bind(participant).fetch_all(&self.pool).await?;
                Ok(rows.into_iter().map(StoredResponse::from).collect())
            }

            async fn responses_of_session(&self, session: SessionId) -> Result<Vec<StoredResponse>, StoreError> {
                let sql = sqlx::AssertSqlSafe(format!(
                    "select {RESPONSE_COLUMNS} from responses where session_id = $1 order by activity_id, round, created_at, id"
                ));
                let rows: Vec<ResponseRow> = sqlx::query_as::<$db, ResponseRow>(sql).bind(session).fetch_all(&self.pool).await?;
                Ok(rows.into_iter().map(StoredResponse::from).collect())
            }

            async fn session_engagement(&self, owner: Option<OrganizerId>, limit: i64) -> Result<Vec<SessionEngagement>, StoreError> {
                let sql = sqlx::AssertSqlSafe(format!(
                    "select {SESSION_COLUMNS}, \
                       (select count(*) from participants p where p.session_id = s.id) as participants, \
                       (select count(distinct r.participant_id) from responses r where r.session_id = s.id) as respondents, \
                       (select count(*) from responses r where r.session_id = s.id) as answers, \
                       (select count(*) from activities a where a.session_id = s.id and a.activated_at is not null) as activities_run, \
                       (select cast(coalesce(sum(c.count), 0) as bigint) from reaction_counts c where c.session_id = s.id) as reactions \
                     from sessions s where ($1 is null or s.organizer_id = $1) \
                     order by coalesce(s.started_at, s.created_at) desc, s.id desc limit $2"
                ));
                let rows: Vec<EngagementRow> = sqlx::query_as::<$db, EngagementRow>(sql)
                    .bind(owner)
                    .bind(limit)
                    .fetch_all(&self.pool)
                    .await?;
                rows.into_iter().map(EngagementRow::into_engagement).collect()
            }

            async fn sessions_to_anonymize(&self, cutoff: DateTime<Utc>, limit: i64) -> Result<Vec<SessionId>, StoreError> {
                Ok(sqlx::query_scalar::<$db, SessionId>(
                    "select id from sessions where status = 'completed' and anonymized_at is null and completed_at < $1 \
                     order by completed_at limit $2",
                )
                .bind(cutoff)
                .bind(limit)
                .fetch_all(&self.pool)
                .await?)
            }

            async fn anonymize_session(
                &self,
                session: SessionId,
                nicknames: &[(ParticipantId, String, String)],
                answers: &[(ResponseId, String)],
                now: DateTime<Utc>,
            ) -> Result<bool, StoreError> {
                let mut tx = self.begin_write().await?;
                let claimed = sqlx::query::<$db>("update sessions set anonymized_at = $2 where id = $1 and anonymized_at is null")
                    .bind(session)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                if claimed.rows_affected() == 0 {
                    tx.rollback().await?;
                    return Ok(false);
                }
                for chunk in nicknames.chunks(PRESENCE_CHUNK) {
                    let mut query = sqlx::QueryBuilder::<$db>::new(
                        "update participants set nickname = v.column2, nickname_key = v.column3 from (",
                    );
                    query.push_values(chunk, |mut row, (id, nickname, key)| {
                        row.push_bind(*id).push_bind(nickname).push_bind(key);
                    });
                    query.push(") as v where participants.id = v.column1 and participants.session_id = ");
                    query.push_bind(session);
                    query.build().persistent(false).execute(&mut *tx).await?;
                }
                for chunk in answers.chunks(PRESENCE_CHUNK) {
                    let mut query = sqlx::QueryBuilder::<$db>::new("update responses set answer = v.column2 from (");
                    query.push_values(chunk, |mut row, (id, answer)| {
                        row.push_bind(*id).push_bind(answer);
                    });
                    query.push(") as v where responses.id = v.column1 and responses.session_id = ");
                    query.push_bind(session);
                    query.build().persistent(false).execute(&mut *tx).await?;
                }
                tx.commit().await?;
                Ok(true)
            }

            async fn insert_template(&self, t: &Template, first: &NewVersion<'_>) -> Result<(), StoreError> {
                let mut tx = self.begin_write().await?;
                sqlx::query::<$db>(
                    "insert into templates (id, organizer_id, name, description, created_at, updated_at) \
                     values ($1, $2, $3, $4, $5, $6)",
                )
                .bind(t.id)
                .bind(t.organizer_id)
                .bind(&t.name)
                .bind(&t.description)
                .bind(t.created_at)
                .bind(t.updated_at)
                .execute(&mut *tx)
                .await?;
                Self::insert_version_row(&mut tx, first).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn add_template_version(&self, new: &NewVersion<'_>) -> Result<i32, StoreError> {
                let mut tx = self.begin_write().await?;
                let version = Self::insert_version_row(&mut tx, new).await?;
                tx.commit().await?;
                Ok(version)
            }

            async fn template(&self, id: TemplateId) -> Result<Option<Template>, StoreError> {
                let sql = sqlx::AssertSqlSafe(format!("select {TEMPLATE_COLUMNS} from templates t where t.id = $1"));
                let row: Option<TemplateRow> = sqlx::query_as::<$db, TemplateRow>(sql).bind(id).fetch_optional(&self.pool).await?;
                Ok(row.map(Template::from))
            }

            async fn list_templates(&self, owner: Option<OrganizerId>) -> Result<Vec<Template>, StoreError> {
                let sql = sqlx::AssertSqlSafe(format!(
                    "select {TEMPLATE_COLUMNS} from templates t where ($1 is null or t.organizer_id = $1) \
                     order by t.updated_at desc, t.id desc"
                ));
                let rows: Vec<TemplateRow> = sqlx::query_as::<$db, TemplateRow>(sql).bind(owner).fetch_all(&self.pool).await?;
                Ok(rows.into_iter().map(Template::from).collect())
            }

            async fn template_versions(&self, template: TemplateId) -> Result<Vec<TemplateVersion>, StoreError> {
                let sql = sqlx::AssertSqlSafe(format!(
                    "select {VERSION_COLUMNS} from template_versions where template_id = $1 order by version"
                ));
                let rows: Vec<VersionRow> = sqlx::query_as::<$db, VersionRow>(sql).bind(template).fetch_all(&self.pool).await?;
                rows.into_iter().map(VersionRow::into_version).collect()
            }

            async fn template_version(&self, template: TemplateId, version: i32) -> Result<Option<TemplateVersion>, StoreError> {
                let sql = sqlx::AssertSqlSafe(format!(
                    "select {VERSION_COLUMNS} from template_versions where template_id = $1 and version = $2"
                ));
                let row: Option<VersionRow> = sqlx::query_as::<$db, VersionRow>(sql)
                    .bind(template)
                    .bind(version)
                    .fetch_optional(&self.pool)
                    .await?;
                row.map(VersionRow::into_version).transpose()
            }

            async fn update_template(&self, t: &Template) -> Result<bool, StoreError> {
                let done = self.write_one(sqlx::query::<$db>("update templates set name = $2, description = $3, updated_at = $4 where id = $1")
                    .bind(t.id)
                    .bind(&t.name)
                    .bind(&t.description)
                    .bind(t.updated_at))
                    .await?;
                Ok(done.rows_affected() > 0)
            }

            async fn delete_template(&self, id: TemplateId) -> Result<bool, StoreError> {
                let done = self.write_one(sqlx::query::<$db>("delete from templates where id = $1").bind(id)).await?;
                Ok(done.rows_affected() > 0)
            }

            async fn replayed_request(&self, participant: ParticipantId, client_request_id: &str) -> Result<Option<(ActivityId, i32, String)>, StoreError> {
                let row: Option<(ActivityId, i32, String)> = sqlx::query_as::<$db, (ActivityId, i32, String)>(
                    "select activity_id, round, slot from response_requests where participant_id = $1 and client_request_id = $2",
                )
                .bind(participant)
                .bind(client_request_id)
                .fetch_optional(&self.pool)
                .await?;
                Ok(row)
            }
        }
    };
}
