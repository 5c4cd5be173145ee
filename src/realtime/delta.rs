//! Results deltas: what changed between two results documents of one activity round, and
//! how a client applies it. A stream gets a whole document once (in its snapshot, an
//! `activity` event, or after a resync), then only deltas, so a growing list (open text
//! answers, Q&A questions, a moderation queue) costs the entries that changed, not the
//! whole list on every change.
//!
//! A delta is a JSON object:
//!
//! ```json
//! {"set": {"total_answers": 12},
//!  "unset": ["mine"],
//!  "lists": {"answers": {"key": "id", "upsert": [{"id": "a7", "text": "…"}],
//!                        "remove": ["a1"], "new_at": "start"}}}
//! ```
//!
//! - `set`: top-level fields replaced whole (scalars, and lists that are not keyed);
//! - `unset`: top-level fields removed;
//! - `lists`: keyed lists (the kind names them and their key field, see
//!   [`crate::kinds::ActivityKind::LISTS`]; `key` repeats the field): entries
//!   added or changed (`upsert`, whole entries), entries gone (`remove`, by key), and the
//!   order. Entries that were there keep their place and new ones go at the end, unless
//!   `new_at` is `"start"`, or unless `order` lists every key of the list in its new order.
//!
//! [`apply`] is the reference; `assets/js/lib.js` (`applyDelta`) and the load generator
//! follow it.

use std::collections::{HashMap, HashSet};

use serde_json::{Map, Value, json};

/// The key of one entry of a keyed list.
fn key_of<'a>(item: &'a Value, key: &str) -> Option<&'a str> {
    item.get(key).and_then(Value::as_str)
}

/// The delta that turns `old` into `new`, or `None` when they are equal. `lists` names the
/// keyed lists and their key field. A list whose entries lack their key is set whole.
pub fn diff(old: &Value, new: &Value, lists: &[(&str, &str)]) -> Option<Value> {
    let (Value::Object(old), Value::Object(new)) = (old, new) else {
        return (old != new).then(|| json!({ "replace": new }));
    };
    let mut set = Map::new();
    let mut changed_lists = Map::new();
    for (field, value) in new {
        let before = old.get(field);
        if before == Some(value) {
            continue;
        }
        let keyed = lists
            .iter()
            .find(|(name, _)| name == field)
            .map(|(_, k)| *k);
        match (keyed, before, value) {
            (Some(key), Some(Value::Array(before)), Value::Array(after)) => {
                match list_diff(before, after, key) {
                    Some(delta) => {
                        changed_lists.insert(field.clone(), delta);
                    }
                    None => {
                        set.insert(field.clone(), value.clone());
                    }
                }
            }
            _ => {
                set.insert(field.clone(), value.clone());
            }
        }
    }
    let unset: Vec<&String> = old.keys().filter(|k| !new.contains_key(*k)).collect();
    if set.is_empty() && unset.is_empty() && changed_lists.is_empty() {
        return None;
    }
    let mut delta = Map::new();
    if !set.is_empty() {
        delta.insert("set".into(), Value::Object(set));
    }
    if !unset.is_empty() {
        delta.insert("unset".into(), json!(unset));
    }
    if !changed_lists.is_empty() {
        delta.insert("lists".into(), Value::Object(changed_lists));
    }
    Some(Value::Object(delta))
}

/// One keyed list's change, or `None` when an entry has no key (or two share one).
fn list_diff(old: &[Value], new: &[Value], key: &str) -> Option<Value> {
    let old_by_key: HashMap<&str, &Value> = old
        .iter()
        .map(|item| key_of(item, key).map(|k| (k, item)))
        .collect::<Option<_>>()?;
    let new_keys: Vec<&str> = new
        .iter()
        .map(|item| key_of(item, key))
        .collect::<Option<_>>()?;
    let new_set: HashSet<&str> = new_keys.iter().copied().collect();
    if new_set.len() != new_keys.len() || old_by_key.len() != old.len() {
        return None;
    }
    let upsert: Vec<&Value> = new
        .iter()
        .filter(|item| {
            let k = key_of(item, key).unwrap_or_default();
            old_by_key.get(k) != Some(item)
        })
        .collect();
    let remove: Vec<&str> = old
        .iter()
        .filter_map(|item| key_of(item, key))
        .filter(|k| !new_set.contains(k))
        .collect();
    // Where the order lands without help: kept entries in their old order, new ones after
    // (or before) them.
    let kept: Vec<&str> = old
        .iter()
        .filter_map(|item| key_of(item, key))
        .filter(|k| new_set.contains(k))
        .collect();
    let added: Vec<&str> = new_keys
        .iter()
        .copied()
        .filter(|k| !old_by_key.contains_key(k))
        .collect();
    let at_end: Vec<&str> = kept.iter().chain(&added).copied().collect();
    let at_start: Vec<&str> = added.iter().chain(&kept).copied().collect();
    let mut delta = Map::new();
    delta.insert("key".into(), json!(key));
    if !upsert.is_empty() {
        delta.insert("upsert".into(), json!(upsert));
    }
    if !remove.is_empty() {
        delta.insert("remove".into(), json!(remove));
    }
    if new_keys == at_start && new_keys != at_end {
        delta.insert("new_at".into(), json!("start"));
    } else if new_keys != at_end {
        delta.insert("order".into(), json!(new_keys));
    }
    Some(Value::Object(delta))
}

