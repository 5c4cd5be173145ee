//! Storage: the one [`Store`] trait every use case talks to, its SQLite and PostgreSQL
//! implementations, and the schema migrations that ship inside the binary.
//! Nothing above this module writes SQL, and nothing in it knows about HTTP.

pub mod migrations;
mod portable;
mod postgres;
mod sqlite;
mod write_thread;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;

pub use migrations::{
    IntegrityReport, MigrationError, MigrationLock, MigrationStep, ScanDepth, SchemaStatus,
    SchemaVerdict,
};
pub use postgres::PostgresStore;
pub use sqlite::SqliteStore;
pub use write_thread::WriteThread;

/// Which database engine a [`Store`] runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// An embedded SQLite file: the default, one instance.
    Sqlite,
    /// A PostgreSQL server: production, several instances.
    Postgres,
}

impl Backend {
    /// The lowercase name used in logs, metrics and health output.
    pub fn as_str(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

/// What can go wrong in storage, without any HTTP in it.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The row asked for does not exist.
    #[error("not found")]
    NotFound,
    /// A uniqueness or similar constraint refused the write.
    #[error("conflict: {0}")]
    Conflict(String),
    /// The database could not be reached in time.
    #[error("database unavailable")]
    Unavailable(#[source] sqlx::Error),
    /// Any other database failure.
    #[error("database error")]
    Backend(#[source] sqlx::Error),
    /// Stored data could not be read back (a bug or a hand-edited row).
    #[error("corrupt stored data: {0}")]
    Corrupt(String),
    /// A failure outside the database (a worker thread that died).
    #[error("internal error: {0}")]
    Internal(String),
}

impl StoreError {
    /// The error to give each member of a batch that failed as a whole: an unreachable
    /// database stays "unavailable" (a 503 the client may retry), anything else is internal.
    pub fn for_each_in_batch(&self) -> StoreError {
        match self {
            StoreError::Unavailable(cause) => {
                StoreError::Unavailable(sqlx::Error::Io(std::io::Error::other(cause.to_string())))
            }
            other => StoreError::Internal(format!("the batch failed: {other}")),
        }
    }
}

impl From<sqlx::Error> for StoreError {
    fn from(error: sqlx::Error) -> Self {
        match error {
            sqlx::Error::RowNotFound => StoreError::NotFound,
            sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) => {
                StoreError::Unavailable(error)
            }
            sqlx::Error::Database(ref db) if db.is_unique_violation() => {
                StoreError::Conflict(db.message().to_owned())
            }
            sqlx::Error::Database(ref db) if db.code().as_deref().is_some_and(unavailable_code) => {
                StoreError::Unavailable(error)
            }
            other => StoreError::Backend(other),
        }
    }
}

/// Database error codes that mean "not now" rather than "this request is wrong": the
/// client may retry, so they are a 503 like a timed-out pool, not a 500.
/// - SQLite result codes (the primary code is the low byte of an extended one): BUSY (5),
///   LOCKED (6), IOERR (10), FULL (13), CANTOPEN (14, e.g. out of file descriptors).
/// - PostgreSQL SQLSTATEs: class 08 (connection exception), 53 (insufficient resources:
///   too many connections, disk full, out of memory), 57P01–57P03 (shutting down, cannot
///   connect now).
fn unavailable_code(code: &str) -> bool {
    // A SQLSTATE always has five characters; SQLite's codes, extended ones included, have
    // at most four digits.
    if code.len() == 5 {
        return code.starts_with("08")
            || code.starts_with("53")
            || matches!(code, "57P01" | "57P02" | "57P03");
    }
    code.parse::<u32>()
        .is_ok_and(|sqlite| matches!(sqlite & 0xff, 5 | 6 | 10 | 13 | 14))
}

/// Connection pool figures, exported as metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolStats {
    /// Connections currently open (idle or in use).
    pub open: u32,
    /// Open connections not in use.
    pub idle: u32,
    /// The most connections the pool will open.
    pub max: u32,
}

/// How to open a database: the parsed `DATABASE_URL` plus pool settings.
#[derive(Debug, Clone)]
pub struct ConnectOptions {
    /// The database to open.
    pub url: DatabaseUrl,
    /// The most connections the pool may hold.
    pub max_connections: u32,
    /// How long a request waits for a free connection before the database counts as down.
    pub acquire_timeout: Duration,
}

/// A validated `DATABASE_URL`. Its `Debug` and `Display` never show a password.
#[derive(Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    /// `sqlite://path/to/file.db` (relative paths are relative to the working directory).
    Sqlite {
        /// Path of the database file.
        path: PathBuf,
    },
    /// `postgres://user:password@host:port/database?options`.
    Postgres {
        /// The full URL, password included; never log it.
        url: url::Url,
    },
}

