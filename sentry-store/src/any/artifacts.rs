//! [`ArtifactStore`] for [`AnyMetadataStore`]: upload chunks and artifact
//! bundles live in the metadata backend.

use sentry_core::protocol::Timestamp;
use sentry_core::store::{
    ArtifactBundleRecord, ArtifactLookup, ArtifactStore, DebugFileRecord, FoundArtifact,
    Sha1Checksum, StoreError, UploadChunk,
};
use sentry_core::{OrgId, ProjectId};

use super::AnyMetadataStore;

// Without a metadata backend the enum is empty and the arguments go unused.
#[cfg_attr(
    not(any(feature = "sqlite", feature = "postgres")),
    allow(unused_variables)
)]
impl ArtifactStore for AnyMetadataStore {
    async fn put_upload_chunks(
        &self,
        org_id: OrgId,
        chunks: &[UploadChunk],
        now: Timestamp,
    ) -> Result<(), StoreError> {
        dispatch!(self, s => s.put_upload_chunks(org_id, chunks, now))
    }

    async fn upload_chunks(
        &self,
        org_id: OrgId,
        sha1s: &[Sha1Checksum],
    ) -> Result<Vec<UploadChunk>, StoreError> {
        dispatch!(self, s => s.upload_chunks(org_id, sha1s))
    }

    async fn delete_upload_chunks_before(&self, before: Timestamp) -> Result<u64, StoreError> {
        dispatch!(self, s => s.delete_upload_chunks_before(before))
    }

    async fn put_artifact_bundle(&self, bundle: &ArtifactBundleRecord) -> Result<bool, StoreError> {
        dispatch!(self, s => s.put_artifact_bundle(bundle))
    }

    async fn has_artifact_bundle(
        &self,
        org_id: OrgId,
        checksum: &Sha1Checksum,
    ) -> Result<bool, StoreError> {
        dispatch!(self, s => s.has_artifact_bundle(org_id, checksum))
    }

    async fn find_artifact(
        &self,
        project_id: ProjectId,
        lookup: &ArtifactLookup,
    ) -> Result<Option<FoundArtifact>, StoreError> {
        dispatch!(self, s => s.find_artifact(project_id, lookup))
    }

    async fn put_debug_file(&self, file: &DebugFileRecord) -> Result<bool, StoreError> {
        dispatch!(self, s => s.put_debug_file(file))
    }

    async fn debug_files_by_checksum(
        &self,
        project_id: ProjectId,
        checksum: &Sha1Checksum,
    ) -> Result<Vec<DebugFileRecord>, StoreError> {
        dispatch!(self, s => s.debug_files_by_checksum(project_id, checksum))
    }

    async fn find_debug_file(
        &self,
        project_id: ProjectId,
        debug_id: &str,
    ) -> Result<Option<DebugFileRecord>, StoreError> {
        dispatch!(self, s => s.find_debug_file(project_id, debug_id))
    }
}