/// Why a delta could not be applied: the client resyncs.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the results delta does not fit the document: {0}")]
pub struct Misfit(&'static str);

/// Applies a delta made by [`diff`] to `doc`.
pub fn apply(doc: &mut Value, delta: &Value) -> Result<(), Misfit> {
    if let Some(whole) = delta.get("replace") {
        *doc = whole.clone();
        return Ok(());
    }
    let Value::Object(fields) = doc else {
        return Err(Misfit("the document is not an object"));
    };
    if let Some(Value::Object(set)) = delta.get("set") {
        for (field, value) in set {
            fields.insert(field.clone(), value.clone());
        }
    }
    if let Some(Value::Array(unset)) = delta.get("unset") {
        for field in unset.iter().filter_map(Value::as_str) {
            fields.remove(field);
        }
    }
    if let Some(Value::Object(changed)) = delta.get("lists") {
        for (field, change) in changed {
            let key = change
                .get("key")
                .and_then(Value::as_str)
                .ok_or(Misfit("a list change without its key"))?;
            let Some(Value::Array(items)) = fields.get_mut(field) else {
                return Err(Misfit("a list the document lacks"));
            };
            apply_list(items, change, key)?;
        }
    }
    Ok(())
}

fn apply_list(items: &mut Vec<Value>, change: &Value, key: &str) -> Result<(), Misfit> {
    let remove: HashSet<&str> = change
        .get("remove")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    items.retain(|item| key_of(item, key).is_none_or(|k| !remove.contains(k)));
    let mut added = Vec::new();
    for entry in change
        .get("upsert")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let k = key_of(entry, key).ok_or(Misfit("an entry without its key"))?;
        match items.iter_mut().find(|item| key_of(item, key) == Some(k)) {
            Some(item) => *item = entry.clone(),
            None => added.push(entry.clone()),
        }
    }
    if change.get("new_at").and_then(Value::as_str) == Some("start") {
        added.append(items);
        *items = added;
    } else {
        items.append(&mut added);
    }
    if let Some(Value::Array(order)) = change.get("order") {
        let mut by_key: HashMap<String, Value> = items
            .drain(..)
            .filter_map(|item| key_of(&item, key).map(str::to_owned).map(|k| (k, item)))
            .collect();
        for k in order.iter().filter_map(Value::as_str) {
            items.push(
                by_key
                    .remove(k)
                    .ok_or(Misfit("an order with an unknown key"))?,
            );
        }
        if !by_key.is_empty() {
            return Err(Misfit("an order that leaves entries out"));
        }
    }
    Ok(())
}

/// A client's copy of the results document one stream carries (the load generator's and
/// the tests'; the web pages do the same in `assets/js/lib.js`).
#[derive(Debug, Default, Clone)]
pub struct Follower {
    activity: Option<String>,
    version: u64,
    /// The document, when the stream's audience may see one.
    pub doc: Option<Value>,
}

impl Follower {
    /// The activity whose results it holds.
    pub fn activity(&self) -> Option<&str> {
        self.activity.as_deref()
    }

    /// Takes the results of a `snapshot` or `activity` event.
    pub fn reset(&mut self, event: &Value) {
        self.activity = event["activity"]["id"].as_str().map(str::to_owned);
        self.version = event["results_version"].as_u64().unwrap_or(0);
        self.doc = Some(event["results"].clone()).filter(|doc| !doc.is_null());
    }

    /// Follows one event of a stream: `snapshot` and `activity` set the document, `results`
    /// changes it ([`Follower::results`]); `Ok(true)` when the document may have changed.
    pub fn follow(&mut self, name: &str, event: &Value) -> Result<bool, Misfit> {
        match name {
            "snapshot" | "activity" => {
                self.reset(event);
                Ok(true)
            }
            "results" => self.results(event),
            _ => Ok(false),
        }
    }

