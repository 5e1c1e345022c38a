//! Cleanup of attachments: records past their project's retention go,
//! then blobs nothing references go once the grace period is over, while
//! referenced blobs stay.

use std::process::Command;
use std::time::Duration;

use anyhow::Result;
use axum::body::Body;
use sentry_core::EventId;
use sentry_core::protocol::Timestamp;
use sentry_core::store::{
    Attachment, AttachmentId, AttachmentStore, BlobChecksum, BlobStore, EVENT_ATTACHMENT,
    MetadataStore,
};
use sentry_server::cleanup::{RETENTION_DAYS, cleanup};
use sentry_server::config::CleanupConfig;
use sentry_store::{
    AnyBlobStore, AnyEventStore, AnyMetadataStore, open_blobs, open_events, open_metadata,
};
use serde_json::Value;

use crate::common::binary;

/// A time some seconds away from `now`.
fn shifted(now: Timestamp, seconds: f64) -> Timestamp {
    Timestamp::from_unix_seconds(now.as_unix_seconds() + seconds).unwrap()
}

/// Stores content as ingest will: an HTTP body's stream of chunks.
async fn put(blobs: &AnyBlobStore, content: &str) -> Result<BlobChecksum> {
    let body = Body::from(content.to_owned()).into_data_stream();
    Ok(blobs.put(body, None).await?.digest.checksum)
}

/// Runs the cleanup of a project that keeps attachments 30 days, on
/// whatever stores it is given; `exact` when no other test shares them,
/// else the counts include what other tests left.
async fn old_attachments_go_and_only_unreferenced_blobs_are_swept(
    metadata: &AnyMetadataStore,
    events: &AnyEventStore,
    blobs: &AnyBlobStore,
    exact: bool,
) -> Result<()> {
    let org = metadata
        .ensure_organization(&format!("cleanup-{}", EventId::new_random()))
        .await?;
    let project = metadata.ensure_project(org.id, "attachments").await?;
    metadata
        .set_project_option(project.id, RETENTION_DAYS, Some("30"))
        .await?;
    let unique = EventId::new_random().to_string();
    let old_blob = put(blobs, &format!("old log {unique}")).await?;
    let kept_blob = put(blobs, &format!("recent log {unique}")).await?;
    let stray_blob = put(blobs, &format!("never recorded {unique}")).await?;
    let now = Timestamp::now();
    let record = |checksum: BlobChecksum, age_days: f64| Attachment {
        id: AttachmentId::new_random(),
        project_id: project.id,
        event_id: EventId::new_random(),
        name: "log.txt".to_owned(),
        content_type: Some("text/plain".to_owned()),
        attachment_type: EVENT_ATTACHMENT.to_owned(),
        size: 10,
        checksum,
        date_created: shifted(now, -age_days * 86_400.0),
    };
    let old = record(old_blob, 31.0);
    let recent = record(kept_blob, 1.0);
    metadata.insert_attachment(&old).await?;
    metadata.insert_attachment(&recent).await?;
    let config = CleanupConfig {
        blob_grace_period: Duration::from_secs(3600),
    };

    // Within the grace period the old record goes, but no blob does.
    let report = cleanup(metadata, events, blobs, now, &config).await?;
    if exact {
        assert_eq!(report.expired_attachments, 1);
        assert_eq!(report.swept_blobs, 0);
    } else {
        assert!(report.expired_attachments >= 1, "{report:?}");
    }
    assert!(metadata.attachment(project.id, old.id).await?.is_none());
    for checksum in [old_blob, kept_blob, stray_blob] {
        assert!(
            blobs.exists(&checksum).await?,
            "{checksum} was swept too early"
        );
    }

    // Past it, the blobs nothing references go; the referenced one stays.
    let later = shifted(now, 2.0 * 3600.0);
    let report = cleanup(metadata, events, blobs, later, &config).await?;
    if exact {
        assert_eq!(report.expired_attachments, 0);
        assert_eq!(report.swept_blobs, 2);
    } else {
        assert!(report.swept_blobs >= 2, "{report:?}");
    }
    assert!(!blobs.exists(&old_blob).await?);
    assert!(!blobs.exists(&stray_blob).await?);
    assert!(blobs.exists(&kept_blob).await?);
    let kept: Vec<AttachmentId> = metadata
        .event_attachments(project.id, recent.event_id)
        .await?
        .iter()
        .map(|attachment| attachment.id)
        .collect();
    assert_eq!(kept, vec![recent.id]);
    Ok(())
}

#[tokio::test]
async fn cleanup_sweeps_orphaned_blobs_of_a_folder() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let metadata = open_metadata("sqlite::memory:").await?;
    let events = open_events("sqlite::memory:").await?;
    let blobs = open_blobs(&format!("file://{}", dir.path().join("blobs").display())).await?;
    old_attachments_go_and_only_unreferenced_blobs_are_swept(&metadata, &events, &blobs, true).await
}

#[cfg(feature = "postgres")]
#[tokio::test]
async fn cleanup_sweeps_orphaned_blobs_in_postgres() -> Result<()> {
    use anyhow::Context as _;

    let url = std::env::var("TEST_POSTGRES_URL")
        .context("TEST_POSTGRES_URL is not set; run the tests through scripts/test-services")?;
    let metadata = open_metadata(&url).await?;
    let events = open_events("sqlite::memory:").await?;
    let blobs = open_blobs(&url).await?;
    // The database is shared: other blobs may be swept along.
    old_attachments_go_and_only_unreferenced_blobs_are_swept(&metadata, &events, &blobs, false)
        .await
}

#[test]
fn the_cleanup_command_reports_attachments_and_blobs() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let output = Command::new(binary())
        .env_remove("SENTRY_CONFIG")
        .env_remove("SENTRY_METADATA_URL")
        .env_remove("SENTRY_EVENTS_URL")
        .env_remove("SENTRY_BLOBS_URL")
        .arg("--data-dir")
        .arg(dir.path())
        .args(["--events-url", "sqlite::memory:", "cleanup"])
        .output()?;
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report: Value = serde_json::from_slice(&output.stdout)?;
    assert_eq!(report["expiredAttachments"], 0, "{report}");
    assert_eq!(report["sweptBlobs"], 0, "{report}");
    assert!(dir.path().join("blobs").is_dir(), "the default blob folder");
    Ok(())
}
