//! `word_cloud`: each person gives up to N words. Words are normalised (trimmed, case-folded,
//! punctuation stripped, inner spaces collapsed), stopwords of the chosen languages are
//! dropped, and phrases are split into words unless allowed. One unusable word drops that
//! word, not the whole submission. Results give the top words with counts and a relative
//! size (0–1) for the screen's layout.
//!
//! Moderation: a word the session's filter flags is kept aside (`held`), not counted, and
//! listed in the organizer's moderation queue; `allow_word` lets it into the cloud,
//! `hide_word` takes any word out of it (and `unhide_word` puts it back).

use std::collections::{BTreeSet, HashMap};

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use chrono::{DateTime, Utc};

use super::{
    ActivityKind, AnswerContext, Entry, Invalid, LIST_PAGE, REDACTED, Rule, Viewer, arg,
    check_count, check_length, check_lengths, check_range, to_json,
};

/// Most words one person may give.
pub const WORDS_MAX: usize = 10;
/// Longest raw entry accepted before normalising.
pub const RAW_MAX: usize = 200;

/// The word cloud kind.
pub struct WordCloud;

/// Which stopword lists apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Stopwords {
    /// English.
    En,
    /// German.
    De,
    /// English and German.
    #[default]
    EnDe,
    /// Keep every word.
    None,
}

impl Stopwords {
    fn contains(self, word: &str) -> bool {
        let lists: &[&str] = match self {
            Stopwords::En => &["en"],
            Stopwords::De => &["de"],
            Stopwords::EnDe => &["en", "de"],
            Stopwords::None => &[],
        };
        lists
            .iter()
            .filter_map(|code| stop_words::lookup(code))
            .any(|list| list.contains(&word))
    }
}

/// A word cloud's configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WordCloudConfig {
    /// The question shown to participants.
    pub prompt: String,
    /// Words per person, 1–10 (default 3).
    #[serde(default = "default_max_words")]
    pub max_words: usize,
    /// Longest word (or phrase) after normalising, 2–50 (default 25).
    #[serde(default = "default_max_length")]
    pub max_word_length: usize,
    /// Keep multi-word entries as one phrase instead of splitting them.
    #[serde(default)]
    pub phrases: bool,
    /// Stopword lists to drop (default English and German).
    #[serde(default)]
    pub stopwords: Stopwords,
    /// How many top words the results list, 1–200 (default 50).
    #[serde(default = "default_top")]
    pub top: usize,
}

fn default_max_words() -> usize {
    3
}

fn default_max_length() -> usize {
    25
}

fn default_top() -> usize {
    50
}

/// The organizer's moderation decisions.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WordCloudState {
    /// Flagged words the organizer let into the cloud.
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub allowed: BTreeSet<String>,
    /// Words the organizer took out of the cloud.
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub hidden: BTreeSet<String>,
}

/// One person's words, as typed or (once stored) normalised.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WordCloudAnswer {
    /// The words.
    pub words: Vec<String>,
    /// Words the filter flagged, held for moderation (set by the server only).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub held: Vec<String>,
}

/// The cloud.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WordCloudResults {
    /// People who gave words.
    pub total_people: usize,
    /// Words given, after normalising.
    pub total_words: usize,
    /// Distinct words.
    pub distinct_words: usize,
    /// The top words, most frequent first.
    pub words: Vec<WordCount>,
    /// Flagged words waiting for the organizer, most frequent first (organizer only; in
    /// live documents, the first [`LIST_PAGE`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub moderation_queue: Option<Vec<WordCount>>,
    /// Words the organizer took out of the cloud (organizer only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hidden: Option<Vec<String>>,
}

/// One word of the cloud.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WordCount {
    /// The normalised word.
    pub word: String,
    /// How many people gave it.
    pub count: usize,
    /// Its size relative to the most frequent word, 0–1.
    pub weight: f64,
}

