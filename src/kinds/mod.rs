//! The plug-in point for activity kinds: [`ActivityKind`] (one implementation per kind) and
//! [`ActivityRegistry`], which type-erases kinds behind JSON so the rest of the code never
//! matches on a kind's name. Adding a kind is one module plus one `register` line.

pub mod buzzer;
pub mod open_text;
pub mod points;
pub mod poker;
pub mod poll;
pub mod qna;
pub mod quiz;
pub mod quiz_csv;
pub mod ranking;
pub mod rating;
pub mod scales;
#[cfg(feature = "toy-kind")]
#[path = "../../tests/toy_kind/toy.rs"]
pub mod toy;
pub mod word_cloud;

use std::any::Any;
use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::ids::{ActivityId, ParticipantId};
use crate::model::activity::Activity;
pub use crate::model::invalid::{
    Invalid, Rule, check_count, check_distinct_texts, check_length, check_lengths, check_per_entry,
    check_range,
};
use crate::moderation::Moderator;

/// An answer held in memory in its kind's own type.
pub type AnyAnswer = Arc<dyn Any + Send + Sync>;
/// Results held in memory in their kind's own type.
pub type AnyResults = Arc<dyn Any + Send + Sync>;

/// One participant's current answer in one slot, as a tally sees it.
#[derive(Debug)]
pub struct Entry<'a, A> {
    /// Who answered.
    pub participant: ParticipantId,
    /// Their nickname.
    pub nickname: &'a str,
    /// The slot it fills.
    pub slot: &'a str,
    /// When the server received it (the latest version, for a changed answer).
    pub at: DateTime<Utc>,
    /// When the participant could first give it, if known: in a self-paced session, when
    /// they first saw its step (a quiz question), which their time to answer counts from.
    pub since: Option<DateTime<Utc>>,
    /// Their team, an index into the session's team names, if it has teams.
    pub team: Option<u16>,
    /// The answer.
    pub answer: &'a A,
}

/// What a kind may know about a submission beyond the answer itself.
#[derive(Clone, Copy)]
pub struct AnswerContext<'a> {
    /// Who is answering.
    pub participant: ParticipantId,
    /// When the server received it: the only clock that counts (quiz speed, buzzer order).
    pub received: DateTime<Utc>,
    /// Whether the organizer has revealed this round's results.
    pub revealed: bool,
    /// The session's content filter.
    pub moderator: &'a Moderator,
    /// The slots this participant already fills in the round, for per-person caps. Read
    /// only when called, so kinds without a cap cost the answer path nothing.
    pub own_slots: &'a (dyn Fn() -> Vec<String> + Sync),
}

/// Who is looking at results.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Viewer {
    /// The session's organizer: everything, including the moderation queue.
    Organizer,
    /// The big screen: what the room may see.
    Screen,
    /// A participant; `me` is set when the view is for one known participant (their own
    /// score, rank or pending questions), unset for the copy broadcast to every phone.
    Participant {
        /// The participant asking, if known.
        me: Option<ParticipantId>,
    },
}

