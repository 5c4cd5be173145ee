//! `points`: each participant shares a budget of points (100 by default) among 2–10
//! options, all of it. Results give each option's mean allocation and its share of every
//! point given.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::poll::percent;
use super::{
    ActivityKind, AnswerContext, Entry, Invalid, Rule, check_count, check_distinct_texts,
    check_length, check_lengths, check_per_entry, check_range,
};

/// Fewest options.
pub const OPTIONS_MIN: usize = 2;
/// Most options.
pub const OPTIONS_MAX: usize = 10;
/// Smallest and largest budget.
pub const BUDGET: (u32, u32) = (10, 1000);

/// The points kind.
pub struct Points;

/// A points activity's configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PointsConfig {
    /// What the points are for ("Where should the budget go?").
    pub question: String,
    /// The options to share the points among.
    pub options: Vec<String>,
    /// The points each participant shares, all of them (default 100).
    #[serde(default = "default_budget")]
    pub budget: u32,
}

fn default_budget() -> u32 {
    100
}

/// Nothing to control while it runs.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PointsState {}

/// One participant's allocation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PointsAnswer {
    /// Points per option, in order; together exactly the budget.
    pub points: Vec<u32>,
}

/// The allocations, summed up.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PointsResults {
    /// People who shared their points.
    pub total_voters: usize,
    /// Each participant's budget.
    pub budget: u32,
    /// One entry per option, in the configured order.
    pub options: Vec<OptionPoints>,
}

/// One option's points.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OptionPoints {
    /// Its index in the configuration.
    pub index: usize,
    /// Its text.
    pub label: String,
    /// Every point it got.
    pub total: u64,
    /// Mean points per participant, two decimals; null before anyone answered.
    pub mean: Option<f64>,
    /// Its share of all points given, 0–100.
    pub percent: f64,
    /// Participants who gave it any points.
    pub backers: usize,
}

#[expect(
    clippy::cast_precision_loss,
    reason = "point totals stay far below 2^52"
)]
fn as_f64(value: u64) -> f64 {
    value as f64
}

impl ActivityKind for Points {
    const KIND: &'static str = "points";
    const NAME: &'static str = "100 points";
    const DESCRIPTION: &'static str =
        "Share a budget of points among options; the mean allocation per option.";
    type Config = PointsConfig;
    type State = PointsState;
    type Answer = PointsAnswer;
    type Results = PointsResults;

