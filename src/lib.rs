//! Conflicto: a self-hostable live audience engagement server.
//!
//! Every module, by layer, from the outside in (docs/architecture.md draws the path of a
//! vote through them):
//!
//! - Entry: [`cli`] (the `conflicto` command: `serve`, `migrate`, `loadtest`, …) and [`app`]
//!   (builds and runs the server, owns shutdown).
//! - Delivery: [`http`] (router, middleware, the error envelope, API handlers) and [`web`]
//!   (pages, assets, languages), which call the use cases and never SQL.
//! - Fan-out: [`realtime`] (rooms, audiences, pre-framed events, deltas, the relay between
//!   instances).
//! - Use cases and domain: [`sessions`], [`participants`], [`activities`] (the kind trait
//!   and one module per kind), [`responses`] (submission, the group-commit writer, tallies),
//!   [`reactions`], [`reports`], [`session_templates`], [`organizers`], [`moderation`].
//! - Storage: [`storage`] (the [`storage::Store`] trait, SQLite and PostgreSQL, migrations).
//! - Foundations: [`auth`] (token formats, signing, password hashing), [`ids`] (typed ids),
//!   [`config`], [`telemetry`], [`memory`] (returning freed memory to the system).
//!
//! The layers are not yet strict: the domain calls the [`storage::Store`] trait, and storage
//! reads and writes the domain's types. See `docs/architecture.md` for the picture and the
//! path of a request.

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
pub mod session_templates;
pub mod sessions;
pub mod storage;
pub mod telemetry;
pub mod web;