/// One kind of activity: a poll, a word cloud, an open question, ...
pub trait ActivityKind: Send + Sync + 'static {
    /// Stored in `activities.kind` and sent as `"kind"` in JSON.
    const KIND: &'static str;
    /// A short human name.
    const NAME: &'static str;
    /// One sentence on what it is for.
    const DESCRIPTION: &'static str;
    /// True when an answer, once given, cannot be changed (a quiz answer, a buzz): another
    /// answer in the same slot is refused with `409 already_answered`. Otherwise a new
    /// answer replaces the old one.
    const FINAL_ANSWERS: bool = false;
    /// True when results are always hidden until the organizer reveals them (planning
    /// poker), whatever visibility the activity was created with.
    const HIDDEN_UNTIL_REVEAL: bool = false;
    /// The top-level lists of the results that grow with answers, each with the field that
    /// keys its entries: live streams send them as deltas entry by entry
    /// (`realtime::delta`), every other field whole when it changes.
    const LISTS: &'static [(&'static str, &'static str)] = &[];
    /// True when what a participant sees depends on who they are (their own answers, score
    /// or place): their view is built for them. Otherwise every phone is served one shared
    /// document.
    const PERSONAL_VIEW: bool = false;
    /// Chosen by the organizer.
    type Config: Serialize + DeserializeOwned + Send + Sync + 'static;
    /// Changed by host commands while the activity runs (use `()`-like empty structs when
    /// the kind has none).
    type State: Serialize + DeserializeOwned + Default + Send + Sync + 'static;
    /// Sent by one participant.
    type Answer: Serialize + DeserializeOwned + Send + Sync + 'static;
    /// Folded from every answer; the organizer's view unless [`ActivityKind::view`] says
    /// otherwise.
    type Results: Serialize + Send + Sync + 'static;

    /// JSON schema of the configuration, for clients and generated forms.
    fn config_schema() -> Value;
    /// JSON schema of one answer.
    fn answer_schema() -> Value;
    /// Rules serde cannot express (lengths, cross-field limits); fields are named as paths
    /// inside the configuration (`questions[1].correct`).
    fn check_config(config: &Self::Config) -> Result<(), Invalid>;
    /// Checks one answer against the configuration and state, and normalises it.
    fn check_answer(
        config: &Self::Config,
        state: &Self::State,
        answer: Self::Answer,
        context: &AnswerContext<'_>,
    ) -> Result<Self::Answer, Invalid>;
    /// When the participant could first give this answer, if later than the round's
    /// opening: a quiz question's start. The time to answer counts from it.
    fn answerable_since(
        config: &Self::Config,
        state: &Self::State,
        answer: &Self::Answer,
    ) -> Option<DateTime<Utc>> {
        let _ = (config, state, answer);
        None
    }
    /// Whether a participant can take it alone, in a self-paced session. A buzzer is a race
    /// against the others, so it cannot; such activities are left out of the self-paced
    /// course.
    const SELF_PACED: bool = true;
    /// How many steps a participant goes through alone in a self-paced session, each
    /// opened (and timed) separately: one by default, one per question for a quiz.
    fn paced_steps(config: &Self::Config) -> usize {
        let _ = config;
        1
    }
    /// The step an answer belongs to ([`ActivityKind::paced_steps`]).
    fn paced_step(config: &Self::Config, answer: &Self::Answer) -> usize {
        let _ = (config, answer);
        0
    }
    /// The state one participant is in on `step` of a self-paced session, which they first
    /// saw at `seen` (a quiz asks that question, started then); `None` keeps the activity's
    /// own state.
    fn paced_state(
        config: &Self::Config,
        state: &Self::State,
        step: usize,
        seen: DateTime<Utc>,
    ) -> Option<Self::State> {
        let _ = (config, state, step, seen);
        None
    }
    /// What one participant learns of their own answers on `step` of a self-paced course,
    /// with the state that shows it; `state` is theirs on that step ([`paced_state`]) and
    /// `mine` holds only their answers. A quiz reveals the question to them once they
    /// answered it or its time ran out, with whether they were right and their score so
    /// far. `None`, the default, shows nothing more.
    ///
    /// [`paced_state`]: ActivityKind::paced_state
    fn paced_feedback(
        config: &Self::Config,
        state: &Self::State,
        mine: &[Entry<'_, Self::Answer>],
        now: DateTime<Utc>,
    ) -> Option<(Self::State, Value)> {
        let _ = (config, state, mine, now);
        None
    }
    /// The slot an answer fills. A participant has one answer per slot per round; a new
    /// answer in the same slot replaces the old one (a changed vote), unless answers are
    /// final.
    fn slot(config: &Self::Config, answer: &Self::Answer) -> String;
    /// The slot an answer is about, when it only means something if that slot is already
    /// filled in the round (an upvote needs its question). `None` for most answers.
    fn refers_to(_config: &Self::Config, _answer: &Self::Answer) -> Option<Reference> {
        None
    }
    /// Folds every current answer of a round into results. Entries come in no particular
    /// order; sort by `at` where order matters.
    fn tally(
        config: &Self::Config,
        state: &Self::State,
        entries: &[Entry<'_, Self::Answer>],
    ) -> Self::Results;
    /// What `viewer` may see of the results. `revealed` is true when the results are
    /// visible beyond the organizer (live results, or revealed hidden ones). By default the
    /// organizer sees everything and everyone else sees everything once revealed.
    fn view(
        config: &Self::Config,
        state: &Self::State,
        results: &Self::Results,
        viewer: Viewer,
        revealed: bool,
    ) -> Option<Value> {
        let _ = (config, state);
        (viewer == Viewer::Organizer || revealed).then(|| to_json(results))
    }
    /// Every entry of `list` (one of [`ActivityKind::LISTS`]) as the organizer sees it, in
    /// its order: live documents carry the first [`LIST_PAGE`], and the REST API pages
    /// through all of them. `None` for a name that is not one of the kind's lists.
    fn list(
        config: &Self::Config,
        state: &Self::State,
        results: &Self::Results,
        name: &str,
    ) -> Option<Vec<Value>> {
        let _ = (config, state, results, name);
        None
    }
    /// What a participant's phone gets of the configuration (for example without the
    /// correct answers of a quiz).
    fn participant_config(config: &Self::Config, state: &Self::State) -> Value {
        let _ = state;
        to_json(config)
    }
    /// Applies a kind-specific host command (for example a poll's `lock`) to the state.
    /// `now` is the server's clock (a quiz question starts now).
    fn host_command(
        config: &Self::Config,
        state: &mut Self::State,
        command: &str,
        args: &Value,
        now: DateTime<Utc>,
    ) -> Result<(), Invalid> {
        let _ = (config, state, args, now);
        Err(unknown_command(command, &[]))
    }
    /// The answer with every text the participant typed replaced by [`REDACTED`], once the
    /// retention period has passed (docs/templates.md): what was counted stays countable,
    /// what was written is gone. Kinds without free text keep the answer as it is.
    fn redact(answer: Self::Answer) -> Self::Answer {
        answer
    }
    /// Whether an organizer can make one from an uploaded CSV file ([`Self::from_csv`]).
    const CSV_IMPORT: bool = false;
    /// Reads an uploaded CSV file into a configuration (a quiz's questions, one per row).
    /// Errors name the line and column. Only called when [`Self::CSV_IMPORT`] is set.
    fn from_csv(text: &str) -> Result<Value, ImportError> {
        let _ = text;
        Err(ImportError {
            field: String::new(),
            message: format!("{} takes no CSV", Self::KIND),
        })
    }
    /// One answer, given at `at`, as spreadsheet columns people read, named by the kind:
    /// labels rather than indexes (a poll's `choice` "Pizza", not `0`), and where it stands
    /// (a text's moderation). The exports give each name its own column beside the
    /// answer's JSON. By default none.
    fn export(
        config: &Self::Config,
        state: &Self::State,
        answer: &Self::Answer,
        at: DateTime<Utc>,
    ) -> Vec<(&'static str, String)> {
        let _ = (config, state, answer, at);
        Vec::new()
    }
    /// What the audience asked in one round, read from the organizer's results of that
    /// round, for the session report's list of questions. Only kinds where people ask
    /// questions (Q&A) have any.
    fn asked(results: &Value) -> Vec<Asked> {
        let _ = results;
        Vec::new()
    }
    /// The state a new round starts with, given the round that ends (planning poker keeps
    /// a history of earlier rounds). By default a new round starts afresh.
    fn next_round(
        config: &Self::Config,
        state: &Self::State,
        results: &Self::Results,
        round: i32,
    ) -> Self::State {
        let _ = (config, state, results, round);
        Self::State::default()
    }
}

/// Most entries of a growing list (answers, questions, a moderation queue) that a live
/// results document carries; the REST API pages through the rest with a cursor.
pub const LIST_PAGE: usize = 200;

/// What a participant's text reads after the retention period removed it.
pub const REDACTED: &str = "[removed]";

/// The labels of `indexes` in `labels`, joined for one spreadsheet cell.
pub fn labels_of(labels: &[String], indexes: &[usize]) -> String {
    indexes
        .iter()
        .map(|&i| {
            labels
                .get(i)
                .map_or_else(|| format!("#{}", i + 1), Clone::clone)
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// Serialises a kind's value; these types always serialise.
pub fn to_json(value: &impl Serialize) -> Value {
    serde_json::to_value(value).unwrap_or(Value::Null)
}

/// Parses a command's argument `name` (as in `{"id": "…"}`).
pub fn arg<T: DeserializeOwned>(args: &Value, name: &str) -> Result<T, Invalid> {
    let field = format!("args.{name}");
    let value = args
        .get(name)
        .ok_or_else(|| Invalid::new(field.clone(), Rule::Required))?;
    crate::model::json::deserialize::<T>(value).map_err(|e| {
        Invalid::new(
            field,
            Rule::Shape {
                detail: e.to_string(),
            },
        )
    })
}

/// A command the kind does not have; `known` lists the ones it does.
pub fn unknown_command(command: &str, known: &[&str]) -> Invalid {
    let _ = command;
    Invalid::new(
        "command",
        Rule::OneOf {
            allowed: known.iter().map(|c| (*c).to_owned()).collect(),
        },
    )
}

/// A new id for an item an answer creates (a question, a text): time-ordered, unique, and
/// new for every version of the item, so a moderation decision never carries over to an
/// edited text.
pub fn new_item_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// The mean (two decimals) and the median (the middle value, or the mean of the two middle
/// ones) of `sorted`; both `None` when there is no value.
pub fn mean_and_median(sorted: &[f64]) -> (Option<f64>, Option<f64>) {
    let count = sorted.len();
    if count == 0 {
        return (None, None);
    }
    #[expect(
        clippy::cast_precision_loss,
        reason = "answer counts stay far below 2^52"
    )]
    let mean = sorted.iter().sum::<f64>() / count as f64;
    let median = if count % 2 == 1 {
        sorted[count / 2]
    } else {
        (sorted[count / 2 - 1] + sorted[count / 2]) / 2.0
    };
    (Some((mean * 100.0).round() / 100.0), Some(median))
}

/// One team's standing in a quiz or a buzzer round: the team race.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TeamStanding {
    /// The team, an index into the session's team names.
    pub team: u16,
    /// Every point of its players.
    pub score: i64,
    /// Its players who scored or answered.
    pub players: usize,
    /// Points per player, rounded: the race by average, so team size does not decide.
    pub average: i64,
    /// Place by `score` (1 first; equal scores share a place).
    pub rank_sum: usize,
    /// Place by `average`.
    pub rank_average: usize,
}

/// The team race from each player's team and score; players without a team are left out.
/// In team order.
pub fn team_standings(players: impl IntoIterator<Item = (Option<u16>, i64)>) -> Vec<TeamStanding> {
    let mut teams: BTreeMap<u16, (i64, usize)> = BTreeMap::new();
    for (team, score) in players {
        if let Some(team) = team {
            let entry = teams.entry(team).or_default();
            entry.0 += score;
            entry.1 += 1;
        }
    }
    let mut rows: Vec<TeamStanding> = teams
        .into_iter()
        .map(|(team, (score, players))| TeamStanding {
            team,
            score,
            players,
            average: rounded_average(score, players),
            rank_sum: 0,
            rank_average: 0,
        })
        .collect();
    let place = |key: &dyn Fn(&TeamStanding) -> i64| -> Vec<usize> {
        rows.iter()
            .map(|row| 1 + rows.iter().filter(|other| key(other) > key(row)).count())
            .collect()
    };
    let by_sum = place(&|r| r.score);
    let by_average = place(&|r| r.average);
    for ((row, sum), average) in rows.iter_mut().zip(by_sum).zip(by_average) {
        row.rank_sum = sum;
        row.rank_average = average;
    }
    rows
}

/// `total / count`, rounded half away from zero; 0 for no count.
fn rounded_average(total: i64, count: usize) -> i64 {
    let Ok(count) = i64::try_from(count) else {
        return 0;
    };
    if count == 0 {
        return 0;
    }
    (2 * total + count * total.signum()) / (2 * count)
}

/// Ranks scores from high to low with competition ranking (1, 2, 2, 4).
pub fn competition_ranks(sorted_scores: &[i64]) -> Vec<usize> {
    let mut ranks = Vec::with_capacity(sorted_scores.len());
    for (index, score) in sorted_scores.iter().enumerate() {
        let rank = if index > 0 && sorted_scores[index - 1] == *score {
            ranks[index - 1]
        } else {
            index + 1
        };
        ranks.push(rank);
    }
    ranks
}

/// What an answer refers to; see [`ActivityKind::refers_to`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference {
    /// The slot that must be filled in the same round.
    pub slot: String,
    /// Filled by the answering participant themself (withdrawing their own question), not
    /// by anyone.
    pub own: bool,
    /// The error when it is not.
    pub missing: Invalid,
}

