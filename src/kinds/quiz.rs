//! `quiz`: questions with choices and correct answers, asked one at a time by the
//! organizer (`next`, or `start` with an index). Each question has its own time limit,
//! enforced with the server's clock: an answer received after the deadline is refused, and
//! the time to answer is measured from when the server started the question, never by the
//! client. Answers are final. Scoring is speed-weighted (`points × (1 − t/limit ÷ 2)`) or
//! correctness-only. `reveal_answer` shows the correct choices and the distribution; only
//! revealed questions count on the public leaderboard, so it never gives an answer away.
//! Each participant sees their own score and rank; a participant who rejoins with their
//! token is the same participant and keeps their score.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::{
    ActivityKind, AnswerContext, Entry, Invalid, Rule, TeamStanding, Viewer, arg, check_count,
    check_length, check_lengths, check_range, competition_ranks, team_standings, to_json,
};
use crate::ids::ParticipantId;

/// Most questions in one quiz.
pub const QUESTIONS_MAX: usize = 100;
/// Fewest and most choices per question.
pub const CHOICES: std::ops::RangeInclusive<usize> = 2..=8;
/// Shortest and longest time limit per question, in seconds.
pub const LIMIT: std::ops::RangeInclusive<u32> = 5..=300;
/// Leaderboard entries the screen and phones get.
pub const LEADERBOARD: usize = 10;

/// The quiz kind.
pub struct Quiz;

/// How answers score.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Scoring {
    /// Faster correct answers score more: half the points for answering at the deadline.
    #[default]
    Speed,
    /// Every correct answer scores its full points.
    Correctness,
}

/// One question.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QuizQuestion {
    /// The question.
    pub question: String,
    /// 2–8 choices.
    pub choices: Vec<String>,
    /// Indexes of the correct choices (one or more); a participant must pick exactly these.
    pub correct: Vec<usize>,
    /// Seconds to answer, 5–300 (default 20).
    #[serde(default = "default_limit")]
    pub time_limit_seconds: u32,
    /// Points for a correct answer, 0–10000 (default 1000).
    #[serde(default = "default_points")]
    pub points: u32,
}

fn default_limit() -> u32 {
    20
}

fn default_points() -> u32 {
    1000
}

/// A quiz's configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QuizConfig {
    /// 1–100 questions, asked in order.
    pub questions: Vec<QuizQuestion>,
    /// Speed-weighted (default) or correctness-only.
    #[serde(default)]
    pub scoring: Scoring,
}

/// Where the quiz is.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QuizState {
    /// The question being asked (or last asked).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current: Option<usize>,
    /// When each asked question started, by index (server clock).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub started: BTreeMap<usize, DateTime<Utc>>,
    /// Questions whose answer has been revealed.
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub revealed: BTreeSet<usize>,
}

impl QuizState {
    fn deadline(&self, config: &QuizConfig, index: usize) -> Option<DateTime<Utc>> {
        let started = self.started.get(&index)?;
        let question = config.questions.get(index)?;
        Some(*started + chrono::Duration::seconds(i64::from(question.time_limit_seconds)))
    }
}

/// One answer to one question.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QuizAnswer {
    /// The question's index (must be the current one).
    pub question: usize,
    /// The picked choices.
    pub choices: Vec<usize>,
}

/// One question as results show it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct QuestionResult {
    /// Its index.
    pub index: usize,
    /// People who answered.
    pub answered: usize,
    /// Whether its answer is revealed.
    pub revealed: bool,
    /// Picks per choice (organizer always; others once revealed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub distribution: Option<Vec<usize>>,
    /// The correct choices (organizer always; others once revealed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub correct: Option<Vec<usize>>,
    /// People who answered correctly (organizer always; others once revealed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub correct_count: Option<usize>,
}

/// One line of the leaderboard.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Standing {
    /// 1 for the best; equal scores share a rank.
    pub rank: usize,
    /// Nickname.
    pub nickname: String,
    /// Points.
    pub score: i64,
    /// Correct answers.
    pub correct: usize,
    #[serde(skip)]
    participant: ParticipantId,
}

/// A participant's own standing.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct You {
    /// Points so far (revealed questions).
    pub score: i64,
    /// Rank among everyone who answered; null before the first revealed answer.
    pub rank: Option<usize>,
    /// Correct answers so far (revealed questions).
    pub correct: usize,
    /// Whether they answered the current question.
    pub answered_current: bool,
    /// Their answer to the current question, once revealed: correct or not, and points.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last: Option<LastAnswer>,
}

