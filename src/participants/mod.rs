//! Participants: join (by session id or code), rejoin with the token, nickname checks,
//! heartbeat, the organizer's list with presence, and remove or remove-and-ban.

pub mod course;
pub mod joiner;
pub mod presence;
pub mod roster;

use chrono::Utc;

use self::joiner::Joiner;
use self::presence::PresenceBook;
use self::roster::Roster;
use crate::auth::SigningKey;
use crate::ids::{ParticipantId, SessionId};
use crate::model::changes::{Change, Changes};
use crate::model::invalid::{Invalid, Rule};
use crate::model::participant::{
    InvalidNickname, Nickname, ONLINE_SECONDS, Participant, ParticipantStatus, Presence,
};
use crate::model::session::{Session, SessionStatus, TeamAssign};
use crate::moderation::Moderator;
use crate::storage::{JoinOutcome, Store, StoreError};

/// Why joining failed.
#[derive(Debug, thiserror::Error)]
pub enum JoinError {
    /// The session is a draft or completed.
    #[error("the session is {0:?}, not open for joining")]
    SessionNotOpen(SessionStatus),
    /// Late joining is off and an activity has started.
    #[error("the session has started and does not take late joiners")]
    LateJoinClosed,
    /// At capacity.
    #[error("the session is full")]
    SessionFull,
    /// The nickname breaks the rules.
    #[error(transparent)]
    InvalidNickname(#[from] InvalidNickname),
    /// Someone has it; try the suggestion.
    #[error("the nickname is taken")]
    NicknameTaken {
        /// A free alternative.
        suggestion: String,
    },
    /// The nickname or the token is banned from this session.
    #[error("you cannot join this session")]
    Banned,
    /// A field other than the nickname broke a rule (the team).
    #[error("{0}")]
    Invalid(Invalid),
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A successful join.
#[derive(Debug, Clone)]
pub struct Joined {
    /// Who.
    pub participant: Participant,
    /// Their bearer token.
    pub token: String,
    /// True when an existing participant came back with their token.
    pub rejoined: bool,
}

/// What joining a session needs: storage and the joins' group commit, the key that signs
/// participant tokens, the roster and presence caches, and where the new count is told.
#[derive(Clone, Copy)]
pub struct Entrance<'a> {
    /// The database.
    pub store: &'a dyn Store,
    /// The joins' group commit.
    pub joiner: &'a Joiner,
    /// Where the changed participant count is told.
    pub changes: &'a dyn Changes,
    /// Signs and checks participant tokens.
    pub key: &'a SigningKey,
    /// Participants' statuses in memory.
    pub roster: &'a Roster,
    /// Participants' last contact.
    pub presence: &'a PresenceBook,
}

/// What a participant row keeps of the browser cookie: its SHA-256 in hex, so that the
/// database never holds a value that would let someone wear another's browser.
pub fn browser_hash(cookie: &str) -> String {
    crate::auth::hash_token(cookie)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Joins `session`, or restores the participant an existing token names. `browser` is the
/// hash of the browser's cookie ([`browser_hash`]): a browser that a banned participant
/// joined from stays out of the session.
pub async fn join(
    entrance: Entrance<'_>,
    session: &Session,
    nickname: Option<&str>,
    team: Option<u32>,
    existing_token: Option<&str>,
    browser: Option<String>,
) -> Result<Joined, JoinError> {
    let Entrance {
        store,
        joiner,
        changes,
        key,
        roster,
        presence,
    } = entrance;
    if let Some((session_id, participant_id)) =
        existing_token.and_then(|t| key.verify_participant_token(t))
        && session_id == session.id
        && let Some(participant) = store.participant(participant_id).await?
    {
        match participant.status {
            ParticipantStatus::Active => {
                presence.touch(participant.id);
                return Ok(Joined {
                    token: key.participant_token(session.id, participant.id),
                    participant,
                    rejoined: true,
                });
            }
            ParticipantStatus::Banned => return Err(JoinError::Banned),
            ParticipantStatus::Removed => {}
        }
    }
    if session.status != SessionStatus::Active {
        return Err(JoinError::SessionNotOpen(session.status));
    }
    if !session.settings.allow_late_join
        && store
            .activities_of(session.id)
            .await?
            .iter()
            .any(|a| a.activated_at.is_some())
    {
        return Err(JoinError::LateJoinClosed);
    }
    let nickname = match nickname.map(str::trim).filter(|n| !n.is_empty()) {
        Some(raw) => Nickname::parse(raw)?,
        None if session.settings.require_nickname => return Err(InvalidNickname::Empty.into()),
        None => Nickname::guest(),
    };
    allowed(session, &nickname)?;
    let team = team_of(session, team, roster).map_err(JoinError::Invalid)?;
    let now = Utc::now();
    let participant = Participant {
        id: ParticipantId::new(),
        session_id: session.id,
        nickname,
        status: ParticipantStatus::Active,
        joined_at: now,
        last_seen_at: now,
        browser,
        team,
    };
    match joiner.join(participant.clone()).await? {
        JoinOutcome::Joined => {}
        JoinOutcome::SessionNotOpen => return Err(JoinError::SessionNotOpen(session.status)),
        JoinOutcome::SessionFull => return Err(JoinError::SessionFull),
        JoinOutcome::Banned => return Err(JoinError::Banned),
        JoinOutcome::NicknameTaken => {
            return Err(
                match store
                    .participant_by_nickname(session.id, participant.nickname.key())
                    .await?
                {
                    Some(holder) if holder.status == ParticipantStatus::Banned => JoinError::Banned,
                    _ => JoinError::NicknameTaken {
                        suggestion: suggestion(store, session, &participant.nickname).await?,
                    },
                },
            );
        }
    }
    roster.set(
        participant.id,
        ParticipantStatus::Active,
        participant.nickname.as_str(),
        participant.team,
    );
    presence.touch(participant.id);
    changes.changed(session.id, Change::Participants);
    Ok(Joined {
        token: key.participant_token(session.id, participant.id),
        participant,
        rejoined: false,
    })
}

/// The team a new participant joins: the one they picked, or the next one the server deals
/// out; none in a session without teams, which refuses a pick.
fn team_of(
    session: &Session,
    picked: Option<u32>,
    roster: &Roster,
) -> Result<Option<u16>, Invalid> {
    let Some(teams) = &session.teams else {
        return match picked {
            Some(_) => Err(Invalid::new("team", Rule::TurnedOff)),
            None => Ok(None),
        };
    };
    let count = teams.names.len();
    match (teams.assign, picked) {
        (TeamAssign::Auto, None) => Ok(Some(roster.deal_team(session.id, count))),
        (TeamAssign::Auto, Some(_)) => Err(Invalid::new("team", Rule::ServerSet)),
        (TeamAssign::Choose, None) => Err(Invalid::new("team", Rule::Required)),
        (TeamAssign::Choose, Some(team)) => usize::try_from(team)
            .ok()
            .filter(|t| *t < count)
            .and_then(|t| u16::try_from(t).ok())
            .map(Some)
            .ok_or_else(|| Invalid::new("team", Rule::Index { count })),
    }
}

/// Refuses a nickname the session's moderation flags.
fn allowed(session: &Session, nickname: &Nickname) -> Result<(), InvalidNickname> {
    match Moderator::for_settings(&session.settings).check(nickname.as_str()) {
        Some(_) => Err(InvalidNickname::NotAllowed),
        None => Ok(()),
    }
}

async fn suggestion(
    store: &dyn Store,
    session: &Session,
    nickname: &Nickname,
) -> Result<String, StoreError> {
    let taken = store
        .nickname_keys_with_prefix(session.id, nickname.key())
        .await?;
    Ok(nickname
        .suggestion(&|key| taken.iter().any(|t| t == key))
        .as_str()
        .to_owned())
}

/// What the nickname check says.
#[derive(Debug, Clone)]
pub struct NicknameCheck {
    /// The nickname as it would be stored, when valid.
    pub normalized: Option<String>,
    /// Why it is invalid, taken or banned.
    pub problem: Option<String>,
    /// The rule an invalid nickname broke.
    pub rule: Option<Invalid>,
    /// A free alternative when taken.
    pub suggestion: Option<String>,
}

/// Checks a nickname without joining.
pub async fn check_nickname(
    store: &dyn Store,
    session: &Session,
    raw: &str,
) -> Result<NicknameCheck, StoreError> {
    let nickname = match Nickname::parse(raw).and_then(|n| allowed(session, &n).map(|()| n)) {
        Ok(nickname) => nickname,
        Err(problem) => {
            return Ok(NicknameCheck {
                normalized: None,
                problem: Some(problem.to_string()),
                rule: Some(problem.invalid()),
                suggestion: None,
            });
        }
    };
    let holder = store
        .participant_by_nickname(session.id, nickname.key())
        .await?;
    let (problem, suggestion) = match holder {
        None => (None, None),
        Some(h) if h.status == ParticipantStatus::Banned => {
            (Some("this nickname cannot be used here".to_owned()), None)
        }
        Some(_) => (
            Some("the nickname is taken".to_owned()),
            Some(suggestion(store, session, &nickname).await?),
        ),
    };
    Ok(NicknameCheck {
        normalized: Some(nickname.as_str().to_owned()),
        problem,
        rule: None,
        suggestion,
    })
}

/// A participant with their presence, for the organizer's list.
#[derive(Debug, Clone)]
pub struct Listed {
    /// The participant.
    pub participant: Participant,
    /// Online, idle or disconnected.
    pub presence: Presence,
}

/// How many of the session's joined people are online: active (not removed or banned) and
/// in touch within [`ONLINE_SECONDS`](crate::model::participant::ONLINE_SECONDS), by the
/// contact times in storage. The list's dots ([`list`]) read the same times, so the count
/// and the dots agree on every page and every instance.
pub async fn online(store: &dyn Store, session: SessionId) -> Result<i64, StoreError> {
    let since = Utc::now() - chrono::Duration::seconds(ONLINE_SECONDS);
    store.count_present(session, since).await
}

/// A page of the session's participants with presence (see [`online`]), and the total.
pub async fn list(
    store: &dyn Store,
    session: &Session,
    page: u32,
    per_page: u32,
) -> Result<(Vec<Listed>, i64), StoreError> {
    let offset = i64::from(page.saturating_sub(1)) * i64::from(per_page);
    let (participants, total) = store
        .list_participants(session.id, i64::from(per_page), offset)
        .await?;
    let now = Utc::now();
    let listed = participants
        .into_iter()
        .map(|participant| Listed {
            presence: Presence::at(participant.last_seen_at, now),
            participant,
        })
        .collect();
    Ok((listed, total))
}

/// Removes a participant (optionally banning token and nickname); false when unknown.
pub async fn remove(
    store: &dyn Store,
    changes: &dyn Changes,
    roster: &Roster,
    session: &Session,
    participant: ParticipantId,
    ban: bool,
) -> Result<bool, StoreError> {
    let status = if ban {
        ParticipantStatus::Banned
    } else {
        ParticipantStatus::Removed
    };
    let previous = store
        .set_participant_status(session.id, participant, status)
        .await?;
    if previous.is_some() {
        roster.set_status(participant, status);
        changes.changed(session.id, Change::Removed);
    }
    Ok(previous.is_some())
}
