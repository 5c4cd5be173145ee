//! Template endpoints: save a session (or an imported definition) as a template, list and
//! read its versions and their change logs, export a version or one of its variants as a
//! definition document, and make a session from a version.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::views::SessionResponse;
use crate::http::error::{ApiError, ErrorEnvelope};
use crate::http::extract::{AppJson, AppPath, AppQuery, HostAuth};
use crate::http::state::AppState;
use crate::ids::{SessionId, TemplateId};
use crate::model::invalid::{Invalid, Rule};
use crate::session_templates::definition::{self, Change, Definition};
use crate::session_templates::{self, Instantiate, NewTemplate, Source, Template, TemplateVersion};

/// The template routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_template, list_templates))
        .routes(routes!(get_template, update_template, delete_template))
        .routes(routes!(add_version))
        .routes(routes!(get_version))
        .routes(routes!(version_changes))
        .routes(routes!(session_from_template))
}

/// Where a version's content comes from: exactly one of a session and a definition.
fn source(session_id: Option<SessionId>, definition: Option<Value>) -> Result<Source, ApiError> {
    match (session_id, definition) {
        (Some(session), None) => Ok(Source::Session(session)),
        (None, Some(definition)) => Ok(Source::Definition(definition)),
        // Exactly one of the two.
        _ => Err(Invalid::new(
            "session_id",
            Rule::OneOf {
                allowed: vec!["session_id".into(), "definition".into()],
            },
        )
        .into()),
    }
}

/// A new template and its version 1.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateTemplateRequest {
    /// 1–200 characters, unique among your templates.
    #[schema(min_length = 1, max_length = 200)]
    pub name: String,
    /// Up to 2000 characters.
    #[schema(max_length = 2000)]
    pub description: Option<String>,
    /// What version 1 is (up to 500 characters).
    #[schema(max_length = 500)]
    pub note: Option<String>,
    /// Save this session's current activities (or give `definition`).
    pub session_id: Option<SessionId>,
    /// Import this definition document, docs/templates.md (or give `session_id`).
    #[schema(value_type = Option<Object>)]
    pub definition: Option<Value>,
}

/// One version, without its content.
#[derive(Debug, Serialize, ToSchema)]
pub struct VersionSummary {
    /// 1, 2, …
    pub version: i32,
    /// The author's note.
    pub note: String,
    /// Saved.
    pub created_at: DateTime<Utc>,
    /// The session it was saved from, if any.
    pub source_session_id: Option<SessionId>,
    /// How many activities it has.
    pub activities: usize,
    /// Its variants' names.
    pub variants: Vec<String>,
    /// What changed since the version before (empty for version 1).
    pub changes: Vec<Change>,
}

impl VersionSummary {
    fn new(version: &TemplateVersion, previous: Option<&TemplateVersion>) -> Self {
        Self {
            version: version.version,
            note: version.note.clone(),
            created_at: version.created_at,
            source_session_id: version.source_session_id,
            activities: version.definition.activities.len(),
            variants: version.definition.variants.keys().cloned().collect(),
            changes: previous
                .map(|p| definition::changes(&p.definition, &version.definition))
                .unwrap_or_default(),
        }
    }
}

/// A template with the change log of all its versions.
#[derive(Debug, Serialize, ToSchema)]
pub struct TemplateDetail {
    /// The template.
    #[serde(flatten)]
    pub template: Template,
    /// Its versions, newest first.
    pub versions: Vec<VersionSummary>,
}

fn detail(template: Template, versions: &[TemplateVersion]) -> TemplateDetail {
    let mut summaries: Vec<VersionSummary> = versions
        .iter()
        .enumerate()
        .map(|(i, v)| VersionSummary::new(v, i.checked_sub(1).map(|p| &versions[p])))
        .collect();
    summaries.reverse();
    TemplateDetail {
        template,
        versions: summaries,
    }
}

/// Saves a session's activities, or imports a definition, as a new template (version 1).
#[utoipa::path(post, path = "/templates/", tag = "templates", request_body = CreateTemplateRequest,
    responses(
        (status = 201, body = TemplateDetail),
        (status = 404, description = "No such session", body = ErrorEnvelope),
        (status = 409, description = "The name is taken, or the session was made from a variant", body = ErrorEnvelope),
        (status = 422, description = "Invalid; `details.field` names the field at fault", body = ErrorEnvelope),
    ))]
