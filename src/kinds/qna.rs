//! `qna`: participants ask questions and upvote others' questions (once each, with undo).
//! With `moderation` on, a question is seen only by its author and the organizer until
//! approved; with it off, only questions the session's filter flags wait for approval. The
//! organizer approves, hides, pins and marks questions answered. The wall sorts by votes or
//! by recency, pinned first and answered last. Anonymous asking hides the name from
//! everyone, the organizer included.
//!
//! Every question is its own slot (`q:<id>`) and so is each upvote (`up:<id>`): an upvote is
//! one per person per question by construction, undo replaces it, and an author withdraws a
//! question by replacing its slot.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::{
    ActivityKind, AnswerContext, Entry, Invalid, LIST_PAGE, REDACTED, Reference, Rule, Viewer, arg,
    check_length, check_range, new_item_id, to_json,
};
use crate::ids::ParticipantId;
use crate::moderation::Flag;

/// Longest question allowed by any configuration.
pub const LENGTH_MAX: usize = 1000;
/// Most questions the screen lists.
pub const SHOWN_MAX: usize = 200;
/// Most questions one person may ask under any configuration.
pub const QUESTIONS_MAX: usize = 50;

/// The Q&A kind.
pub struct Qna;

/// How the wall is sorted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Sort {
    /// Most upvoted first.
    #[default]
    Votes,
    /// Newest first.
    Recent,
}

/// A Q&A's configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QnaConfig {
    /// What the questions are about.
    pub topic: String,
    /// Questions wait for approval before anyone but their author sees them.
    #[serde(default)]
    pub moderation: bool,
    /// Participants may ask without their name.
    #[serde(default = "yes")]
    pub allow_anonymous: bool,
    /// Longest question, 1–1000 characters (default 280).
    #[serde(default = "default_max_length")]
    pub max_length: usize,
    /// How the wall is sorted at first.
    #[serde(default)]
    pub sort: Sort,
    /// Questions one person may ask, 1–50 (default 5); withdrawn ones count too.
    #[serde(default = "default_max_questions")]
    pub max_questions: usize,
}

fn yes() -> bool {
    true
}

fn default_max_questions() -> usize {
    5
}

fn default_max_length() -> usize {
    280
}

/// The organizer's decisions.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QnaState {
    /// Approved questions.
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub approved: BTreeSet<String>,
    /// Hidden questions.
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub hidden: BTreeSet<String>,
    /// Pinned questions.
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub pinned: BTreeSet<String>,
    /// Answered questions.
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub answered: BTreeSet<String>,
    /// The sort the organizer switched to, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sort: Option<Sort>,
}

/// A question as asked (participants send `text` and `anonymous`; the server adds `id`
/// and `flag`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Ask {
    /// The question (shared with the results folded from it, not copied).
    pub text: Arc<str>,
    /// Ask without the name.
    #[serde(default)]
    pub anonymous: bool,
    /// Set by the server.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Set by the server: why the filter flagged it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flag: Option<Flag>,
}

/// What a participant sends.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum QnaAnswer {
    /// Ask a question.
    Ask(Ask),
    /// Upvote the question with this id.
    Upvote(String),
    /// Take an upvote back.
    Unvote(String),
    /// Withdraw one's own question.
    Withdraw(String),
}

/// Where a question stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// On the wall.
    Visible,
    /// Waiting for approval.
    Pending,
    /// Hidden by the organizer.
    Hidden,
}

/// One question on the wall.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Question {
    /// Its id, for votes and commands.
    pub id: String,
    /// The text.
    pub text: Arc<str>,
    /// Who asked; null when anonymous.
    pub author: Option<String>,
    /// Upvotes from others.
    pub votes: usize,
    /// When it was asked.
    pub at: DateTime<Utc>,
    /// Visible, pending or hidden.
    pub status: Status,
    /// Pinned to the top.
    pub pinned: bool,
    /// Marked answered.
    pub answered: bool,
    /// Why the filter flagged it (organizer only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub flag: Option<Flag>,
    #[serde(skip)]
    asker: ParticipantId,
    #[serde(skip)]
    voters: Vec<ParticipantId>,
}