/// A validated answer, ready to store and to count.
#[derive(Clone)]
pub struct CheckedAnswer {
    /// When it could first be given, if not at the round's opening
    /// ([`ActivityKind::answerable_since`]).
    pub answerable_since: Option<DateTime<Utc>>,
    /// Which slot it fills.
    pub slot: String,
    /// What must exist for it to count.
    pub refers_to: Option<Reference>,
    /// Its normalised JSON, as stored.
    pub json: String,
    /// The typed value the tally uses.
    pub value: AnyAnswer,
}

/// A kind bound to one activity's parsed configuration and state: what the hot path uses.
pub trait Prepared: Send + Sync {
    /// The kind's name.
    fn kind(&self) -> &'static str;
    /// Whether answers are final.
    fn final_answers(&self) -> bool;
    /// Validates and normalises one answer.
    fn check_answer(
        &self,
        answer: Value,
        context: &AnswerContext<'_>,
    ) -> Result<CheckedAnswer, Invalid>;
    /// Rebuilds a stored answer (when loading from the database).
    fn decode_stored(&self, json: &str) -> Option<AnyAnswer>;
    /// Folds the answers (held in their kind's type) into results.
    fn tally(&self, entries: &[Entry<'_, AnyAnswer>]) -> AnyResults;
    /// What `viewer` may see of results this binding folded.
    fn view(&self, results: &AnyResults, viewer: Viewer) -> Option<Value>;
    /// The configuration as a participant sees it.
    fn participant_config(&self) -> Value;
    /// The state of the next round, given this round's results.
    fn next_round(&self, results: &AnyResults, round: i32) -> Value;
    /// The keyed lists of the results ([`ActivityKind::LISTS`]).
    fn lists(&self) -> &'static [(&'static str, &'static str)];
    /// Every entry of one keyed list, for the organizer ([`ActivityKind::list`]).
    fn list(&self, results: &AnyResults, name: &str) -> Option<Vec<Value>>;
    /// Whether participants' views are their own ([`ActivityKind::PERSONAL_VIEW`]).
    fn personal(&self) -> bool;
    /// Whether it can be taken alone ([`ActivityKind::SELF_PACED`]).
    fn self_paced(&self) -> bool;
    /// Its steps in a self-paced session ([`ActivityKind::paced_steps`]).
    fn paced_steps(&self) -> usize;
    /// Validates and normalises one answer in a self-paced session, against the state the
    /// participant is in on the answer's step; `seen` tells when they first saw a step
    /// (`None`: never, and the answer is refused). The time to answer counts from then.
    fn check_paced_answer(
        &self,
        answer: Value,
        context: &AnswerContext<'_>,
        seen: &dyn Fn(usize) -> Option<DateTime<Utc>>,
    ) -> Result<CheckedAnswer, Invalid>;
    /// A participant's step of a self-paced course, first seen at `seen`, given their own
    /// answers `mine`: the configuration as they see it, and their own results where the
    /// kind shows them ([`ActivityKind::paced_feedback`]).
    fn paced_view(
        &self,
        step: usize,
        seen: DateTime<Utc>,
        mine: &[Entry<'_, AnyAnswer>],
        now: DateTime<Utc>,
    ) -> PacedView;
}

/// One participant's step of a self-paced course ([`Prepared::paced_view`]).
#[derive(Debug, Clone, PartialEq)]
pub struct PacedView {
    /// The configuration as they see it on the step.
    pub config: Value,
    /// Their own results on it, if the kind shows them.
    pub own: Option<Value>,
}

/// A file that could not be read into a configuration, and where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct ImportError {
    /// Where in the file (`line 3, column correct`).
    pub field: String,
    /// What is wrong there.
    pub message: String,
}

/// One question the audience asked, for the session report ([`ActivityKind::asked`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Asked {
    /// The question's id within its round.
    pub id: String,
    /// The question.
    pub text: String,
    /// Upvotes.
    pub votes: u64,
    /// `visible`, `pending` or `hidden`.
    pub status: String,
    /// Marked answered.
    pub answered: bool,
    /// When it was asked.
    pub at: Option<String>,
}

/// Why an activity could not be bound to its kind ([`ActivityRegistry::prepare`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PrepareError {
    /// Its kind is not registered.
    #[error("unknown kind `{kind}`")]
    UnknownKind {
        /// The activity's kind.
        kind: String,
        /// What is registered.
        known: Vec<String>,
    },
    /// Its stored configuration or state does not fit its kind.
    #[error("activity {activity}: {message}")]
    Corrupt {
        /// The activity.
        activity: ActivityId,
        /// What does not fit.
        message: String,
    },
}