/// Normalises one entry: lowercase, letters and digits kept, inner hyphens and apostrophes
/// kept, everything else a space, spaces collapsed.
pub fn normalise(raw: &str) -> String {
    let chars: Vec<char> = raw.trim().chars().flat_map(char::to_lowercase).collect();
    let mut out = String::with_capacity(chars.len());
    for (i, &c) in chars.iter().enumerate() {
        let joiner = matches!(c, '-' | '\'' | '’')
            && i > 0
            && chars[i - 1].is_alphanumeric()
            && chars.get(i + 1).is_some_and(|n| n.is_alphanumeric());
        if c.is_alphanumeric() {
            out.push(c);
        } else if joiner {
            out.push(if c == '’' { '\'' } else { c });
        } else if !out.ends_with(' ') && !out.is_empty() {
            out.push(' ');
        }
    }
    out.trim_end().to_owned()
}

impl ActivityKind for WordCloud {
    const KIND: &'static str = "word_cloud";
    const NAME: &'static str = "Word cloud";
    const DESCRIPTION: &'static str = "Everyone gives a few words; the most frequent grow largest.";
    type Config = WordCloudConfig;
    type State = WordCloudState;
    type Answer = WordCloudAnswer;
    type Results = WordCloudResults;
    const LISTS: &'static [(&'static str, &'static str)] =
        &[("words", "word"), ("moderation_queue", "word")];

