//! Reports: the session summary (participants, per-activity participation and results, per
//! round) and the exports as CSV and JSON. Organizer-only; results come from the same
//! server-side tallies as everything else.

pub mod analytics;

use std::collections::{BTreeMap, HashMap, HashSet};

use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use crate::activities::ActivityError;
use crate::ids::{ActivityId, ParticipantId};
use crate::model::activity::{Activity, ActivityState};
use crate::model::participant::{Participant, ParticipantStatus};
use crate::model::session::Session;
use crate::responses::live::Live;
use crate::storage::StoredResponse;

/// How many participants, by status.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ParticipantCounts {
    /// Everyone who ever joined.
    pub total: usize,
    /// Still taking part.
    pub active: usize,
    /// Removed.
    pub removed: usize,
    /// Removed and banned.
    pub banned: usize,
}

/// One round of one activity.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RoundSummary {
    /// The round.
    pub round: i32,
    /// Distinct participants who answered.
    pub respondents: usize,
    /// Respondents as a share of everyone who joined, 0–100.
    pub participation_rate: f64,
    /// The kind's results for the round.
    #[schema(value_type = Object)]
    pub results: Value,
}

/// One activity in the summary.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ActivitySummary {
    /// Its id.
    pub id: ActivityId,
    /// Position.
    pub position: i32,
    /// Kind.
    pub kind: String,
    /// Title.
    pub title: String,
    /// Its state now.
    pub state: ActivityState,
    /// Every round that ran, oldest first.
    pub rounds: Vec<RoundSummary>,
}

/// The session summary.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Summary {
    /// Participants by status.
    pub participants: ParticipantCounts,
    /// Activities in order.
    pub activities: Vec<ActivitySummary>,
}

/// Everything a report needs, read once.
pub struct Report {
    /// The summary.
    pub summary: Summary,
    /// Every participant.
    pub participants: Vec<Participant>,
    /// Every activity.
    pub activities: Vec<Activity>,
    /// Every response.
    pub responses: Vec<StoredResponse>,
}

/// Builds the report of a session.
pub async fn build(live: &Live, session: &Session) -> Result<Report, ActivityError> {
    let store = live.store.as_ref();
    let (participants, _) = store.list_participants(session.id, i64::MAX, 0).await?;
    let activities = store.activities_of(session.id).await?;
    let responses = store.responses_of_session(session.id).await?;
    let counts = ParticipantCounts {
        total: participants.len(),
        active: participants
            .iter()
            .filter(|p| p.status == ParticipantStatus::Active)
            .count(),
        removed: participants
            .iter()
            .filter(|p| p.status == ParticipantStatus::Removed)
            .count(),
        banned: participants
            .iter()
            .filter(|p| p.status == ParticipantStatus::Banned)
            .count(),
    };
    let mut respondents: HashMap<(ActivityId, i32), HashSet<ParticipantId>> = HashMap::new();
    for response in &responses {
        respondents
            .entry((response.activity_id, response.round))
            .or_default()
            .insert(response.participant_id);
    }
    let mut summaries = Vec::with_capacity(activities.len());
    for activity in &activities {
        let ran = activity.activated_at.is_some();
        let mut rounds = Vec::new();
        for round in 1..=activity.round {
            if !ran {
                break;
            }
            let mut as_of_round = activity.clone();
            as_of_round.round = round;
            let results = live.results(&as_of_round).await?;
            let count = respondents
                .get(&(activity.id, round))
                .map_or(0, HashSet::len);
            rounds.push(RoundSummary {
                round,
                respondents: count,
                participation_rate: crate::kinds::poll::percent(count, counts.total),
                results: results
                    .view(crate::kinds::Viewer::Organizer)
                    .unwrap_or_default(),
            });
        }
        summaries.push(ActivitySummary {
            id: activity.id,
            position: activity.position,
            kind: activity.kind.clone(),
            title: activity.title.clone(),
            state: activity.state,
            rounds,
        });
    }
    Ok(Report {
        summary: Summary {
            participants: counts,
            activities: summaries,
        },
        participants,
        activities,
        responses,
    })
}

/// Keeps spreadsheet programs from running a cell as a formula.
fn defuse(cell: &str) -> String {
    if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{cell}")
    } else {
        cell.to_owned()
    }
}

/// Every response as CSV, one row each, with the activity and the nickname.
pub fn to_csv(report: &Report) -> Result<Vec<u8>, csv::Error> {
    let nicknames: HashMap<ParticipantId, &str> = report
        .participants
        .iter()
        .map(|p| (p.id, p.nickname.as_str()))
        .collect();
    let activities: BTreeMap<ActivityId, &Activity> =
        report.activities.iter().map(|a| (a.id, a)).collect();
    let mut out = csv::Writer::from_writer(Vec::new());
    out.write_record([
        "activity_position",
        "activity_title",
        "kind",
        "round",
        "participant_id",
        "nickname",
        "slot",
        "answer",
        "submitted_at",
        "updated_at",
        "seconds_to_answer",
    ])?;
    let mut rows: Vec<&StoredResponse> = report.responses.iter().collect();
    rows.sort_by_key(|r| {
        (
            activities
                .get(&r.activity_id)
                .map_or(i32::MAX, |a| a.position),
            r.round,
            r.created_at,
        )
    });
    for response in rows {
        let activity = activities.get(&response.activity_id);
        out.write_record([
            activity.map_or(String::new(), |a| a.position.to_string()),
            defuse(activity.map_or("", |a| a.title.as_str())),
            activity.map_or(String::new(), |a| a.kind.clone()),
            response.round.to_string(),
            response.participant_id.to_string(),
            defuse(
                nicknames
                    .get(&response.participant_id)
                    .copied()
                    .unwrap_or_default(),
            ),
            defuse(&response.slot),
            defuse(&response.answer),
            response.created_at.to_rfc3339(),
            response.updated_at.to_rfc3339(),
            // Blank for answers stored before migration 0008.
            response
                .answer_ms
                .map_or(String::new(), |ms| format!("{:.3}", f64::from(ms) / 1000.0)),
        ])?;
    }
    out.into_inner().map_err(|e| e.into_error().into())
}
