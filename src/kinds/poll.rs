//! `poll`: single or multiple choice. One vote per participant per round, changeable while
//! the poll is open; results count voters (not rows) per option, with percentages of voters.
//! The `lock` host command stops voting without closing the activity.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::{
    ActivityKind, AnswerContext, Entry, Invalid, Rule, check_count, check_length, check_lengths,
    check_range,
};

/// Fewest options.
pub const OPTIONS_MIN: usize = 2;
/// Most options.
pub const OPTIONS_MAX: usize = 20;
/// Longest question.
pub const QUESTION_MAX: usize = 300;
/// Longest option label.
pub const OPTION_MAX: usize = 100;

/// The poll kind.
pub struct Poll;

/// A poll's configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PollConfig {
    /// The question shown above the options.
    pub question: String,
    /// 2–20 option labels.
    pub options: Vec<String>,
    /// Whether several options may be picked.
    #[serde(default)]
    pub multiple: bool,
    /// With `multiple`, the most options one voter may pick (default: all).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_picks: Option<usize>,
}

/// Host-controlled state.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PollState {
    /// Voting is stopped, though the poll stays on screen.
    #[serde(default)]
    pub locked: bool,
}

/// One voter's picks: 0-based option indexes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PollAnswer {
    /// The picked options.
    pub options: Vec<usize>,
}

/// Counts per option.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PollResults {
    /// People who voted.
    pub total_voters: usize,
    /// One entry per option, in order.
    pub options: Vec<OptionCount>,
}

/// One option's count.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OptionCount {
    /// The option's label.
    pub label: String,
    /// Voters who picked it.
    pub count: usize,
    /// Share of voters who picked it, 0–100, one decimal.
    pub percent: f64,
}

impl PollConfig {
    fn picks_allowed(&self) -> usize {
        if self.multiple {
            self.max_picks.unwrap_or(self.options.len())
        } else {
            1
        }
    }
}

impl ActivityKind for Poll {
    const KIND: &'static str = "poll";
    const NAME: &'static str = "Poll";
    const DESCRIPTION: &'static str =
        "Single or multiple choice; live bars of how many people picked each option.";
    type Config = PollConfig;
    type State = PollState;
    type Answer = PollAnswer;
    type Results = PollResults;

    fn config_schema() -> Value {
        json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "title": "Poll",
            "type": "object",
            "additionalProperties": false,
            "required": ["question", "options"],
            "properties": {
                "question": {"type": "string", "minLength": 1, "maxLength": QUESTION_MAX, "title": "Question"},
                "options": {
                    "type": "array", "title": "Options",
                    "minItems": OPTIONS_MIN, "maxItems": OPTIONS_MAX,
                    "items": {"type": "string", "minLength": 1, "maxLength": OPTION_MAX}
                },
                "multiple": {"type": "boolean", "default": false, "title": "Allow several picks"},
                "max_picks": {"type": "integer", "minimum": 1, "maximum": OPTIONS_MAX, "title": "Most picks per person", "x-shown-if": {"multiple": true}}
            }
        })
    }

    fn answer_schema() -> Value {
        json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "type": "object",
            "additionalProperties": false,
            "required": ["options"],
            "properties": {
                "options": {"type": "array", "minItems": 1, "maxItems": OPTIONS_MAX, "items": {"type": "integer", "minimum": 0}}
            }
        })
    }

    fn check_config(config: &PollConfig) -> Result<(), Invalid> {
        check_length("question", &config.question, 1, QUESTION_MAX)?;
        check_count("options", config.options.len(), OPTIONS_MIN, OPTIONS_MAX)?;
        check_lengths("options", &config.options, 1, OPTION_MAX)?;
        match (config.multiple, config.max_picks) {
            (false, Some(_)) => Err(Invalid::new(
                "max_picks",
                Rule::Needs {
                    other: "multiple".into(),
                },
            )),
            (true, Some(n)) => check_range("max_picks", n as i64, 1, config.options.len() as i64),
            _ => Ok(()),
        }
    }

    fn check_answer(
        config: &PollConfig,
        state: &PollState,
        mut answer: PollAnswer,
        _context: &AnswerContext<'_>,
    ) -> Result<PollAnswer, Invalid> {
        if state.locked {
            return Err(Invalid::new("", Rule::Locked));
        }
        if answer.options.is_empty() {
            return Err(Invalid::new("options", Rule::Required));
        }
        if let Some(bad) = answer
            .options
            .iter()
            .position(|&i| i >= config.options.len())
        {
            return Err(Invalid::new(
                format!("options[{bad}]"),
                Rule::Index {
                    count: config.options.len(),
                },
            ));
        }
        answer.options.sort_unstable();
        if answer.options.windows(2).any(|w| w[0] == w[1]) {
            return Err(Invalid::new("options", Rule::Distinct));
        }
        check_count("options", answer.options.len(), 1, config.picks_allowed())?;
        Ok(answer)
    }

    fn export(
        config: &PollConfig,
        _state: &PollState,
        answer: &PollAnswer,
        _at: DateTime<Utc>,
    ) -> Vec<(&'static str, String)> {
        vec![("choice", super::labels_of(&config.options, &answer.options))]
    }

    fn slot(_config: &PollConfig, _answer: &PollAnswer) -> String {
        "vote".into()
    }

    fn tally(
        config: &PollConfig,
        _state: &PollState,
        entries: &[Entry<'_, PollAnswer>],
    ) -> PollResults {
        let answers: Vec<&PollAnswer> = entries.iter().map(|e| e.answer).collect();
        let mut counts = vec![0usize; config.options.len()];
        for answer in &answers {
            for &option in &answer.options {
                if let Some(count) = counts.get_mut(option) {
                    *count += 1;
                }
            }
        }
        let total_voters = answers.len();
        PollResults {
            total_voters,
            options: config
                .options
                .iter()
                .zip(counts)
                .map(|(label, count)| OptionCount {
                    label: label.clone(),
                    count,
                    percent: percent(count, total_voters),
                })
                .collect(),
        }
    }

    fn host_command(
        _config: &PollConfig,
        state: &mut PollState,
        command: &str,
        _args: &Value,
        _now: DateTime<Utc>,
    ) -> Result<(), Invalid> {
        match command {
            "lock" => state.locked = true,
            "unlock" => state.locked = false,
            other => {
                return Err(super::unknown_command(other, &["lock", "unlock"]));
            }
        }
        Ok(())
    }
}

