//! `open_text`: short free-text answers, up to `max_answers` per person (each its own slot,
//! editable until the activity closes). With `moderation` on, every answer waits in the
//! organizer's queue until approved; with it off, only answers the session's filter flags
//! wait there. The big screen and phones only ever see approved or unflagged answers.

use std::collections::BTreeSet;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::{
    ActivityKind, AnswerContext, Entry, Invalid, LIST_PAGE, REDACTED, Rule, Viewer, arg,
    check_length, check_range, new_item_id, to_json,
};
use crate::ids::ParticipantId;
use crate::moderation::Flag;

/// Most answers one person may give.
pub const ANSWERS_MAX: usize = 10;
/// Longest answer allowed by any configuration.
pub const LENGTH_MAX: usize = 1000;
/// Most answers the screen lists (newest first).
pub const SHOWN_MAX: usize = 200;

/// The open text kind.
pub struct OpenText;

/// An open question's configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OpenTextConfig {
    /// The question.
    pub prompt: String,
    /// Longest answer, 1–1000 characters (default 280).
    #[serde(default = "default_max_length")]
    pub max_length: usize,
    /// Answers per person, 1–10 (default 1).
    #[serde(default = "default_max_answers")]
    pub max_answers: usize,
    /// Every answer waits for the organizer's approval before it is shown.
    #[serde(default)]
    pub moderation: bool,
    /// Show the author's nickname on the screen (default: answers are shown without names).
    #[serde(default)]
    pub show_names: bool,
}

fn default_max_length() -> usize {
    280
}

fn default_max_answers() -> usize {
    1
}

/// The organizer's moderation decisions.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OpenTextState {
    /// Answers approved one by one.
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub approved: BTreeSet<String>,
    /// Answers taken off the screen.
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub rejected: BTreeSet<String>,
    /// Every answer received up to this time is approved (`approve_all`), except rejected ones.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approved_until: Option<DateTime<Utc>>,
}

/// One answer. Participants send `text` (and `index` for their 2nd, 3rd, … answer); the
/// server adds `id` and `flag`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OpenTextAnswer {
    /// The text (shared with the results folded from it, not copied).
    pub text: Arc<str>,
    /// Which of the person's answers this is, 0-based (default 0); sending the same index
    /// again edits that answer.
    #[serde(default)]
    pub index: usize,
    /// Set by the server: this version's id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Set by the server: why the filter flagged it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flag: Option<Flag>,
}

/// Where an answer stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// On the screen.
    Shown,
    /// Waiting for the organizer.
    Pending,
    /// Taken off by the organizer.
    Rejected,
}

/// One answer as results list it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TextItem {
    /// Its id, for moderation commands.
    pub id: String,
    /// The text.
    pub text: Arc<str>,
    /// The author's nickname (organizer always; others when `show_names`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nickname: Option<String>,
    /// When it was received.
    pub at: DateTime<Utc>,
    /// Shown, pending or rejected.
    pub status: Status,
    /// Why the filter flagged it (organizer only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub flag: Option<Flag>,
    #[serde(skip)]
    author: ParticipantId,
}

/// Every answer, newest first.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OpenTextResults {
    /// People who answered.
    pub total_people: usize,
    /// Answers received.
    pub total_answers: usize,
    /// Answers on the screen.
    pub shown: usize,
    /// Answers waiting for the organizer.
    pub waiting: usize,
    /// The answers this viewer may see, newest first (in live documents, the newest
    /// [`LIST_PAGE`] for the organizer and [`SHOWN_MAX`] for everyone else).
    pub answers: Vec<TextItem>,
    /// Answers waiting for the organizer, oldest first (organizer only; in live documents,
    /// the oldest [`LIST_PAGE`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub moderation_queue: Option<Vec<TextItem>>,
    /// The asking participant's own answers, whatever their status.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mine: Option<Vec<TextItem>>,
}

