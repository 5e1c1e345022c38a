//! `POST /api/0/projects/{org}/{project}/files/difs/assemble/`: joins the
//! chunks `sentry-cli debug-files upload` sent into debug files.
//!
//! The body maps each file's SHA-1 to its `name`, `debug_id` and `chunks`;
//! the answer maps it to a state, as Sentry's: `not_found` with the chunks
//! still missing, `ok` with the `dif` found in it, `error` with a
//! `detail` when the chunks do not make a debug file `symbolic` can read.
//! Assembly happens within the request. A file is held in memory while it
//! is read, up to `max_debug_file_size`; it is stored as one blob and
//! recorded once per object it holds (a fat Mach-O holds several), under
//! the object's debug ID. A ProGuard mapping (`sentry-cli upload-proguard`)
//! is recorded under the UUID sentry-cli derives from its content.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::{Path, State};
use bytes::Bytes;
use sentry_core::protocol::Timestamp;
use sentry_core::store::{ArtifactStore, DebugFileRecord, Sha1Checksum};
use sentry_core::symbolication::native::{DebugFile, read_debug_file};
use sentry_core::symbolication::proguard::read_mapping;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::auth::ApiAuth;
use crate::error::ApiError;
use crate::routes::chunk_upload::{Joined, UPLOAD_SCOPES, join_chunks, put_content};
use crate::routes::json_body;
use crate::routes::projects::visible_project;
use crate::state::AppState;

/// One file of an assemble request.
#[derive(Debug, Deserialize)]
struct FileRequest {
    name: String,
    #[serde(default)]
    chunks: Vec<Sha1Checksum>,
}

/// The `dif` of an assembled file, as sentry-cli prints it.
fn dif_json(file: &DebugFileRecord) -> Value {
    json!({
        "objectName": file.object_name,
        "cpuName": file.arch,
        "sha1": file.checksum,
        "debugId": file.debug_id,
        "codeId": file.code_id,
        "symbolType": file.format,
        "size": file.size,
        "data": {"type": file.kind, "features": file.features},
    })
}

/// Assembles debug files from uploaded chunks.
pub async fn assemble(
    State(state): State<AppState>,
    auth: ApiAuth,
    Path((org, project)): Path<(String, String)>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    auth.require_any_scope(UPLOAD_SCOPES)?;
    let (org, project) = visible_project(&state, &auth, &org, &project).await?;
    let request: BTreeMap<Sha1Checksum, FileRequest> = json_body::parse(&body)?;
    let mut answer = serde_json::Map::new();
    for (checksum, file) in request {
        let state_of = assemble_one(&state, org.id, project.id, checksum, file).await?;
        answer.insert(checksum.to_string(), state_of);
    }
    Ok(Json(Value::Object(answer)))
}

async fn assemble_one(
    state: &AppState,
    org_id: sentry_core::OrgId,
    project_id: sentry_core::ProjectId,
    checksum: Sha1Checksum,
    file: FileRequest,
) -> Result<Value, ApiError> {
    let known = state
        .metadata
        .debug_files_by_checksum(project_id, &checksum)
        .await?;
    if let Some(first) = known.first() {
        return Ok(json!({"state": "ok", "missingChunks": [], "dif": dif_json(first)}));
    }
    if file.chunks.is_empty() {
        return Ok(json!({"state": "not_found", "missingChunks": []}));
    }
    let error = |detail: String| json!({"state": "error", "missingChunks": [], "detail": detail});
    let limit = state.limits.max_debug_file_size;
    let content = match join_chunks(state, org_id, &file.chunks, checksum, limit).await? {
        Joined::Content(content) => content,
        Joined::Missing(missing) => {
            return Ok(json!({"state": "not_found", "missingChunks": missing}));
        }
        Joined::Invalid(detail) => return Ok(error(detail)),
    };
    let read = content.clone();
    let objects = tokio::task::spawn_blocking(move || match read_mapping(&read) {
        Some(uuid) => Ok(vec![DebugFile {
            debug_id: uuid,
            code_id: None,
            format: "proguard".to_owned(),
            arch: "any".to_owned(),
            kind: "none".to_owned(),
            features: vec!["mapping".to_owned()],
        }]),
        None => read_debug_file(&read),
    })
    .await
    .map_err(|_| ApiError::unavailable("reading the debug file failed"))?;
    let objects = match objects {
        Ok(objects) => objects,
        Err(reason) => return Ok(error(reason.to_string())),
    };
    let size = content.len() as u64;
    let blob = put_content(state, content).await?;
    let now = Timestamp::now();
    let mut first = None;
    for object in objects {
        let record = DebugFileRecord {
            project_id,
            debug_id: object.debug_id,
            code_id: object.code_id,
            object_name: file.name.clone(),
            format: object.format,
            arch: object.arch,
            kind: object.kind,
            features: object.features,
            checksum,
            blob: blob.digest.checksum,
            size,
            date_uploaded: now,
        };
        state.metadata.put_debug_file(&record).await?;
        tracing::info!(%project_id, debug_id = %record.debug_id, name = %record.object_name, "stored a debug file");
        first.get_or_insert(record);
    }
    Ok(match first {
        Some(record) => json!({"state": "ok", "missingChunks": [], "dif": dif_json(&record)}),
        None => error("the file holds no object".to_owned()),
    })
}
