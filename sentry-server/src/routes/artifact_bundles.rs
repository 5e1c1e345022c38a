//! `POST /api/0/organizations/{org}/artifactbundle/assemble/`: joins the
//! chunks `sentry-cli sourcemaps upload` sent into an artifact bundle.
//!
//! The answer follows Sentry's assemble states: `not_found` with the
//! chunks still missing (sentry-cli uploads them and asks again), `ok`
//! once the bundle is stored and indexed, `error` with a `detail` when the
//! chunks do not make a readable bundle. Assembly happens within the
//! request, so `created` and `assembling` are never answered.
//!
//! The bundle is held in memory while it is read, up to
//! `max_artifact_bundle_size`; it is stored as a blob and its files are
//! indexed by debug ID and URL ([`ArtifactStore`]).

use axum::Json;
use axum::extract::{Path, State};
use bytes::Bytes;
use sentry_core::protocol::Timestamp;
use sentry_core::store::{ArtifactBundleRecord, ArtifactFileRecord, ArtifactStore, Sha1Checksum};
use sentry_core::symbolication::artifact_bundle::{ArtifactBundle, BundleManifest};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::auth::ApiAuth;
use crate::error::ApiError;
use crate::routes::chunk_upload::{Joined, UPLOAD_SCOPES, join_chunks, put_content};
use crate::routes::json_body;
use crate::routes::releases::{ProjectName, projects_named};
use crate::state::AppState;

/// An assemble request.
#[derive(Debug, Deserialize)]
struct AssembleRequest {
    checksum: Sha1Checksum,
    chunks: Vec<Sha1Checksum>,
    #[serde(default)]
    projects: Vec<ProjectName>,
    #[serde(default)]
    version: Option<String>,
    #[serde(default)]
    dist: Option<String>,
}

fn state_json(state: &str, missing: &[Sha1Checksum]) -> Json<Value> {
    Json(json!({"state": state, "missingChunks": missing}))
}

fn error_json(detail: impl std::fmt::Display) -> Json<Value> {
    Json(json!({"state": "error", "missingChunks": [], "detail": detail.to_string()}))
}

/// Assembles an artifact bundle from uploaded chunks.
pub async fn assemble(
    State(state): State<AppState>,
    auth: ApiAuth,
    Path(org): Path<String>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    auth.require_any_scope(UPLOAD_SCOPES)?;
    let org = auth.organization(&state, &org).await?;
    let request: AssembleRequest = json_body::parse(&body)?;
    if request.projects.is_empty() {
        return Err(ApiError::bad_request("projects: This field is required."));
    }
    let projects = projects_named(&state, &org, &request.projects).await?;
    let limit = state.limits.max_artifact_bundle_size;
    let content =
        match join_chunks(&state, org.id, &request.chunks, request.checksum, limit).await? {
            Joined::Content(content) => content,
            Joined::Missing(missing) => {
                // Uploaded before, its chunks since forgotten: nothing to do.
                if state
                    .metadata
                    .has_artifact_bundle(org.id, &request.checksum)
                    .await?
                {
                    return Ok(state_json("ok", &[]));
                }
                return Ok(state_json("not_found", &missing));
            }
            Joined::Invalid(detail) => return Ok(error_json(detail)),
        };
    let read = content.clone();
    let manifest = tokio::task::spawn_blocking(move || -> Result<BundleManifest, String> {
        let mut bundle = ArtifactBundle::open(&read).map_err(|error| error.to_string())?;
        bundle.manifest().map_err(|error| error.to_string())
    })
    .await
    .map_err(|_| ApiError::unavailable("reading the bundle failed"))?;
    let manifest = match manifest {
        Ok(manifest) => manifest,
        Err(detail) => return Ok(error_json(detail)),
    };
    let blob = put_content(&state, content).await?;
    let files = manifest
        .files
        .into_iter()
        .map(|file| ArtifactFileRecord {
            path: file.path,
            url: file.url,
            kind: file.kind,
            debug_id: file.debug_id,
            source_map: file.source_map,
        })
        .collect::<Vec<_>>();
    let record = ArtifactBundleRecord {
        org_id: org.id,
        checksum: request.checksum,
        blob: blob.digest.checksum,
        project_ids: projects.iter().map(|project| project.id).collect(),
        bundle_id: manifest.bundle_id,
        release: request.version.or(manifest.release),
        dist: request.dist.or(manifest.dist),
        date_uploaded: Timestamp::now(),
        files,
    };
    let new = state.metadata.put_artifact_bundle(&record).await?;
    state.source_maps.forget_absences();
    tracing::info!(
        org = %org.slug,
        checksum = %request.checksum,
        files = record.files.len(),
        new,
        "assembled an artifact bundle"
    );
    Ok(state_json("ok", &[]))
}
