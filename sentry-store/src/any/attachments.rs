//! [`AttachmentStore`] for [`AnyMetadataStore`]: attachment records live
//! in the metadata backend.

use sentry_core::protocol::Timestamp;
use sentry_core::store::{Attachment, AttachmentId, AttachmentStore, BlobChecksum, StoreError};
use sentry_core::{EventId, ProjectId};

use super::AnyMetadataStore;

// Without a metadata backend the enum is empty and the arguments go unused.
#[cfg_attr(
    not(any(feature = "sqlite", feature = "postgres")),
    allow(unused_variables)
)]
impl AttachmentStore for AnyMetadataStore {
    async fn insert_attachment(&self, attachment: &Attachment) -> Result<(), StoreError> {
        dispatch!(self, s => s.insert_attachment(attachment))
    }

    async fn event_attachments(
        &self,
        project_id: ProjectId,
        event_id: EventId,
    ) -> Result<Vec<Attachment>, StoreError> {
        dispatch!(self, s => s.event_attachments(project_id, event_id))
    }

    async fn attachment(
        &self,
        project_id: ProjectId,
        id: AttachmentId,
    ) -> Result<Option<Attachment>, StoreError> {
        dispatch!(self, s => s.attachment(project_id, id))
    }

    async fn delete_attachments_before(
        &self,
        project_id: ProjectId,
        before: Timestamp,
    ) -> Result<u64, StoreError> {
        dispatch!(self, s => s.delete_attachments_before(project_id, before))
    }

    async fn referenced_blobs(
        &self,
        checksums: &[BlobChecksum],
    ) -> Result<Vec<BlobChecksum>, StoreError> {
        dispatch!(self, s => s.referenced_blobs(checksums))
    }
}
