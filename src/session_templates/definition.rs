//! The session definition: the JSON document a template version stores and that sessions
//! are exported to and imported from (`docs/templates.md`, decision 0009). It holds a
//! session's title, description, capacity and settings, its activities in order, each with a
//! stable `key`, and the variants (`de-DE`, a regional edition) that override texts and
//! numbers but keep the structure.
//!
//! Every check runs through the same rules as creating a session and its activities by
//! hand, and every error names the field at fault: `activities[2].config`,
//! `variants.de-DE.activities.lunch.config.options[1]`.

use std::collections::{BTreeMap, HashSet};

use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use crate::activities::{self, ActivityError, NewActivity};
use crate::ids::SessionId;
use crate::kinds::ActivityRegistry;
use crate::model::activity::{Activity, ResultsVisibility};
use crate::model::invalid::{Invalid, Rule};
use crate::model::session::{self, Pace, Session, SessionSettings, Teams};

/// The value of `format` in every definition.
pub const FORMAT: &str = "conflicto.session-definition";
/// The only `format_version` this release reads and writes.
pub const FORMAT_VERSION: u32 = 1;
/// Most activities in one definition.
pub const ACTIVITIES_MAX: usize = 200;
/// Most variants in one definition.
pub const VARIANTS_MAX: usize = 50;
/// Longest activity key or variant name.
pub const NAME_MAX: usize = 40;
/// Most changed fields listed for one item of a change log.
const CHANGED_FIELDS_MAX: usize = 20;

/// A session definition (format version 1).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Definition {
    /// Always `conflicto.session-definition`.
    #[schema(pattern = "^conflicto\\.session-definition$")]
    pub format: String,
    /// Always 1.
    #[schema(minimum = 1, maximum = 1)]
    pub format_version: u32,
    /// The session's title, 1–200 characters.
    #[schema(min_length = 1, max_length = 200)]
    pub title: String,
    /// Up to 2000 characters.
    #[serde(default)]
    #[schema(max_length = 2000)]
    pub description: String,
    /// Capacity; the server's default when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_participants: Option<u32>,
    /// The session's switches; the defaults when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub settings: Option<SessionSettings>,
    /// Live (the default when absent) or self-paced. Opening and closing times belong to
    /// one run and are not kept.
    #[serde(default, skip_serializing_if = "Pace::is_live")]
    pub pace: Pace,
    /// Teams for quizzes and buzzers; none when absent.
    #[serde(
        default,
        deserialize_with = "crate::model::json::object",
        skip_serializing_if = "Option::is_none"
    )]
    pub teams: Option<Teams>,
    /// The activities in order, at most 200.
    pub activities: Vec<ActivityDefinition>,
    /// Variants by name (`en-US`, `de-DE`, `bavaria`): overrides of texts and numbers.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub variants: BTreeMap<String, Variant>,
}

/// One activity of a definition.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ActivityDefinition {
    /// Stable within the template (letters, digits, `-`, `_`; at most 40): it tells an
    /// edited activity from a removed and an added one. Made up on import when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// The kind (`poll`, `quiz`, …).
    pub kind: String,
    /// 1–200 characters.
    pub title: String,
    /// The kind's configuration, checked as when creating the activity.
    #[schema(value_type = Object)]
    pub config: Value,
    /// Closes by itself after this many seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_limit_seconds: Option<u32>,
    /// Live or hidden results (the kind's default when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub results_visibility: Option<ResultsVisibility>,
}

impl From<ActivityDefinition> for NewActivity {
    fn from(a: ActivityDefinition) -> Self {
        NewActivity {
            kind: a.kind,
            title: a.title,
            config: a.config,
            time_limit_seconds: a.time_limit_seconds,
            results_visibility: a.results_visibility,
        }
    }
}

/// A variant: the same activities with other texts and numbers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct Variant {
    /// Replaces the session's title.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Replaces the description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Overrides per activity key.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub activities: BTreeMap<String, ActivityOverride>,
}

