//! The breadcrumbs interface.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{Level, Other, Timestamp};

/// One entry of the trail of events before the error.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Breadcrumb {
    /// When it happened.
    pub timestamp: Option<Timestamp>,
    /// The kind: `default`, `http`, `navigation`, `query`, ...
    #[serde(rename = "type")]
    pub ty: Option<String>,
    /// A dotted category, e.g. `django.request`.
    pub category: Option<String>,
    /// Severity.
    pub level: Option<Level>,
    /// A human-readable message.
    pub message: Option<String>,
    /// Data specific to the kind.
    pub data: Option<serde_json::Map<String, Value>>,
    /// The id of an event this breadcrumb refers to.
    pub event_id: Option<String>,
    /// Fields this crate does not model.
    #[serde(flatten)]
    pub other: Other,
}
