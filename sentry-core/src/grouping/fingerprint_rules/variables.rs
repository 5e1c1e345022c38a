//! Fingerprint variables such as `{{ transaction }}` (spec section 3.6).
//!
//! A fingerprint entry is a variable only when the whole entry is one
//! placeholder; `x-{{ type }}` is a literal. Values come from the last
//! exception and the crash frame and are used raw. An unknown name leaves
//! the entry as it is, and the entry text itself is hashed.

use super::matcher::formatted_message;
use crate::protocol::{Event, Frame};

/// What a fingerprint entry stands for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FingerprintValue {
    /// Not a known variable: the entry text itself is the value.
    Literal,
    /// `{{ default }}`: the default grouping, expanded by the caller.
    Default,
    /// A variable and its value for the event.
    Resolved(String),
}

impl FingerprintValue {
    /// Returns the value to hash for `entry`, `None` for `{{ default }}`.
    pub fn into_value(self, entry: &str) -> Option<String> {
        match self {
            FingerprintValue::Literal => Some(entry.to_owned()),
            FingerprintValue::Default => None,
            FingerprintValue::Resolved(value) => Some(value),
        }
    }
}

/// Resolves one fingerprint entry against an event.
pub fn resolve_entry(entry: &str, event: &Event) -> FingerprintValue {
    match parse_variable(entry) {
        Some("default") => FingerprintValue::Default,
        Some(name) => variable_value(name, event)
            .map_or(FingerprintValue::Literal, FingerprintValue::Resolved),
        None => FingerprintValue::Literal,
    }
}

/// Expands every `{{ variable }}` inside a text such as a rule title.
/// Unknown variables and `{{ default }}` stay as written.
pub fn expand_template(template: &str, event: &Event) -> String {
    let mut expanded = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        let (before, candidate) = rest.split_at(start);
        expanded.push_str(before);
        match match_placeholder(candidate) {
            Some((len, name)) => {
                let (placeholder, after) = candidate.split_at(len);
                match variable_value(name, event) {
                    Some(value) => expanded.push_str(&value),
                    None => expanded.push_str(placeholder),
                }
                rest = after;
            }
            None => {
                // Not a placeholder here; a later `{{` (as in `{{{x}}`) may be.
                expanded.push('{');
                rest = candidate.get(1..).unwrap_or_default();
            }
        }
    }
    expanded.push_str(rest);
    expanded
}

/// Returns the variable name when the whole entry is one placeholder
/// (`{{ name }}`, `{{name}}`).
pub fn parse_variable(entry: &str) -> Option<&str> {
    match match_placeholder(entry) {
        Some((len, name)) if len == entry.len() => Some(name),
        _ => None,
    }
}

/// Matches `\{\{\s*(\S+)\s*\}\}` at the start of `text` as Sentry's
/// (backtracking) regex does, returning the match length in bytes and the
/// name. The name is the longest run of non-whitespace after `{{` that is
/// followed by optional whitespace and `}}`, so `{{a}}b}}` names `a}}b`.
pub(super) fn match_placeholder(text: &str) -> Option<(usize, &str)> {
    let inner = text.strip_prefix("{{")?;
    let name_start = inner.trim_start();
    let leading = inner.len() - name_start.len();
    let run_len = name_start
        .find(char::is_whitespace)
        .unwrap_or(name_start.len());
    let (run, after_run) = name_start.split_at(run_len);
    if run.is_empty() {
        return None;
    }
    let closing = after_run.trim_start();
    if closing.starts_with("}}") {
        return Some((text.len() - closing.len() + 2, run));
    }
    // Backtrack: the name ends inside the run, right before a `}}` in it.
    run.char_indices()
        .rev()
        .filter(|&(index, _)| index > 0)
        .find(|&(index, _)| run.get(index..).is_some_and(|tail| tail.starts_with("}}")))
        .and_then(|(index, _)| Some((2 + leading + index + 2, run.get(..index)?)))
}

