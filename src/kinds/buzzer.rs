//! `buzzer` (trivia): the organizer arms the buzzer for a question (`arm`, optionally with
//! the question's text); participants buzz once per question. The server records the order
//! with its own timestamps. Lockout: buzzes that arrive more than `lockout_ms` after the
//! first one are locked out (recorded, but not in the queue); a buzz before the buzzer is
//! armed is refused. The organizer judges buzzes right or wrong (`judge`), which scores
//! `points_right` or `points_wrong` per participant across the whole activity.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::{
    ActivityKind, AnswerContext, Entry, Invalid, Rule, TeamStanding, Viewer, arg, check_length,
    check_range, competition_ranks, team_standings, to_json,
};
use crate::ids::ParticipantId;

/// Longest lockout window, in milliseconds.
pub const LOCKOUT_MAX: u32 = 60_000;

/// The buzzer kind.
pub struct Buzzer;

/// A buzzer's configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BuzzerConfig {
    /// The question (the organizer may give one per `arm` instead).
    #[serde(default)]
    pub prompt: String,
    /// Buzzes later than this after the first are locked out, 0–60000 ms (default 3000).
    #[serde(default = "default_lockout")]
    pub lockout_ms: u32,
    /// Points for a right answer, −1000…1000 (default 1).
    #[serde(default = "default_right")]
    pub points_right: i64,
    /// Points for a wrong answer, −1000…1000 (default 0; negative to penalise).
    #[serde(default)]
    pub points_wrong: i64,
}

fn default_lockout() -> u32 {
    3000
}

fn default_right() -> i64 {
    1
}

/// A verdict on one buzz.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Judgement {
    /// The question number.
    pub question: u32,
    /// Who buzzed.
    pub participant: ParticipantId,
    /// Right or wrong.
    pub correct: bool,
}

/// Where the buzzer is.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BuzzerState {
    /// The current question number (1 for the first arming; 0 before).
    #[serde(default)]
    pub question: u32,
    /// Buzzes are taken.
    #[serde(default)]
    pub armed: bool,
    /// When the current question was armed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub armed_at: Option<DateTime<Utc>>,
    /// The current question's text, when given with `arm`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompt: Option<String>,
    /// Every verdict so far.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub judgements: Vec<Judgement>,
    /// The text each question was armed with, by question number, for the report.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub prompts: BTreeMap<u32, String>,
}

/// A buzz. `question` guards against a late tap landing on the next question.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BuzzerAnswer {
    /// The question number the phone saw (default: the current one).
    #[serde(default)]
    pub question: u32,
}

/// One buzz in the order.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Buzz {
    /// 1 for the first.
    pub position: usize,
    /// Who.
    pub nickname: String,
    /// Their id, for `judge` (organizer only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub participant_id: Option<ParticipantId>,
    /// When the server received it.
    pub at: DateTime<Utc>,
    /// Milliseconds after the buzzer was armed.
    pub after_ms: i64,
    /// Milliseconds after the first buzz.
    pub behind_ms: i64,
    /// Too late: outside the lockout window.
    pub locked_out: bool,
    /// The organizer's verdict, if any.
    pub judged: Option<bool>,
}

/// One participant's score.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Score {
    /// 1 for the best; equal scores share a rank.
    pub rank: usize,
    /// Nickname.
    pub nickname: String,
    /// Points.
    pub score: i64,
    /// Right answers.
    pub right: usize,
    /// Wrong answers.
    pub wrong: usize,
    #[serde(skip)]
    participant: ParticipantId,
}

/// A question before the current one, as the report lists it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EarlierQuestion {
    /// Its number (1 for the first arming).
    pub question: u32,
    /// Its text, when it was armed with one.
    pub prompt: Option<String>,
    /// Who buzzed, first first, with the verdicts.
    pub buzzes: Vec<EarlierBuzz>,
}

/// One buzz of an earlier question.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EarlierBuzz {
    /// 1 for the first.
    pub position: usize,
    /// Who.
    pub nickname: String,
    /// Milliseconds after the first buzz.
    pub behind_ms: i64,
    /// The organizer's verdict, if any.
    pub judged: Option<bool>,
}

/// The buzzer's results.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BuzzerResults {
    /// The current question number.
    pub question: u32,
    /// The question's text.
    pub prompt: String,
    /// Buzzes are taken.
    pub armed: bool,
    /// When it was armed.
    pub armed_at: Option<DateTime<Utc>>,
    /// This question's buzzes, first first.
    pub buzzes: Vec<Buzz>,
    /// Scores across every question.
    pub scores: Vec<Score>,
    /// The team race across every question, in team order (empty without teams).
    pub teams: Vec<TeamStanding>,
    /// Every question before the current one, oldest first (organizer only: the report
    /// shows every round).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub earlier: Option<Vec<EarlierQuestion>>,
    /// The asking participant's own place and score.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub you: Option<Value>,
}

