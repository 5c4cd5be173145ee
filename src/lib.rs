//! Conflicto: a self-hostable live audience engagement server.
//!
//! Module map (dependencies point down this list, never up):
//! - [`cli`]: the `conflicto` command line: `serve`, `migrate`, `health-check`.
//! - [`app`]: builds and runs the server; owns shutdown ([`app::Lifecycle`]).
//! - [`http`]: the router, middleware, error envelope, API handlers and pages.
//! - [`config`]: the plain [`config::Config`] struct and its parsing rules.
//! - [`storage`]: the [`storage::Store`] trait, its SQLite and PostgreSQL implementations,
//!   and the migrations embedded in the binary.
//! - [`telemetry`]: the tracing subscriber and the Prometheus recorder.
//!
//! See `docs/architecture.md` for the picture and the path of a request.

pub mod activities;
pub mod app;
pub mod auth;
pub mod cli;
pub mod config;
pub mod http;
pub mod ids;
pub mod memory;
pub mod moderation;
pub mod organizers;
pub mod participants;
pub mod reactions;
pub mod realtime;
pub mod reports;
pub mod responses;
pub mod sessions;
pub mod storage;
pub mod telemetry;
pub mod templates;
pub mod web;