/// The value of a known variable, `None` for an unknown name or `default`.
fn variable_value(name: &str, event: &Event) -> Option<String> {
    let value = match name {
        "transaction" => or_placeholder(event.transaction.as_deref(), "<no-transaction>"),
        "message" => or_placeholder(message(event), "<no-message>"),
        "type" | "error.type" => or_placeholder(
            last_exception_field(event, |e| e.ty.as_deref()),
            "<no-type>",
        ),
        "value" | "error.value" => or_placeholder(
            last_exception_field(event, |e| e.value.as_deref()),
            "<no-value>",
        ),
        "function" | "stack.function" => or_placeholder(
            crash_frame_field(event, |f| f.function.as_deref()),
            "<no-function>",
        ),
        "path" | "stack.abs_path" => or_placeholder(
            crash_frame_field(event, |f| {
                non_empty(f.abs_path.as_deref()).or(f.filename.as_deref())
            }),
            "<no-abs-path>",
        ),
        "stack.filename" => or_placeholder(
            crash_frame_field(event, |f| {
                non_empty(f.filename.as_deref()).or(f.abs_path.as_deref())
            }),
            "<no-filename>",
        ),
        "module" | "stack.module" => or_placeholder(
            crash_frame_field(event, |f| f.module.as_deref()),
            "<no-module>",
        ),
        "package" | "stack.package" => or_placeholder(
            crash_frame_field(event, |f| f.package.as_deref()).map(basename),
            "<no-package>",
        ),
        "level" => or_placeholder(event.level.map(|level| level.as_str()), "<no-level>"),
        "logger" => or_placeholder(event.logger.as_deref(), "<no-logger>"),
        _ => return tag_value(name, event),
    };
    Some(value)
}

/// `tags.<name>`: the tag's value (even when empty), else a placeholder.
fn tag_value(name: &str, event: &Event) -> Option<String> {
    let tag = name.strip_prefix("tags.")?;
    let value = event.tags.as_ref().and_then(|tags| tags.get(tag));
    Some(value.map_or_else(|| format!("<no-value-for-tag-{tag}>"), str::to_owned))
}

fn non_empty(value: Option<&str>) -> Option<&str> {
    value.filter(|value| !value.is_empty())
}

/// The value, or the placeholder when it is missing or empty.
fn or_placeholder(value: Option<&str>, placeholder: &str) -> String {
    non_empty(value).unwrap_or(placeholder).to_owned()
}

/// The formatted message, else the template, else the last exception value.
fn message(event: &Event) -> Option<&str> {
    let template = event
        .logentry
        .as_ref()
        .and_then(|entry| entry.message.as_deref());
    non_empty(formatted_message(event))
        .or(non_empty(template))
        .or_else(|| last_exception_field(event, |e| e.value.as_deref()))
}

fn last_exception_field<'e>(
    event: &'e Event,
    field: impl Fn(&'e crate::protocol::Exception) -> Option<&'e str>,
) -> Option<&'e str> {
    event.exceptions().last().and_then(field)
}

fn crash_frame_field<'e>(
    event: &'e Event,
    field: impl Fn(&'e Frame) -> Option<&'e str>,
) -> Option<&'e str> {
    crash_frame(event).and_then(field)
}

/// Sentry's `get_crash_frame_from_event_data`: among the frames of the last
/// exception, else of the top-level stack trace, else of the only thread,
/// the last in-app frame, else the last frame.
fn crash_frame(event: &Event) -> Option<&Frame> {
    let exception_frames = event
        .exceptions()
        .last()
        .and_then(|exception| exception.stacktrace.as_ref())
        .map(|stacktrace| stacktrace.frames.as_slice())
        .filter(|frames| !frames.is_empty());
    let top_level = || {
        event
            .stacktrace
            .as_ref()
            .map(|stacktrace| stacktrace.frames.as_slice())
            .filter(|frames| !frames.is_empty())
    };
    let only_thread = || match event
        .threads
        .as_ref()
        .map(|threads| threads.values.as_slice())
    {
        Some([thread]) => thread
            .stacktrace
            .as_ref()
            .map(|stacktrace| stacktrace.frames.as_slice()),
        _ => None,
    };
    let frames = exception_frames.or_else(top_level).or_else(only_thread)?;
    frames
        .iter()
        .rev()
        .find(|frame| frame.in_app == Some(true))
        .or_else(|| frames.last())
}

