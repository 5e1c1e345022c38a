//! [`ArtifactStore`] for [`PostgresStore`]: `upload_chunks` rows per
//! organization and SHA-1; `artifact_bundles` with their projects and an
//! `artifact_files` row per file, indexed by debug ID and by URL.

use sentry_core::protocol::Timestamp;
use sentry_core::store::{
    ArtifactBundleRecord, ArtifactFileRecord, ArtifactLookup, ArtifactStore, DebugFileRecord,
    FoundArtifact, Sha1Checksum, StoreError, UploadChunk,
};
use sentry_core::symbolication::artifact_bundle::ArtifactKind;
use sentry_core::{OrgId, ProjectId};
use tokio_postgres::Row;
use uuid::Uuid;

use super::blobs::checksum;
use super::error::PgError;
use super::metadata::{project_key, required_project_key, timestamp, unsigned};
use super::{PostgresStore, sql};

/// Columns: bundle blob, path, url, kind, debug id, source map.
const FOUND_COLUMNS: &str = "SELECT b.blob, f.path, f.url, f.kind, f.debug_id, f.source_map \
     FROM artifact_files f \
     JOIN artifact_bundles b ON b.id = f.bundle \
     JOIN artifact_bundle_projects p ON p.bundle = b.id AND p.project_id = $1";

fn value_error(column: &'static str, value: impl ToString) -> PgError {
    PgError::Value {
        column,
        value: value.to_string(),
    }
}

fn sha1(column: &'static str, bytes: &[u8]) -> Result<Sha1Checksum, PgError> {
    Sha1Checksum::try_from(bytes).map_err(|_| value_error(column, format!("{} bytes", bytes.len())))
}

/// Columns of a debug file, in [`debug_file_row`]'s order.
const DEBUG_FILE_COLUMNS: &str = "SELECT project_id, debug_id, code_id, object_name, format, \
     arch, kind, features, checksum, blob, size, date_uploaded FROM debug_files";

fn debug_file_row(row: &Row) -> Result<DebugFileRecord, PgError> {
    let features: String = row.try_get(7)?;
    Ok(DebugFileRecord {
        project_id: ProjectId(unsigned("project_id", row.try_get(0)?)?),
        debug_id: row.try_get(1)?,
        code_id: row.try_get(2)?,
        object_name: row.try_get(3)?,
        format: row.try_get(4)?,
        arch: row.try_get(5)?,
        kind: row.try_get(6)?,
        features: DebugFileRecord::features_from_text(&features),
        checksum: sha1("checksum", row.try_get(8)?)?,
        blob: checksum("blob", row.try_get(9)?)?,
        size: unsigned("size", row.try_get(10)?)?,
        date_uploaded: timestamp("date_uploaded", row.try_get(11)?)?,
    })
}

fn found_row(row: &Row) -> Result<FoundArtifact, PgError> {
    let kind: String = row.try_get(3)?;
    Ok(FoundArtifact {
        bundle_blob: checksum("blob", row.try_get(0)?)?,
        file: ArtifactFileRecord {
            path: row.try_get(1)?,
            url: row.try_get(2)?,
            kind: ArtifactKind::parse(&kind).ok_or_else(|| value_error("kind", &kind))?,
            debug_id: row
                .try_get::<_, Option<&[u8]>>(4)?
                .map(|bytes| {
                    Uuid::from_slice(bytes)
                        .map_err(|_| value_error("debug_id", format!("{} bytes", bytes.len())))
                })
                .transpose()?,
            source_map: row.try_get(5)?,
        },
    })
}

impl ArtifactStore for PostgresStore {
    async fn put_upload_chunks(
        &self,
        org_id: OrgId,
        chunks: &[UploadChunk],
        now: Timestamp,
    ) -> Result<(), StoreError> {
        if chunks.is_empty() {
            return Ok(());
        }
        let sha1s: Vec<&[u8]> = chunks
            .iter()
            .map(|c| c.sha1.as_bytes().as_slice())
            .collect();
        let blobs: Vec<&[u8]> = chunks
            .iter()
            .map(|c| c.blob.as_bytes().as_slice())
            .collect();
        let sizes: Vec<i64> = chunks
            .iter()
            .map(|c| i64::try_from(c.size).unwrap_or(i64::MAX))
            .collect();
        let client = self.client().await?;
        sql::execute(
            &client,
            "INSERT INTO upload_chunks (org_id, sha1, blob, size, uploaded) \
             SELECT $1, sha1, blob, size, $5 \
             FROM UNNEST($2::BYTEA[], $3::BYTEA[], $4::BIGINT[]) AS c(sha1, blob, size) \
             ON CONFLICT (org_id, sha1) DO UPDATE SET blob = excluded.blob, \
             size = excluded.size, uploaded = excluded.uploaded",
            &[&org_id.0, &sha1s, &blobs, &sizes, &now.as_unix_micros()],
        )
        .await?;
        Ok(())
    }