/// What a variant changes in one activity.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct ActivityOverride {
    /// Replaces the title.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Laid over the configuration: objects name only what they change, lists give every
    /// element. Strings and numbers may change; keys, list lengths, booleans and types may
    /// not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub config: Option<Value>,
    /// Replaces the time limit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_limit_seconds: Option<u32>,
}

/// A definition that is not valid, and where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct DefinitionError {
    /// The path of the field at fault (`activities[2].config`).
    pub field: String,
    /// What is wrong with it.
    pub message: String,
    /// The rule it broke, when a check of a session or an activity refused it (the
    /// definition's own shape errors have none).
    pub rule: Option<Rule>,
}

fn error(field: impl Into<String>, message: impl Into<String>) -> DefinitionError {
    DefinitionError {
        field: field.into(),
        message: message.into(),
        rule: None,
    }
}

/// A rule broken inside the definition, its field as a path.
pub(crate) fn from_invalid(invalid: Invalid) -> DefinitionError {
    DefinitionError {
        message: invalid.rule.english(),
        field: invalid.field,
        rule: Some(invalid.rule),
    }
}

/// Whether `name` may be an activity key or a variant name.
fn check_name(name: &str) -> Result<(), String> {
    let fine = !name.is_empty()
        && name.len() <= NAME_MAX
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if fine {
        Ok(())
    } else {
        Err(format!(
            "`{name}` is not a valid name: use 1–{NAME_MAX} letters, digits, `-` or `_`"
        ))
    }
}

/// A key for an activity that has none, derived from its id so that exporting the same
/// session twice gives the same keys.
fn key_for(id: impl std::fmt::Display, taken: &HashSet<String>) -> String {
    let id = id.to_string().replace('-', "");
    let short = format!("a{}", &id[id.len().saturating_sub(8)..]);
    if taken.contains(&short) {
        format!("a{id}")
    } else {
        short
    }
}

impl Definition {
    /// Reads a definition from JSON, naming the field of the first problem.
    pub fn from_json(mut value: Value) -> Result<Definition, DefinitionError> {
        // JSON Schema's integers include 35.0 (see model::json).
        crate::model::json::integral_numbers(&mut value);
        serde_path_to_error::deserialize(value).map_err(|e| {
            let path = e.path().to_string();
            let field = if path == "." { String::new() } else { path };
            error(field, e.into_inner().to_string())
        })
    }

    /// The session and its activities as a definition, with their keys (made up for
    /// activities that have none). No variants.
    pub fn of_session(session: &Session, activities: &[Activity]) -> Definition {
        let mut taken: HashSet<String> = activities
            .iter()
            .filter_map(|a| a.template_key.clone())
            .collect();
        let activities = activities
            .iter()
            .map(|a| {
                let key = a.template_key.clone().unwrap_or_else(|| {
                    let key = key_for(a.id, &taken);
                    taken.insert(key.clone());
                    key
                });
                ActivityDefinition {
                    key: Some(key),
                    kind: a.kind.clone(),
                    title: a.title.clone(),
                    config: a.config.clone(),
                    time_limit_seconds: a.time_limit_seconds,
                    results_visibility: Some(a.results_visibility),
                }
            })
            .collect();
        Definition {
            format: FORMAT.to_owned(),
            format_version: FORMAT_VERSION,
            title: session.title.clone(),
            description: session.description.clone(),
            max_participants: Some(session.max_participants),
            settings: Some(session.settings.clone()),
            pace: session.pace,
            teams: session.teams.clone(),
            activities,
            variants: BTreeMap::new(),
        }
    }

