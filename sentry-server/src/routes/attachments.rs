//! An event's attachments in Sentry's web API: the list, and one
//! attachment's record or (with `?download=1`) its content.

use axum::Json;
use axum::body::Body;
use axum::extract::{Path, RawQuery, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use sentry_core::EventId;
use sentry_core::store::{Attachment, AttachmentId, AttachmentStore, BlobStore};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::auth::{ApiAuth, form_pairs};
use crate::error::ApiError;
use crate::routes::projects::visible_project;
use crate::state::AppState;

/// The path of an event's attachments.
#[derive(Deserialize)]
pub struct AttachmentsPath {
    org: String,
    project: String,
    event_id: String,
    #[serde(default)]
    attachment_id: Option<String>,
}

fn attachment_json(attachment: &Attachment) -> Value {
    let mimetype = attachment
        .content_type
        .as_deref()
        .unwrap_or("application/octet-stream");
    json!({
        "id": attachment.id.to_string(),
        "event_id": attachment.event_id.to_string(),
        "name": attachment.name,
        "type": attachment.attachment_type,
        "mimetype": mimetype,
        "headers": {"Content-Type": mimetype},
        "size": attachment.size,
        "sha256": attachment.checksum.to_string(),
        "dateCreated": attachment.date_created.to_rfc3339(),
    })
}

fn event_id(text: &str) -> Result<EventId, ApiError> {
    text.parse().map_err(|_| ApiError::not_found())
}

/// `GET /api/0/projects/{org}/{project}/events/{event_id}/attachments/`.
pub async fn list(
    State(state): State<AppState>,
    auth: ApiAuth,
    Path(path): Path<AttachmentsPath>,
) -> Result<Json<Value>, ApiError> {
    auth.require_scope("event:read")?;
    let (_, project) = visible_project(&state, &auth, &path.org, &path.project).await?;
    let event_id = event_id(&path.event_id)?;
    let attachments = state
        .metadata
        .event_attachments(project.id, event_id)
        .await?;
    Ok(Json(attachments.iter().map(attachment_json).collect()))
}

/// `GET /api/0/projects/{org}/{project}/events/{event_id}/attachments/{id}/`:
/// the record, or the content with `?download=1`.
pub async fn get(
    State(state): State<AppState>,
    auth: ApiAuth,
    Path(path): Path<AttachmentsPath>,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    auth.require_scope("event:read")?;
    let (_, project) = visible_project(&state, &auth, &path.org, &path.project).await?;
    let event_id = event_id(&path.event_id)?;
    let id: AttachmentId = path
        .attachment_id
        .as_deref()
        .and_then(|id| id.parse().ok())
        .ok_or_else(ApiError::not_found)?;
    let attachment = state
        .metadata
        .attachment(project.id, id)
        .await?
        .filter(|attachment| attachment.event_id == event_id)
        .ok_or_else(ApiError::not_found)?;
    let download = form_pairs(query.as_deref().unwrap_or(""))
        .iter()
        .any(|(name, value)| name == "download" && !matches!(value.as_str(), "" | "0" | "false"));
    if !download {
        return Ok(Json(attachment_json(&attachment)).into_response());
    }
    let content = state
        .blobs
        .get(&attachment.checksum)
        .await?
        .ok_or_else(ApiError::not_found)?;
    let disposition = format!(
        "attachment; filename=\"{}\"",
        attachment.name.replace(['"', '\\', '\r', '\n'], "_")
    );
    Ok((
        [
            (
                header::CONTENT_TYPE,
                attachment
                    .content_type
                    .clone()
                    .unwrap_or_else(|| "application/octet-stream".to_owned()),
            ),
            (header::CONTENT_LENGTH, content.size.to_string()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        Body::from_stream(content.stream),
    )
        .into_response())
}
