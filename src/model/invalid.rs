//! What an input got wrong, said so that a program can tell the cases apart and a page can
//! say it in its own language: the [`Rule`] broken (a stable code with its parameters), and
//! the field at fault as a path into the request body, counted from zero as JSON is
//! (`config.questions[1].choices[2]`). The English message is made from both; the web app
//! shows `rule.<code>` from its locale instead, with the field as people count it.

use std::fmt;

use serde_json::{Map, Value, json};

/// One rule an input broke.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rule {
    /// A text has `min..=max` characters (trimmed).
    Length {
        /// Fewest characters (0: may be empty).
        min: usize,
        /// Most characters.
        max: usize,
    },
    /// A number lies in `min..=max`.
    Range {
        /// Smallest value.
        min: i64,
        /// Largest value.
        max: i64,
    },
    /// A list has `min..=max` entries.
    Count {
        /// Fewest entries (0: may be empty).
        min: usize,
        /// Most entries.
        max: usize,
    },
    /// The list's entries must all differ.
    Distinct,
    /// Something must be given or picked.
    Required,
    /// An index into another list, which has `count` entries.
    Index {
        /// How many entries the list has.
        count: usize,
    },
    /// Only allowed together with another field (`max_picks` with `multiple`).
    Needs {
        /// The field it needs, as a path.
        other: String,
    },
    /// One entry per entry of another field (a rating's labels, one per value).
    PerEntry {
        /// The field, as a path.
        other: String,
        /// How many that is.
        count: usize,
    },
    /// The server sets it; the client does not send it.
    ServerSet,
    /// Not one of the allowed values.
    OneOf {
        /// What is allowed.
        allowed: Vec<String>,
    },
    /// Not the expected JSON shape; `detail` is the parser's English account.
    Shape {
        /// What the parser said.
        detail: String,
    },
    /// Voting on a poll is locked.
    Locked,
    /// The buzzers are not armed.
    NotArmed,
    /// The answer is for a quiz question that is not the one asked now.
    NotCurrent,
    /// The question's time is up.
    TimeUp,
    /// The answer refers to something that is not (or no longer) there, such as an upvote
    /// for a hidden question.
    Missing,
    /// A card that is not in the deck.
    NotInDeck,
    /// None of the words can be used (too common, too long, or only punctuation).
    Unusable,
    /// The person already gave the most this activity takes from one person.
    Quota {
        /// That most.
        max: usize,
    },
    /// Turned off for this activity (anonymous questions).
    TurnedOff,
    /// The session's filter or banned words refuse it.
    Refused,
    /// It has characters that cannot be shown (controls, invisible formatting).
    Unprintable,
    /// The planning poker cards are face up until a re-vote.
    FaceUp,
    /// A host command that only works while the activity runs.
    NotRunning,
    /// Time can only be added to an activity with a time limit.
    NoTimeLimit,
    /// A command that needs something to happen first (arm the buzzer, start a question).
    TooEarly,
    /// Done already (a quiz question asked before).
    AlreadyDone,
    /// A value the server keeps for itself (the `?` and coffee cards of a deck).
    Reserved,
    /// A password an attacker would guess (a common password, a repeat, a keyboard run).
    Guessable,
    /// Numbers that must add up to exactly `total` (the points of a `points` activity).
    Sum {
        /// What they must add up to.
        total: i64,
    },
    /// A time that must come after another (a closing time after the opening time).
    After {
        /// The other field, as a path.
        other: String,
    },
}

