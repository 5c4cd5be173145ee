//! Session templates as stored: the named template, and each immutable version with its
//! definition as JSON (`session_templates` reads it into a checked `Definition`).

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use crate::ids::{ActivityId, OrganizerId, SessionId, TemplateId};

/// A named template; its content lives in its versions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Template {
    /// Its id.
    pub id: TemplateId,
    /// The owner.
    pub organizer_id: OrganizerId,
    /// 1–200 characters, unique among the owner's templates.
    pub name: String,
    /// Up to 2000 characters.
    pub description: String,
    /// The newest version's number (versions count from 1).
    pub latest_version: i32,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last renamed or given a version.
    pub updated_at: DateTime<Utc>,
}

/// One stored version of a template.
#[derive(Debug, Clone, PartialEq)]
pub struct VersionRecord {
    /// The template.
    pub template_id: TemplateId,
    /// 1, 2, …
    pub version: i32,
    /// What the author said about it.
    pub note: String,
    /// The content, a session definition as JSON.
    pub definition: serde_json::Value,
    /// The session it was saved from, if any.
    pub source_session_id: Option<SessionId>,
    /// Saved.
    pub created_at: DateTime<Utc>,
}

/// A version about to be stored; the store gives it the next number.
#[derive(Debug, Clone, Copy)]
pub struct NewVersion<'a> {
    /// The template.
    pub template_id: TemplateId,
    /// The author's note.
    pub note: &'a str,
    /// The content, checked, as JSON (a session definition).
    pub definition: &'a serde_json::Value,
    /// The session it is saved from: in the same transaction, it is linked to the new
    /// version and its activities get their keys (`keys`).
    pub source: Option<SessionId>,
    /// The key of each of the source session's activities.
    pub keys: &'a [(ActivityId, String)],
    /// Now.
    pub at: DateTime<Utc>,
}
