//! `POST /api/<project_id>/envelope/` and `POST /api/<project_id>/store/`.

use std::io::Read;

use axum::Json;
use axum::body::Body;
use axum::extract::{Path, RawQuery, State};
use axum::http::HeaderMap;
use sentry_core::protocol::Timestamp;
use sentry_core::store::MetadataStore;
use sentry_core::{ClientAuth, Envelope, ProjectId};
use serde_json::Value;

use crate::auth::client_auth;
use crate::error::ApiError;
use crate::ingest::client::{self, ClientIp};
use crate::ingest::{self, body};
use crate::routes::model::ingest_answer;
use crate::state::AppState;

fn project_id(text: &str) -> Result<ProjectId, ApiError> {
    text.parse().map_err(|_| {
        ApiError::bad_request(format!(
            "invalid project id `{}`",
            text.chars().take(32).collect::<String>()
        ))
    })
}

/// Confirms that a DSN key may send to a project.
async fn authorize(
    state: &AppState,
    project_id: ProjectId,
    auth: &ClientAuth,
) -> Result<(), ApiError> {
    let key = state
        .metadata
        .key(&auth.key)
        .await?
        .ok_or_else(|| ApiError::unauthorized("unknown public key"))?;
    if key.project_id != project_id {
        return Err(ApiError::forbidden(
            "public key does not belong to this project",
        ));
    }
    if !key.is_active {
        return Err(ApiError::forbidden("public key is disabled"));
    }
    Ok(())
}

/// Takes an envelope.
pub async fn envelope(
    State(state): State<AppState>,
    Path(project): Path<String>,
    RawQuery(query): RawQuery,
    client_ip: ClientIp,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<Value>, ApiError> {
    let project_id = project_id(&project)?;
    let body = body::read(&headers, body, state.limits.max_envelope_size).await?;
    let envelope = Envelope::parse(body)
        .map_err(|e| ApiError::bad_request(format!("invalid envelope: {e}")))?;
    let auth = client_auth(&headers, query.as_deref(), envelope.headers.dsn.as_deref())?;
    authorize(&state, project_id, &auth).await?;
    let event_id = ingest::process(&state, project_id, &envelope, client_ip).await?;
    Ok(Json(ingest_answer(event_id)))
}

/// Takes a bare event, as JSON or as the legacy base64 of zlib-compressed JSON.
pub async fn store(
    State(state): State<AppState>,
    Path(project): Path<String>,
    RawQuery(query): RawQuery,
    client_ip: ClientIp,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<Value>, ApiError> {
    let project_id = project_id(&project)?;
    let auth = client_auth(&headers, query.as_deref(), None)?;
    authorize(&state, project_id, &auth).await?;
    let body = body::read(&headers, body, state.limits.max_envelope_size).await?;
    let payload = legacy_decode(&body, state.limits.max_event_size)?;
    let event = ingest::parse_event(&state, payload.as_deref().unwrap_or(&body))?;
    let config = client::normalize_config(Timestamp::now(), None, client_ip);
    let event_id = ingest::store_event(&state, project_id, event, &config).await?;
    Ok(Json(ingest_answer(Some(event_id))))
}

/// Old SDKs post base64 of zlib-compressed JSON to `/store/`. Returns the
/// decoded JSON for such a body, or `None` for a plain JSON body.
fn legacy_decode(body: &[u8], limit: usize) -> Result<Option<Vec<u8>>, ApiError> {
    let first = body.iter().find(|b| !b.is_ascii_whitespace());
    if first.is_none_or(|&b| b == b'{') {
        return Ok(None);
    }
    let compressed = base64_decode(body)
        .ok_or_else(|| ApiError::bad_request("invalid event payload: not JSON"))?;
    let mut json = Vec::new();
    let cap = u64::try_from(limit).unwrap_or(u64::MAX).saturating_add(1);
    flate2::read::ZlibDecoder::new(&compressed[..])
        .take(cap)
        .read_to_end(&mut json)
        .map_err(|e| ApiError::bad_request(format!("invalid event payload: {e}")))?;
    Ok(Some(json))
}

fn base64_decode(text: &[u8]) -> Option<Vec<u8>> {
    use base64::Engine as _;
    let trimmed: Vec<u8> = text
        .iter()
        .copied()
        .filter(|b| !b.is_ascii_whitespace())
        .collect();
    base64::engine::general_purpose::STANDARD
        .decode(trimmed)
        .ok()
}
