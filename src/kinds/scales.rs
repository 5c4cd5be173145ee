//! `scales`: several statements rated on one Likert scale, 1–5 or 1–10, with a label per
//! value. A participant may skip a statement but rates at least one. Results give each
//! statement's mean, median and distribution; the big screen draws them as a diverging
//! stacked bar chart around the scale's middle.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::poll::percent;
use super::{
    ActivityKind, AnswerContext, Entry, Invalid, Rule, check_count, check_distinct_texts,
    check_length, check_lengths, check_per_entry, check_range, mean_and_median,
};

/// Most statements on one scale: as many as a big screen shows legibly at 720p.
pub const STATEMENTS_MAX: usize = 10;
/// Longest statement.
pub const STATEMENT_MAX_LENGTH: usize = 200;
/// The scales there are: how many steps each has, from 1.
pub const STEPS: [u8; 2] = [5, 10];

/// The scales kind.
pub struct Scales;

/// A scales activity's configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScalesConfig {
    /// What the statements are about ("How much do you agree?").
    pub question: String,
    /// The statements, each rated on the scale.
    pub statements: Vec<String>,
    /// Steps on the scale: 5 or 10 (default 5).
    #[serde(default = "default_steps")]
    pub steps: u8,
    /// One label per value from 1 ("Strongly disagree" … "Strongly agree"); "" leaves a
    /// value unlabelled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub labels: Option<Vec<String>>,
}

fn default_steps() -> u8 {
    5
}

/// Nothing to control while it runs.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScalesState {}

/// One participant's ratings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScalesAnswer {
    /// One value per statement, in order; null skips that statement.
    pub values: Vec<Option<u8>>,
}

/// Every statement's figures.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ScalesResults {
    /// People who rated at least one statement.
    pub total_voters: usize,
    /// The scale's steps, so a screen can draw it.
    pub steps: u8,
    /// The labels, one per value, when the scale has them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub labels: Option<Vec<String>>,
    /// One entry per statement, in the configured order.
    pub statements: Vec<StatementResult>,
}

/// One statement's figures.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StatementResult {
    /// Its index in the configuration.
    pub index: usize,
    /// Its text.
    pub label: String,
    /// People who rated it.
    pub count: usize,
    /// Mean value, two decimals; null before anyone rated it.
    pub mean: Option<f64>,
    /// Median value; null before anyone rated it.
    pub median: Option<f64>,
    /// One entry per value from 1: how many chose it and their share of this statement's
    /// raters.
    pub distribution: Vec<ScaleCount>,
}

/// How many chose one value for one statement.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ScaleCount {
    /// The value, from 1.
    pub value: u8,
    /// Raters who chose it.
    pub count: usize,
    /// Share of the statement's raters, 0–100.
    pub percent: f64,
}

impl ActivityKind for Scales {
    const KIND: &'static str = "scales";
    const NAME: &'static str = "Scales";
    const DESCRIPTION: &'static str =
        "Rate several statements on one scale; mean, median and a diverging chart per statement.";
    type Config = ScalesConfig;
    type State = ScalesState;
    type Answer = ScalesAnswer;
    type Results = ScalesResults;

