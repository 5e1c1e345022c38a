//! Outcomes: how many items of each kind a project sent, per hour, and
//! what became of them (accepted, filtered, rate limited, invalid, or
//! dropped by the SDK itself, as its client reports tell).

use std::future::Future;

use serde::{Deserialize, Serialize};

use super::StoreError;
use crate::ids::ProjectId;
use crate::protocol::Timestamp;

/// What became of items, with Sentry's names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Stored.
    Accepted,
    /// Dropped by a project setting or the server's configuration.
    Filtered,
    /// Dropped by a rate limit or quota.
    RateLimited,
    /// Dropped as malformed or over a limit.
    Invalid,
    /// Dropped by the SDK before sending (from its client reports).
    ClientDiscard,
}

impl Outcome {
    /// Every outcome, in the order of their names in the API.
    pub const ALL: [Outcome; 5] = [
        Outcome::Accepted,
        Outcome::Filtered,
        Outcome::RateLimited,
        Outcome::Invalid,
        Outcome::ClientDiscard,
    ];

    /// Returns the API name.
    pub fn as_str(&self) -> &'static str {
        match self {
            Outcome::Accepted => "accepted",
            Outcome::Filtered => "filtered",
            Outcome::RateLimited => "rate_limited",
            Outcome::Invalid => "invalid",
            Outcome::ClientDiscard => "client_discard",
        }
    }

    /// Reads an API name.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|outcome| outcome.as_str() == name)
    }
}

/// The most characters kept of a category or reason; client reports name
/// both, and longer text is cut.
pub const MAX_OUTCOME_LABEL: usize = 64;

/// A count of items of one category of a project that met one outcome for
/// one reason within one hour.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutcomeCount {
    /// The project.
    pub project_id: ProjectId,
    /// The start of the hour.
    pub hour: Timestamp,
    /// The data category: `error`, `transaction`, `attachment` (counted in
    /// bytes), `session`, `monitor`, `user_report_v2`, `span`, `log_item`, ...
    pub category: String,
    /// What became of the items.
    pub outcome: Outcome,
    /// Why, for outcomes other than accepted (`ratelimit_backoff`,
    /// `too_large`, `feature_disabled`, ...); empty when there is none.
    pub reason: String,
    /// How many items (bytes for attachments).
    pub quantity: u64,
}

impl OutcomeCount {
    /// A count for the hour that holds `time`; category and reason are cut
    /// to [`MAX_OUTCOME_LABEL`] characters.
    pub fn new(
        project_id: ProjectId,
        time: Timestamp,
        category: &str,
        outcome: Outcome,
        reason: &str,
        quantity: u64,
    ) -> Self {
        Self {
            project_id,
            hour: hour_of(time),
            category: label(category),
            outcome,
            reason: label(reason),
            quantity,
        }
    }

    /// Returns what identifies its row (all but the quantity), in the
    /// order [`OutcomeStore::outcomes`] returns rows.
    pub fn row_key(&self) -> (Timestamp, ProjectId, &str, Outcome, &str) {
        (
            self.hour,
            self.project_id,
            &self.category,
            self.outcome,
            &self.reason,
        )
    }
}

fn label(text: &str) -> String {
    text.chars().take(MAX_OUTCOME_LABEL).collect()
}

/// Returns the start of the hour that holds `time`.
pub fn hour_of(time: Timestamp) -> Timestamp {
    const HOUR_MICROS: i64 = 3_600_000_000;
    let micros = time.as_unix_micros();
    Timestamp::from_unix_micros(micros - micros.rem_euclid(HOUR_MICROS)).unwrap_or(time)
}

/// Which outcome counts to read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutcomeQuery {
    /// The projects.
    pub project_ids: Vec<ProjectId>,
    /// The first hour (inclusive): counts of hours starting at or after it.
    pub since: Timestamp,
    /// The end (exclusive): counts of hours starting before it.
    pub until: Timestamp,
}

/// Outcome counts. A trait of its own beside
/// [`MetadataStore`](super::MetadataStore), implemented by the same
/// backends, so that every server of a cluster adds to the same counts.
pub trait OutcomeStore: Send + Sync {
    /// Adds counts: each quantity is added to the row of its project, hour,
    /// category, outcome and reason.
    fn add_outcomes(
        &self,
        counts: &[OutcomeCount],
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Returns the rows of some projects within a time range, ordered by
    /// hour, project, category, outcome and reason.
    fn outcomes(
        &self,
        query: &OutcomeQuery,
    ) -> impl Future<Output = Result<Vec<OutcomeCount>, StoreError>> + Send;

    /// Deletes the rows of hours that started before `before`; returns how
    /// many went.
    fn delete_outcomes_before(
        &self,
        before: Timestamp,
    ) -> impl Future<Output = Result<u64, StoreError>> + Send;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_fall_into_the_hour_that_holds_them() {
        let time = Timestamp::from_unix_seconds(7_200.0 + 1_799.5).unwrap();
        let count = OutcomeCount::new(ProjectId(1), time, "error", Outcome::Accepted, "", 1);
        assert_eq!(count.hour, Timestamp::from_unix_seconds(7_200.0).unwrap());
        let before_epoch = Timestamp::from_unix_seconds(-1.0).unwrap();
        assert_eq!(
            hour_of(before_epoch),
            Timestamp::from_unix_seconds(-3_600.0).unwrap()
        );
    }

    #[test]
    fn long_labels_are_cut() {
        let long = "x".repeat(100);
        let count = OutcomeCount::new(
            ProjectId(1),
            Timestamp::now(),
            &long,
            Outcome::Invalid,
            &long,
            1,
        );
        assert_eq!(count.category.len(), MAX_OUTCOME_LABEL);
        assert_eq!(count.reason.len(), MAX_OUTCOME_LABEL);
    }

    #[test]
    fn names_round_trip() {
        for outcome in Outcome::ALL {
            assert_eq!(Outcome::parse(outcome.as_str()), Some(outcome));
        }
        assert_eq!(Outcome::parse("lost"), None);
    }
}
