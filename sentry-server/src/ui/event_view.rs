//! What the issue page shows of one event, read from the stored event:
//! the exception chain with its stack traces, the message, breadcrumbs,
//! request, user, contexts and SDK, ready for the template.

use sentry_core::Event;
use sentry_core::protocol::{Exception, Frame, Stacktrace};
use serde_json::Value;

use crate::ui::format;

/// Longest text shown for one value (a local variable, a header); longer
/// ones are cut with an ellipsis.
const MAX_VALUE_CHARS: usize = 400;

/// One line of source around a frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceLine {
    /// The line number, when the frame has one.
    pub number: Option<u64>,
    /// The code.
    pub code: String,
    /// Whether this is the frame's own line.
    pub current: bool,
}

/// A stack frame as shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FrameView {
    /// The file (or module) name.
    pub location: String,
    /// The function.
    pub function: String,
    /// `line 12` or `line 12:5`, or empty.
    pub line: String,
    /// Whether the frame is the application's own code.
    pub in_app: bool,
    /// The source around the frame's line.
    pub source: Vec<SourceLine>,
    /// Local variables, as name and JSON text.
    pub vars: Vec<(String, String)>,
    /// Whether the frame shows opened (the most recent in-app frame).
    pub open: bool,
}

/// A run of frames: in-app ones show one by one, a run of system frames
/// folds into one collapsible block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FrameGroup {
    /// Whether these are system (not in-app) frames.
    pub system: bool,
    /// The frames, most recent first.
    pub frames: Vec<FrameView>,
}

/// An exception of the chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExceptionView {
    /// Its type, e.g. `ValueError`.
    pub ty: String,
    /// Its message.
    pub value: String,
    /// Its module, when given.
    pub module: String,
    /// The mechanism, e.g. `excepthook` or `generic`.
    pub mechanism: String,
    /// `handled`, `unhandled` or empty when unknown.
    pub handled: String,
    /// The stack trace, in groups, most recent call first.
    pub frame_groups: Vec<FrameGroup>,
    /// How many frames it has.
    pub frame_count: usize,
}

/// A breadcrumb as shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CrumbView {
    /// When, as `HH:MM:SS`.
    pub time: String,
    /// `default`, `http`, `navigation`, ...
    pub ty: String,
    /// The category.
    pub category: String,
    /// The level.
    pub level: String,
    /// The message, or the data as JSON when there is none.
    pub message: String,
}

/// A titled table of names and values (request headers, a context).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyValues {
    /// The table's title.
    pub title: String,
    /// The rows.
    pub rows: Vec<(String, String)>,
}

/// Everything shown of an event.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct EventView {
    /// The message, for message events (and beside exceptions when given).
    pub message: String,
    /// The exception chain, outermost (the one reported) first.
    pub exceptions: Vec<ExceptionView>,
    /// The event's own stack trace, for events without exceptions.
    pub stacktrace: Option<ExceptionView>,
    /// Breadcrumbs, oldest first.
    pub breadcrumbs: Vec<CrumbView>,
    /// `GET https://...`, or empty without a request.
    pub request_line: String,
    /// The request's query, headers, data, cookies and environment.
    pub request: Vec<KeyValues>,
    /// The user's fields.
    pub user: Vec<(String, String)>,
    /// Each context (browser, os, runtime, ...).
    pub contexts: Vec<KeyValues>,
    /// The SDK, as `name version`.
    pub sdk: String,
    /// The SDK's integrations, comma-separated.
    pub sdk_integrations: String,
    /// The whole stored event, pretty-printed.
    pub raw_json: String,
}

/// A JSON value as people read it: strings without quotes, the rest as
/// compact JSON, cut to a readable length.
pub fn value_text(value: &Value) -> String {
    let text = match value {
        Value::String(text) => text.clone(),
        Value::Null => "null".to_owned(),
        other => other.to_string(),
    };
    cut(text)
}

fn cut(text: String) -> String {
    if text.chars().count() <= MAX_VALUE_CHARS {
        return text;
    }
    let mut cut: String = text.chars().take(MAX_VALUE_CHARS).collect();
    cut.push('…');
    cut
}