async fn create_template(
    State(state): State<AppState>,
    HostAuth(auth): HostAuth,
    AppJson(request): AppJson<CreateTemplateRequest>,
) -> Result<(StatusCode, Json<TemplateDetail>), ApiError> {
    let new = NewTemplate {
        name: request.name,
        description: request.description,
        note: request.note,
        source: source(request.session_id, request.definition)?,
    };
    let (template, version) = session_templates::create(
        state.store.as_ref(),
        &state.registry,
        &auth.organizer,
        new,
        state.config.session_participant_limit,
    )
    .await?;
    Ok((StatusCode::CREATED, Json(detail(template, &[version]))))
}

/// Your templates.
#[derive(Debug, Serialize, ToSchema)]
pub struct TemplateList {
    /// Most recently changed first.
    pub items: Vec<Template>,
}

/// Lists your templates (every template for an admin), most recently changed first.
#[utoipa::path(get, path = "/templates/", tag = "templates",
    responses((status = 200, body = TemplateList), (status = 401, body = ErrorEnvelope)))]
async fn list_templates(
    State(state): State<AppState>,
    HostAuth(auth): HostAuth,
) -> Result<Json<TemplateList>, ApiError> {
    let items = session_templates::list(state.store.as_ref(), &auth.organizer).await?;
    Ok(Json(TemplateList { items }))
}

/// A template and every version's change log.
#[utoipa::path(get, path = "/templates/{id}", tag = "templates", params(("id" = TemplateId, Path)),
    responses((status = 200, body = TemplateDetail), (status = 404, body = ErrorEnvelope)))]
async fn get_template(
    State(state): State<AppState>,
    HostAuth(auth): HostAuth,
    AppPath(id): AppPath<TemplateId>,
) -> Result<Json<TemplateDetail>, ApiError> {
    let template = session_templates::owned(state.store.as_ref(), &auth.organizer, id).await?;
    let versions = session_templates::versions(state.store.as_ref(), &template).await?;
    Ok(Json(detail(template, &versions)))
}

/// A new name or description; absent fields stay as they are.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateTemplateRequest {
    /// New name.
    pub name: Option<String>,
    /// New description.
    pub description: Option<String>,
}

/// Renames a template or changes its description. Versions never change.
#[utoipa::path(patch, path = "/templates/{id}", tag = "templates", params(("id" = TemplateId, Path)),
    request_body = UpdateTemplateRequest,
    responses((status = 200, body = Template), (status = 404, body = ErrorEnvelope),
        (status = 409, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
async fn update_template(
    State(state): State<AppState>,
    HostAuth(auth): HostAuth,
    AppPath(id): AppPath<TemplateId>,
    AppJson(request): AppJson<UpdateTemplateRequest>,
) -> Result<Json<Template>, ApiError> {
    let template = session_templates::owned(state.store.as_ref(), &auth.organizer, id).await?;
    let template = session_templates::update(
        state.store.as_ref(),
        template,
        request.name.as_deref(),
        request.description.as_deref(),
    )
    .await?;
    Ok(Json(template))
}

/// Deletes a template and all its versions; sessions made from it are kept.
#[utoipa::path(delete, path = "/templates/{id}", tag = "templates", params(("id" = TemplateId, Path)),
    responses((status = 204, description = "Deleted"), (status = 404, body = ErrorEnvelope)))]
async fn delete_template(
    State(state): State<AppState>,
    HostAuth(auth): HostAuth,
    AppPath(id): AppPath<TemplateId>,
) -> Result<StatusCode, ApiError> {
    let template = session_templates::owned(state.store.as_ref(), &auth.organizer, id).await?;
    session_templates::delete(state.store.as_ref(), &template).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A new version.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddVersionRequest {
    /// What changed (up to 500 characters).
    pub note: Option<String>,
    /// Save this session's current activities (or give `definition`).
    pub session_id: Option<SessionId>,
    /// Import this definition document, docs/templates.md (or give `session_id`).
    #[schema(value_type = Option<Object>)]
    pub definition: Option<Value>,
}

/// Saves the next version, from a session or an imported definition. Saved from a
/// session, the latest version's variants carry over where they still fit.
#[utoipa::path(post, path = "/templates/{id}/versions", tag = "templates", params(("id" = TemplateId, Path)),
    request_body = AddVersionRequest,
    responses((status = 201, body = VersionSummary), (status = 404, body = ErrorEnvelope),
        (status = 409, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
async fn add_version(
    State(state): State<AppState>,
    HostAuth(auth): HostAuth,
    AppPath(id): AppPath<TemplateId>,
    AppJson(request): AppJson<AddVersionRequest>,
) -> Result<(StatusCode, Json<VersionSummary>), ApiError> {
    let store = state.store.as_ref();
    let template = session_templates::owned(store, &auth.organizer, id).await?;
    let source = source(request.session_id, request.definition)?;
    let version = session_templates::add_version(
        store,
        &state.registry,
        &template,
        &auth.organizer,
        request.note.as_deref(),
        source,
        state.config.session_participant_limit,
    )
    .await?;
    let previous = match version.version {
        1 => None,
        n => Some(session_templates::version(store, &template, n - 1).await?),
    };
    Ok((
        StatusCode::CREATED,
        Json(VersionSummary::new(&version, previous.as_ref())),
    ))
}

/// Which variant to resolve.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct VariantQuery {
    /// A variant's name: the definition with its overrides applied, without variants.
    pub variant: Option<String>,
}

/// Exports one version as a definition document (with its variants), or one variant of it
/// resolved.
#[utoipa::path(get, path = "/templates/{id}/versions/{version}", tag = "templates",
    params(("id" = TemplateId, Path), ("version" = i32, Path), VariantQuery),
    responses((status = 200, body = Definition), (status = 404, body = ErrorEnvelope)))]
