//! Conflicto: a self-hostable live audience engagement server.
//!
//! Every module, by layer, from the outside in. A module uses the ones below it (and
//! others of its own layer, never in a circle); the tests in `layers` hold that.
//!
//! - Entry: [`cli`] (the `conflicto` command: `serve`, `migrate`, `loadtest`, …), over [`app`]
//!   (builds and runs the server, owns shutdown).
//! - Delivery: [`web`] (pages, assets, languages) over [`http`] (router, middleware, the
//!   error envelope, API handlers); they call the use cases and never SQL.
//! - Fan-out: [`realtime`] (rooms, audiences, pre-framed events, deltas, the relay between
//!   instances).
//! - Use cases, from the top: [`session_templates`]; [`sessions`] and [`reports`];
//!   [`activities`] (the state machine, host commands, results), [`organizers`],
//!   [`participants`], [`reactions`]; [`responses`] (submission, the group-commit writer,
//!   tallies, and [`responses::live::Live`], the domain's live state the use cases take);
//!   [`kinds`] (the `ActivityKind` trait, the registry and one module per kind);
//!   [`moderation`].
//! - [`config`], which names how to reach the database.
//! - Storage: [`storage`] (the [`storage::Store`] trait, SQLite and PostgreSQL, migrations).
//! - [`model`]: the records storage keeps and every layer reads, and the
//!   [`model::changes::Changes`] port through which the domain tells the fan-out what
//!   changed (the fan-out implements it).
//! - Foundations: [`auth`] (token formats, signing, password hashing), [`ids`] (typed ids),
//!   [`telemetry`], [`memory`] (returning freed memory to the system).
//!
//! See `docs/architecture.md` for the picture and the path of a vote.

pub mod activities;
pub mod app;
pub mod auth;
pub mod cli;
pub mod config;
pub mod http;
pub mod ids;
pub mod images;
pub mod kinds;
pub mod memory;
pub mod model;
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

/// The module map's layers as tests: a module may use modules of its own layer and of the
/// layers below, and no modules use each other in a circle.
#[cfg(test)]
mod layers {
    use std::collections::{BTreeMap, BTreeSet};
    use std::path::Path;

    /// Lowest first.
    const LAYERS: &[&[&str]] = &[
        &["ids", "memory", "telemetry", "auth"],
        &["model", "images"],
        &["storage"],
        &["config"],
        &["moderation"],
        &["kinds"],
        &["responses"],
        &["activities", "organizers", "participants", "reactions"],
        &["sessions", "reports"],
        &["session_templates"],
        &["realtime"],
        &["http"],
        &["web"],
        &["app"],
        &["cli"],
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

    /// Every top-level module and the top-level modules it uses.
    fn graph() -> BTreeMap<String, BTreeSet<String>> {
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let lib = std::fs::read_to_string(src.join("lib.rs")).unwrap();
        let modules: Vec<String> = lib
            .lines()
            .filter_map(|l| l.strip_prefix("pub mod ")?.strip_suffix(';'))
            .map(str::to_owned)
            .collect();
        modules
            .iter()
            .map(|module| {
                let used = uses(&src, module)
                    .into_iter()
                    .filter(|used| modules.contains(used))
                    .collect();
                (module.clone(), used)
            })
            .collect()
    }

    #[test]
    fn no_module_uses_a_higher_layer() {
        let mut upward = Vec::new();
        for (module, used) in graph() {
            for used in used {
                if layer(&used) > layer(&module) {
                    upward.push((module.clone(), used));
                }
            }
        }
        assert!(
            upward.is_empty(),
            "modules that use a higher layer: {upward:?}"
        );
    }

    #[test]
    fn no_modules_use_each_other_in_a_circle() {
        let graph = graph();
        // Depth-first from each module; meeting a module still on the path is a circle.
        fn visit<'a>(
            graph: &'a BTreeMap<String, BTreeSet<String>>,
            module: &'a str,
            path: &mut Vec<&'a str>,
            done: &mut BTreeSet<&'a str>,
        ) {
            if let Some(at) = path.iter().position(|m| *m == module) {
                panic!("modules use each other in a circle: {:?}", &path[at..]);
            }
            if !done.insert(module) {
                return;
            }
            path.push(module);
            for used in &graph[module] {
                visit(graph, used, path, done);
            }
            path.pop();
        }
        let mut done = BTreeSet::new();
        for module in graph.keys() {
            visit(&graph, module, &mut Vec::new(), &mut done);
        }
    }
}
