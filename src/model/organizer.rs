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
}
