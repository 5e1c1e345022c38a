//! Trimming to the maximums Sentry documents and Relay enforces.
//!
//! - **Strings** over their field's limit (plus a small allowance for long
//!   texts) are cut to the limit, ending in `...`; `_meta` records a `!limit`
//!   remark and the original length. See [`MESSAGE_CHARS`] and the
//!   constants after it.
//! - **`dist`** over 64 characters and **tags** whose key or value exceeds
//!   200 characters are dropped with a `value_too_long` error, since a cut
//!   value would be a different value.
//! - **Breadcrumbs**: the newest [`MAX_BREADCRUMBS`] are kept.
//! - **Stack traces**: the newest [`MAX_FRAMES`] frames are kept; past
//!   [`FRAME_DATA_ALLOWANCE`] frames, the middle ones lose their variables
//!   and source context (app frames last).
//! - **Data bags** (`extra`, `contexts`, `modules`, `request.data`,
//!   `request.env`, `user.data`, breadcrumb `data`, frame `vars`) are cut to
//!   a depth and an estimated JSON size: a container at the last level is
//!   replaced by its JSON text, and items past the size budget are left out.

use serde_json::Value;

use super::errors::{ErrorKind, ProcessingError};
use crate::meta::{MetaLog, Path, Remark};
use crate::protocol::{Event, Frame};

/// The rule id Relay uses for trimmed values.
const LIMIT_RULE: &str = "!limit";

/// Maximum characters of a tag key or value.
pub const MAX_TAG_CHARS: usize = 200;
/// Maximum characters of `dist`.
pub const MAX_DIST_CHARS: usize = 64;
/// Breadcrumbs kept, newest first.
pub const MAX_BREADCRUMBS: usize = 100;
/// Frames kept per stack trace, newest first.
pub const MAX_FRAMES: usize = 250;
/// Frames that keep their variables and source context.
pub const FRAME_DATA_ALLOWANCE: usize = 50;

/// A maximum string length: cut to `limit` characters once longer than
/// `limit + allowance`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MaxChars {
    /// The length a long string is cut to.
    pub limit: usize,
    /// How far a string may exceed `limit` before it is cut.
    pub allowance: usize,
}

const fn hard(limit: usize) -> MaxChars {
    MaxChars {
        limit,
        allowance: 0,
    }
}

/// `logentry.message`, `logentry.formatted` and exception values.
pub const MESSAGE_CHARS: MaxChars = MaxChars {
    limit: 8192,
    allowance: 200,
};
/// `culprit`, `transaction` and `release`.
pub const SHORT_TEXT_CHARS: MaxChars = hard(200);
/// `logger` and `environment`.
pub const NAME_CHARS: MaxChars = hard(64);
/// `server_name`.
pub const SERVER_NAME_CHARS: MaxChars = MaxChars {
    limit: 256,
    allowance: 20,
};
/// `user.email`.
pub const EMAIL_CHARS: MaxChars = hard(75);

/// The depth and estimated JSON size a data bag may reach.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BagSize {
    /// Levels of nesting, the bag itself included.
    pub max_depth: usize,
    /// Estimated bytes of JSON.
    pub max_bytes: usize,
}

/// Breadcrumb data, frame variables, user data.
pub const BAG_MEDIUM: BagSize = BagSize {
    max_depth: 5,
    max_bytes: 2048,
};
/// Each context, `modules`, request data and environment.
pub const BAG_LARGE: BagSize = BagSize {
    max_depth: 7,
    max_bytes: 8192,
};
/// `extra`.
pub const BAG_MASSIVE: BagSize = BagSize {
    max_depth: 7,
    max_bytes: 262_144,
};

/// Applies every limit, noting trimmed spots in `meta` and dropped values
/// in `errors`.
pub(crate) fn trim_event(event: &mut Event, meta: &mut MetaLog, errors: &mut Vec<ProcessingError>) {
    trim_strings(event, meta);
    drop_too_long(event, errors);
    trim_breadcrumbs(event, meta);
    event.for_each_stacktrace_mut(|at, stacktrace| {
        let mut path = Path::new(at);
        path.push("frames");
        limit_frames(&mut stacktrace.frames, &path, meta);
        for (index, frame) in stacktrace.frames.iter_mut().enumerate() {
            if let Some(vars) = frame.vars.as_mut() {
                path.push_index(index);
                path.push("vars");
                trim_bag(vars, BAG_MEDIUM, &mut path, meta);
                path.truncate(path.depth() - 2);
            }
        }
    });
    trim_bags(event, meta);
}

