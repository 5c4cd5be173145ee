//! Analytics: for one session, attendance over time (joins, people present, peak and
//! average), answers and reactions over time, each activity's participation and time to
//! answer, and the questions asked; across an organizer's sessions, engagement per event;
//! and two runs of a template side by side, activity by activity. Everything is computed
//! from what the reports already read, so it agrees with the summary and the exports.
//!
//! "Present" means between joining and the last sign of life (the live stream or a
//! heartbeat, marked at least every 15 seconds), so attendance needs no extra bookkeeping.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{DateTime, Duration, DurationRound, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use super::Report;
use crate::ids::{ActivityId, ParticipantId, SessionId};
use crate::kinds::ActivityRegistry;
use crate::model::session::{Session, SessionStatus, TemplateOrigin};
use crate::storage::SessionEngagement;

/// Most points on a timeline; longer events get wider buckets.
pub const TIMELINE_POINTS: i64 = 240;

/// One bucket of the timeline.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Bucket {
    /// Start of the bucket.
    pub at: DateTime<Utc>,
    /// People who joined in it.
    pub joined: usize,
    /// People who had joined by its end.
    pub joined_total: usize,
    /// People present during it.
    pub present: usize,
    /// Answers first given in it.
    pub answers: usize,
    /// Emoji reactions in it.
    pub reactions: i64,
}

/// How long answers took, from the round's opening (server clock).
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct AnswerTimes {
    /// Answers with a known time.
    pub count: usize,
    /// Median, milliseconds.
    pub median_ms: i64,
    /// 90th percentile, milliseconds.
    pub p90_ms: i64,
    /// Mean, milliseconds.
    pub mean_ms: i64,
}

/// One activity's engagement over all its rounds.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct ActivityAnalytics {
    /// Its id.
    pub id: ActivityId,
    /// Its template key, if it has one (how two runs are matched).
    pub key: Option<String>,
    /// Position.
    pub position: i32,
    /// Kind.
    pub kind: String,
    /// Title.
    pub title: String,
    /// Rounds that ran.
    pub rounds: i32,
    /// Distinct people who answered, over all rounds.
    pub respondents: usize,
    /// Respondents as a share of everyone who joined, 0–100.
    pub participation_rate: f64,
    /// Answers stored (a changed vote counts once).
    pub answers: usize,
    /// Time to answer, when known.
    pub time_to_answer: Option<AnswerTimes>,
}

/// One question asked in a Q&A.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct AskedQuestion {
    /// The Q&A activity.
    pub activity_id: ActivityId,
    /// The question.
    pub text: String,
    /// Upvotes.
    pub votes: u64,
    /// `visible`, `pending` or `hidden`.
    pub status: String,
    /// Marked answered.
    pub answered: bool,
    /// When it was asked.
    pub at: Option<String>,
}

/// Reactions with one emoji.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct EmojiCount {
    /// The emoji.
    pub emoji: String,
    /// How many times.
    pub count: i64,
}

/// Analytics of one session.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct SessionAnalytics {
    /// The session.
    pub session_id: SessionId,
    /// Its title.
    pub title: String,
    /// Draft, active or completed.
    pub status: SessionStatus,
    /// Opened.
    pub started_at: Option<DateTime<Utc>>,
    /// Ended.
    pub completed_at: Option<DateTime<Utc>>,
    /// The template version it was made from.
    pub template: Option<TemplateOrigin>,
    /// Everyone who joined.
    pub participants: usize,
    /// The most people present at once (in one bucket).
    pub peak_concurrent: usize,
    /// The average of people present over the timeline.
    pub average_concurrent: f64,
    /// Distinct people who answered anything, as a share of everyone who joined, 0–100.
    pub engagement_rate: f64,
    /// Width of a timeline bucket, in seconds (60, or wider for long events).
    pub bucket_seconds: i64,
    /// From the first join (or the opening) to the end, oldest first.
    pub timeline: Vec<Bucket>,
    /// Activities in order.
    pub activities: Vec<ActivityAnalytics>,
    /// Reactions per emoji, most first.
    pub reactions: Vec<EmojiCount>,
    /// Questions asked in its Q&As, most upvoted first.
    pub questions: Vec<AskedQuestion>,
}

