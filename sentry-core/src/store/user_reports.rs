//! User feedback: what a user wrote about an error, from `user_report`
//! items (linked to the event they name) and `feedback` items (linked to
//! their `associated_event_id`, if any).

use std::future::Future;

use serde::{Deserialize, Serialize};

use super::StoreError;
use crate::ids::{EventId, IssueId, ProjectId};
use crate::protocol::Timestamp;

/// A piece of user feedback.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserReport {
    /// Its id: the event id a `user_report` names (so that a second report
    /// on the same event replaces the first), or a `feedback` item's own
    /// event id.
    pub id: EventId,
    /// The project.
    pub project_id: ProjectId,
    /// The event it is about, if any.
    pub event_id: Option<EventId>,
    /// That event's issue, once known.
    pub issue_id: Option<IssueId>,
    /// The user's name, possibly empty.
    pub name: String,
    /// The user's email, possibly empty.
    pub email: String,
    /// What the user wrote.
    pub comments: String,
    /// The environment, if the SDK named one.
    pub environment: Option<String>,
    /// When it was received.
    pub date_created: Timestamp,
}

/// Which user reports to list, newest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserReportQuery {
    /// The project.
    pub project_id: ProjectId,
    /// Only those linked to this issue, when given.
    pub issue_id: Option<IssueId>,
    /// Only those before this one in the order (the last of the previous
    /// page): created earlier, or at the same time with a smaller id.
    pub before: Option<(Timestamp, EventId)>,
    /// The most to return.
    pub limit: usize,
}

/// User reports. A trait of its own beside
/// [`MetadataStore`](super::MetadataStore), implemented by the same
/// backends.
pub trait UserReportStore: Send + Sync {
    /// Adds a report, or replaces the project's report with the same id.
    fn upsert_user_report(
        &self,
        report: &UserReport,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Links the reports about some events that have no issue yet to the
    /// events' issues, each `(project, event, issue)`; returns how many
    /// changed. Feedback can come before its event.
    fn link_user_reports(
        &self,
        links: &[(ProjectId, EventId, IssueId)],
    ) -> impl Future<Output = Result<u64, StoreError>> + Send;

    /// Returns reports, newest first (ties by id, descending).
    fn user_reports(
        &self,
        query: &UserReportQuery,
    ) -> impl Future<Output = Result<Vec<UserReport>, StoreError>> + Send;

    /// Deletes a project's reports created before `before`; returns how
    /// many went.
    fn delete_user_reports_before(
        &self,
        project_id: ProjectId,
        before: Timestamp,
    ) -> impl Future<Output = Result<u64, StoreError>> + Send;
}
