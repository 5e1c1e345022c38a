//! Retention: events older than their project's maximum age (default 90
//! days), and beyond its optional maximum count, are deleted, then the
//! event store gives the space back. The server runs this on an interval
//! (`serve --cleanup-interval`); `sentry-server cleanup` runs it once.

use std::time::Duration;

use sentry_core::ProjectId;
use sentry_core::protocol::Timestamp;
use sentry_core::store::{EventStore, MetadataStore, StoreError};
use sentry_store::{AnyEventStore, AnyMetadataStore};
use serde::Serialize;

/// The project setting with the maximum age of its events, in days.
pub const RETENTION_DAYS: &str = "retentionDays";
/// The project setting with the maximum number of events kept, if any.
pub const MAX_EVENTS: &str = "maxEvents";
/// Maximum age of events of projects without [`RETENTION_DAYS`].
pub const DEFAULT_RETENTION_DAYS: u32 = 90;
/// Longest retention a project may set: ten years.
pub const MAX_RETENTION_DAYS: u32 = 3650;

/// What one cleanup did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CleanupReport {
    /// How many projects were looked at.
    pub projects: u64,
    /// How many events were older than their project's retention.
    pub expired_events: u64,
    /// How many events were beyond their project's maximum count.
    pub trimmed_events: u64,
}

/// A project's retention settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention {
    /// Maximum age of events, in days.
    pub days: u32,
    /// Maximum number of events kept.
    pub max_events: Option<u64>,
}

impl Retention {
    /// Reads a project's settings; unreadable values fall back to the defaults.
    ///
    /// # Errors
    ///
    /// Fails when the metadata store fails.
    pub async fn of_project(
        metadata: &AnyMetadataStore,
        project_id: ProjectId,
    ) -> Result<Self, StoreError> {
        let days = metadata
            .project_option(project_id, RETENTION_DAYS)
            .await?
            .and_then(|text| text.parse::<u32>().ok())
            .filter(|days| (1..=MAX_RETENTION_DAYS).contains(days))
            .unwrap_or(DEFAULT_RETENTION_DAYS);
        let max_events = metadata
            .project_option(project_id, MAX_EVENTS)
            .await?
            .and_then(|text| text.parse::<u64>().ok())
            .filter(|max| *max > 0);
        Ok(Self { days, max_events })
    }

    /// The oldest timestamp an event may have at `now`.
    pub fn cutoff(&self, now: Timestamp) -> Timestamp {
        let micros = i64::from(self.days) * 86_400 * 1_000_000;
        Timestamp::from_unix_micros(now.as_unix_micros().saturating_sub(micros)).unwrap_or(now)
    }
}

/// Applies every project's retention at `now`, then compacts the event store.
///
/// # Errors
///
/// Fails when a store fails; what was deleted before stays deleted.
pub async fn cleanup(
    metadata: &AnyMetadataStore,
    events: &AnyEventStore,
    now: Timestamp,
) -> Result<CleanupReport, StoreError> {
    let mut report = CleanupReport::default();
    for org in metadata.organizations().await? {
        for project in metadata.projects(org.id).await? {
            let retention = Retention::of_project(metadata, project.id).await?;
            report.projects += 1;
            report.expired_events += events
                .delete_events_before(project.id, retention.cutoff(now))
                .await?;
            if let Some(max) = retention.max_events {
                report.trimmed_events += events.trim_events(project.id, max).await?;
            }
        }
    }
    events.compact().await?;
    Ok(report)
}

/// Runs [`cleanup`] every `interval` until the task is dropped, logging
/// what it did; a failed run is logged and retried at the next tick.
pub async fn run_periodically(
    metadata: AnyMetadataStore,
    events: AnyEventStore,
    interval: Duration,
) {
    let mut ticker = tokio::time::interval(interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticker.tick().await;
        match cleanup(&metadata, &events, Timestamp::now()).await {
            Ok(report) => tracing::info!(
                projects = report.projects,
                expired = report.expired_events,
                trimmed = report.trimmed_events,
                "cleanup done"
            ),
            Err(error) => tracing::warn!(%error, "cleanup failed; retrying at the next interval"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cutoff_is_the_retention_before_now() {
        let now = Timestamp::from_unix_seconds(100.0 * 86_400.0).unwrap_or_else(Timestamp::now);
        let retention = Retention {
            days: 90,
            max_events: None,
        };
        assert_eq!(
            retention.cutoff(now).as_unix_seconds(),
            10.0 * 86_400.0,
            "90 days before day 100"
        );
    }
}
