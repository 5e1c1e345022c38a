//! The event payload.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

use super::{
    Breadcrumb, ClientSdk, DebugMeta, Exception, Other, Request, Stacktrace, Tags, Thread,
    Timestamp, User, Values,
};
use crate::ids::EventId;

/// An error event as an SDK sends it in an `event` item or to `/store/`.
///
/// `message` may be a plain string or a log entry object; `logentry` is the
/// modern field. Normalization (see [`crate::normalize`]) moves a plain
/// `message` into `logentry.formatted`.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// Unique id of the event.
    pub event_id: Option<EventId>,
    /// Event kind: `error`, `default`, `transaction`, ...
    #[serde(rename = "type")]
    pub ty: Option<String>,
    /// When the event happened, as the SDK saw it.
    pub timestamp: Option<Timestamp>,
    /// When the server received the event.
    pub received: Option<Timestamp>,
    /// The platform of the code that sent it (`python`, `node`, `native`, ...).
    pub platform: Option<String>,
    /// Severity.
    pub level: Option<Level>,
    /// The logger that recorded it.
    pub logger: Option<String>,
    /// The route or transaction name active at the time.
    pub transaction: Option<String>,
    /// The host that sent it.
    pub server_name: Option<String>,
    /// The release version.
    pub release: Option<String>,
    /// The distribution of the release.
    pub dist: Option<String>,
    /// The environment (`production`, ...).
    pub environment: Option<String>,
    /// The legacy message field: a string or a log entry.
    pub message: Option<Message>,
    /// A log message with optional parameters.
    pub logentry: Option<LogEntry>,
    /// Where the error happened, as a human-readable location.
    pub culprit: Option<String>,
    /// The exception chain, innermost last.
    pub exception: Option<Values<Exception>>,
    /// A stack trace not attached to an exception or thread.
    pub stacktrace: Option<Stacktrace>,
    /// The threads running at the time.
    pub threads: Option<Values<Thread>>,
    /// The trail of events before the error.
    pub breadcrumbs: Option<Values<Breadcrumb>>,
    /// Indexed key-value pairs.
    pub tags: Option<Tags>,
    /// The affected user.
    pub user: Option<User>,
    /// The HTTP request being handled.
    pub request: Option<Request>,
    /// Device, OS, runtime, trace and other contexts, by name.
    pub contexts: Option<serde_json::Map<String, Value>>,
    /// The SDK that sent the event.
    pub sdk: Option<ClientSdk>,
    /// A custom grouping fingerprint; `{{ default }}` stands for the default grouping.
    #[serde(default, deserialize_with = "fingerprint")]
    pub fingerprint: Option<Vec<String>>,
    /// Loaded modules and their versions.
    pub modules: Option<serde_json::Map<String, Value>>,
    /// Arbitrary extra data.
    pub extra: Option<serde_json::Map<String, Value>>,
    /// Debug images and SDK information for symbolication.
    pub debug_meta: Option<DebugMeta>,
    /// Problems met while processing the event.
    pub errors: Option<Vec<Value>>,
    /// Fields this crate does not model.
    #[serde(flatten)]
    pub other: Other,
}

/// Reads a fingerprint, turning numbers and booleans into strings, as Relay does.
fn fingerprint<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Vec<String>>, D::Error> {
    let values = Option::<Vec<Value>>::deserialize(deserializer)?;
    Ok(values.map(|values| {
        values
            .into_iter()
            .filter_map(|value| match value {
                Value::String(text) => Some(text),
                Value::Number(number) => Some(number.to_string()),
                Value::Bool(flag) => Some(flag.to_string()),
                _ => None,
            })
            .collect()
    }))
}

impl Event {
    /// Returns the formatted message: `logentry.formatted`, else
    /// `logentry.message`, else a plain `message` string.
    pub fn message_text(&self) -> Option<&str> {
        if let Some(entry) = &self.logentry {
            if let Some(text) = entry.formatted.as_deref().or(entry.message.as_deref()) {
                return Some(text);
            }
        }
        match &self.message {
            Some(Message::Text(text)) => Some(text),
            Some(Message::Entry(entry)) => entry.formatted.as_deref().or(entry.message.as_deref()),
            None => None,
        }
    }

    /// Returns the exceptions, outermost first as sent.
    pub fn exceptions(&self) -> &[Exception] {
        self.exception.as_ref().map_or(&[], |values| &values.values)
    }