async fn get_version(
    State(state): State<AppState>,
    HostAuth(auth): HostAuth,
    AppPath((id, number)): AppPath<(TemplateId, i32)>,
    AppQuery(query): AppQuery<VariantQuery>,
) -> Result<Json<Definition>, ApiError> {
    let store = state.store.as_ref();
    let template = session_templates::owned(store, &auth.organizer, id).await?;
    let version = session_templates::version(store, &template, number).await?;
    let Some(name) = query.variant else {
        return Ok(Json(version.definition));
    };
    Ok(Json(version.resolved(Some(&name))?))
}

/// Which version to compare with.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ChangesQuery {
    /// The earlier version (default: the one before).
    pub from: Option<i32>,
}

/// A change log between two versions.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChangeLog {
    /// The earlier version.
    pub from: i32,
    /// The later version.
    pub to: i32,
    /// What changed: session fields, activities (added, removed, edited), variants.
    pub changes: Vec<Change>,
}

/// What changed between two versions: added, removed and edited activities (with the
/// fields that differ), the session's fields, and variants.
#[utoipa::path(get, path = "/templates/{id}/versions/{version}/changes", tag = "templates",
    params(("id" = TemplateId, Path), ("version" = i32, Path), ChangesQuery),
    responses((status = 200, body = ChangeLog), (status = 404, body = ErrorEnvelope)))]
async fn version_changes(
    State(state): State<AppState>,
    HostAuth(auth): HostAuth,
    AppPath((id, number)): AppPath<(TemplateId, i32)>,
    AppQuery(query): AppQuery<ChangesQuery>,
) -> Result<Json<ChangeLog>, ApiError> {
    let store = state.store.as_ref();
    let template = session_templates::owned(store, &auth.organizer, id).await?;
    let to = session_templates::version(store, &template, number).await?;
    let from_number = query.from.unwrap_or(number - 1);
    let from = session_templates::version(store, &template, from_number).await?;
    Ok(Json(ChangeLog {
        from: from_number,
        to: number,
        changes: definition::changes(&from.definition, &to.definition),
    }))
}

/// What session to make.
#[derive(Debug, Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct SessionFromTemplateRequest {
    /// The version (default: the latest).
    pub version: Option<i32>,
    /// A variant's name (default: the base).
    pub variant: Option<String>,
    /// The session's title (default: the definition's).
    pub title: Option<String>,
}

/// Makes a draft session from a template version and variant. The session records the
/// template, version and variant it came from.
#[utoipa::path(post, path = "/templates/{id}/sessions", tag = "templates", params(("id" = TemplateId, Path)),
    request_body = SessionFromTemplateRequest,
    responses((status = 201, body = SessionResponse), (status = 404, description = "No such template, version or variant", body = ErrorEnvelope),
        (status = 422, body = ErrorEnvelope)))]
async fn session_from_template(
    State(state): State<AppState>,
    HostAuth(auth): HostAuth,
    AppPath(id): AppPath<TemplateId>,
    AppJson(request): AppJson<SessionFromTemplateRequest>,
) -> Result<(StatusCode, Json<SessionResponse>), ApiError> {
    let store = state.store.as_ref();
    let template = session_templates::owned(store, &auth.organizer, id).await?;
    let session = session_templates::instantiate(
        store,
        &state.registry,
        &auth.organizer,
        &template,
        Instantiate {
            version: request.version,
            variant: request.variant,
            title: request.title,
        },
        state.config.session_participant_limit,
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(SessionResponse::new(session, &state.public_base_url)),
    ))
}