fn trim_strings(event: &mut Event, meta: &mut MetaLog) {
    let mut limit = |field: Option<&mut String>, at: &[&str], max: MaxChars| {
        if let Some(text) = field {
            trim_string(text, max, &Path::new(at), meta);
        }
    };
    if let Some(entry) = event.logentry.as_mut() {
        limit(
            entry.message.as_mut(),
            &["logentry", "message"],
            MESSAGE_CHARS,
        );
        limit(
            entry.formatted.as_mut(),
            &["logentry", "formatted"],
            MESSAGE_CHARS,
        );
    }
    if let Some(exceptions) = event.exception.as_mut() {
        for (index, exception) in exceptions.values.iter_mut().enumerate() {
            let index = index.to_string();
            let at = ["exception", "values", &index, "value"];
            limit(exception.value.as_mut(), &at, MESSAGE_CHARS);
        }
    }
    limit(event.culprit.as_mut(), &["culprit"], SHORT_TEXT_CHARS);
    limit(
        event.transaction.as_mut(),
        &["transaction"],
        SHORT_TEXT_CHARS,
    );
    limit(event.release.as_mut(), &["release"], SHORT_TEXT_CHARS);
    limit(event.logger.as_mut(), &["logger"], NAME_CHARS);
    limit(event.environment.as_mut(), &["environment"], NAME_CHARS);
    limit(
        event.server_name.as_mut(),
        &["server_name"],
        SERVER_NAME_CHARS,
    );
    if let Some(user) = event.user.as_mut() {
        limit(user.email.as_mut(), &["user", "email"], EMAIL_CHARS);
    }
}

/// Cuts a string longer than `max.limit + max.allowance` to `max.limit`
/// characters, the last three being `...`. Returns whether it was cut.
pub(crate) fn trim_string(text: &mut String, max: MaxChars, at: &Path, meta: &mut MetaLog) -> bool {
    let length = text.chars().count();
    if length <= max.limit.saturating_add(max.allowance) {
        return false;
    }
    let kept = max.limit.saturating_sub(3);
    let cut = text
        .char_indices()
        .nth(kept)
        .map_or(text.len(), |(at, _)| at);
    text.truncate(cut);
    text.push_str("...");
    meta.remark(
        at,
        Remark::Substituted {
            rule: LIMIT_RULE,
            start: kept,
            end: kept + 3,
        },
    );
    meta.original_length(at, length);
    true
}

fn drop_too_long(event: &mut Event, errors: &mut Vec<ProcessingError>) {
    if let Some(dist) = event.dist.take() {
        if dist.chars().count() > MAX_DIST_CHARS {
            errors.push(ProcessingError::new(ErrorKind::ValueTooLong, "dist").with_value(dist));
        } else {
            event.dist = Some(dist);
        }
    }
    if let Some(tags) = event.tags.as_mut() {
        let mut index = 0;
        tags.0.retain(|(key, value)| {
            let too_long = if key.chars().count() > MAX_TAG_CHARS {
                Some(0)
            } else if value.chars().count() > MAX_TAG_CHARS {
                Some(1)
            } else {
                None
            };
            if let Some(part) = too_long {
                errors.push(ProcessingError::new(
                    ErrorKind::ValueTooLong,
                    format!("tags.{index}.{part}"),
                ));
            }
            index += 1;
            too_long.is_none()
        });
    }
}

fn trim_breadcrumbs(event: &mut Event, meta: &mut MetaLog) {
    let Some(breadcrumbs) = event.breadcrumbs.as_mut() else {
        return;
    };
    let count = breadcrumbs.values.len();
    if count > MAX_BREADCRUMBS {
        breadcrumbs.values.drain(..count - MAX_BREADCRUMBS);
        meta.original_length(&Path::new(&["breadcrumbs", "values"]), count);
    }
}

/// Keeps the newest [`MAX_FRAMES`] frames and slims the middle ones.
fn limit_frames(frames: &mut Vec<Frame>, at: &Path, meta: &mut MetaLog) {
    let count = frames.len();
    if count > MAX_FRAMES {
        frames.drain(..count - MAX_FRAMES);
        meta.original_length(at, count);
    }
    slim_frames(frames, FRAME_DATA_ALLOWANCE);
}

