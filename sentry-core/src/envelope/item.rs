//! Envelope items and their headers.

use std::fmt;

use bytes::Bytes;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::protocol::Other;

/// One item of an envelope.
#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    /// The item header, without `length` (which is the payload's length).
    pub headers: ItemHeaders,
    /// The payload, borrowed from the request body.
    pub payload: Bytes,
}

impl Item {
    /// Creates an item of a type with a payload.
    pub fn new(ty: ItemType, payload: impl Into<Bytes>) -> Self {
        Self {
            headers: ItemHeaders {
                ty,
                ..ItemHeaders::default()
            },
            payload: payload.into(),
        }
    }
}

/// The header line of an item.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ItemHeaders {
    /// The item type.
    #[serde(rename = "type")]
    pub ty: ItemType,
    /// The MIME type of the payload.
    pub content_type: Option<String>,
    /// The file name of an attachment.
    pub filename: Option<String>,
    /// The kind of attachment (`event.attachment`, `event.minidump`, ...).
    pub attachment_type: Option<String>,
    /// The number of records in a container item (logs, spans, metrics).
    pub item_count: Option<u64>,
    /// Fields this crate does not model.
    #[serde(flatten)]
    pub other: Other,
}

impl ItemHeaders {
    /// Writes the header as one JSON line (without the newline), with `type` and `length` first.
    pub(crate) fn to_json_line(&self, length: usize) -> Vec<u8> {
        let mut map = serde_json::Map::new();
        map.insert("type".to_owned(), self.ty.as_str().into());
        map.insert("length".to_owned(), length.into());
        if let Ok(serde_json::Value::Object(rest)) = serde_json::to_value(self) {
            for (key, value) in rest {
                if key != "type" && key != "length" {
                    map.insert(key, value);
                }
            }
        }
        serde_json::to_vec(&map).unwrap_or_default()
    }
}

macro_rules! item_types {
    ($($(#[$doc:meta])* $variant:ident => $name:literal,)*) => {
        /// The type of an envelope item. Types this crate does not know are kept.
        #[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum ItemType {
            $($(#[$doc])* $variant,)*
            /// A type this crate does not know; skipped by the pipeline.
            Unknown(String),
        }

        impl ItemType {
            /// Returns the wire name.
            pub fn as_str(&self) -> &str {
                match self {
                    $(ItemType::$variant => $name,)*
                    ItemType::Unknown(name) => name,
                }
            }

            /// Reads a wire name.
            pub fn from_name(name: &str) -> Self {
                match name {
                    $($name => ItemType::$variant,)*
                    other => ItemType::Unknown(other.to_owned()),
                }
            }
        }
    };
}

item_types! {
    /// An error event.
    #[default]
    Event => "event",
    /// A performance transaction.
    Transaction => "transaction",
    /// A file attached to an event.
    Attachment => "attachment",
    /// A release-health session update.
    Session => "session",
    /// Pre-aggregated release-health sessions.
    Sessions => "sessions",
    /// Counts of events the SDK dropped.
    ClientReport => "client_report",
    /// Legacy user feedback.
    UserReport => "user_report",
    /// User feedback.
    Feedback => "feedback",
    /// A cron monitor check-in.
    CheckIn => "check_in",
    /// A container of log records.
    Log => "log",
    /// A container of spans.
    Span => "span",
    /// A container of metrics.
    TraceMetric => "trace_metric",
    /// A profile.
    Profile => "profile",
    /// A continuous profile chunk.
    ProfileChunk => "profile_chunk",
    /// A session replay event.
    ReplayEvent => "replay_event",
    /// A session replay recording.
    ReplayRecording => "replay_recording",
    /// A session replay video.
    ReplayVideo => "replay_video",
    /// A browser security report.
    Security => "security",
    /// Form fields of a minidump upload.
    FormData => "form_data",
}

impl fmt::Display for ItemType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for ItemType {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for ItemType {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        Ok(ItemType::from_name(&name))
    }
}
