//! API integration tests: one binary, each test starts the real app on port 0 with a fresh
//! database, on SQLite and on PostgreSQL (see `common::both_backends!`).

#[path = "../common/mod.rs"]
mod common;

mod errors;
mod health;
mod helpers;
mod metrics;
mod security;
mod shutdown;
mod storage;