/// Past `allowance` frames, strips variables and source context from the
/// middle of the stack: first from system frames, keeping those nearest
/// both ends, then from app frames if still needed.
fn slim_frames(frames: &mut [Frame], allowance: usize) {
    let count = frames.len();
    if count <= allowance {
        return;
    }
    let (app, system): (Vec<usize>, Vec<usize>) = (0..count)
        .partition(|&index| frames.get(index).and_then(|frame| frame.in_app) == Some(true));
    let middle = |indices: &[usize], keep_each_end: usize| -> Vec<usize> {
        if indices.len() <= keep_each_end * 2 {
            return Vec::new();
        }
        indices[keep_each_end..indices.len() - keep_each_end].to_vec()
    };
    let system_strip = middle(&system, allowance.saturating_sub(app.len()) / 2);
    let still_over = count
        .saturating_sub(allowance)
        .saturating_sub(system_strip.len());
    let app_strip = middle(&app, app.len().saturating_sub(still_over) / 2);
    for index in system_strip.into_iter().chain(app_strip) {
        if let Some(frame) = frames.get_mut(index) {
            frame.vars = None;
            frame.pre_context = None;
            frame.post_context = None;
        }
    }
}

fn trim_bags(event: &mut Event, meta: &mut MetaLog) {
    trim_map_bag(
        &mut event.extra,
        BAG_MASSIVE,
        &mut Path::new(&["extra"]),
        meta,
    );
    trim_map_bag(
        &mut event.modules,
        BAG_LARGE,
        &mut Path::new(&["modules"]),
        meta,
    );
    if let Some(contexts) = event.contexts.as_mut() {
        let mut path = Path::new(&["contexts"]);
        for (name, context) in contexts.iter_mut() {
            path.push(name);
            trim_bag(context, BAG_LARGE, &mut path, meta);
            path.pop();
        }
    }
    if let Some(request) = event.request.as_mut() {
        if let Some(data) = request.data.as_mut() {
            trim_bag(data, BAG_LARGE, &mut Path::new(&["request", "data"]), meta);
        }
        if let Some(env) = request.env.as_mut() {
            trim_bag(env, BAG_LARGE, &mut Path::new(&["request", "env"]), meta);
        }
    }
    if let Some(data) = event.user.as_mut().and_then(|user| user.data.as_mut()) {
        trim_bag(data, BAG_MEDIUM, &mut Path::new(&["user", "data"]), meta);
    }
    if let Some(breadcrumbs) = event.breadcrumbs.as_mut() {
        let mut path = Path::new(&["breadcrumbs", "values"]);
        for (index, breadcrumb) in breadcrumbs.values.iter_mut().enumerate() {
            path.push_index(index);
            path.push("data");
            trim_map_bag(&mut breadcrumb.data, BAG_MEDIUM, &mut path, meta);
            path.truncate(2);
        }
    }
}

fn trim_map_bag(
    field: &mut Option<serde_json::Map<String, Value>>,
    bag: BagSize,
    at: &mut Path,
    meta: &mut MetaLog,
) {
    let Some(map) = field.take() else {
        return;
    };
    let mut value = Value::Object(map);
    trim_bag(&mut value, bag, at, meta);
    if let Value::Object(map) = value {
        *field = Some(map);
    }
}

/// Cuts a data bag at `at` to its depth and size.
pub(crate) fn trim_bag(value: &mut Value, bag: BagSize, at: &mut Path, meta: &mut MetaLog) {
    let mut budget = bag.max_bytes;
    if fits(value, bag.max_depth, &mut budget) {
        return;
    }
    let mut trimmer = BagTrimmer {
        remaining: bag.max_bytes,
        path: at,
        meta,
    };
    trimmer.visit(value, bag.max_depth);
}