/// The rows of a JSON object, or one row for another value.
fn rows_of(value: &Value) -> Vec<(String, String)> {
    match value {
        Value::Object(fields) => fields
            .iter()
            .map(|(name, value)| (name.clone(), value_text(value)))
            .collect(),
        // Headers and query strings may come as lists of pairs.
        Value::Array(items) => items
            .iter()
            .map(|item| match item.as_array().map(Vec::as_slice) {
                Some([name, value]) => (value_text(name), value_text(value)),
                _ => (String::new(), value_text(item)),
            })
            .collect(),
        Value::Null => Vec::new(),
        other => vec![(String::new(), value_text(other))],
    }
}

fn source_of(frame: &Frame) -> Vec<SourceLine> {
    let Some(context_line) = &frame.context_line else {
        return Vec::new();
    };
    let pre = frame.pre_context.as_deref().unwrap_or_default();
    let post = frame.post_context.as_deref().unwrap_or_default();
    let first = frame
        .lineno
        .map(|line| line.saturating_sub(u64::try_from(pre.len()).unwrap_or(0)));
    let mut lines = Vec::with_capacity(pre.len() + 1 + post.len());
    let all = pre
        .iter()
        .map(|line| (line.clone().unwrap_or_default(), false))
        .chain(std::iter::once((context_line.clone(), true)))
        .chain(
            post.iter()
                .map(|line| (line.clone().unwrap_or_default(), false)),
        );
    for (offset, (code, current)) in all.enumerate() {
        lines.push(SourceLine {
            number: first.map(|first| first + u64::try_from(offset).unwrap_or(0)),
            code,
            current,
        });
    }
    lines
}

fn frame_view(frame: &Frame) -> FrameView {
    let location = frame
        .filename
        .clone()
        .or_else(|| frame.abs_path.clone())
        .or_else(|| frame.module.clone())
        .or_else(|| frame.package.clone())
        .unwrap_or_else(|| "?".to_owned());
    let line = match (frame.lineno, frame.colno) {
        (Some(line), Some(column)) => format!("line {line}:{column}"),
        (Some(line), None) => format!("line {line}"),
        _ => String::new(),
    };
    FrameView {
        location,
        function: frame
            .function
            .clone()
            .or_else(|| frame.symbol.clone())
            .unwrap_or_else(|| "?".to_owned()),
        line,
        in_app: frame.in_app == Some(true),
        source: source_of(frame),
        vars: frame.vars.as_ref().map(rows_of).unwrap_or_default(),
        open: false,
    }
}

/// A stack trace's frames, most recent first, in-app ones apart and runs
/// of system frames grouped; the most recent in-app frame opens. A trace
/// without in-app frames shows as one open run.
pub fn frame_groups(stacktrace: &Stacktrace) -> Vec<FrameGroup> {
    let mut frames: Vec<FrameView> = stacktrace.frames.iter().rev().map(frame_view).collect();
    let any_in_app = frames.iter().any(|frame| frame.in_app);
    if let Some(top) = frames.iter_mut().find(|frame| frame.in_app || !any_in_app) {
        top.open = true;
    }
    if !any_in_app {
        return vec![FrameGroup {
            system: false,
            frames,
        }];
    }
    let mut groups: Vec<FrameGroup> = Vec::new();
    for frame in frames {
        let system = !frame.in_app;
        match groups.last_mut() {
            Some(group) if group.system && system => group.frames.push(frame),
            _ => groups.push(FrameGroup {
                system,
                frames: vec![frame],
            }),
        }
    }
    groups
}

fn exception_view(exception: &Exception) -> ExceptionView {
    let mechanism = exception.mechanism.as_ref();
    let stacktrace = exception.stacktrace.as_ref();
    ExceptionView {
        ty: exception.ty.clone().unwrap_or_else(|| "Error".to_owned()),
        value: exception.value.clone().unwrap_or_default(),
        module: exception.module.clone().unwrap_or_default(),
        mechanism: mechanism
            .and_then(|mechanism| mechanism.ty.clone())
            .unwrap_or_default(),
        handled: match mechanism.and_then(|mechanism| mechanism.handled) {
            Some(true) => "handled".to_owned(),
            Some(false) => "unhandled".to_owned(),
            None => String::new(),
        },
        frame_groups: stacktrace.map(frame_groups).unwrap_or_default(),
        frame_count: stacktrace.map_or(0, |stacktrace| stacktrace.frames.len()),
    }
}