impl ActivityKind for Buzzer {
    const KIND: &'static str = "buzzer";
    const NAME: &'static str = "Buzzer";
    const DESCRIPTION: &'static str =
        "Trivia with a buzzer: the server decides who was first; you judge the answers.";
    /// A buzz is a race against the others: nobody can take it alone.
    const SELF_PACED: bool = false;
    const FINAL_ANSWERS: bool = true;
    type Config = BuzzerConfig;
    type State = BuzzerState;
    type Answer = BuzzerAnswer;
    type Results = BuzzerResults;
    const PERSONAL_VIEW: bool = true;

    fn config_schema() -> Value {
        json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "title": "Buzzer",
            "type": "object",
            "additionalProperties": false,
            "properties": {
                "prompt": {"type": "string", "maxLength": 300, "title": "Question"},
                "lockout_ms": {"type": "integer", "minimum": 0, "maximum": LOCKOUT_MAX, "default": 3000, "title": "Lockout after the first buzz (ms)"},
                "points_right": {"type": "integer", "minimum": -1000, "maximum": 1000, "default": 1, "title": "Points for a right answer"},
                "points_wrong": {"type": "integer", "minimum": -1000, "maximum": 1000, "default": 0, "title": "Points for a wrong answer"}
            }
        })
    }

    fn answer_schema() -> Value {
        json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "type": "object",
            "additionalProperties": false,
            "properties": {"question": {"type": "integer", "minimum": 0}}
        })
    }

    fn check_config(config: &BuzzerConfig) -> Result<(), Invalid> {
        check_length("prompt", &config.prompt, 0, 300)?;
        check_range("lockout_ms", config.lockout_ms, 0, LOCKOUT_MAX)?;
        check_range("points_right", config.points_right, -1000, 1000)?;
        check_range("points_wrong", config.points_wrong, -1000, 1000)
    }

    fn check_answer(
        _config: &BuzzerConfig,
        state: &BuzzerState,
        answer: BuzzerAnswer,
        _context: &AnswerContext<'_>,
    ) -> Result<BuzzerAnswer, Invalid> {
        if !state.armed {
            return Err(Invalid::new("", Rule::NotArmed));
        }
        if answer.question != 0 && answer.question != state.question {
            return Err(Invalid::new("question", Rule::NotCurrent));
        }
        Ok(BuzzerAnswer {
            question: state.question,
        })
    }

    fn export(
        _config: &BuzzerConfig,
        _state: &BuzzerState,
        answer: &BuzzerAnswer,
        _at: DateTime<Utc>,
    ) -> Vec<(&'static str, String)> {
        vec![("buzzer_round", answer.question.to_string())]
    }

    fn slot(_config: &BuzzerConfig, answer: &BuzzerAnswer) -> String {
        format!("buzz:{}", answer.question)
    }

    fn tally(
        config: &BuzzerConfig,
        state: &BuzzerState,
        entries: &[Entry<'_, BuzzerAnswer>],
    ) -> BuzzerResults {
        let mut current: Vec<&Entry<'_, BuzzerAnswer>> = entries
            .iter()
            .filter(|e| e.answer.question == state.question)
            .collect();
        current.sort_by(|a, b| a.at.cmp(&b.at).then(a.participant.cmp(&b.participant)));
        let verdict = |question: u32, participant: ParticipantId| {
            state
                .judgements
                .iter()
                .rev()
                .find(|j| j.question == question && j.participant == participant)
                .map(|j| j.correct)
        };
        let first = current.first().map(|e| e.at);
        let buzzes = current
            .iter()
            .enumerate()
            .map(|(i, e)| {
                let behind_ms = first.map_or(0, |f| (e.at - f).num_milliseconds());
                Buzz {
                    position: i + 1,
                    nickname: e.nickname.to_owned(),
                    participant_id: Some(e.participant),
                    at: e.at,
                    after_ms: state.armed_at.map_or(0, |a| (e.at - a).num_milliseconds()),
                    behind_ms,
                    locked_out: behind_ms > i64::from(config.lockout_ms),
                    judged: verdict(state.question, e.participant),
                }
            })
            .collect();
        // Scores: each (question, participant) counts once, by the latest verdict, and only
        // for someone who did buzz that question.
        let mut totals: std::collections::HashMap<ParticipantId, (String, i64, usize, usize)> =
            std::collections::HashMap::new();
        let mut team_of = std::collections::HashMap::new();
        for entry in entries {
            let Some(correct) = verdict(entry.answer.question, entry.participant) else {
                continue;
            };
            team_of.insert(entry.participant, entry.team);
            let line = totals
                .entry(entry.participant)
                .or_insert_with(|| (entry.nickname.to_owned(), 0, 0, 0));
            if correct {
                line.1 += config.points_right;
                line.2 += 1;
            } else {
                line.1 += config.points_wrong;
                line.3 += 1;
            }
        }
        let teams = team_standings(
            totals
                .iter()
                .map(|(p, line)| (team_of.get(p).copied().flatten(), line.1)),
        );
        let mut rows: Vec<(ParticipantId, (String, i64, usize, usize))> =
            totals.into_iter().collect();
        rows.sort_by(|a, b| b.1.1.cmp(&a.1.1).then_with(|| a.1.0.cmp(&b.1.0)));
        let ranks = competition_ranks(&rows.iter().map(|r| r.1.1).collect::<Vec<_>>());
        let mut by_question: BTreeMap<u32, Vec<&Entry<'_, BuzzerAnswer>>> = BTreeMap::new();
        for entry in entries
            .iter()
            .filter(|e| e.answer.question < state.question)
        {
            by_question
                .entry(entry.answer.question)
                .or_default()
                .push(entry);
        }
        let earlier = by_question
            .into_iter()
            .map(|(question, mut buzzed)| {
                buzzed.sort_by(|a, b| a.at.cmp(&b.at).then(a.participant.cmp(&b.participant)));
                let first = buzzed.first().map(|e| e.at);
                EarlierQuestion {
                    question,
                    prompt: state.prompts.get(&question).cloned(),
                    buzzes: buzzed
                        .iter()
                        .enumerate()
                        .map(|(i, e)| EarlierBuzz {
                            position: i + 1,
                            nickname: e.nickname.to_owned(),
                            behind_ms: first.map_or(0, |f| (e.at - f).num_milliseconds()),
                            judged: verdict(question, e.participant),
                        })
                        .collect(),
                }
            })
            .collect();
        BuzzerResults {
            earlier: Some(earlier),
            question: state.question,
            prompt: state
                .prompt
                .clone()
                .unwrap_or_else(|| config.prompt.clone()),
            armed: state.armed,
            armed_at: state.armed_at,
            buzzes,
            scores: rows
                .into_iter()
                .zip(ranks)
                .map(
                    |((participant, (nickname, score, right, wrong)), rank)| Score {
                        rank,
                        nickname,
                        score,
                        right,
                        wrong,
                        participant,
                    },
                )
                .collect(),
            teams,
            you: None,
        }
    }

    fn view(
        _config: &BuzzerConfig,
        _state: &BuzzerState,
        results: &BuzzerResults,
        viewer: Viewer,
        _revealed: bool,
    ) -> Option<Value> {
        if viewer == Viewer::Organizer {
            return Some(to_json(results));
        }
        let you = match viewer {
            Viewer::Participant { me: Some(me) } => {
                let buzz = results.buzzes.iter().find(|b| b.participant_id == Some(me));
                let score = results.scores.iter().find(|s| s.participant == me);
                Some(json!({
                    "buzzed": buzz.is_some(),
                    "position": buzz.map(|b| b.position),
                    "locked_out": buzz.is_some_and(|b| b.locked_out),
                    "judged": buzz.and_then(|b| b.judged),
                    "score": score.map_or(0, |s| s.score),
                    "rank": score.map(|s| s.rank),
                }))
            }
            _ => None,
        };
        Some(to_json(&BuzzerResults {
            buzzes: results
                .buzzes
                .iter()
                .map(|b| Buzz {
                    participant_id: None,
                    ..b.clone()
                })
                .collect(),
            you,
            earlier: None,
            ..results.clone()
        }))
    }

    fn host_command(
        _config: &BuzzerConfig,
        state: &mut BuzzerState,
        command: &str,
        args: &Value,
        now: DateTime<Utc>,
    ) -> Result<(), Invalid> {
        match command {
            "arm" => {
                let prompt = match args.get("prompt") {
                    Some(Value::String(text)) => {
                        check_length("args.prompt", text, 0, 300)?;
                        Some(text.trim().to_owned()).filter(|t| !t.is_empty())
                    }
                    None | Some(Value::Null) => None,
                    Some(_) => {
                        return Err(Invalid::new(
                            "args.prompt",
                            Rule::Shape {
                                detail: "a string".into(),
                            },
                        ));
                    }
                };
                state.question += 1;
                if let Some(text) = &prompt {
                    state.prompts.insert(state.question, text.clone());
                }
                state.armed = true;
                state.armed_at = Some(now);
                state.prompt = prompt;
            }
            "disarm" => state.armed = false,
            "judge" => {
                if state.question == 0 {
                    return Err(Invalid::new("", Rule::TooEarly));
                }
                let participant: ParticipantId = arg(args, "participant_id")?;
                let correct: bool = arg(args, "correct")?;
                let question = state.question;
                state
                    .judgements
                    .retain(|j| !(j.question == question && j.participant == participant));
                state.judgements.push(Judgement {
                    question,
                    participant,
                    correct,
                });
            }
            other => {
                return Err(super::unknown_command(other, &["arm", "disarm", "judge"]));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kinds::testing::context;

    fn config() -> BuzzerConfig {
        BuzzerConfig {
            prompt: String::new(),
            lockout_ms: 500,
            points_right: 2,
            points_wrong: -1,
        }
    }

    #[test]
    fn order_lockout_and_scores_follow_the_servers_clock_and_verdicts() {
        let cfg = config();
        let mut state = BuzzerState::default();
        let buzz = BuzzerAnswer { question: 0 };
        assert!(
            Buzzer::check_answer(&cfg, &state, buzz.clone(), &context()).is_err(),
            "not armed"
        );
        let armed = DateTime::from_timestamp(1_700_000_000, 0).unwrap();
        Buzzer::host_command(
            &cfg,
            &mut state,
            "arm",
            &json!({"prompt": "Capital of France?"}),
            armed,
        )
        .unwrap();
        let checked = Buzzer::check_answer(&cfg, &state, buzz, &context()).unwrap();
        assert_eq!(checked.question, 1);
        let (ann, bob, cat) = (
            ParticipantId::new(),
            ParticipantId::new(),
            ParticipantId::new(),
        );
        let at = |ms| armed + chrono::Duration::milliseconds(ms);
        let entries = [
            Entry {
                participant: cat,
                nickname: "Cat",
                slot: "",
                at: at(1900),
                since: None,
                team: None,
                answer: &checked,
            },
            Entry {
                participant: ann,
                nickname: "Ann",
                slot: "",
                at: at(1200),
                since: None,
                team: None,
                answer: &checked,
            },
            Entry {
                participant: bob,
                nickname: "Bob",
                slot: "",
                at: at(1450),
                since: None,
                team: None,
                answer: &checked,
            },
        ];
        let results = Buzzer::tally(&cfg, &state, &entries);
        let order: Vec<(&str, i64, i64, bool)> = results
            .buzzes
            .iter()
            .map(|b| (b.nickname.as_str(), b.after_ms, b.behind_ms, b.locked_out))
            .collect();
        assert_eq!(
            order,
            [
                ("Ann", 1200, 0, false),
                ("Bob", 1450, 250, false),
                ("Cat", 1900, 700, true)
            ]
        );
        assert_eq!(results.prompt, "Capital of France?");

        Buzzer::host_command(
            &cfg,
            &mut state,
            "judge",
            &json!({"participant_id": ann, "correct": false}),
            armed,
        )
        .unwrap();
        Buzzer::host_command(
            &cfg,
            &mut state,
            "judge",
            &json!({"participant_id": bob, "correct": true}),
            armed,
        )
        .unwrap();
        let results = Buzzer::tally(&cfg, &state, &entries);
        let scores: Vec<(&str, i64, usize)> = results
            .scores
            .iter()
            .map(|s| (s.nickname.as_str(), s.score, s.rank))
            .collect();
        assert_eq!(scores, [("Bob", 2, 1), ("Ann", -1, 2)]);
        let phone = Buzzer::view(
            &cfg,
            &state,
            &results,
            Viewer::Participant { me: Some(ann) },
            true,
        )
        .unwrap();
        assert_eq!(phone["you"]["position"], 1);
        assert_eq!(phone["you"]["judged"], false);
        assert!(phone["buzzes"][0].get("participant_id").is_none());

        // The next question starts a fresh order; scores carry over.
        Buzzer::host_command(&cfg, &mut state, "arm", &Value::Null, at(5000)).unwrap();
        let results = Buzzer::tally(&cfg, &state, &entries);
        assert!(results.buzzes.is_empty());
        assert_eq!(results.scores.len(), 2);
        // The first question stays in the organizer's results, in order, with verdicts.
        let earlier = results
            .earlier
            .as_ref()
            .expect("organizer results keep them");
        assert_eq!(earlier.len(), 1);
        assert_eq!(earlier[0].question, 1);
        let first: Vec<(&str, Option<bool>)> = earlier[0]
            .buzzes
            .iter()
            .map(|b| (b.nickname.as_str(), b.judged))
            .collect();
        assert_eq!(
            first,
            [("Ann", Some(false)), ("Bob", Some(true)), ("Cat", None)]
        );
        let stale = BuzzerAnswer { question: 1 };
        assert!(Buzzer::check_answer(&cfg, &state, stale, &context()).is_err());
    }
}