    fn config_schema() -> Value {
        json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "title": "100 points",
            "type": "object",
            "additionalProperties": false,
            "required": ["question", "options"],
            "properties": {
                "question": {"type": "string", "minLength": 1, "maxLength": 300, "title": "Question"},
                "options": {
                    "type": "array", "title": "Options",
                    "minItems": OPTIONS_MIN, "maxItems": OPTIONS_MAX, "uniqueItems": true,
                    "items": {"type": "string", "minLength": 1, "maxLength": 120}
                },
                "budget": {"type": "integer", "minimum": BUDGET.0, "maximum": BUDGET.1, "default": 100, "title": "Points per person"}
            }
        })
    }

    fn answer_schema() -> Value {
        json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "type": "object",
            "additionalProperties": false,
            "required": ["points"],
            "properties": {
                "points": {
                    "type": "array", "minItems": OPTIONS_MIN, "maxItems": OPTIONS_MAX,
                    "items": {"type": "integer", "minimum": 0, "maximum": BUDGET.1}
                }
            }
        })
    }

    fn check_config(config: &PointsConfig) -> Result<(), Invalid> {
        check_length("question", &config.question, 1, 300)?;
        check_count("options", config.options.len(), OPTIONS_MIN, OPTIONS_MAX)?;
        check_lengths("options", &config.options, 1, 120)?;
        check_distinct_texts("options", &config.options)?;
        check_range("budget", config.budget, BUDGET.0, BUDGET.1)
    }

    fn check_answer(
        config: &PointsConfig,
        _state: &PointsState,
        answer: PointsAnswer,
        _context: &AnswerContext<'_>,
    ) -> Result<PointsAnswer, Invalid> {
        let count = config.options.len();
        check_per_entry("points", answer.points.len(), "options", count)?;
        for (at, points) in answer.points.iter().enumerate() {
            check_range(format!("points[{at}]").as_str(), *points, 0, config.budget)?;
        }
        let given: u64 = answer.points.iter().map(|p| u64::from(*p)).sum();
        if given != u64::from(config.budget) {
            return Err(Invalid::new(
                "points",
                Rule::Sum {
                    total: i64::from(config.budget),
                },
            ));
        }
        Ok(answer)
    }

    fn export(
        config: &PointsConfig,
        _state: &PointsState,
        answer: &PointsAnswer,
        _at: DateTime<Utc>,
    ) -> Vec<(&'static str, String)> {
        let allocation = config
            .options
            .iter()
            .zip(&answer.points)
            .map(|(option, points)| format!("{option}: {points}"))
            .collect::<Vec<_>>()
            .join("; ");
        vec![("allocation", allocation)]
    }

    fn slot(_config: &PointsConfig, _answer: &PointsAnswer) -> String {
        "points".into()
    }

    fn tally(
        config: &PointsConfig,
        _state: &PointsState,
        entries: &[Entry<'_, PointsAnswer>],
    ) -> PointsResults {
        let voters = entries.len();
        let totals: Vec<u64> = (0..config.options.len())
            .map(|index| {
                entries
                    .iter()
                    .map(|e| u64::from(e.answer.points.get(index).copied().unwrap_or(0)))
                    .sum()
            })
            .collect();
        let all: u64 = totals.iter().sum();
        let options = config
            .options
            .iter()
            .enumerate()
            .map(|(index, label)| {
                let total = totals[index];
                OptionPoints {
                    index,
                    label: label.clone(),
                    total,
                    mean: (voters > 0).then(|| {
                        let voters = u64::try_from(voters).unwrap_or(u64::MAX);
                        (as_f64(total) / as_f64(voters) * 100.0).round() / 100.0
                    }),
                    percent: percent(
                        usize::try_from(total).unwrap_or(usize::MAX),
                        usize::try_from(all).unwrap_or(usize::MAX),
                    ),
                    backers: entries
                        .iter()
                        .filter(|e| e.answer.points.get(index).is_some_and(|p| *p > 0))
                        .count(),
                }
            })
            .collect();
        PointsResults {
            total_voters: voters,
            budget: config.budget,
            options,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kinds::testing::{context, fold};

    fn config() -> PointsConfig {
        PointsConfig {
            question: "Where should the budget go?".into(),
            options: vec!["Hiring".into(), "Tools".into(), "Travel".into()],
            budget: 100,
        }
    }

    fn points(points: &[u32]) -> PointsAnswer {
        PointsAnswer {
            points: points.to_vec(),
        }
    }

    #[test]
    fn options_and_budget_are_checked() {
        assert!(Points::check_config(&config()).is_ok());
        let mut tiny = config();
        tiny.budget = 5;
        assert!(Points::check_config(&tiny).is_err());
        let mut one = config();
        one.options.truncate(1);
        assert!(Points::check_config(&one).is_err());
    }

    #[test]
    fn an_answer_gives_exactly_the_budget() {
        let state = PointsState::default();
        let check = |p: &[u32]| Points::check_answer(&config(), &state, points(p), &context());
        assert!(check(&[50, 30, 20]).is_ok());
        assert!(check(&[100, 0, 0]).is_ok());
        assert_eq!(
            check(&[50, 30, 10]).unwrap_err().rule,
            Rule::Sum { total: 100 }
        );
        assert_eq!(
            check(&[60, 30, 20]).unwrap_err().rule,
            Rule::Sum { total: 100 }
        );
        assert!(check(&[50, 50]).is_err(), "one number per option");
        assert_eq!(check(&[101, 0, 0]).unwrap_err().field, "points[0]");
    }

    #[test]
    fn the_tally_gives_mean_allocations_and_shares() {
        let answers = [
            points(&[50, 30, 20]),
            points(&[0, 100, 0]),
            points(&[40, 40, 20]),
        ];
        let refs: Vec<&PointsAnswer> = answers.iter().collect();
        let results = fold::<Points>(&config(), &refs);
        assert_eq!(results.total_voters, 3);
        assert_eq!(
            results.options.iter().map(|o| o.total).collect::<Vec<_>>(),
            [90, 170, 40]
        );
        assert_eq!(results.options[0].mean, Some(30.0));
        assert_eq!(results.options[1].mean, Some(56.67));
        assert_eq!(results.options[1].percent, 56.7);
        assert_eq!(results.options[0].backers, 2);
        let none = fold::<Points>(&config(), &[]);
        assert_eq!((none.options[0].mean, none.options[0].percent), (None, 0.0));
    }
}