/// Whether a bag needs no trimming: the read-only twin of
/// [`BagTrimmer::visit`], which most bags pass without allocating.
fn fits(value: &Value, depth_left: usize, budget: &mut usize) -> bool {
    if *budget == 0 || depth_left == 0 {
        return false;
    }
    let fits_below = match value {
        Value::String(text) => text.chars().count() <= *budget,
        Value::Array(items) => {
            (items.is_empty() || depth_left > 1)
                && items.iter().all(|item| fits(item, depth_left - 1, budget))
        }
        Value::Object(map) => {
            (map.is_empty() || depth_left > 1)
                && map.values().all(|item| fits(item, depth_left - 1, budget))
        }
        Value::Null | Value::Bool(_) | Value::Number(_) => true,
    };
    let size = flat_size(value) + 1;
    if !fits_below || size > *budget {
        return false;
    }
    *budget -= size;
    true
}

struct BagTrimmer<'a> {
    remaining: usize,
    path: &'a mut Path,
    meta: &'a mut MetaLog,
}

impl BagTrimmer<'_> {
    /// Trims one value with `depth_left` levels allowed; returns whether it
    /// stays.
    fn visit(&mut self, value: &mut Value, depth_left: usize) -> bool {
        if self.remaining == 0 || depth_left == 0 {
            return false;
        }
        let is_full_container = match value {
            Value::Array(items) => !items.is_empty(),
            Value::Object(map) => !map.is_empty(),
            _ => false,
        };
        if depth_left == 1 && is_full_container {
            *value = Value::String(value.to_string());
        }
        match value {
            Value::String(text) => {
                trim_string(text, hard(self.remaining), self.path, self.meta);
            }
            Value::Array(items) => self.visit_array(items, depth_left),
            Value::Object(map) => self.visit_object(map, depth_left),
            _ => {}
        }
        self.remaining = self.remaining.saturating_sub(flat_size(value) + 1);
        true
    }

    fn visit_array(&mut self, items: &mut Vec<Value>, depth_left: usize) {
        let original = items.len();
        let mut end = original;
        for (index, item) in items.iter_mut().enumerate() {
            if self.remaining == 0 {
                end = index;
                break;
            }
            self.path.push_index(index);
            if !self.visit(item, depth_left - 1) {
                *item = Value::Null;
            }
            self.path.pop();
        }
        items.truncate(end);
        if items.len() != original {
            self.meta.original_length(self.path, original);
        }
    }

    fn visit_object(&mut self, map: &mut serde_json::Map<String, Value>, depth_left: usize) {
        let original = map.len();
        let mut dropped = Vec::new();
        for (key, item) in map.iter_mut() {
            if self.remaining == 0 {
                dropped.push(key.clone());
                continue;
            }
            self.path.push(key);
            if !self.visit(item, depth_left - 1) {
                dropped.push(key.clone());
            }
            self.path.pop();
        }
        for key in &dropped {
            map.shift_remove(key);
        }
        if map.len() != original {
            self.meta.original_length(self.path, original);
        }
    }
}

/// The estimated JSON size of a value without its children.
fn flat_size(value: &Value) -> usize {
    match value {
        Value::Null => 4,
        Value::Bool(flag) => {
            if *flag {
                4
            } else {
                5
            }
        }
        Value::Number(number) => display_len(number),
        Value::String(text) => text.len() + 2,
        Value::Array(_) | Value::Object(_) => 2,
    }
}

