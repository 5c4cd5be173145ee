//! What the SQL both engines share is written against: the rows, the batch types and the
//! portability rules. The statements themselves are in `shared.rs`, which each engine
//! compiles as a module of its own. Rows are read into private `FromRow` structs and mapped
//! to domain types here, so nothing above storage sees a row.
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
use crate::ids::{
    ActivityId, LinkId, OrganizerId, ParticipantId, ResponseId, SessionId, TemplateId, TokenId,
};
use crate::model::activity::{Activity, ActivityState, ResultsVisibility};
use crate::model::join_code::JoinCode;
use crate::model::organizer::{AccountLink, LinkPurpose, Organizer, TokenKind, TokenRecord};
use crate::model::participant::{Nickname, Participant, ParticipantStatus};
use crate::model::session::{Pace, Session, SessionSettings, SessionStatus, TemplateOrigin};
use crate::model::template::{Template, VersionRecord};

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
    /// A participant who joined from this browser is banned from the session.
    Banned,
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
    /// When the participant could first give it, when that is not the round's opening (a
    /// quiz question's start): the time to answer counts from here.
    pub answerable_since: Option<DateTime<Utc>>,
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
    /// A self-paced session's hours: it was not open when the answer arrived.
    SessionClosed,
}

/// Where a self-paced session's participants are, for the organizer's progress view.
/// Only active participants count.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PacedProgress {
    /// Per activity, how many who have not finished are on it now.
    pub on: Vec<(ActivityId, i64)>,
    /// How many finished the course.
    pub finished: i64,
}

/// Where one participant is in a self-paced session.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PacedPosition {
    /// The activity they opened last.
    pub activity: Option<ActivityId>,
    /// When they finished the course, if they did.
    pub finished_at: Option<DateTime<Utc>>,
    /// Every step they opened: activity, round and step.
    pub opened: Vec<(ActivityId, i32, i32)>,
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

impl StoredResponse {
    /// What its time to answer was measured from (the round's opening, a quiz question's
    /// start, or when a self-paced participant opened its step), as stored.
    pub fn answerable_since(&self) -> Option<DateTime<Utc>> {
        self.answer_ms
            .map(|ms| self.created_at - chrono::Duration::milliseconds(i64::from(ms)))
    }
}

#[derive(FromRow)]
pub(crate) struct OrganizerRow {
    id: OrganizerId,
    email: String,
    password_hash: String,
    is_admin: bool,
    created_at: DateTime<Utc>,
    disabled_at: Option<DateTime<Utc>>,
}

/// The columns an [`OrganizerRow`] reads.
pub(crate) const ORGANIZER_COLUMNS: &str =
    "id, email, password_hash, is_admin, created_at, disabled_at";

impl OrganizerRow {
    pub(crate) fn into_parts(self) -> (Organizer, String) {
        (
            Organizer {
                id: self.id,
                email: self.email,
                is_admin: self.is_admin,
                created_at: self.created_at,
                disabled_at: self.disabled_at,
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
    parent_id: Option<TokenId>,
    last_used_at: Option<DateTime<Utc>>,
    last_used_from: Option<String>,
}

/// The columns a [`TokenRow`] reads, each prefixed with `t.`.
pub(crate) const TOKEN_COLUMNS: &str = "t.id, t.organizer_id, t.kind, t.name, t.token_hash, \
     t.created_at, t.expires_at, t.parent_id, t.last_used_at, t.last_used_from";

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
            parent_id: self.parent_id,
            last_used_at: self.last_used_at,
            last_used_from: self.last_used_from,
        })
    }
}

#[derive(FromRow)]
pub(crate) struct AccountLinkRow {
    id: LinkId,
    token_hash: Vec<u8>,
    purpose: String,
    email: String,
    organizer_id: Option<OrganizerId>,
    is_admin: bool,
    created_by: Option<OrganizerId>,
    created_at: DateTime<Utc>,
    expires_at: DateTime<Utc>,
}

/// The columns an [`AccountLinkRow`] reads.
pub(crate) const ACCOUNT_LINK_COLUMNS: &str = "id, token_hash, purpose, email, organizer_id, \
     is_admin, created_by, created_at, expires_at";