/// How a participant's answer to the current question scored.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LastAnswer {
    /// Right or wrong.
    pub correct: bool,
    /// Points earned.
    pub points: i64,
    /// Milliseconds from the question's start to the answer, by the server's clock.
    pub time_ms: i64,
}

/// The quiz's results.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct QuizResults {
    /// The current question.
    pub current: Option<usize>,
    /// When the current question closes (server clock).
    pub deadline_at: Option<DateTime<Utc>>,
    /// Questions asked so far.
    pub questions: Vec<QuestionResult>,
    /// The leaderboard: revealed questions only for the screen and phones (top 10);
    /// every answer so far for the organizer (everyone).
    pub leaderboard: Vec<Standing>,
    /// How many people the whole leaderboard ranks (the screen shows the top 10 of them).
    pub players: usize,
    /// The asking participant's own standing.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub you: Option<You>,
    /// The team race, in team order (empty without teams): revealed questions only for
    /// the screen and phones, every answer for the organizer.
    pub teams: Vec<TeamStanding>,
    #[serde(skip)]
    public: Vec<Standing>,
    #[serde(skip)]
    public_teams: Vec<TeamStanding>,
    #[serde(skip)]
    scored: HashMap<(ParticipantId, usize), LastAnswer>,
}

/// Whether `choices` (sorted, as a checked answer holds them) are exactly the question's
/// correct choices.
fn is_right(question: &QuizQuestion, choices: &[usize]) -> bool {
    let mut correct = question.correct.clone();
    correct.sort_unstable();
    choices == correct
}

fn score(
    config: &QuizConfig,
    started: DateTime<Utc>,
    answer: &QuizAnswer,
    at: DateTime<Utc>,
) -> LastAnswer {
    let question = &config.questions[answer.question];
    let right = is_right(question, &answer.choices);
    let limit_ms = i64::from(question.time_limit_seconds) * 1000;
    let time_ms = (at - started).num_milliseconds().clamp(0, limit_ms);
    let points = i64::from(question.points);
    let points = match (right, config.scoring) {
        (false, _) => 0,
        (true, Scoring::Correctness) => points,
        // Full points at once, half at the deadline, linear between (rounded).
        (true, Scoring::Speed) => (points * (2 * limit_ms - time_ms) + limit_ms) / (2 * limit_ms),
    };
    LastAnswer {
        correct: right,
        points,
        time_ms,
    }
}

/// One question's rules; fields are named inside the question.
fn check_question(q: &QuizQuestion) -> Result<(), Invalid> {
    check_length("question", &q.question, 1, 300)?;
    check_count("choices", q.choices.len(), *CHOICES.start(), *CHOICES.end())?;
    check_lengths("choices", &q.choices, 1, 100)?;
    // No choice is right until the organizer says which.
    if q.correct.is_empty() {
        return Err(Invalid::new("correct", Rule::Required));
    }
    if let Some(bad) = q.correct.iter().position(|c| *c >= q.choices.len()) {
        return Err(Invalid::new(
            format!("correct[{bad}]"),
            Rule::Index {
                count: q.choices.len(),
            },
        ));
    }
    let distinct: BTreeSet<usize> = q.correct.iter().copied().collect();
    if distinct.len() != q.correct.len() {
        return Err(Invalid::new("correct", Rule::Distinct));
    }
    check_range(
        "time_limit_seconds",
        q.time_limit_seconds,
        *LIMIT.start(),
        *LIMIT.end(),
    )?;
    check_range("points", q.points, 0, 10_000)
}

fn standings(totals: HashMap<ParticipantId, (String, i64, usize)>) -> Vec<Standing> {
    let mut rows: Vec<(ParticipantId, String, i64, usize)> = totals
        .into_iter()
        .map(|(p, (name, score, correct))| (p, name, score, correct))
        .collect();
    rows.sort_by(|a, b| b.2.cmp(&a.2).then_with(|| a.1.cmp(&b.1)));
    let ranks = competition_ranks(&rows.iter().map(|r| r.2).collect::<Vec<_>>());
    rows.into_iter()
        .zip(ranks)
        .map(|((participant, nickname, score, correct), rank)| Standing {
            rank,
            nickname,
            score,
            correct,
            participant,
        })
        .collect()
}