impl OpenTextState {
    fn status(
        &self,
        config: &OpenTextConfig,
        id: &str,
        flagged: bool,
        at: DateTime<Utc>,
    ) -> Status {
        if self.rejected.contains(id) {
            Status::Rejected
        } else if self.approved.contains(id) || self.approved_until.is_some_and(|until| at <= until)
        {
            Status::Shown
        } else if config.moderation || flagged {
            Status::Pending
        } else {
            Status::Shown
        }
    }
}

impl ActivityKind for OpenText {
    const KIND: &'static str = "open_text";
    const NAME: &'static str = "Open question";
    const DESCRIPTION: &'static str =
        "Short free-text answers, moderated before they reach the big screen if you wish.";
    type Config = OpenTextConfig;
    type State = OpenTextState;
    type Answer = OpenTextAnswer;
    type Results = OpenTextResults;
    const PERSONAL_VIEW: bool = true;
    const LISTS: &'static [(&'static str, &'static str)] = &[
        ("answers", "id"),
        ("moderation_queue", "id"),
        ("mine", "id"),
    ];

    fn config_schema() -> Value {
        json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "title": "Open question",
            "type": "object",
            "additionalProperties": false,
            "required": ["prompt"],
            "properties": {
                "prompt": {"type": "string", "minLength": 1, "maxLength": 300, "title": "Question"},
                "max_length": {"type": "integer", "minimum": 1, "maximum": LENGTH_MAX, "default": 280, "title": "Longest answer"},
                "max_answers": {"type": "integer", "minimum": 1, "maximum": ANSWERS_MAX, "default": 1, "title": "Answers per person"},
                "moderation": {"type": "boolean", "default": false, "title": "Approve answers before they are shown"},
                "show_names": {"type": "boolean", "default": false, "title": "Show nicknames on the screen"}
            }
        })
    }

    fn answer_schema() -> Value {
        json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "type": "object",
            "additionalProperties": false,
            "required": ["text"],
            "properties": {
                "text": {"type": "string", "minLength": 1, "maxLength": LENGTH_MAX},
                "index": {"type": "integer", "minimum": 0, "maximum": ANSWERS_MAX - 1, "default": 0}
            }
        })
    }

    fn check_config(config: &OpenTextConfig) -> Result<(), Invalid> {
        check_length("prompt", &config.prompt, 1, 300)?;
        check_range("max_length", config.max_length as i64, 1, LENGTH_MAX as i64)?;
        check_range(
            "max_answers",
            config.max_answers as i64,
            1,
            ANSWERS_MAX as i64,
        )
    }

    fn check_answer(
        config: &OpenTextConfig,
        _state: &OpenTextState,
        answer: OpenTextAnswer,
        context: &AnswerContext<'_>,
    ) -> Result<OpenTextAnswer, Invalid> {
        if answer.id.is_some() {
            return Err(Invalid::new("id", Rule::ServerSet));
        }
        if answer.flag.is_some() {
            return Err(Invalid::new("flag", Rule::ServerSet));
        }
        check_range(
            "index",
            answer.index as i64,
            0,
            config.max_answers as i64 - 1,
        )?;
        let text = answer.text.split_whitespace().collect::<Vec<_>>().join(" ");
        check_length("text", &text, 1, config.max_length)?;
        Ok(OpenTextAnswer {
            flag: context.moderator.check(&text),
            text: text.into(),
            index: answer.index,
            id: Some(new_item_id()),
        })
    }

    fn redact(mut answer: OpenTextAnswer) -> OpenTextAnswer {
        answer.text = Arc::from(REDACTED);
        answer
    }

    /// The text and where moderation left it: `shown`, `held` (never approved) or
    /// `rejected`.
    fn export(
        config: &OpenTextConfig,
        state: &OpenTextState,
        answer: &OpenTextAnswer,
        at: DateTime<Utc>,
    ) -> Vec<(&'static str, String)> {
        let id = answer.id.as_deref().unwrap_or_default();
        let status = match state.status(config, id, answer.flag.is_some(), at) {
            Status::Shown => "shown",
            Status::Pending => "held",
            Status::Rejected => "rejected",
        };
        vec![
            ("text", answer.text.to_string()),
            ("moderation", status.into()),
        ]
    }

    fn slot(_config: &OpenTextConfig, answer: &OpenTextAnswer) -> String {
        format!("text:{}", answer.index)
    }

    fn tally(
        config: &OpenTextConfig,
        state: &OpenTextState,
        entries: &[Entry<'_, OpenTextAnswer>],
    ) -> OpenTextResults {
        let mut items: Vec<TextItem> = entries
            .iter()
            .map(|entry| {
                let id = entry.answer.id.clone().unwrap_or_default();
                TextItem {
                    status: state.status(config, &id, entry.answer.flag.is_some(), entry.at),
                    id,
                    text: entry.answer.text.clone(),
                    nickname: Some(entry.nickname.to_owned()),
                    at: entry.at,
                    flag: entry.answer.flag,
                    author: entry.participant,
                }
            })
            .collect();
        items.sort_by(|a, b| b.at.cmp(&a.at).then_with(|| a.id.cmp(&b.id)));
        let people: BTreeSet<ParticipantId> = entries.iter().map(|e| e.participant).collect();
        let mut queue: Vec<TextItem> = items
            .iter()
            .filter(|i| i.status == Status::Pending)
            .cloned()
            .collect();
        queue.reverse();
        OpenTextResults {
            total_people: people.len(),
            total_answers: items.len(),
            shown: items.iter().filter(|i| i.status == Status::Shown).count(),
            waiting: queue.len(),
            answers: items,
            moderation_queue: Some(queue),
            mine: None,
        }
    }

    fn view(
        config: &OpenTextConfig,
        _state: &OpenTextState,
        results: &OpenTextResults,
        viewer: Viewer,
        revealed: bool,
    ) -> Option<Value> {
        if viewer == Viewer::Organizer {
            return Some(to_json(&OpenTextResults {
                answers: results.answers.iter().take(LIST_PAGE).cloned().collect(),
                moderation_queue: results
                    .moderation_queue
                    .as_ref()
                    .map(|queue| queue.iter().take(LIST_PAGE).cloned().collect()),
                mine: None,
                ..*results
            }));
        }
        let public = |item: &TextItem| TextItem {
            nickname: item.nickname.clone().filter(|_| config.show_names),
            flag: None,
            ..item.clone()
        };
        let mine = match viewer {
            Viewer::Participant { me: Some(me) } => Some(
                results
                    .answers
                    .iter()
                    .filter(|i| i.author == me)
                    .map(|i| TextItem {
                        flag: None,
                        ..i.clone()
                    })
                    .collect(),
            ),
            _ => None,
        };
        if !revealed {
            return mine.map(|mine| to_json(&json!({ "mine": mine })));
        }
        Some(to_json(&OpenTextResults {
            answers: results
                .answers
                .iter()
                .filter(|i| i.status == Status::Shown)
                .take(SHOWN_MAX)
                .map(public)
                .collect(),
            moderation_queue: None,
            mine,
            ..*results
        }))
    }

    fn list(
        _config: &OpenTextConfig,
        _state: &OpenTextState,
        results: &OpenTextResults,
        name: &str,
    ) -> Option<Vec<Value>> {
        let items = match name {
            "answers" => &results.answers,
            "moderation_queue" => results.moderation_queue.as_ref()?,
            _ => return None,
        };
        Some(items.iter().map(to_json).collect())
    }

    fn host_command(
        _config: &OpenTextConfig,
        state: &mut OpenTextState,
        command: &str,
        args: &Value,
        now: DateTime<Utc>,
    ) -> Result<(), Invalid> {
        match command {
            "approve" => {
                let id: String = arg(args, "id")?;
                state.rejected.remove(&id);
                state.approved.insert(id);
            }
            "reject" => {
                let id: String = arg(args, "id")?;
                state.approved.remove(&id);
                state.rejected.insert(id);
            }
            "approve_all" => state.approved_until = Some(now),
            other => {
                return Err(super::unknown_command(
                    other,
                    &["approve", "reject", "approve_all"],
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kinds::testing::{context, entries};
    use crate::model::session::SessionSettings;
    use crate::moderation::Moderator;

    fn config(moderation: bool) -> OpenTextConfig {
        OpenTextConfig {
            prompt: "What should we change?".into(),
            max_length: 20,
            max_answers: 2,
            moderation,
            show_names: false,
        }
    }

    fn answer(text: &str, index: usize) -> OpenTextAnswer {
        OpenTextAnswer {
            text: text.into(),
            index,
            id: None,
            flag: None,
        }
    }

    #[test]
    fn answers_are_trimmed_bounded_and_given_an_id_and_a_slot_per_index() {
        let state = OpenTextState::default();
        let checked = OpenText::check_answer(
            &config(false),
            &state,
            answer("  more   coffee ", 1),
            &context(),
        )
        .unwrap();
        assert_eq!(&*checked.text, "more coffee");
        assert!(checked.id.is_some());
        assert_eq!(OpenText::slot(&config(false), &checked), "text:1");
        for bad in [answer("", 0), answer(&"x".repeat(21), 0), answer("ok", 2)] {
            assert!(OpenText::check_answer(&config(false), &state, bad, &context()).is_err());
        }
        let forged = OpenTextAnswer {
            id: Some("x".into()),
            ..answer("hi", 0)
        };
        assert!(OpenText::check_answer(&config(false), &state, forged, &context()).is_err());
    }

    #[test]
    fn flagged_or_premoderated_answers_wait_for_approval_and_never_reach_the_screen() {
        let moderator = Moderator::for_settings(&SessionSettings {
            banned_words: vec!["kale".into()],
            ..SessionSettings::default()
        });
        let ctx = AnswerContext {
            moderator: &moderator,
            ..context()
        };
        let cfg = config(false);
        let mut state = OpenTextState::default();
        let good = OpenText::check_answer(&cfg, &state, answer("more coffee", 0), &ctx).unwrap();
        let bad = OpenText::check_answer(&cfg, &state, answer("more kale", 0), &ctx).unwrap();
        assert_eq!(bad.flag, Some(Flag::BannedWord));
        let answers = [&good, &bad];
        let list = entries(&answers);
        let results = OpenText::tally(&cfg, &state, &list);
        assert_eq!((results.total_answers, results.shown), (2, 1));
        let queue = results.moderation_queue.clone().unwrap();
        assert_eq!(queue.len(), 1);
        assert_eq!(&*queue[0].text, "more kale");
        let screen = OpenText::view(&cfg, &state, &results, Viewer::Screen, true).unwrap();
        assert_eq!(screen["answers"].as_array().unwrap().len(), 1);
        assert_eq!(screen["answers"][0]["text"], "more coffee");
        assert!(screen["answers"][0].get("nickname").is_none());
        assert!(screen.get("moderation_queue").is_none());

        let bad_id = bad.id.clone().unwrap();
        OpenText::host_command(
            &cfg,
            &mut state,
            "approve",
            &json!({"id": bad_id}),
            Utc::now(),
        )
        .unwrap();
        assert_eq!(OpenText::tally(&cfg, &state, &list).shown, 2);
        OpenText::host_command(
            &cfg,
            &mut state,
            "reject",
            &json!({"id": bad_id}),
            Utc::now(),
        )
        .unwrap();
        assert_eq!(OpenText::tally(&cfg, &state, &list).shown, 1);

        let premoderated = config(true);
        let fresh = OpenTextState::default();
        assert_eq!(OpenText::tally(&premoderated, &fresh, &list).shown, 0);
        let mut all = OpenTextState::default();
        let later = Utc::now() + chrono::Duration::seconds(1);
        OpenText::host_command(&premoderated, &mut all, "approve_all", &Value::Null, later)
            .unwrap();
        assert_eq!(OpenText::tally(&premoderated, &all, &list).shown, 2);
    }
}
