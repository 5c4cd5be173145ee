//! Sessions: create, list, read, edit, open, close and delete a live event. Only the owner
//! (or an admin) sees or changes a session; to anyone else it does not exist.

pub mod retention;

use chrono::Utc;

use crate::ids::SessionId;
use crate::model::activity::Activity;
use crate::model::changes::{Change, Changes};
use crate::model::invalid::Invalid;
use crate::model::join_code::JoinCode;
use crate::model::session::{self, Hours, Pace, Session, SessionSettings, SessionStatus, Teams};
use crate::organizers::Organizer;
use crate::storage::{Store, StoreError};

/// Why a session use case failed.
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    /// No such session, or not the caller's.
    #[error("no such session")]
    NotFound,
    /// A field broke a rule.
    #[error("{0}")]
    Invalid(#[from] Invalid),
    /// The status cannot move that way.
    #[error("a {} session cannot become {}", from.as_str(), to.as_str())]
    InvalidTransition {
        /// Current status.
        from: SessionStatus,
        /// Requested status.
        to: SessionStatus,
        /// What is allowed from here.
        allowed: Vec<SessionStatus>,
    },
    /// Completed sessions are read-only.
    #[error("the session is completed and can no longer change")]
    Completed,
    /// Only a completed session can be anonymized.
    #[error("only a completed session's personal data can be removed; end it first")]
    NotCompleted,
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Normalises the settings' banned-word list.
fn parse_settings(settings: SessionSettings) -> Result<SessionSettings, SessionError> {
    Ok(checked_settings(settings)?)
}

/// Normalises the settings' banned-word list.
pub fn checked_settings(mut settings: SessionSettings) -> Result<SessionSettings, Invalid> {
    settings.banned_words = crate::moderation::parse_banned_words(&settings.banned_words)
        .map_err(|e| e.within("settings.banned_words"))?;
    Ok(settings)
}

/// What an organizer gives to create a session.
#[derive(Debug, Clone, Default)]
pub struct NewSession {
    /// Title.
    pub title: String,
    /// Description.
    pub description: Option<String>,
    /// Capacity; the default when None.
    pub max_participants: Option<u32>,
    /// Settings; the defaults when None.
    pub settings: Option<SessionSettings>,
    /// Live (the default) or self-paced.
    pub pace: Option<Pace>,
    /// Opening and closing times of a self-paced session.
    pub hours: Option<Hours>,
    /// Teams for quizzes and buzzers.
    pub teams: Option<Teams>,
}

/// Creates a draft session with a fresh join code.
pub async fn create(
    store: &dyn Store,
    owner: &Organizer,
    new: NewSession,
    participant_limit: u32,
) -> Result<Session, SessionError> {
    let session = draft(owner, new, participant_limit)?;
    insert(store, session, &[]).await
}

/// Checks `new` as creating it would and returns the draft session, not yet stored.
pub fn draft(
    owner: &Organizer,
    new: NewSession,
    participant_limit: u32,
) -> Result<Session, SessionError> {
    let title = session::parse_title(&new.title)?;
    let description = session::parse_description(new.description.as_deref().unwrap_or_default())?;
    let max_participants = session::parse_max_participants(
        new.max_participants
            .unwrap_or(session::DEFAULT_MAX_PARTICIPANTS.min(participant_limit)),
        participant_limit,
    )?;
    let hours = new.hours.unwrap_or_default().check()?;
    let now = Utc::now();
    Ok(Session {
        id: SessionId::new(),
        organizer_id: owner.id,
        title,
        description,
        status: SessionStatus::Draft,
        join_code: JoinCode::generate(),
        max_participants,
        participant_count: 0,
        settings: parse_settings(new.settings.unwrap_or_default())?,
        created_at: now,
        updated_at: now,
        started_at: None,
        completed_at: None,
        template: None,
        anonymized_at: None,
        pace: new.pace.unwrap_or_default(),
        opens_at: hours.opens_at,
        closes_at: hours.closes_at,
        teams: new.teams.map(session::parse_teams).transpose()?.flatten(),
    })
}

/// Stores a new session with its activities (in order), drawing another join code if an
/// open session has this one.
pub async fn insert(
    store: &dyn Store,
    mut session: Session,
    activities: &[Activity],
) -> Result<Session, SessionError> {
    // 31^6 ≈ 887 million codes: a clash with an open session is rare; draw again if so.
    for _ in 0..8 {
        match store.insert_session(&session, activities).await {
            Ok(()) => return Ok(session),
            Err(StoreError::Conflict(_)) => session.join_code = JoinCode::generate(),
            Err(other) => return Err(other.into()),
        }
    }
    Err(StoreError::Internal("no free join code after 8 tries".into()).into())
}

/// The session, if the organizer may see it.
pub async fn owned(
    store: &dyn Store,
    organizer: &Organizer,
    id: SessionId,
) -> Result<Session, SessionError> {
    match store.session(id).await? {
        Some(session) if organizer.is_admin || session.organizer_id == organizer.id => Ok(session),
        _ => Err(SessionError::NotFound),
    }
}

/// A page of the organizer's sessions (every session for an admin) and the total.
pub async fn list(
    store: &dyn Store,
    organizer: &Organizer,
    status: Option<SessionStatus>,
    page: u32,
    per_page: u32,
) -> Result<(Vec<Session>, i64), SessionError> {
    let owner = (!organizer.is_admin).then_some(organizer.id);
    let offset = i64::from(page.saturating_sub(1)) * i64::from(per_page);
    Ok(store
        .list_sessions(owner, status, i64::from(per_page), offset)
        .await?)
}

/// Changes to a session; None leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct SessionChanges {
    /// New title.
    pub title: Option<String>,
    /// New description.
    pub description: Option<String>,
    /// New capacity.
    pub max_participants: Option<u32>,
    /// New settings.
    pub settings: Option<SessionSettings>,
    /// New status (a transition).
    pub status: Option<SessionStatus>,
    /// Live or self-paced; a running session may switch either way.
    pub pace: Option<Pace>,
    /// New opening and closing times (both replaced).
    pub hours: Option<Hours>,
    /// New teams (no names: none). People who joined keep their team's number.
    pub teams: Option<Teams>,
}

