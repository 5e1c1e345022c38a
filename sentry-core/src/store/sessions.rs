//! Release health counts: what session updates and session aggregates
//! tell, per project, release, environment and hour the sessions started.
//!
//! Counts come in two kinds. A count with a subject (a session id or a
//! user's distinct id) is kept once however often it is recorded, so that
//! the many updates of one session count it once; a count without one is
//! added up (the `sessions` aggregates SDKs send from servers). A total is
//! the sum of the second kind plus the number of distinct subjects of the
//! first.

use std::future::Future;

use serde::{Deserialize, Serialize};

use super::StoreError;
use crate::ids::ProjectId;
use crate::protocol::Timestamp;

/// What a session count counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SessionMetric {
    /// Sessions started.
    Session,
    /// Sessions that saw an error, crashed or ended abnormally.
    Errored,
    /// Sessions that crashed.
    Crashed,
    /// Sessions that ended abnormally (the app was killed or hung).
    Abnormal,
    /// Distinct users.
    User,
    /// Distinct users of errored sessions.
    ErroredUser,
    /// Distinct users of crashed sessions.
    CrashedUser,
    /// Distinct users of abnormal sessions.
    AbnormalUser,
}

impl SessionMetric {
    /// Every metric.
    pub const ALL: [SessionMetric; 8] = [
        SessionMetric::Session,
        SessionMetric::Errored,
        SessionMetric::Crashed,
        SessionMetric::Abnormal,
        SessionMetric::User,
        SessionMetric::ErroredUser,
        SessionMetric::CrashedUser,
        SessionMetric::AbnormalUser,
    ];

    /// Returns the stored name.
    pub fn as_str(&self) -> &'static str {
        match self {
            SessionMetric::Session => "session",
            SessionMetric::Errored => "errored",
            SessionMetric::Crashed => "crashed",
            SessionMetric::Abnormal => "abnormal",
            SessionMetric::User => "user",
            SessionMetric::ErroredUser => "errored_user",
            SessionMetric::CrashedUser => "crashed_user",
            SessionMetric::AbnormalUser => "abnormal_user",
        }
    }

    /// Reads a stored name.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|metric| metric.as_str() == name)
    }
}

/// One count of sessions or users of a project's release and environment,
/// in the hour the sessions started.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionCount {
    /// The project.
    pub project_id: ProjectId,
    /// The release.
    pub release: String,
    /// The environment; empty when the SDK named none.
    pub environment: String,
    /// The start of the hour the sessions started in.
    pub hour: Timestamp,
    /// What is counted.
    pub metric: SessionMetric,
    /// The session id or user id counted, kept once; empty for a count
    /// that is added up.
    pub subject: String,
    /// How many (1 for a count with a subject).
    pub quantity: u64,
}

/// Which session totals to read, and how to group them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionQuery {
    /// The projects.
    pub project_ids: Vec<ProjectId>,
    /// The first hour (inclusive).
    pub since: Timestamp,
    /// The end (exclusive).
    pub until: Timestamp,
    /// The length of a bucket in seconds, a multiple of 3,600; buckets
    /// start at `since`. A bucket as long as the range gives one total.
    pub interval_secs: u64,
    /// Only these releases, when given.
    pub releases: Option<Vec<String>>,
    /// Only these environments, when given.
    pub environments: Option<Vec<String>>,
    /// Keep releases apart.
    pub by_release: bool,
    /// Keep environments apart.
    pub by_environment: bool,
}

/// A total of one metric in one bucket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionTotal {
    /// The project.
    pub project_id: ProjectId,
    /// The release, when the query keeps releases apart.
    pub release: Option<String>,
    /// The environment, when the query keeps environments apart.
    pub environment: Option<String>,
    /// The start of the bucket.
    pub bucket: Timestamp,
    /// What is counted.
    pub metric: SessionMetric,
    /// The sum of added-up counts plus the distinct subjects.
    pub quantity: u64,
}

impl SessionTotal {
    /// Returns what identifies it (all but the quantity), in the order
    /// [`SessionStore::session_totals`] returns totals.
    pub fn row_key(
        &self,
    ) -> (
        ProjectId,
        Option<&str>,
        Option<&str>,
        Timestamp,
        SessionMetric,
    ) {
        (
            self.project_id,
            self.release.as_deref(),
            self.environment.as_deref(),
            self.bucket,
            self.metric,
        )
    }
}

impl SessionQuery {
    /// The bucket length in microseconds: the interval, at least an hour.
    pub fn interval_micros(&self) -> i64 {
        i64::try_from(self.interval_secs.max(3_600))
            .unwrap_or(i64::MAX / 1_000_000)
            .saturating_mul(1_000_000)
    }
}

/// Release health counts. A trait of its own beside
/// [`MetadataStore`](super::MetadataStore), implemented by the same
/// backends.
pub trait SessionStore: Send + Sync {
    /// Records counts: one with a subject is kept once, one without is
    /// added to its row.
    fn record_sessions(
        &self,
        counts: &[SessionCount],
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Returns totals per project, bucket and metric (and release and
    /// environment when asked), ordered by project, release, environment,
    /// bucket and metric; buckets with nothing are left out.
    fn session_totals(
        &self,
        query: &SessionQuery,
    ) -> impl Future<Output = Result<Vec<SessionTotal>, StoreError>> + Send;

    /// Deletes the counts of hours that started before `before`; returns
    /// how many rows went.
    fn delete_sessions_before(
        &self,
        before: Timestamp,
    ) -> impl Future<Output = Result<u64, StoreError>> + Send;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for metric in SessionMetric::ALL {
            assert_eq!(SessionMetric::parse(metric.as_str()), Some(metric));
        }
        assert_eq!(SessionMetric::parse("sessions"), None);
    }
}