impl Rule {
    /// Every code a rule can have, for the test that every language explains each one.
    pub const CODES: &'static [&'static str] = &[
        "length",
        "range",
        "count",
        "distinct",
        "required",
        "index",
        "needs",
        "per_entry",
        "server_set",
        "one_of",
        "shape",
        "locked",
        "not_armed",
        "not_current",
        "time_up",
        "missing",
        "not_in_deck",
        "unusable",
        "quota",
        "turned_off",
        "refused",
        "unprintable",
        "face_up",
        "not_running",
        "no_time_limit",
        "too_early",
        "already_done",
        "reserved",
        "guessable",
        "sum",
        "after",
    ];

    /// Its stable snake_case code.
    pub fn code(&self) -> &'static str {
        match self {
            Rule::Length { .. } => "length",
            Rule::Range { .. } => "range",
            Rule::Count { .. } => "count",
            Rule::Distinct => "distinct",
            Rule::Required => "required",
            Rule::Index { .. } => "index",
            Rule::Needs { .. } => "needs",
            Rule::PerEntry { .. } => "per_entry",
            Rule::ServerSet => "server_set",
            Rule::OneOf { .. } => "one_of",
            Rule::Shape { .. } => "shape",
            Rule::Locked => "locked",
            Rule::NotArmed => "not_armed",
            Rule::NotCurrent => "not_current",
            Rule::TimeUp => "time_up",
            Rule::Missing => "missing",
            Rule::NotInDeck => "not_in_deck",
            Rule::Unusable => "unusable",
            Rule::Quota { .. } => "quota",
            Rule::TurnedOff => "turned_off",
            Rule::Refused => "refused",
            Rule::Unprintable => "unprintable",
            Rule::FaceUp => "face_up",
            Rule::NotRunning => "not_running",
            Rule::NoTimeLimit => "no_time_limit",
            Rule::TooEarly => "too_early",
            Rule::AlreadyDone => "already_done",
            Rule::Reserved => "reserved",
            Rule::Guessable => "guessable",
            Rule::Sum { .. } => "sum",
            Rule::After { .. } => "after",
        }
    }

    /// Its parameters, as the locale's message uses them.
    pub fn params(&self) -> Map<String, Value> {
        let value = match self {
            Rule::Length { min, max } | Rule::Count { min, max } => {
                json!({"min": min, "max": max})
            }
            Rule::Range { min, max } => json!({"min": min, "max": max}),
            Rule::Index { count } => json!({"count": count}),
            Rule::Quota { max } => json!({"max": max}),
            Rule::Sum { total } => json!({"total": total}),
            Rule::Needs { other } | Rule::After { other } => json!({"other": other}),
            Rule::PerEntry { other, count } => json!({"other": other, "count": count}),
            Rule::OneOf { allowed } => json!({"allowed": allowed}),
            Rule::Shape { detail } => json!({"detail": detail}),
            _ => json!({}),
        };
        match value {
            Value::Object(map) => map,
            _ => Map::new(),
        }
    }

    /// What it says in English, after the field's name.
    pub fn english(&self) -> String {
        match self {
            Rule::Length { min: 0, max } => format!("must have at most {max} characters"),
            Rule::Length { min, max } => format!("must have {min} to {max} characters"),
            Rule::Range { min, max } => format!("must be between {min} and {max}"),
            Rule::Count { min: 0, max } => format!("may have at most {max} entries"),
            Rule::Count { min, max } => format!("must have {min} to {max} entries"),
            Rule::Distinct => "must not repeat an entry".into(),
            Rule::Required => "is required".into(),
            Rule::Index { count } => format!("must name one of the {count} entries"),
            Rule::Needs { other } => format!("needs {other}"),
            Rule::PerEntry { other, count } => {
                format!("must have one entry per entry of {other} ({count})")
            }
            Rule::ServerSet => "is set by the server; do not send it".into(),
            Rule::OneOf { allowed } => format!("must be one of: {}", allowed.join(", ")),
            Rule::Shape { detail } => format!("does not have the expected form: {detail}"),
            Rule::Locked => "voting is locked".into(),
            Rule::NotArmed => "the buzzers are not armed".into(),
            Rule::NotCurrent => "is not the question being asked now".into(),
            Rule::TimeUp => "time is up for this question".into(),
            Rule::Missing => "refers to something that is not there".into(),
            Rule::NotInDeck => "is not a card of this deck".into(),
            Rule::Quota { max } => format!("already has the most one person may give ({max})"),
            Rule::TurnedOff => "is turned off here".into(),
            Rule::Refused => "is not allowed in this session; please choose another".into(),
            Rule::Unprintable => "contains characters that cannot be shown".into(),
            Rule::FaceUp => "the cards are face up; wait for a re-vote".into(),
            Rule::NotRunning => "only works while the activity runs".into(),
            Rule::NoTimeLimit => "needs an activity with a time limit".into(),
            Rule::TooEarly => {
                "needs an earlier step first (arm the buzzer, start a question)".into()
            }
            Rule::AlreadyDone => "was done already".into(),
            Rule::Reserved => "is a special card; use unsure_card or coffee_card".into(),
            Rule::Guessable => {
                "is too easy to guess; use a few unusual words, or a longer mix of characters"
                    .into()
            }
            Rule::Unusable => {
                "has no word that can be used (too common, too long, or only punctuation)".into()
            }
            Rule::Sum { total } => format!("must add up to exactly {total}"),
            Rule::After { other } => format!("must come after {other}"),
        }
    }
}

/// A [`Rule`] broken by one field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalid {
    /// The rule.
    pub rule: Rule,
    /// Where: a path into the request body; empty for the whole input.
    pub field: String,
}

impl Invalid {
    /// `field` broke `rule`.
    pub fn new(field: impl Into<String>, rule: Rule) -> Self {
        Self {
            rule,
            field: field.into(),
        }
    }

    /// The same error, its field inside `outer` (`config` + `question` →
    /// `config.question`; `questions[1]` + `correct` → `questions[1].correct`).
    #[must_use]
    pub fn within(mut self, outer: &str) -> Self {
        self.field = match (outer.is_empty(), self.field.is_empty()) {
            (true, _) => self.field,
            (false, true) => outer.to_owned(),
            (false, false) if self.field.starts_with('[') => format!("{outer}{}", self.field),
            (false, false) => format!("{outer}.{}", self.field),
        };
        self
    }

