//! Ingest: from an authenticated request to stored events, in two halves.
//!
//! [`accept_envelope`] and [`accept_event`] run in the request: they
//! check what can be checked at once (sizes, that event payloads are
//! JSON), settle the event id the client is answered with, and append the
//! request to the spool; the answer goes
//! out once that is on disk. [`worker`] runs behind the spool: it reads
//! the requests back in batches and deserializes, normalizes (with the
//! request's [`client`] facts), scrubs ([`scrubbing`]), groups, files and
//! stores their events, retrying while a store is down.

pub mod body;
pub mod client;
pub mod items;
pub mod limits;
pub mod memory;
pub mod origins;
pub mod rate_limits;
pub mod scrubbing;
pub mod worker;

use axum::http::StatusCode;
use bytes::Bytes;
use sentry_core::envelope::ItemType;
use sentry_core::items::{data_category, quantity};
use sentry_core::protocol::Timestamp;
use sentry_core::store::Outcome;
use sentry_core::{Envelope, EventId, ProjectId, ProjectKey};
use serde::Deserialize;

use self::client::ClientIp;
use crate::error::ApiError;
use crate::spool::{Kind, SpoolError, Submission};
use crate::state::AppState;

/// Seconds a client is asked to wait when the spool is full.
const FULL_RETRY_AFTER_SECS: u64 = 60;

/// Checks an envelope and spools it; returns the id of the event it
/// carries, if any (the envelope's, else the event's, else a new one).
///
/// # Errors
///
/// 413 for an envelope over a limit ([`limits`]), 400 for an event that
/// is not JSON, 429 past a rate limit ([`rate_limits`]) or when the spool
/// is full, 503 when it cannot be
/// written. Each refusal counts the envelope's items as outcomes.
pub async fn accept_envelope(
    state: &AppState,
    project_id: ProjectId,
    key: &ProjectKey,
    envelope: &Envelope,
    body: Bytes,
    client_ip: ClientIp,
) -> Result<Option<EventId>, ApiError> {
    let refuse = |outcome, reason| count_items(state, project_id, envelope, outcome, reason);
    let refused = |error: ApiError| {
        let (outcome, reason) = refusal_outcome(&error);
        refuse(outcome, reason);
        error
    };
    if let Err(exceeded) = limits::check(&state.limits, envelope) {
        return Err(refused(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            exceeded.to_string(),
        )));
    }
    let mut event_id = envelope.headers.event_id;
    let mut events = 0;
    for item in &envelope.items {
        if item.headers.ty == ItemType::Event {
            let head = event_head(state, &item.payload).map_err(refused)?;
            event_id = event_id.or(head).or_else(|| Some(EventId::new_random()));
            events += 1;
        }
    }
    if let Some((reason, answer)) = state
        .rate_limits
        .admit(&state.metadata, project_id, key, events)
        .await?
    {
        refuse(Outcome::RateLimited, reason);
        return Err(answer);
    }
    spool(state, Kind::Envelope, project_id, event_id, body, client_ip)
        .await
        .map_err(refused)?;
    Ok(event_id)
}

/// Counts the items of a refused envelope: one per item (bytes for
/// attachments, records for containers).
fn count_items(
    state: &AppState,
    project_id: ProjectId,
    envelope: &Envelope,
    outcome: Outcome,
    reason: &str,
) {
    for item in &envelope.items {
        if let Some(category) = data_category(&item.headers.ty) {
            state
                .outcomes
                .record(project_id, category, outcome, reason, quantity(item));
        }
    }
}

/// Checks a bare event's JSON and spools it; returns its id (a new one
/// when it has none).
///
/// # Errors
///
/// As [`accept_envelope`].
pub async fn accept_event(
    state: &AppState,
    project_id: ProjectId,
    key: &ProjectKey,
    payload: Bytes,
    client_ip: ClientIp,
) -> Result<EventId, ApiError> {
    let refuse = |outcome, reason| {
        state
            .outcomes
            .record(project_id, "error", outcome, reason, 1);
    };
    let refused = |error: ApiError| {
        let (outcome, reason) = refusal_outcome(&error);
        refuse(outcome, reason);
        error
    };
    let event_id = event_head(state, &payload)
        .map_err(refused)?
        .unwrap_or_else(EventId::new_random);
    if let Some((reason, answer)) = state
        .rate_limits
        .admit(&state.metadata, project_id, key, 1)
        .await?
    {
        refuse(Outcome::RateLimited, reason);
        return Err(answer);
    }
    spool(
        state,
        Kind::Event,
        project_id,
        Some(event_id),
        payload,
        client_ip,
    )
    .await
    .map_err(refused)?;
    Ok(event_id)
}

/// Spools an event the server makes itself (a cron monitor's failure),
/// past rate limits, to be processed like any other.
///
/// # Errors
///
/// When the spool refuses it: full, or failing.
pub(crate) async fn spool_server_event(
    state: &AppState,
    project_id: ProjectId,
    event_id: EventId,
    payload: Bytes,
) -> Result<(), ApiError> {
    spool(
        state,
        Kind::Event,
        project_id,
        Some(event_id),
        payload,
        ClientIp::default(),
    )
    .await
}

/// The outcome of items a request was refused with an error: too large,
/// not JSON, a full spool (backpressure), or a failure of the server.
/// Rate limits give their own reason.
pub(crate) fn refusal_outcome(error: &ApiError) -> (Outcome, &'static str) {
    match error.status() {
        StatusCode::PAYLOAD_TOO_LARGE => (Outcome::Invalid, "too_large"),
        StatusCode::BAD_REQUEST => (Outcome::Invalid, "invalid_json"),
        StatusCode::TOO_MANY_REQUESTS => (Outcome::RateLimited, "backpressure"),
        _ => (Outcome::Invalid, "internal"),
    }
}

async fn spool(
    state: &AppState,
    kind: Kind,
    project_id: ProjectId,
    event_id: Option<EventId>,
    payload: Bytes,
    client_ip: ClientIp,
) -> Result<(), ApiError> {
    let submission = Submission {
        kind,
        project_id,
        received: Timestamp::now(),
        event_id,
        client_ip: client_ip.0,
        payload,
    };
    state
        .spool
        .append(&submission)
        .await
        .map_err(|error| match error {
            SpoolError::Full { .. } => ApiError::too_many_requests(
                "the server is busy; retry later",
                FULL_RETRY_AFTER_SECS,
            ),
            SpoolError::Unavailable(reason) => {
                tracing::error!(%reason, "cannot spool a request");
                ApiError::unavailable("the server cannot take events now")
            }
        })
}

/// The part of an event read before answering: its id.
#[derive(Deserialize)]
struct EventHead {
    #[serde(default)]
    event_id: Option<String>,
}

/// Checks an event payload's size and that it is a JSON object; returns
/// its id if it has a valid one.
fn event_head(state: &AppState, payload: &[u8]) -> Result<Option<EventId>, ApiError> {
    check_event_size(state, payload)?;
    let head: EventHead = serde_json::from_slice(payload)
        .map_err(|e| ApiError::bad_request(format!("invalid event payload: {e}")))?;
    Ok(head
        .event_id
        .and_then(|id| id.parse::<EventId>().ok())
        .filter(|id| !id.is_nil()))
}

fn check_event_size(state: &AppState, payload: &[u8]) -> Result<(), ApiError> {
    if payload.len() > state.limits.max_event_size {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!(
                "event exceeds the limit of {} bytes",
                state.limits.max_event_size
            ),
        ));
    }
    Ok(())
}