    async fn upload_chunks(
        &self,
        org_id: OrgId,
        sha1s: &[Sha1Checksum],
    ) -> Result<Vec<UploadChunk>, StoreError> {
        if sha1s.is_empty() {
            return Ok(Vec::new());
        }
        let wanted: Vec<&[u8]> = sha1s
            .iter()
            .map(|sha1| sha1.as_bytes().as_slice())
            .collect();
        let client = self.client().await?;
        let rows = sql::query(
            &client,
            "SELECT sha1, blob, size FROM upload_chunks WHERE org_id = $1 AND sha1 = ANY($2)",
            &[&org_id.0, &wanted],
        )
        .await?;
        let chunks = rows
            .iter()
            .map(|row| {
                Ok(UploadChunk {
                    sha1: sha1("sha1", row.try_get(0)?)?,
                    blob: checksum("blob", row.try_get(1)?)?,
                    size: unsigned("size", row.try_get(2)?)?,
                })
            })
            .collect::<Result<_, PgError>>()?;
        Ok(chunks)
    }

    async fn delete_upload_chunks_before(&self, before: Timestamp) -> Result<u64, StoreError> {
        self.delete_before("upload_chunks", "uploaded", None, before)
            .await
    }

    async fn put_artifact_bundle(&self, bundle: &ArtifactBundleRecord) -> Result<bool, StoreError> {
        let projects = bundle
            .project_ids
            .iter()
            .map(|id| required_project_key(*id))
            .collect::<Result<Vec<i64>, PgError>>()?;
        let mut client = self.client().await?;
        let transaction = client.transaction().await.map_err(PgError::from)?;
        // The organization's bundle with this checksum, created here unless
        // another upload made it first.
        let inserted = sql::query_opt(
            &transaction,
            "INSERT INTO artifact_bundles (org_id, checksum, blob, bundle_id, release, dist, \
             date_uploaded) VALUES ($1, $2, $3, $4, $5, $6, $7) \
             ON CONFLICT (org_id, checksum) DO NOTHING RETURNING id",
            &[
                &bundle.org_id.0,
                &bundle.checksum.as_bytes().as_slice(),
                &bundle.blob.as_bytes().as_slice(),
                &bundle.bundle_id.as_ref().map(|id| id.as_bytes().as_slice()),
                &bundle.release,
                &bundle.dist,
                &bundle.date_uploaded.as_unix_micros(),
            ],
        )
        .await?;
        let (id, new): (i64, bool) = match inserted {
            Some(row) => (row.try_get(0).map_err(PgError::from)?, true),
            None => {
                let row = sql::query_one(
                    &transaction,
                    "SELECT id FROM artifact_bundles WHERE org_id = $1 AND checksum = $2",
                    &[&bundle.org_id.0, &bundle.checksum.as_bytes().as_slice()],
                )
                .await?;
                (row.try_get(0).map_err(PgError::from)?, false)
            }
        };
        if new && !bundle.files.is_empty() {
            let paths: Vec<&str> = bundle.files.iter().map(|f| f.path.as_str()).collect();
            let urls: Vec<&str> = bundle.files.iter().map(|f| f.url.as_str()).collect();
            let kinds: Vec<&str> = bundle.files.iter().map(|f| f.kind.as_str()).collect();
            let debug_ids: Vec<Option<&[u8]>> = bundle
                .files
                .iter()
                .map(|f| f.debug_id.as_ref().map(|id| id.as_bytes().as_slice()))
                .collect();
            let source_maps: Vec<Option<&str>> = bundle
                .files
                .iter()
                .map(|f| f.source_map.as_deref())
                .collect();
            sql::execute(
                &transaction,
                "INSERT INTO artifact_files (bundle, path, url, kind, debug_id, source_map) \
                 SELECT $1, path, url, kind, debug_id, source_map \
                 FROM UNNEST($2::TEXT[], $3::TEXT[], $4::TEXT[], $5::BYTEA[], $6::TEXT[]) \
                 AS f(path, url, kind, debug_id, source_map) \
                 ON CONFLICT (bundle, path) DO NOTHING",
                &[&id, &paths, &urls, &kinds, &debug_ids, &source_maps],
            )
            .await?;
        }
        sql::execute(
            &transaction,
            "INSERT INTO artifact_bundle_projects (project_id, bundle) \
             SELECT project_id, $2 FROM UNNEST($1::BIGINT[]) AS p(project_id) \
             ON CONFLICT DO NOTHING",
            &[&projects, &id],
        )
        .await?;
        transaction.commit().await.map_err(PgError::from)?;
        Ok(new)
    }