/// The length of a value's `Display` form, without building it.
fn display_len(value: &impl std::fmt::Display) -> usize {
    struct Counter(usize);
    impl std::fmt::Write for Counter {
        fn write_str(&mut self, text: &str) -> std::fmt::Result {
            self.0 += text.len();
            Ok(())
        }
    }
    let mut counter = Counter(0);
    // Counting cannot fail.
    let _ = std::fmt::write(&mut counter, format_args!("{value}"));
    counter.0
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn trimmed(value: Value) -> (Event, Vec<ProcessingError>, Value) {
        let mut event: Event = serde_json::from_value(value).unwrap();
        let mut meta = MetaLog::default();
        let mut errors = Vec::new();
        trim_event(&mut event, &mut meta, &mut errors);
        meta.write_to(&mut event);
        let meta = event.other.get("_meta").cloned().unwrap_or(Value::Null);
        (event, errors, meta)
    }

    #[test]
    fn cuts_long_culprit_and_records_meta() {
        let (event, errors, meta) = trimmed(json!({"culprit": "x".repeat(300)}));
        let culprit = event.culprit.unwrap();
        assert_eq!(culprit.chars().count(), 200);
        assert!(culprit.ends_with("xx..."));
        assert!(errors.is_empty());
        assert_eq!(
            meta,
            json!({"culprit": {"": {"rem": [["!limit", "s", 197, 200]], "len": 300}}})
        );
    }

    #[test]
    fn message_gets_an_allowance() {
        let (event, _, _) = trimmed(json!({"logentry": {"formatted": "é".repeat(8300)}}));
        assert_eq!(
            event.logentry.unwrap().formatted.unwrap().chars().count(),
            8300
        );
        let (event, _, meta) = trimmed(json!({"logentry": {"formatted": "é".repeat(9000)}}));
        assert_eq!(
            event.logentry.unwrap().formatted.unwrap().chars().count(),
            8192
        );
        assert_eq!(meta["logentry"]["formatted"][""]["len"], 9000);
    }

    #[test]
    fn drops_long_tags_and_dist_with_errors() {
        let (event, errors, _) = trimmed(json!({
            "dist": "d".repeat(65),
            "tags": {"ok": "fine", "long": "v".repeat(201), &"k".repeat(201): "v"},
        }));
        assert_eq!(event.dist, None);
        assert_eq!(
            event.tags.unwrap().0,
            vec![("ok".to_owned(), "fine".to_owned())]
        );
        let names: Vec<Value> = errors.iter().map(|e| e.to_json()["name"].clone()).collect();
        assert_eq!(
            names,
            vec![json!("dist"), json!("tags.1.1"), json!("tags.2.0")]
        );
        assert!(errors.iter().all(|e| e.kind == ErrorKind::ValueTooLong));
        assert_eq!(errors[0].value, Some(json!("d".repeat(65))));
    }

    #[test]
    fn keeps_newest_breadcrumbs() {
        let crumbs: Vec<Value> = (0..150)
            .map(|n| json!({"message": n.to_string()}))
            .collect();
        let (event, _, meta) = trimmed(json!({"breadcrumbs": crumbs}));
        let values = event.breadcrumbs.unwrap().values;
        assert_eq!(values.len(), 100);
        assert_eq!(values[0].message.as_deref(), Some("50"));
        assert_eq!(meta["breadcrumbs"]["values"][""]["len"], 150);
    }

    #[test]
    fn keeps_newest_frames_and_slims_the_middle() {
        let frames: Vec<Value> = (0..300)
            .map(|n| json!({"function": format!("f{n}"), "vars": {"n": n}, "in_app": n % 2 == 0}))
            .collect();
        let (event, _, meta) = trimmed(json!({"stacktrace": {"frames": frames}}));
        let frames = event.stacktrace.unwrap().frames;
        assert_eq!(frames.len(), 250);
        assert_eq!(frames[0].function.as_deref(), Some("f50"));
        assert_eq!(meta["stacktrace"]["frames"][""]["len"], 300);
        let with_vars = frames.iter().filter(|frame| frame.vars.is_some()).count();
        assert_eq!(with_vars, 50);
        assert!(frames[0].vars.is_some());
        assert!(frames[248].vars.is_some());
        assert!(frames[249].vars.is_none(), "system frames go first");
        assert!(frames[125].vars.is_none());
    }

    #[test]
    fn stringifies_containers_past_the_bag_depth() {
        let mut nested = json!("deep");
        for level in 1..=8 {
            nested = json!({ format!("k{level}"): nested });
        }
        let (event, _, _) = trimmed(json!({"extra": {"nested": nested}}));
        let extra = Value::Object(event.extra.unwrap());
        let at_limit = &extra["nested"]["k8"]["k7"]["k6"]["k5"]["k4"];
        assert_eq!(at_limit, &json!(r#"{"k3":{"k2":{"k1":"deep"}}}"#));
    }

    #[test]
    fn cuts_bags_past_their_size() {
        let data: serde_json::Map<String, Value> = (0..100)
            .map(|n| (format!("key{n:03}"), json!("v".repeat(40))))
            .collect();
        let (event, _, meta) = trimmed(json!({"breadcrumbs": [{"data": data}]}));
        let kept = event.breadcrumbs.unwrap().values[0].data.clone().unwrap();
        assert!(kept.len() < 100 && kept.len() > 30, "{}", kept.len());
        assert_eq!(meta["breadcrumbs"]["values"]["0"]["data"][""]["len"], 100);
    }
}
