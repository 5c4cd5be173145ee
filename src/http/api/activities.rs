//! Activity endpoints: kinds and their schemas, CRUD and reorder under a session, state
//! transitions, host commands and results. Only the session's organizer drives an
//! activity; participants read results only when they are visible to them.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::activities::{self, ActivityChanges, NewActivity};
use crate::http::error::{ApiError, ErrorCode, ErrorEnvelope};
use crate::http::extract::{AnyAuth, AppJson, AppPath, AppQuery, HostAuth};
use crate::http::state::AppState;
use crate::ids::{ActivityId, SessionId};
use crate::kinds::Viewer;
use crate::model::activity::{Activity, ActivityState, ResultsVisibility};
use crate::model::invalid::check_count;
use crate::model::session::Session;
use crate::organizers::Organizer;
use crate::sessions::{self, SessionError};

/// The activity routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_kinds))
        .routes(routes!(kind_schema))
        .routes(routes!(create_activity, list_activities))
        .routes(routes!(import_csv))
        .routes(routes!(reorder_activities))
        .routes(routes!(get_activity, update_activity, delete_activity))
        .routes(routes!(transition_activity))
        .routes(routes!(run_command))
        .routes(routes!(activity_results))
        .routes(routes!(results_list))
}

/// The activity and its session, if the organizer owns the session.
pub async fn owned_activity(
    state: &AppState,
    organizer: &Organizer,
    id: ActivityId,
) -> Result<(Session, Activity), ApiError> {
    let not_found = || {
        ApiError::new(
            StatusCode::NOT_FOUND,
            ErrorCode::ActivityNotFound,
            "no such activity",
        )
    };
    let activity = state.store.activity(id).await?.ok_or_else(not_found)?;
    let session = sessions::owned(state.store.as_ref(), organizer, activity.session_id)
        .await
        .map_err(|error| match error {
            SessionError::NotFound => not_found(),
            other => other.into(),
        })?;
    Ok((session, activity))
}

/// One kind in the list.
#[derive(Debug, Serialize, ToSchema)]
pub struct KindSummary {
    /// The name used in `kind`.
    pub kind: &'static str,
    /// A short human name.
    pub name: &'static str,
    /// What it is for.
    pub description: &'static str,
    /// Whether `POST /sessions/{id}/activities/csv/{kind}` makes one from a CSV file.
    pub csv_import: bool,
}

/// Every kind.
#[derive(Debug, Serialize, ToSchema)]
pub struct KindList {
    /// By name.
    pub items: Vec<KindSummary>,
}

/// Lists the activity kinds this server supports.
#[utoipa::path(get, path = "/activities/types", tag = "activities", responses((status = 200, body = KindList)))]
async fn list_kinds(State(state): State<AppState>) -> Json<KindList> {
    Json(KindList {
        items: state
            .registry
            .iter()
            .map(|k| KindSummary {
                kind: k.kind(),
                name: k.name(),
                description: k.description(),
                csv_import: k.csv_import(),
            })
            .collect(),
    })
}

/// A kind's JSON schemas.
#[derive(Debug, Serialize, ToSchema)]
pub struct KindSchema {
    /// The kind.
    pub kind: &'static str,
    /// Schema of `config`.
    #[schema(value_type = Object)]
    pub config_schema: Value,
    /// Schema of one `answer`.
    #[schema(value_type = Object)]
    pub answer_schema: Value,
}

/// The JSON schemas of a kind's configuration and answers.
#[utoipa::path(get, path = "/activities/types/{kind}/schema", tag = "activities", params(("kind" = String, Path)),
    responses((status = 200, body = KindSchema), (status = 404, body = ErrorEnvelope)))]
async fn kind_schema(
    State(state): State<AppState>,
    AppPath(kind): AppPath<String>,
) -> Result<Json<KindSchema>, ApiError> {
    let found = state.registry.get(&kind).ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            ErrorCode::KindNotFound,
            format!("there is no activity kind `{kind}`"),
        )
    })?;
    Ok(Json(KindSchema {
        kind: found.kind(),
        config_schema: found.config_schema(),
        answer_schema: found.answer_schema(),
    }))
}

