//! Ingest: from an authenticated envelope to stored events.
//!
//! [`process`] reads top to bottom: take each event item, deserialize,
//! normalize, scrub, summarize, group, file under an issue, store. The CPU-bound
//! steps are plain calls into `sentry-core`.

pub mod body;
pub mod client;
pub mod scrubbing;

use sentry_core::envelope::ItemType;
use sentry_core::grouping;
use sentry_core::normalize::{NormalizeConfig, normalize};
use sentry_core::protocol::Timestamp;
use sentry_core::store::{EventStore, IssueEvent, MetadataStore, StoredEvent};
use sentry_core::{Envelope, Event, EventId, ProjectId};

use crate::error::ApiError;
use crate::state::AppState;

use self::client::ClientIp;

/// Processes the items of an envelope for a project; returns the id of the
/// event it carried, if any. Items other than events are dropped for now.
///
/// # Errors
///
/// 400 for an event payload that is not a JSON event; 413 for one over the
/// size limit; 500 when a store fails.
pub async fn process(
    state: &AppState,
    project_id: ProjectId,
    envelope: &Envelope,
    client_ip: ClientIp,
) -> Result<Option<EventId>, ApiError> {
    let received = Timestamp::now();
    let mut event_id = envelope.headers.event_id;
    for item in &envelope.items {
        match item.headers.ty {
            ItemType::Event => {
                let event = parse_event(state, &item.payload)?;
                let config = client::normalize_config(received, Some(&envelope.headers), client_ip);
                event_id = Some(store_event(state, project_id, event, &config).await?);
            }
            ref other => tracing::debug!(item_type = %other, "dropping item"),
        }
    }
    Ok(event_id)
}

/// Deserializes an event payload.
///
/// # Errors
///
/// 413 over the event size limit, 400 for invalid JSON.
pub fn parse_event(state: &AppState, payload: &[u8]) -> Result<Event, ApiError> {
    if payload.len() > state.limits.max_event_size {
        return Err(ApiError::new(
            axum::http::StatusCode::PAYLOAD_TOO_LARGE,
            format!(
                "event exceeds the limit of {} bytes",
                state.limits.max_event_size
            ),
        ));
    }
    serde_json::from_slice(payload)
        .map_err(|e| ApiError::bad_request(format!("invalid event payload: {e}")))
}

/// Normalizes, groups and stores one event; returns its id. An event whose
/// id the project already has is not stored or counted again.
///
/// # Errors
///
/// 500 when a store fails.
pub async fn store_event(
    state: &AppState,
    project_id: ProjectId,
    mut event: Event,
    config: &NormalizeConfig,
) -> Result<EventId, ApiError> {
    normalize(&mut event, config);
    let event_id = event.event_id.unwrap_or_else(EventId::new_random);
    event.event_id = Some(event_id);
    if state.events.has_event(project_id, event_id).await? {
        return Ok(event_id);
    }
    scrubbing::scrub_event(state, project_id, &mut event).await?;
    let grouping_config = state
        .grouping
        .for_project(&state.metadata, project_id)
        .await?;
    let grouping = grouping::prepare_and_group(&mut event, &grouping_config);
    if let Some(main) = grouping.main_exception_id {
        event
            .other
            .insert("main_exception_id".to_owned(), main.into());
    }
    let issue = state
        .metadata
        .record_issue_event(&IssueEvent::new(
            project_id,
            &event,
            &grouping,
            config.received,
        ))
        .await?;
    let stored = StoredEvent::new(project_id, issue.id, &event, &grouping, config.received)
        .map_err(|e| ApiError::bad_request(format!("unserializable event: {e}")))?;
    state.events.insert_events(&[stored]).await?;
    tracing::debug!(%project_id, %event_id, issue_id = %issue.id, "stored event");
    Ok(event_id)
}