    /// Checks everything and returns the definition normalised: every activity has a
    /// key, configurations carry their defaults, texts are trimmed. `participant_limit` is
    /// the server's capacity limit.
    pub fn checked(
        mut self,
        registry: &ActivityRegistry,
        participant_limit: u32,
    ) -> Result<Definition, DefinitionError> {
        if self.format != FORMAT {
            return Err(error("format", format!("must be \"{FORMAT}\"")));
        }
        if self.format_version != FORMAT_VERSION {
            return Err(error(
                "format_version",
                format!("this release reads version {FORMAT_VERSION}"),
            ));
        }
        self.title = session::parse_title(&self.title).map_err(from_invalid)?;
        self.description = session::parse_description(&self.description).map_err(from_invalid)?;
        if let Some(max) = self.max_participants {
            session::parse_max_participants(max, participant_limit).map_err(from_invalid)?;
        }
        if let Some(settings) = self.settings.take() {
            self.settings =
                Some(crate::sessions::checked_settings(settings).map_err(from_invalid)?);
        }
        if let Some(teams) = self.teams.take() {
            self.teams = session::parse_teams(teams).map_err(from_invalid)?;
        }
        if self.activities.len() > ACTIVITIES_MAX {
            return Err(error(
                "activities",
                format!("at most {ACTIVITIES_MAX} activities"),
            ));
        }
        let mut keys: HashSet<String> = HashSet::new();
        for (index, activity) in self.activities.iter().enumerate() {
            if let Some(key) = &activity.key {
                check_name(key).map_err(|m| error(format!("activities[{index}].key"), m))?;
                if !keys.insert(key.clone()) {
                    return Err(error(
                        format!("activities[{index}].key"),
                        format!("`{key}` is used by an earlier activity"),
                    ));
                }
            }
        }
        for index in 0..self.activities.len() {
            let checked = check_activity(registry, &self.activities[index])
                .map_err(|e| at(&format!("activities[{index}]"), e))?;
            let activity = &mut self.activities[index];
            if activity.key.is_none() {
                let key = key_for(checked.id, &keys);
                keys.insert(key.clone());
                activity.key = Some(key);
            }
            activity.title = checked.title;
            activity.config = checked.config;
            activity.results_visibility = Some(checked.results_visibility);
        }
        if self.variants.len() > VARIANTS_MAX {
            return Err(error(
                "variants",
                format!("at most {VARIANTS_MAX} variants"),
            ));
        }
        let names: Vec<String> = self.variants.keys().cloned().collect();
        for name in names {
            check_name(&name).map_err(|m| error(format!("variants.{name}"), m))?;
            let variant = self.variants[&name].clone();
            let checked = self
                .check_variant(registry, &variant)
                .map_err(|e| at(&format!("variants.{name}"), e))?;
            self.variants.insert(name, checked);
        }
        Ok(self)
    }

