//! What an issue list shows of an event: its title, culprit and metadata,
//! derived as Sentry derives them for error and message events.

use serde::Serialize;

use crate::protocol::{Event, Frame};

/// Longest title, in characters, before it is cut with `...`.
const MAX_TITLE_CHARS: usize = 100;

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
/// `<unlabeled event>`.
pub fn summarize(event: &Event) -> EventSummary {
    let culprit = event
        .culprit
        .clone()
        .or_else(|| culprit(event))
        .unwrap_or_default();
    if let Some(exception) = event.exceptions().last() {
        let ty = exception.ty.clone().unwrap_or_else(|| "Error".to_owned());
        let value = exception.value.clone().filter(|value| !value.is_empty());
        let title = match &value {
            Some(value) => truncate(&format!("{ty}: {}", first_line(value))),
            None => ty.clone(),
        };
        let frame = exception
            .stacktrace
            .as_ref()
            .and_then(|stacktrace| crash_frame(&stacktrace.frames));
        let metadata = EventMetadata {
            ty: Some(ty),
            value,
            filename: frame.and_then(|frame| frame.filename.clone()),
            function: frame.and_then(|frame| frame.function.clone()),
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

/// Derives a culprit: the transaction, else `location in function` of the
/// innermost in-app frame of the innermost exception.
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
    let frame = crash_frame(frames)?;
    let location = frame.module.as_ref().or(frame.filename.as_ref());
    match (location, &frame.function) {
        (Some(location), Some(function)) => Some(format!("{location} in {function}")),
        (Some(location), None) => Some(location.clone()),
        (None, Some(function)) => Some(function.clone()),
        (None, None) => None,
    }
}

/// The innermost in-app frame, else the innermost frame.
fn crash_frame(frames: &[Frame]) -> Option<&Frame> {
    frames
        .iter()
        .rev()
        .find(|frame| frame.in_app == Some(true))
        .or_else(|| frames.last())
}

fn first_line(text: &str) -> &str {
    text.lines()
        .find(|line| !line.trim().is_empty())
        .unwrap_or("")
        .trim()
}

fn truncate(text: &str) -> String {
    if text.chars().count() <= MAX_TITLE_CHARS {
        return text.to_owned();
    }
    let mut cut: String = text.chars().take(MAX_TITLE_CHARS - 3).collect();
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
    fn transaction_is_the_culprit() {
        let event: Event =
            serde_json::from_str(r#"{"transaction":"/api/orders/","exception":[{"type":"E"}]}"#)
                .unwrap();
        assert_eq!(summarize(&event).culprit, "/api/orders/");
    }
}