/// A new activity.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateActivityRequest {
    /// A kind from `GET /activities/types`.
    pub kind: String,
    /// 1–200 characters.
    #[schema(min_length = 1, max_length = 200)]
    pub title: String,
    /// Valid for the kind's config schema.
    #[schema(value_type = Object)]
    pub config: Value,
    /// Closes by itself after this many seconds (1–3600).
    pub time_limit_seconds: Option<u32>,
    /// `live` (default) or `hidden` until revealed.
    pub results_visibility: Option<ResultsVisibility>,
}

/// Adds a draft activity at the end of a session.
#[utoipa::path(post, path = "/sessions/{id}/activities", tag = "activities", params(("id" = SessionId, Path)), request_body = CreateActivityRequest,
    responses((status = 201, body = Activity), (status = 404, body = ErrorEnvelope), (status = 409, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
async fn create_activity(
    State(state): State<AppState>,
    HostAuth(auth): HostAuth,
    AppPath(id): AppPath<SessionId>,
    AppJson(request): AppJson<CreateActivityRequest>,
) -> Result<(StatusCode, Json<Activity>), ApiError> {
    let session = sessions::owned(state.store.as_ref(), &auth.organizer, id).await?;
    let new = NewActivity {
        kind: request.kind,
        title: request.title,
        config: request.config,
        time_limit_seconds: request.time_limit_seconds,
        results_visibility: request.results_visibility,
    };
    add_activity(&state, &session, new).await
}

/// Adds a draft activity at the end of the session and answers 201 with it.
async fn add_activity(
    state: &AppState,
    session: &Session,
    new: NewActivity,
) -> Result<(StatusCode, Json<Activity>), ApiError> {
    let activity = activities::create(&state.live, session, new).await?;
    Ok((StatusCode::CREATED, Json(activity)))
}

/// How to name an activity read from CSV.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CsvQuery {
    /// The activity's title (default: the kind's name).
    pub title: Option<String>,
    /// Any other parameter sets the configuration field of its name to its text
    /// (a quiz's `scoring=correctness`).
    #[serde(flatten)]
    #[param(value_type = Object)]
    pub config: std::collections::BTreeMap<String, String>,
}

/// Adds a draft activity made from a CSV file (`Content-Type: text/csv`) by a kind that
/// takes one (`csv_import` in `GET /activities/types`; a quiz's columns are in
/// docs/templates.md). Errors name the line and column.
#[utoipa::path(post, path = "/sessions/{id}/activities/csv/{kind}", tag = "activities",
    params(("id" = SessionId, Path), ("kind" = String, Path), CsvQuery),
    request_body(content = String, content_type = "text/csv"),
    responses((status = 201, body = Activity),
        (status = 404, description = "no such session, or no kind of that name takes CSV", body = ErrorEnvelope),
        (status = 409, body = ErrorEnvelope), (status = 415, body = ErrorEnvelope),
        (status = 422, description = "`details.field` names the line and column", body = ErrorEnvelope)))]
async fn import_csv(
    State(state): State<AppState>,
    HostAuth(auth): HostAuth,
    AppPath((id, kind)): AppPath<(SessionId, String)>,
    AppQuery(query): AppQuery<CsvQuery>,
    headers: axum::http::HeaderMap,
    body: axum::body::Bytes,
) -> Result<(StatusCode, Json<Activity>), ApiError> {
    let media = headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|v| v.trim().to_ascii_lowercase());
    if !matches!(media.as_deref(), Some("text/csv" | "text/plain")) {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ErrorCode::UnsupportedMediaType,
            "send the file as CSV with `Content-Type: text/csv`",
        ));
    }
    let Some(importer) = state.registry.get(&kind).filter(|k| k.csv_import()) else {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            ErrorCode::KindNotFound,
            format!("no activity kind `{kind}` takes CSV"),
        ));
    };
    let text = std::str::from_utf8(&body)
        .map_err(|_| ApiError::bad_request(ErrorCode::MalformedCsv, "the CSV is not UTF-8 text"))?;
    let session = sessions::owned(state.store.as_ref(), &auth.organizer, id).await?;
    let mut config = importer.config_from_csv(text).map_err(|e| {
        ApiError::invalid(ErrorCode::InvalidCsv, e.to_string())
            .with_details(serde_json::json!({ "field": e.field }))
    })?;
    if let Some(fields) = config.as_object_mut() {
        fields.extend(query.config.into_iter().map(|(k, v)| (k, Value::String(v))));
    }
    let new = NewActivity {
        kind: importer.kind().to_owned(),
        title: query.title.unwrap_or_else(|| importer.name().to_owned()),
        config,
        time_limit_seconds: None,
        results_visibility: None,
    };
    add_activity(&state, &session, new).await
}

