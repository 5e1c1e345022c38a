//! [`AttachmentStore`] for [`PostgresStore`]: one `attachments` row per
//! file, ids and checksums as `BYTEA`.

use sentry_core::protocol::Timestamp;
use sentry_core::store::{Attachment, AttachmentId, AttachmentStore, BlobChecksum, StoreError};
use sentry_core::{EventId, ProjectId};
use tokio_postgres::Row;

use super::blobs::checksum;
use super::error::PgError;
use super::metadata::{project_key, required_project_key, timestamp, unsigned};
use super::{PostgresStore, sql};

const ATTACHMENT_COLUMNS: &str = "SELECT id, project_id, event_id, name, content_type, \
     attachment_type, size, checksum, date_created FROM attachments";

/// Reads a 16-byte id column.
fn id_bytes(column: &'static str, bytes: &[u8]) -> Result<[u8; 16], PgError> {
    <[u8; 16]>::try_from(bytes).map_err(|_| PgError::Value {
        column,
        value: format!("{} bytes", bytes.len()),
    })
}

fn attachment_row(row: &Row) -> Result<Attachment, PgError> {
    Ok(Attachment {
        id: AttachmentId::from_bytes(id_bytes("id", row.try_get(0)?)?),
        project_id: ProjectId(unsigned("project_id", row.try_get(1)?)?),
        event_id: EventId::from_bytes(id_bytes("event_id", row.try_get(2)?)?),
        name: row.try_get(3)?,
        content_type: row.try_get(4)?,
        attachment_type: row.try_get(5)?,
        size: unsigned("size", row.try_get(6)?)?,
        checksum: checksum("checksum", row.try_get(7)?)?,
        date_created: timestamp("date_created", row.try_get(8)?)?,
    })
}

impl AttachmentStore for PostgresStore {
    async fn insert_attachment(&self, attachment: &Attachment) -> Result<(), StoreError> {
        let project_id = required_project_key(attachment.project_id)?;
        let size = i64::try_from(attachment.size).unwrap_or(i64::MAX);
        let client = self.client().await?;
        sql::execute(
            &client,
            "INSERT INTO attachments (id, project_id, event_id, name, content_type, \
             attachment_type, size, checksum, date_created) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            &[
                &attachment.id.as_bytes().as_slice(),
                &project_id,
                &attachment.event_id.as_bytes().as_slice(),
                &attachment.name,
                &attachment.content_type,
                &attachment.attachment_type,
                &size,
                &attachment.checksum.as_bytes().as_slice(),
                &attachment.date_created.as_unix_micros(),
            ],
        )
        .await?;
        Ok(())
    }

    async fn event_attachments(
        &self,
        project_id: ProjectId,
        event_id: EventId,
    ) -> Result<Vec<Attachment>, StoreError> {
        let Some(project_id) = project_key(project_id) else {
            return Ok(Vec::new());
        };
        let client = self.client().await?;
        let sql = format!(
            "{ATTACHMENT_COLUMNS} WHERE project_id = $1 AND event_id = $2 \
             ORDER BY date_created, name, id"
        );
        let rows = sql::query(
            &client,
            &sql,
            &[&project_id, &event_id.as_bytes().as_slice()],
        )
        .await?;
        Ok(rows.iter().map(attachment_row).collect::<Result<_, _>>()?)
    }

    async fn attachment(
        &self,
        project_id: ProjectId,
        id: AttachmentId,
    ) -> Result<Option<Attachment>, StoreError> {
        let Some(project_id) = project_key(project_id) else {
            return Ok(None);
        };
        let client = self.client().await?;
        let sql = format!("{ATTACHMENT_COLUMNS} WHERE project_id = $1 AND id = $2");
        let row = sql::query_opt(&client, &sql, &[&project_id, &id.as_bytes().as_slice()]).await?;
        Ok(row.as_ref().map(attachment_row).transpose()?)
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
        if checksums.is_empty() {
            return Ok(Vec::new());
        }
        let wanted: Vec<&[u8]> = checksums
            .iter()
            .map(|checksum| checksum.as_bytes().as_slice())
            .collect();
        let client = self.client().await?;
        let rows = sql::query(
            &client,
            "SELECT checksum FROM attachments WHERE checksum = ANY($1) \
             UNION SELECT blob FROM upload_chunks WHERE blob = ANY($1) \
             UNION SELECT blob FROM artifact_bundles WHERE blob = ANY($1) \
             UNION SELECT blob FROM debug_files WHERE blob = ANY($1)",
            &[&wanted],
        )
        .await?;
        let found = rows
            .iter()
            .map(|row| checksum("checksum", row.try_get(0)?))
            .collect::<Result<_, PgError>>()?;
        Ok(found)
    }
}
