//! An organizer account and the tokens that sign it in, as stored.

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use crate::ids::{OrganizerId, TokenId};

/// An organizer account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Organizer {
    /// Its id.
    pub id: OrganizerId,
    /// Lowercased email, unique.
    pub email: String,
    /// Admins see and change every session.
    pub is_admin: bool,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When an admin disabled it; a disabled organizer cannot sign in and has no tokens.
    pub disabled_at: Option<DateTime<Utc>>,
}

/// What kind of token authenticated a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TokenKind {
    /// Made by signing in; also the cookie.
    Login,
    /// Made for a script.
    Api,
}

impl TokenKind {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            TokenKind::Login => "login",
            TokenKind::Api => "api",
        }
    }

    /// Parses the stored name.
    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "login" => Some(TokenKind::Login),
            "api" => Some(TokenKind::Api),
            _ => None,
        }
    }
}

/// A stored token (never the secret itself).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct TokenRecord {
    /// Its id.
    pub id: TokenId,
    /// Whose it is.
    pub organizer_id: OrganizerId,
    /// Login or API.
    pub kind: TokenKind,
    /// A label chosen by the organizer.
    pub name: String,
    /// SHA-256 of the secret.
    #[serde(skip)]
    pub token_hash: Vec<u8>,
    /// When it was made.
    pub created_at: DateTime<Utc>,
    /// When it stops working, if ever.
    pub expires_at: Option<DateTime<Utc>>,
    /// The API token this one was made with; revoking that one revokes this one.
    pub parent_id: Option<TokenId>,
    /// When a request last used it (recorded at most once a minute).
    pub last_used_at: Option<DateTime<Utc>>,
    /// The client address of that request.
    pub last_used_from: Option<String>,
}

/// What a one-time account link does when it is used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum LinkPurpose {
    /// Creates a new organizer with the link's email.
    Invite,
    /// Sets a new password for an existing organizer and ends all its tokens.
    Reset,
}

impl LinkPurpose {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            LinkPurpose::Invite => "invite",
            LinkPurpose::Reset => "reset",
        }
    }

    /// Parses the stored name.
    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "invite" => Some(LinkPurpose::Invite),
            "reset" => Some(LinkPurpose::Reset),
            _ => None,
        }
    }
}

/// A one-time link an admin made (never the secret itself).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountLink {
    /// Its id.
    pub id: crate::ids::LinkId,
    /// SHA-256 of the secret in the link.
    pub token_hash: Vec<u8>,
    /// Invite or reset.
    pub purpose: LinkPurpose,
    /// The invited email, or the email of the organizer being reset.
    pub email: String,
    /// The organizer being reset; `None` for an invitation.
    pub organizer_id: Option<OrganizerId>,
    /// Whether the invited organizer becomes an admin.
    pub is_admin: bool,
    /// The admin who made it.
    pub created_by: Option<OrganizerId>,
    /// Made.
    pub created_at: DateTime<Utc>,
    /// Stops working.
    pub expires_at: DateTime<Utc>,
}
