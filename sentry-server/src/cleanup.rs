//! Retention: events and attachment records older than their project's
//! maximum age (default 90 days), and events beyond its optional maximum
//! count, are deleted, then the event store gives the space back. Chunks
//! of `sentry-cli` uploads are forgotten a day after their upload (an
//! upload is assembled within minutes). Last, blobs that no record
//! references any more (attachments, upload chunks and artifact bundles,
//! as the metadata store's `referenced_blobs` asks) are swept, once they
//! are older than a grace period (`--blob-grace-period`, default an hour):
//! ingest stores a blob before the record that references it, and the
//! grace period keeps the sweep off blobs in between. The server runs this
//! on an interval (`serve --cleanup-interval`); `sentry-server cleanup`
//! runs it once.

use std::collections::HashSet;
use std::time::Duration;

use sentry_core::ProjectId;
use sentry_core::protocol::Timestamp;
use sentry_core::store::{
    ArtifactStore, AttachmentStore, BlobChecksum, BlobStore, EventStore, MetadataStore,
    OutcomeStore, QuotaStore, RawItemStore, SessionStore, StoreError, UserReportStore,
};
use sentry_store::{AnyBlobStore, AnyEventStore, AnyMetadataStore};
use serde::Serialize;

use crate::config::CleanupConfig;

/// The project setting with the maximum age of its events, in days.
pub const RETENTION_DAYS: &str = "retentionDays";
/// The project setting with the maximum number of events kept, if any.
pub const MAX_EVENTS: &str = "maxEvents";
/// Maximum age of events of projects without [`RETENTION_DAYS`].
pub const DEFAULT_RETENTION_DAYS: u32 = 90;
/// Longest retention a project may set: ten years.
pub const MAX_RETENTION_DAYS: u32 = 3650;
/// How long the chunks of an upload are kept for its assembly.
const UPLOAD_CHUNK_LIFETIME: Duration = Duration::from_secs(86_400);
/// How many blobs a sweep looks at per page.
const SWEEP_PAGE: u64 = 1000;

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
    /// How many attachment records were older than their project's retention.
    pub expired_attachments: u64,
    /// How many pieces of user feedback were older than their project's retention.
    pub expired_user_reports: u64,
    /// How many items kept as they came were older than their project's retention.
    pub expired_raw_items: u64,
    /// How many rows of outcome and release health counts were older than
    /// the default retention, and of rate limit counters older than two days.
    pub expired_counts: u64,
    /// How many chunks of `sentry-cli` uploads were older than a day.
    pub expired_upload_chunks: u64,
    /// How many blobs were deleted because nothing referenced them.
    pub swept_blobs: u64,
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

    /// The oldest timestamp an event or attachment may have at `now`.
    pub fn cutoff(&self, now: Timestamp) -> Timestamp {
        earlier(now, Duration::from_secs(u64::from(self.days) * 86_400))
    }
}

/// The time a duration before `now` (`now` itself past the range of timestamps).
fn earlier(now: Timestamp, by: Duration) -> Timestamp {
    now.checked_sub(by).unwrap_or(now)
}

/// Applies every project's retention at `now`, compacts the event store,
/// then sweeps the blobs nothing references that are older than the grace
/// period.
///
/// # Errors
///
/// Fails when a store fails; what was deleted before stays deleted.
pub async fn cleanup(
    metadata: &AnyMetadataStore,
    events: &AnyEventStore,
    blobs: &AnyBlobStore,
    now: Timestamp,
    config: &CleanupConfig,
) -> Result<CleanupReport, StoreError> {
    let mut report = CleanupReport::default();
    for org in metadata.organizations().await? {
        for project in metadata.projects(org.id).await? {
            let retention = Retention::of_project(metadata, project.id).await?;
            let cutoff = retention.cutoff(now);
            report.projects += 1;
            report.expired_events += events.delete_events_before(project.id, cutoff).await?;
            if let Some(max) = retention.max_events {
                report.trimmed_events += events.trim_events(project.id, max).await?;
            }
            report.expired_attachments += metadata
                .delete_attachments_before(project.id, cutoff)
                .await?;
            report.expired_user_reports += metadata
                .delete_user_reports_before(project.id, cutoff)
                .await?;
            report.expired_raw_items +=
                metadata.delete_raw_items_before(project.id, cutoff).await?;
        }
    }
    let counts_cutoff = Retention {
        days: DEFAULT_RETENTION_DAYS,
        max_events: None,
    }
    .cutoff(now);
    // Rate limit windows are a day at most.
    let windows_cutoff = earlier(now, Duration::from_secs(2 * 86_400));
    report.expired_counts = metadata.delete_outcomes_before(counts_cutoff).await?
        + metadata.delete_sessions_before(counts_cutoff).await?
        + metadata.delete_quota_windows_before(windows_cutoff).await?;
    report.expired_upload_chunks = metadata
        .delete_upload_chunks_before(earlier(now, UPLOAD_CHUNK_LIFETIME))
        .await?;
    events.compact().await?;
    let blob_cutoff = earlier(now, config.blob_grace_period);
    report.swept_blobs = sweep_blobs(metadata, blobs, blob_cutoff).await?;
    Ok(report)
}

/// Deletes the blobs that no record references and that were created
/// before `cutoff`; returns how many went. A blob put again since it was
/// listed counts as new and stays.
///
/// # Errors
///
/// Fails when a store fails; what was deleted before stays deleted.
pub async fn sweep_blobs(
    metadata: &AnyMetadataStore,
    blobs: &AnyBlobStore,
    cutoff: Timestamp,
) -> Result<u64, StoreError> {
    let mut swept = 0;
    let mut after: Option<BlobChecksum> = None;
    loop {
        let page = blobs.list_blobs(after.as_ref(), SWEEP_PAGE).await?;
        after = page.items.last().map(|entry| entry.checksum);
        let old: Vec<BlobChecksum> = page
            .items
            .iter()
            .filter(|entry| entry.created < cutoff)
            .map(|entry| entry.checksum)
            .collect();
        let referenced: HashSet<BlobChecksum> =
            metadata.referenced_blobs(&old).await?.into_iter().collect();
        for checksum in old.iter().filter(|checksum| !referenced.contains(checksum)) {
            if blobs.delete_if_created_before(checksum, cutoff).await? {
                swept += 1;
            }
        }
        if !page.has_more {
            return Ok(swept);
        }
    }
}

/// Runs [`cleanup`] every `interval` (once per cluster) until the task is
/// dropped, logging what it did; a failed run is logged and retried at
/// the next tick.
pub async fn run_periodically(
    metadata: AnyMetadataStore,
    events: AnyEventStore,
    blobs: AnyBlobStore,
    interval: Duration,
    config: CleanupConfig,
) {
    let store = metadata.clone();
    crate::periodic::run_once_per_cluster(store, "cleanup", interval, |now| {
        let (metadata, events, blobs) = (metadata.clone(), events.clone(), blobs.clone());
        async move {
            match cleanup(&metadata, &events, &blobs, now, &config).await {
                Ok(report) => tracing::info!(
                    projects = report.projects,
                    expired = report.expired_events,
                    trimmed = report.trimmed_events,
                    expired_attachments = report.expired_attachments,
                    swept_blobs = report.swept_blobs,
                    "cleanup done"
                ),
                Err(error) => {
                    tracing::warn!(%error, "cleanup failed; retrying at the next interval");
                }
            }
        }
    })
    .await;
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