    async fn has_artifact_bundle(
        &self,
        org_id: OrgId,
        checksum: &Sha1Checksum,
    ) -> Result<bool, StoreError> {
        let client = self.client().await?;
        let row = sql::query_opt(
            &client,
            "SELECT 1 FROM artifact_bundles WHERE org_id = $1 AND checksum = $2",
            &[&org_id.0, &checksum.as_bytes().as_slice()],
        )
        .await?;
        Ok(row.is_some())
    }

    async fn find_artifact(
        &self,
        project_id: ProjectId,
        lookup: &ArtifactLookup,
    ) -> Result<Option<FoundArtifact>, StoreError> {
        let Some(project) = project_key(project_id) else {
            return Ok(None);
        };
        let client = self.client().await?;
        match lookup {
            ArtifactLookup::DebugId { debug_id, kind } => {
                let sql = format!(
                    "{FOUND_COLUMNS} WHERE f.debug_id = $2 AND f.kind = $3 \
                     ORDER BY b.date_uploaded DESC, b.id DESC LIMIT 1"
                );
                let row = sql::query_opt(
                    &client,
                    &sql,
                    &[&project, &debug_id.as_bytes().as_slice(), &kind.as_str()],
                )
                .await?;
                Ok(row.as_ref().map(found_row).transpose()?)
            }
            ArtifactLookup::Url {
                release,
                dist,
                urls,
            } => {
                let sql = format!(
                    "{FOUND_COLUMNS} WHERE f.url = $2 AND b.release = $3 \
                     AND b.dist IS NOT DISTINCT FROM $4 \
                     ORDER BY b.date_uploaded DESC, b.id DESC LIMIT 1"
                );
                for url in urls {
                    let row =
                        sql::query_opt(&client, &sql, &[&project, url, release, dist]).await?;
                    if let Some(row) = row {
                        return Ok(Some(found_row(&row)?));
                    }
                }
                Ok(None)
            }
        }
    }

    async fn put_debug_file(&self, file: &DebugFileRecord) -> Result<bool, StoreError> {
        let project_id = required_project_key(file.project_id)?;
        let client = self.client().await?;
        let inserted = sql::execute(
            &client,
            "INSERT INTO debug_files (project_id, debug_id, checksum, code_id, object_name, \
             format, arch, kind, features, blob, size, date_uploaded) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) \
             ON CONFLICT (project_id, debug_id, checksum) DO NOTHING",
            &[
                &project_id,
                &file.debug_id,
                &file.checksum.as_bytes().as_slice(),
                &file.code_id,
                &file.object_name,
                &file.format,
                &file.arch,
                &file.kind,
                &file.features_text(),
                &file.blob.as_bytes().as_slice(),
                &i64::try_from(file.size).unwrap_or(i64::MAX),
                &file.date_uploaded.as_unix_micros(),
            ],
        )
        .await?;
        Ok(inserted > 0)
    }

    async fn debug_files_by_checksum(
        &self,
        project_id: ProjectId,
        checksum: &Sha1Checksum,
    ) -> Result<Vec<DebugFileRecord>, StoreError> {
        let Some(project) = project_key(project_id) else {
            return Ok(Vec::new());
        };
        let client = self.client().await?;
        let sql = format!(
            "{DEBUG_FILE_COLUMNS} WHERE project_id = $1 AND checksum = $2 ORDER BY debug_id"
        );
        let rows = sql::query(&client, &sql, &[&project, &checksum.as_bytes().as_slice()]).await?;
        let files = rows
            .iter()
            .map(debug_file_row)
            .collect::<Result<_, PgError>>()?;
        Ok(files)
    }

    async fn find_debug_file(
        &self,
        project_id: ProjectId,
        debug_id: &str,
    ) -> Result<Option<DebugFileRecord>, StoreError> {
        let Some(project) = project_key(project_id) else {
            return Ok(None);
        };
        let client = self.client().await?;
        let sql = format!(
            "{DEBUG_FILE_COLUMNS} WHERE project_id = $1 AND debug_id = $2 \
             ORDER BY features LIKE '% debug %' DESC, date_uploaded DESC LIMIT 1"
        );
        let row = sql::query_opt(&client, &sql, &[&project, &debug_id]).await?;
        Ok(row.as_ref().map(debug_file_row).transpose()?)
    }
}