/// A kind behind JSON, as the registry holds it.
pub trait DynKind: Send + Sync {
    /// The kind's name.
    fn kind(&self) -> &'static str;
    /// A short human name.
    fn name(&self) -> &'static str;
    /// One sentence.
    fn description(&self) -> &'static str;
    /// JSON schema of the configuration.
    fn config_schema(&self) -> Value;
    /// JSON schema of an answer.
    fn answer_schema(&self) -> Value;
    /// Whether results are always hidden until revealed.
    fn hidden_until_reveal(&self) -> bool;
    /// Parses and checks a configuration; returns it normalised.
    fn check_config(&self, config: &Value) -> Result<Value, Invalid>;
    /// Binds the kind to a configuration and state.
    fn prepare(
        &self,
        config: &Value,
        state: &Value,
        revealed: bool,
    ) -> Result<Arc<dyn Prepared>, String>;
    /// Applies a host command; returns the new state.
    fn host_command(
        &self,
        config: &Value,
        state: &Value,
        command: &str,
        args: &Value,
        now: DateTime<Utc>,
    ) -> Result<Value, Invalid>;
    /// A stored answer with the participant's texts removed ([`ActivityKind::redact`]).
    fn redact_answer(&self, answer: &Value) -> Result<Value, String>;
    /// Whether it can be made from a CSV file ([`ActivityKind::CSV_IMPORT`]).
    fn csv_import(&self) -> bool;
    /// A configuration from a CSV file ([`ActivityKind::from_csv`]).
    fn config_from_csv(&self, text: &str) -> Result<Value, ImportError>;
    /// What the audience asked in a round ([`ActivityKind::asked`]).
    fn asked(&self, results: &Value) -> Vec<Asked>;
    /// A stored answer (its JSON) as named columns ([`ActivityKind::export`]); none when
    /// the config, state or answer no longer parse.
    fn export(
        &self,
        config: &Value,
        state: &Value,
        answer: &str,
        at: DateTime<Utc>,
    ) -> Vec<(&'static str, String)>;
}

struct Erased<K>(std::marker::PhantomData<fn() -> K>);

struct Bound<K: ActivityKind> {
    config: K::Config,
    state: K::State,
    revealed: bool,
}

fn parse<T: DeserializeOwned>(value: &Value, what: &str) -> Result<T, String> {
    crate::model::json::deserialize::<T>(value).map_err(|e| format!("invalid {what}: {e}"))
}

/// A value that does not have its type's JSON shape.
fn shape(error: serde_json::Error) -> Invalid {
    Invalid::new(
        "",
        Rule::Shape {
            detail: error.to_string(),
        },
    )
}

fn parse_state<T: DeserializeOwned + Default>(state: &Value) -> Result<T, String> {
    if state.is_null() || state.as_object().is_some_and(serde_json::Map::is_empty) {
        Ok(T::default())
    } else {
        parse(state, "state")
    }
}

impl<K: ActivityKind> DynKind for Erased<K> {
    fn kind(&self) -> &'static str {
        K::KIND
    }

