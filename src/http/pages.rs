//! Server-rendered pages. For now the landing page at `/`, which says the server runs and
//! links to what exists; the organizer, big-screen and phone pages arrive with the web app.

use axum::Router;
use axum::response::Html;
use axum::routing::get;

use crate::app::AppState;

/// The page routes.
pub fn router() -> Router<AppState> {
    Router::new().route("/", get(landing))
}

async fn landing() -> Html<&'static str> {
    Html(include_str!("../../templates/landing.html"))
}