fn crumb_view(crumb: &sentry_core::protocol::Breadcrumb) -> CrumbView {
    let time = crumb
        .timestamp
        .map(|time| {
            let full = format::date_time(time);
            full.split(' ').nth(1).unwrap_or_default().to_owned()
        })
        .unwrap_or_default();
    let message = match (&crumb.message, &crumb.data) {
        (Some(message), _) => message.clone(),
        (None, Some(data)) => value_text(&Value::Object(data.clone())),
        (None, None) => String::new(),
    };
    CrumbView {
        time,
        ty: crumb.ty.clone().unwrap_or_else(|| "default".to_owned()),
        category: crumb.category.clone().unwrap_or_default(),
        level: crumb
            .level
            .map_or("info", |level| level.as_str())
            .to_owned(),
        message,
    }
}

fn request_tables(request: &sentry_core::protocol::Request) -> Vec<KeyValues> {
    let parts = [
        ("Query String", &request.query_string),
        ("Body", &request.data),
        ("Headers", &request.headers),
        ("Cookies", &request.cookies),
        ("Environment", &request.env),
    ];
    parts
        .into_iter()
        .filter_map(|(title, value)| {
            let rows = rows_of(value.as_ref()?);
            (!rows.is_empty()).then(|| KeyValues {
                title: title.to_owned(),
                rows,
            })
        })
        .collect()
}

fn user_rows(user: &sentry_core::protocol::User) -> Vec<(String, String)> {
    let mut rows = Vec::new();
    let mut push = |name: &str, value: Option<String>| {
        if let Some(value) = value.filter(|value| !value.is_empty()) {
            rows.push((name.to_owned(), value));
        }
    };
    push("ID", user.id.as_ref().map(value_text));
    push("Email", user.email.clone());
    push("Username", user.username.clone());
    push("Name", user.name.clone());
    push("IP Address", user.ip_address.clone());
    push("Segment", user.segment.clone());
    push("Geography", user.geo.as_ref().map(value_text));
    if let Some(data) = &user.data {
        rows.extend(rows_of(data));
    }
    rows
}