    /// The code, field and parameters as the API's error details carry them.
    pub fn details(&self) -> Value {
        json!({"field": self.field, "rule": self.rule.code(), "params": self.rule.params()})
    }
}

impl fmt::Display for Invalid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.field.is_empty() {
            f.write_str(&self.rule.english())
        } else {
            write!(f, "{} {}", self.field, self.rule.english())
        }
    }
}

impl std::error::Error for Invalid {}

/// Checks that a trimmed text has `min..=max` characters.
pub fn check_length(field: &str, text: &str, min: usize, max: usize) -> Result<(), Invalid> {
    // The least counts what is left after trimming, so blanks are not text; the most counts
    // everything sent, as the schema's maxLength does.
    let length = text.trim().chars().count();
    if length < min || text.chars().count() > max {
        return Err(Invalid::new(field, Rule::Length { min, max }));
    }
    Ok(())
}

/// Checks that every text of the list `field` has `min..=max` characters; an error names
/// the entry (`options[2]`).
pub fn check_lengths<'a>(
    field: &str,
    texts: impl IntoIterator<Item = &'a String>,
    min: usize,
    max: usize,
) -> Result<(), Invalid> {
    for (index, text) in texts.into_iter().enumerate() {
        check_length(&format!("{field}[{index}]"), text, min, max)?;
    }
    Ok(())
}

/// Checks that a number lies in `min..=max`.
pub fn check_range(
    field: &str,
    value: impl Into<i64>,
    min: impl Into<i64>,
    max: impl Into<i64>,
) -> Result<(), Invalid> {
    let (value, min, max) = (value.into(), min.into(), max.into());
    if value < min || value > max {
        return Err(Invalid::new(field, Rule::Range { min, max }));
    }
    Ok(())
}

/// Checks that no two of `texts` read the same (case and surrounding blanks aside): people
/// could not tell them apart.
pub fn check_distinct_texts(field: &str, texts: &[String]) -> Result<(), Invalid> {
    let mut seen = std::collections::HashSet::new();
    if texts
        .iter()
        .all(|text| seen.insert(text.trim().to_lowercase()))
    {
        Ok(())
    } else {
        Err(Invalid::new(field, Rule::Distinct))
    }
}

/// Checks that `field` has `len` entries, one for each of the `count` entries of `other`.
pub fn check_per_entry(field: &str, len: usize, other: &str, count: usize) -> Result<(), Invalid> {
    if len == count {
        Ok(())
    } else {
        Err(Invalid::new(
            field,
            Rule::PerEntry {
                other: other.into(),
                count,
            },
        ))
    }
}

/// Checks that a list has `min..=max` entries.
pub fn check_count(field: &str, count: usize, min: usize, max: usize) -> Result<(), Invalid> {
    if count < min || count > max {
        return Err(Invalid::new(field, Rule::Count { min, max }));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_nest_and_messages_name_them() {
        let error = Invalid::new("correct", Rule::Distinct)
            .within("questions[1]")
            .within("config");
        assert_eq!(error.field, "config.questions[1].correct");
        assert_eq!(
            error.to_string(),
            "config.questions[1].correct must not repeat an entry"
        );
        let item = Invalid::new("[2]", Rule::Length { min: 1, max: 80 }).within("options");
        assert_eq!(item.field, "options[2]");
        assert_eq!(
            item.details(),
            json!({"field": "options[2]", "rule": "length", "params": {"min": 1, "max": 80}})
        );
    }

    #[test]
    fn every_rule_has_its_code_listed() {
        let rules = [
            Rule::Length { min: 0, max: 1 },
            Rule::Range { min: 0, max: 1 },
            Rule::Count { min: 0, max: 1 },
            Rule::Distinct,
            Rule::Required,
            Rule::Index { count: 1 },
            Rule::Needs { other: "x".into() },
            Rule::PerEntry {
                other: "x".into(),
                count: 1,
            },
            Rule::ServerSet,
            Rule::OneOf { allowed: vec![] },
            Rule::Shape { detail: "x".into() },
            Rule::Locked,
            Rule::NotArmed,
            Rule::NotCurrent,
            Rule::TimeUp,
            Rule::Missing,
            Rule::NotInDeck,
            Rule::Unusable,
            Rule::Quota { max: 1 },
            Rule::TurnedOff,
            Rule::Refused,
            Rule::Unprintable,
            Rule::FaceUp,
            Rule::NotRunning,
            Rule::NoTimeLimit,
            Rule::TooEarly,
            Rule::AlreadyDone,
            Rule::Reserved,
            Rule::Guessable,
            Rule::Sum { total: 100 },
            Rule::After { other: "x".into() },
        ];
        let codes: Vec<&str> = rules.iter().map(Rule::code).collect();
        assert_eq!(codes, Rule::CODES);
    }
}
