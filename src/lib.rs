//! Conflicto: a self-hostable live audience engagement server.
//!
//! Every module, by layer, from the outside in. A module uses its own layer and the ones
//! below it; the test in `layers` holds that, and lists the uses that still point up.
//!
//! - Entry: [`cli`] (the `conflicto` command: `serve`, `migrate`, `loadtest`, …), over [`app`]
//!   (builds and runs the server, owns shutdown).
//! - Delivery: [`http`] (router, middleware, the error envelope, API handlers) and [`web`]
//!   (pages, assets, languages), which call the use cases and never SQL.
//! - Fan-out: [`realtime`] (rooms, audiences, pre-framed events, deltas, the relay between
//!   instances).
//! - Use cases and domain: [`sessions`], [`participants`], [`activities`] (the kind trait
//!   and one module per kind), [`responses`] (submission, the group-commit writer, tallies),
//!   [`reactions`], [`reports`], [`session_templates`], [`organizers`], [`moderation`].
//! - [`config`], which names how to reach the database.
//! - Storage: [`storage`] (the [`storage::Store`] trait, SQLite and PostgreSQL, migrations).
//! - Foundations: [`auth`] (token formats, signing, password hashing), [`ids`] (typed ids),
//!   [`telemetry`], [`memory`] (returning freed memory to the system).
//!
//! Uses that still point up: storage reads and writes the domain's types. The domain tells the fan-out of its changes through
//! [`sessions::changes::Changes`], which the fan-out implements. See `docs/architecture.md`
//! for the picture and the path of a request.

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

/// The module map's layers as a test: a module may use modules of its own layer and of the
/// layers below. The uses that still point up are listed; a new one fails the test, and so
/// does a listed one that is gone (take it off the list).
#[cfg(test)]
mod layers {
    use std::collections::BTreeSet;
    use std::path::Path;

    /// Lowest first.
    const LAYERS: &[&[&str]] = &[
        &["ids", "memory", "telemetry", "auth"],
        &["storage"],
        &["config"],
        &[
            "moderation",
            "organizers",
            "sessions",
            "participants",
            "activities",
            "responses",
            "reactions",
            "reports",
            "session_templates",
        ],
        &["realtime"],
        &["http", "web"],
        &["app"],
        &["cli"],
    ];

    /// Uses that point up today: storage reads and writes the domain's types.
    const UPWARD: &[(&str, &str)] = &[
        ("storage", "activities"),
        ("storage", "organizers"),
        ("storage", "participants"),
        ("storage", "session_templates"),
        ("storage", "sessions"),
    ];

    fn layer(module: &str) -> usize {
        LAYERS
            .iter()
            .position(|layer| layer.contains(&module))
            .unwrap_or_else(|| panic!("module {module} is in no layer"))
    }

    fn sources(path: &Path, found: &mut Vec<String>) {
        if path.is_dir() {
            for entry in std::fs::read_dir(path).unwrap() {
                sources(&entry.unwrap().path(), found);
            }
        } else if path.is_file() && path.extension().is_some_and(|e| e == "rs") {
            found.push(std::fs::read_to_string(path).unwrap());
        }
    }

    /// The top-level modules a module's code names as `crate::…`.
    fn uses(src: &Path, module: &str) -> BTreeSet<String> {
        let mut texts = Vec::new();
        sources(&src.join(module), &mut texts);
        sources(&src.join(format!("{module}.rs")), &mut texts);
        let mut used = BTreeSet::new();
        for text in &texts {
            for (at, _) in text.match_indices("crate::") {
                let name: String = text[at + 7..]
                    .chars()
                    .take_while(|c| c.is_ascii_lowercase() || *c == '_')
                    .collect();
                if name != module && !name.is_empty() {
                    used.insert(name);
                }
            }
        }
        used
    }

    #[test]
    fn no_module_uses_a_higher_layer_beyond_the_known_ones() {
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let lib = std::fs::read_to_string(src.join("lib.rs")).unwrap();
        let modules: Vec<&str> = lib
            .lines()
            .filter_map(|l| l.strip_prefix("pub mod ")?.strip_suffix(';'))
            .collect();
        let mut upward = BTreeSet::new();
        for module in &modules {
            for used in uses(&src, module) {
                if modules.contains(&used.as_str()) && layer(&used) > layer(module) {
                    upward.insert(((*module).to_owned(), used));
                }
            }
        }
        let known: BTreeSet<(String, String)> = UPWARD
            .iter()
            .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
            .collect();
        let new: Vec<_> = upward.difference(&known).collect();
        assert!(
            new.is_empty(),
            "modules that now use a higher layer: {new:?}"
        );
        let gone: Vec<_> = known.difference(&upward).collect();
        assert!(
            gone.is_empty(),
            "no longer upward, take off UPWARD: {gone:?}"
        );
    }
}
