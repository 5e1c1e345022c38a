//! Releases of an organization's code and their deploys, as `sentry-cli`
//! and the SDKs' `release` field know them.

use serde::{Deserialize, Serialize};

use crate::ids::{DeployId, OrgId, ProjectId, ReleaseId};
use crate::protocol::Timestamp;

/// A release: a version of an organization's code, shared by the projects
/// it ships (Sentry's model: the version is unique per organization, and
/// projects link to it many-to-many).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Release {
    /// Its id.
    pub id: ReleaseId,
    /// The organization it belongs to.
    pub org_id: OrgId,
    /// The version, e.g. `my-app@1.2.3` or a commit sha; unique within the organization.
    pub version: String,
    /// The projects it ships, in ascending order.
    pub projects: Vec<ProjectId>,
    /// The commit or tag it was built from (Sentry's `ref`).
    pub reference: Option<String>,
    /// A URL that points to it, e.g. a changelog.
    pub url: Option<String>,
    /// When it was created.
    pub date_created: Timestamp,
    /// When it was released (finalized), if it has been.
    pub date_released: Option<Timestamp>,
}

/// The fields of a release that an update may set; `None` keeps a field as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReleaseUpdate {
    /// The commit or tag.
    pub reference: Option<String>,
    /// The URL.
    pub url: Option<String>,
    /// When it was released: setting it finalizes the release.
    pub date_released: Option<Timestamp>,
}

/// Filters for listing the releases of an organization, newest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReleaseQuery {
    /// The organization.
    pub org_id: OrgId,
    /// Only releases linked to at least one of these projects; empty for all.
    pub project_ids: Vec<ProjectId>,
    /// Only releases whose version contains this text (case-insensitive).
    pub query: Option<String>,
    /// How many releases to skip.
    pub offset: u64,
    /// How many releases to return at most.
    pub limit: u64,
}

impl ReleaseQuery {
    /// Lists every release of an organization, up to `limit`.
    pub fn org(org_id: OrgId, limit: u64) -> Self {
        Self {
            org_id,
            project_ids: Vec::new(),
            query: None,
            offset: 0,
            limit,
        }
    }
}

/// A deploy of a release to an environment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deploy {
    /// Its id.
    pub id: DeployId,
    /// The release deployed.
    pub release_id: ReleaseId,
    /// The environment it went to, e.g. `production`.
    pub environment: String,
    /// Its name, if given.
    pub name: Option<String>,
    /// A URL that points to it, e.g. a CI run.
    pub url: Option<String>,
    /// When it started, if known.
    pub date_started: Option<Timestamp>,
    /// When it finished.
    pub date_finished: Timestamp,
}

/// What it takes to record a [`Deploy`]; the store sets the id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewDeploy {
    /// The environment it went to.
    pub environment: String,
    /// Its name, if given.
    pub name: Option<String>,
    /// A URL that points to it.
    pub url: Option<String>,
    /// When it started, if known.
    pub date_started: Option<Timestamp>,
    /// When it finished (Sentry takes the time of the request when the client does not say).
    pub date_finished: Timestamp,
}