/// `part` of `whole` in percent with one decimal; 0 when nobody voted.
pub fn percent(part: usize, whole: usize) -> f64 {
    if whole == 0 {
        return 0.0;
    }
    #[expect(clippy::cast_precision_loss, reason = "counts stay far below 2^52")]
    let share = part as f64 * 100.0 / whole as f64;
    (share * 10.0).round() / 10.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kinds::testing::{context, fold};

    fn config(multiple: bool, max_picks: Option<usize>) -> PollConfig {
        PollConfig {
            question: "Lunch?".into(),
            options: vec!["Pizza".into(), "Sushi".into(), "Salad".into()],
            multiple,
            max_picks,
        }
    }

    #[test]
    fn configs_are_checked() {
        assert!(Poll::check_config(&config(false, None)).is_ok());
        assert!(Poll::check_config(&config(true, Some(2))).is_ok());
        assert!(Poll::check_config(&config(false, Some(2))).is_err());
        assert!(Poll::check_config(&config(true, Some(4))).is_err());
        let mut one = config(false, None);
        one.options.truncate(1);
        assert!(Poll::check_config(&one).is_err());
        let mut blank = config(false, None);
        blank.options[1] = "  ".into();
        assert!(Poll::check_config(&blank).is_err());
    }

    #[test]
    fn answers_are_checked_and_sorted() {
        let single = config(false, None);
        let multi = config(true, Some(2));
        let open = PollState::default();
        let answer = |o: &[usize]| PollAnswer {
            options: o.to_vec(),
        };
        assert!(Poll::check_answer(&single, &open, answer(&[1]), &context()).is_ok());
        assert!(Poll::check_answer(&single, &open, answer(&[0, 1]), &context()).is_err());
        assert!(Poll::check_answer(&single, &open, answer(&[]), &context()).is_err());
        assert!(Poll::check_answer(&single, &open, answer(&[3]), &context()).is_err());
        assert_eq!(
            Poll::check_answer(&multi, &open, answer(&[2, 0]), &context())
                .unwrap()
                .options,
            vec![0, 2]
        );
        assert!(Poll::check_answer(&multi, &open, answer(&[0, 0]), &context()).is_err());
        assert!(Poll::check_answer(&multi, &open, answer(&[0, 1, 2]), &context()).is_err());
        let locked = PollState { locked: true };
        assert!(Poll::check_answer(&single, &locked, answer(&[1]), &context()).is_err());
    }

    #[test]
    fn a_tally_counts_voters_and_percentages_of_voters() {
        let multi = config(true, None);
        let answers = [
            PollAnswer {
                options: vec![0, 1],
            },
            PollAnswer { options: vec![0] },
            PollAnswer { options: vec![2] },
        ];
        let refs: Vec<&PollAnswer> = answers.iter().collect();
        let results = fold::<Poll>(&multi, &refs);
        assert_eq!(results.total_voters, 3);
        let counts: Vec<usize> = results.options.iter().map(|o| o.count).collect();
        assert_eq!(counts, vec![2, 1, 1]);
        assert_eq!(results.options[0].percent, 66.7);
        assert_eq!(fold::<Poll>(&multi, &[]).options[0].percent, 0.0);
    }

    #[test]
    fn lock_and_unlock_are_the_poll_commands() {
        let cfg = config(false, None);
        let mut state = PollState::default();
        Poll::host_command(&cfg, &mut state, "lock", &Value::Null, Utc::now()).unwrap();
        assert!(state.locked);
        Poll::host_command(&cfg, &mut state, "unlock", &Value::Null, Utc::now()).unwrap();
        assert!(!state.locked);
        assert!(Poll::host_command(&cfg, &mut state, "explode", &Value::Null, Utc::now()).is_err());
    }

    #[test]
    fn the_schema_accepts_what_serde_accepts() {
        let schema = Poll::config_schema();
        let validator = jsonschema::validator_for(&schema).unwrap();
        let good = serde_json::to_value(config(true, Some(2))).unwrap();
        assert!(validator.is_valid(&good));
        let bad = json!({"question": "q", "options": ["a"], "colour": "red"});
        assert!(!validator.is_valid(&bad));
        assert!(serde_json::from_value::<PollConfig>(bad).is_err());
    }
}
