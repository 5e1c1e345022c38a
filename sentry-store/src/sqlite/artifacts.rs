//! [`ArtifactStore`] for [`SqliteStore`]: `upload_chunks` rows per
//! organization and SHA-1; `artifact_bundles` with their projects and an
//! `artifact_files` row per file, indexed by debug ID and by URL.

use rusqlite::{OptionalExtension, Row, params};
use sentry_core::protocol::Timestamp;
use sentry_core::store::{
    ArtifactBundleRecord, ArtifactFileRecord, ArtifactLookup, ArtifactStore, DebugFileRecord,
    FoundArtifact, Sha1Checksum, StoreError, UploadChunk,
};
use sentry_core::symbolication::artifact_bundle::ArtifactKind;
use sentry_core::{OrgId, ProjectId};
use uuid::Uuid;

use super::{SqliteStore, unavailable};

/// Reads a digest stored as a blob.
fn digest<T: for<'a> TryFrom<&'a [u8], Error = E>, E: std::error::Error + Send + Sync + 'static>(
    row: &Row<'_>,
    index: usize,
) -> rusqlite::Result<T> {
    let bytes: Vec<u8> = row.get(index)?;
    T::try_from(&bytes).map_err(|error| {
        rusqlite::Error::FromSqlConversionFailure(
            index,
            rusqlite::types::Type::Blob,
            Box::new(error),
        )
    })
}

fn invalid(index: usize, what: &str) -> rusqlite::Error {
    rusqlite::Error::InvalidColumnType(index, what.to_owned(), rusqlite::types::Type::Text)
}

/// Columns: bundle blob, path, url, kind, debug id, source map.
const FOUND_COLUMNS: &str = "SELECT b.blob, f.path, f.url, f.kind, f.debug_id, f.source_map \
     FROM artifact_files f \
     JOIN artifact_bundles b ON b.id = f.bundle \
     JOIN artifact_bundle_projects p ON p.bundle = b.id AND p.project_id = ?1";

fn found_row(row: &Row<'_>) -> rusqlite::Result<FoundArtifact> {
    let kind: String = row.get(3)?;
    Ok(FoundArtifact {
        bundle_blob: digest(row, 0)?,
        file: ArtifactFileRecord {
            path: row.get(1)?,
            url: row.get(2)?,
            kind: ArtifactKind::parse(&kind).ok_or_else(|| invalid(3, "kind"))?,
            debug_id: row
                .get::<_, Option<Vec<u8>>>(4)?
                .map(|bytes| Uuid::from_slice(&bytes).map_err(|_| invalid(4, "debug_id")))
                .transpose()?,
            source_map: row.get(5)?,
        },
    })
}

/// Columns of a debug file, in [`debug_file_row`]'s order.
const DEBUG_FILE_COLUMNS: &str = "SELECT project_id, debug_id, code_id, object_name, format, \
     arch, kind, features, checksum, blob, size, date_uploaded FROM debug_files";

fn debug_file_row(row: &Row<'_>) -> rusqlite::Result<DebugFileRecord> {
    let features: String = row.get(7)?;
    let micros: i64 = row.get(11)?;
    Ok(DebugFileRecord {
        project_id: ProjectId(row.get(0)?),
        debug_id: row.get(1)?,
        code_id: row.get(2)?,
        object_name: row.get(3)?,
        format: row.get(4)?,
        arch: row.get(5)?,
        kind: row.get(6)?,
        features: DebugFileRecord::features_from_text(&features),
        checksum: digest(row, 8)?,
        blob: digest(row, 9)?,
        size: u64::try_from(row.get::<_, i64>(10)?).map_err(|_| invalid(10, "size"))?,
        date_uploaded: Timestamp::from_unix_micros(micros)
            .ok_or(rusqlite::Error::IntegralValueOutOfRange(11, micros))?,
    })
}

/// The stored form of an id in a lookup; no row has an id past `i64::MAX`.
fn key(id: u64) -> i64 {
    i64::try_from(id).unwrap_or(i64::MAX)
}

