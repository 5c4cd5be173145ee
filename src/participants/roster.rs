//! The roster: each known participant's status and nickname, cached so that a participant
//! token is checked by its signature and a map lookup, not a database round trip. Filled on
//! first use and on join; updated on removal.

use std::collections::HashMap;
use std::sync::Arc;

use parking_lot::Mutex;

use crate::ids::{ParticipantId, SessionId};
use crate::model::participant::ParticipantStatus;
use crate::storage::{Store, StoreError};

/// What the roster knows of one participant.
#[derive(Debug, Clone)]
pub struct Member {
    /// Active, removed or banned.
    pub status: ParticipantStatus,
    /// As shown.
    pub nickname: Arc<str>,
    /// Their team, an index into the session's team names.
    pub team: Option<u16>,
}

/// Cached participants.
#[derive(Default)]
pub struct Roster {
    members: Mutex<HashMap<ParticipantId, Member>>,
    /// Per session with teams dealt out by the server: the team the next joiner gets.
    turns: Mutex<HashMap<SessionId, usize>>,
}

impl Roster {
    /// The team the next participant joining `session` gets when the server deals the
    /// `count` teams out: each in turn, so they stay even (on each instance; across
    /// instances within one per instance).
    pub fn deal_team(&self, session: SessionId, count: usize) -> u16 {
        let mut turns = self.turns.lock();
        let turn = turns.entry(session).or_insert(0);
        let team = *turn % count.max(1);
        *turn = turn.wrapping_add(1);
        u16::try_from(team).unwrap_or(0)
    }

    /// Records a participant.
    pub fn set(
        &self,
        participant: ParticipantId,
        status: ParticipantStatus,
        nickname: &str,
        team: Option<u16>,
    ) {
        self.members.lock().insert(
            participant,
            Member {
                status,
                nickname: Arc::from(nickname),
                team,
            },
        );
    }

    /// Records a new status of a participant, if cached (otherwise it is read on next use).
    pub fn set_status(&self, participant: ParticipantId, status: ParticipantStatus) {
        if let Some(member) = self.members.lock().get_mut(&participant) {
            member.status = status;
        }
    }

    /// The participant's status if cached; never reads storage.
    pub fn cached_status(&self, participant: ParticipantId) -> Option<ParticipantStatus> {
        self.members.lock().get(&participant).map(|m| m.status)
    }

    /// Forgets every cached participant (another instance removed someone); they are read
    /// again on next use.
    pub fn clear(&self) {
        self.members.lock().clear();
    }

    /// The participant, reading storage once if it is not cached. None when the participant
    /// does not exist in that session.
    pub async fn member(
        &self,
        store: &dyn Store,
        session: SessionId,
        participant: ParticipantId,
    ) -> Result<Option<Member>, StoreError> {
        if let Some(member) = self.members.lock().get(&participant).cloned() {
            return Ok(Some(member));
        }
        let Some(found) = store
            .participant(participant)
            .await?
            .filter(|p| p.session_id == session)
        else {
            return Ok(None);
        };
        let member = Member {
            status: found.status,
            nickname: Arc::from(found.nickname.as_str()),
            team: found.team,
        };
        self.members.lock().insert(participant, member.clone());
        Ok(Some(member))
    }
}
