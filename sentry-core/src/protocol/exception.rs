//! The exception interface.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{Other, Stacktrace};

/// One exception of a chain.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Exception {
    /// The exception class, e.g. `ValueError`.
    #[serde(rename = "type")]
    pub ty: Option<String>,
    /// The exception message.
    pub value: Option<String>,
    /// The module or package that defines the type.
    pub module: Option<String>,
    /// The id of the thread it was raised on.
    pub thread_id: Option<Value>,
    /// How it was caught.
    pub mechanism: Option<Mechanism>,
    /// Where it was raised.
    pub stacktrace: Option<Stacktrace>,
    /// The stack trace before symbolication.
    pub raw_stacktrace: Option<Stacktrace>,
    /// Fields this crate does not model.
    #[serde(flatten)]
    pub other: Other,
}

/// How an exception was caught, and its place in an exception group.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Mechanism {
    /// The mechanism, e.g. `excepthook`, `chained`, `panic`.
    #[serde(rename = "type")]
    pub ty: Option<String>,
    /// Whether the application handled it.
    pub handled: Option<bool>,
    /// Whether the exception was made up by the SDK (e.g. for a message).
    pub synthetic: Option<bool>,
    /// A description of the mechanism.
    pub description: Option<String>,
    /// Where the chain link came from (`cause`, `__context__`, ...).
    pub source: Option<String>,
    /// The id of this exception within the event.
    pub exception_id: Option<u64>,
    /// The id of the exception that holds this one.
    pub parent_id: Option<u64>,
    /// Whether this exception is a group of others.
    pub is_exception_group: Option<bool>,
    /// Fields this crate does not model.
    #[serde(flatten)]
    pub other: Other,
}
