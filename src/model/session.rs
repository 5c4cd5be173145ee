//! The session type, its status machine (draft → active → completed, nothing else) and the
//! rules for its editable fields.

use crate::model::invalid::{Invalid, check_length, check_range};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::join_code::JoinCode;
use crate::ids::{OrganizerId, SessionId, TemplateId};

/// Longest title, in characters.
pub const TITLE_MAX: usize = 200;
/// Longest description, in characters.
pub const DESCRIPTION_MAX: usize = 2000;
/// Participants allowed when the organizer says nothing.
pub const DEFAULT_MAX_PARTICIPANTS: u32 = 1000;

/// Where a session is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SessionStatus {
    /// Being prepared; nobody can join.
    Draft,
    /// Open: participants join and take part.
    Active,
    /// Over: read-only except deletion and export.
    Completed,
}

impl SessionStatus {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            SessionStatus::Draft => "draft",
            SessionStatus::Active => "active",
            SessionStatus::Completed => "completed",
        }
    }

    /// Parses the stored name.
    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "draft" => Some(SessionStatus::Draft),
            "active" => Some(SessionStatus::Active),
            "completed" => Some(SessionStatus::Completed),
            _ => None,
        }
    }

    /// The statuses this one may move to.
    pub fn allowed_next(self) -> &'static [SessionStatus] {
        match self {
            SessionStatus::Draft => &[SessionStatus::Active],
            SessionStatus::Active => &[SessionStatus::Completed],
            SessionStatus::Completed => &[],
        }
    }
}

/// Who moves the session from one activity to the next.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Pace {
    /// The presenter opens each activity; every phone shows the same one.
    #[default]
    Live,
    /// Each participant goes through the activities alone, in order, between the opening
    /// and closing times (if set); a quiz times each question from when that participant
    /// first saw it.
    SelfPaced,
}

impl Pace {
    /// Whether it is the presenter who paces the session (the default).
    pub fn is_live(&self) -> bool {
        *self == Pace::Live
    }

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Pace::Live => "live",
            Pace::SelfPaced => "self_paced",
        }
    }

    /// Parses the stored name.
    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "live" => Some(Pace::Live),
            "self_paced" => Some(Pace::SelfPaced),
            _ => None,
        }
    }
}

/// A self-paced session's opening and closing times; either may be absent (null).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Hours {
    /// Answers are taken from then on; null: as soon as the session is open.
    #[serde(default)]
    pub opens_at: Option<DateTime<Utc>>,
    /// Answers are refused from then on; null: until the session ends.
    #[serde(default)]
    pub closes_at: Option<DateTime<Utc>>,
}

/// Most teams a session may have.
pub const TEAMS_MAX: usize = 12;
/// Longest team name, in characters.
pub const TEAM_NAME_MAX: usize = 30;

/// How participants get their team.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TeamAssign {
    /// Each participant picks one when joining.
    #[default]
    Choose,
    /// The server deals them out in turn, so the teams stay even.
    Auto,
}

/// Which team leads: the sum of its players' points, or their average, so that a bigger
/// team does not win by size.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TeamScoring {
    /// Every point of every player counts.
    #[default]
    Sum,
    /// Points per player who played.
    Average,
}

/// The teams of a session, for quizzes and buzzers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Teams {
    /// 2–12 names, each 1–30 characters, all different.
    pub names: Vec<String>,
    /// Picked by each participant, or dealt out by the server.
    #[serde(default)]
    pub assign: TeamAssign,
    /// Whether the team race ranks by sum or by average.
    #[serde(default)]
    pub scoring: TeamScoring,
}

/// Trims and checks teams; an empty list of names means no teams.
pub fn parse_teams(mut teams: Teams) -> Result<Option<Teams>, Invalid> {
    if teams.names.is_empty() {
        return Ok(None);
    }
    for name in &mut teams.names {
        *name = name.trim().to_owned();
    }
    crate::model::invalid::check_count("teams.names", teams.names.len(), 2, TEAMS_MAX)?;
    crate::model::invalid::check_lengths("teams.names", &teams.names, 1, TEAM_NAME_MAX)?;
    crate::model::invalid::check_distinct_texts("teams.names", &teams.names)?;
    Ok(Some(teams))
}

/// Where a moment falls in a session's opening hours.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Window {
    /// Before the opening time.
    NotYetOpen(DateTime<Utc>),
    /// Open (or no hours set).
    Open,
    /// At or after the closing time.
    Closed(DateTime<Utc>),
}

impl Hours {
    /// Where `at` falls between the opening and the closing time.
    pub fn window(self, at: DateTime<Utc>) -> Window {
        match (self.opens_at, self.closes_at) {
            (Some(opens), _) if at < opens => Window::NotYetOpen(opens),
            (_, Some(closes)) if at >= closes => Window::Closed(closes),
            _ => Window::Open,
        }
    }