/// Reads what the issue page shows of an event; `raw` is the stored payload.
pub fn event_view(event: &Event, raw: &[u8]) -> EventView {
    let exceptions: Vec<ExceptionView> = event
        .exceptions()
        .iter()
        .rev()
        .map(exception_view)
        .collect();
    let stacktrace = if exceptions.is_empty() {
        event.stacktrace.as_ref().map(|stacktrace| ExceptionView {
            ty: String::new(),
            value: String::new(),
            module: String::new(),
            mechanism: String::new(),
            handled: String::new(),
            frame_groups: frame_groups(stacktrace),
            frame_count: stacktrace.frames.len(),
        })
    } else {
        None
    };
    let request = event.request.as_ref();
    let request_line = request
        .map(|request| {
            format!(
                "{} {}",
                request.method.as_deref().unwrap_or("GET"),
                request.url.as_deref().unwrap_or_default()
            )
        })
        .unwrap_or_default();
    let contexts = event
        .contexts
        .iter()
        .flatten()
        .map(|(name, value)| KeyValues {
            title: name.clone(),
            rows: rows_of(value)
                .into_iter()
                .filter(|(key, _)| key != "type")
                .collect(),
        })
        .collect();
    let sdk = event.sdk.as_ref();
    let raw_json = serde_json::from_slice::<Value>(raw)
        .ok()
        .and_then(|value| serde_json::to_string_pretty(&value).ok())
        .unwrap_or_else(|| String::from_utf8_lossy(raw).into_owned());
    EventView {
        message: event.message_text().unwrap_or_default().to_owned(),
        exceptions,
        stacktrace,
        breadcrumbs: event
            .breadcrumbs
            .iter()
            .flat_map(|crumbs| crumbs.values.iter())
            .map(crumb_view)
            .collect(),
        request_line,
        request: request.map(request_tables).unwrap_or_default(),
        user: event.user.as_ref().map(user_rows).unwrap_or_default(),
        contexts,
        sdk: sdk
            .map(|sdk| {
                format!(
                    "{} {}",
                    sdk.name.as_deref().unwrap_or("unknown"),
                    sdk.version.as_deref().unwrap_or_default()
                )
            })
            .unwrap_or_default(),
        sdk_integrations: sdk
            .and_then(|sdk| sdk.integrations.as_ref())
            .map(|integrations| {
                integrations
                    .iter()
                    .map(value_text)
                    .collect::<Vec<_>>()
                    .join(", ")
            })
            .unwrap_or_default(),
        raw_json,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(json: &str) -> Event {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn shows_the_chain_outermost_first_and_frames_most_recent_first() {
        let event = event(
            r#"{"exception":{"values":[
                {"type":"KeyError","value":"inner"},
                {"type":"RuntimeError","value":"outer","mechanism":{"type":"generic","handled":false},
                 "stacktrace":{"frames":[
                    {"filename":"threading.py","function":"run","in_app":false},
                    {"filename":"lib.py","function":"call","in_app":false},
                    {"filename":"app.py","function":"main","lineno":3,"in_app":true,
                     "pre_context":["a","b"],"context_line":"c","post_context":["d"],
                     "vars":{"n":1,"name":"x"}},
                    {"filename":"app.py","function":"chained","lineno":9,"in_app":true}
                 ]}}]}}"#,
        );
        let view = event_view(&event, b"{}");
        let types: Vec<&str> = view.exceptions.iter().map(|e| e.ty.as_str()).collect();
        assert_eq!(types, ["RuntimeError", "KeyError"]);
        let outer = &view.exceptions[0];
        assert_eq!(outer.handled, "unhandled");
        assert_eq!(outer.frame_count, 4);
        let shape: Vec<(bool, usize)> = outer
            .frame_groups
            .iter()
            .map(|group| (group.system, group.frames.len()))
            .collect();
        assert_eq!(shape, [(false, 1), (false, 1), (true, 2)]);
        let chained = &outer.frame_groups[0].frames[0];
        assert_eq!(chained.function, "chained");
        assert!(chained.open && chained.in_app);
        let main = &outer.frame_groups[1].frames[0];
        assert!(!main.open);
        let numbers: Vec<Option<u64>> = main.source.iter().map(|line| line.number).collect();
        assert_eq!(numbers, [Some(1), Some(2), Some(3), Some(4)]);
        assert!(main.source[2].current && main.source[2].code == "c");
        assert_eq!(
            main.vars,
            [
                ("n".to_owned(), "1".to_owned()),
                ("name".to_owned(), "x".to_owned())
            ]
        );
    }

    #[test]
    fn a_trace_without_in_app_frames_shows_whole() {
        let event = event(
            r#"{"stacktrace":{"frames":[{"function":"a"},{"function":"b","in_app":false}]}}"#,
        );
        let view = event_view(&event, b"{}");
        let trace = view.stacktrace.unwrap();
        assert_eq!(trace.frame_groups.len(), 1);
        assert!(!trace.frame_groups[0].system);
        assert!(trace.frame_groups[0].frames[0].open);
    }

    #[test]
    fn reads_request_user_and_contexts() {
        let event = event(
            r#"{"request":{"method":"POST","url":"http://x/y","headers":[["Host","x"]],"query_string":{"q":"1"}},
                "user":{"id":"u1","email":"u@example.com"},
                "contexts":{"runtime":{"type":"runtime","name":"CPython","version":"3.12"}},
                "sdk":{"name":"sentry.python","version":"2.0","integrations":["argv","atexit"]}}"#,
        );
        let view = event_view(&event, br#"{"a":1}"#);
        assert_eq!(view.request_line, "POST http://x/y");
        let titles: Vec<&str> = view
            .request
            .iter()
            .map(|table| table.title.as_str())
            .collect();
        assert_eq!(titles, ["Query String", "Headers"]);
        assert_eq!(view.request[1].rows, [("Host".to_owned(), "x".to_owned())]);
        assert_eq!(view.user[0], ("ID".to_owned(), "u1".to_owned()));
        assert_eq!(view.contexts[0].title, "runtime");
        assert_eq!(view.contexts[0].rows.len(), 2);
        assert_eq!(view.sdk, "sentry.python 2.0");
        assert_eq!(view.sdk_integrations, "argv, atexit");
        assert_eq!(view.raw_json, "{\n  \"a\": 1\n}");
    }

    #[test]
    fn cuts_long_values() {
        let long = Value::String("x".repeat(1000));
        assert_eq!(value_text(&long).chars().count(), MAX_VALUE_CHARS + 1);
    }
}
