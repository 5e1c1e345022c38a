//! Alert rules: per-project conditions on new events and what to do when
//! they hold.

use serde::{Deserialize, Serialize};

use crate::ids::{ProjectId, RuleId};
use crate::protocol::Timestamp;

/// An alert rule of a project.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlertRule {
    /// Its id.
    pub id: RuleId,
    /// The project it watches.
    pub project_id: ProjectId,
    /// Its display name.
    pub name: String,
    /// Its conditions, filters and actions as JSON, which the server reads
    /// and the store keeps as opaque text.
    pub config: String,
    /// Whether it is evaluated.
    pub enabled: bool,
    /// When it was created.
    pub date_created: Timestamp,
    /// When it last fired, if ever.
    pub last_fired_at: Option<Timestamp>,
}

/// The fields of an alert rule that creating or updating it sets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlertRuleSettings {
    /// Its display name.
    pub name: String,
    /// Its conditions, filters and actions as JSON.
    pub config: String,
    /// Whether it is evaluated.
    pub enabled: bool,
}