impl ArtifactStore for SqliteStore {
    async fn put_upload_chunks(
        &self,
        org_id: OrgId,
        chunks: &[UploadChunk],
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let chunks = chunks.to_vec();
        self.run(move |connection| {
            let transaction = connection.transaction().map_err(unavailable)?;
            {
                let mut statement = transaction
                    .prepare_cached(
                        "INSERT INTO upload_chunks (org_id, sha1, blob, size, uploaded) \
                         VALUES (?1, ?2, ?3, ?4, ?5) \
                         ON CONFLICT (org_id, sha1) DO UPDATE SET blob = excluded.blob, \
                         size = excluded.size, uploaded = excluded.uploaded",
                    )
                    .map_err(unavailable)?;
                for chunk in &chunks {
                    statement
                        .execute(params![
                            org_id.0,
                            &chunk.sha1.as_bytes()[..],
                            &chunk.blob.as_bytes()[..],
                            key(chunk.size),
                            now.as_unix_micros(),
                        ])
                        .map_err(unavailable)?;
                }
            }
            transaction.commit().map_err(unavailable)
        })
        .await
    }

    async fn upload_chunks(
        &self,
        org_id: OrgId,
        sha1s: &[Sha1Checksum],
    ) -> Result<Vec<UploadChunk>, StoreError> {
        let sha1s = sha1s.to_vec();
        self.run(move |connection| {
            let mut statement = connection
                .prepare_cached(
                    "SELECT sha1, blob, size FROM upload_chunks WHERE org_id = ?1 AND sha1 = ?2",
                )
                .map_err(unavailable)?;
            let mut found = Vec::new();
            for sha1 in sha1s {
                let chunk = statement
                    .query_row(params![org_id.0, &sha1.as_bytes()[..]], |row| {
                        Ok(UploadChunk {
                            sha1: digest(row, 0)?,
                            blob: digest(row, 1)?,
                            size: u64::try_from(row.get::<_, i64>(2)?)
                                .map_err(|_| invalid(2, "size"))?,
                        })
                    })
                    .optional()
                    .map_err(unavailable)?;
                found.extend(chunk);
            }
            Ok(found)
        })
        .await
    }

    async fn delete_upload_chunks_before(&self, before: Timestamp) -> Result<u64, StoreError> {
        self.delete_before("upload_chunks", "uploaded", None, before)
            .await
    }

    async fn put_artifact_bundle(&self, bundle: &ArtifactBundleRecord) -> Result<bool, StoreError> {
        let bundle = bundle.clone();
        self.run(move |connection| {
            let transaction = connection.transaction().map_err(unavailable)?;
            let existing: Option<i64> = transaction
                .query_row(
                    "SELECT id FROM artifact_bundles WHERE org_id = ?1 AND checksum = ?2",
                    params![bundle.org_id.0, &bundle.checksum.as_bytes()[..]],
                    |row| row.get(0),
                )
                .optional()
                .map_err(unavailable)?;
            let (id, new) = match existing {
                Some(id) => (id, false),
                None => {
                    transaction
                        .execute(
                            "INSERT INTO artifact_bundles (org_id, checksum, blob, bundle_id, \
                             release, dist, date_uploaded) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                            params![
                                bundle.org_id.0,
                                &bundle.checksum.as_bytes()[..],
                                &bundle.blob.as_bytes()[..],
                                bundle.bundle_id.map(|id| id.as_bytes().to_vec()),
                                bundle.release,
                                bundle.dist,
                                bundle.date_uploaded.as_unix_micros(),
                            ],
                        )
                        .map_err(unavailable)?;
                    let id = transaction.last_insert_rowid();
                    let mut statement = transaction
                        .prepare_cached(
                            "INSERT OR IGNORE INTO artifact_files (bundle, path, url, kind, \
                             debug_id, source_map) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                        )
                        .map_err(unavailable)?;
                    for file in &bundle.files {
                        statement
                            .execute(params![
                                id,
                                file.path,
                                file.url,
                                file.kind.as_str(),
                                file.debug_id.map(|id| id.as_bytes().to_vec()),
                                file.source_map,
                            ])
                            .map_err(unavailable)?;
                    }
                    (id, true)
                }
            };
            {
                let mut statement = transaction
                    .prepare_cached(
                        "INSERT OR IGNORE INTO artifact_bundle_projects (project_id, bundle) \
                         VALUES (?1, ?2)",
                    )
                    .map_err(unavailable)?;
                for project_id in &bundle.project_ids {
                    statement
                        .execute(params![key(project_id.0), id])
                        .map_err(unavailable)?;
                }
            }
            transaction.commit().map_err(unavailable)?;
            Ok(new)
        })
        .await
    }