fn percent(part: usize, whole: usize) -> f64 {
    crate::kinds::poll::percent(part, whole)
}

/// The value at fraction `q` (0–1) of sorted values.
fn quantile(sorted: &[i64], q: f64) -> i64 {
    let last = sorted.len().saturating_sub(1);
    // Rounding a small, non-negative index: no truncation to worry about.
    #[allow(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        clippy::cast_precision_loss
    )]
    let index = ((last as f64) * q).round() as usize;
    sorted.get(index.min(last)).copied().unwrap_or_default()
}

fn answer_times(mut ms: Vec<i64>) -> Option<AnswerTimes> {
    if ms.is_empty() {
        return None;
    }
    ms.sort_unstable();
    let sum: i64 = ms.iter().sum();
    Some(AnswerTimes {
        count: ms.len(),
        median_ms: quantile(&ms, 0.5),
        p90_ms: quantile(&ms, 0.9),
        mean_ms: sum / i64::try_from(ms.len()).unwrap_or(i64::MAX),
    })
}

/// Computes a session's analytics from its report and its reactions per minute. `now`
/// ends the timeline of a session that has not ended.
pub fn of_session(
    registry: &ActivityRegistry,
    session: &Session,
    report: &Report,
    reactions: &[(DateTime<Utc>, String, i64)],
    now: DateTime<Utc>,
) -> SessionAnalytics {
    let participants = &report.participants;
    let start = participants
        .iter()
        .map(|p| p.joined_at)
        .chain(session.started_at)
        .min()
        .unwrap_or(session.created_at);
    let end = session
        .completed_at
        .unwrap_or(now)
        .max(
            participants
                .iter()
                .map(|p| p.last_seen_at)
                .max()
                .unwrap_or(start),
        )
        .max(start);
    let minute = Duration::minutes(1);
    let span = (end - start).num_seconds().max(1);
    let minutes_per_bucket = (span / 60 / TIMELINE_POINTS + 1).max(1);
    let width = minute * i32::try_from(minutes_per_bucket).unwrap_or(i32::MAX);
    let first = start.duration_trunc(minute).unwrap_or(start);
    // One pass over people, answers and reactions: each lands in its bucket by index, and a
    // stay adds one to every bucket from its join to its last sign of life.
    let count = usize::try_from(((end - first).num_seconds() / width.num_seconds().max(1)) + 1)
        .unwrap_or(1)
        .min(usize::try_from(TIMELINE_POINTS + 2).unwrap_or(usize::MAX));
    let index = |at: DateTime<Utc>| {
        usize::try_from((at - first).num_seconds().max(0) / width.num_seconds().max(1))
            .unwrap_or(usize::MAX)
            .min(count - 1)
    };
    let mut timeline: Vec<Bucket> = (0..count)
        .map(|n| Bucket {
            at: first + width * i32::try_from(n).unwrap_or(i32::MAX),
            joined: 0,
            joined_total: 0,
            present: 0,
            answers: 0,
            reactions: 0,
        })
        .collect();
    // present[n] = stays begun by n minus stays ended before n (a difference array).
    let mut change = vec![0i64; count + 1];
    for p in participants {
        let (from, to) = (index(p.joined_at), index(p.last_seen_at.max(p.joined_at)));
        timeline[from].joined += 1;
        change[from] += 1;
        change[to + 1] -= 1;
    }
    for response in &report.responses {
        timeline[index(response.created_at)].answers += 1;
    }
    for (minute, _, n) in reactions {
        timeline[index(*minute)].reactions += n;
    }
    let (mut present, mut joined) = (0i64, 0usize);
    for (bucket, step) in timeline.iter_mut().zip(&change) {
        present += step;
        joined += bucket.joined;
        bucket.present = usize::try_from(present).unwrap_or_default();
        bucket.joined_total = joined;
    }
    let peak_concurrent = timeline.iter().map(|b| b.present).max().unwrap_or_default();
    #[allow(clippy::cast_precision_loss)]
    let average_concurrent = if timeline.is_empty() {
        0.0
    } else {
        let total: usize = timeline.iter().map(|b| b.present).sum();
        ((total as f64 / timeline.len() as f64) * 10.0).round() / 10.0
    };

    let mut by_activity: HashMap<ActivityId, (HashSet<ParticipantId>, usize, Vec<i64>)> =
        HashMap::new();
    for response in &report.responses {
        let entry = by_activity.entry(response.activity_id).or_default();
        entry.0.insert(response.participant_id);
        entry.1 += 1;
        if let Some(ms) = response.answer_ms {
            entry.2.push(i64::from(ms));
        }
    }
    let activities = report
        .activities
        .iter()
        .map(|a| {
            let (who, answers, times) = by_activity.remove(&a.id).unwrap_or_default();
            ActivityAnalytics {
                id: a.id,
                key: a.template_key.clone(),
                position: a.position,
                kind: a.kind.clone(),
                title: a.title.clone(),
                rounds: if a.activated_at.is_some() { a.round } else { 0 },
                respondents: who.len(),
                participation_rate: percent(who.len(), participants.len()),
                answers,
                time_to_answer: answer_times(times),
            }
        })
        .collect();
    let anyone: HashSet<ParticipantId> =
        report.responses.iter().map(|r| r.participant_id).collect();

    let mut emoji: BTreeMap<&str, i64> = BTreeMap::new();
    for (_, name, count) in reactions {
        *emoji.entry(name.as_str()).or_default() += count;
    }
    let mut reactions: Vec<EmojiCount> = emoji
        .into_iter()
        .map(|(emoji, count)| EmojiCount {
            emoji: emoji.to_owned(),
            count,
        })
        .collect();
    reactions.sort_by(|a, b| b.count.cmp(&a.count).then(a.emoji.cmp(&b.emoji)));

    SessionAnalytics {
        session_id: session.id,
        title: session.title.clone(),
        status: session.status,
        started_at: session.started_at,
        completed_at: session.completed_at,
        template: session.template.clone(),
        participants: participants.len(),
        peak_concurrent,
        average_concurrent,
        engagement_rate: percent(anyone.len(), participants.len()),
        bucket_seconds: width.num_seconds(),
        timeline,
        activities,
        reactions,
        questions: questions(registry, report),
    }
}