    /// The keys of the activities, in order (every activity has one once checked).
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.activities
            .iter()
            .map(|a| a.key.as_deref().unwrap_or_default())
    }

    fn activity_by_key(&self, key: &str) -> Option<&ActivityDefinition> {
        self.activities
            .iter()
            .find(|a| a.key.as_deref() == Some(key))
    }

    /// Checks a variant against this (checked) definition and returns it normalised.
    fn check_variant(
        &self,
        registry: &ActivityRegistry,
        variant: &Variant,
    ) -> Result<Variant, DefinitionError> {
        let mut checked = variant.clone();
        if let Some(title) = &variant.title {
            checked.title = Some(session::parse_title(title).map_err(from_invalid)?);
        }
        if let Some(description) = &variant.description {
            checked.description =
                Some(session::parse_description(description).map_err(from_invalid)?);
        }
        for (key, change) in &variant.activities {
            let field = format!("activities.{key}");
            let base = self.activity_by_key(key).ok_or_else(|| {
                error(
                    &field,
                    format!("there is no activity with the key `{key}` to override"),
                )
            })?;
            let applied = apply_override(base, change).map_err(|e| at(&field, e))?;
            let result = check_activity(registry, &applied).map_err(|e| at(&field, e))?;
            let entry = checked
                .activities
                .get_mut(key)
                .expect("the key came from this map");
            if change.title.is_some() {
                entry.title = Some(result.title);
            }
        }
        Ok(checked)
    }

    /// The definition a session is made from: the base, or the base with a variant's
    /// overrides applied. Variants are not carried into the result.
    pub fn resolved(&self, variant: Option<&str>) -> Result<Definition, DefinitionError> {
        let mut resolved = self.clone();
        resolved.variants.clear();
        let Some(name) = variant else {
            return Ok(resolved);
        };
        let variant = self.variants.get(name).ok_or_else(|| {
            error(
                "variant",
                format!(
                    "there is no variant `{name}`; there are: {}",
                    self.variants.keys().cloned().collect::<Vec<_>>().join(", ")
                ),
            )
        })?;
        if let Some(title) = &variant.title {
            resolved.title.clone_from(title);
        }
        if let Some(description) = &variant.description {
            resolved.description.clone_from(description);
        }
        for activity in &mut resolved.activities {
            let key = activity.key.clone().unwrap_or_default();
            if let Some(change) = variant.activities.get(&key) {
                *activity = apply_override(activity, change)
                    .map_err(|e| at(&format!("variants.{name}.activities.{key}"), e))?;
            }
        }
        Ok(resolved)
    }

    /// This definition's variants, keeping only the overrides that still fit `self`'s
    /// activities (used when a new version is saved from a session: the texts of its
    /// variants carry over where the activity is still there and has the same shape).
    pub fn with_variants_of(
        mut self,
        previous: &Definition,
        registry: &ActivityRegistry,
    ) -> Definition {
        for (name, variant) in &previous.variants {
            let mut kept = variant.clone();
            kept.activities.retain(|key, change| {
                self.activity_by_key(key).is_some_and(|base| {
                    apply_override(base, change)
                        .ok()
                        .is_some_and(|applied| check_activity(registry, &applied).is_ok())
                })
            });
            self.variants.insert(name.clone(), kept);
        }
        self
    }
}

/// Prefixes an error's field with `prefix`.
pub(crate) fn at(prefix: &str, mut e: DefinitionError) -> DefinitionError {
    e.field = if e.field.is_empty() {
        prefix.to_owned()
    } else if e.field.starts_with('[') {
        format!("{prefix}{}", e.field)
    } else {
        format!("{prefix}.{}", e.field)
    };
    e
}

/// Runs an activity definition through the rules of creating an activity; returns the
/// activity it would create (normalised title, config and visibility).
fn check_activity(
    registry: &ActivityRegistry,
    definition: &ActivityDefinition,
) -> Result<Activity, DefinitionError> {
    activities::draft(registry, SessionId::new(), definition.clone().into()).map_err(|e| match e {
        ActivityError::Invalid(invalid) => from_invalid(invalid),
        ActivityError::UnknownKind { kind, known } => error(
            "kind",
            format!("unknown kind `{kind}`; known: {}", known.join(", ")),
        ),
        other => error("", other.to_string()),
    })
}

/// The activity with a variant's override applied.
fn apply_override(
    base: &ActivityDefinition,
    change: &ActivityOverride,
) -> Result<ActivityDefinition, DefinitionError> {
    let mut applied = base.clone();
    if let Some(title) = &change.title {
        applied.title.clone_from(title);
    }
    if let Some(config) = &change.config {
        applied.config = overlay(&base.config, config).map_err(|e| at("config", e))?;
    }
    if change.time_limit_seconds.is_some() {
        applied.time_limit_seconds = change.time_limit_seconds;
    }
    Ok(applied)
}

