//! Attachment records: the files an SDK sends with an event (minidumps,
//! logs, screenshots), kept in the metadata store, their content in a
//! [`BlobStore`](super::BlobStore) under its [`BlobChecksum`].

use std::future::Future;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{BlobChecksum, StoreError};
use crate::ids::{EventId, ParseIdError, ProjectId, serde_as_text, uuid_id_methods};
use crate::protocol::Timestamp;

/// The id of an attachment: a UUID written as 32 lowercase hex digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AttachmentId(Uuid);

uuid_id_methods!(AttachmentId);
serde_as_text!(AttachmentId);

impl std::fmt::Display for AttachmentId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0.simple())
    }
}

impl FromStr for AttachmentId {
    type Err = ParseIdError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Uuid::try_parse(s)
            .map(Self)
            .map_err(|_| ParseIdError::new("attachment id", s))
    }
}

/// The `attachment_type` of a plain attachment, when the SDK names none.
pub const EVENT_ATTACHMENT: &str = "event.attachment";
/// The `attachment_type` of a minidump.
pub const EVENT_MINIDUMP: &str = "event.minidump";

/// A file sent with an event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attachment {
    /// Its id.
    pub id: AttachmentId,
    /// The project of the event.
    pub project_id: ProjectId,
    /// The event it came with.
    pub event_id: EventId,
    /// Its file name, as the SDK gave it.
    pub name: String,
    /// Its media type, if the SDK gave one.
    pub content_type: Option<String>,
    /// What it is, as the envelope item says: [`EVENT_ATTACHMENT`],
    /// [`EVENT_MINIDUMP`], `event.applecrashreport`, `unreal.context`, ...
    pub attachment_type: String,
    /// Its length in bytes.
    pub size: u64,
    /// The blob holding its content.
    pub checksum: BlobChecksum,
    /// When it was stored; retention counts from here.
    pub date_created: Timestamp,
}

/// Attachment records. A trait of its own beside
/// [`MetadataStore`](super::MetadataStore), implemented by the same
/// backends.
pub trait AttachmentStore: Send + Sync {
    /// Adds an attachment record.
    fn insert_attachment(
        &self,
        attachment: &Attachment,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Returns the attachments of an event, oldest first (ties by name, then id).
    fn event_attachments(
        &self,
        project_id: ProjectId,
        event_id: EventId,
    ) -> impl Future<Output = Result<Vec<Attachment>, StoreError>> + Send;

    /// Returns an attachment of a project by id.
    fn attachment(
        &self,
        project_id: ProjectId,
        id: AttachmentId,
    ) -> impl Future<Output = Result<Option<Attachment>, StoreError>> + Send;

    /// Deletes a project's attachment records created before `before`;
    /// returns how many went. Their blobs stay until a sweep finds them
    /// unreferenced.
    fn delete_attachments_before(
        &self,
        project_id: ProjectId,
        before: Timestamp,
    ) -> impl Future<Output = Result<u64, StoreError>> + Send;

    /// Returns which of some blobs a record references, in no set order:
    /// an attachment of any project, or (of the same backend's
    /// [`ArtifactStore`](super::ArtifactStore)) an upload chunk or an
    /// artifact bundle. The sweep of unreferenced blobs asks this.
    fn referenced_blobs(
        &self,
        checksums: &[BlobChecksum],
    ) -> impl Future<Output = Result<Vec<BlobChecksum>, StoreError>> + Send;
}