    fn name(&self) -> &'static str {
        K::NAME
    }

    fn description(&self) -> &'static str {
        K::DESCRIPTION
    }

    fn config_schema(&self) -> Value {
        K::config_schema()
    }

    fn answer_schema(&self) -> Value {
        K::answer_schema()
    }

    fn hidden_until_reveal(&self) -> bool {
        K::HIDDEN_UNTIL_REVEAL
    }

    fn redact_answer(&self, answer: &Value) -> Result<Value, String> {
        let typed: K::Answer = parse(answer, "answer")?;
        serde_json::to_value(K::redact(typed)).map_err(|e| e.to_string())
    }

    fn csv_import(&self) -> bool {
        K::CSV_IMPORT
    }

    fn config_from_csv(&self, text: &str) -> Result<Value, ImportError> {
        K::from_csv(text)
    }

    fn asked(&self, results: &Value) -> Vec<Asked> {
        K::asked(results)
    }

    fn export(
        &self,
        config: &Value,
        state: &Value,
        answer: &str,
        at: DateTime<Utc>,
    ) -> Vec<(&'static str, String)> {
        let (Ok(config), Ok(state)) = (K::Config::deserialize(config), parse_state(state)) else {
            return Vec::new();
        };
        serde_json::from_str::<K::Answer>(answer)
            .map(|answer| K::export(&config, &state, &answer, at))
            .unwrap_or_default()
    }

    fn check_config(&self, config: &Value) -> Result<Value, Invalid> {
        let typed: K::Config = K::Config::deserialize(config).map_err(shape)?;
        K::check_config(&typed)?;
        Ok(to_json(&typed))
    }

    fn prepare(
        &self,
        config: &Value,
        state: &Value,
        revealed: bool,
    ) -> Result<Arc<dyn Prepared>, String> {
        Ok(Arc::new(Bound::<K> {
            config: parse(config, "config")?,
            state: parse_state(state)?,
            revealed,
        }))
    }

    fn host_command(
        &self,
        config: &Value,
        state: &Value,
        command: &str,
        args: &Value,
        now: DateTime<Utc>,
    ) -> Result<Value, Invalid> {
        let stored = |message: String| Invalid::new("", Rule::Shape { detail: message });
        let config: K::Config = parse(config, "config").map_err(stored)?;
        let mut typed: K::State = parse_state(state).map_err(stored)?;
        K::host_command(&config, &mut typed, command, args, now)?;
        Ok(to_json(&typed))
    }
}

