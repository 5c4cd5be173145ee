//! The JSON API under `/api/v1`: one sub-router per resource.

pub mod health;

use axum::Router;

use crate::app::AppState;

/// Every `/api/v1` route.
pub fn router() -> Router<AppState> {
    Router::new().merge(health::router())
}
