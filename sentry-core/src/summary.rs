//! What an issue list shows of an event: its title, culprit and metadata,
//! derived as Sentry derives them for error and message events.

use serde::Serialize;

use crate::protocol::{Event, Frame};

/// Longest message line or exception value, in characters, in a title before it is cut with `...`.
const MAX_TITLE_PART_CHARS: usize = 100;

/// The `metadata` of an issue, with Sentry's field names.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct EventMetadata {
    /// Exception type, for error events.
    #[serde(rename = "type")]
    pub ty: Option<String>,
    /// Exception value, for error events.
    pub value: Option<String>,
    /// File of the crashing in-app frame.
    pub filename: Option<String>,
    /// Function of the crashing in-app frame.
    pub function: Option<String>,
    /// The title, for message events.
    pub title: Option<String>,
}

/// Title, culprit and metadata of an event.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventSummary {
    /// What the issue list shows, e.g. `ValueError: bad input`.
    pub title: String,
    /// Where it happened, e.g. `app.views in index`.
    pub culprit: String,
    /// Structured facts behind the title.
    pub metadata: EventMetadata,
}

/// Summarizes an event.
///
/// An event with an exception is titled `Type: value` after its last
/// (innermost) exception; otherwise by the first line of its message, else
/// `<unlabeled event>`. A synthetic exception (one an SDK made up to carry
/// a stack trace, e.g. for a message) has no type or value worth showing:
/// such an event is titled by its crashing function, else `<unknown>`.
pub fn summarize(event: &Event) -> EventSummary {
    let culprit = event
        .culprit
        .clone()
        .or_else(|| culprit(event))
        .unwrap_or_default();
    let mut summary = summarize_untitled(event, culprit);
    // A fingerprint rule may have named the event.
    if let Some(title) = event.other.get("title").and_then(serde_json::Value::as_str) {
        summary.title = title.to_owned();
    }
    summary
}

/// The exception that names the event: the one grouping picked from an
/// exception group (`main_exception_id`), else the last.
fn main_exception(event: &Event) -> Option<&crate::protocol::Exception> {
    let main_id = event
        .other
        .get("main_exception_id")
        .and_then(serde_json::Value::as_u64);
    let picked = main_id.and_then(|id| {
        event
            .exceptions()
            .iter()
            .find(|exception| exception.mechanism.as_ref().and_then(|m| m.exception_id) == Some(id))
    });
    picked.or_else(|| event.exceptions().last())
}

fn summarize_untitled(event: &Event, culprit: String) -> EventSummary {
    if let Some(exception) = main_exception(event) {
        let frame = exception
            .stacktrace
            .as_ref()
            .and_then(|stacktrace| crash_frame(&stacktrace.frames));
        let function = frame.and_then(|frame| frame.function.clone());
        let synthetic = exception
            .mechanism
            .as_ref()
            .is_some_and(|mechanism| mechanism.synthetic == Some(true));
        let (ty, value) = if synthetic {
            (None, None)
        } else {
            let ty = exception.ty.clone().unwrap_or_else(|| "Error".to_owned());
            (
                Some(ty),
                exception.value.clone().filter(|value| !value.is_empty()),
            )
        };
        let title = match (&ty, &value) {
            (Some(ty), Some(value)) => format!("{ty}: {}", truncate(first_line(value))),
            (Some(ty), None) => ty.clone(),
            (None, _) => function.clone().unwrap_or_else(|| "<unknown>".to_owned()),
        };
        let metadata = EventMetadata {
            ty,
            value,
            filename: frame
                .and_then(|frame| frame.filename.clone().or_else(|| frame.abs_path.clone())),
            function,
            title: None,
        };
        return EventSummary {
            title,
            culprit,
            metadata,
        };
    }
    let title = event
        .message_text()
        .map(first_line)
        .filter(|line| !line.is_empty())
        .map_or_else(|| "<unlabeled event>".to_owned(), truncate);
    EventSummary {
        metadata: EventMetadata {
            title: Some(title.clone()),
            ..EventMetadata::default()
        },
        title,
        culprit,
    }
}