/// The entries whose answers are `K`'s, typed; others (none, as answers are decoded by the
/// same binding) are left out.
fn typed_entries<'a, K: ActivityKind>(
    entries: &[Entry<'a, AnyAnswer>],
) -> Vec<Entry<'a, K::Answer>> {
    entries
        .iter()
        .filter_map(|e| {
            Some(Entry {
                participant: e.participant,
                nickname: e.nickname,
                slot: e.slot,
                at: e.at,
                since: e.since,
                team: e.team,
                answer: e.answer.downcast_ref::<K::Answer>()?,
            })
        })
        .collect()
}

impl<K: ActivityKind> Bound<K> {
    fn results<'a>(&self, results: &'a AnyResults) -> Option<&'a K::Results> {
        results.downcast_ref::<K::Results>()
    }

    /// Checks a parsed answer against `state`; `seen` is when a self-paced participant
    /// first saw its step, which its time to answer counts from unless the kind says later.
    fn checked(
        &self,
        typed: K::Answer,
        state: &K::State,
        context: &AnswerContext<'_>,
        seen: Option<DateTime<Utc>>,
    ) -> Result<CheckedAnswer, Invalid> {
        let typed = K::check_answer(&self.config, state, typed, context)?;
        let slot = K::slot(&self.config, &typed);
        let refers_to = K::refers_to(&self.config, &typed);
        let answerable_since = K::answerable_since(&self.config, state, &typed).or(seen);
        let json = serde_json::to_string(&typed).map_err(shape)?;
        Ok(CheckedAnswer {
            answerable_since,
            slot,
            refers_to,
            json,
            value: Arc::new(typed),
        })
    }
}