impl DatabaseUrl {
    /// Parses `sqlite://…`, `sqlite:…`, `postgres://…` or `postgresql://…`.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let raw = raw.trim();
        if let Some(rest) = raw
            .strip_prefix("sqlite://")
            .or_else(|| raw.strip_prefix("sqlite:"))
        {
            let path = rest.split('?').next().unwrap_or_default();
            if path.is_empty() || path == ":memory:" {
                return Err("a SQLite URL needs a file path, such as sqlite://conflicto.db".into());
            }
            return Ok(DatabaseUrl::Sqlite {
                path: PathBuf::from(path),
            });
        }
        if raw.starts_with("postgres://") || raw.starts_with("postgresql://") {
            let url = url::Url::parse(raw).map_err(|error| format!("not a valid URL: {error}"))?;
            if url.host_str().is_none_or(str::is_empty) {
                return Err("a PostgreSQL URL needs a host".into());
            }
            if url.path().trim_start_matches('/').is_empty() {
                return Err("a PostgreSQL URL needs a database name".into());
            }
            return Ok(DatabaseUrl::Postgres { url });
        }
        Err("must start with sqlite:// or postgres://".into())
    }

    /// Which engine this URL selects.
    pub fn backend(&self) -> Backend {
        match self {
            DatabaseUrl::Sqlite { .. } => Backend::Sqlite,
            DatabaseUrl::Postgres { .. } => Backend::Postgres,
        }
    }
}

impl std::fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DatabaseUrl::Sqlite { path } => write!(f, "sqlite://{}", path.display()),
            DatabaseUrl::Postgres { url } => {
                let mut shown = url.clone();
                if shown.password().is_some() {
                    // Cannot fail: the URL has a host, so it can carry a password.
                    let _ = shown.set_password(Some("********"));
                }
                write!(f, "{shown}")
            }
        }
    }
}

impl std::fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "DatabaseUrl({self})")
    }
}

/// The engine-specific half of [`Store`]: health, pool, and schema administration.
#[async_trait]
pub trait Engine: Send + Sync + 'static {
    /// Which engine this store runs on.
    fn backend(&self) -> Backend;

    /// Answers when the database can run a trivial query.
    async fn ping(&self) -> Result<(), StoreError>;

    /// Current pool usage.
    fn pool_stats(&self) -> PoolStats;

    /// Closes every pooled connection; later calls fail.
    async fn close(&self);

    /// Compares the migrations applied to the database with those built into this binary.
    async fn schema_status(&self) -> Result<SchemaStatus, MigrationError>;

    /// Takes the lock that serialises concurrent `migrate` runs on this database.
    async fn lock_migrations(&self) -> Result<MigrationLock, MigrationError>;

    /// Applies every pending migration in order and returns what was applied.
    async fn apply_migrations(&self) -> Result<Vec<MigrationStep>, MigrationError>;

    /// Reverts migrations down to (and keeping) `target` and returns what was reverted.
    async fn revert_migrations(&self, target: i64) -> Result<Vec<MigrationStep>, MigrationError>;

    /// Writes a consistent copy of the database into `dir` and returns its path.
    async fn backup(&self, dir: &Path) -> Result<PathBuf, MigrationError>;

    /// Checks that the schema matches this binary's migrations and that foreign keys hold,
    /// as far as `depth` asks.
    async fn integrity_check(&self, depth: ScanDepth) -> Result<IntegrityReport, MigrationError>;

    /// Tells other instances on this database about a change (PostgreSQL `NOTIFY`). An
    /// embedded SQLite database has one instance, so there is nobody to tell.
    async fn notify_change(&self, payload: &str) -> Result<(), StoreError>;

    /// Listens for other instances' change notices; None when the engine has no other
    /// instances (SQLite).
    async fn change_listener(&self) -> Result<Option<Box<dyn ChangeListener>>, StoreError>;
}

