//! `toy`: a kind that exists only in the test build (feature `toy-kind`), to show that a
//! kind is one Rust file, one JS module and its locale keys. Each person taps one of two
//! sides, heads or tails; the organizer can "flip" a coin the room sees on the big screen.
//! `tests/browser/toy.rs` takes it through every page.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::kinds::{
    ActivityKind, AnswerContext, Entry, Invalid, Rule, check_length, unknown_command,
};

/// The toy kind.
pub struct Toy;

/// The organizer's question.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ToyConfig {
    /// What the room is asked.
    pub question: String,
}

/// The last coin the organizer flipped, if any.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ToyState {
    /// `heads` or `tails`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub coin: Option<String>,
}

/// One person's side.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ToyAnswer {
    /// `heads` or `tails`.
    pub side: String,
}

/// How many picked each side.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ToyResults {
    /// People on heads.
    pub heads: usize,
    /// People on tails.
    pub tails: usize,
}

const SIDES: [&str; 2] = ["heads", "tails"];

impl ActivityKind for Toy {
    const KIND: &'static str = "toy";
    const NAME: &'static str = "Toy";
    const DESCRIPTION: &'static str = "Heads or tails (test build only).";
    type Config = ToyConfig;
    type State = ToyState;
    type Answer = ToyAnswer;
    type Results = ToyResults;

    fn config_schema() -> Value {
        json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "title": "Toy",
            "type": "object",
            "additionalProperties": false,
            "required": ["question"],
            "properties": {
                "question": {"type": "string", "minLength": 1, "maxLength": 300, "title": "Question"}
            }
        })
    }

    fn answer_schema() -> Value {
        json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "type": "object",
            "additionalProperties": false,
            "required": ["side"],
            "properties": {"side": {"enum": SIDES}}
        })
    }

    fn check_config(config: &ToyConfig) -> Result<(), Invalid> {
        check_length("question", &config.question, 1, 300)
    }

    fn check_answer(
        _config: &ToyConfig,
        _state: &ToyState,
        answer: ToyAnswer,
        _context: &AnswerContext<'_>,
    ) -> Result<ToyAnswer, Invalid> {
        if !SIDES.contains(&answer.side.as_str()) {
            let allowed = SIDES.iter().map(|s| (*s).to_owned()).collect();
            return Err(Invalid::new("side", Rule::OneOf { allowed }));
        }
        Ok(answer)
    }

    fn slot(_config: &ToyConfig, _answer: &ToyAnswer) -> String {
        "side".into()
    }

    fn tally(
        _config: &ToyConfig,
        _state: &ToyState,
        entries: &[Entry<'_, ToyAnswer>],
    ) -> ToyResults {
        let heads = entries.iter().filter(|e| e.answer.side == "heads").count();
        ToyResults {
            heads,
            tails: entries.len() - heads,
        }
    }

    fn host_command(
        _config: &ToyConfig,
        state: &mut ToyState,
        command: &str,
        args: &Value,
        _now: DateTime<Utc>,
    ) -> Result<(), Invalid> {
        if command != "flip" {
            return Err(unknown_command(command, &["flip"]));
        }
        let side = args.get("side").and_then(Value::as_str).unwrap_or_default();
        if !SIDES.contains(&side) {
            let allowed = SIDES.iter().map(|s| (*s).to_owned()).collect();
            return Err(Invalid::new("args.side", Rule::OneOf { allowed }));
        }
        state.coin = Some(side.to_owned());
        Ok(())
    }
}
