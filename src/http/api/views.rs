//! The JSON shape of a session as its organizer sees it.

use serde::Serialize;
use utoipa::ToSchema;

use crate::model::session::Session;

/// A session as its organizer sees it: the session, and the link phones open.
#[derive(Debug, Serialize, ToSchema)]
pub struct SessionResponse {
    /// The session.
    #[serde(flatten)]
    pub session: Session,
    /// The link phones open (and the QR code encodes).
    pub join_url: String,
}

impl SessionResponse {
    /// Builds the view; `base` is the public base URL.
    pub fn new(session: Session, base: &url::Url) -> Self {
        Self {
            join_url: session.join_code.url(base),
            session,
        }
    }
}
