//! Reports: the session summary (participants, per-activity participation and results, per
//! round) and the exports as CSV and JSON. Organizer-only; results come from the same
//! server-side tallies as everything else.

pub mod analytics;
pub mod xlsx;

use std::collections::{BTreeMap, HashMap, HashSet};

use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use crate::activities::ActivityError;
use crate::ids::{ActivityId, ParticipantId};
use crate::kinds::ActivityRegistry;
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
pub fn defuse(cell: &str) -> String {
    if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{cell}")
    } else {
        cell.to_owned()
    }
}

/// The byte-order mark that tells spreadsheet programs (Excel above all) the file is UTF-8,
/// so umlauts and emoji arrive intact.
pub const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// One answer as a spreadsheet row: the common columns, and the kind's own by name.
pub struct AnswerRow<'a> {
    /// The activity answered, when it still exists.
    pub activity: Option<&'a Activity>,
    /// The stored answer.
    pub response: &'a StoredResponse,
    /// The participant's nickname.
    pub nickname: &'a str,
    /// The kind's columns ([`crate::kinds::ActivityKind::export`]).
    pub columns: Vec<(&'static str, String)>,
}

/// Every answer of the report in activity, round and time order, each with its kind's
/// columns (labels, not indexes).
pub fn answer_rows<'a>(report: &'a Report, registry: &ActivityRegistry) -> Vec<AnswerRow<'a>> {
    let nicknames: HashMap<ParticipantId, &str> = report
        .participants
        .iter()
        .map(|p| (p.id, p.nickname.as_str()))
        .collect();
    let activities: BTreeMap<ActivityId, &Activity> =
        report.activities.iter().map(|a| (a.id, a)).collect();
    let mut rows: Vec<AnswerRow<'a>> = report
        .responses
        .iter()
        .map(|response| {
            let activity = activities.get(&response.activity_id).copied();
            let columns = activity
                .and_then(|a| {
                    let kind = registry.get(&a.kind)?;
                    Some(kind.export(
                        &a.config,
                        &a.kind_state,
                        &response.answer,
                        response.created_at,
                    ))
                })
                .unwrap_or_default();
            AnswerRow {
                activity,
                response,
                nickname: nicknames
                    .get(&response.participant_id)
                    .copied()
                    .unwrap_or_default(),
                columns,
            }
        })
        .collect();
    rows.sort_by_key(|row| {
        (
            row.activity.map_or(i32::MAX, |a| a.position),
            row.response.round,
            row.response.created_at,
        )
    });
    rows
}

/// The kinds' column names across `rows`, in the order they first appear.
pub fn kind_columns<'r, 'a: 'r>(
    rows: impl IntoIterator<Item = &'r AnswerRow<'a>>,
) -> Vec<&'static str> {
    let mut names: Vec<&'static str> = Vec::new();
    for row in rows {
        for (name, _) in &row.columns {
            if !names.contains(name) {
                names.push(name);
            }
        }
    }
    names
}

/// Seconds from when the participant could first answer to their answer; blank for
/// answers stored before migration 0008.
pub fn seconds_to_answer(response: &StoredResponse) -> Option<f64> {
    response.answer_ms.map(|ms| f64::from(ms) / 1000.0)
}

/// Every answer as CSV, one row each: the activity, the person, the kind's own columns
/// with labels rather than indexes, the time to answer, and the answer's JSON last. Cells
/// that a spreadsheet would run as a formula are defused.
pub fn to_csv(report: &Report, registry: &ActivityRegistry) -> Result<Vec<u8>, csv::Error> {
    let rows = answer_rows(report, registry);
    let names = kind_columns(&rows);
    let mut out = csv::Writer::from_writer(Vec::new());
    let mut header = vec![
        "activity_position",
        "activity_title",
        "kind",
        "round",
        "participant_id",
        "nickname",
        "slot",
    ];
    header.extend(&names);
    header.extend([
        "seconds_to_answer",
        "submitted_at",
        "updated_at",
        "answer_json",
    ]);
    out.write_record(&header)?;
    for row in &rows {
        let response = row.response;
        let mut record = vec![
            row.activity
                .map_or(String::new(), |a| a.position.to_string()),
            defuse(row.activity.map_or("", |a| a.title.as_str())),
            row.activity.map_or(String::new(), |a| a.kind.clone()),
            response.round.to_string(),
            response.participant_id.to_string(),
            defuse(row.nickname),
            defuse(&response.slot),
        ];
        for name in &names {
            let cell = row
                .columns
                .iter()
                .find(|(n, _)| n == name)
                .map_or("", |(_, v)| v.as_str());
            record.push(defuse(cell));
        }
        record.extend([
            seconds_to_answer(response).map_or(String::new(), |s| format!("{s:.3}")),
            response.created_at.to_rfc3339(),
            response.updated_at.to_rfc3339(),
            defuse(&response.answer),
        ]);
        out.write_record(&record)?;
    }
    out.into_inner().map_err(|e| e.into_error().into())
}
