//! `sentry-cli`'s chunked uploads: `GET
//! /api/0/organizations/{org}/chunk-upload/` tells it how to upload (chunk
//! size, where, compression), and `POST` to the same path takes a
//! multipart form of chunks, each a part named `file` (plain) or
//! `file_gzip` whose filename is the SHA-1 of the uncompressed chunk. Each
//! chunk is checked against its SHA-1, stored as a blob and recorded for
//! the organization; assemble requests
//! ([`artifact_bundles`](super::artifact_bundles)) join them.

use axum::Json;
use axum::extract::multipart::Multipart;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use bytes::{Bytes, BytesMut};
use sentry_core::encoding::ContentEncoding;
use sentry_core::protocol::Timestamp;
use sentry_core::store::{
    ArtifactStore, BlobHasher, BlobStore, PutBlobError, Sha1Checksum, UploadChunk,
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
    let stream = futures_util::stream::iter([Ok::<_, std::convert::Infallible>(content)]);
    let stored = state
        .blobs
        .put(stream, None)
        .await
        .map_err(|error| match error {
            PutBlobError::Store(error) => ApiError::from(error),
            other => ApiError::unavailable(other.to_string()),
        })?;
    Ok(UploadChunk {
        sha1: stored.digest.sha1,
        blob: stored.digest.checksum,
        size: stored.digest.size,
    })
}