/// `patch` laid over `base`, keeping `base`'s shape: objects name only keys `base` has,
/// lists have `base`'s length, strings and numbers may change, nothing else may.
fn overlay(base: &Value, patch: &Value) -> Result<Value, DefinitionError> {
    match (base, patch) {
        (Value::Object(base), Value::Object(patch)) => {
            let mut out = base.clone();
            for (key, value) in patch {
                let inner = base.get(key).ok_or_else(|| {
                    error(
                        key.as_str(),
                        "not in the base configuration: a variant changes texts and numbers, not the structure",
                    )
                })?;
                out.insert(key.clone(), overlay(inner, value).map_err(|e| at(key, e))?);
            }
            Ok(Value::Object(out))
        }
        (Value::Array(base), Value::Array(patch)) => {
            if base.len() != patch.len() {
                return Err(error(
                    "",
                    format!(
                        "has {} elements in the base, so the variant must give {} (it gave {})",
                        base.len(),
                        base.len(),
                        patch.len()
                    ),
                ));
            }
            base.iter()
                .zip(patch)
                .enumerate()
                .map(|(index, (b, p))| overlay(b, p).map_err(|e| at(&format!("[{index}]"), e)))
                .collect::<Result<Vec<_>, _>>()
                .map(Value::Array)
        }
        (Value::String(_), Value::String(_)) | (Value::Number(_), Value::Number(_)) => {
            Ok(patch.clone())
        }
        (Value::Bool(b), Value::Bool(p)) if b == p => Ok(patch.clone()),
        (Value::Null, Value::Null) => Ok(Value::Null),
        (Value::Bool(_), Value::Bool(_)) => Err(error(
            "",
            "a variant cannot change a switch; only texts and numbers",
        )),
        _ => Err(error(
            "",
            format!("must be {} as in the base configuration", type_name(base)),
        )),
    }
}

fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

/// What a change did to one part of a definition.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ChangeKind {
    /// It is new in the later version.
    Added,
    /// It is gone from the later version.
    Removed,
    /// It is in both, with different fields.
    Edited,
}

/// What a change is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ChangeTarget {
    /// The session's own fields (title, description, capacity, settings).
    Session,
    /// One activity, by key.
    Activity,
    /// One variant, by name.
    Variant,
}

/// One entry of a change log between two versions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Change {
    /// Session, activity or variant.
    pub target: ChangeTarget,
    /// Added, removed or edited.
    pub change: ChangeKind,
    /// The activity's key or the variant's name; absent for the session.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// The activity's title (in the later version when it is in both).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// For an edit: the fields that differ (`title`, `position`, `config.options[1]`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<String>,
}

/// What changed from `old` to `new`: session fields, then activities in `new`'s order
/// (removed ones after), then variants.
pub fn changes(old: &Definition, new: &Definition) -> Vec<Change> {
    let mut log = Vec::new();
    let mut fields = Vec::new();
    for (name, a, b) in [
        ("title", json(&old.title), json(&new.title)),
        (
            "description",
            json(&old.description),
            json(&new.description),
        ),
        (
            "max_participants",
            json(&old.max_participants),
            json(&new.max_participants),
        ),
        ("settings", json(&old.settings), json(&new.settings)),
        ("pace", json(&old.pace), json(&new.pace)),
        ("teams", json(&old.teams), json(&new.teams)),
    ] {
        differences(&a, &b, name, &mut fields);
    }
    if !fields.is_empty() {
        log.push(Change {
            target: ChangeTarget::Session,
            change: ChangeKind::Edited,
            key: None,
            title: None,
            fields,
        });
    }

    let old_keys: Vec<&str> = old.keys().collect();
    let new_keys: Vec<&str> = new.keys().collect();
    // Among the activities both versions have, the longest run that kept its order stayed
    // put; the others moved (moving one activity to the front moves only that one).
    let common_old: Vec<&str> = old_keys
        .iter()
        .copied()
        .filter(|k| new_keys.contains(k))
        .collect();
    let common_new: Vec<&str> = new_keys
        .iter()
        .copied()
        .filter(|k| old_keys.contains(k))
        .collect();
    let stayed = longest_common_subsequence(&common_old, &common_new);
    for activity in &new.activities {
        let key = activity.key.clone().unwrap_or_default();
        let Some(before) = old.activity_by_key(&key) else {
            log.push(Change {
                target: ChangeTarget::Activity,
                change: ChangeKind::Added,
                key: Some(key),
                title: Some(activity.title.clone()),
                fields: Vec::new(),
            });
            continue;
        };
        let mut fields = Vec::new();
        differences(&json(before), &json(activity), "", &mut fields);
        if !stayed.contains(key.as_str()) {
            fields.insert(0, "position".to_owned());
        }
        if !fields.is_empty() {
            log.push(Change {
                target: ChangeTarget::Activity,
                change: ChangeKind::Edited,
                key: Some(key),
                title: Some(activity.title.clone()),
                fields,
            });
        }
    }
    for activity in &old.activities {
        let key = activity.key.clone().unwrap_or_default();
        if new.activity_by_key(&key).is_none() {
            log.push(Change {
                target: ChangeTarget::Activity,
                change: ChangeKind::Removed,
                key: Some(key),
                title: Some(activity.title.clone()),
                fields: Vec::new(),
            });
        }
    }

    let names: std::collections::BTreeSet<&String> =
        old.variants.keys().chain(new.variants.keys()).collect();
    for name in names {
        let (change, fields) = match (old.variants.get(name), new.variants.get(name)) {
            (None, Some(_)) => (ChangeKind::Added, Vec::new()),
            (Some(_), None) => (ChangeKind::Removed, Vec::new()),
            (Some(a), Some(b)) => {
                let mut fields = Vec::new();
                differences(&json(a), &json(b), "", &mut fields);
                if fields.is_empty() {
                    continue;
                }
                (ChangeKind::Edited, fields)
            }
            (None, None) => continue,
        };
        log.push(Change {
            target: ChangeTarget::Variant,
            change,
            key: Some(name.clone()),
            title: None,
            fields,
        });
    }
    log
}