    /// Checks that the closing time, when both are set, comes after the opening time.
    pub fn check(self) -> Result<Self, Invalid> {
        match (self.opens_at, self.closes_at) {
            (Some(opens), Some(closes)) if closes <= opens => Err(Invalid::new(
                "closes_at",
                crate::model::invalid::Rule::After {
                    other: "opens_at".into(),
                },
            )),
            _ => Ok(self),
        }
    }
}

impl Pace {
    /// Where `at` falls in a session with these `hours`: a live session is always open,
    /// whatever its hours say.
    pub fn window(self, hours: Hours, at: DateTime<Utc>) -> Window {
        match self {
            Pace::Live => Window::Open,
            Pace::SelfPaced => hours.window(at),
        }
    }
}

/// Per-session switches.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, default)]
pub struct SessionSettings {
    /// Participants may join after the first activity started.
    pub allow_late_join: bool,
    /// A nickname must be typed; otherwise one is made up ("Guest 4821").
    pub require_nickname: bool,
    /// Nicknames, words, open text and questions pass the profanity filter (English and
    /// German lists); flagged text is held for moderation, a flagged nickname is refused.
    pub profanity_filter: bool,
    /// Words and phrases refused in this session whether or not the filter is on (at most
    /// 200, each up to 50 characters; matched as whole words, case-insensitively).
    pub banned_words: Vec<String>,
}

impl Default for SessionSettings {
    fn default() -> Self {
        Self {
            allow_late_join: true,
            require_nickname: true,
            profanity_filter: true,
            banned_words: Vec::new(),
        }
    }
}

/// A live event. Serialised, it is what its organizer sees of it (the API adds the join
/// link); everyone else sees the live events' public `SessionView`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Session {
    /// Its id.
    pub id: SessionId,
    /// Its owner.
    pub organizer_id: OrganizerId,
    /// 1–200 characters.
    pub title: String,
    /// Up to 2000 characters.
    pub description: String,
    /// Draft, active or completed.
    pub status: SessionStatus,
    /// The code people type to join.
    #[schema(value_type = String)]
    pub join_code: JoinCode,
    /// The most active participants at once.
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
    /// The template version it was made from, or last saved as.
    pub template: Option<TemplateOrigin>,
    /// When its nicknames and free text were removed (retention); counts stay.
    pub anonymized_at: Option<DateTime<Utc>>,
    /// Live (the presenter paces it) or self-paced.
    pub pace: Pace,
    /// A self-paced session takes answers from then on, when set.
    pub opens_at: Option<DateTime<Utc>>,
    /// A self-paced session takes no answers from then on, when set.
    pub closes_at: Option<DateTime<Utc>>,
    /// Teams for quizzes and buzzers, if any.
    pub teams: Option<Teams>,
}

impl Session {
    /// Its opening and closing times.
    pub fn hours(&self) -> Hours {
        Hours {
            opens_at: self.opens_at,
            closes_at: self.closes_at,
        }
    }

    /// Where `at` falls in a self-paced session's hours; a live session is always open.
    pub fn window(&self, at: DateTime<Utc>) -> Window {
        self.pace.window(self.hours(), at)
    }
}

/// The template version (and variant) a session was made from or last saved as.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct TemplateOrigin {
    /// The template.
    pub template_id: TemplateId,
    /// Its version number, from 1.
    pub version: i32,
    /// The variant, when the session was made from one (`de-DE`, …).
    pub variant: Option<String>,
}

/// Trims and checks a title.
pub fn parse_title(raw: &str) -> Result<String, Invalid> {
    check_length("title", raw, 1, TITLE_MAX)?;
    Ok(raw.trim().to_owned())
}

/// Trims and checks a description.
pub fn parse_description(raw: &str) -> Result<String, Invalid> {
    check_length("description", raw, 0, DESCRIPTION_MAX)?;
    Ok(raw.trim().to_owned())
}

/// Checks a capacity against the server's limit.
pub fn parse_max_participants(value: u32, server_limit: u32) -> Result<u32, Invalid> {
    check_range("max_participants", value, 1, server_limit)?;
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_draft_to_active_to_completed_is_allowed() {
        use SessionStatus::*;
        for (from, to, allowed) in [
            (Draft, Active, true),
            (Active, Completed, true),
            (Draft, Completed, false),
            (Active, Draft, false),
            (Completed, Active, false),
            (Completed, Draft, false),
        ] {
            assert_eq!(
                from.allowed_next().contains(&to),
                allowed,
                "{from:?} -> {to:?}"
            );
        }
    }

    #[test]
    fn titles_are_trimmed_and_bounded() {
        assert_eq!(parse_title("  Town hall ").unwrap(), "Town hall");
        assert!(parse_title("   ").is_err());
        assert!(parse_title(&"é".repeat(200)).is_ok());
        assert!(parse_title(&"é".repeat(201)).is_err());
    }

    #[test]
    fn capacity_must_be_within_the_server_limit() {
        assert!(parse_max_participants(0, 100).is_err());
        assert!(parse_max_participants(101, 100).is_err());
        assert_eq!(parse_max_participants(100, 100), Ok(100));
    }
}
