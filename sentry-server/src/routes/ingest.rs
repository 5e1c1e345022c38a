//! `POST /api/<project_id>/envelope/` and `POST /api/<project_id>/store/`.

use std::time::Duration;

use axum::Json;
use axum::body::Body;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderName, Method, StatusCode};
use bytes::Bytes;
use sentry_core::encoding::{ContentEncoding, DecodeError};
use sentry_core::store::MetadataStore;
use sentry_core::{ClientAuth, Envelope, ProjectId};
use serde_json::Value;
use tower_http::cors::{Any, CorsLayer};

use crate::auth::client_auth;
use crate::error::ApiError;
use crate::ingest::client::ClientIp;
use crate::ingest::{self, body};
use crate::routes::model::ingest_answer;
use crate::state::AppState;

/// Reads the project id of an ingest path.
pub(crate) fn project_id(text: &str) -> Result<ProjectId, ApiError> {
    text.parse().map_err(|_| {
        ApiError::bad_request(format!(
            "invalid project id `{}`",
            text.chars().take(32).collect::<String>()
        ))
    })
}

/// Confirms that a DSN key may send to a project.
pub(crate) async fn authorize(
    state: &AppState,
    project_id: ProjectId,
    auth: &ClientAuth,
    headers: &HeaderMap,
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
    state
        .origins
        .check(&state.metadata, project_id, headers)
        .await
}

/// CORS for the ingest paths, as Relay answers it: any origin (a
/// project's allowed origins are checked on the request itself), the
/// methods and headers SDKs use, and the answer headers they read.
pub fn cors() -> CorsLayer {
    let names = |names: &[&'static str]| {
        names
            .iter()
            .map(|name| HeaderName::from_static(name))
            .collect::<Vec<_>>()
    };
    CorsLayer::new()
        .allow_origin(Any)
        .allow_methods([Method::GET, Method::POST])
        .allow_headers(names(&[
            "x-sentry-auth",
            "x-requested-with",
            "x-forwarded-for",
            "origin",
            "referer",
            "accept",
            "content-type",
            "authentication",
            "authorization",
            "content-encoding",
            "transfer-encoding",
            "sentry-trace",
            "baggage",
        ]))
        .expose_headers(names(&[
            "x-sentry-error",
            "x-sentry-rate-limits",
            "retry-after",
        ]))
        .max_age(Duration::from_secs(3600))
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
    let (body, _reservation) = body::read(
        &headers,
        body,
        state.limits.max_envelope_size,
        &state.memory,
    )
    .await?;
    let envelope = Envelope::parse(body.clone())
        .map_err(|e| ApiError::bad_request(format!("invalid envelope: {e}")))?;
    let auth = client_auth(&headers, query.as_deref(), envelope.headers.dsn.as_deref())?;
    authorize(&state, project_id, &auth, &headers).await?;
    let event_id =
        ingest::accept_envelope(&state, project_id, &auth.key, &envelope, body, client_ip).await?;
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
    authorize(&state, project_id, &auth, &headers).await?;
    let (body, _reservation) = body::read(
        &headers,
        body,
        state.limits.max_envelope_size,
        &state.memory,
    )
    .await?;
    let payload = match legacy_decode(&body, state.limits.max_event_size) {
        Ok(decoded) => decoded.unwrap_or(body),
        Err(error) => {
            let (outcome, reason) = ingest::refusal_outcome(&error);
            state
                .outcomes
                .record(project_id, "error", outcome, reason, 1);
            return Err(error);
        }
    };
    let event_id = ingest::accept_event(&state, project_id, &auth.key, payload, client_ip).await?;
    Ok(Json(ingest_answer(Some(event_id))))
}

/// Old SDKs post base64 of zlib-compressed JSON to `/store/`. Returns the
/// decoded JSON for such a body, or `None` for a plain JSON body.
fn legacy_decode(body: &[u8], limit: usize) -> Result<Option<Bytes>, ApiError> {
    let first = body.iter().find(|b| !b.is_ascii_whitespace());
    if first.is_none_or(|&b| b == b'{') {
        return Ok(None);
    }
    let compressed = base64_decode(body)
        .ok_or_else(|| ApiError::bad_request("invalid event payload: not JSON"))?;
    match ContentEncoding::Deflate.decode(&compressed, limit) {
        Ok(json) => Ok(Some(json)),
        Err(DecodeError::TooLarge { limit }) => Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("event exceeds the limit of {limit} bytes"),
        )),
        Err(error) => Err(ApiError::bad_request(format!(
            "invalid event payload: {error}"
        ))),
    }
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
