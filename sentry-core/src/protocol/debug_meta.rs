//! The debug meta interface: loaded images for symbolication.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::Other;

/// Debug images and SDK information that symbolication needs.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DebugMeta {
    /// Information about the system SDK.
    pub sdk_info: Option<Value>,
    /// The loaded images (`elf`, `macho`, `pe`, `sourcemap`, `proguard`, ...).
    pub images: Option<Vec<Value>>,
    /// Fields this crate does not model.
    #[serde(flatten)]
    pub other: Other,
}
