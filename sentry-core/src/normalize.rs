//! Normalization: what happens to every event before grouping and storage.
//!
//! Pure and deterministic: the caller passes the receive time and any
//! request facts in [`NormalizeConfig`]. Later work adds clamping, trimming
//! and PII scrubbing here; the shape stays `normalize(&mut Event, &config)`.

use crate::ids::EventId;
use crate::protocol::{Event, Level, LogEntry, Message, Timestamp};
use crate::summary;

/// Facts about the request that carried an event.
#[derive(Debug, Clone)]
pub struct NormalizeConfig {
    /// When the server received the event.
    pub received: Timestamp,
    /// The event id from the envelope header, used when the payload has none.
    pub envelope_event_id: Option<EventId>,
}

/// Fills defaults and derives fields that grouping and the API rely on.
///
/// - `event_id` from the envelope, else random; `received` and a missing
///   `timestamp` from the receive time; `level` defaults to `error`;
///   `platform` to `other`.
/// - A plain `message` moves to `logentry.formatted`; a templated log
///   entry is formatted from its `params`.
/// - `type` is `error` when there is an exception, else `default`.
/// - `culprit` is derived from the stack when the SDK sent none.
pub fn normalize(event: &mut Event, config: &NormalizeConfig) {
    if event.event_id.is_none_or(|id| id.is_nil()) {
        event.event_id = Some(config.envelope_event_id.unwrap_or_else(EventId::new_random));
    }
    event.received = Some(config.received);
    if event.timestamp.is_none() {
        event.timestamp = Some(config.received);
    }
    if event.level.is_none() {
        event.level = Some(Level::Error);
    }
    if event.platform.as_deref().is_none_or(str::is_empty) {
        event.platform = Some("other".to_owned());
    }
    normalize_logentry(event);
    if event.ty.is_none() {
        let has_exception = !event.exceptions().is_empty();
        event.ty = Some(if has_exception { "error" } else { "default" }.to_owned());
    }
    if event.culprit.is_none() {
        event.culprit = summary::culprit(event);
    }
}

fn normalize_logentry(event: &mut Event) {
    let mut entry = event.logentry.take().unwrap_or_default();
    match event.message.take() {
        Some(Message::Text(text)) if entry.message.is_none() && entry.formatted.is_none() => {
            entry.formatted = Some(text);
        }
        Some(Message::Entry(legacy)) if entry.message.is_none() && entry.formatted.is_none() => {
            entry = legacy;
        }
        _ => {}
    }
    if entry.formatted.is_none() {
        entry.formatted = entry
            .message
            .as_deref()
            .map(|template| format_params(template, entry.params.as_ref()));
    }
    if entry != LogEntry::default() {
        event.logentry = Some(entry);
    }
}

/// Fills `%s`-style placeholders from a list of parameters, in order.
fn format_params(template: &str, params: Option<&serde_json::Value>) -> String {
    let Some(serde_json::Value::Array(params)) = params else {
        return template.to_owned();
    };
    let mut params = params.iter();
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(pos) = rest.find('%') {
        out.push_str(&rest[..pos]);
        let after = &rest[pos + 1..];
        match after.chars().next() {
            Some('%') => {
                out.push('%');
                rest = &after[1..];
            }
            Some(spec @ ('s' | 'd' | 'i' | 'f' | 'r')) => {
                match params.next() {
                    Some(serde_json::Value::String(text)) => out.push_str(text),
                    Some(other) => out.push_str(&other.to_string()),
                    None => {
                        out.push('%');
                        out.push(spec);
                    }
                }
                rest = &after[1..];
            }
            _ => {
                out.push('%');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> NormalizeConfig {
        NormalizeConfig {
            received: Timestamp::from_unix_seconds(1_700_000_000.0).unwrap(),
            envelope_event_id: None,
        }
    }

    #[test]
    fn fills_defaults() {
        let mut event = Event::default();
        normalize(&mut event, &config());
        assert!(event.event_id.is_some());
        assert_eq!(event.level, Some(Level::Error));
        assert_eq!(event.platform.as_deref(), Some("other"));
        assert_eq!(event.ty.as_deref(), Some("default"));
        assert_eq!(event.timestamp, event.received);
    }

    #[test]
    fn plain_message_becomes_formatted_logentry() {
        let mut event: Event = serde_json::from_str(r#"{"message":"hello"}"#).unwrap();
        normalize(&mut event, &config());
        assert_eq!(event.message, None);
        assert_eq!(event.logentry.unwrap().formatted.as_deref(), Some("hello"));
    }

    #[test]
    fn formats_params() {
        let mut event: Event = serde_json::from_str(
            r#"{"logentry":{"message":"User %s failed %d times, 100%%","params":["bob",3]}}"#,
        )
        .unwrap();
        normalize(&mut event, &config());
        assert_eq!(
            event.logentry.unwrap().formatted.as_deref(),
            Some("User bob failed 3 times, 100%")
        );
    }
}
