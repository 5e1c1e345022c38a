//! Teams: the groups of an organization's members that own its projects.

use serde::{Deserialize, Serialize};

use crate::ids::{OrgId, TeamId};
use crate::protocol::Timestamp;

/// A team of an organization. A project belongs to one or more teams
/// (Sentry creates projects under a team:
/// `POST /api/0/teams/{org}/{team}/projects/`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Team {
    /// Its id.
    pub id: TeamId,
    /// The organization it belongs to.
    pub org_id: OrgId,
    /// Its URL slug, unique within the organization.
    pub slug: String,
    /// Its display name.
    pub name: String,
    /// When it was created.
    pub date_created: Timestamp,
}
