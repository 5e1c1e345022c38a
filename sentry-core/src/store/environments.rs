//! Environments: the `environment` values a project's events carry.

use serde::{Deserialize, Serialize};

use crate::ids::ProjectId;
use crate::protocol::Timestamp;

/// An environment of a project, e.g. `production`, recorded the first time
/// an event of the project names it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Environment {
    /// The project.
    pub project_id: ProjectId,
    /// The name, as events send it.
    pub name: String,
    /// When the project first named it.
    pub first_seen: Timestamp,
}
