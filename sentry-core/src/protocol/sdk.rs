//! The SDK interface.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::Other;

/// The SDK that sent an event.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ClientSdk {
    /// The SDK name, e.g. `sentry.python`.
    pub name: Option<String>,
    /// The SDK version.
    pub version: Option<String>,
    /// Enabled integrations.
    pub integrations: Option<Vec<Value>>,
    /// Installed packages.
    pub packages: Option<Vec<Value>>,
    /// SDK settings.
    pub settings: Option<Value>,
    /// Enabled features.
    pub features: Option<Vec<Value>>,
    /// Fields this crate does not model.
    #[serde(flatten)]
    pub other: Other,
}
