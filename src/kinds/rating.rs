//! `rating`: one value on a configurable scale (1–5, 1–10, 0–100, …) with optional labels.
//! Results give the distribution (counts and percentages of raters), the mean and the median.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::poll::percent;
use super::{
    ActivityKind, AnswerContext, Entry, Invalid, check_length, check_lengths, check_per_entry,
    check_range, mean_and_median,
};

/// Lowest allowed scale value.
pub const SCALE_MIN: i64 = -100;
/// Highest allowed scale value.
pub const SCALE_MAX: i64 = 100;
/// Most steps on one scale.
pub const STEPS_MAX: i64 = 101;

/// The rating kind.
pub struct Rating;

/// A rating's configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RatingConfig {
    /// What is rated.
    pub question: String,
    /// The lowest value (default 1).
    #[serde(default = "default_min")]
    pub min: i64,
    /// The highest value (default 5).
    #[serde(default = "default_max")]
    pub max: i64,
    /// Optional labels, one per value from min to max (use "" for unlabelled steps).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub labels: Option<Vec<String>>,
}

fn default_min() -> i64 {
    1
}

fn default_max() -> i64 {
    5
}

/// Nothing to control while it runs.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RatingState {}

/// One rater's value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RatingAnswer {
    /// A value from min to max.
    pub value: i64,
}

/// The distribution and its summary.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RatingResults {
    /// People who rated.
    pub total_voters: usize,
    /// One entry per value, min to max.
    pub distribution: Vec<ValueCount>,
    /// Mean of the values, two decimals; null before anyone rated.
    pub mean: Option<f64>,
    /// Median of the values; null before anyone rated.
    pub median: Option<f64>,
}

/// How many chose one value.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ValueCount {
    /// The value.
    pub value: i64,
    /// Its label, if the scale has labels.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// Raters who chose it.
    pub count: usize,
    /// Share of raters, 0–100.
    pub percent: f64,
}

#[expect(
    clippy::cast_precision_loss,
    reason = "scale values and counts are small"
)]
fn as_f64(value: i64) -> f64 {
    value as f64
}

impl ActivityKind for Rating {
    const KIND: &'static str = "rating";
    const NAME: &'static str = "Rating";
    const DESCRIPTION: &'static str = "A value on a scale; the distribution with mean and median.";
    type Config = RatingConfig;
    type State = RatingState;
    type Answer = RatingAnswer;
    type Results = RatingResults;