    fn config_schema() -> Value {
        json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "title": "Word cloud",
            "type": "object",
            "additionalProperties": false,
            "required": ["prompt"],
            "properties": {
                "prompt": {"type": "string", "minLength": 1, "maxLength": 300, "title": "Prompt"},
                "max_words": {"type": "integer", "minimum": 1, "maximum": WORDS_MAX, "default": 3, "title": "Words per person"},
                "max_word_length": {"type": "integer", "minimum": 2, "maximum": 50, "default": 25, "title": "Longest word"},
                "phrases": {"type": "boolean", "default": false, "title": "Allow phrases"},
                "stopwords": {"enum": ["en", "de", "en_de", "none"], "default": "en_de", "title": "Drop common words"},
                "top": {"type": "integer", "minimum": 1, "maximum": 200, "default": 50, "title": "Words shown"}
            }
        })
    }

    fn answer_schema() -> Value {
        json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "type": "object",
            "additionalProperties": false,
            "required": ["words"],
            "properties": {"words": {"type": "array", "minItems": 1, "maxItems": WORDS_MAX, "items": {"type": "string", "maxLength": RAW_MAX}}}
        })
    }

    fn check_config(config: &WordCloudConfig) -> Result<(), Invalid> {
        check_length("prompt", &config.prompt, 1, 300)?;
        check_range("max_words", config.max_words as i64, 1, WORDS_MAX as i64)?;
        check_range("max_word_length", config.max_word_length as i64, 2, 50)?;
        check_range("top", config.top as i64, 1, 200)
    }

    fn check_answer(
        config: &WordCloudConfig,
        _state: &WordCloudState,
        answer: WordCloudAnswer,
        context: &AnswerContext<'_>,
    ) -> Result<WordCloudAnswer, Invalid> {
        if !answer.held.is_empty() {
            return Err(Invalid::new("held", Rule::ServerSet));
        }
        check_count("words", answer.words.len(), 1, config.max_words)?;
        check_lengths("words", &answer.words, 0, RAW_MAX)?;
        let mut kept: Vec<String> = Vec::new();
        let mut held: Vec<String> = Vec::new();
        for raw in &answer.words {
            let normalised = normalise(raw);
            let pieces: Vec<String> = if config.phrases {
                vec![normalised]
            } else {
                normalised.split(' ').map(str::to_owned).collect()
            };
            for piece in pieces {
                let usable = !piece.is_empty()
                    && piece.chars().count() <= config.max_word_length
                    && !config.stopwords.contains(&piece);
                // One unusable word is dropped; the rest of the submission counts.
                if !usable || kept.contains(&piece) || held.contains(&piece) {
                    continue;
                }
                if kept.len() + held.len() >= config.max_words {
                    break;
                }
                if context.moderator.check(&piece).is_some() {
                    held.push(piece);
                } else {
                    kept.push(piece);
                }
            }
        }
        if kept.is_empty() && held.is_empty() {
            return Err(Invalid::new("words", Rule::Unusable));
        }
        Ok(WordCloudAnswer { words: kept, held })
    }

    /// Each word becomes `[removed 1]`, `[removed 2]`, … in the person's order, so the
    /// number of people and of words stays; which words, and how often, is gone.
    fn redact(mut answer: WordCloudAnswer) -> WordCloudAnswer {
        let placeholder = REDACTED.trim_end_matches(']');
        for (index, word) in answer
            .words
            .iter_mut()
            .chain(answer.held.iter_mut())
            .enumerate()
        {
            *word = format!("{placeholder} {}]", index + 1);
        }
        answer
    }

    fn export(
        _config: &WordCloudConfig,
        _state: &WordCloudState,
        answer: &WordCloudAnswer,
        _at: DateTime<Utc>,
    ) -> Vec<(&'static str, String)> {
        vec![
            ("words", answer.words.join("; ")),
            ("held", answer.held.join("; ")),
        ]
    }

    fn slot(_config: &WordCloudConfig, _answer: &WordCloudAnswer) -> String {
        "words".into()
    }

    fn tally(
        config: &WordCloudConfig,
        state: &WordCloudState,
        entries: &[Entry<'_, WordCloudAnswer>],
    ) -> WordCloudResults {
        let mut counts: HashMap<&str, usize> = HashMap::new();
        let mut queue: HashMap<&str, usize> = HashMap::new();
        let mut total_words = 0;
        let mut people = 0;
        for entry in entries {
            // A person counts once per word, whatever they typed twice.
            let shown: BTreeSet<&str> = entry
                .answer
                .words
                .iter()
                .chain(
                    entry
                        .answer
                        .held
                        .iter()
                        .filter(|w| state.allowed.contains(*w)),
                )
                .map(String::as_str)
                .filter(|w| !state.hidden.contains(*w))
                .collect();
            for word in entry
                .answer
                .held
                .iter()
                .filter(|w| !state.allowed.contains(*w))
            {
                *queue.entry(word.as_str()).or_default() += 1;
            }
            if shown.is_empty() {
                continue;
            }
            people += 1;
            total_words += shown.len();
            for word in shown {
                *counts.entry(word).or_default() += 1;
            }
        }
        let ranked = rank(counts);
        let distinct_words = ranked.len();
        let most = ranked.first().map_or(1, |(_, c)| *c).max(1);
        #[expect(clippy::cast_precision_loss, reason = "counts are small")]
        let weight = |count: usize| ((count as f64 / most as f64) * 100.0).round() / 100.0;
        WordCloudResults {
            total_people: people,
            total_words,
            distinct_words,
            words: ranked
                .into_iter()
                .take(config.top)
                .map(|(word, count)| WordCount {
                    word: word.to_owned(),
                    count,
                    weight: weight(count),
                })
                .collect(),
            moderation_queue: Some(
                rank(queue)
                    .into_iter()
                    .map(|(word, count)| WordCount {
                        word: word.to_owned(),
                        count,
                        weight: 0.0,
                    })
                    .collect(),
            ),
            hidden: Some(state.hidden.iter().cloned().collect()),
        }
    }

    fn view(
        _config: &WordCloudConfig,
        _state: &WordCloudState,
        results: &WordCloudResults,
        viewer: Viewer,
        revealed: bool,
    ) -> Option<Value> {
        match viewer {
            Viewer::Organizer => Some(to_json(&WordCloudResults {
                words: results.words.clone(),
                moderation_queue: results
                    .moderation_queue
                    .as_ref()
                    .map(|queue| queue.iter().take(LIST_PAGE).cloned().collect()),
                hidden: results.hidden.clone(),
                ..*results
            })),
            _ if revealed => Some(to_json(&WordCloudResults {
                moderation_queue: None,
                hidden: None,
                ..results.clone()
            })),
            _ => None,
        }
    }

    fn list(
        _config: &WordCloudConfig,
        _state: &WordCloudState,
        results: &WordCloudResults,
        name: &str,
    ) -> Option<Vec<Value>> {
        match name {
            "words" => Some(results.words.iter().map(to_json).collect()),
            "moderation_queue" => Some(
                results
                    .moderation_queue
                    .as_ref()?
                    .iter()
                    .map(to_json)
                    .collect(),
            ),
            _ => None,
        }
    }

    fn host_command(
        _config: &WordCloudConfig,
        state: &mut WordCloudState,
        command: &str,
        args: &Value,
        _now: DateTime<Utc>,
    ) -> Result<(), Invalid> {
        let word = normalise(&arg::<String>(args, "word")?);
        if word.is_empty() {
            return Err(Invalid::new("args.word", Rule::Required));
        }
        match command {
            "allow_word" => {
                state.allowed.insert(word);
            }
            "hide_word" => {
                state.hidden.insert(word);
            }
            "unhide_word" => {
                state.hidden.remove(&word);
            }
            other => {
                return Err(super::unknown_command(
                    other,
                    &["allow_word", "hide_word", "unhide_word"],
                ));
            }
        }
        Ok(())
    }
}

