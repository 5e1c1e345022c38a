//! Ingest: from an authenticated request to stored events, in two halves.
//!
//! [`accept`] runs in the request: it checks what can be checked at once
//! (sizes, that event payloads are JSON), settles the event id the client
//! is answered with, and appends the request to the spool; the answer goes
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
use sentry_core::items::data_category;
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
    if let Err(exceeded) = limits::check(&state.limits, envelope) {
        refuse(Outcome::Invalid, "too_large");
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            exceeded.to_string(),
        ));
    }
    let mut event_id = envelope.headers.event_id;
    let mut events = 0;
    for item in &envelope.items {
        if item.headers.ty == ItemType::Event {
            let head = event_head(state, &item.payload).inspect_err(|_| {
                refuse(Outcome::Invalid, "invalid_json");
            })?;
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
        .inspect_err(|error| {
            let (outcome, reason) = spool_refusal(error);
            refuse(outcome, reason);
        })?;
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
            let quantity = match item.headers.ty {
                ItemType::Attachment => item.payload.len() as u64,
                _ => item.headers.item_count.unwrap_or(1).max(1),
            };
            state
                .outcomes
                .record(project_id, category, outcome, reason, quantity);
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
    let event_id = match event_head(state, &payload) {
        Ok(id) => id.unwrap_or_else(EventId::new_random),
        Err(error) => {
            let reason = if error.status() == StatusCode::PAYLOAD_TOO_LARGE {
                "too_large"
            } else {
                "invalid_json"
            };
            refuse(Outcome::Invalid, reason);
            return Err(error);
        }
    };
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
    .inspect_err(|error| {
        let (outcome, reason) = spool_refusal(error);
        refuse(outcome, reason);
    })?;
    Ok(event_id)
}

/// The outcome of items the spool refused: a full spool is backpressure.
fn spool_refusal(error: &ApiError) -> (Outcome, &'static str) {
    if error.status() == StatusCode::TOO_MANY_REQUESTS {
        (Outcome::RateLimited, "backpressure")
    } else {
        (Outcome::Invalid, "internal")
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
