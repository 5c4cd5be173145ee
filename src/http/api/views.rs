//! The JSON shape of a session as its organizer sees it, and the join link, shared by the
//! handlers and the live events.

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use crate::ids::{OrganizerId, SessionId};
use crate::sessions::session::{Session, SessionSettings, SessionStatus, TemplateOrigin};

/// A session as its organizer sees it.
#[derive(Debug, Serialize, ToSchema)]
pub struct SessionResponse {
    /// Its id.
    pub id: SessionId,
    /// The owner.
    pub organizer_id: OrganizerId,
    /// Title.
    pub title: String,
    /// Description.
    pub description: String,
    /// Draft, active or completed.
    pub status: SessionStatus,
    /// The six-character code people type to join.
    pub join_code: String,
    /// The link phones open (and the QR code encodes).
    pub join_url: String,
    /// Capacity.
    pub max_participants: u32,
    /// Active participants now.
    pub participant_count: u32,
    /// Switches.
    pub settings: SessionSettings,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last changed.
    pub updated_at: DateTime<Utc>,
    /// Opened.
    pub started_at: Option<DateTime<Utc>>,
    /// Ended.
    pub completed_at: Option<DateTime<Utc>>,
    /// The template version (and variant) it was made from or last saved as.
    pub template: Option<TemplateOrigin>,
    /// When its nicknames and free text were removed (retention or `anonymize`).
    pub anonymized_at: Option<DateTime<Utc>>,
}

/// The URL a phone opens to join a session.
pub fn join_url(base: &url::Url, code: &str) -> String {
    base.join(&format!("join/{code}"))
        .map_or_else(|_| format!("{base}join/{code}"), |u| u.to_string())
}

impl SessionResponse {
    /// Builds the view; `base` is the public base URL.
    pub fn new(session: Session, base: &url::Url) -> Self {
        Self {
            join_url: join_url(base, session.join_code.as_str()),
            id: session.id,
            organizer_id: session.organizer_id,
            title: session.title,
            description: session.description,
            status: session.status,
            join_code: session.join_code.as_str().to_owned(),
            max_participants: session.max_participants,
            participant_count: session.participant_count,
            settings: session.settings,
            created_at: session.created_at,
            updated_at: session.updated_at,
            started_at: session.started_at,
            completed_at: session.completed_at,
            template: session.template,
            anonymized_at: session.anonymized_at,
        }
    }
}
