//! Templates: a session's activities saved under a name, as immutable numbered versions
//! with variants, and sessions made from them (`docs/templates.md`). The document each
//! version stores, and the import and export format, is [`definition::Definition`].

pub mod definition;

use chrono::{DateTime, Utc};

use self::definition::{Definition, DefinitionError};
use crate::activities;
use crate::ids::{ActivityId, SessionId, TemplateId};
use crate::kinds::ActivityRegistry;
use crate::model::session::{self, Session, TemplateOrigin};
pub use crate::model::template::{NewVersion, Template, VersionRecord};
use crate::organizers::Organizer;
use crate::sessions::{self, NewSession, SessionError};
use crate::storage::{Store, StoreError};

/// One immutable version of a template.
#[derive(Debug, Clone, PartialEq)]
pub struct TemplateVersion {
    /// The template.
    pub template_id: TemplateId,
    /// 1, 2, …
    pub version: i32,
    /// What the author said about it.
    pub note: String,
    /// The content.
    pub definition: Definition,
    /// The session it was saved from, if any.
    pub source_session_id: Option<SessionId>,
    /// Saved.
    pub created_at: DateTime<Utc>,
}

impl TemplateVersion {
    /// A stored version with its definition read (and so checked for shape).
    pub fn from_record(record: VersionRecord) -> Result<Self, TemplateError> {
        Ok(TemplateVersion {
            template_id: record.template_id,
            version: record.version,
            note: record.note,
            definition: Definition::from_json(record.definition)?,
            source_session_id: record.source_session_id,
            created_at: record.created_at,
        })
    }

    /// The definition a session is made from: the base, or one variant applied;
    /// `VariantNotFound` (with the names there are) for a variant it does not have.
    pub fn resolved(&self, variant: Option<&str>) -> Result<Definition, TemplateError> {
        if let Some(name) = variant
            && !self.definition.variants.contains_key(name)
        {
            return Err(TemplateError::VariantNotFound {
                name: name.to_owned(),
                known: self.definition.variants.keys().cloned().collect(),
            });
        }
        Ok(self.definition.resolved(variant)?)
    }
}