/// Every question the audience asked, from the organizer's results of each round, as
/// each kind reads them ([`crate::kinds::ActivityKind::asked`]).
fn questions(registry: &ActivityRegistry, report: &Report) -> Vec<AskedQuestion> {
    let mut seen = HashSet::new();
    let mut asked = Vec::new();
    for activity in &report.summary.activities {
        let Some(kind) = registry.get(&activity.kind) else {
            continue;
        };
        for round in &activity.rounds {
            for question in kind.asked(&round.results) {
                if !seen.insert((activity.id, round.round, question.id)) {
                    continue;
                }
                asked.push(AskedQuestion {
                    activity_id: activity.id,
                    text: question.text,
                    votes: question.votes,
                    status: question.status,
                    answered: question.answered,
                    at: question.at,
                });
            }
        }
    }
    asked.sort_by(|a, b| b.votes.cmp(&a.votes).then(a.at.cmp(&b.at)));
    asked
}

/// One event in an organizer's history.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct EventEngagement {
    /// The session.
    pub session_id: SessionId,
    /// Its title.
    pub title: String,
    /// Draft, active or completed.
    pub status: SessionStatus,
    /// When it opened (or was created, if it never opened).
    pub at: DateTime<Utc>,
    /// The template version it was made from.
    pub template: Option<TemplateOrigin>,
    /// Everyone who joined.
    pub participants: i64,
    /// Distinct people who answered anything.
    pub respondents: i64,
    /// Respondents as a share of participants, 0–100.
    pub engagement_rate: f64,
    /// Answers stored.
    pub answers: i64,
    /// Answers per participant.
    pub answers_per_participant: f64,
    /// Activities that ran.
    pub activities_run: i64,
    /// Emoji reactions.
    pub reactions: i64,
}

