//! `_meta`: notes on what normalization and scrubbing changed, kept beside
//! the event as Relay keeps them.
//!
//! The event's `_meta` object mirrors the event's shape; at each changed
//! spot an object under the empty key says what happened:
//!
//! ```json
//! {"extra": {"password": {"": {"rem": [["@password:filter", "s", 0, 10]], "len": 5}}}}
//! ```
//!
//! `rem` lists remarks `[rule, type, start, end]`, where type `s` means the
//! range `start..end` (in characters) of the new value was substituted and
//! `x` means the value was removed; `len` is the original length (characters
//! of a string, items of a list or object).

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde_json::{Map, Value, json};

use crate::protocol::Event;

/// The key of an event's `_meta` object.
const META_KEY: &str = "_meta";

/// A remark on one value: which rule changed it, and how.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Remark {
    /// The characters `start..end` of the new value replace original text.
    Substituted {
        /// The rule, e.g. `@password:filter` or `!limit`.
        rule: &'static str,
        /// First substituted character.
        start: usize,
        /// One past the last substituted character.
        end: usize,
    },
    /// The value was removed.
    Removed {
        /// The rule, e.g. `@anything:remove`.
        rule: &'static str,
    },
}

impl Remark {
    fn to_json(&self) -> Value {
        match self {
            Remark::Substituted { rule, start, end } => json!([rule, "s", start, end]),
            Remark::Removed { rule } => json!([rule, "x"]),
        }
    }
}

#[derive(Debug, Default)]
struct Entry {
    remarks: Vec<Remark>,
    original_length: Option<usize>,
}

/// Remarks collected while walking an event, by path.
#[derive(Debug, Default)]
pub(crate) struct MetaLog {
    entries: BTreeMap<Vec<String>, Entry>,
}

impl MetaLog {
    /// Notes a remark on the value at `path`.
    pub(crate) fn remark(&mut self, path: &Path, remark: Remark) {
        self.entries
            .entry(path.segments())
            .or_default()
            .remarks
            .push(remark);
    }

    /// Notes the original length of the value at `path`; the first note wins.
    pub(crate) fn original_length(&mut self, path: &Path, length: usize) {
        let entry = self.entries.entry(path.segments()).or_default();
        entry.original_length.get_or_insert(length);
    }

    /// Writes the remarks into the event's `_meta`, merged with what it holds.
    pub(crate) fn write_to(self, event: &mut Event) {
        if self.entries.is_empty() {
            return;
        }
        let root = event
            .other
            .entry(META_KEY)
            .or_insert_with(|| Value::Object(Map::new()));
        if !root.is_object() {
            *root = Value::Object(Map::new());
        }
        for (path, entry) in self.entries {
            let mut node = &mut *root;
            for segment in path.iter().chain(std::iter::once(&String::new())) {
                let Value::Object(map) = node else {
                    break;
                };
                node = map
                    .entry(segment.as_str())
                    .or_insert_with(|| Value::Object(Map::new()));
                if !node.is_object() {
                    *node = Value::Object(Map::new());
                }
            }
            let Value::Object(leaf) = node else {
                continue;
            };
            let remarks = leaf
                .entry("rem")
                .or_insert_with(|| Value::Array(Vec::new()));
            if let Value::Array(remarks) = remarks {
                remarks.extend(entry.remarks.iter().map(Remark::to_json));
            }
            if let Some(length) = entry.original_length {
                leaf.entry("len").or_insert_with(|| length.into());
            }
        }
    }
}

/// A path into an event, e.g. `extra.password`, grown and shrunk while
/// walking the event; segments share one buffer, so walking allocates
/// nothing per key.
#[derive(Debug, Clone, Default)]
pub(crate) struct Path {
    text: String,
    ends: Vec<usize>,
}

impl Path {
    /// A path of the given segments.
    pub(crate) fn new(segments: &[&str]) -> Self {
        let mut path = Self::default();
        for segment in segments {
            path.push(segment);
        }
        path
    }

    /// Appends a key.
    pub(crate) fn push(&mut self, segment: &str) {
        self.text.push_str(segment);
        self.ends.push(self.text.len());
    }

    /// Appends a list index.
    pub(crate) fn push_index(&mut self, index: usize) {
        // Writing into a `String` cannot fail.
        let _ = write!(self.text, "{index}");
        self.ends.push(self.text.len());
    }

    /// Removes the last segment.
    pub(crate) fn pop(&mut self) {
        self.ends.pop();
        self.text.truncate(self.ends.last().copied().unwrap_or(0));
    }

    /// The number of segments.
    pub(crate) fn depth(&self) -> usize {
        self.ends.len()
    }

    /// Removes segments past `depth`.
    pub(crate) fn truncate(&mut self, depth: usize) {
        while self.depth() > depth {
            self.pop();
        }
    }

    fn segments(&self) -> Vec<String> {
        let mut start = 0;
        self.ends
            .iter()
            .map(|&end| {
                let segment = self.text.get(start..end).unwrap_or_default().to_owned();
                start = end;
                segment
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_nested_remarks_and_length() {
        let mut log = MetaLog::default();
        let at = Path::new(&["extra", "password"]);
        log.remark(
            &at,
            Remark::Substituted {
                rule: "@password:filter",
                start: 0,
                end: 10,
            },
        );
        log.original_length(&at, 5);
        log.remark(
            &Path::new(&["user", "ip_address"]),
            Remark::Removed {
                rule: "@anything:remove",
            },
        );
        let mut event = Event::default();
        log.write_to(&mut event);
        assert_eq!(
            event.other["_meta"],
            json!({
                "extra": {"password": {"": {"rem": [["@password:filter", "s", 0, 10]], "len": 5}}},
                "user": {"ip_address": {"": {"rem": [["@anything:remove", "x"]]}}},
            })
        );
    }

    #[test]
    fn path_pushes_and_pops_segments() {
        let mut path = Path::new(&["breadcrumbs", "values"]);
        path.push_index(12);
        path.push("message");
        assert_eq!(path.segments(), ["breadcrumbs", "values", "12", "message"]);
        path.pop();
        path.push("data");
        assert_eq!(path.segments(), ["breadcrumbs", "values", "12", "data"]);
        path.truncate(1);
        assert_eq!(path.segments(), ["breadcrumbs"]);
    }

    #[test]
    fn empty_log_leaves_event_alone() {
        let mut event = Event::default();
        MetaLog::default().write_to(&mut event);
        assert!(!event.other.contains_key("_meta"));
    }
}
