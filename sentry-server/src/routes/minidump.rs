//! `POST /api/<project_id>/minidump/`: native crash reports as Breakpad,
//! Crashpad and Electron upload them, a multipart form with the dump in
//! `upload_file_minidump` (plain or gzip-compressed) and the event in
//! `sentry` fields ([`sentry_core::minidump_upload`]). The form becomes an
//! envelope: the event with a placeholder exception, the dump as an
//! `event.minidump` attachment (processed by symbolication), and any other
//! file as an attachment; it is spooled like any envelope, and the answer
//! is the event id as text, which crash reporters read.

use axum::extract::multipart::{Field, Multipart};
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use bytes::{Bytes, BytesMut};
use sentry_core::EventId;
use sentry_core::encoding::ContentEncoding;
use sentry_core::envelope::{Envelope, EnvelopeHeaders, Item, ItemType};
use sentry_core::minidump_upload::{self, MINIDUMP_FIELD};
use sentry_core::store::{EVENT_ATTACHMENT, EVENT_MINIDUMP};

use crate::auth::client_auth;
use crate::error::ApiError;
use crate::ingest;
use crate::ingest::client::ClientIp;
use crate::routes::ingest::{authorize, project_id};
use crate::state::AppState;

/// A file of the form.
struct Upload {
    field: String,
    filename: Option<String>,
    content_type: Option<String>,
    content: Bytes,
}

fn too_large(what: &str, limit: usize) -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        format!("{what} exceeds the limit of {limit} bytes"),
    )
}

fn bad_form(error: impl std::fmt::Display) -> ApiError {
    ApiError::bad_request(format!("invalid multipart form: {error}"))
}

/// Reads a field whole, up to `limit` bytes.
async fn read_field(field: &mut Field<'_>, what: &str, limit: usize) -> Result<Bytes, ApiError> {
    let mut content = BytesMut::new();
    while let Some(chunk) = field.chunk().await.map_err(bad_form)? {
        if content.len() + chunk.len() > limit {
            return Err(too_large(what, limit));
        }
        content.extend_from_slice(&chunk);
    }
    Ok(content.freeze())
}

/// Takes a minidump upload.
pub async fn upload(
    State(state): State<AppState>,
    Path(project): Path<String>,
    RawQuery(query): RawQuery,
    client_ip: ClientIp,
    headers: HeaderMap,
    mut form: Multipart,
) -> Result<(StatusCode, String), ApiError> {
    let project_id = project_id(&project)?;
    let auth = client_auth(&headers, query.as_deref(), None)?;
    authorize(&state, project_id, &auth, &headers).await?;
    let limits = state.limits;
    let mut texts = Vec::new();
    let mut text_bytes = 0;
    let mut files = Vec::new();
    while let Some(mut field) = form.next_field().await.map_err(bad_form)? {
        let name = field.name().unwrap_or_default().to_owned();
        if field.file_name().is_some() || name == MINIDUMP_FIELD {
            let filename = field.file_name().map(str::to_owned);
            let content_type = field.content_type().map(str::to_owned);
            let content = read_field(&mut field, "attachment", limits.max_attachment_size).await?;
            files.push(Upload {
                field: name,
                filename,
                content_type,
                content,
            });
        } else {
            let content = read_field(&mut field, "form field", limits.max_event_size).await?;
            text_bytes += content.len();
            if text_bytes > limits.max_event_size {
                return Err(too_large("the form's fields", limits.max_event_size));
            }
            texts.push((name, String::from_utf8_lossy(&content).into_owned()));
        }
    }
    let dump_index = files
        .iter()
        .position(|file| file.field == MINIDUMP_FIELD)
        .ok_or_else(|| {
            ApiError::bad_request(format!("missing minidump upload ({MINIDUMP_FIELD})"))
        })?;
    let dump = &mut files[dump_index];
    if dump.content.starts_with(&[0x1f, 0x8b]) {
        dump.content = ContentEncoding::Gzip
            .decode(&dump.content, limits.max_attachment_size)
            .map_err(|e| ApiError::bad_request(format!("invalid compressed minidump: {e}")))?;
    }
    if !minidump_upload::is_minidump(&dump.content) {
        return Err(ApiError::bad_request("invalid minidump: no MDMP header"));
    }
    let mut event = minidump_upload::event_from_fields(&texts)
        .map_err(|e| ApiError::bad_request(e.to_string()))?;
    let event_id = event["event_id"]
        .as_str()
        .and_then(|id| id.parse::<EventId>().ok())
        .filter(|id| !id.is_nil())
        .unwrap_or_else(EventId::new_random);
    event["event_id"] = event_id.to_string().into();
    let mut items = vec![Item::new(ItemType::Event, event.to_string())];
    for file in files {
        let is_dump = file.field == MINIDUMP_FIELD;
        let mut item = Item::new(ItemType::Attachment, file.content);
        item.headers.filename = Some(file.filename.unwrap_or_else(|| {
            if is_dump {
                "minidump.dmp".to_owned()
            } else {
                file.field.clone()
            }
        }));
        item.headers.content_type = file.content_type;
        item.headers.attachment_type = Some(
            if is_dump {
                EVENT_MINIDUMP
            } else {
                EVENT_ATTACHMENT
            }
            .to_owned(),
        );
        items.push(item);
    }
    let envelope = Envelope {
        headers: EnvelopeHeaders {
            event_id: Some(event_id),
            ..EnvelopeHeaders::default()
        },
        items,
    };
    let body = envelope.to_bytes();
    ingest::accept_envelope(&state, project_id, &auth.key, &envelope, body, client_ip).await?;
    Ok((StatusCode::OK, event_id.as_uuid().hyphenated().to_string()))
}