impl AccountLinkRow {
    pub(crate) fn into_link(self) -> Result<AccountLink, StoreError> {
        Ok(AccountLink {
            purpose: LinkPurpose::parse(&self.purpose)
                .ok_or_else(|| StoreError::Corrupt(format!("link {} purpose", self.id)))?,
            id: self.id,
            token_hash: self.token_hash,
            email: self.email,
            organizer_id: self.organizer_id,
            is_admin: self.is_admin,
            created_by: self.created_by,
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
            disabled_at: None,
        }
        .into_parts()
        .0;
        Ok((organizer, self.token.into_record()?))
    }
}

pub(crate) const SESSION_COLUMNS: &str = "id, organizer_id, title, description, status, join_code, \
     max_participants, participant_count, settings, created_at, updated_at, started_at, completed_at, \
     template_id, template_version, template_variant, anonymized_at, pace, opens_at, closes_at, teams";

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
    pace: String,
    opens_at: Option<DateTime<Utc>>,
    closes_at: Option<DateTime<Utc>>,
    teams: Option<String>,
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
            pace: Pace::parse(&self.pace).ok_or_else(|| corrupt("pace"))?,
            opens_at: self.opens_at,
            closes_at: self.closes_at,
            teams: self
                .teams
                .as_deref()
                .map(serde_json::from_str)
                .transpose()
                .map_err(|_| corrupt("teams"))?,
        })
    }
}

pub(crate) const PARTICIPANT_COLUMNS: &str =
    "id, session_id, nickname, status, joined_at, last_seen_at, browser, team";

#[derive(FromRow)]
pub(crate) struct ParticipantRow {
    id: ParticipantId,
    session_id: SessionId,
    nickname: String,
    status: String,
    joined_at: DateTime<Utc>,
    last_seen_at: DateTime<Utc>,
    browser: Option<String>,
    team: Option<i32>,
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
            browser: self.browser,
            team: self.team.and_then(|t| u16::try_from(t).ok()),
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
    pub(crate) team: Option<i32>,
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
    pub(crate) fn into_version(self) -> Result<VersionRecord, StoreError> {
        let definition = serde_json::from_str(&self.definition).map_err(|e| {
            StoreError::Corrupt(format!(
                "template {} version {}: {e}",
                self.template_id, self.version
            ))
        })?;
        Ok(VersionRecord {
            template_id: self.template_id,
            version: self.version,
            note: self.note,
            definition,
            source_session_id: self.source_session_id,
            created_at: self.created_at,
        })
    }
}

/// Everything [`super::sqlite`] and [`super::postgres`] compile `shared.rs` against.
pub(crate) mod prelude {
    pub(crate) use super::{
        ACCOUNT_LINK_COLUMNS, ACTIVITY_COLUMNS, AccountLinkRow, ActivityRow, EngagementRow,
        JoinOutcome, ORGANIZER_COLUMNS, OrganizerRow, PARTICIPANT_COLUMNS, PRESENCE_CHUNK,
        PacedPosition, PacedProgress, ParticipantRow, RESPONSE_COLUMNS, ResponseRow, ResponseWrite,
        RoundAnswerRow, SESSION_COLUMNS, Seats, SessionEngagement, SessionRow, StoredResponse,
        TEMPLATE_COLUMNS, TOKEN_COLUMNS, TemplateRow, TokenOwnerRow, TokenRow, VERSION_COLUMNS,
        VersionRow, WriteOutcome, answer_ms, as_i32,
    };
    pub(crate) use crate::ids::{
        ActivityId, OrganizerId, ParticipantId, ResponseId, SessionId, TemplateId, TokenId,
    };
    pub(crate) use crate::model::activity::{Activity, ActivityState};
    pub(crate) use crate::model::organizer::{AccountLink, LinkPurpose, TokenKind};
    pub(crate) use crate::model::organizer::{Organizer, TokenRecord};
    pub(crate) use crate::model::participant::{Participant, ParticipantStatus};
    pub(crate) use crate::model::session::{Hours, Session, SessionStatus};
    pub(crate) use crate::model::template::{NewVersion, Template, VersionRecord};
    pub(crate) use crate::storage::{EndTokens, OidcLogin, Redeemed};
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
