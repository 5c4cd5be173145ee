//! The roster: each known participant's status, cached so that a participant token is
//! checked by its signature and a map lookup, not a database round trip. Filled on first use
//! and on join; updated on removal.

use std::collections::HashMap;

use parking_lot::Mutex;

use super::participant::ParticipantStatus;
use crate::ids::{ParticipantId, SessionId};
use crate::storage::{Store, StoreError};

/// Cached participant statuses.
#[derive(Default)]
pub struct Roster {
    statuses: Mutex<HashMap<ParticipantId, ParticipantStatus>>,
}

impl Roster {
    /// Records a status.
    pub fn set(&self, participant: ParticipantId, status: ParticipantStatus) {
        self.statuses.lock().insert(participant, status);
    }

    /// Forgets every cached status (another instance removed someone); they are read again
    /// on next use.
    pub fn clear(&self) {
        self.statuses.lock().clear();
    }

    /// The participant's status, reading storage once if it is not cached. None when the
    /// participant does not exist in that session.
    pub async fn status(
        &self,
        store: &dyn Store,
        session: SessionId,
        participant: ParticipantId,
    ) -> Result<Option<ParticipantStatus>, StoreError> {
        if let Some(status) = self.statuses.lock().get(&participant).copied() {
            return Ok(Some(status));
        }
        let Some(found) = store
            .participant(participant)
            .await?
            .filter(|p| p.session_id == session)
        else {
            return Ok(None);
        };
        self.set(participant, found.status);
        Ok(Some(found.status))
    }
}
