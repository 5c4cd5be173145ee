//! The JSON API under `/api/v1`: one sub-router per resource, each documented with
//! `#[utoipa::path]`, so the OpenAPI document is generated from the same code that routes.

pub mod activities;
pub mod analytics;
pub mod auth;
pub mod contract;
pub mod course;
pub mod health;
pub mod images;
pub mod live;
pub mod participants;
pub mod reactions;
pub mod reports;
pub mod responses;
pub mod sessions;
pub mod templates;
pub mod views;

use axum::Router;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;

use crate::http::state::AppState;

/// The document's fixed parts; paths and schemas come from the handlers.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Conflicto API",
        description = "Live audience engagement: sessions, activities, participants, responses and results. \
                       Organizers authenticate with `Authorization: Bearer <token>` from POST /api/v1/auth/login \
                       (or the session cookie plus `X-CSRF-Token`); participants with the token from joining. \
                       Every error is `{\"error\": {\"code\", \"message\", \"details\"?}}`.",
        license(name = "AGPL-3.0-or-later")
    ),
    tags(
        (name = "health", description = "Health checks for load balancers and pipelines"),
        (name = "auth", description = "Organizer sign-in and API tokens"),
        (name = "sessions", description = "Live events"),
        (name = "templates", description = "Saved sessions: versions, variants, change logs, import and export"),
        (name = "participants", description = "Joining and presence"),
        (name = "activities", description = "Polls and the other kinds, their states and results"),
        (name = "responses", description = "Participants' answers"),
        (name = "reactions", description = "Emoji reactions"),
        (name = "images", description = "Images in questions and choices"),
        (name = "reports", description = "Summary and export"),
        (name = "analytics", description = "Attendance, participation, time to answer and reactions; history and comparisons; as JSON and CSV"),
        (name = "live", description = "The live event stream and viewer links"),
    )
)]
struct ApiDoc;

/// Every `/api/v1` route, and the OpenAPI document describing them as generated from the
/// handlers ([`contract::finish`] completes it for serving).
pub fn router() -> (Router<AppState>, utoipa::openapi::OpenApi) {
    let api = OpenApiRouter::new()
        .merge(health::router())
        .merge(auth::router())
        .merge(sessions::router())
        .merge(templates::router())
        .merge(participants::router())
        .merge(course::router())
        .merge(activities::router())
        .merge(responses::router())
        .merge(reactions::router())
        .merge(images::router())
        .merge(reports::router())
        .merge(analytics::router())
        .merge(live::router());
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .nest("/api/v1", api)
        .split_for_parts()
}
