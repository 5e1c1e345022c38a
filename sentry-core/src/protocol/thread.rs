//! The threads interface.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{Other, Stacktrace};

/// A thread that was running when the event happened.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Thread {
    /// The thread id, a number or a string.
    pub id: Option<Value>,
    /// The thread name.
    pub name: Option<String>,
    /// Whether this thread crashed.
    pub crashed: Option<bool>,
    /// Whether this thread was the current one.
    pub current: Option<bool>,
    /// Whether this is the main thread.
    pub main: Option<bool>,
    /// The state of the thread (`RUNNABLE`, ...).
    pub state: Option<String>,
    /// Its stack trace.
    pub stacktrace: Option<Stacktrace>,
    /// Its stack trace before symbolication.
    pub raw_stacktrace: Option<Stacktrace>,
    /// Locks held by the thread.
    pub held_locks: Option<Value>,
    /// Fields this crate does not model.
    #[serde(flatten)]
    pub other: Other,
}