impl<K: ActivityKind> Prepared for Bound<K> {
    fn kind(&self) -> &'static str {
        K::KIND
    }

    fn final_answers(&self) -> bool {
        K::FINAL_ANSWERS
    }

    fn check_answer(
        &self,
        answer: Value,
        context: &AnswerContext<'_>,
    ) -> Result<CheckedAnswer, Invalid> {
        let typed: K::Answer = crate::model::json::deserialize(&answer).map_err(shape)?;
        self.checked(typed, &self.state, context, None)
    }

    fn self_paced(&self) -> bool {
        K::SELF_PACED
    }

    fn paced_steps(&self) -> usize {
        K::paced_steps(&self.config)
    }

    fn check_paced_answer(
        &self,
        answer: Value,
        context: &AnswerContext<'_>,
        seen: &dyn Fn(usize) -> Option<DateTime<Utc>>,
    ) -> Result<CheckedAnswer, Invalid> {
        let typed: K::Answer = crate::model::json::deserialize(&answer).map_err(shape)?;
        let step = K::paced_step(&self.config, &typed);
        // A step nobody showed this participant is not theirs to answer yet.
        let seen = seen(step).ok_or_else(|| Invalid::new("", Rule::NotCurrent))?;
        match K::paced_state(&self.config, &self.state, step, seen) {
            Some(state) => self.checked(typed, &state, context, Some(seen)),
            None => self.checked(typed, &self.state, context, Some(seen)),
        }
    }

    fn paced_view(
        &self,
        step: usize,
        seen: DateTime<Utc>,
        mine: &[Entry<'_, AnyAnswer>],
        now: DateTime<Utc>,
    ) -> PacedView {
        let state = K::paced_state(&self.config, &self.state, step, seen);
        let state = state.as_ref().unwrap_or(&self.state);
        let mine = typed_entries::<K>(mine);
        match K::paced_feedback(&self.config, state, &mine, now) {
            Some((shown, own)) => PacedView {
                config: K::participant_config(&self.config, &shown),
                own: Some(own),
            },
            None => PacedView {
                config: K::participant_config(&self.config, state),
                own: None,
            },
        }
    }

    fn decode_stored(&self, json: &str) -> Option<AnyAnswer> {
        let typed: K::Answer = serde_json::from_str(json).ok()?;
        Some(Arc::new(typed))
    }

    fn tally(&self, entries: &[Entry<'_, AnyAnswer>]) -> AnyResults {
        Arc::new(K::tally(
            &self.config,
            &self.state,
            &typed_entries::<K>(entries),
        ))
    }

    fn view(&self, results: &AnyResults, viewer: Viewer) -> Option<Value> {
        K::view(
            &self.config,
            &self.state,
            self.results(results)?,
            viewer,
            self.revealed,
        )
    }

    fn lists(&self) -> &'static [(&'static str, &'static str)] {
        K::LISTS
    }

    fn list(&self, results: &AnyResults, name: &str) -> Option<Vec<Value>> {
        K::list(&self.config, &self.state, self.results(results)?, name)
    }

    fn personal(&self) -> bool {
        K::PERSONAL_VIEW
    }

    fn participant_config(&self) -> Value {
        K::participant_config(&self.config, &self.state)
    }

    fn next_round(&self, results: &AnyResults, round: i32) -> Value {
        let state = match self.results(results) {
            Some(results) => K::next_round(&self.config, &self.state, results, round),
            None => K::State::default(),
        };
        to_json(&state)
    }
}

