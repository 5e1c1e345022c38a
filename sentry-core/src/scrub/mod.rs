//! PII scrubbing: Sentry's server-side data scrubber, on by default.
//!
//! [`scrub`] (or a [`Scrubber`] kept per project) runs after normalization and before grouping and storage, with
//! a project's [`ScrubbingSettings`]. It looks where Relay's default rules
//! look (the fields that may hold personal data) and replaces what its
//! [`rules`] match with `[Filtered]`:
//!
//! - `extra`, `contexts`, `user`, unknown top-level fields;
//! - the request's `data`, `query_string`, `cookies`, `headers` (but not
//!   `User-Agent`), `env`, `url` and `fragment`;
//! - breadcrumb `message` and `data`, log entry `params`, frame `vars`.
//!
//! The formatted message and exception values are left alone, as Sentry
//! leaves them. A value under a matching key is filtered whole (a string
//! becomes `[Filtered]`, anything else is removed); text rules replace the
//! matched part of a string. A key in `safeFields` exempts everything
//! below it. With `scrubIPAddresses`, `user.ip_address`,
//! `request.env.REMOTE_ADDR` and `sdk.client_ip` are removed.
//!
//! Every change is noted in the event's `_meta` with Relay's rule ids, e.g.
//! `{"extra": {"password": {"": {"rem": [["@password:filter", "s", 0, 10]], "len": 5}}}}`.

mod chunks;
pub mod rules;
mod settings;

use serde_json::Value;

pub use self::rules::FILTERED;
pub use self::settings::{
    DATA_SCRUBBER, DATA_SCRUBBER_DEFAULTS, OPTIONS, SAFE_FIELDS, SCRUB_IP_ADDRESSES,
    SENSITIVE_FIELDS, ScrubbingSettings, SettingsError,
};

use self::rules::{REMOVE_RULE, Rules};
use crate::meta::{MetaLog, Path, Remark};
use crate::protocol::{Event, Frame};

/// Scrubs an event according to a project's settings; compiles the rules
/// each time, so callers scrubbing many events keep a [`Scrubber`].
pub fn scrub(event: &mut Event, settings: &ScrubbingSettings) {
    Scrubber::new(settings).scrub(event);
}

/// A project's scrubbing rules, compiled once for many events.
#[derive(Debug)]
pub struct Scrubber {
    rules: Rules,
}

impl Scrubber {
    /// Compiles the rules of a project's settings.
    pub fn new(settings: &ScrubbingSettings) -> Self {
        Self {
            rules: Rules::new(settings),
        }
    }

    /// Scrubs an event, noting every change in its `_meta`.
    pub fn scrub(&self, event: &mut Event) {
        if !self.rules.any() {
            return;
        }
        let mut walker = Walker {
            rules: &self.rules,
            meta: MetaLog::default(),
            path: Path::default(),
        };
        walker.event(event);
        walker.meta.write_to(event);
    }
}

/// How a key decides the fate of the value below it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum KeyKind {
    /// A field of an event interface or an object: key rules apply.
    Field,
    /// A cookie name: session cookies too.
    Cookie,
    /// A header name: cookie headers too.
    Header,
}

struct Walker<'a> {
    rules: &'a Rules,
    meta: MetaLog,
    path: Path,
}

