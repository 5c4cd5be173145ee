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
}

/// Cached participants.
#[derive(Default)]
pub struct Roster {
    members: Mutex<HashMap<ParticipantId, Member>>,
}

impl Roster {
    /// Records a participant.
    pub fn set(&self, participant: ParticipantId, status: ParticipantStatus, nickname: &str) {
        self.members.lock().insert(
            participant,
            Member {
                status,
                nickname: Arc::from(nickname),
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
        };
        self.members.lock().insert(participant, member.clone());
        Ok(Some(member))
    }
}