impl From<SessionEngagement> for EventEngagement {
    fn from(row: SessionEngagement) -> Self {
        let rate = |part: i64, whole: i64| {
            usize::try_from(part)
                .ok()
                .zip(usize::try_from(whole).ok())
                .map_or(0.0, |(p, w)| percent(p, w))
        };
        #[allow(clippy::cast_precision_loss)]
        let per_participant = if row.participants > 0 {
            ((row.answers as f64 / row.participants as f64) * 10.0).round() / 10.0
        } else {
            0.0
        };
        EventEngagement {
            engagement_rate: rate(row.respondents, row.participants),
            answers_per_participant: per_participant,
            session_id: row.session.id,
            title: row.session.title,
            status: row.session.status,
            at: row.session.started_at.unwrap_or(row.session.created_at),
            template: row.session.template,
            participants: row.participants,
            respondents: row.respondents,
            answers: row.answers,
            activities_run: row.activities_run,
            reactions: row.reactions,
        }
    }
}

/// One activity of two runs side by side.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct ComparedActivity {
    /// The template key both share (or the position, for activities without keys).
    pub key: String,
    /// The title (of the later run when both have it).
    pub title: String,
    /// The kind.
    pub kind: String,
    /// In the first run.
    pub a: Option<ActivityAnalytics>,
    /// In the second run.
    pub b: Option<ActivityAnalytics>,
}

/// Two runs side by side.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Comparison {
    /// Both were made from the same template version.
    pub same_template_version: bool,
    /// The first run.
    pub a: SessionAnalytics,
    /// The second run.
    pub b: SessionAnalytics,
    /// Activities matched by template key, in the first run's order, then the second's
    /// extra ones.
    pub activities: Vec<ComparedActivity>,
}

fn match_key(activity: &ActivityAnalytics) -> String {
    activity
        .key
        .clone()
        .unwrap_or_else(|| format!("#{}", activity.position))
}

/// Puts two runs side by side, matching activities by template key.
pub fn compare(a: SessionAnalytics, b: SessionAnalytics) -> Comparison {
    let same_template_version = match (&a.template, &b.template) {
        (Some(x), Some(y)) => x.template_id == y.template_id && x.version == y.version,
        _ => false,
    };
    let mut activities: Vec<ComparedActivity> = a
        .activities
        .iter()
        .map(|first| {
            let key = match_key(first);
            let second = b.activities.iter().find(|x| match_key(x) == key).cloned();
            ComparedActivity {
                title: second
                    .as_ref()
                    .map_or_else(|| first.title.clone(), |s| s.title.clone()),
                kind: first.kind.clone(),
                key,
                a: Some(first.clone()),
                b: second,
            }
        })
        .collect();
    for second in &b.activities {
        let key = match_key(second);
        if !activities.iter().any(|c| c.key == key) {
            activities.push(ComparedActivity {
                key,
                title: second.title.clone(),
                kind: second.kind.clone(),
                a: None,
                b: Some(second.clone()),
            });
        }
    }
    Comparison {
        same_template_version,
        a,
        b,
        activities,
    }
}

/// A CSV file: the header, then one record per row.
fn table(
    header: Vec<String>,
    rows: impl IntoIterator<Item = Vec<String>>,
) -> Result<Vec<u8>, csv::Error> {
    let mut out = csv::Writer::from_writer(Vec::new());
    out.write_record(header)?;
    for row in rows {
        out.write_record(row)?;
    }
    out.into_inner()
        .map_err(|e| csv::Error::from(e.into_error()))
}

fn names(header: &[&str]) -> Vec<String> {
    header.iter().map(|&name| name.to_owned()).collect()
}