impl ActivityKind for Quiz {
    fn from_csv(text: &str) -> Result<Value, super::ImportError> {
        super::quiz_csv::quiz_config(text)
    }

    const KIND: &'static str = "quiz";
    const NAME: &'static str = "Quiz";
    const DESCRIPTION: &'static str =
        "Timed questions with right answers, points for speed, and a leaderboard.";
    const FINAL_ANSWERS: bool = true;
    const CSV_IMPORT: bool = true;
    type Config = QuizConfig;
    type State = QuizState;
    type Answer = QuizAnswer;
    type Results = QuizResults;
    const PERSONAL_VIEW: bool = true;

    fn config_schema() -> Value {
        json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "title": "Quiz",
            "type": "object",
            "additionalProperties": false,
            "required": ["questions"],
            "properties": {
                "questions": {
                    "type": "array", "minItems": 1, "maxItems": QUESTIONS_MAX, "title": "Questions",
                    "items": {
                        "type": "object", "additionalProperties": false,
                        "required": ["question", "choices", "correct"],
                        "properties": {
                            "question": {"type": "string", "minLength": 1, "maxLength": 300, "title": "Question"},
                            "choices": {"type": "array", "minItems": CHOICES.start(), "maxItems": CHOICES.end(), "items": {"type": "string", "minLength": 1, "maxLength": 100}, "title": "Choices"},
                            "correct": {"type": "array", "minItems": 1, "maxItems": CHOICES.end(), "items": {"type": "integer", "minimum": 0}, "title": "Correct choices (indexes)"},
                            "time_limit_seconds": {"type": "integer", "minimum": LIMIT.start(), "maximum": LIMIT.end(), "default": 20, "title": "Seconds to answer"},
                            "points": {"type": "integer", "minimum": 0, "maximum": 10000, "default": 1000, "title": "Points"}
                        }
                    }
                },
                "scoring": {"enum": ["speed", "correctness"], "default": "speed", "title": "Scoring"}
            }
        })
    }

    fn answer_schema() -> Value {
        json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "type": "object",
            "additionalProperties": false,
            "required": ["question", "choices"],
            "properties": {
                "question": {"type": "integer", "minimum": 0},
                "choices": {"type": "array", "minItems": 1, "maxItems": CHOICES.end(), "items": {"type": "integer", "minimum": 0}}
            }
        })
    }

    fn check_config(config: &QuizConfig) -> Result<(), Invalid> {
        check_count("questions", config.questions.len(), 1, QUESTIONS_MAX)?;
        for (i, q) in config.questions.iter().enumerate() {
            check_question(q).map_err(|e| e.within(&format!("questions[{i}]")))?;
        }
        Ok(())
    }

    fn check_answer(
        config: &QuizConfig,
        state: &QuizState,
        mut answer: QuizAnswer,
        context: &AnswerContext<'_>,
    ) -> Result<QuizAnswer, Invalid> {
        // Only the question being asked takes answers, until its answer is revealed.
        if state.current != Some(answer.question) || state.revealed.contains(&answer.question) {
            return Err(Invalid::new("question", Rule::NotCurrent));
        }
        let current = answer.question;
        if state
            .deadline(config, current)
            .is_some_and(|deadline| context.received >= deadline)
        {
            return Err(Invalid::new("", Rule::TimeUp));
        }
        let question = &config.questions[current];
        answer.choices.sort_unstable();
        answer.choices.dedup();
        if let Some(bad) = answer
            .choices
            .iter()
            .position(|c| *c >= question.choices.len())
        {
            return Err(Invalid::new(
                format!("choices[{bad}]"),
                Rule::Index {
                    count: question.choices.len(),
                },
            ));
        }
        check_count("choices", answer.choices.len(), 1, question.correct.len())?;
        Ok(answer)
    }

    fn export(
        config: &QuizConfig,
        _state: &QuizState,
        answer: &QuizAnswer,
        _at: DateTime<Utc>,
    ) -> Vec<(&'static str, String)> {
        let Some(question) = config.questions.get(answer.question) else {
            return Vec::new();
        };
        let right = is_right(question, &answer.choices);
        vec![
            ("question", question.question.clone()),
            (
                "choice",
                super::labels_of(&question.choices, &answer.choices),
            ),
            ("correct", if right { "yes" } else { "no" }.into()),
        ]
    }

    /// Each question is timed from its own start, not the quiz's.
    fn answerable_since(
        _config: &QuizConfig,
        state: &QuizState,
        answer: &QuizAnswer,
    ) -> Option<DateTime<Utc>> {
        state.started.get(&answer.question).copied()
    }

    fn paced_steps(config: &QuizConfig) -> usize {
        config.questions.len()
    }

    fn paced_step(_config: &QuizConfig, answer: &QuizAnswer) -> usize {
        answer.question
    }

    /// Alone, a participant is asked the step's question from when they first saw it,
    /// and nothing is revealed to them.
    fn paced_state(
        config: &QuizConfig,
        _state: &QuizState,
        step: usize,
        seen: DateTime<Utc>,
    ) -> Option<QuizState> {
        (step < config.questions.len()).then(|| QuizState {
            current: Some(step),
            started: BTreeMap::from([(step, seen)]),
            revealed: BTreeSet::new(),
        })
    }

    /// Once they answered the question or its time ran out, a participant going alone sees
    /// its answer, whether they were right, and their score over the questions they
    /// answered, each scored as the leaderboard scores it.
    fn paced_feedback(
        config: &QuizConfig,
        state: &QuizState,
        mine: &[Entry<'_, QuizAnswer>],
        now: DateTime<Utc>,
    ) -> Option<(QuizState, Value)> {
        let step = state.current?;
        let scored: Vec<(usize, LastAnswer)> = mine
            .iter()
            .filter_map(|entry| {
                let question = entry.answer.question;
                // As the leaderboard reads it back from storage.
                let started = entry
                    .since
                    .or_else(|| state.started.get(&question).copied())?;
                config
                    .questions
                    .get(question)
                    .map(|_| (question, score(config, started, entry.answer, entry.at)))
            })
            .collect();
        let last = scored
            .iter()
            .find(|(q, _)| *q == step)
            .map(|(_, r)| r.clone());
        let over = state.deadline(config, step).is_some_and(|end| now >= end);
        if last.is_none() && !over {
            return None;
        }
        let mut shown = state.clone();
        shown.revealed.insert(step);
        let you = You {
            score: scored.iter().map(|(_, r)| r.points).sum(),
            rank: None,
            correct: scored.iter().filter(|(_, r)| r.correct).count(),
            answered_current: last.is_some(),
            last,
        };
        Some((shown, json!({ "you": you })))
    }

    fn slot(_config: &QuizConfig, answer: &QuizAnswer) -> String {
        format!("q{}", answer.question)
    }

    fn tally(
        config: &QuizConfig,
        state: &QuizState,
        entries: &[Entry<'_, QuizAnswer>],
    ) -> QuizResults {
        // Questions the organizer started, and in a self-paced session every question
        // someone was asked alone (their answers carry when they saw it).
        let asked = state.started.keys().copied().chain(
            entries
                .iter()
                .filter(|e| e.since.is_some())
                .map(|e| e.answer.question),
        );
        let mut questions: BTreeMap<usize, (usize, Vec<usize>, usize)> = asked
            .filter_map(|i| Some((i, (0, vec![0; config.questions.get(i)?.choices.len()], 0))))
            .collect();
        let mut live: HashMap<ParticipantId, (String, i64, usize)> = HashMap::new();
        let mut public: HashMap<ParticipantId, (String, i64, usize)> = HashMap::new();
        let mut scored = HashMap::new();
        let mut team_of: HashMap<ParticipantId, Option<u16>> = HashMap::new();
        for entry in entries {
            team_of.insert(entry.participant, entry.team);
            let index = entry.answer.question;
            // Timed from the question's start, or from when this participant saw it alone.
            let started = state.started.get(&index).copied().or(entry.since);
            let (Some(started), Some(row)) = (started, questions.get_mut(&index)) else {
                continue;
            };
            let result = score(config, started, entry.answer, entry.at);
            row.0 += 1;
            for choice in &entry.answer.choices {
                if let Some(count) = row.1.get_mut(*choice) {
                    *count += 1;
                }
            }
            row.2 += usize::from(result.correct);
            let add = |totals: &mut HashMap<ParticipantId, (String, i64, usize)>| {
                let line = totals
                    .entry(entry.participant)
                    .or_insert_with(|| (entry.nickname.to_owned(), 0, 0));
                line.1 += result.points;
                line.2 += usize::from(result.correct);
            };
            add(&mut live);
            if state.revealed.contains(&index) {
                add(&mut public);
            }
            scored.insert((entry.participant, index), result);
        }
        let race = |totals: &HashMap<ParticipantId, (String, i64, usize)>| {
            team_standings(
                totals
                    .iter()
                    .map(|(p, (_, score, _))| (team_of.get(p).copied().flatten(), *score)),
            )
        };
        let (teams, public_teams) = (race(&live), race(&public));
        QuizResults {
            teams,
            public_teams,
            current: state.current,
            deadline_at: state.current.and_then(|c| state.deadline(config, c)),
            questions: questions
                .into_iter()
                .map(
                    |(index, (answered, distribution, correct_count))| QuestionResult {
                        index,
                        answered,
                        revealed: state.revealed.contains(&index),
                        distribution: Some(distribution),
                        correct: Some(config.questions[index].correct.clone()),
                        correct_count: Some(correct_count),
                    },
                )
                .collect(),
            players: live.len(),
            leaderboard: standings(live),
            you: None,
            public: standings(public),
            scored,
        }
    }

    fn view(
        _config: &QuizConfig,
        state: &QuizState,
        results: &QuizResults,
        viewer: Viewer,
        _revealed: bool,
    ) -> Option<Value> {
        if viewer == Viewer::Organizer {
            return Some(to_json(results));
        }
        let you = match viewer {
            Viewer::Participant { me: Some(me) } => {
                let standing = results.public.iter().find(|s| s.participant == me);
                Some(You {
                    score: standing.map_or(0, |s| s.score),
                    rank: standing.map(|s| s.rank),
                    correct: standing.map_or(0, |s| s.correct),
                    answered_current: results
                        .current
                        .is_some_and(|c| results.scored.contains_key(&(me, c))),
                    last: results
                        .current
                        .filter(|c| state.revealed.contains(c))
                        .and_then(|c| results.scored.get(&(me, c)).cloned()),
                })
            }
            _ => None,
        };
        Some(to_json(&QuizResults {
            questions: results
                .questions
                .iter()
                .map(|q| {
                    if q.revealed {
                        q.clone()
                    } else {
                        QuestionResult {
                            distribution: None,
                            correct: None,
                            correct_count: None,
                            ..q.clone()
                        }
                    }
                })
                .collect(),
            leaderboard: results.public.iter().take(LEADERBOARD).cloned().collect(),
            players: results.public.len(),
            you,
            teams: results.public_teams.clone(),
            public_teams: Vec::new(),
            public: Vec::new(),
            scored: HashMap::new(),
            ..results.clone()
        }))
    }

    fn participant_config(config: &QuizConfig, state: &QuizState) -> Value {
        // Phones see the current question without its answer; never the ones to come.
        let current = state.current.map(|index| {
            let q = &config.questions[index];
            json!({
                "index": index,
                "question": q.question,
                "choices": q.choices,
                "picks": q.correct.len(),
                "time_limit_seconds": q.time_limit_seconds,
                "started_at": state.started.get(&index),
                "deadline_at": state.deadline(config, index),
                "revealed": state.revealed.contains(&index),
                "correct": state.revealed.contains(&index).then_some(&q.correct),
            })
        });
        json!({
            "question_count": config.questions.len(),
            "scoring": config.scoring,
            "current": current,
        })
    }

    fn host_command(
        config: &QuizConfig,
        state: &mut QuizState,
        command: &str,
        args: &Value,
        now: DateTime<Utc>,
    ) -> Result<(), Invalid> {
        match command {
            "next" | "start" => {
                let index = if command == "start" {
                    arg::<usize>(args, "index")?
                } else {
                    state.current.map_or(0, |c| c + 1)
                };
                if index >= config.questions.len() {
                    return Err(Invalid::new(
                        "args.index",
                        Rule::Index {
                            count: config.questions.len(),
                        },
                    ));
                }
                if state.started.contains_key(&index) {
                    return Err(Invalid::new("args.index", Rule::AlreadyDone));
                }
                state.current = Some(index);
                state.started.insert(index, now);
            }
            "reveal_answer" => {
                let Some(current) = state.current else {
                    return Err(Invalid::new("", Rule::TooEarly));
                };
                state.revealed.insert(current);
            }
            other => {
                return Err(super::unknown_command(
                    other,
                    &["next", "start", "reveal_answer"],
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kinds::testing::context;

    fn config(scoring: Scoring) -> QuizConfig {
        QuizConfig {
            questions: vec![
                QuizQuestion {
                    question: "2 + 2?".into(),
                    choices: vec!["3".into(), "4".into(), "5".into()],
                    correct: vec![1],
                    time_limit_seconds: 10,
                    points: 1000,
                },
                QuizQuestion {
                    question: "Primes?".into(),
                    choices: vec!["2".into(), "4".into(), "5".into()],
                    correct: vec![0, 2],
                    time_limit_seconds: 20,
                    points: 500,
                },
            ],
            scoring,
        }
    }

    #[test]
    fn speed_scoring_uses_the_servers_clock_from_the_questions_start() {
        let cfg = config(Scoring::Speed);
        let start = Utc::now();
        let answer = QuizAnswer {
            question: 0,
            choices: vec![1],
        };
        let at = |ms| start + chrono::Duration::milliseconds(ms);
        assert_eq!(score(&cfg, start, &answer, at(0)).points, 1000);
        assert_eq!(score(&cfg, start, &answer, at(5000)).points, 750);
        assert_eq!(score(&cfg, start, &answer, at(10_000)).points, 500);
        let wrong = QuizAnswer {
            question: 0,
            choices: vec![0],
        };
        assert_eq!(score(&cfg, start, &wrong, at(100)).points, 0);
        assert_eq!(
            score(&config(Scoring::Correctness), start, &answer, at(9000)).points,
            1000
        );
    }

    #[test]
    fn answers_only_to_the_current_question_before_its_deadline_and_reveal() {
        let cfg = config(Scoring::Speed);
        let mut state = QuizState::default();
        let answer = |q, c: &[usize]| QuizAnswer {
            question: q,
            choices: c.to_vec(),
        };
        assert!(Quiz::check_answer(&cfg, &state, answer(0, &[1]), &context()).is_err());
        let start = Utc::now();
        Quiz::host_command(&cfg, &mut state, "next", &Value::Null, start).unwrap();
        assert!(Quiz::check_answer(&cfg, &state, answer(0, &[1]), &context()).is_ok());
        assert!(Quiz::check_answer(&cfg, &state, answer(1, &[0]), &context()).is_err());
        assert!(
            Quiz::check_answer(&cfg, &state, answer(0, &[0, 1]), &context()).is_err(),
            "one pick"
        );
        let late = AnswerContext {
            received: start + chrono::Duration::seconds(10),
            ..context()
        };
        assert!(Quiz::check_answer(&cfg, &state, answer(0, &[1]), &late).is_err());
        Quiz::host_command(&cfg, &mut state, "reveal_answer", &Value::Null, start).unwrap();
        assert!(Quiz::check_answer(&cfg, &state, answer(0, &[1]), &context()).is_err());
        Quiz::host_command(&cfg, &mut state, "next", &Value::Null, start).unwrap();
        assert!(Quiz::check_answer(&cfg, &state, answer(1, &[2, 0]), &context()).is_ok());
        assert!(Quiz::host_command(&cfg, &mut state, "next", &Value::Null, start).is_err());
        assert!(
            Quiz::host_command(&cfg, &mut state, "start", &json!({"index": 0}), start).is_err()
        );
    }

    #[test]
    fn phones_never_see_correct_answers_before_the_reveal() {
        let cfg = config(Scoring::Speed);
        let mut state = QuizState::default();
        Quiz::host_command(&cfg, &mut state, "next", &Value::Null, Utc::now()).unwrap();
        let phone = Quiz::participant_config(&cfg, &state);
        assert_eq!(phone["current"]["question"], "2 + 2?");
        assert_eq!(phone["current"]["correct"], Value::Null);
        assert!(
            !phone.to_string().contains("Primes"),
            "later questions stay hidden"
        );
        Quiz::host_command(&cfg, &mut state, "reveal_answer", &Value::Null, Utc::now()).unwrap();
        assert_eq!(
            Quiz::participant_config(&cfg, &state)["current"]["correct"],
            json!([1])
        );
    }
}
