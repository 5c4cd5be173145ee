//! The activity type, its state machine (draft → published → active → closed, reopen as a new
//! round) and results visibility (live, or hidden until the organizer reveals).

use crate::model::invalid::{Invalid, check_range};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::ids::{ActivityId, SessionId};

/// Longest time limit, in seconds (one hour).
pub const TIME_LIMIT_MAX: u32 = 3600;

/// Where an activity is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ActivityState {
    /// Being written; invisible to participants.
    Draft,
    /// Ready and shown in the agenda, not yet taking answers.
    Published,
    /// Taking answers. At most one per session.
    Active,
    /// No longer taking answers; may be reopened as a new round.
    Closed,
}

impl ActivityState {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            ActivityState::Draft => "draft",
            ActivityState::Published => "published",
            ActivityState::Active => "active",
            ActivityState::Closed => "closed",
        }
    }

    /// Parses the stored name.
    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "draft" => Some(ActivityState::Draft),
            "published" => Some(ActivityState::Published),
            "active" => Some(ActivityState::Active),
            "closed" => Some(ActivityState::Closed),
            _ => None,
        }
    }

    /// The states this one may move to. Closed → active reopens the activity as a new round.
    pub fn allowed_next(self) -> &'static [ActivityState] {
        match self {
            ActivityState::Draft => &[ActivityState::Published],
            ActivityState::Published => &[ActivityState::Draft, ActivityState::Active],
            ActivityState::Active => &[ActivityState::Closed],
            ActivityState::Closed => &[ActivityState::Active],
        }
    }
}

/// Whether participants see results while answering.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema, Default)]
#[serde(rename_all = "snake_case")]
pub enum ResultsVisibility {
    /// Results update live for everyone.
    #[default]
    Live,
    /// Only the organizer sees results until they reveal them (against group-think).
    Hidden,
}

impl ResultsVisibility {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            ResultsVisibility::Live => "live",
            ResultsVisibility::Hidden => "hidden",
        }
    }

    /// Parses the stored name.
    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "live" => Some(ResultsVisibility::Live),
            "hidden" => Some(ResultsVisibility::Hidden),
            _ => None,
        }
    }
}

/// One step of a session; also its JSON shape in the API.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Activity {
    /// Its id.
    pub id: ActivityId,
    /// The session it belongs to.
    pub session_id: SessionId,
    /// The kind's name (`poll`, …).
    pub kind: String,
    /// 1–200 characters.
    pub title: String,
    /// Order in the session, ascending.
    pub position: i32,
    /// Kind-specific configuration, valid for the kind.
    #[schema(value_type = Object)]
    pub config: serde_json::Value,
    /// Kind-specific run-time state changed by host commands (for example a poll's lock).
    #[schema(value_type = Object)]
    pub kind_state: serde_json::Value,
    /// Draft, published, active or closed.
    pub state: ActivityState,
    /// 1 at first; each reopening adds one. Answers are kept per round.
    pub round: i32,
    /// Live or hidden.
    pub results_visibility: ResultsVisibility,
    /// Hidden results have been revealed this round.
    pub results_revealed: bool,
    /// Closes by itself this many seconds after it becomes active.
    pub time_limit_seconds: Option<u32>,
    /// When it last became active.
    pub activated_at: Option<DateTime<Utc>>,
    /// When the server closes it, if it has a time limit.
    pub deadline_at: Option<DateTime<Utc>>,
    /// When it last closed.
    pub closed_at: Option<DateTime<Utc>>,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last changed.
    pub updated_at: DateTime<Utc>,
    /// The key of the template activity it came from (see docs/templates.md); set when
    /// the session was made from a template or saved as one.
    pub template_key: Option<String>,
}

impl Activity {
    /// The results document of `GET /activities/{id}/results` and of `results` events: the
    /// kind's results plus `activity_id`, `kind`, `round` and `state`.
    pub fn results_document(&self, results: serde_json::Value) -> serde_json::Value {
        let mut body = results;
        if let serde_json::Value::Object(map) = &mut body {
            map.insert("activity_id".into(), self.id.to_string().into());
            map.insert("kind".into(), self.kind.clone().into());
            map.insert("round".into(), self.round.into());
            map.insert("state".into(), self.state.as_str().into());
        }
        body
    }

    /// Whether a participant may see the current results.
    pub fn results_visible_to_participants(&self) -> bool {
        self.results_visibility == ResultsVisibility::Live || self.results_revealed
    }
}

/// Trims and checks an activity title: the same rule as a session's.
pub fn parse_title(raw: &str) -> Result<String, Invalid> {
    crate::model::session::parse_title(raw)
}

/// Checks a time limit (1 s to one hour).
pub fn parse_time_limit(seconds: u32) -> Result<u32, Invalid> {
    check_range("time_limit_seconds", seconds, 1, TIME_LIMIT_MAX)?;
    Ok(seconds)
}

/// The activity a session is on: the active one, or else the one closed most recently.
pub fn current(activities: &[Activity]) -> Option<&Activity> {
    activities
        .iter()
        .find(|a| a.state == ActivityState::Active)
        .or_else(|| {
            activities
                .iter()
                .filter(|a| a.state == ActivityState::Closed && a.closed_at.is_some())
                .max_by_key(|a| a.closed_at)
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ActivityState::*;

    #[test]
    fn the_state_machine_allows_exactly_the_documented_moves() {
        let all = [Draft, Published, Active, Closed];
        let allowed = [
            (Draft, Published),
            (Published, Draft),
            (Published, Active),
            (Active, Closed),
            (Closed, Active),
        ];
        for from in all {
            for to in all {
                assert_eq!(
                    from.allowed_next().contains(&to),
                    allowed.contains(&(from, to)),
                    "{from:?} -> {to:?}"
                );
            }
        }
    }
}
