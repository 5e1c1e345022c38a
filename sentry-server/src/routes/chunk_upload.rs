//! `sentry-cli`'s chunked uploads: `GET
//! /api/0/organizations/{org}/chunk-upload/` tells it how to upload (chunk
//! size, where, compression), and `POST` to the same path takes a
//! multipart form of chunks, each a part named `file` (plain) or
//! `file_gzip` whose filename is the SHA-1 of the uncompressed chunk. Each
//! chunk is checked against its SHA-1, stored as a blob and recorded for
//! the organization; assemble requests
//! ([`artifact_bundles`](super::artifact_bundles),
//! [`debug_files`](super::debug_files)) join them ([`join_chunks`]).

use axum::Json;
use axum::extract::multipart::Multipart;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use bytes::{Bytes, BytesMut};
use futures_util::StreamExt;
use sentry_core::OrgId;
use sentry_core::encoding::ContentEncoding;
use sentry_core::protocol::Timestamp;
use sentry_core::store::{
    ArtifactStore, BlobHasher, BlobStore, PutBlobError, Sha1Checksum, StoredBlob, UploadChunk,
};
use serde_json::{Value, json};

use crate::auth::ApiAuth;
use crate::error::ApiError;
use crate::state::AppState;

/// The scopes that may upload: those of release management and of the
/// organization tokens CI systems use.
pub const UPLOAD_SCOPES: &[&str] = &["project:releases", "project:write", "org:ci"];

/// Chunks `sentry-cli` may send in one request.
const CHUNKS_PER_REQUEST: usize = 64;

/// Requests `sentry-cli` may have open at once.
const CONCURRENCY: usize = 4;

/// The largest chunk-upload request, from the chunk size and count.
pub fn max_request_size(chunk_size: usize) -> usize {
    chunk_size
        .saturating_mul(CHUNKS_PER_REQUEST)
        .min(256 * 1024 * 1024)
}

/// Tells `sentry-cli` how to upload.
pub async fn options(
    State(state): State<AppState>,
    auth: ApiAuth,
    Path(org): Path<String>,
) -> Result<Json<Value>, ApiError> {
    auth.require_any_scope(UPLOAD_SCOPES)?;
    let org = auth.organization(&state, &org).await?;
    let chunk_size = state.limits.max_upload_chunk_size;
    Ok(Json(json!({
        "url": format!("{}/api/0/organizations/{}/chunk-upload/", state.public_url, org.slug),
        "chunkSize": chunk_size,
        "chunksPerRequest": CHUNKS_PER_REQUEST,
        "maxFileSize": state.limits.max_artifact_bundle_size,
        "maxRequestSize": max_request_size(chunk_size),
        "concurrency": CONCURRENCY,
        "hashAlgorithm": "sha1",
        "compression": ["gzip"],
        "accept": ["debug_files", "release_files", "pdbs", "sources", "bcsymbolmaps", "artifact_bundles"],
    })))
}

fn bad_form(error: impl std::fmt::Display) -> ApiError {
    ApiError::bad_request(format!("invalid multipart form: {error}"))
}

/// Takes a request's chunks.
pub async fn upload(
    State(state): State<AppState>,
    auth: ApiAuth,
    Path(org): Path<String>,
    mut form: Multipart,
) -> Result<StatusCode, ApiError> {
    auth.require_any_scope(UPLOAD_SCOPES)?;
    let org = auth.organization(&state, &org).await?;
    let limit = state.limits.max_upload_chunk_size;
    let mut chunks = Vec::new();
    while let Some(mut field) = form.next_field().await.map_err(bad_form)? {
        let encoding = match field.name() {
            Some("file") => ContentEncoding::Identity,
            Some("file_gzip") => ContentEncoding::Gzip,
            _ => continue,
        };
        let name: Sha1Checksum = field
            .file_name()
            .unwrap_or_default()
            .parse()
            .map_err(|_| ApiError::bad_request("a chunk's filename must be its SHA-1"))?;
        let mut raw = BytesMut::new();
        while let Some(part) = field.chunk().await.map_err(bad_form)? {
            if raw.len() + part.len() > limit {
                return Err(too_large(limit));
            }
            raw.extend_from_slice(&part);
        }
        let content = encoding
            .decode(&raw, limit)
            .map_err(|error| ApiError::bad_request(format!("chunk {name}: {error}")))?;
        let mut hasher = BlobHasher::new();
        hasher.update(&content);
        if hasher.finish().sha1 != name {
            return Err(ApiError::bad_request(format!(
                "chunk {name}: the content does not match its SHA-1"
            )));
        }
        chunks.push(store_chunk(&state, content).await?);
    }
    if !chunks.is_empty() {
        state
            .metadata
            .put_upload_chunks(org.id, &chunks, Timestamp::now())
            .await?;
        metrics::counter!("sentry_upload_chunks_total").increment(chunks.len() as u64);
    }
    Ok(StatusCode::OK)
}