/// The wall.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct QnaResults {
    /// How the wall is sorted.
    pub sort: Sort,
    /// Questions this viewer may see, in wall order.
    pub questions: Vec<Question>,
    /// Questions on the wall.
    pub visible: usize,
    /// Questions asked (organizer only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub total_questions: Option<usize>,
    /// Questions waiting for approval (organizer only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub waiting: Option<usize>,
    /// Questions waiting for approval, oldest first (organizer only; in live documents,
    /// the oldest [`LIST_PAGE`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub moderation_queue: Option<Vec<Question>>,
    /// The asking participant's own questions, whatever their status.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mine: Option<Vec<Question>>,
    /// Questions the asking participant upvoted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub my_votes: Option<Vec<String>>,
}

impl QnaState {
    fn status(&self, config: &QnaConfig, id: &str, flagged: bool) -> Status {
        if self.hidden.contains(id) {
            Status::Hidden
        } else if self.approved.contains(id) || !(config.moderation || flagged) {
            Status::Visible
        } else {
            Status::Pending
        }
    }
}

fn wall_order(sort: Sort) -> impl Fn(&Question, &Question) -> std::cmp::Ordering {
    move |a, b| {
        b.pinned
            .cmp(&a.pinned)
            .then(a.answered.cmp(&b.answered))
            .then_with(|| match sort {
                Sort::Votes => b.votes.cmp(&a.votes).then(a.at.cmp(&b.at)),
                Sort::Recent => b.at.cmp(&a.at),
            })
            .then_with(|| a.id.cmp(&b.id))
    }
}

impl ActivityKind for Qna {
    /// Every question of the round, the wall's and the moderation queue's (the organizer's
    /// results carry both).
    fn asked(results: &Value) -> Vec<super::Asked> {
        let lists = ["questions", "moderation_queue"].map(|field| &results[field]);
        lists
            .into_iter()
            .filter_map(Value::as_array)
            .flatten()
            .map(|question| super::Asked {
                id: question["id"].as_str().unwrap_or_default().to_owned(),
                text: question["text"].as_str().unwrap_or_default().to_owned(),
                votes: question["votes"].as_u64().unwrap_or_default(),
                status: question["status"].as_str().unwrap_or_default().to_owned(),
                answered: question["answered"].as_bool().unwrap_or_default(),
                at: question["at"].as_str().map(str::to_owned),
            })
            .collect()
    }