impl Walker<'_> {
    fn event(&mut self, event: &mut Event) {
        if self.rules.scrubs_ip_addresses() {
            self.remove_ip_addresses(event);
        }
        self.map("extra", event.extra.as_mut());
        self.map("contexts", event.contexts.as_mut());
        if let Some(user) = event.user.as_mut() {
            self.enter("user");
            self.optional_value("id", user.id.as_mut());
            for (name, field) in [
                ("email", user.email.as_mut()),
                ("username", user.username.as_mut()),
                ("name", user.name.as_mut()),
                ("segment", user.segment.as_mut()),
            ] {
                self.optional_string(name, field);
            }
            self.optional_value("data", user.data.as_mut());
            self.optional_value("geo", user.geo.as_mut());
            self.entries(&mut user.other, KeyKind::Field);
            self.leave();
        }
        if let Some(request) = event.request.as_mut() {
            self.enter("request");
            self.optional_string("url", request.url.as_mut());
            self.optional_string("fragment", request.fragment.as_mut());
            self.optional_value("data", request.data.as_mut());
            self.optional_value("env", request.env.as_mut());
            self.pairs(
                "query_string",
                request.query_string.as_mut(),
                KeyKind::Field,
            );
            self.pairs("cookies", request.cookies.as_mut(), KeyKind::Cookie);
            self.pairs("headers", request.headers.as_mut(), KeyKind::Header);
            self.entries(&mut request.other, KeyKind::Field);
            self.leave();
        }
        if let Some(breadcrumbs) = event.breadcrumbs.as_mut() {
            self.enter("breadcrumbs");
            self.enter("values");
            for (index, breadcrumb) in breadcrumbs.values.iter_mut().enumerate() {
                self.path.push_index(index);
                self.optional_string("message", breadcrumb.message.as_mut());
                self.map("data", breadcrumb.data.as_mut());
                self.leave();
            }
            self.leave();
            self.leave();
        }
        if let Some(entry) = event.logentry.as_mut() {
            self.enter("logentry");
            self.optional_value("params", entry.params.as_mut());
            self.leave();
        }
        event.for_each_stacktrace_mut(|at, stacktrace| {
            let depth = self.path.depth();
            for segment in at {
                self.path.push(segment);
            }
            self.enter("frames");
            for (index, frame) in stacktrace.frames.iter_mut().enumerate() {
                self.path.push_index(index);
                self.frame(frame);
                self.leave();
            }
            self.path.truncate(depth);
        });
        let skip = ["_meta", "errors"];
        for (key, value) in event.other.iter_mut() {
            if !skip.contains(&key.as_str()) {
                self.value_at(key, value, KeyKind::Field);
            }
        }
    }

    fn frame(&mut self, frame: &mut Frame) {
        self.optional_value("vars", frame.vars.as_mut());
    }

    /// Removes the fields known to hold the client's address.
    fn remove_ip_addresses(&mut self, event: &mut Event) {
        if let Some(user) = event.user.as_mut() {
            if user.ip_address.take().is_some() {
                self.removed(&["user", "ip_address"]);
            }
        }
        let env = event
            .request
            .as_mut()
            .and_then(|request| request.env.as_mut())
            .and_then(Value::as_object_mut);
        if env.is_some_and(|env| env.shift_remove("REMOTE_ADDR").is_some()) {
            self.removed(&["request", "env", "REMOTE_ADDR"]);
        }
        if let Some(sdk) = event.sdk.as_mut() {
            if sdk.other.shift_remove("client_ip").is_some() {
                self.removed(&["sdk", "client_ip"]);
            }
        }
    }

    fn removed(&mut self, at: &[&str]) {
        self.meta
            .remark(&Path::new(at), Remark::Removed { rule: REMOVE_RULE });
    }

    fn enter(&mut self, segment: &str) {
        self.path.push(segment);
    }

    fn leave(&mut self) {
        self.path.pop();
    }

    fn map(&mut self, name: &str, map: Option<&mut serde_json::Map<String, Value>>) {
        let Some(map) = map else {
            return;
        };
        if self.rules.is_safe(name) {
            return;
        }
        self.enter(name);
        self.entries(map, KeyKind::Field);
        self.leave();
    }

    fn entries(&mut self, map: &mut serde_json::Map<String, Value>, kind: KeyKind) {
        for (key, value) in map.iter_mut() {
            self.value_at(key, value, kind);
        }
    }

    fn optional_value(&mut self, name: &str, value: Option<&mut Value>) {
        if let Some(value) = value {
            self.value_at(name, value, KeyKind::Field);
        }
    }

    fn optional_string(&mut self, name: &str, text: Option<&mut String>) {
        let Some(text) = text else {
            return;
        };
        if self.rules.is_safe(name) {
            return;
        }
        self.enter(name);
        match self.rules.key_rule(name) {
            Some(rule) => self.filter_string(text, rule),
            None => self.text(text),
        }
        self.leave();
    }

    /// Scrubs a field that SDKs send as an object or as `[name, value]`
    /// pairs (query strings, cookies, headers), each value under its name.
    fn pairs(&mut self, name: &str, value: Option<&mut Value>, kind: KeyKind) {
        let Some(value) = value else {
            return;
        };
        if self.rules.is_safe(name) {
            return;
        }
        self.enter(name);
        match value {
            Value::Object(map) => self.entries(map, kind),
            Value::Array(items) => self.pair_items(items, kind),
            other => self.value(None, other),
        }
        self.leave();
    }

    fn pair_items(&mut self, items: &mut [Value], kind: KeyKind) {
        for (index, item) in items.iter_mut().enumerate() {
            self.path.push_index(index);
            match item.as_array_mut().map(Vec::as_mut_slice) {
                Some([Value::String(key), value]) => self.value_at_index(key, 1, value, kind),
                _ => self.value(None, item),
            }
            self.leave();
        }
    }

    /// Scrubs the value under `key`, which is also its path segment.
    fn value_at(&mut self, key: &str, value: &mut Value, kind: KeyKind) {
        if self.rules.is_safe(key) {
            return;
        }
        self.enter(key);
        self.keyed(key, value, kind);
        self.leave();
    }

    /// Scrubs the value of a pair: under `key`, at path segment `index`.
    fn value_at_index(&mut self, key: &str, index: usize, value: &mut Value, kind: KeyKind) {
        if self.rules.is_safe(key) {
            return;
        }
        self.path.push_index(index);
        self.keyed(key, value, kind);
        self.leave();
    }

    fn keyed(&mut self, key: &str, value: &mut Value, kind: KeyKind) {
        let rule = match kind {
            KeyKind::Field => self.rules.key_rule(key),
            KeyKind::Cookie => self.rules.cookie_rule(key),
            KeyKind::Header if key.eq_ignore_ascii_case("user-agent") => return,
            KeyKind::Header => self.rules.header_rule(key),
        };
        match rule {
            Some(rule) => self.filter_value(value, rule),
            None => self.value(Some(key), value),
        }
    }

    /// Scrubs a value found under `key` (or in a list under it): objects
    /// recurse by their own keys, list items inherit the key.
    fn value(&mut self, key: Option<&str>, value: &mut Value) {
        match value {
            Value::String(text) => self.text(text),
            Value::Array(items) => {
                for (index, item) in items.iter_mut().enumerate() {
                    self.path.push_index(index);
                    match key {
                        Some(key) => self.keyed(key, item, KeyKind::Field),
                        None => self.value(None, item),
                    }
                    self.leave();
                }
            }
            Value::Object(map) => self.entries(map, KeyKind::Field),
            Value::Null | Value::Bool(_) | Value::Number(_) => {}
        }
    }

    /// Filters a whole value: strings become `[Filtered]`, anything else but
    /// `null` is removed.
    fn filter_value(&mut self, value: &mut Value, rule: &'static str) {
        match value {
            Value::Null => {}
            Value::String(text) => self.filter_string(text, rule),
            other => {
                *other = Value::Null;
                self.meta.remark(&self.path, Remark::Removed { rule });
            }
        }
    }

    fn filter_string(&mut self, text: &mut String, rule: &'static str) {
        if text.is_empty() {
            return;
        }
        let (filtered, remarks) = chunks::Chunks::replaced(FILTERED, rule).join();
        self.replace_text(text, filtered, remarks);
    }

    fn text(&mut self, text: &mut String) {
        let Some(chunks) = self.rules.scrub_text(text) else {
            return;
        };
        if chunks.is_redacted() {
            let (scrubbed, remarks) = chunks.join();
            self.replace_text(text, scrubbed, remarks);
        }
    }

    fn replace_text(&mut self, text: &mut String, scrubbed: String, remarks: Vec<Remark>) {
        let original_length = text.chars().count();
        *text = scrubbed;
        for remark in remarks {
            self.meta.remark(&self.path, remark);
        }
        self.meta.original_length(&self.path, original_length);
    }
}

#[cfg(test)]
mod tests;
