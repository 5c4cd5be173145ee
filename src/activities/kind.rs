//! The plug-in point for activity kinds: [`ActivityKind`] (one implementation per kind) and
//! [`ActivityRegistry`], which type-erases kinds behind JSON so the rest of the code never
//! matches on a kind's name. Adding a kind is one module plus one `register` line.

use std::any::Any;
use std::collections::BTreeMap;
use std::sync::Arc;

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

/// An answer held in memory in its kind's own type.
pub type AnyAnswer = Arc<dyn Any + Send + Sync>;

/// One kind of activity: a poll, a word cloud, an open question, ...
pub trait ActivityKind: Send + Sync + 'static {
    /// Stored in `activities.kind` and sent as `"kind"` in JSON.
    const KIND: &'static str;
    /// A short human name.
    const NAME: &'static str;
    /// One sentence on what it is for.
    const DESCRIPTION: &'static str;
    /// Chosen by the organizer.
    type Config: Serialize + DeserializeOwned + Send + Sync + 'static;
    /// Changed by host commands while the activity runs (use `()`-like empty structs when
    /// the kind has none).
    type State: Serialize + DeserializeOwned + Default + Send + Sync + 'static;
    /// Sent by one participant.
    type Answer: Serialize + DeserializeOwned + Send + Sync + 'static;
    /// Folded from every answer; shown to the organizer and, when visible, to others.
    type Results: Serialize;

    /// JSON schema of the configuration, for clients and generated forms.
    fn config_schema() -> Value;
    /// JSON schema of one answer.
    fn answer_schema() -> Value;
    /// Rules serde cannot express (lengths, cross-field limits).
    fn check_config(config: &Self::Config) -> Result<(), String>;
    /// Checks one answer against the configuration and state, and normalises it.
    fn check_answer(
        config: &Self::Config,
        state: &Self::State,
        answer: Self::Answer,
    ) -> Result<Self::Answer, String>;
    /// The slot an answer fills. A participant has one answer per slot per round; a new
    /// answer in the same slot replaces the old one (a changed vote).
    fn slot(config: &Self::Config, answer: &Self::Answer) -> String;
    /// Folds every current answer of a round into results.
    fn tally(config: &Self::Config, answers: &[&Self::Answer]) -> Self::Results;
    /// What a participant's phone gets of the configuration (for example without the
    /// correct answers of a quiz).
    fn participant_config(config: &Self::Config) -> Value {
        serde_json::to_value(config).unwrap_or(Value::Null)
    }
    /// Applies a kind-specific host command (for example a poll's `lock`) to the state.
    fn host_command(
        config: &Self::Config,
        state: &mut Self::State,
        command: &str,
        args: &Value,
    ) -> Result<(), String> {
        let _ = (config, state, args);
        Err(format!("`{command}` is not a command of {}", Self::KIND))
    }
}

/// A validated answer, ready to store and to count.
#[derive(Clone)]
pub struct CheckedAnswer {
    /// Which slot it fills.
    pub slot: String,
    /// Its normalised JSON, as stored.
    pub json: String,
    /// The typed value the tally uses.
    pub value: AnyAnswer,
}

/// A kind bound to one activity's parsed configuration and state: what the hot path uses.
pub trait Prepared: Send + Sync {
    /// The kind's name.
    fn kind(&self) -> &'static str;
    /// Validates and normalises one answer.
    fn check_answer(&self, answer: Value) -> Result<CheckedAnswer, String>;
    /// Rebuilds a stored answer (when loading from the database).
    fn decode_stored(&self, json: &str) -> Option<AnyAnswer>;
    /// Folds the answers into results JSON.
    fn tally(&self, answers: &mut dyn Iterator<Item = &AnyAnswer>) -> Value;
    /// The configuration as a participant sees it.
    fn participant_config(&self) -> Value;
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
    /// Parses and checks a configuration; returns it normalised.
    fn check_config(&self, config: &Value) -> Result<Value, String>;
    /// Binds the kind to a configuration and state.
    fn prepare(&self, config: &Value, state: &Value) -> Result<Arc<dyn Prepared>, String>;
    /// Applies a host command; returns the new state.
    fn host_command(
        &self,
        config: &Value,
        state: &Value,
        command: &str,
        args: &Value,
    ) -> Result<Value, String>;
}

struct Erased<K>(std::marker::PhantomData<fn() -> K>);

struct Bound<K: ActivityKind> {
    config: K::Config,
    state: K::State,
}

fn parse<T: DeserializeOwned>(value: &Value, what: &str) -> Result<T, String> {
    T::deserialize(value).map_err(|e| format!("invalid {what}: {e}"))
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

    fn check_config(&self, config: &Value) -> Result<Value, String> {
        let typed: K::Config = parse(config, "config")?;
        K::check_config(&typed)?;
        serde_json::to_value(&typed).map_err(|e| e.to_string())
    }

    fn prepare(&self, config: &Value, state: &Value) -> Result<Arc<dyn Prepared>, String> {
        let config: K::Config = parse(config, "config")?;
        let state: K::State =
            if state.is_null() || state.as_object().is_some_and(serde_json::Map::is_empty) {
                K::State::default()
            } else {
                parse(state, "state")?
            };
        Ok(Arc::new(Bound::<K> { config, state }))
    }

    fn host_command(
        &self,
        config: &Value,
        state: &Value,
        command: &str,
        args: &Value,
    ) -> Result<Value, String> {
        let config: K::Config = parse(config, "config")?;
        let mut typed: K::State =
            if state.is_null() || state.as_object().is_some_and(serde_json::Map::is_empty) {
                K::State::default()
            } else {
                parse(state, "state")?
            };
        K::host_command(&config, &mut typed, command, args)?;
        serde_json::to_value(&typed).map_err(|e| e.to_string())
    }
}

impl<K: ActivityKind> Prepared for Bound<K> {
    fn kind(&self) -> &'static str {
        K::KIND
    }

    fn check_answer(&self, answer: Value) -> Result<CheckedAnswer, String> {
        let typed: K::Answer =
            serde_json::from_value(answer).map_err(|e| format!("invalid answer: {e}"))?;
        let typed = K::check_answer(&self.config, &self.state, typed)?;
        let slot = K::slot(&self.config, &typed);
        let json = serde_json::to_string(&typed).map_err(|e| e.to_string())?;
        Ok(CheckedAnswer {
            slot,
            json,
            value: Arc::new(typed),
        })
    }

    fn decode_stored(&self, json: &str) -> Option<AnyAnswer> {
        let typed: K::Answer = serde_json::from_str(json).ok()?;
        Some(Arc::new(typed))
    }

    fn tally(&self, answers: &mut dyn Iterator<Item = &AnyAnswer>) -> Value {
        let typed: Vec<&K::Answer> = answers
            .filter_map(|a| a.downcast_ref::<K::Answer>())
            .collect();
        serde_json::to_value(K::tally(&self.config, &typed)).unwrap_or(Value::Null)
    }

    fn participant_config(&self) -> Value {
        K::participant_config(&self.config)
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
        registry.register::<super::poll::Poll>();
        registry.register::<super::rating::Rating>();
        registry.register::<super::word_cloud::WordCloud>();
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
}
