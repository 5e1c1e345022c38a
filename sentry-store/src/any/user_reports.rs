//! [`UserReportStore`] for [`AnyMetadataStore`]: user feedback lives in
//! the metadata backend.

use sentry_core::protocol::Timestamp;
use sentry_core::store::{StoreError, UserReport, UserReportQuery, UserReportStore};
use sentry_core::{EventId, IssueId, ProjectId};

use super::AnyMetadataStore;

// Without a metadata backend the enum is empty and the arguments go unused.
#[cfg_attr(
    not(any(feature = "sqlite", feature = "postgres")),
    allow(unused_variables)
)]
impl UserReportStore for AnyMetadataStore {
    async fn upsert_user_report(&self, report: &UserReport) -> Result<(), StoreError> {
        dispatch!(self, s => s.upsert_user_report(report))
    }

    async fn link_user_reports(
        &self,
        links: &[(ProjectId, EventId, IssueId)],
    ) -> Result<u64, StoreError> {
        dispatch!(self, s => s.link_user_reports(links))
    }

    async fn user_reports(&self, query: &UserReportQuery) -> Result<Vec<UserReport>, StoreError> {
        dispatch!(self, s => s.user_reports(query))
    }

    async fn delete_user_reports_before(
        &self,
        project_id: ProjectId,
        before: Timestamp,
    ) -> Result<u64, StoreError> {
        dispatch!(self, s => s.delete_user_reports_before(project_id, before))
    }
}