/// Words by count, most frequent first, then alphabetically.
fn rank(counts: HashMap<&str, usize>) -> Vec<(&str, usize)> {
    let mut ranked: Vec<(&str, usize)> = counts.into_iter().collect();
    ranked.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(b.0)));
    ranked
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kinds::testing::{context, fold};
    use crate::moderation::Moderator;

    fn config(phrases: bool, stopwords: Stopwords) -> WordCloudConfig {
        WordCloudConfig {
            prompt: "One word for today?".into(),
            max_words: 3,
            max_word_length: 12,
            phrases,
            stopwords,
            top: 50,
        }
    }

    fn check(config: &WordCloudConfig, words: &[&str]) -> Result<Vec<String>, String> {
        let answer = WordCloudAnswer {
            words: words.iter().map(|w| (*w).to_owned()).collect(),
            held: vec![],
        };
        WordCloud::check_answer(config, &WordCloudState::default(), answer, &context())
            .map(|a| a.words)
            .map_err(|e| e.to_string())
    }

    #[test]
    fn words_are_normalised() {
        let cases = [
            ("  Rust!  ", "rust"),
            ("ÜBER-cool", "über-cool"),
            ("don’t", "don't"),
            ("--hello--", "hello"),
            ("New   York", "new york"),
            ("C++", "c"),
            ("😀 fun", "fun"),
        ];
        for (raw, expected) in cases {
            assert_eq!(normalise(raw), expected, "{raw:?}");
        }
    }

    #[test]
    fn one_bad_word_drops_that_word_only() {
        let cfg = config(false, Stopwords::EnDe);
        assert_eq!(
            check(&cfg, &["the", "Rust", "!!!"]).unwrap(),
            ["rust"],
            "stopword and punctuation dropped"
        );
        assert_eq!(
            check(&cfg, &["und", "Kaffee"]).unwrap(),
            ["kaffee"],
            "German stopwords too"
        );
        assert_eq!(
            check(&cfg, &["supercalifragilistic", "ok"]).unwrap(),
            ["ok"],
            "too long dropped"
        );
        assert!(
            check(&cfg, &["the", "and", "???"]).is_err(),
            "nothing usable left"
        );
        assert!(
            check(&cfg, &["a", "b", "c", "d"]).is_err(),
            "more than max_words"
        );
        assert_eq!(
            check(&cfg, &["Rust", "rust!"]).unwrap(),
            ["rust"],
            "duplicates collapse"
        );
    }

    #[test]
    fn flagged_words_are_held_for_the_organizer_and_allowed_or_hidden_by_command() {
        let cfg = config(false, Stopwords::None);
        let moderator = Moderator::for_settings(&crate::model::session::SessionSettings {
            banned_words: vec!["kale".into()],
            ..Default::default()
        });
        let context = AnswerContext {
            moderator: &moderator,
            ..context()
        };
        let answer = |words: &[&str]| WordCloudAnswer {
            words: words.iter().map(|w| (*w).to_owned()).collect(),
            held: vec![],
        };
        let checked = WordCloud::check_answer(
            &cfg,
            &WordCloudState::default(),
            answer(&["Kale", "rust"]),
            &context,
        )
        .unwrap();
        assert_eq!(
            (checked.words.as_slice(), checked.held.as_slice()),
            (&["rust".to_owned()][..], &["kale".to_owned()][..])
        );
        let only_bad = WordCloud::check_answer(
            &cfg,
            &WordCloudState::default(),
            answer(&["kale"]),
            &context,
        )
        .unwrap();
        let answers = [&checked, &only_bad];
        let entries = crate::kinds::testing::entries(&answers);
        let mut state = WordCloudState::default();
        let results = WordCloud::tally(&cfg, &state, &entries);
        assert_eq!(
            results
                .words
                .iter()
                .map(|w| w.word.as_str())
                .collect::<Vec<_>>(),
            ["rust"]
        );
        assert_eq!(results.total_people, 1);
        let queue = results.moderation_queue.clone().unwrap();
        assert_eq!((queue[0].word.as_str(), queue[0].count), ("kale", 2));
        let screen = WordCloud::view(&cfg, &state, &results, Viewer::Screen, true).unwrap();
        assert!(
            screen.get("moderation_queue").is_none(),
            "never on the big screen"
        );

        let now = Utc::now();
        WordCloud::host_command(
            &cfg,
            &mut state,
            "allow_word",
            &json!({"word": "KALE"}),
            now,
        )
        .unwrap();
        WordCloud::host_command(&cfg, &mut state, "hide_word", &json!({"word": "rust"}), now)
            .unwrap();
        let results = WordCloud::tally(&cfg, &state, &entries);
        let words: Vec<(&str, usize)> = results
            .words
            .iter()
            .map(|w| (w.word.as_str(), w.count))
            .collect();
        assert_eq!(words, [("kale", 2)]);
        assert!(results.moderation_queue.unwrap().is_empty());
        assert!(WordCloud::host_command(&cfg, &mut state, "allow_word", &json!({}), now).is_err());
    }

    #[test]
    fn phrases_split_unless_allowed() {
        assert_eq!(
            check(&config(false, Stopwords::None), &["New York"]).unwrap(),
            ["new", "york"]
        );
        assert_eq!(
            check(&config(true, Stopwords::None), &["New York"]).unwrap(),
            ["new york"]
        );
    }

    #[test]
    fn the_cloud_counts_people_per_word_with_relative_sizes() {
        let answers = [
            WordCloudAnswer {
                words: vec!["rust".into(), "fast".into()],
                held: vec![],
            },
            WordCloudAnswer {
                words: vec!["rust".into()],
                held: vec![],
            },
            WordCloudAnswer {
                words: vec!["safe".into(), "rust".into(), "fast".into()],
                held: vec![],
            },
        ];
        let refs: Vec<&WordCloudAnswer> = answers.iter().collect();
        let cfg = config(false, Stopwords::None);
        let results = fold::<WordCloud>(&cfg, &refs);
        assert_eq!(
            (
                results.total_people,
                results.total_words,
                results.distinct_words
            ),
            (3, 6, 3)
        );
        let ranked: Vec<(&str, usize, f64)> = results
            .words
            .iter()
            .map(|w| (w.word.as_str(), w.count, w.weight))
            .collect();
        assert_eq!(
            ranked,
            [("rust", 3, 1.0), ("fast", 2, 0.67), ("safe", 1, 0.33)]
        );
        let top_one = fold::<WordCloud>(&WordCloudConfig { top: 1, ..cfg }, &refs);
        assert_eq!(top_one.words.len(), 1);
    }

    #[test]
    fn the_schema_accepts_what_serde_accepts() {
        let validator = jsonschema::validator_for(&WordCloud::config_schema()).unwrap();
        assert!(validator.is_valid(&serde_json::to_value(config(true, Stopwords::De)).unwrap()));
        assert!(!validator.is_valid(&json!({"prompt": "p", "max_words": 11})));
    }
}