/// CSV of one table of a session's analytics: `timeline`, `activities`, `questions` or
/// `reactions`. None for another name.
pub fn session_csv(
    analytics: &SessionAnalytics,
    table_name: &str,
) -> Option<Result<Vec<u8>, csv::Error>> {
    Some(match table_name {
        "timeline" => table(
            names(&[
                "at",
                "joined",
                "joined_total",
                "present",
                "answers",
                "reactions",
            ]),
            analytics.timeline.iter().map(|b| {
                vec![
                    b.at.to_rfc3339(),
                    b.joined.to_string(),
                    b.joined_total.to_string(),
                    b.present.to_string(),
                    b.answers.to_string(),
                    b.reactions.to_string(),
                ]
            }),
        ),
        "activities" => {
            let mut header = names(&["position", "key", "kind", "title"]);
            header.extend(names(&ACTIVITY_COLUMNS));
            table(
                header,
                analytics.activities.iter().map(|a| {
                    let mut row = vec![
                        a.position.to_string(),
                        a.key.clone().unwrap_or_default(),
                        a.kind.clone(),
                        super::defuse(&a.title),
                    ];
                    row.extend(activity_cells(Some(a)));
                    row
                }),
            )
        }
        "questions" => table(
            names(&[
                "activity_id",
                "question",
                "votes",
                "status",
                "answered",
                "asked_at",
            ]),
            analytics.questions.iter().map(|q| {
                vec![
                    q.activity_id.to_string(),
                    super::defuse(&q.text),
                    q.votes.to_string(),
                    q.status.clone(),
                    q.answered.to_string(),
                    q.at.clone().unwrap_or_default(),
                ]
            }),
        ),
        "reactions" => table(
            names(&["emoji", "count"]),
            analytics
                .reactions
                .iter()
                .map(|r| vec![r.emoji.clone(), r.count.to_string()]),
        ),
        _ => return None,
    })
}

fn activity_cells(a: Option<&ActivityAnalytics>) -> [String; 6] {
    let Some(a) = a else {
        return Default::default();
    };
    let times = a.time_to_answer.as_ref();
    [
        a.rounds.to_string(),
        a.respondents.to_string(),
        a.participation_rate.to_string(),
        a.answers.to_string(),
        times.map(|t| t.median_ms.to_string()).unwrap_or_default(),
        times.map(|t| t.p90_ms.to_string()).unwrap_or_default(),
    ]
}

const ACTIVITY_COLUMNS: [&str; 6] = [
    "rounds",
    "respondents",
    "participation_rate",
    "answers",
    "median_answer_ms",
    "p90_answer_ms",
];

/// CSV of an organizer's history, one event per row.
pub fn history_csv(events: &[EventEngagement]) -> Result<Vec<u8>, csv::Error> {
    table(
        names(&[
            "session_id",
            "title",
            "status",
            "at",
            "template_id",
            "template_version",
            "variant",
            "participants",
            "respondents",
            "engagement_rate",
            "answers",
            "answers_per_participant",
            "activities_run",
            "reactions",
        ]),
        events.iter().map(|e| {
            let template = e.template.as_ref();
            vec![
                e.session_id.to_string(),
                super::defuse(&e.title),
                e.status.as_str().to_owned(),
                e.at.to_rfc3339(),
                template
                    .map(|t| t.template_id.to_string())
                    .unwrap_or_default(),
                template.map(|t| t.version.to_string()).unwrap_or_default(),
                template.and_then(|t| t.variant.clone()).unwrap_or_default(),
                e.participants.to_string(),
                e.respondents.to_string(),
                e.engagement_rate.to_string(),
                e.answers.to_string(),
                e.answers_per_participant.to_string(),
                e.activities_run.to_string(),
                e.reactions.to_string(),
            ]
        }),
    )
}