    fn config_schema() -> Value {
        json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "title": "Scales",
            "type": "object",
            "additionalProperties": false,
            "required": ["question", "statements"],
            "properties": {
                "question": {"type": "string", "minLength": 1, "maxLength": 300, "title": "Question"},
                "statements": {
                    "type": "array", "title": "Statements",
                    "minItems": 1, "maxItems": STATEMENTS_MAX, "uniqueItems": true,
                    "items": {"type": "string", "minLength": 1, "maxLength": STATEMENT_MAX_LENGTH}
                },
                "steps": {"type": "integer", "enum": STEPS, "default": 5, "title": "Steps on the scale"},
                "labels": {
                    "type": "array", "title": "Labels, one per value",
                    "maxItems": 10, "items": {"type": "string", "maxLength": 40}
                }
            }
        })
    }

    fn answer_schema() -> Value {
        json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "type": "object",
            "additionalProperties": false,
            "required": ["values"],
            "properties": {
                "values": {
                    "type": "array", "minItems": 1, "maxItems": STATEMENTS_MAX,
                    "items": {"type": ["integer", "null"], "minimum": 1, "maximum": 10}
                }
            }
        })
    }

    fn check_config(config: &ScalesConfig) -> Result<(), Invalid> {
        check_length("question", &config.question, 1, 300)?;
        check_count("statements", config.statements.len(), 1, STATEMENTS_MAX)?;
        check_lengths("statements", &config.statements, 1, STATEMENT_MAX_LENGTH)?;
        check_distinct_texts("statements", &config.statements)?;
        if !STEPS.contains(&config.steps) {
            return Err(Invalid::new(
                "steps",
                Rule::OneOf {
                    allowed: STEPS.iter().map(ToString::to_string).collect(),
                },
            ));
        }
        if let Some(labels) = &config.labels {
            let steps = usize::from(config.steps);
            check_per_entry("labels", labels.len(), "steps", steps)?;
            check_lengths("labels", labels, 0, 40)?;
        }
        Ok(())
    }

    fn check_answer(
        config: &ScalesConfig,
        _state: &ScalesState,
        answer: ScalesAnswer,
        _context: &AnswerContext<'_>,
    ) -> Result<ScalesAnswer, Invalid> {
        let count = config.statements.len();
        check_per_entry("values", answer.values.len(), "statements", count)?;
        for (at, value) in answer.values.iter().enumerate() {
            if let Some(value) = value {
                check_range(format!("values[{at}]").as_str(), *value, 1, config.steps)?;
            }
        }
        if answer.values.iter().all(Option::is_none) {
            return Err(Invalid::new("values", Rule::Required));
        }
        Ok(answer)
    }

    fn export(
        config: &ScalesConfig,
        _state: &ScalesState,
        answer: &ScalesAnswer,
        _at: DateTime<Utc>,
    ) -> Vec<(&'static str, String)> {
        let ratings = config
            .statements
            .iter()
            .zip(&answer.values)
            .map(|(statement, value)| {
                let value = value.map_or_else(|| "–".to_owned(), |v| v.to_string());
                format!("{statement}: {value}")
            })
            .collect::<Vec<_>>()
            .join("; ");
        vec![("ratings", ratings)]
    }

    fn slot(_config: &ScalesConfig, _answer: &ScalesAnswer) -> String {
        "scales".into()
    }

    fn tally(
        config: &ScalesConfig,
        _state: &ScalesState,
        entries: &[Entry<'_, ScalesAnswer>],
    ) -> ScalesResults {
        let statements = config
            .statements
            .iter()
            .enumerate()
            .map(|(index, label)| {
                let mut values: Vec<u8> = entries
                    .iter()
                    .filter_map(|e| e.answer.values.get(index).copied().flatten())
                    .collect();
                values.sort_unstable();
                let count = values.len();
                let (mean, median) =
                    mean_and_median(&values.iter().map(|v| f64::from(*v)).collect::<Vec<_>>());
                StatementResult {
                    index,
                    label: label.clone(),
                    count,
                    mean,
                    median,
                    distribution: (1..=config.steps)
                        .map(|value| {
                            let n = values.iter().filter(|v| **v == value).count();
                            ScaleCount {
                                value,
                                count: n,
                                percent: percent(n, count),
                            }
                        })
                        .collect(),
                }
            })
            .collect();
        ScalesResults {
            total_voters: entries.len(),
            steps: config.steps,
            labels: config.labels.clone(),
            statements,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kinds::testing::{context, fold};

    fn config() -> ScalesConfig {
        ScalesConfig {
            question: "How much do you agree?".into(),
            statements: vec!["The talk was clear".into(), "I learned something".into()],
            steps: 5,
            labels: Some(vec![
                "Strongly disagree".into(),
                String::new(),
                "Neutral".into(),
                String::new(),
                "Strongly agree".into(),
            ]),
        }
    }

    fn values(values: &[Option<u8>]) -> ScalesAnswer {
        ScalesAnswer {
            values: values.to_vec(),
        }
    }

    #[test]
    fn scales_and_labels_are_checked() {
        assert!(Scales::check_config(&config()).is_ok());
        let mut seven = config();
        seven.steps = 7;
        seven.labels = None;
        assert!(matches!(
            Scales::check_config(&seven).unwrap_err().rule,
            Rule::OneOf { .. }
        ));
        let mut ten = config();
        ten.steps = 10;
        assert_eq!(
            Scales::check_config(&ten).unwrap_err().rule,
            Rule::PerEntry {
                other: "steps".into(),
                count: 10
            },
            "five labels for ten steps"
        );
        ten.labels = None;
        assert!(Scales::check_config(&ten).is_ok());
        let mut none = config();
        none.statements.clear();
        assert!(Scales::check_config(&none).is_err());
    }

    #[test]
    fn an_answer_rates_each_statement_on_the_scale_or_skips_it() {
        let state = ScalesState::default();
        let check =
            |v: &[Option<u8>]| Scales::check_answer(&config(), &state, values(v), &context());
        assert!(check(&[Some(5), Some(1)]).is_ok());
        assert!(
            check(&[None, Some(3)]).is_ok(),
            "a statement may be skipped"
        );
        assert_eq!(check(&[None, None]).unwrap_err().rule, Rule::Required);
        assert!(check(&[Some(3)]).is_err(), "one per statement");
        let out = check(&[Some(3), Some(6)]).unwrap_err();
        assert_eq!(out.field, "values[1]");
        assert!(check(&[Some(0), Some(3)]).is_err());
    }

    #[test]
    fn the_tally_gives_each_statement_its_mean_median_and_distribution() {
        let answers = [
            values(&[Some(5), Some(2)]),
            values(&[Some(4), None]),
            values(&[Some(4), Some(3)]),
            values(&[Some(1), Some(3)]),
        ];
        let refs: Vec<&ScalesAnswer> = answers.iter().collect();
        let results = fold::<Scales>(&config(), &refs);
        assert_eq!(results.total_voters, 4);
        let clear = &results.statements[0];
        assert_eq!(clear.count, 4);
        assert_eq!(clear.mean, Some(3.5));
        assert_eq!(clear.median, Some(4.0));
        assert_eq!(
            clear
                .distribution
                .iter()
                .map(|d| d.count)
                .collect::<Vec<_>>(),
            [1, 0, 0, 2, 1]
        );
        assert_eq!(clear.distribution[3].percent, 50.0);
        let learned = &results.statements[1];
        assert_eq!(learned.count, 3, "a skip is not a rating");
        assert_eq!(learned.mean, Some(2.67));
        assert_eq!(learned.median, Some(3.0));
        let none = fold::<Scales>(&config(), &[]);
        assert_eq!(none.statements[0].mean, None);
        assert_eq!(none.statements[0].distribution.len(), 5);
    }

    #[test]
    fn exports_name_each_statement() {
        let columns = Scales::export(
            &config(),
            &ScalesState::default(),
            &values(&[Some(4), None]),
            Utc::now(),
        );
        assert_eq!(
            columns,
            vec![(
                "ratings",
                "The talk was clear: 4; I learned something: –".to_owned()
            )]
        );
    }
}