    fn config_schema() -> Value {
        json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "title": "Rating",
            "type": "object",
            "additionalProperties": false,
            "required": ["question"],
            "properties": {
                "question": {"type": "string", "minLength": 1, "maxLength": 300, "title": "Question"},
                "min": {"type": "integer", "minimum": SCALE_MIN, "maximum": SCALE_MAX, "default": 1, "title": "Lowest value"},
                "max": {"type": "integer", "minimum": SCALE_MIN, "maximum": SCALE_MAX, "default": 5, "title": "Highest value"},
                "labels": {"type": "array", "items": {"type": "string", "maxLength": 60}, "maxItems": STEPS_MAX, "title": "Labels, one per value"}
            }
        })
    }

    fn answer_schema() -> Value {
        json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "type": "object",
            "additionalProperties": false,
            "required": ["value"],
            "properties": {"value": {"type": "integer"}}
        })
    }

    fn check_config(config: &RatingConfig) -> Result<(), Invalid> {
        check_length("question", &config.question, 1, 300)?;
        // The scale goes up from min to max, with at most STEPS_MAX values.
        check_range("min", config.min, SCALE_MIN, SCALE_MAX - 1)?;
        check_range(
            "max",
            config.max,
            config.min + 1,
            (config.min + STEPS_MAX - 1).min(SCALE_MAX),
        )?;
        if let Some(labels) = &config.labels {
            let steps = usize::try_from(config.max - config.min + 1).unwrap_or(usize::MAX);
            check_per_entry("labels", labels.len(), "scale", steps)?;
            check_lengths("labels", labels, 0, 60)?;
        }
        Ok(())
    }

    fn check_answer(
        config: &RatingConfig,
        _state: &RatingState,
        answer: RatingAnswer,
        _context: &AnswerContext<'_>,
    ) -> Result<RatingAnswer, Invalid> {
        check_range("value", answer.value, config.min, config.max)?;
        Ok(answer)
    }

    fn export(
        config: &RatingConfig,
        _state: &RatingState,
        answer: &RatingAnswer,
        _at: DateTime<Utc>,
    ) -> Vec<(&'static str, String)> {
        let label = config.labels.as_ref().and_then(|labels| {
            let index = usize::try_from(answer.value - config.min).ok()?;
            labels.get(index).cloned()
        });
        vec![
            ("value", answer.value.to_string()),
            ("label", label.unwrap_or_default()),
        ]
    }

    fn slot(_config: &RatingConfig, _answer: &RatingAnswer) -> String {
        "rating".into()
    }

    fn tally(
        config: &RatingConfig,
        _state: &RatingState,
        entries: &[Entry<'_, RatingAnswer>],
    ) -> RatingResults {
        let answers: Vec<&RatingAnswer> = entries.iter().map(|e| e.answer).collect();
        let mut values: Vec<i64> = answers.iter().map(|a| a.value).collect();
        values.sort_unstable();
        let total = values.len();
        let distribution = (config.min..=config.max)
            .enumerate()
            .map(|(index, value)| {
                let count = values.iter().filter(|v| **v == value).count();
                ValueCount {
                    value,
                    label: config
                        .labels
                        .as_ref()
                        .and_then(|l| l.get(index))
                        .filter(|l| !l.is_empty())
                        .cloned(),
                    count,
                    percent: percent(count, total),
                }
            })
            .collect();
        let (mean, median) =
            mean_and_median(&values.iter().map(|v| as_f64(*v)).collect::<Vec<_>>());
        RatingResults {
            total_voters: total,
            distribution,
            mean,
            median,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kinds::testing::{context, fold};

    fn config() -> RatingConfig {
        RatingConfig {
            question: "How was it?".into(),
            min: 1,
            max: 5,
            labels: Some(vec![
                "bad".into(),
                String::new(),
                "ok".into(),
                String::new(),
                "great".into(),
            ]),
        }
    }

    #[test]
    fn scales_and_labels_are_checked() {
        assert!(Rating::check_config(&config()).is_ok());
        let mut inverted = config();
        inverted.min = 5;
        inverted.max = 1;
        inverted.labels = None;
        assert!(Rating::check_config(&inverted).is_err());
        let mut short_labels = config();
        short_labels.labels = Some(vec!["a".into()]);
        assert!(Rating::check_config(&short_labels).is_err());
        let mut huge = config();
        huge.labels = None;
        huge.min = -100;
        huge.max = 100;
        assert!(Rating::check_config(&huge).is_err(), "201 steps");
    }

    #[test]
    fn answers_must_be_on_the_scale() {
        let state = RatingState::default();
        assert!(
            Rating::check_answer(&config(), &state, RatingAnswer { value: 5 }, &context()).is_ok()
        );
        assert!(
            Rating::check_answer(&config(), &state, RatingAnswer { value: 0 }, &context()).is_err()
        );
        assert!(
            Rating::check_answer(&config(), &state, RatingAnswer { value: 6 }, &context()).is_err()
        );
    }

    #[test]
    fn the_tally_gives_distribution_mean_and_median() {
        let answers: Vec<RatingAnswer> = [5, 4, 4, 2]
            .into_iter()
            .map(|value| RatingAnswer { value })
            .collect();
        let refs: Vec<&RatingAnswer> = answers.iter().collect();
        let results = fold::<Rating>(&config(), &refs);
        assert_eq!(results.total_voters, 4);
        assert_eq!(
            results
                .distribution
                .iter()
                .map(|d| d.count)
                .collect::<Vec<_>>(),
            [0, 1, 0, 2, 1]
        );
        assert_eq!(results.distribution[4].label.as_deref(), Some("great"));
        assert_eq!(
            results.distribution[1].label, None,
            "empty labels are left out"
        );
        assert_eq!(results.mean, Some(3.75));
        assert_eq!(results.median, Some(4.0));
        let odd: Vec<&RatingAnswer> = refs[..3].to_vec();
        assert_eq!(fold::<Rating>(&config(), &odd).median, Some(4.0));
        let none = fold::<Rating>(&config(), &[]);
        assert_eq!((none.mean, none.median), (None, None));
    }
}