/// The channel instances tell each other about changes on.
pub const CHANGE_CHANNEL: &str = "conflicto_changes";

/// Notices from other instances.
#[async_trait]
pub trait ChangeListener: Send {
    /// The next notice's payload. `Ok(None)` means the connection was lost and has been
    /// re-established: notices may have been missed, so the caller must resync.
    async fn next(&mut self) -> Result<Option<String>, StoreError>;
}

/// Which of an organizer's tokens a password change ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndTokens {
    /// Every login but the one the change was made with (API tokens stay).
    OtherLogins(TokenId),
    /// Every login and API token.
    All,
}

/// A company sign-in between leaving for the provider and coming back.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct OidcLogin {
    /// SHA-256 of the `state` the browser holds in a cookie and brings back.
    pub state_hash: Vec<u8>,
    /// The nonce the ID token must carry.
    pub nonce: String,
    /// The PKCE verifier the code is exchanged with.
    pub pkce_verifier: String,
    /// Where to go after signing in (a same-site path).
    pub next_path: String,
    /// Started.
    pub created_at: DateTime<Utc>,
    /// Abandoned after.
    pub expires_at: DateTime<Utc>,
}

/// What using a one-time account link did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Redeemed {
    /// The link is unknown, used or expired.
    Invalid,
    /// An invitation whose email belongs to an organizer already.
    EmailTaken,
    /// The organizer created or reset.
    Done(Organizer),
}

pub use portable::{
    JoinOutcome, PRESENCE_CHUNK, PacedPosition, PacedProgress, ResponseWrite, SessionEngagement,
    StoredResponse, WriteOutcome,
};