    /// Calls `visit` with every stack trace of the event (of exceptions,
    /// threads, and the top-level one, raw ones included) and its path,
    /// e.g. `["exception", "values", "0", "stacktrace"]`.
    pub(crate) fn for_each_stacktrace_mut(
        &mut self,
        mut visit: impl FnMut(&[&str], &mut Stacktrace),
    ) {
        // Each exception and thread holds a stack trace and a raw one.
        let mut pair = |list: &str, index: usize, stacktraces: [Option<&mut Stacktrace>; 2]| {
            let index = index.to_string();
            for (field, stacktrace) in ["stacktrace", "raw_stacktrace"]
                .into_iter()
                .zip(stacktraces)
            {
                if let Some(stacktrace) = stacktrace {
                    visit(&[list, "values", &index, field], stacktrace);
                }
            }
        };
        if let Some(exceptions) = self.exception.as_mut() {
            for (index, exception) in exceptions.values.iter_mut().enumerate() {
                let stacktraces = [
                    exception.stacktrace.as_mut(),
                    exception.raw_stacktrace.as_mut(),
                ];
                pair("exception", index, stacktraces);
            }
        }
        if let Some(threads) = self.threads.as_mut() {
            for (index, thread) in threads.values.iter_mut().enumerate() {
                pair(
                    "threads",
                    index,
                    [thread.stacktrace.as_mut(), thread.raw_stacktrace.as_mut()],
                );
            }
        }
        if let Some(stacktrace) = self.stacktrace.as_mut() {
            visit(&["stacktrace"], stacktrace);
        }
    }
}

/// The legacy `message` field, which SDKs send as text or as a log entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Message {
    /// A plain string.
    Text(String),
    /// A log entry object.
    Entry(LogEntry),
}

/// A log message with parameters (`logentry`).
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LogEntry {
    /// The message template, e.g. `User %s failed`.
    pub message: Option<String>,
    /// The parameters of the template, a list or an object.
    pub params: Option<Value>,
    /// The message with parameters filled in.
    pub formatted: Option<String>,
    /// Fields this crate does not model.
    #[serde(flatten)]
    pub other: Other,
}

/// Severity of an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Level {
    /// Debug output.
    Debug,
    /// Informational.
    Info,
    /// A warning.
    Warning,
    /// An error (the default).
    Error,
    /// A crash.
    Fatal,
}

impl Level {
    /// Returns the wire name.
    pub fn as_str(&self) -> &'static str {
        match self {
            Level::Debug => "debug",
            Level::Info => "info",
            Level::Warning => "warning",
            Level::Error => "error",
            Level::Fatal => "fatal",
        }
    }

    /// Reads a level name, accepting the aliases Relay accepts.
    pub fn parse(name: &str) -> Option<Self> {
        Some(match name.trim().to_ascii_lowercase().as_str() {
            "debug" | "trace" => Level::Debug,
            "info" | "log" => Level::Info,
            "warning" | "warn" => Level::Warning,
            "error" => Level::Error,
            "fatal" | "critical" => Level::Fatal,
            _ => return None,
        })
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Level {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Level {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        Level::parse(&name)
            .ok_or_else(|| serde::de::Error::custom(format!("unknown level `{name}`")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_fields_round_trip() {
        let text = r#"{"event_id":"9ec79c33ec9942ab8353589fcb2e04dc","level":"warning","custom":{"a":[1,2]},"exception":{"values":[{"type":"E","value":"v","zzz":1}]}}"#;
        let event: Event = serde_json::from_str(text).unwrap();
        assert_eq!(event.other["custom"], serde_json::json!({"a":[1,2]}));
        let back = serde_json::to_value(&event).unwrap();
        assert_eq!(
            back,
            serde_json::from_str::<serde_json::Value>(text).unwrap()
        );
    }

    #[test]
    fn message_text_prefers_formatted_logentry() {
        let event: Event = serde_json::from_str(
            r#"{"message":"plain","logentry":{"message":"User %s","params":["a"],"formatted":"User a"}}"#,
        )
        .unwrap();
        assert_eq!(event.message_text(), Some("User a"));
        let event: Event = serde_json::from_str(r#"{"message":"plain"}"#).unwrap();
        assert_eq!(event.message_text(), Some("plain"));
    }

    #[test]
    fn level_accepts_aliases() {
        let event: Event = serde_json::from_str(r#"{"level":"warn"}"#).unwrap();
        assert_eq!(event.level, Some(Level::Warning));
        assert!(serde_json::from_str::<Event>(r#"{"level":"loud"}"#).is_err());
    }

    #[test]
    fn fingerprint_stringifies_scalars() {
        let event: Event =
            serde_json::from_str(r#"{"fingerprint":["{{ default }}",42,true]}"#).unwrap();
        assert_eq!(
            event.fingerprint.unwrap(),
            vec![
                "{{ default }}".to_owned(),
                "42".to_owned(),
                "true".to_owned()
            ]
        );
    }
}
