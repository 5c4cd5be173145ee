//! API integration tests: one binary, each test starts the real app on port 0 with a fresh
//! database, on SQLite and on PostgreSQL (see `common::both_backends!`).

#[path = "../common/mod.rs"]
mod common;

mod access;
mod accounts;
mod activities;
mod analytics;
mod auth;
mod errors;
mod health;
mod helpers;
mod images;
mod kinds;
mod limits;
mod live;
mod metrics;
mod oidc;
mod openapi;
mod paced;
mod pages;
mod participants;
mod reports;
mod responses;
mod retention;
mod security;
mod sessions;
mod shutdown;
mod storage;
mod teams;
mod templates;