    const KIND: &'static str = "qna";
    const NAME: &'static str = "Q&A";
    const DESCRIPTION: &'static str =
        "Questions from the audience, upvoted by others and moderated by you.";
    type Config = QnaConfig;
    type State = QnaState;
    type Answer = QnaAnswer;
    type Results = QnaResults;
    const PERSONAL_VIEW: bool = true;
    const LISTS: &'static [(&'static str, &'static str)] = &[
        ("questions", "id"),
        ("moderation_queue", "id"),
        ("mine", "id"),
    ];

    fn config_schema() -> Value {
        json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "title": "Q&A",
            "type": "object",
            "additionalProperties": false,
            "required": ["topic"],
            "properties": {
                "topic": {"type": "string", "minLength": 1, "maxLength": 300, "title": "Topic"},
                "moderation": {"type": "boolean", "default": false, "title": "Approve questions before they are shown"},
                "allow_anonymous": {"type": "boolean", "default": true, "title": "Allow anonymous questions"},
                "max_length": {"type": "integer", "minimum": 1, "maximum": LENGTH_MAX, "default": 280, "title": "Longest question"},
                "sort": {"enum": ["votes", "recent"], "default": "votes", "title": "Sort the wall by"},
                "max_questions": {"type": "integer", "minimum": 1, "maximum": QUESTIONS_MAX, "default": 5, "title": "Questions per person"}
            }
        })
    }

    fn answer_schema() -> Value {
        let id = json!({"type": "string", "minLength": 1, "maxLength": 64});
        json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "oneOf": [
                {"type": "object", "additionalProperties": false, "required": ["ask"], "properties": {"ask": {
                    "type": "object", "additionalProperties": false, "required": ["text"],
                    "properties": {"text": {"type": "string", "minLength": 1, "maxLength": LENGTH_MAX}, "anonymous": {"type": "boolean"}}
                }}},
                {"type": "object", "additionalProperties": false, "required": ["upvote"], "properties": {"upvote": id}},
                {"type": "object", "additionalProperties": false, "required": ["unvote"], "properties": {"unvote": id}},
                {"type": "object", "additionalProperties": false, "required": ["withdraw"], "properties": {"withdraw": id}}
            ]
        })
    }

    fn check_config(config: &QnaConfig) -> Result<(), Invalid> {
        check_length("topic", &config.topic, 1, 300)?;
        check_range("max_length", config.max_length as i64, 1, LENGTH_MAX as i64)?;
        check_range(
            "max_questions",
            config.max_questions as i64,
            1,
            QUESTIONS_MAX as i64,
        )
    }

    fn check_answer(
        config: &QnaConfig,
        _state: &QnaState,
        answer: QnaAnswer,
        context: &AnswerContext<'_>,
    ) -> Result<QnaAnswer, Invalid> {
        match answer {
            QnaAnswer::Ask(ask) => {
                if ask.id.is_some() {
                    return Err(Invalid::new("ask.id", Rule::ServerSet));
                }
                if ask.flag.is_some() {
                    return Err(Invalid::new("ask.flag", Rule::ServerSet));
                }
                if ask.anonymous && !config.allow_anonymous {
                    return Err(Invalid::new("ask.anonymous", Rule::TurnedOff));
                }
                let asked = (context.own_slots)()
                    .iter()
                    .filter(|slot| slot.starts_with("q:"))
                    .count();
                if asked >= config.max_questions {
                    return Err(Invalid::new(
                        "ask",
                        Rule::Quota {
                            max: config.max_questions,
                        },
                    ));
                }
                let text = ask.text.split_whitespace().collect::<Vec<_>>().join(" ");
                check_length("ask.text", &text, 1, config.max_length)?;
                Ok(QnaAnswer::Ask(Ask {
                    flag: context.moderator.check(&text),
                    text: text.into(),
                    anonymous: ask.anonymous,
                    id: Some(new_item_id()),
                }))
            }
            QnaAnswer::Upvote(id) | QnaAnswer::Unvote(id) | QnaAnswer::Withdraw(id)
                if id.is_empty() || id.len() > 64 =>
            {
                Err(Invalid::new("", Rule::Length { min: 1, max: 64 }))
            }
            other => Ok(other),
        }
    }

    fn redact(answer: QnaAnswer) -> QnaAnswer {
        match answer {
            QnaAnswer::Ask(ask) => QnaAnswer::Ask(Ask {
                text: Arc::from(REDACTED),
                ..ask
            }),
            other => other,
        }
    }

    fn export(
        _config: &QnaConfig,
        _state: &QnaState,
        answer: &QnaAnswer,
        _at: DateTime<Utc>,
    ) -> Vec<(&'static str, String)> {
        let (action, text, anonymous, id) = match answer {
            QnaAnswer::Ask(ask) => (
                "ask",
                ask.text.to_string(),
                if ask.anonymous { "yes" } else { "no" },
                ask.id.clone().unwrap_or_default(),
            ),
            QnaAnswer::Upvote(id) => ("upvote", String::new(), "", id.clone()),
            QnaAnswer::Unvote(id) => ("unvote", String::new(), "", id.clone()),
            QnaAnswer::Withdraw(id) => ("withdraw", String::new(), "", id.clone()),
        };
        vec![
            ("action", action.into()),
            ("text", text),
            ("anonymous", anonymous.into()),
            ("question_id", id),
        ]
    }

    fn slot(_config: &QnaConfig, answer: &QnaAnswer) -> String {
        match answer {
            QnaAnswer::Ask(ask) => format!("q:{}", ask.id.as_deref().unwrap_or_default()),
            QnaAnswer::Withdraw(id) => format!("q:{id}"),
            QnaAnswer::Upvote(id) | QnaAnswer::Unvote(id) => format!("up:{id}"),
        }
    }

    /// An upvote (or its undo) needs a question asked in this round; a withdrawal needs
    /// the participant's own question. (A question withdrawn after it was asked still
    /// counts as asked here; the wall leaves it out either way.)
    fn refers_to(_config: &QnaConfig, answer: &QnaAnswer) -> Option<Reference> {
        match answer {
            QnaAnswer::Ask(_) => None,
            QnaAnswer::Upvote(id) | QnaAnswer::Unvote(id) => Some(Reference {
                slot: format!("q:{id}"),
                own: false,
                missing: Invalid::new(
                    if matches!(answer, QnaAnswer::Upvote(_)) {
                        "upvote"
                    } else {
                        "unvote"
                    },
                    Rule::Missing,
                ),
            }),
            QnaAnswer::Withdraw(id) => Some(Reference {
                slot: format!("q:{id}"),
                own: true,
                missing: Invalid::new("withdraw", Rule::Missing),
            }),
        }
    }

    fn tally(config: &QnaConfig, state: &QnaState, entries: &[Entry<'_, QnaAnswer>]) -> QnaResults {
        let mut votes: HashMap<&str, Vec<ParticipantId>> = HashMap::new();
        for entry in entries {
            if let QnaAnswer::Upvote(id) = entry.answer {
                votes
                    .entry(id.as_str())
                    .or_default()
                    .push(entry.participant);
            }
        }
        let mut questions: Vec<Question> = entries
            .iter()
            .filter_map(|entry| {
                let QnaAnswer::Ask(ask) = entry.answer else {
                    return None;
                };
                let id = ask.id.clone().unwrap_or_default();
                // Votes count once per person, never the asker's own.
                let voters: Vec<ParticipantId> = votes
                    .get(id.as_str())
                    .map(|v| {
                        v.iter()
                            .copied()
                            .filter(|p| *p != entry.participant)
                            .collect()
                    })
                    .unwrap_or_default();
                Some(Question {
                    status: state.status(config, &id, ask.flag.is_some()),
                    pinned: state.pinned.contains(&id),
                    answered: state.answered.contains(&id),
                    text: ask.text.clone(),
                    author: (!ask.anonymous).then(|| entry.nickname.to_owned()),
                    votes: voters.len(),
                    at: entry.at,
                    flag: ask.flag,
                    asker: entry.participant,
                    voters,
                    id,
                })
            })
            .collect();
        let sort = state.sort.unwrap_or(config.sort);
        questions.sort_by(wall_order(sort));
        let mut queue: Vec<Question> = questions
            .iter()
            .filter(|q| q.status == Status::Pending)
            .cloned()
            .collect();
        queue.sort_by_key(|q| q.at);
        QnaResults {
            sort,
            visible: questions
                .iter()
                .filter(|q| q.status == Status::Visible)
                .count(),
            total_questions: Some(questions.len()),
            waiting: Some(queue.len()),
            questions,
            moderation_queue: Some(queue),
            mine: None,
            my_votes: None,
        }
    }

    fn view(
        _config: &QnaConfig,
        _state: &QnaState,
        results: &QnaResults,
        viewer: Viewer,
        revealed: bool,
    ) -> Option<Value> {
        if viewer == Viewer::Organizer {
            return Some(to_json(&QnaResults {
                questions: results.questions.iter().take(LIST_PAGE).cloned().collect(),
                total_questions: results.total_questions,
                waiting: results.waiting,
                moderation_queue: results
                    .moderation_queue
                    .as_ref()
                    .map(|queue| queue.iter().take(LIST_PAGE).cloned().collect()),
                mine: None,
                my_votes: None,
                ..*results
            }));
        }
        let (mine, my_votes) = match viewer {
            Viewer::Participant { me: Some(me) } => (
                Some(
                    results
                        .questions
                        .iter()
                        .filter(|q| q.asker == me)
                        .map(|q| Question {
                            flag: None,
                            ..q.clone()
                        })
                        .collect::<Vec<_>>(),
                ),
                Some(
                    results
                        .questions
                        .iter()
                        .filter(|q| q.status == Status::Visible && q.voters.contains(&me))
                        .map(|q| q.id.clone())
                        .collect::<Vec<_>>(),
                ),
            ),
            _ => (None, None),
        };
        if !revealed {
            return mine.map(|mine| json!({ "mine": mine, "my_votes": my_votes }));
        }
        Some(to_json(&QnaResults {
            questions: results
                .questions
                .iter()
                .filter(|q| q.status == Status::Visible)
                .take(SHOWN_MAX)
                .map(|q| Question {
                    flag: None,
                    ..q.clone()
                })
                .collect(),
            total_questions: None,
            waiting: None,
            moderation_queue: None,
            mine,
            my_votes,
            ..*results
        }))
    }

    fn list(
        _config: &QnaConfig,
        _state: &QnaState,
        results: &QnaResults,
        name: &str,
    ) -> Option<Vec<Value>> {
        let items = match name {
            "questions" => &results.questions,
            "moderation_queue" => results.moderation_queue.as_ref()?,
            _ => return None,
        };
        Some(items.iter().map(to_json).collect())
    }

    fn host_command(
        _config: &QnaConfig,
        state: &mut QnaState,
        command: &str,
        args: &Value,
        _now: DateTime<Utc>,
    ) -> Result<(), Invalid> {
        if command == "sort" {
            state.sort = Some(arg(args, "by")?);
            return Ok(());
        }
        let id: String = arg(args, "id")?;
        match command {
            "approve" => {
                state.hidden.remove(&id);
                state.approved.insert(id);
            }
            "hide_question" => {
                state.pinned.remove(&id);
                state.hidden.insert(id);
            }
            "unhide_question" => {
                state.hidden.remove(&id);
            }
            "pin" => {
                state.pinned.insert(id);
            }
            "unpin" => {
                state.pinned.remove(&id);
            }
            "mark_answered" => {
                state.pinned.remove(&id);
                state.answered.insert(id);
            }
            "unmark_answered" => {
                state.answered.remove(&id);
            }
            other => {
                return Err(super::unknown_command(
                    other,
                    &[
                        "approve",
                        "hide_question",
                        "unhide_question",
                        "pin",
                        "unpin",
                        "mark_answered",
                        "unmark_answered",
                        "sort",
                    ],
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;
    use crate::kinds::testing::context;

    fn question_ids(results: &QnaResults) -> HashSet<&str> {
        results.questions.iter().map(|q| q.id.as_str()).collect()
    }

    fn config(moderation: bool) -> QnaConfig {
        QnaConfig {
            topic: "Ask me anything".into(),
            moderation,
            allow_anonymous: true,
            max_length: 100,
            sort: Sort::Votes,
            max_questions: 3,
        }
    }

    fn ask(text: &str, anonymous: bool) -> QnaAnswer {
        QnaAnswer::Ask(Ask {
            text: text.into(),
            anonymous,
            id: None,
            flag: None,
        })
    }

    fn entry<'a>(
        who: ParticipantId,
        name: &'a str,
        secs: i64,
        answer: &'a QnaAnswer,
    ) -> Entry<'a, QnaAnswer> {
        Entry {
            participant: who,
            nickname: name,
            slot: "",
            at: DateTime::from_timestamp(1_700_000_000 + secs, 0).unwrap(),
            since: None,
            team: None,
            answer,
        }
    }

    #[test]
    fn votes_count_once_per_person_never_the_askers_own_and_undo_works() {
        let cfg = config(false);
        let state = QnaState::default();
        let (ann, bob, cat) = (
            ParticipantId::new(),
            ParticipantId::new(),
            ParticipantId::new(),
        );
        let QnaAnswer::Ask(first) =
            Qna::check_answer(&cfg, &state, ask("Why Rust?", false), &context()).unwrap()
        else {
            unreachable!()
        };
        let QnaAnswer::Ask(second) =
            Qna::check_answer(&cfg, &state, ask("When is lunch?", true), &context()).unwrap()
        else {
            unreachable!()
        };
        let (q1, q2) = (first.id.clone().unwrap(), second.id.clone().unwrap());
        let (a1, a2) = (QnaAnswer::Ask(first), QnaAnswer::Ask(second));
        let up_q1 = QnaAnswer::Upvote(q1.clone());
        let up_q2 = QnaAnswer::Upvote(q2.clone());
        let un_q2 = QnaAnswer::Unvote(q2.clone());
        assert_eq!(
            Qna::slot(&cfg, &up_q2),
            Qna::slot(&cfg, &un_q2),
            "undo replaces the vote"
        );
        let entries = vec![
            entry(ann, "Ann", 0, &a1),
            entry(bob, "Bob", 1, &a2),
            entry(ann, "Ann", 2, &up_q1), // own question: not counted
            entry(bob, "Bob", 3, &up_q1),
            entry(cat, "Cat", 4, &up_q1),
            entry(cat, "Cat", 5, &un_q2), // Cat took her vote for q2 back
            entry(ann, "Ann", 6, &up_q2),
        ];
        let results = Qna::tally(&cfg, &state, &entries);
        let wall: Vec<(&str, usize, Option<&str>)> = results
            .questions
            .iter()
            .map(|q| (&*q.text, q.votes, q.author.as_deref()))
            .collect();
        assert_eq!(
            wall,
            [("Why Rust?", 2, Some("Ann")), ("When is lunch?", 1, None)]
        );
        let mine = Qna::view(
            &cfg,
            &state,
            &results,
            Viewer::Participant { me: Some(ann) },
            true,
        )
        .unwrap();
        assert_eq!(mine["my_votes"], json!([q2]));
        assert_eq!(mine["mine"][0]["id"], json!(q1));

        // Recency sort, a pin and an answered mark reorder the wall.
        let mut state = QnaState::default();
        let now = Utc::now();
        Qna::host_command(&cfg, &mut state, "sort", &json!({"by": "recent"}), now).unwrap();
        let recent = Qna::tally(&cfg, &state, &entries);
        assert_eq!(&*recent.questions[0].text, "When is lunch?");
        Qna::host_command(&cfg, &mut state, "pin", &json!({"id": q1}), now).unwrap();
        assert_eq!(
            &*Qna::tally(&cfg, &state, &entries).questions[0].text,
            "Why Rust?"
        );
        Qna::host_command(&cfg, &mut state, "mark_answered", &json!({"id": q1}), now).unwrap();
        let answered = Qna::tally(&cfg, &state, &entries);
        assert_eq!(&*answered.questions[1].text, "Why Rust?");
        assert!(answered.questions[1].answered && !answered.questions[1].pinned);
    }

    #[test]
    fn premoderated_questions_are_seen_by_author_and_organizer_only_until_approved() {
        let cfg = config(true);
        let mut state = QnaState::default();
        let (ann, bob) = (ParticipantId::new(), ParticipantId::new());
        let asked =
            Qna::check_answer(&cfg, &state, ask("Secret plans?", false), &context()).unwrap();
        let QnaAnswer::Ask(inner) = &asked else {
            unreachable!()
        };
        let id = inner.id.clone().unwrap();
        let entries = vec![entry(ann, "Ann", 0, &asked)];
        let results = Qna::tally(&cfg, &state, &entries);
        assert_eq!(results.moderation_queue.as_ref().unwrap().len(), 1);
        let screen = Qna::view(&cfg, &state, &results, Viewer::Screen, true).unwrap();
        assert_eq!(screen["questions"], json!([]));
        let author = Qna::view(
            &cfg,
            &state,
            &results,
            Viewer::Participant { me: Some(ann) },
            true,
        )
        .unwrap();
        assert_eq!(author["mine"][0]["status"], "pending");
        let other = Qna::view(
            &cfg,
            &state,
            &results,
            Viewer::Participant { me: Some(bob) },
            true,
        )
        .unwrap();
        assert_eq!(other["questions"], json!([]));
        assert_eq!(other["mine"], json!([]));

        Qna::host_command(&cfg, &mut state, "approve", &json!({"id": id}), Utc::now()).unwrap();
        let results = Qna::tally(&cfg, &state, &entries);
        let screen = Qna::view(&cfg, &state, &results, Viewer::Screen, true).unwrap();
        assert_eq!(screen["questions"][0]["text"], "Secret plans?");
        Qna::host_command(
            &cfg,
            &mut state,
            "hide_question",
            &json!({"id": id}),
            Utc::now(),
        )
        .unwrap();
        let results = Qna::tally(&cfg, &state, &entries);
        assert_eq!(
            Qna::view(&cfg, &state, &results, Viewer::Screen, true).unwrap()["questions"],
            json!([])
        );
    }

    #[test]
    fn anonymous_asking_follows_the_config_and_authors_can_withdraw() {
        let mut cfg = config(false);
        cfg.allow_anonymous = false;
        let state = QnaState::default();
        assert!(Qna::check_answer(&cfg, &state, ask("hi?", true), &context()).is_err());
        let asked = Qna::check_answer(&cfg, &state, ask("hi?", false), &context()).unwrap();
        let QnaAnswer::Ask(inner) = &asked else {
            unreachable!()
        };
        let withdraw = QnaAnswer::Withdraw(inner.id.clone().unwrap());
        assert_eq!(Qna::slot(&cfg, &asked), Qna::slot(&cfg, &withdraw));
        let ann = ParticipantId::new();
        let results = Qna::tally(&cfg, &state, &[entry(ann, "Ann", 1, &withdraw)]);
        assert!(question_ids(&results).is_empty());
    }
}