/// CSV of two runs side by side, one activity per row.
pub fn comparison_csv(comparison: &Comparison) -> Result<Vec<u8>, csv::Error> {
    let mut header = names(&["key", "kind", "title"]);
    for run in ["a", "b"] {
        header.extend(ACTIVITY_COLUMNS.iter().map(|c| format!("{run}_{c}")));
    }
    table(
        header,
        comparison.activities.iter().map(|row| {
            let mut cells = vec![row.key.clone(), row.kind.clone(), super::defuse(&row.title)];
            cells.extend(activity_cells(row.a.as_ref()));
            cells.extend(activity_cells(row.b.as_ref()));
            cells
        }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::OrganizerId;
    use crate::model::join_code::JoinCode;
    use crate::model::participant::{Nickname, Participant, ParticipantStatus};
    use crate::model::session::SessionSettings;
    use crate::reports::{ParticipantCounts, Summary};

    fn at(minute: i64, second: i64) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-03-01T10:00:00Z")
            .unwrap()
            .with_timezone(&Utc)
            + Duration::minutes(minute)
            + Duration::seconds(second)
    }

    #[test]
    fn people_are_present_from_joining_to_their_last_sign_of_life() {
        let session = Session {
            id: SessionId::new(),
            organizer_id: OrganizerId::new(),
            title: "Town hall".into(),
            description: String::new(),
            status: SessionStatus::Completed,
            join_code: JoinCode::generate(),
            max_participants: 100,
            participant_count: 3,
            settings: SessionSettings::default(),
            created_at: at(-10, 0),
            updated_at: at(5, 0),
            started_at: Some(at(0, 0)),
            completed_at: Some(at(4, 30)),
            template: None,
            anonymized_at: None,
            pace: crate::model::session::Pace::Live,
            opens_at: None,
            closes_at: None,
            teams: None,
        };
        // Minute 0: a and b join; a leaves in minute 1; c joins in minute 2 and stays.
        let stays = [(0, 10, 1, 20), (0, 40, 4, 10), (2, 5, 4, 25)];
        let participants: Vec<Participant> = stays
            .iter()
            .enumerate()
            .map(|(n, (jm, js, lm, ls))| Participant {
                id: ParticipantId::new(),
                session_id: session.id,
                nickname: Nickname::from_stored(format!("p{n}")),
                status: ParticipantStatus::Active,
                joined_at: at(*jm, *js),
                last_seen_at: at(*lm, *ls),
                browser: None,
                team: None,
            })
            .collect();
        let report = Report {
            summary: Summary {
                participants: ParticipantCounts {
                    total: 3,
                    active: 3,
                    removed: 0,
                    banned: 0,
                },
                activities: Vec::new(),
            },
            participants,
            activities: Vec::new(),
            responses: Vec::new(),
        };
        let reactions = [
            (at(1, 0), "clap".to_owned(), 4),
            (at(3, 0), "heart".to_owned(), 1),
        ];
        let analytics = of_session(
            &ActivityRegistry::with_builtin_kinds(),
            &session,
            &report,
            &reactions,
            at(30, 0),
        );
        let present: Vec<usize> = analytics.timeline.iter().map(|b| b.present).collect();
        let joined: Vec<usize> = analytics.timeline.iter().map(|b| b.joined_total).collect();
        let clap: Vec<i64> = analytics.timeline.iter().map(|b| b.reactions).collect();
        assert_eq!(analytics.timeline[0].at, at(0, 0));
        assert_eq!(
            present,
            [2, 2, 2, 2, 2],
            "minute 1 still has a, minute 2 has b and c"
        );
        assert_eq!(joined, [2, 2, 3, 3, 3]);
        assert_eq!(clap, [0, 4, 0, 1, 0]);
        assert_eq!(analytics.peak_concurrent, 2);
        assert_eq!(analytics.average_concurrent, 2.0);
        assert_eq!(analytics.bucket_seconds, 60);
        assert_eq!(
            analytics.reactions[0],
            EmojiCount {
                emoji: "clap".into(),
                count: 4
            }
        );

        // A day-long event gets wider buckets, at most TIMELINE_POINTS + 2 of them.
        let mut long = session.clone();
        long.completed_at = Some(at(24 * 60, 0));
        let analytics = of_session(
            &ActivityRegistry::with_builtin_kinds(),
            &long,
            &report,
            &[],
            at(24 * 60, 0),
        );
        assert!(analytics.bucket_seconds > 60);
        assert!(analytics.timeline.len() <= usize::try_from(TIMELINE_POINTS).unwrap() + 2);
        assert_eq!(analytics.bucket_seconds, 7 * 60);
        assert_eq!(
            analytics.timeline[0].present, 3,
            "all three were there in the first 7 minutes"
        );
        assert_eq!(analytics.peak_concurrent, 3);
    }

    #[test]
    fn quantiles_and_means_of_answer_times() {
        let times = answer_times(vec![900, 100, 300, 200, 500]).unwrap();
        assert_eq!(
            (times.count, times.median_ms, times.p90_ms, times.mean_ms),
            (5, 300, 900, 400)
        );
        assert_eq!(answer_times(Vec::new()), None);
        assert_eq!(answer_times(vec![7]).unwrap().p90_ms, 7);
    }
}