    /// Applies a `results` event: `Ok(true)` when the document changed, `Ok(false)` for an
    /// event it already holds or about another activity, `Err` when a delta does not fit
    /// (an event was missed: the client needs a new snapshot).
    pub fn results(&mut self, event: &Value) -> Result<bool, Misfit> {
        // A server from before deltas (during a rolling deploy) sends whole documents only.
        let Some(version) = event["version"].as_u64() else {
            if event["activity_id"].as_str() != self.activity.as_deref() {
                return Ok(false);
            }
            self.doc = Some(event["results"].clone());
            return Ok(true);
        };
        if event["activity_id"].as_str() != self.activity.as_deref() || version <= self.version {
            return Ok(false);
        }
        match event.get("delta") {
            Some(change) => {
                let doc = self.doc.as_mut().ok_or(Misfit("no document to change"))?;
                if event["base"].as_u64() != Some(self.version) {
                    return Err(Misfit("made from another version"));
                }
                apply(doc, change)?;
            }
            None => self.doc = Some(event["results"].clone()),
        }
        self.version = version;
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LISTS: &[(&str, &str)] = &[("answers", "id"), ("words", "word")];

    fn answer(id: &str, text: &str, votes: u32) -> Value {
        json!({"id": id, "text": text, "votes": votes})
    }

    /// Replays the deltas between successive documents from the first, and checks that
    /// each step lands on the next document exactly.
    fn replays_exactly(docs: &[Value]) -> usize {
        let mut bytes = 0;
        let mut doc = docs[0].clone();
        for pair in docs.windows(2) {
            if let Some(delta) = diff(&pair[0], &pair[1], LISTS) {
                bytes += delta.to_string().len();
                apply(&mut doc, &delta).unwrap();
            }
            assert_eq!(doc, pair[1], "after a delta");
        }
        bytes
    }

    #[test]
    fn equal_documents_have_no_delta() {
        let doc = json!({"total": 1, "answers": [answer("a", "x", 0)]});
        assert_eq!(diff(&doc, &doc, LISTS), None);
    }

    #[test]
    fn a_new_answer_travels_alone_however_long_the_list() {
        let mut list: Vec<Value> = (0..200)
            .map(|n| answer(&format!("a{n}"), &"x".repeat(1000), 0))
            .collect();
        let old = json!({"total_answers": 200, "answers": list.clone()});
        list.insert(0, answer("new", "hello", 0));
        list.pop();
        let new = json!({"total_answers": 201, "answers": list});
        let delta = diff(&old, &new, LISTS).unwrap();
        assert!(delta.to_string().len() < 200, "{delta}");
        assert_eq!(delta["lists"]["answers"]["new_at"], "start");
        assert_eq!(delta["lists"]["answers"]["remove"], json!(["a199"]));
        assert!(replays_exactly(&[old, new]) < 200);
    }

    #[test]
    fn edits_removals_reorders_and_field_changes_replay_to_the_same_document() {
        let docs = [
            json!({"sort": "votes", "answers": [], "words": [{"word": "rust", "count": 1}]}),
            json!({"sort": "votes", "answers": [answer("a", "one", 0)], "words": [{"word": "rust", "count": 2}]}),
            json!({"sort": "votes", "answers": [answer("a", "one", 0), answer("b", "two", 0)], "mine": []}),
            // b is upvoted past a: a new order.
            json!({"sort": "votes", "answers": [answer("b", "two", 1), answer("a", "one", 0)], "mine": []}),
            // a is edited, b removed, c added at the end.
            json!({"sort": "votes", "answers": [answer("a", "one!", 0), answer("c", "three", 0)]}),
            json!({"sort": "recent", "answers": [answer("c", "three", 0), answer("a", "one!", 0)]}),
            json!({"sort": "recent", "answers": []}),
        ];
        replays_exactly(&docs);
    }

    #[test]
    fn a_list_without_keys_is_set_whole() {
        let old = json!({"answers": [{"text": "no id"}]});
        let new = json!({"answers": [{"text": "no id"}, {"text": "again"}]});
        let delta = diff(&old, &new, LISTS).unwrap();
        assert!(delta["set"].get("answers").is_some());
        replays_exactly(&[old, new]);
    }

    #[test]
    fn a_delta_that_does_not_fit_is_refused_not_half_applied_silently() {
        let mut doc = json!({"total": 1});
        let delta = json!({"lists": {"answers": {"key": "id", "upsert": [answer("a", "x", 0)]}}});
        assert!(apply(&mut doc, &delta).is_err());
        let mut doc = json!({"answers": [answer("a", "x", 0)]});
        let delta = json!({"lists": {"answers": {"key": "id", "order": ["zzz"]}}});
        assert!(apply(&mut doc, &delta).is_err());
    }

    #[test]
    fn a_follower_applies_deltas_in_order_resyncs_on_a_gap_and_takes_old_servers_whole() {
        let mut follower = Follower::default();
        follower
            .reset(&json!({"activity": {"id": "p"}, "results": {"n": 1}, "results_version": 5}));
        let delta =
            json!({"activity_id": "p", "version": 7, "base": 5, "delta": {"set": {"n": 2}}});
        assert_eq!(follower.results(&delta), Ok(true));
        assert_eq!(follower.results(&delta), Ok(false), "already held");
        let gap = json!({"activity_id": "p", "version": 9, "base": 8, "delta": {"set": {"n": 3}}});
        assert!(follower.results(&gap).is_err(), "a missed event");
        let other = json!({"activity_id": "q", "version": 10, "results": {"n": 0}});
        assert_eq!(follower.results(&other), Ok(false));
        let old_server = json!({"activity_id": "p", "results": {"n": 4}});
        assert_eq!(follower.results(&old_server), Ok(true));
        assert_eq!(follower.doc, Some(json!({"n": 4})));
    }
}
