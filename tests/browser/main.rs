//! Browser tests: the web app in headless Chromium against the real server (SQLite). One test
//! runs a whole event through the pages, as people would: the organizer signs in, builds a
//! session with one activity of each kind, opens the big screen, and three phones join and
//! take part, one of them reloading in the middle. Every page is checked with axe-core, and
//! screenshots land in `target/browser-artifacts/`.

#[path = "../common/mod.rs"]
mod common;
#[path = "../api/helpers.rs"]
#[allow(dead_code)]
mod helpers;

mod account;
mod builder;
mod commands;
mod crowd;
mod driver;
mod endings;
mod event;
mod languages;
mod library;
mod long_lists;
mod motion;
mod ordering;
mod paced;
mod report;
#[cfg(feature = "toy-kind")]
mod teams;
mod toy;
mod waiting;