/// Applies changes; a status change is a transition and must be allowed.
pub async fn update(
    store: &dyn Store,
    live: &dyn Changes,
    mut session: Session,
    changes: SessionChanges,
    participant_limit: u32,
) -> Result<Session, SessionError> {
    let edits = changes.title.is_some()
        || changes.description.is_some()
        || changes.max_participants.is_some()
        || changes.settings.is_some()
        || changes.pace.is_some()
        || changes.hours.is_some()
        || changes.teams.is_some();
    if session.status == SessionStatus::Completed
        && (edits
            || changes
                .status
                .is_some_and(|s| s != SessionStatus::Completed))
    {
        return Err(SessionError::Completed);
    }
    if let Some(to) = changes.status
        && to != session.status
        && !session.status.allowed_next().contains(&to)
    {
        return Err(SessionError::InvalidTransition {
            from: session.status,
            to,
            allowed: session.status.allowed_next().to_vec(),
        });
    }
    if edits {
        if let Some(title) = &changes.title {
            session.title = session::parse_title(title)?;
        }
        if let Some(description) = &changes.description {
            session.description = session::parse_description(description)?;
        }
        if let Some(max) = changes.max_participants {
            session.max_participants = session::parse_max_participants(max, participant_limit)?;
        }
        if let Some(settings) = changes.settings {
            session.settings = parse_settings(settings)?;
        }
        if let Some(pace) = changes.pace {
            session.pace = pace;
        }
        if let Some(hours) = changes.hours {
            let hours = hours.check()?;
            session.opens_at = hours.opens_at;
            session.closes_at = hours.closes_at;
        }
        if let Some(teams) = changes.teams {
            session.teams = session::parse_teams(teams)?;
        }
        session.updated_at = Utc::now();
        store.update_session_details(&session).await?;
        live.changed(session.id, Change::Session);
    }
    if let Some(to) = changes.status
        && to != session.status
    {
        let now = Utc::now();
        if !store
            .transition_session(session.id, session.status, to, now)
            .await?
        {
            // Someone else moved it first; report against what it is now.
            let current = store
                .session(session.id)
                .await?
                .ok_or(SessionError::NotFound)?;
            return Err(SessionError::InvalidTransition {
                from: current.status,
                to,
                allowed: current.status.allowed_next().to_vec(),
            });
        }
        session.status = to;
        session.updated_at = now;
        match to {
            SessionStatus::Active => session.started_at = Some(now),
            SessionStatus::Completed => session.completed_at = Some(now),
            SessionStatus::Draft => {}
        }
        live.changed(session.id, Change::Session);
    }
    Ok(session)
}

/// The open session a join code belongs to.
pub async fn by_code(store: &dyn Store, raw: &str) -> Result<Session, SessionError> {
    let code = JoinCode::parse(raw).ok_or(SessionError::NotFound)?;
    store
        .open_session_by_code(code.as_str())
        .await?
        .ok_or(SessionError::NotFound)
}

/// How long after a session ends its code still says so: a phone that scans the old QR
/// code is told the session ended rather than that the code is unknown.
pub const ENDED_CODE_KEPT: chrono::Duration = chrono::Duration::days(7);

/// The session with this code that ended within [`ENDED_CODE_KEPT`], if no open session
/// has the code now.
pub async fn ended_by_code(store: &dyn Store, raw: &str) -> Result<Option<Session>, SessionError> {
    let Some(code) = JoinCode::parse(raw) else {
        return Ok(None);
    };
    let since = chrono::Utc::now() - ENDED_CODE_KEPT;
    Ok(store.ended_session_by_code(code.as_str(), since).await?)
}

/// Deletes a session and everything in it.
pub async fn delete(store: &dyn Store, session: &Session) -> Result<(), SessionError> {
    store.delete_session(session.id).await?;
    Ok(())
}