/// A session's activities.
#[derive(Debug, Serialize, ToSchema)]
pub struct ActivityList {
    /// In order.
    pub items: Vec<Activity>,
}

/// A session's activities in order.
#[utoipa::path(get, path = "/sessions/{id}/activities", tag = "activities", params(("id" = SessionId, Path)),
    responses((status = 200, body = ActivityList), (status = 404, body = ErrorEnvelope)))]
async fn list_activities(
    State(state): State<AppState>,
    HostAuth(auth): HostAuth,
    AppPath(id): AppPath<SessionId>,
) -> Result<Json<ActivityList>, ApiError> {
    let session = sessions::owned(state.store.as_ref(), &auth.organizer, id).await?;
    let items = state.store.activities_of(session.id).await?;
    Ok(Json(ActivityList { items }))
}

/// A new order.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReorderRequest {
    /// Every activity of the session, each once, in the new order.
    pub activity_ids: Vec<ActivityId>,
}

/// Puts a session's activities in a new order.
#[utoipa::path(post, path = "/sessions/{id}/activities/reorder", tag = "activities", params(("id" = SessionId, Path)), request_body = ReorderRequest,
    responses((status = 200, body = ActivityList), (status = 404, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
async fn reorder_activities(
    State(state): State<AppState>,
    HostAuth(auth): HostAuth,
    AppPath(id): AppPath<SessionId>,
    AppJson(request): AppJson<ReorderRequest>,
) -> Result<Json<ActivityList>, ApiError> {
    check_count("activity_ids", request.activity_ids.len(), 0, 1000)?;
    let session = sessions::owned(state.store.as_ref(), &auth.organizer, id).await?;
    let items = activities::reorder(&state.live, &session, &request.activity_ids).await?;
    Ok(Json(ActivityList { items }))
}

/// One activity.
#[utoipa::path(get, path = "/activities/{id}", tag = "activities", params(("id" = ActivityId, Path)),
    responses((status = 200, body = Activity), (status = 404, body = ErrorEnvelope)))]
async fn get_activity(
    State(state): State<AppState>,
    HostAuth(auth): HostAuth,
    AppPath(id): AppPath<ActivityId>,
) -> Result<Json<Activity>, ApiError> {
    let (_, activity) = owned_activity(&state, &auth.organizer, id).await?;
    Ok(Json(activity))
}

/// Changes to an activity; absent fields stay.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateActivityRequest {
    /// New title.
    #[schema(min_length = 1, max_length = 200)]
    pub title: Option<String>,
    /// New configuration (draft or published only).
    #[schema(value_type = Option<Object>)]
    pub config: Option<Value>,
    /// New time limit in seconds; 0 removes it (draft or published only).
    pub time_limit_seconds: Option<u32>,
    /// Live or hidden.
    pub results_visibility: Option<ResultsVisibility>,
}

/// Edits an activity.
#[utoipa::path(patch, path = "/activities/{id}", tag = "activities", params(("id" = ActivityId, Path)), request_body = UpdateActivityRequest,
    responses((status = 200, body = Activity), (status = 404, body = ErrorEnvelope), (status = 409, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
async fn update_activity(
    State(state): State<AppState>,
    HostAuth(auth): HostAuth,
    AppPath(id): AppPath<ActivityId>,
    AppJson(request): AppJson<UpdateActivityRequest>,
) -> Result<Json<Activity>, ApiError> {
    let (session, activity) = owned_activity(&state, &auth.organizer, id).await?;
    let changes = ActivityChanges {
        title: request.title,
        config: request.config,
        time_limit_seconds: request.time_limit_seconds.map(|s| (s > 0).then_some(s)),
        results_visibility: request.results_visibility,
    };
    let activity = activities::update(&state.live, &session, activity, changes).await?;
    Ok(Json(activity))
}

/// Deletes an activity that is not running.
#[utoipa::path(delete, path = "/activities/{id}", tag = "activities", params(("id" = ActivityId, Path)),
    responses((status = 204, description = "Deleted"), (status = 404, body = ErrorEnvelope), (status = 409, body = ErrorEnvelope)))]
