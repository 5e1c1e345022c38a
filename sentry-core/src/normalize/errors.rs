//! Processing errors: problems met while normalizing an event, kept on the
//! event in its `errors` list instead of rejecting it.
//!
//! Each entry has Relay's shape, `{"type": kind, "name": path, "value":
//! original}` plus data specific to the kind (`sdk_time` and `server_time`
//! for clock corrections), which Sentry's UI turns into "There were N
//! problems processing this event".

use serde_json::{Map, Value};

use crate::protocol::Event;

/// The kind of a processing error, named as Relay and Sentry name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The sender's clock was off; timestamps were shifted by the drift.
    ClockDrift,
    /// The timestamp was too far in the past; timestamps were shifted to now.
    PastTimestamp,
    /// The timestamp was too far in the future; timestamps were shifted to now.
    FutureTimestamp,
    /// A value exceeded its maximum length and was dropped.
    ValueTooLong,
    /// A value did not have the expected form and was dropped.
    InvalidData,
}

impl ErrorKind {
    /// Returns the wire name, e.g. `clock_drift`.
    pub fn as_str(&self) -> &'static str {
        match self {
            ErrorKind::ClockDrift => "clock_drift",
            ErrorKind::PastTimestamp => "past_timestamp",
            ErrorKind::FutureTimestamp => "future_timestamp",
            ErrorKind::ValueTooLong => "value_too_long",
            ErrorKind::InvalidData => "invalid_data",
        }
    }
}

/// One problem met while processing an event.
#[derive(Debug, Clone, PartialEq)]
pub struct ProcessingError {
    /// What went wrong.
    pub kind: ErrorKind,
    /// The dotted path of the field, e.g. `timestamp` or `tags.3.1`.
    pub name: String,
    /// The original value, when it is worth keeping.
    pub value: Option<Value>,
    /// Data specific to the kind, e.g. `sdk_time` and `server_time`.
    pub data: Map<String, Value>,
}

impl ProcessingError {
    /// Creates an error without an original value or extra data.
    pub fn new(kind: ErrorKind, name: impl Into<String>) -> Self {
        Self {
            kind,
            name: name.into(),
            value: None,
            data: Map::new(),
        }
    }

    /// Keeps the original value.
    #[must_use]
    pub fn with_value(mut self, value: impl Into<Value>) -> Self {
        self.value = Some(value.into());
        self
    }

    /// Adds a piece of kind-specific data.
    #[must_use]
    pub fn with_data(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.data.insert(key.to_owned(), value.into());
        self
    }

    /// Returns the JSON form stored in the event's `errors`.
    pub fn to_json(&self) -> Value {
        let mut object = Map::new();
        object.insert("type".to_owned(), self.kind.as_str().into());
        object.insert("name".to_owned(), self.name.clone().into());
        if let Some(value) = &self.value {
            object.insert("value".to_owned(), value.clone());
        }
        for (key, value) in &self.data {
            object.entry(key.as_str()).or_insert_with(|| value.clone());
        }
        Value::Object(object)
    }
}

/// Appends errors to the event's `errors` list.
pub(crate) fn record(event: &mut Event, errors: &[ProcessingError]) {
    if errors.is_empty() {
        return;
    }
    event
        .errors
        .get_or_insert_with(Vec::new)
        .extend(errors.iter().map(ProcessingError::to_json));
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn serializes_in_relay_shape() {
        let error = ProcessingError::new(ErrorKind::ClockDrift, "timestamp")
            .with_data("sdk_time", "2020-01-01T00:00:00Z")
            .with_data("server_time", "2020-01-02T00:00:00Z");
        assert_eq!(
            error.to_json(),
            json!({
                "type": "clock_drift",
                "name": "timestamp",
                "sdk_time": "2020-01-01T00:00:00Z",
                "server_time": "2020-01-02T00:00:00Z",
            })
        );
        let dropped = ProcessingError::new(ErrorKind::ValueTooLong, "dist").with_value("x");
        assert_eq!(
            dropped.to_json(),
            json!({"type": "value_too_long", "name": "dist", "value": "x"})
        );
    }

    #[test]
    fn record_appends_to_existing_errors() {
        let mut event: Event =
            serde_json::from_value(json!({"errors": [{"type": "js_no_source"}]})).unwrap();
        record(
            &mut event,
            &[ProcessingError::new(
                ErrorKind::InvalidData,
                "user.ip_address",
            )],
        );
        let errors = event.errors.unwrap();
        assert_eq!(errors.len(), 2);
        assert_eq!(errors[1]["type"], "invalid_data");
    }
}