    async fn has_artifact_bundle(
        &self,
        org_id: OrgId,
        checksum: &Sha1Checksum,
    ) -> Result<bool, StoreError> {
        let checksum = *checksum;
        self.run(move |connection| {
            connection
                .prepare_cached(
                    "SELECT 1 FROM artifact_bundles WHERE org_id = ?1 AND checksum = ?2",
                )
                .and_then(|mut statement| {
                    statement.exists(params![org_id.0, &checksum.as_bytes()[..]])
                })
                .map_err(unavailable)
        })
        .await
    }

    async fn find_artifact(
        &self,
        project_id: ProjectId,
        lookup: &ArtifactLookup,
    ) -> Result<Option<FoundArtifact>, StoreError> {
        let lookup = lookup.clone();
        let project = key(project_id.0);
        self.run(move |connection| match lookup {
            ArtifactLookup::DebugId { debug_id, kind } => connection
                .prepare_cached(&format!(
                    "{FOUND_COLUMNS} WHERE f.debug_id = ?2 AND f.kind = ?3 \
                     ORDER BY b.date_uploaded DESC, b.id DESC LIMIT 1"
                ))
                .and_then(|mut statement| {
                    statement
                        .query_row(
                            params![project, &debug_id.as_bytes()[..], kind.as_str()],
                            found_row,
                        )
                        .optional()
                })
                .map_err(unavailable),
            ArtifactLookup::Url {
                release,
                dist,
                urls,
            } => {
                let mut statement = connection
                    .prepare_cached(&format!(
                        "{FOUND_COLUMNS} WHERE f.url = ?2 AND b.release = ?3 AND b.dist IS ?4 \
                         ORDER BY b.date_uploaded DESC, b.id DESC LIMIT 1"
                    ))
                    .map_err(unavailable)?;
                for url in &urls {
                    let found = statement
                        .query_row(params![project, url, release, dist], found_row)
                        .optional()
                        .map_err(unavailable)?;
                    if found.is_some() {
                        return Ok(found);
                    }
                }
                Ok(None)
            }
        })
        .await
    }

    async fn put_debug_file(&self, file: &DebugFileRecord) -> Result<bool, StoreError> {
        let file = file.clone();
        self.run(move |connection| {
            connection
                .prepare_cached(
                    "INSERT INTO debug_files (project_id, debug_id, checksum, code_id, \
                     object_name, format, arch, kind, features, blob, size, date_uploaded) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12) \
                     ON CONFLICT (project_id, debug_id, checksum) DO NOTHING",
                )
                .and_then(|mut statement| {
                    statement.execute(params![
                        key(file.project_id.0),
                        file.debug_id,
                        &file.checksum.as_bytes()[..],
                        file.code_id,
                        file.object_name,
                        file.format,
                        file.arch,
                        file.kind,
                        file.features_text(),
                        &file.blob.as_bytes()[..],
                        key(file.size),
                        file.date_uploaded.as_unix_micros(),
                    ])
                })
                .map(|inserted| inserted > 0)
                .map_err(unavailable)
        })
        .await
    }

    async fn debug_files_by_checksum(
        &self,
        project_id: ProjectId,
        checksum: &Sha1Checksum,
    ) -> Result<Vec<DebugFileRecord>, StoreError> {
        let checksum = *checksum;
        self.run(move |connection| {
            let mut statement = connection
                .prepare_cached(&format!(
                    "{DEBUG_FILE_COLUMNS} WHERE project_id = ?1 AND checksum = ?2 \
                     ORDER BY debug_id"
                ))
                .map_err(unavailable)?;
            let rows = statement
                .query_map(
                    params![key(project_id.0), &checksum.as_bytes()[..]],
                    debug_file_row,
                )
                .map_err(unavailable)?;
            rows.collect::<Result<_, _>>().map_err(unavailable)
        })
        .await
    }

    async fn find_debug_file(
        &self,
        project_id: ProjectId,
        debug_id: &str,
    ) -> Result<Option<DebugFileRecord>, StoreError> {
        let debug_id = debug_id.to_owned();
        self.run(move |connection| {
            connection
                .prepare_cached(&format!(
                    "{DEBUG_FILE_COLUMNS} WHERE project_id = ?1 AND debug_id = ?2 \
                     ORDER BY features LIKE '% debug %' DESC, date_uploaded DESC LIMIT 1"
                ))
                .and_then(|mut statement| {
                    statement
                        .query_row(params![key(project_id.0), debug_id], debug_file_row)
                        .optional()
                })
                .map_err(unavailable)
        })
        .await
    }
}