/// Derives a culprit as Sentry does: the transaction, else the location of
/// the innermost in-app frame of the innermost stack trace (the innermost
/// frame when none is in-app): `function(file)` for JavaScript,
/// `function` for native code, `module in function` elsewhere.
pub fn culprit(event: &Event) -> Option<String> {
    if let Some(transaction) = event.transaction.as_ref().filter(|t| !t.is_empty()) {
        return Some(transaction.clone());
    }
    let frames = event
        .exceptions()
        .iter()
        .rev()
        .filter_map(|exception| exception.stacktrace.as_ref())
        .chain(event.stacktrace.as_ref())
        .map(|stacktrace| stacktrace.frames.as_slice())
        .find(|frames| !frames.is_empty())?;
    let in_app = frames.iter().rev().find(|frame| frame.in_app == Some(true));
    let frame = in_app.or_else(|| frames.last())?;
    let platform = frame
        .platform
        .as_deref()
        .or(event.platform.as_deref())
        .unwrap_or_default();
    let function = frame.function.as_deref().unwrap_or("?");
    if matches!(platform, "objc" | "cocoa" | "native") {
        return Some(function.to_owned());
    }
    let location = frame.module.as_ref().or(frame.filename.as_ref())?;
    if matches!(platform, "javascript" | "node") {
        return Some(format!("{function}({location})"));
    }
    Some(format!("{} in {function}", truncate(location)))
}

/// The innermost in-app frame with a function, else the innermost frame with one.
fn crash_frame(frames: &[Frame]) -> Option<&Frame> {
    let named = |frame: &&Frame| {
        frame
            .function
            .as_deref()
            .is_some_and(|function| function != "<redacted>" && function != "<unknown>")
    };
    frames
        .iter()
        .rev()
        .filter(named)
        .find(|frame| frame.in_app == Some(true))
        .or_else(|| frames.iter().rev().find(named))
}

fn first_line(text: &str) -> &str {
    text.lines()
        .find(|line| !line.trim().is_empty())
        .unwrap_or("")
        .trim()
}

fn truncate(text: &str) -> String {
    if text.chars().count() <= MAX_TITLE_PART_CHARS {
        return text.to_owned();
    }
    let mut cut: String = text.chars().take(MAX_TITLE_PART_CHARS - 3).collect();
    cut.push_str("...");
    cut
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_title_and_culprit() {
        let event: Event = serde_json::from_str(
            r#"{"exception":{"values":[{"type":"KeyError","value":"x"},{"type":"ValueError","value":"bad\nsecond","stacktrace":{"frames":[
                {"module":"app.views","filename":"app/views.py","function":"index","in_app":true},
                {"module":"lib","function":"helper","in_app":false}]}}]}}"#,
        )
        .unwrap();
        let summary = summarize(&event);
        assert_eq!(summary.title, "ValueError: bad");
        assert_eq!(summary.culprit, "app.views in index");
        assert_eq!(summary.metadata.filename.as_deref(), Some("app/views.py"));
        assert_eq!(summary.metadata.function.as_deref(), Some("index"));
    }

    #[test]
    fn message_title_is_first_line_truncated() {
        let long = "x".repeat(300);
        let event: Event = serde_json::from_str(&format!(r#"{{"message":"{long}"}}"#)).unwrap();
        let summary = summarize(&event);
        assert_eq!(summary.title.chars().count(), 100);
        assert!(summary.title.ends_with("..."));
        assert_eq!(summarize(&Event::default()).title, "<unlabeled event>");
    }

    #[test]
    fn synthetic_exception_is_titled_by_function() {
        let event: Event = serde_json::from_str(
            r#"{"platform":"node","message":"hi","exception":{"values":[{"value":"hi","mechanism":{"type":"generic","synthetic":true},
               "stacktrace":{"frames":[{"function":"main","filename":"app.js","module":"app","in_app":true}]}}]}}"#,
        )
        .unwrap();
        let summary = summarize(&event);
        assert_eq!(summary.title, "main");
        assert_eq!(summary.metadata.ty, None);
        assert_eq!(summary.culprit, "main(app)");
    }

    #[test]
    fn transaction_is_the_culprit() {
        let event: Event =
            serde_json::from_str(r#"{"transaction":"/api/orders/","exception":[{"type":"E"}]}"#)
                .unwrap();
        assert_eq!(summarize(&event).culprit, "/api/orders/");
    }
}