/// Why a template use case failed.
#[derive(Debug, thiserror::Error)]
pub enum TemplateError {
    /// No such template, or not the caller's.
    #[error("no such template")]
    NotFound,
    /// The template has no such version.
    #[error("template version {0} does not exist")]
    VersionNotFound(i32),
    /// The version has no such variant.
    #[error("there is no variant `{name}`")]
    VariantNotFound {
        /// What was asked for.
        name: String,
        /// What the version has.
        known: Vec<String>,
    },
    /// A field of the request is invalid.
    #[error("{field}: {message}")]
    Invalid {
        /// The field.
        field: &'static str,
        /// Why.
        message: String,
    },
    /// The definition is invalid.
    #[error(transparent)]
    Definition(#[from] DefinitionError),
    /// The owner has a template with this name.
    #[error("you already have a template named `{0}`")]
    NameTaken(String),
    /// The session was made from a variant; saving it would turn the variant's texts into
    /// the base.
    #[error(
        "this session was made from the variant `{0}`; save the base, or import a definition with the variant changed"
    )]
    MadeFromVariant(String),
    /// The session does not exist or is not the caller's.
    #[error(transparent)]
    Session(#[from] SessionError),
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Where the content of a new version comes from.
#[derive(Debug, Clone)]
pub enum Source {
    /// The current activities of one of the organizer's sessions.
    Session(SessionId),
    /// An imported definition document.
    Definition(serde_json::Value),
}

/// A new template: a name and its first version.
#[derive(Debug, Clone)]
pub struct NewTemplate {
    /// 1–200 characters.
    pub name: String,
    /// Up to 2000 characters.
    pub description: Option<String>,
    /// What version 1 is.
    pub note: Option<String>,
    /// Its content.
    pub source: Source,
}

/// Longest version note, in characters.
pub const NOTE_MAX: usize = 500;

fn parse_name(raw: &str) -> Result<String, TemplateError> {
    session::parse_title(raw).map_err(|invalid| TemplateError::Invalid {
        field: "name",
        message: invalid.rule.english(),
    })
}

fn parse_description(raw: &str) -> Result<String, TemplateError> {
    session::parse_description(raw).map_err(|invalid| TemplateError::Invalid {
        field: "description",
        message: invalid.rule.english(),
    })
}

fn parse_note(raw: Option<&str>) -> Result<String, TemplateError> {
    let note = raw.unwrap_or_default().trim();
    if note.chars().count() > NOTE_MAX {
        return Err(TemplateError::Invalid {
            field: "note",
            message: format!("the note must have at most {NOTE_MAX} characters"),
        });
    }
    Ok(note.to_owned())
}

/// The template, if the organizer may see it.
pub async fn owned(
    store: &dyn Store,
    organizer: &Organizer,
    id: TemplateId,
) -> Result<Template, TemplateError> {
    match store.template(id).await? {
        Some(template) if organizer.is_admin || template.organizer_id == organizer.id => {
            Ok(template)
        }
        _ => Err(TemplateError::NotFound),
    }
}

/// The organizer's templates (every template for an admin).
pub async fn list(
    store: &dyn Store,
    organizer: &Organizer,
) -> Result<Vec<Template>, TemplateError> {
    let owner = (!organizer.is_admin).then_some(organizer.id);
    Ok(store.list_templates(owner).await?)
}

/// The content a source gives, checked, and the session's activity keys when it is a
/// session.
struct Content {
    definition: Definition,
    source: Option<SessionId>,
    keys: Vec<(ActivityId, String)>,
}

async fn content(
    store: &dyn Store,
    registry: &ActivityRegistry,
    organizer: &Organizer,
    source: Source,
    participant_limit: u32,
) -> Result<Content, TemplateError> {
    match source {
        Source::Definition(value) => Ok(Content {
            definition: Definition::from_json(value)?.checked(registry, participant_limit)?,
            source: None,
            keys: Vec::new(),
        }),
        Source::Session(id) => {
            let session = sessions::owned(store, organizer, id).await?;
            if let Some(variant) = session.template.as_ref().and_then(|t| t.variant.clone()) {
                return Err(TemplateError::MadeFromVariant(variant));
            }
            let activities = store.activities_of(id).await?;
            let definition = Definition::of_session(&session, &activities);
            let keys = activities
                .iter()
                .zip(definition.keys())
                .map(|(a, key)| (a.id, key.to_owned()))
                .collect();
            Ok(Content {
                definition: definition
                    .checked(registry, participant_limit.max(session.max_participants))?,
                source: Some(id),
                keys,
            })
        }
    }
}

/// Creates a template with its version 1.
pub async fn create(
    store: &dyn Store,
    registry: &ActivityRegistry,
    owner: &Organizer,
    new: NewTemplate,
    participant_limit: u32,
) -> Result<(Template, TemplateVersion), TemplateError> {
    let name = parse_name(&new.name)?;
    let description = parse_description(new.description.as_deref().unwrap_or_default())?;
    let note = parse_note(new.note.as_deref())?;
    let content = content(store, registry, owner, new.source, participant_limit).await?;
    let now = Utc::now();
    let template = Template {
        id: TemplateId::new(),
        organizer_id: owner.id,
        name,
        description,
        latest_version: 1,
        created_at: now,
        updated_at: now,
    };
    let definition = to_json(&content.definition)?;
    let first = NewVersion {
        template_id: template.id,
        note: &note,
        definition: &definition,
        source: content.source,
        keys: &content.keys,
        at: now,
    };
    match store.insert_template(&template, &first).await {
        Err(StoreError::Conflict(_)) => return Err(TemplateError::NameTaken(template.name)),
        other => other?,
    }
    let version = TemplateVersion {
        template_id: template.id,
        version: 1,
        note,
        definition: content.definition,
        source_session_id: content.source,
        created_at: now,
    };
    Ok((template, version))
}

/// Saves the next version of a template. Saved from a session, the variants of the
/// latest version carry over where their activities are still there and fit.
pub async fn add_version(
    store: &dyn Store,
    registry: &ActivityRegistry,
    template: &Template,
    organizer: &Organizer,
    note: Option<&str>,
    source: Source,
    participant_limit: u32,
) -> Result<TemplateVersion, TemplateError> {
    let note = parse_note(note)?;
    let from_session = matches!(source, Source::Session(_));
    let mut content = content(store, registry, organizer, source, participant_limit).await?;
    if from_session
        && let Some(latest) = store
            .template_version(template.id, template.latest_version)
            .await?
    {
        let latest = TemplateVersion::from_record(latest)?;
        content.definition = content
            .definition
            .with_variants_of(&latest.definition, registry);
    }
    let now = Utc::now();
    let definition = to_json(&content.definition)?;
    let version = store
        .add_template_version(&NewVersion {
            template_id: template.id,
            note: &note,
            definition: &definition,
            source: content.source,
            keys: &content.keys,
            at: now,
        })
        .await
        .map_err(|e| match e {
            StoreError::NotFound => TemplateError::NotFound,
            other => other.into(),
        })?;
    Ok(TemplateVersion {
        template_id: template.id,
        version,
        note,
        definition: content.definition,
        source_session_id: content.source,
        created_at: now,
    })
}

/// One version of a template.
pub async fn version(
    store: &dyn Store,
    template: &Template,
    version: i32,
) -> Result<TemplateVersion, TemplateError> {
    let record = store
        .template_version(template.id, version)
        .await?
        .ok_or(TemplateError::VersionNotFound(version))?;
    TemplateVersion::from_record(record)
}

/// Every version of a template, oldest first.
pub async fn versions(
    store: &dyn Store,
    template: &Template,
) -> Result<Vec<TemplateVersion>, TemplateError> {
    let records = store.template_versions(template.id).await?;
    records
        .into_iter()
        .map(TemplateVersion::from_record)
        .collect()
}

/// A checked definition as the JSON a version stores.
fn to_json(definition: &Definition) -> Result<serde_json::Value, TemplateError> {
    serde_json::to_value(definition).map_err(|e| StoreError::Internal(e.to_string()).into())
}

/// Renames a template or changes its description.
pub async fn update(
    store: &dyn Store,
    mut template: Template,
    name: Option<&str>,
    description: Option<&str>,
) -> Result<Template, TemplateError> {
    if let Some(name) = name {
        template.name = parse_name(name)?;
    }
    if let Some(description) = description {
        template.description = parse_description(description)?;
    }
    template.updated_at = Utc::now();
    match store.update_template(&template).await {
        Ok(true) => Ok(template),
        Ok(false) => Err(TemplateError::NotFound),
        Err(StoreError::Conflict(_)) => Err(TemplateError::NameTaken(template.name)),
        Err(other) => Err(other.into()),
    }
}

/// Deletes a template and all its versions. Sessions made from it keep their record.
pub async fn delete(store: &dyn Store, template: &Template) -> Result<(), TemplateError> {
    store.delete_template(template.id).await?;
    Ok(())
}

/// What to make a session from.
#[derive(Debug, Clone, Default)]
pub struct Instantiate {
    /// The version; the latest when None.
    pub version: Option<i32>,
    /// The variant; the base when None.
    pub variant: Option<String>,
    /// The session's title; the definition's when None.
    pub title: Option<String>,
}

/// Makes a draft session from a template version (and variant). The session records
/// where it came from, and its activities keep their keys.
pub async fn instantiate(
    store: &dyn Store,
    registry: &ActivityRegistry,
    owner: &Organizer,
    template: &Template,
    wanted: Instantiate,
    participant_limit: u32,
) -> Result<Session, TemplateError> {
    let number = wanted.version.unwrap_or(template.latest_version);
    let version = version(store, template, number).await?;
    let mut definition = version.resolved(wanted.variant.as_deref())?;
    if let Some(title) = wanted.title {
        definition.title = title;
    }
    let origin = TemplateOrigin {
        template_id: template.id,
        version: number,
        variant: wanted.variant,
    };
    session_from(
        store,
        registry,
        owner,
        definition,
        Some(origin),
        participant_limit,
    )
    .await
}

/// Makes a draft session from an imported definition (its variants are not used).
pub async fn import_session(
    store: &dyn Store,
    registry: &ActivityRegistry,
    owner: &Organizer,
    document: serde_json::Value,
    participant_limit: u32,
) -> Result<Session, TemplateError> {
    let definition = Definition::from_json(document)?.checked(registry, participant_limit)?;
    let definition = definition.resolved(None)?;
    session_from(store, registry, owner, definition, None, participant_limit).await
}

/// A session's definition, for export: its activities with their keys, no variants.
pub async fn export_session(
    store: &dyn Store,
    session: &Session,
) -> Result<Definition, TemplateError> {
    let activities = store.activities_of(session.id).await?;
    Ok(Definition::of_session(session, &activities))
}

async fn session_from(
    store: &dyn Store,
    registry: &ActivityRegistry,
    owner: &Organizer,
    definition: Definition,
    origin: Option<TemplateOrigin>,
    participant_limit: u32,
) -> Result<Session, TemplateError> {
    let mut session = sessions::draft(
        owner,
        NewSession {
            title: definition.title,
            description: Some(definition.description),
            max_participants: definition.max_participants,
            settings: definition.settings,
            pace: Some(definition.pace),
            // When it is open belongs to one run, not to the template.
            hours: None,
            teams: definition.teams,
        },
        participant_limit,
    )?;
    session.template = origin;
    let activities = definition
        .activities
        .into_iter()
        .enumerate()
        .map(|(index, a)| {
            let key = a.key.clone();
            let mut activity = activities::draft(registry, session.id, a.into()).map_err(|e| {
                let error = match e {
                    crate::activities::ActivityError::Invalid(invalid) => {
                        definition::from_invalid(invalid)
                    }
                    other => DefinitionError {
                        field: String::new(),
                        message: other.to_string(),
                        rule: None,
                    },
                };
                definition::at(&format!("activities[{index}]"), error)
            })?;
            activity.position = i32::try_from(index + 1).unwrap_or(i32::MAX);
            activity.template_key = key;
            Ok(activity)
        })
        .collect::<Result<Vec<_>, DefinitionError>>()?;
    Ok(sessions::insert(store, session, &activities).await?)
}