/// The items of the longest sequence `a` and `b` share in order (both hold the same
/// distinct items; at most 200, so the quadratic table is small).
fn longest_common_subsequence<'a>(a: &[&'a str], b: &[&'a str]) -> HashSet<&'a str> {
    let (n, m) = (a.len(), b.len());
    let mut table = vec![vec![0u16; m + 1]; n + 1];
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            table[i][j] = if a[i] == b[j] {
                table[i + 1][j + 1] + 1
            } else {
                table[i + 1][j].max(table[i][j + 1])
            };
        }
    }
    let mut kept = HashSet::new();
    let (mut i, mut j) = (0, 0);
    while i < n && j < m {
        if a[i] == b[j] {
            kept.insert(a[i]);
            i += 1;
            j += 1;
        } else if table[i + 1][j] >= table[i][j + 1] {
            i += 1;
        } else {
            j += 1;
        }
    }
    kept
}

fn json(value: &impl Serialize) -> Value {
    serde_json::to_value(value).unwrap_or(Value::Null)
}

/// Appends the paths under `path` where `a` and `b` differ (objects key by key, lists of
/// equal length element by element), at most [`CHANGED_FIELDS_MAX`] of them.
fn differences(a: &Value, b: &Value, path: &str, out: &mut Vec<String>) {
    if a == b || out.len() >= CHANGED_FIELDS_MAX {
        return;
    }
    let join = |key: &str| {
        if path.is_empty() {
            key.to_owned()
        } else {
            format!("{path}.{key}")
        }
    };
    match (a, b) {
        (Value::Object(a), Value::Object(b)) => {
            let keys: std::collections::BTreeSet<&String> = a.keys().chain(b.keys()).collect();
            for key in keys {
                let (x, y) = (
                    a.get(key).unwrap_or(&Value::Null),
                    b.get(key).unwrap_or(&Value::Null),
                );
                // The key is only compared, never a field of its own.
                if path.is_empty() && key == "key" {
                    continue;
                }
                differences(x, y, &join(key), out);
            }
        }
        (Value::Array(a), Value::Array(b)) if a.len() == b.len() && !path.is_empty() => {
            for (index, (x, y)) in a.iter().zip(b).enumerate() {
                differences(x, y, &format!("{path}[{index}]"), out);
            }
        }
        _ => out.push(path.to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn registry() -> ActivityRegistry {
        ActivityRegistry::with_builtin_kinds()
    }

    fn poll(key: &str, title: &str, options: &[&str]) -> Value {
        json!({"key": key, "kind": "poll", "title": title,
               "config": {"question": title, "options": options}})
    }

    fn definition(activities: Vec<Value>, variants: Value) -> Value {
        json!({"format": FORMAT, "format_version": 1, "title": "Retro",
               "activities": activities, "variants": variants})
    }

    fn checked(value: Value) -> Result<Definition, DefinitionError> {
        Definition::from_json(value)?.checked(&registry(), 1000)
    }

    #[test]
    fn errors_name_the_field_at_fault() {
        let cases = [
            (
                json!({"format": FORMAT, "format_version": 1, "title": "x"}),
                "",
                "activities",
            ),
            (
                definition(
                    vec![json!({"kind": "poll", "title": "t", "config": {}, "colour": 1})],
                    json!({}),
                ),
                "activities[0]",
                "colour",
            ),
            (
                definition(
                    vec![json!({"kind": "pol", "title": "t", "config": {}})],
                    json!({}),
                ),
                "activities[0].kind",
                "unknown kind",
            ),
            (
                definition(vec![poll("a", "Lunch", &["pizza"])], json!({})),
                "activities[0].config",
                "",
            ),
            (
                definition(
                    vec![poll("a", "x", &["1", "2"]), poll("a", "y", &["1", "2"])],
                    json!({}),
                ),
                "activities[1].key",
                "earlier activity",
            ),
            (
                definition(vec![poll("a b", "x", &["1", "2"])], json!({})),
                "activities[0].key",
                "not a valid name",
            ),
            (
                definition(
                    vec![poll("a", "x", &["1", "2"])],
                    json!({"de": {"activities": {"b": {"title": "y"}}}}),
                ),
                "variants.de.activities.b",
                "no activity with the key",
            ),
            (
                definition(
                    vec![poll("a", "x", &["1", "2"])],
                    json!({"de": {"activities": {"a": {"config": {"options": ["1", "2", "3"]}}}}}),
                ),
                "variants.de.activities.a.config.options",
                "has 2 elements",
            ),
            (
                definition(
                    vec![poll("a", "x", &["1", "2"])],
                    json!({"de": {"activities": {"a": {"config": {"multiple": true}}}}}),
                ),
                "variants.de.activities.a.config.multiple",
                "switch",
            ),
            (
                definition(
                    vec![poll("a", "x", &["1", "2"])],
                    json!({"de": {"activities": {"a": {"config": {"options": ["Ja", ""]}}}}}),
                ),
                "variants.de.activities.a.config",
                "",
            ),
        ];
        for (value, field, message) in cases {
            let e = checked(value.clone()).expect_err(&value.to_string());
            assert!(
                e.field.starts_with(field),
                "{value}: got field {:?} ({})",
                e.field,
                e.message
            );
            assert!(e.message.contains(message), "{value}: got {:?}", e.message);
        }
        let wrong = json!({"format": "x", "format_version": 1, "title": "t", "activities": []});
        assert_eq!(checked(wrong).unwrap_err().field, "format");
    }

    #[test]
    fn missing_keys_are_made_up_stable_and_unique() {
        let value = definition(
            vec![
                json!({"kind": "poll", "title": "A", "config": {"question": "A", "options": ["1", "2"]}}),
                poll("b", "B", &["1", "2"]),
            ],
            json!({}),
        );
        let once = checked(value).unwrap();
        let keys: Vec<&str> = once.keys().collect();
        assert_eq!(keys.len(), 2);
        assert!(keys[0].starts_with('a') && keys[0] != "b", "{keys:?}");
        assert_eq!(keys[1], "b");
        // A checked definition checks again to itself.
        assert_eq!(once.clone().checked(&registry(), 1000).unwrap(), once);
    }

    #[test]
    fn a_variant_overrides_texts_and_numbers_and_keeps_the_rest() {
        let value = definition(
            vec![
                poll("lunch", "Lunch?", &["Pizza", "Salad"]),
                poll("end", "Done?", &["Yes", "No"]),
            ],
            json!({"de-DE": {"title": "Retro (DE)", "activities": {
                "lunch": {"title": "Mittagessen?", "config": {"options": ["Pizza", "Salat"]}, "time_limit_seconds": 30}
            }}}),
        );
        let definition = checked(value).unwrap();
        let german = definition.resolved(Some("de-DE")).unwrap();
        assert_eq!(german.title, "Retro (DE)");
        assert!(german.variants.is_empty());
        assert_eq!(german.activities[0].title, "Mittagessen?");
        assert_eq!(
            german.activities[0].config["options"],
            json!(["Pizza", "Salat"])
        );
        assert_eq!(german.activities[0].config["question"], "Lunch?");
        assert_eq!(german.activities[0].time_limit_seconds, Some(30));
        assert_eq!(german.activities[1], definition.activities[1]);
        let e = definition.resolved(Some("fr")).unwrap_err();
        assert_eq!(e.field, "variant");
        assert!(e.message.contains("de-DE"), "{}", e.message);
        assert_eq!(
            definition.resolved(None).unwrap().activities,
            definition.activities
        );
    }

    #[test]
    fn the_change_log_tells_added_removed_edited_and_moved_apart() {
        // [a, b, c] becomes [c, a', d]: of a and c, one kept its place relative to the
        // other, so only one of them moved.
        let old = checked(definition(
            vec![
                poll("a", "A", &["1", "2"]),
                poll("b", "B", &["1", "2"]),
                poll("c", "C", &["1", "2"]),
            ],
            json!({"de": {"title": "DE"}}),
        ))
        .unwrap();
        let mut new_value = definition(
            vec![
                poll("c", "C", &["1", "2"]),
                poll("a", "A", &["1", "3"]),
                poll("d", "D", &["1", "2"]),
            ],
            json!({"de": {"title": "DE 2"}, "fr": {}}),
        );
        new_value["description"] = json!("now with a description");
        let new = checked(new_value).unwrap();
        let log = changes(&old, &new);
        let summary: Vec<(ChangeTarget, ChangeKind, Option<&str>, Vec<&str>)> = log
            .iter()
            .map(|c| {
                (
                    c.target,
                    c.change,
                    c.key.as_deref(),
                    c.fields.iter().map(String::as_str).collect(),
                )
            })
            .collect();
        use ChangeKind::*;
        use ChangeTarget::*;
        assert_eq!(
            summary,
            vec![
                (Session, Edited, None, vec!["description"]),
                (
                    Activity,
                    Edited,
                    Some("a"),
                    vec!["position", "config.options[1]"]
                ),
                (Activity, Added, Some("d"), vec![]),
                (Activity, Removed, Some("b"), vec![]),
                (Variant, Edited, Some("de"), vec!["title"]),
                (Variant, Added, Some("fr"), vec![]),
            ]
        );
        assert!(changes(&new, &new).is_empty());
    }

    #[test]
    fn variants_carry_over_where_they_still_fit() {
        let old = checked(definition(
            vec![poll("a", "A", &["1", "2"]), poll("b", "B", &["1", "2"])],
            json!({"de": {"activities": {
                "a": {"config": {"options": ["eins", "zwei"]}},
                "b": {"title": "B auf Deutsch"}
            }}}),
        ))
        .unwrap();
        // "a" now has three options, "b" is gone.
        let new = checked(definition(
            vec![poll("a", "A", &["1", "2", "3"])],
            json!({}),
        ))
        .unwrap();
        let carried = new.with_variants_of(&old, &registry());
        assert!(carried.variants["de"].activities.is_empty());
        let same = checked(definition(vec![poll("b", "B2", &["x", "y"])], json!({}))).unwrap();
        let carried = same.with_variants_of(&old, &registry());
        assert_eq!(carried.variants["de"].activities.len(), 1);
        assert_eq!(
            carried.resolved(Some("de")).unwrap().activities[0].title,
            "B auf Deutsch"
        );
    }
}