/// Every known kind, by name.
#[derive(Default)]
pub struct ActivityRegistry {
    kinds: BTreeMap<&'static str, Box<dyn DynKind>>,
}

impl ActivityRegistry {
    /// The registry with every kind this build ships.
    pub fn with_builtin_kinds() -> Self {
        let mut registry = Self::default();
        registry.register::<self::poll::Poll>();
        registry.register::<self::rating::Rating>();
        registry.register::<self::scales::Scales>();
        registry.register::<self::ranking::Ranking>();
        registry.register::<self::points::Points>();
        registry.register::<self::word_cloud::WordCloud>();
        registry.register::<self::open_text::OpenText>();
        registry.register::<self::qna::Qna>();
        registry.register::<self::poker::Poker>();
        registry.register::<self::quiz::Quiz>();
        registry.register::<self::buzzer::Buzzer>();
        #[cfg(feature = "toy-kind")]
        registry.register::<self::toy::Toy>();
        registry
    }

    /// Adds a kind.
    pub fn register<K: ActivityKind>(&mut self) {
        self.kinds
            .insert(K::KIND, Box::new(Erased::<K>(std::marker::PhantomData)));
    }

    /// The kind called `name`.
    pub fn get(&self, name: &str) -> Option<&dyn DynKind> {
        self.kinds.get(name).map(AsRef::as_ref)
    }

    /// Every kind, by name.
    pub fn iter(&self) -> impl Iterator<Item = &dyn DynKind> {
        self.kinds.values().map(AsRef::as_ref)
    }

    /// The kind bound to an activity's configuration and current state.
    pub fn prepare(&self, activity: &Activity) -> Result<Arc<dyn Prepared>, PrepareError> {
        let kind = self
            .get(&activity.kind)
            .ok_or_else(|| PrepareError::UnknownKind {
                kind: activity.kind.clone(),
                known: self.iter().map(|k| k.kind().to_owned()).collect(),
            })?;
        kind.prepare(
            &activity.config,
            &activity.kind_state,
            activity.results_visible_to_participants(),
        )
        .map_err(|message| PrepareError::Corrupt {
            activity: activity.id,
            message,
        })
    }

    /// Every kind's name, space-separated: the pages load the browser module
    /// `assets/js/kinds/<name>.js` of each.
    pub fn names(&self) -> String {
        self.kinds.keys().copied().collect::<Vec<_>>().join(" ")
    }
}

/// Helpers for kinds' unit tests.
#[cfg(test)]
pub(crate) mod testing {
    use super::{ActivityKind, AnswerContext, Entry};
    use crate::ids::ParticipantId;
    use crate::moderation::Moderator;

    static OFF: Moderator = Moderator::OFF;

    /// A context for one participant, now, unrevealed, without moderation.
    pub fn context() -> AnswerContext<'static> {
        AnswerContext {
            participant: ParticipantId::new(),
            received: chrono::Utc::now(),
            revealed: false,
            moderator: &OFF,
            own_slots: &Vec::new,
        }
    }

    /// Entries for answers by distinct participants `P1`, `P2`, … received 1 ms apart.
    pub fn entries<'a, A>(answers: &[&'a A]) -> Vec<Entry<'a, A>> {
        const NAMES: [&str; 8] = ["P1", "P2", "P3", "P4", "P5", "P6", "P7", "P8"];
        let start = chrono::Utc::now();
        answers
            .iter()
            .enumerate()
            .map(|(i, answer)| Entry {
                participant: ParticipantId::new(),
                nickname: NAMES[i % NAMES.len()],
                slot: "",
                at: start + chrono::Duration::milliseconds(i64::try_from(i).unwrap_or(0)),
                since: None,
                team: None,
                answer: *answer,
            })
            .collect()
    }

    /// Folds answers by distinct participants with the kind's default state.
    pub fn fold<K: ActivityKind>(config: &K::Config, answers: &[&K::Answer]) -> K::Results {
        K::tally(config, &K::State::default(), &entries(answers))
    }
}