async fn delete_activity(
    State(state): State<AppState>,
    HostAuth(auth): HostAuth,
    AppPath(id): AppPath<ActivityId>,
) -> Result<StatusCode, ApiError> {
    let (session, activity) = owned_activity(&state, &auth.organizer, id).await?;
    activities::delete(&state.live, &session, &activity).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A requested state.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TransitionRequest {
    /// `published`, `active`, `closed` (or `draft` from published). Closed → active
    /// reopens it as a new round.
    pub to: ActivityState,
}

/// Moves an activity through its states.
#[utoipa::path(post, path = "/activities/{id}/transition", tag = "activities", params(("id" = ActivityId, Path)), request_body = TransitionRequest,
    responses(
        (status = 200, body = Activity),
        (status = 404, body = ErrorEnvelope),
        (status = 409, description = "Not allowed from the current state, another activity is active, or the session is not active", body = ErrorEnvelope),
    ))]
async fn transition_activity(
    State(state): State<AppState>,
    HostAuth(auth): HostAuth,
    AppPath(id): AppPath<ActivityId>,
    AppJson(request): AppJson<TransitionRequest>,
) -> Result<Json<Activity>, ApiError> {
    let (session, activity) = owned_activity(&state, &auth.organizer, id).await?;
    let activity = activities::transition(&state.live, &session, activity, request.to).await?;
    Ok(Json(activity))
}

/// Runs a host command: `reveal` or `hide` results, `new_round`, `add_time`, or a kind's own (a poll's `lock` and
/// `unlock`). The optional JSON body holds the command's arguments.
#[utoipa::path(post, path = "/activities/{id}/commands/{command}", tag = "activities",
    params(("id" = ActivityId, Path), ("command" = String, Path, description = "reveal, hide, new_round, add_time ({\"seconds\": 1-3600}), or a kind's command (docs/activity-kinds.md)")),
    request_body(content = Object, description = "Arguments, if the command takes any"),
    responses((status = 200, body = Activity), (status = 404, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
async fn run_command(
    State(state): State<AppState>,
    HostAuth(auth): HostAuth,
    AppPath((id, command)): AppPath<(ActivityId, String)>,
    body: axum::body::Bytes,
) -> Result<Json<Activity>, ApiError> {
    let args: Value = if body.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&body).map_err(|e| {
            ApiError::bad_request(
                ErrorCode::MalformedJson,
                format!("the body is not valid JSON: {e}"),
            )
        })?
    };
    if command.len() > 64 {
        return Err(ApiError::invalid(
            ErrorCode::InvalidCommand,
            "unknown command",
        ));
    }
    let (session, activity) = owned_activity(&state, &auth.organizer, id).await?;
    let activity = activities::command(
        &state.live,
        &session,
        activity,
        activities::HostCommand {
            name: &command,
            args: &args,
        },
    )
    .await?;
    Ok(Json(activity))
}

/// Current results of an activity's current round, as the kind folds them (for a poll:
/// `total_voters` and `options` with `label`, `count`, `percent`), plus `activity_id`,
/// `kind`, `round` and `state`. Growing lists carry their first 200 entries (see
/// `/activities/{id}/results/{list}`). The body is built once per change and shared; its
/// `ETag` answers a repeated read with `If-None-Match` by `304 Not Modified`.
#[utoipa::path(get, path = "/activities/{id}/results", tag = "activities",
    params(("id" = ActivityId, Path), ("If-None-Match" = Option<String>, Header, description = "The ETag of a copy already held")),
    responses(
        (status = 200, body = Object, headers(("ETag" = String, description = "Changes whenever the document does"))),
        (status = 304, description = "The copy held is current"),
        (status = 403, description = "Results are hidden from participants until revealed", body = ErrorEnvelope),
        (status = 404, body = ErrorEnvelope),
    ))]