/// The part after the last `/` or `\`.
fn basename(path: &str) -> &str {
    path.rsplit(['/', '\\']).next().unwrap_or(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(json: &str) -> Event {
        serde_json::from_str(json).unwrap()
    }

    fn resolve(entry: &str, event: &Event) -> FingerprintValue {
        resolve_entry(entry, event)
    }

    fn resolved(value: &str) -> FingerprintValue {
        FingerprintValue::Resolved(value.to_owned())
    }

    #[test]
    fn placeholders_match_like_the_regex() {
        assert_eq!(parse_variable("{{ type }}"), Some("type"));
        assert_eq!(parse_variable("{{type}}"), Some("type"));
        assert_eq!(parse_variable("{{  tags.a  }}"), Some("tags.a"));
        assert_eq!(parse_variable("{{a}}b}}"), Some("a}}b"));
        assert_eq!(parse_variable("{{a}}}"), Some("a}"));
        assert_eq!(parse_variable("x-{{ type }}"), None);
        assert_eq!(parse_variable("{{ type }}-x"), None);
        assert_eq!(parse_variable("{{ a b }}"), None);
        assert_eq!(parse_variable("{{ }}"), None);
        assert_eq!(parse_variable("{{"), None);
    }

    #[test]
    fn variables_resolve() {
        let event = event(
            r#"{"transaction":"/t","level":"warning","logger":"log","tags":[["a","1"],["empty",""]],
                "logentry":{"message":"tpl %s"},
                "exception":[{"type":"A","value":"first"},{"type":"B","value":"second",
                  "stacktrace":{"frames":[
                    {"function":"app_fn","module":"m","filename":"f.py","abs_path":"/x/f.py","package":"C:\\lib\\pkg.dll","in_app":true},
                    {"function":"lib_fn","in_app":false}]}}]}"#,
        );
        assert_eq!(resolve("{{ default }}", &event), FingerprintValue::Default);
        assert_eq!(resolve("{{default}}", &event), FingerprintValue::Default);
        assert_eq!(resolve("{{ transaction }}", &event), resolved("/t"));
        assert_eq!(resolve("{{ message }}", &event), resolved("tpl %s"));
        assert_eq!(resolve("{{ error.type }}", &event), resolved("B"));
        assert_eq!(resolve("{{ value }}", &event), resolved("second"));
        assert_eq!(resolve("{{ function }}", &event), resolved("app_fn"));
        assert_eq!(resolve("{{ stack.abs_path }}", &event), resolved("/x/f.py"));
        assert_eq!(resolve("{{ stack.filename }}", &event), resolved("f.py"));
        assert_eq!(resolve("{{ module }}", &event), resolved("m"));
        assert_eq!(resolve("{{ package }}", &event), resolved("pkg.dll"));
        assert_eq!(resolve("{{ level }}", &event), resolved("warning"));
        assert_eq!(resolve("{{ logger }}", &event), resolved("log"));
        assert_eq!(resolve("{{ tags.a }}", &event), resolved("1"));
        assert_eq!(resolve("{{ tags.empty }}", &event), resolved(""));
        assert_eq!(
            resolve("{{ tags.b }}", &event),
            resolved("<no-value-for-tag-b>")
        );
        assert_eq!(resolve("{{ nope }}", &event), FingerprintValue::Literal);
        assert_eq!(resolve("plain", &event), FingerprintValue::Literal);
    }

    #[test]
    fn missing_values_have_placeholders() {
        let event = Event::default();
        for (entry, value) in [
            ("{{ transaction }}", "<no-transaction>"),
            ("{{ message }}", "<no-message>"),
            ("{{ type }}", "<no-type>"),
            ("{{ value }}", "<no-value>"),
            ("{{ function }}", "<no-function>"),
            ("{{ path }}", "<no-abs-path>"),
            ("{{ stack.filename }}", "<no-filename>"),
            ("{{ module }}", "<no-module>"),
            ("{{ package }}", "<no-package>"),
            ("{{ level }}", "<no-level>"),
            ("{{ logger }}", "<no-logger>"),
        ] {
            assert_eq!(resolve(entry, &event), resolved(value), "{entry}");
        }
    }

    #[test]
    fn crash_frame_sources() {
        // Without in-app frames the last frame counts; the top-level stack
        // is used when the last exception has none.
        let top = event(
            r#"{"exception":[{"type":"A","stacktrace":{"frames":[]}}],
                "stacktrace":{"frames":[{"function":"a"},{"function":"b"}]}}"#,
        );
        assert_eq!(resolve("{{ function }}", &top), resolved("b"));
        let one_thread = event(r#"{"threads":[{"stacktrace":{"frames":[{"function":"t"}]}}]}"#);
        assert_eq!(resolve("{{ function }}", &one_thread), resolved("t"));
        let two_threads = event(
            r#"{"threads":[{"crashed":true,"stacktrace":{"frames":[{"function":"t"}]}},{}]}"#,
        );
        assert_eq!(
            resolve("{{ function }}", &two_threads),
            resolved("<no-function>")
        );
    }

    #[test]
    fn templates_expand_inside_text() {
        let event = event(r#"{"transaction":"/t","logger":"l"}"#);
        assert_eq!(expand_template("DB ({{ transaction }})", &event), "DB (/t)");
        assert_eq!(
            expand_template("{{logger}}-{{ nope }}-{{ default }}-{{{logger}}", &event),
            "l-{{ nope }}-{{ default }}-{{{logger}}"
        );
        assert_eq!(expand_template("{{ a b }} {{", &event), "{{ a b }} {{");
        // Greedy like the regex: the first placeholder swallows the second
        // (and `{{{logger}}` names `{logger`).
        assert_eq!(
            expand_template("{{logger}}-{{logger}}", &event),
            "{{logger}}-{{logger}}"
        );
    }
}