/// The database behind every use case. One implementation per engine, same behaviour; the
/// SQL is written once (`portable.rs`) and the engine half comes from [`Engine`].
#[async_trait]
pub trait Store: Engine {
    // Organizers and tokens.
    /// Adds an organizer; `Conflict` when the email is taken.
    async fn insert_organizer(
        &self,
        organizer: &Organizer,
        password_hash: &str,
    ) -> Result<(), StoreError>;
    /// The organizer with this (lowercased) email, and its password hash.
    async fn organizer_by_email(
        &self,
        email: &str,
    ) -> Result<Option<(Organizer, String)>, StoreError>;
    /// Stores a token record.
    async fn insert_token(&self, token: &TokenRecord) -> Result<(), StoreError>;
    /// The organizer owning an unexpired token with this hash.
    async fn organizer_by_token_hash(
        &self,
        hash: &[u8],
        now: DateTime<Utc>,
    ) -> Result<Option<(Organizer, TokenRecord)>, StoreError>;
    /// Deletes one of the organizer's tokens of this kind (and, through `parent_id`, every
    /// token made with it); false when there was none.
    async fn delete_token(
        &self,
        organizer: OrganizerId,
        kind: TokenKind,
        token: TokenId,
    ) -> Result<bool, StoreError>;
    /// The organizer's tokens of one kind, oldest first.
    async fn tokens_of(
        &self,
        organizer: OrganizerId,
        kind: TokenKind,
    ) -> Result<Vec<TokenRecord>, StoreError>;
    /// Records that a request from `from` used the token at `at`.
    async fn touch_token(
        &self,
        token: TokenId,
        at: DateTime<Utc>,
        from: &str,
    ) -> Result<(), StoreError>;
    /// The organizer with this id.
    async fn organizer(&self, id: OrganizerId) -> Result<Option<Organizer>, StoreError>;
    /// Every organizer, oldest first.
    async fn list_organizers(&self) -> Result<Vec<Organizer>, StoreError>;
    /// Replaces the organizer's password hash and ends the tokens `ends` names, in one
    /// transaction; false when there is no such organizer.
    async fn set_password(
        &self,
        organizer: OrganizerId,
        password_hash: &str,
        ends: EndTokens,
    ) -> Result<bool, StoreError>;
    /// Disables the organizer (ending every token) at `at`, or enables it with `None`;
    /// false when there is no such organizer.
    async fn set_organizer_disabled(
        &self,
        organizer: OrganizerId,
        at: Option<DateTime<Utc>>,
    ) -> Result<bool, StoreError>;
    /// Deletes the organizer with its sessions, templates and tokens; false when unknown.
    async fn delete_organizer(&self, organizer: OrganizerId) -> Result<bool, StoreError>;
    /// Stores a one-time account link.
    async fn insert_account_link(&self, link: &AccountLink) -> Result<(), StoreError>;
    /// Stores an uploaded image.
    async fn insert_image(&self, image: &crate::images::StoredImage) -> Result<(), StoreError>;
    /// An image by its id.
    async fn image(
        &self,
        id: crate::ids::ImageId,
    ) -> Result<Option<crate::images::StoredImage>, StoreError>;
    /// Stores a company sign-in in progress, and forgets those that expired before `now`.
    async fn insert_oidc_login(
        &self,
        login: &OidcLogin,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError>;
    /// Takes (deletes and returns) the unexpired sign-in with this state hash: a state works
    /// once, whichever instance the browser comes back to.
    async fn take_oidc_login(
        &self,
        state_hash: &[u8],
        now: DateTime<Utc>,
    ) -> Result<Option<OidcLogin>, StoreError>;
    /// Uses the unexpired, unused link with this hash, in one transaction: an invitation
    /// creates `new_organizer` with the link's email; a reset sets the password of the
    /// link's organizer and ends every one of its tokens.
    async fn redeem_account_link(
        &self,
        hash: &[u8],
        now: DateTime<Utc>,
        password_hash: &str,
        new_organizer: OrganizerId,
    ) -> Result<Redeemed, StoreError>;
    /// The shared signing secret: `candidate` is stored if there is none yet.
    async fn signing_key(
        &self,
        candidate: &[u8; 32],
        now: DateTime<Utc>,
    ) -> Result<[u8; 32], StoreError>;

    // Sessions.
    /// Adds a session with its activities (positions 1..n in the given order) in one
    /// transaction; `Conflict` when its join code is in use by an open session.
    async fn insert_session(
        &self,
        session: &Session,
        activities: &[Activity],
    ) -> Result<(), StoreError>;
    /// One session.
    async fn session(&self, id: SessionId) -> Result<Option<Session>, StoreError>;
    /// The open (not completed) session with this join code.
    async fn open_session_by_code(&self, code: &str) -> Result<Option<Session>, StoreError>;
    /// The session that ended last, at or after `since`, with this join code.
    async fn ended_session_by_code(
        &self,
        code: &str,
        since: DateTime<Utc>,
    ) -> Result<Option<Session>, StoreError>;
    /// A page of sessions, newest first, and the total without paging.
    async fn list_sessions(
        &self,
        owner: Option<OrganizerId>,
        status: Option<SessionStatus>,
        limit: i64,
        offset: i64,
    ) -> Result<(Vec<Session>, i64), StoreError>;
    /// Saves title, description, capacity and settings.
    async fn update_session_details(&self, session: &Session) -> Result<bool, StoreError>;
    /// Moves a session from `from` to `to`; false when it was not in `from` any more.
    async fn transition_session(
        &self,
        id: SessionId,
        from: SessionStatus,
        to: SessionStatus,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError>;
    /// Deletes a session and everything in it.
    async fn delete_session(&self, id: SessionId) -> Result<bool, StoreError>;

    // Participants.
    /// Adds participants in one transaction, in order, each if its session is active and
    /// has room and its nickname is free; one outcome per participant, in the same order.
    async fn join_sessions(&self, joins: &[Participant]) -> Result<Vec<JoinOutcome>, StoreError>;
    /// One participant.
    async fn participant(&self, id: ParticipantId) -> Result<Option<Participant>, StoreError>;
    /// The participant (active or banned) holding a nickname key in a session.
    async fn participant_by_nickname(
        &self,
        session: SessionId,
        key: &str,
    ) -> Result<Option<Participant>, StoreError>;
    /// Nickname keys in use that start with `prefix`.
    async fn nickname_keys_with_prefix(
        &self,
        session: SessionId,
        prefix: &str,
    ) -> Result<Vec<String>, StoreError>;
    /// A page of a session's participants in join order, and the total.
    async fn list_participants(
        &self,
        session: SessionId,
        limit: i64,
        offset: i64,
    ) -> Result<(Vec<Participant>, i64), StoreError>;
    /// Sets a participant's status, keeping the session's count of active ones right.
    /// Returns the previous status, or None when there is no such participant.
    async fn set_participant_status(
        &self,
        session: SessionId,
        participant: ParticipantId,
        status: ParticipantStatus,
    ) -> Result<Option<ParticipantStatus>, StoreError>;
    /// How many of the session's active participants were in touch at or after `since`.
    async fn count_present(
        &self,
        session: SessionId,
        since: DateTime<Utc>,
    ) -> Result<i64, StoreError>;
    /// Records when participants were last in touch.
    async fn record_presence(
        &self,
        seen: &[(ParticipantId, DateTime<Utc>)],
    ) -> Result<(), StoreError>;

    // Activities.
    /// Adds an activity at the end of its session; returns it with its position.
    async fn insert_activity(&self, activity: &Activity) -> Result<Activity, StoreError>;
    /// One activity.
    async fn activity(&self, id: ActivityId) -> Result<Option<Activity>, StoreError>;
    /// A session's activities in order.
    async fn activities_of(&self, session: SessionId) -> Result<Vec<Activity>, StoreError>;
    /// Every active activity (to rebuild tallies at start).
    async fn active_activities(&self) -> Result<Vec<Activity>, StoreError>;
    /// Saves a running activity's kind state, reveal flag, round and timing, but only if
    /// nobody changed them since `previous` was read (host commands are read-modify-write;
    /// false means read again and retry).
    async fn update_activity_run(
        &self,
        activity: &Activity,
        previous: &Activity,
    ) -> Result<bool, StoreError>;
    /// Saves title, config, state of the kind, visibility, reveal and time limit.
    async fn update_activity(&self, activity: &Activity) -> Result<bool, StoreError>;
    /// Saves a state change if the activity is still in `from`; `Conflict` when another
    /// activity of the session is active.
    async fn set_activity_state(
        &self,
        activity: &Activity,
        from: ActivityState,
    ) -> Result<bool, StoreError>;
    /// Deletes an activity.
    async fn delete_activity(&self, id: ActivityId) -> Result<bool, StoreError>;
    /// Sets positions 1..n in the given order.
    async fn reorder_activities(
        &self,
        session: SessionId,
        order: &[ActivityId],
    ) -> Result<(), StoreError>;

    // Responses.
    /// Stores a batch of submissions in one transaction (group commit). Each gets an
    /// outcome, in order; nothing is stored for refused or replayed ones.
    async fn write_responses(
        &self,
        batch: &[ResponseWrite],
    ) -> Result<Vec<WriteOutcome>, StoreError>;
    // Reactions.
    /// Adds reaction counts to a session's minute.
    async fn add_reactions(
        &self,
        session: SessionId,
        minute: DateTime<Utc>,
        counts: &[(&str, i64)],
    ) -> Result<(), StoreError>;
    /// A session's reaction counts per emoji, summed over the minutes from `since` on.
    async fn reaction_sums(
        &self,
        session: SessionId,
        since: DateTime<Utc>,
    ) -> Result<Vec<(String, i64)>, StoreError>;
    /// A session's reaction counts per minute and emoji, oldest first.
    async fn reaction_minutes(
        &self,
        session: SessionId,
    ) -> Result<Vec<(DateTime<Utc>, String, i64)>, StoreError>;

    /// Whether some answer of the round fills `slot` (only `participant`'s, when given).
    async fn slot_filled(
        &self,
        activity: ActivityId,
        round: i32,
        slot: &str,
        participant: Option<ParticipantId>,
    ) -> Result<bool, StoreError>;
    /// Every answer of one round with its author's nickname and team, oldest first (to
    /// load tallies).
    async fn round_answers(
        &self,
        activity: ActivityId,
        round: i32,
    ) -> Result<Vec<(StoredResponse, String, Option<u16>)>, StoreError>;
    /// One participant's responses in a session.
    async fn responses_of_participant(
        &self,
        participant: ParticipantId,
    ) -> Result<Vec<StoredResponse>, StoreError>;
    /// Every response of a session, for reports and export.
    async fn responses_of_session(
        &self,
        session: SessionId,
    ) -> Result<Vec<StoredResponse>, StoreError>;

    // Self-paced sessions.
    /// Records that the participant opened `step` of the activity's `round` at `at` and is
    /// on that activity now; returns when they first opened that step (a later opening
    /// keeps the first time, which a quiz question is timed from).
    async fn open_step(
        &self,
        session: SessionId,
        participant: ParticipantId,
        activity: ActivityId,
        round: i32,
        step: i32,
        at: DateTime<Utc>,
    ) -> Result<DateTime<Utc>, StoreError>;
    /// When the participant first opened each step of the activity's round.
    async fn steps_seen(
        &self,
        participant: ParticipantId,
        activity: ActivityId,
        round: i32,
    ) -> Result<Vec<(i32, DateTime<Utc>)>, StoreError>;
    /// Records that the participant finished the self-paced course at `at`; returns when
    /// they first did (the first time counts).
    async fn finish_course(
        &self,
        session: SessionId,
        participant: ParticipantId,
        at: DateTime<Utc>,
    ) -> Result<DateTime<Utc>, StoreError>;
    /// Where one participant is in the self-paced course.
    async fn paced_position(&self, participant: ParticipantId)
    -> Result<PacedPosition, StoreError>;
    /// Where the session's participants are in the self-paced course.
    async fn paced_progress(&self, session: SessionId) -> Result<PacedProgress, StoreError>;
    // Analytics.
    /// The owner's sessions (everyone's for `None`) with their engagement counts, most
    /// recently opened first, at most `limit`.
    async fn session_engagement(
        &self,
        owner: Option<OrganizerId>,
        limit: i64,
    ) -> Result<Vec<SessionEngagement>, StoreError>;

    // Retention.
    /// Completed sessions whose nicknames and free text are still stored and that were
    /// completed before `cutoff`, the longest completed first, at most `limit`.
    async fn sessions_to_anonymize(
        &self,
        cutoff: DateTime<Utc>,
        limit: i64,
    ) -> Result<Vec<SessionId>, StoreError>;
    /// In one transaction: marks the session anonymized at `now`, gives its participants the
    /// new nicknames and keys, and replaces the given answers. False when the session was
    /// anonymized already (by another instance) or is gone; then nothing changes.
    async fn anonymize_session(
        &self,
        session: SessionId,
        nicknames: &[(ParticipantId, String, String)],
        answers: &[(ResponseId, String)],
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError>;

    // Templates.
    /// Adds a template and its version 1 (`first`) in one transaction; `Conflict` when the
    /// owner has a template with that name.
    async fn insert_template(
        &self,
        template: &Template,
        first: &NewVersion<'_>,
    ) -> Result<(), StoreError>;
    /// Adds the template's next version, numbered in the transaction, and returns the
    /// number; `NotFound` when the template is gone.
    async fn add_template_version(&self, new: &NewVersion<'_>) -> Result<i32, StoreError>;
    /// One template.
    async fn template(&self, id: TemplateId) -> Result<Option<Template>, StoreError>;
    /// The owner's templates (everyone's for `None`), most recently changed first.
    async fn list_templates(&self, owner: Option<OrganizerId>)
    -> Result<Vec<Template>, StoreError>;
    /// Every version of a template, oldest first.
    async fn template_versions(
        &self,
        template: TemplateId,
    ) -> Result<Vec<VersionRecord>, StoreError>;
    /// One version of a template.
    async fn template_version(
        &self,
        template: TemplateId,
        version: i32,
    ) -> Result<Option<VersionRecord>, StoreError>;
    /// Saves name, description and `updated_at`; `Conflict` when the name is taken.
    async fn update_template(&self, template: &Template) -> Result<bool, StoreError>;
    /// Deletes a template and its versions; sessions made from it keep their record.
    async fn delete_template(&self, id: TemplateId) -> Result<bool, StoreError>;

    /// What an earlier request with this client_request_id was about.
    async fn replayed_request(
        &self,
        participant: ParticipantId,
        client_request_id: &str,
    ) -> Result<Option<(ActivityId, i32, String)>, StoreError>;
}

use chrono::{DateTime, Utc};

use crate::ids::{
    ActivityId, OrganizerId, ParticipantId, ResponseId, SessionId, TemplateId, TokenId,
};
use crate::model::activity::{Activity, ActivityState};
use crate::model::organizer::{AccountLink, Organizer, TokenKind, TokenRecord};
use crate::model::participant::{Participant, ParticipantStatus};
use crate::model::session::{Session, SessionStatus};
use crate::model::template::{NewVersion, Template, VersionRecord};

/// Opens the database named by `options` (creating a SQLite file if missing).
pub async fn connect(options: &ConnectOptions) -> Result<Arc<dyn Store>, StoreError> {
    Ok(match &options.url {
        DatabaseUrl::Sqlite { path } => Arc::new(SqliteStore::connect(path, options).await?),
        DatabaseUrl::Postgres { url } => Arc::new(PostgresStore::connect(url, options).await?),
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn busy_full_unopenable_and_shutting_down_databases_are_unavailable() {
        for code in [
            "5", "6", "10", "13", "14", "270", "517", "08006", "53300", "57P01", "57P03",
        ] {
            assert!(super::unavailable_code(code), "{code}");
        }
        for code in ["1", "19", "2067", "23505", "42P01", "22001", "40001"] {
            assert!(!super::unavailable_code(code), "{code}");
        }
    }

    use super::*;

    #[test]
    fn database_urls_parse_by_scheme() {
        let cases = [
            ("sqlite://conflicto.db", Some(Backend::Sqlite)),
            ("sqlite:data/x.db?mode=rwc", Some(Backend::Sqlite)),
            ("postgres://u:p@localhost:5432/db", Some(Backend::Postgres)),
            ("postgresql://localhost/db", Some(Backend::Postgres)),
            ("postgres://localhost", None),
            ("sqlite://", None),
            ("sqlite::memory:", None),
            ("mysql://localhost/db", None),
            ("", None),
        ];
        for (raw, expected) in cases {
            assert_eq!(
                DatabaseUrl::parse(raw).ok().map(|u| u.backend()),
                expected,
                "parsing {raw:?}"
            );
        }
    }

    #[test]
    fn a_postgres_password_never_shows_in_display_or_debug() {
        let url = DatabaseUrl::parse("postgres://app:s3cret@db:5432/conflicto").unwrap();
        assert!(!url.to_string().contains("s3cret"));
        assert!(!format!("{url:?}").contains("s3cret"));
        assert!(url.to_string().contains("app:********@db"));
    }
}