fn too_large(limit: usize) -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        format!("a chunk exceeds the limit of {limit} bytes"),
    )
}

async fn store_chunk(state: &AppState, content: Bytes) -> Result<UploadChunk, ApiError> {
    let stored = put_content(state, content).await?;
    Ok(UploadChunk {
        sha1: stored.digest.sha1,
        blob: stored.digest.checksum,
        size: stored.digest.size,
    })
}

/// Stores content held in memory as a blob.
///
/// # Errors
///
/// When the blob store fails.
pub async fn put_content(state: &AppState, content: Bytes) -> Result<StoredBlob, ApiError> {
    let stream = futures_util::stream::iter([Ok::<_, std::convert::Infallible>(content)]);
    state
        .blobs
        .put(stream, None)
        .await
        .map_err(|error| match error {
            PutBlobError::Store(error) => ApiError::from(error),
            other => ApiError::unavailable(other.to_string()),
        })
}

/// What joining the chunks of an upload gave.
pub enum Joined {
    /// The whole content, which has the SHA-1 it was announced with.
    Content(Bytes),
    /// The chunks the organization does not have (or no longer has).
    Missing(Vec<Sha1Checksum>),
    /// Why the chunks do not make the file: too large, or another SHA-1.
    Invalid(String),
}

/// Joins the organization's chunks, in order, into the content whose
/// SHA-1 is `checksum`, held in memory up to `limit` bytes.
///
/// # Errors
///
/// When a store fails.
pub async fn join_chunks(
    state: &AppState,
    org_id: OrgId,
    chunks: &[Sha1Checksum],
    checksum: Sha1Checksum,
    limit: usize,
) -> Result<Joined, ApiError> {
    let stored = state.metadata.upload_chunks(org_id, chunks).await?;
    let missing: Vec<Sha1Checksum> = chunks
        .iter()
        .filter(|sha1| stored.iter().all(|chunk| chunk.sha1 != **sha1))
        .copied()
        .collect();
    if !missing.is_empty() {
        return Ok(Joined::Missing(missing));
    }
    let mut content = BytesMut::new();
    let mut hasher = BlobHasher::new();
    for sha1 in chunks {
        let chunk = stored.iter().find(|chunk| chunk.sha1 == *sha1);
        let blob = match chunk {
            Some(chunk) => state.blobs.get(&chunk.blob).await?,
            None => None,
        };
        // Swept meanwhile: it must come again.
        let Some(blob) = blob else {
            return Ok(Joined::Missing(vec![*sha1]));
        };
        let mut stream = blob.stream;
        while let Some(part) = stream.next().await {
            let part = part?;
            if content.len() + part.len() > limit {
                return Ok(Joined::Invalid(format!(
                    "the upload exceeds the limit of {limit} bytes"
                )));
            }
            hasher.update(&part);
            content.extend_from_slice(&part);
        }
    }
    if hasher.finish().sha1 != checksum {
        return Ok(Joined::Invalid(
            "the chunks do not add up to the checksum".to_owned(),
        ));
    }
    Ok(Joined::Content(content.freeze()))
}
