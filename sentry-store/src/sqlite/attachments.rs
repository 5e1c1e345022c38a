//! [`AttachmentStore`] for [`SqliteStore`]: one `attachments` row per
//! file, ids and checksums as blobs.

use rusqlite::{OptionalExtension, Row, params};
use sentry_core::protocol::Timestamp;
use sentry_core::store::{Attachment, AttachmentId, AttachmentStore, BlobChecksum, StoreError};
use sentry_core::{EventId, ProjectId};

use super::{SqliteStore, unavailable};

const ATTACHMENT_COLUMNS: &str = "SELECT id, project_id, event_id, name, content_type, \
     attachment_type, size, checksum, date_created FROM attachments";

/// The stored form of a project id in a lookup; no row has an id past `i64::MAX`.
fn project_key(id: ProjectId) -> i64 {
    i64::try_from(id.0).unwrap_or(i64::MAX)
}

fn checksum(index: usize, bytes: &[u8]) -> rusqlite::Result<BlobChecksum> {
    BlobChecksum::try_from(bytes).map_err(|error| {
        rusqlite::Error::FromSqlConversionFailure(
            index,
            rusqlite::types::Type::Blob,
            Box::new(error),
        )
    })
}

fn attachment_row(row: &Row<'_>) -> rusqlite::Result<Attachment> {
    let micros: i64 = row.get(8)?;
    Ok(Attachment {
        id: AttachmentId::from_bytes(row.get(0)?),
        project_id: ProjectId(row.get(1)?),
        event_id: EventId::from_bytes(row.get(2)?),
        name: row.get(3)?,
        content_type: row.get(4)?,
        attachment_type: row.get(5)?,
        size: row.get(6)?,
        checksum: checksum(7, &row.get::<_, Vec<u8>>(7)?)?,
        date_created: Timestamp::from_unix_micros(micros)
            .ok_or(rusqlite::Error::IntegralValueOutOfRange(8, micros))?,
    })
}

impl AttachmentStore for SqliteStore {
    async fn insert_attachment(&self, attachment: &Attachment) -> Result<(), StoreError> {
        let attachment = attachment.clone();
        self.run(move |connection| {
            connection
                .execute(
                    "INSERT INTO attachments (id, project_id, event_id, name, content_type, \
                     attachment_type, size, checksum, date_created) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                    params![
                        &attachment.id.as_bytes()[..],
                        attachment.project_id.0,
                        &attachment.event_id.as_bytes()[..],
                        attachment.name,
                        attachment.content_type,
                        attachment.attachment_type,
                        attachment.size,
                        &attachment.checksum.as_bytes()[..],
                        attachment.date_created.as_unix_micros(),
                    ],
                )
                .map_err(unavailable)?;
            Ok(())
        })
        .await
    }

    async fn event_attachments(
        &self,
        project_id: ProjectId,
        event_id: EventId,
    ) -> Result<Vec<Attachment>, StoreError> {
        self.run(move |connection| {
            let mut statement = connection
                .prepare_cached(&format!(
                    "{ATTACHMENT_COLUMNS} WHERE project_id = ?1 AND event_id = ?2 \
                     ORDER BY date_created, name, id"
                ))
                .map_err(unavailable)?;
            let rows = statement
                .query_map(
                    params![project_key(project_id), &event_id.as_bytes()[..]],
                    attachment_row,
                )
                .map_err(unavailable)?;
            rows.collect::<Result<_, _>>().map_err(unavailable)
        })
        .await
    }

    async fn attachment(
        &self,
        project_id: ProjectId,
        id: AttachmentId,
    ) -> Result<Option<Attachment>, StoreError> {
        self.run(move |connection| {
            connection
                .query_row(
                    &format!("{ATTACHMENT_COLUMNS} WHERE project_id = ?1 AND id = ?2"),
                    params![project_key(project_id), &id.as_bytes()[..]],
                    attachment_row,
                )
                .optional()
                .map_err(unavailable)
        })
        .await
    }

    async fn delete_attachments_before(
        &self,
        project_id: ProjectId,
        before: Timestamp,
    ) -> Result<u64, StoreError> {
        self.delete_before("attachments", "date_created", Some(project_id), before)
            .await
    }

    async fn referenced_blobs(
        &self,
        checksums: &[BlobChecksum],
    ) -> Result<Vec<BlobChecksum>, StoreError> {
        let checksums = checksums.to_vec();
        self.run(move |connection| {
            let mut statement = connection
                .prepare_cached(
                    "SELECT 1 WHERE EXISTS (SELECT 1 FROM attachments WHERE checksum = ?1) \
                     OR EXISTS (SELECT 1 FROM upload_chunks WHERE blob = ?1) \
                     OR EXISTS (SELECT 1 FROM artifact_bundles WHERE blob = ?1) \
                     OR EXISTS (SELECT 1 FROM debug_files WHERE blob = ?1)",
                )
                .map_err(unavailable)?;
            let mut referenced = Vec::new();
            for checksum in checksums {
                if statement
                    .exists([&checksum.as_bytes()[..]])
                    .map_err(unavailable)?
                {
                    referenced.push(checksum);
                }
            }
            Ok(referenced)
        })
        .await
    }
}
