//! Uploads of `sentry-cli`: the artifact bundles and the debug files they
//! assemble.
//!
//! `sentry-cli` sends files in chunks named by their SHA-1
//! ([`UploadChunk`]); each chunk is a blob, and the metadata store keeps,
//! per organization, which SHA-1 names which blob, so that an assemble
//! request can tell which chunks are still missing and join the others.
//! An assembled artifact bundle ([`ArtifactBundleRecord`]) is a blob too;
//! its files are indexed by debug ID and by URL so that JavaScript
//! symbolication finds a minified file and its source map without
//! opening every bundle. A debug file ([`DebugFileRecord`]) is a blob
//! recorded per project under its debug ID.

use std::future::Future;

use uuid::Uuid;

use super::{BlobChecksum, Sha1Checksum, StoreError};
use crate::ids::{OrgId, ProjectId};
use crate::protocol::Timestamp;
use crate::symbolication::artifact_bundle::ArtifactKind;

/// A chunk of an upload, as a blob.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UploadChunk {
    /// Its SHA-1, the name `sentry-cli` gives it.
    pub sha1: Sha1Checksum,
    /// The blob holding it.
    pub blob: BlobChecksum,
    /// Its length in bytes.
    pub size: u64,
}

/// One file of a stored artifact bundle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArtifactFileRecord {
    /// Its path inside the bundle's archive.
    pub path: String,
    /// The URL it is served at (`~/` for any scheme and host).
    pub url: String,
    /// What it is.
    pub kind: ArtifactKind,
    /// Its debug ID, if it has one.
    pub debug_id: Option<Uuid>,
    /// The URL of its source map, as its `sourcemap` header names it.
    pub source_map: Option<String>,
}

/// An assembled artifact bundle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArtifactBundleRecord {
    /// The organization it was uploaded to.
    pub org_id: OrgId,
    /// The SHA-1 of the whole upload, as `sentry-cli` names it.
    pub checksum: Sha1Checksum,
    /// The blob holding it.
    pub blob: BlobChecksum,
    /// The projects it serves.
    pub project_ids: Vec<ProjectId>,
    /// The bundle's own debug ID, if its manifest names one.
    pub bundle_id: Option<Uuid>,
    /// The release it was uploaded for, if any.
    pub release: Option<String>,
    /// The distribution it was uploaded for, if any.
    pub dist: Option<String>,
    /// Its files.
    pub files: Vec<ArtifactFileRecord>,
    /// When it was assembled.
    pub date_uploaded: Timestamp,
}

/// How to find a file of the artifact bundles of a project.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ArtifactLookup {
    /// The file of a kind with a debug ID.
    DebugId {
        /// The debug ID.
        debug_id: Uuid,
        /// The kind of file.
        kind: ArtifactKind,
    },
    /// The file of a release and distribution served at one of some URLs
    /// (most specific first).
    Url {
        /// The release.
        release: String,
        /// The distribution; `None` matches bundles uploaded without one.
        dist: Option<String>,
        /// The URLs, as [`candidate_urls`](crate::symbolication::urls::candidate_urls)
        /// gives them.
        urls: Vec<String>,
    },
}

/// A file found in a stored artifact bundle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FoundArtifact {
    /// The blob of the bundle holding it.
    pub bundle_blob: BlobChecksum,
    /// The file.
    pub file: ArtifactFileRecord,
}

/// A debug file uploaded for a project (one object of it: a fat Mach-O
/// makes one record per architecture).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DebugFileRecord {
    /// The project.
    pub project_id: ProjectId,
    /// The object's debug ID, as Sentry writes it.
    pub debug_id: String,
    /// The object's code ID, if it has one.
    pub code_id: Option<String>,
    /// The file's name, as sentry-cli gave it.
    pub object_name: String,
    /// Its format (`elf`, `macho`, `pdb`, ...).
    pub format: String,
    /// Its CPU architecture.
    pub arch: String,
    /// What kind of object (`exe`, `lib`, `dbg`, ...).
    pub kind: String,
    /// What it can be used for (`symtab`, `debug`, `unwind`, `sources`).
    pub features: Vec<String>,
    /// The SHA-1 of the file, as sentry-cli names it.
    pub checksum: Sha1Checksum,
    /// The blob holding it.
    pub blob: BlobChecksum,
    /// Its length in bytes.
    pub size: u64,
    /// When it was uploaded.
    pub date_uploaded: Timestamp,
}

impl DebugFileRecord {
    /// The words `features` is stored as, each surrounded by spaces so that
    /// a backend can find one with `LIKE '% debug %'`.
    pub fn features_text(&self) -> String {
        format!(" {} ", self.features.join(" "))
    }

    /// Reads features stored by [`DebugFileRecord::features_text`].
    pub fn features_from_text(text: &str) -> Vec<String> {
        text.split_whitespace().map(str::to_owned).collect()
    }
}

/// Upload chunks, artifact bundles and debug files. A trait of its own beside
/// [`MetadataStore`](super::MetadataStore), implemented by the same
/// backends.
pub trait ArtifactStore: Send + Sync {
    /// Records chunks an organization uploaded; a chunk recorded before
    /// counts as uploaded now.
    fn put_upload_chunks(
        &self,
        org_id: OrgId,
        chunks: &[UploadChunk],
        now: Timestamp,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Returns those of some chunks the organization has uploaded, in no
    /// set order.
    fn upload_chunks(
        &self,
        org_id: OrgId,
        sha1s: &[Sha1Checksum],
    ) -> impl Future<Output = Result<Vec<UploadChunk>, StoreError>> + Send;

    /// Forgets the chunks uploaded before `before`; returns how many went.
    /// Their blobs go with the sweep of unreferenced blobs.
    fn delete_upload_chunks_before(
        &self,
        before: Timestamp,
    ) -> impl Future<Output = Result<u64, StoreError>> + Send;

    /// Records an assembled bundle with its files; a bundle the
    /// organization already has under the same checksum is kept as it is
    /// (and its projects are added). Returns whether it was new.
    fn put_artifact_bundle(
        &self,
        bundle: &ArtifactBundleRecord,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Returns whether the organization has a bundle with this checksum.
    fn has_artifact_bundle(
        &self,
        org_id: OrgId,
        checksum: &Sha1Checksum,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Finds a file in the project's bundles; of several, the one of the
    /// most recently uploaded bundle (and, by URL, of the most specific
    /// URL).
    fn find_artifact(
        &self,
        project_id: ProjectId,
        lookup: &ArtifactLookup,
    ) -> impl Future<Output = Result<Option<FoundArtifact>, StoreError>> + Send;

    /// Records a debug file; one the project already has (same debug ID
    /// and checksum) is kept as it is. Returns whether it was new.
    fn put_debug_file(
        &self,
        file: &DebugFileRecord,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// The project's debug files with a checksum (the objects of one
    /// upload).
    fn debug_files_by_checksum(
        &self,
        project_id: ProjectId,
        checksum: &Sha1Checksum,
    ) -> impl Future<Output = Result<Vec<DebugFileRecord>, StoreError>> + Send;

    /// The project's best debug file for a debug ID: one with debug
    /// information over one with only a symbol table, the newest first.
    fn find_debug_file(
        &self,
        project_id: ProjectId,
        debug_id: &str,
    ) -> impl Future<Output = Result<Option<DebugFileRecord>, StoreError>> + Send;
}
