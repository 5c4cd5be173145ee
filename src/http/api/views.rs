//! The JSON shape of a session as its organizer sees it, and the join link, shared by the
//! handlers and the live events.

use serde::Serialize;
use utoipa::ToSchema;

use crate::sessions::session::Session;

/// A session as its organizer sees it: the session, and the link phones open.
#[derive(Debug, Serialize, ToSchema)]
pub struct SessionResponse {
    /// The session.
    #[serde(flatten)]
    pub session: Session,
    /// The link phones open (and the QR code encodes).
    pub join_url: String,
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
            session,
        }
    }
}
