//! `/api/<project_id>/cron/<monitor_slug>/<key>/`: check-ins over plain
//! HTTP, for jobs without an SDK (`curl "$URL?status=in_progress"`, then
//! `?status=ok`). GET or POST; the query's `status`, `check_in_id`,
//! `environment` and `duration` (seconds), and for POST a JSON body with
//! the same fields and a `monitor_config` to create or update the
//! monitor. The check-in becomes a `check_in` item, spooled and handled as
//! SDKs' are; the answer is 202 once it is on disk.

use axum::body::Body;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use sentry_core::envelope::{Envelope, EnvelopeHeaders, Item, ItemType};
use sentry_core::{ClientAuth, ProjectKey};
use serde_json::{Map, Value};

use crate::auth::form_pairs;
use crate::error::ApiError;
use crate::ingest::client::ClientIp;
use crate::ingest::{self, body};
use crate::routes::ingest::{authorize, project_id};
use crate::state::AppState;

/// The query fields copied into the check-in.
const FIELDS: [&str; 4] = ["status", "check_in_id", "environment", "duration"];

/// A check-in over HTTP.
pub async fn check_in(
    State(state): State<AppState>,
    Path((project, monitor_slug, key)): Path<(String, String, String)>,
    RawQuery(query): RawQuery,
    client_ip: ClientIp,
    headers: HeaderMap,
    body: Body,
) -> Result<StatusCode, ApiError> {
    let project_id = project_id(&project)?;
    let key: ProjectKey = key
        .parse()
        .map_err(|_| ApiError::unauthorized("invalid public key"))?;
    let auth = ClientAuth {
        key,
        client: None,
        version: None,
    };
    authorize(&state, project_id, &auth, &headers).await?;
    let (body, _reservation) = body::read(
        &headers,
        body,
        state.limits.max_check_in_size,
        &state.memory,
    )
    .await?;
    let mut fields: Map<String, Value> = if body.iter().all(u8::is_ascii_whitespace) {
        Map::new()
    } else {
        serde_json::from_slice(&body)
            .map_err(|e| ApiError::bad_request(format!("invalid check-in body: {e}")))?
    };
    for (name, value) in form_pairs(query.as_deref().unwrap_or("")) {
        if !FIELDS.contains(&name.as_str()) {
            continue;
        }
        let value = match name.as_str() {
            "duration" => value
                .parse::<f64>()
                .ok()
                .and_then(serde_json::Number::from_f64)
                .map(Value::Number)
                .ok_or_else(|| ApiError::bad_request("duration must be a number of seconds"))?,
            _ => Value::String(value),
        };
        fields.insert(name, value);
    }
    fields.insert("monitor_slug".to_owned(), Value::String(monitor_slug));
    let payload = Value::Object(fields).to_string();
    // Refuse what the worker would drop, while the client can still see why.
    sentry_core::items::check_in::read(payload.as_bytes())
        .map_err(|e| ApiError::bad_request(e.to_string()))?;
    let envelope = Envelope {
        headers: EnvelopeHeaders::default(),
        items: vec![Item::new(ItemType::CheckIn, payload)],
    };
    let body = envelope.to_bytes();
    ingest::accept_envelope(&state, project_id, &auth.key, &envelope, body, client_ip).await?;
    Ok(StatusCode::ACCEPTED)
}