async fn activity_results(
    State(state): State<AppState>,
    headers: HeaderMap,
    auth: AnyAuth,
    AppPath(id): AppPath<ActivityId>,
) -> Result<Response, ApiError> {
    let (activity, viewer) = match &auth {
        AnyAuth::Organizer(organizer) => (
            Arc::new(owned_activity(&state, &organizer.organizer, id).await?.1),
            Viewer::Organizer,
        ),
        AnyAuth::Participant(participant) => {
            // From the hub's cache: a phone's read costs no database round trip.
            let activity = state
                .live
                .activity(id)
                .await?
                .filter(|a| {
                    a.session_id == participant.session_id && a.state != ActivityState::Draft
                })
                .ok_or_else(|| {
                    ApiError::new(
                        StatusCode::NOT_FOUND,
                        ErrorCode::ActivityNotFound,
                        "no such activity",
                    )
                })?;
            (
                activity,
                Viewer::Participant {
                    me: Some(participant.participant_id),
                },
            )
        }
    };
    let folded = state.live.results(&activity).await?;
    let Some(document) = folded.document(viewer, &activity) else {
        return Err(ApiError::forbidden(
            ErrorCode::ResultsHidden,
            "the results are hidden until the organizer reveals them",
        ));
    };
    Ok(crate::http::prepared::prepared_json(
        &headers,
        &document.etag,
        || document.bytes.clone(),
    ))
}

/// Most entries one page of a results list holds.
pub const LIST_PAGE_MAX: usize = 200;

/// Where a page of a results list starts.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListPage {
    /// The `next` cursor of the page before; absent for the first page.
    pub after: Option<String>,
    /// Entries per page, 1–200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<usize>,
}

/// One page of a results list.
#[derive(Debug, Serialize, ToSchema)]
pub struct ListPageBody {
    /// The entries, in the list's order.
    #[schema(value_type = Vec<Object>)]
    pub items: Vec<Value>,
    /// Entries in the whole list now.
    pub total: usize,
    /// Pass as `after` for the next page; null on the last page.
    pub next: Option<String>,
}

/// Pages through a growing list of the current round's results, as the organizer sees it:
/// `answers` or `moderation_queue` of an open question, `questions` or `moderation_queue`
/// of a Q&A, `words` or `moderation_queue` of a word cloud. Live documents carry the first
/// 200 entries of each; this reads all of them. The cursor names the last entry read, so a
/// list that grows at its start (newest first) does not repeat entries across pages.
#[utoipa::path(get, path = "/activities/{id}/results/{list}", tag = "activities",
    params(("id" = ActivityId, Path), ("list" = String, Path), ListPage),
    responses(
        (status = 200, body = ListPageBody),
        (status = 400, description = "A bad limit or cursor", body = ErrorEnvelope),
        (status = 404, description = "No such activity, or no such list for its kind", body = ErrorEnvelope),
    ))]
async fn results_list(
    State(state): State<AppState>,
    HostAuth(auth): HostAuth,
    AppPath((id, list)): AppPath<(ActivityId, String)>,
    AppQuery(page): AppQuery<ListPage>,
) -> Result<Json<ListPageBody>, ApiError> {
    let limit = page.limit.unwrap_or(50);
    if !(1..=LIST_PAGE_MAX).contains(&limit) {
        return Err(ApiError::bad_request(
            ErrorCode::InvalidQuery,
            format!("limit must be between 1 and {LIST_PAGE_MAX}"),
        ));
    }
    let (_, activity) = owned_activity(&state, &auth.organizer, id).await?;
    let folded = state.live.results(&activity).await?;
    let Some(items) = folded.prepared().list(&folded.results, &list) else {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            ErrorCode::ListNotFound,
            "this activity's results have no such list",
        ));
    };
    let key = folded
        .prepared()
        .lists()
        .iter()
        .find(|(name, _)| *name == list)
        .map_or("id", |(_, key)| *key);
    let key_of = |item: &Value| item.get(key).and_then(Value::as_str).map(str::to_owned);
    let start = match page.after.as_deref() {
        None => 0,
        Some(cursor) => {
            let (position, after) = cursor
                .split_once('.')
                .and_then(|(n, k)| Some((n.parse::<usize>().ok()?, k)))
                .ok_or_else(|| {
                    ApiError::bad_request(
                        ErrorCode::InvalidQuery,
                        "after is not a cursor from this list",
                    )
                })?;
            // Where the named entry is now; if it is gone, where it was.
            items
                .iter()
                .position(|item| key_of(item).as_deref() == Some(after))
                .map_or(position.min(items.len()), |found| found + 1)
        }
    };
    let total = items.len();
    let chunk: Vec<Value> = items.into_iter().skip(start).take(limit).collect();
    let end = start + chunk.len();
    let next = (end < total)
        .then(|| chunk.last().and_then(key_of).map(|k| format!("{end}.{k}")))
        .flatten();
    Ok(Json(ListPageBody {
        items: chunk,
        total,
        next,
    }))
}
