//! Processing behind the spool: batches of spooled requests become stored
//! events.
//!
//! Each batch is read from the spool, its events are normalized, grouped
//! and filed under their issues one by one, then stored in one call to the
//! event store, and only then is the spool's checkpoint moved past the
//! batch. A store that fails is retried, with growing pauses, until it
//! answers: the spool keeps everything meanwhile (and ingest answers 429
//! once its backlog is at its bound). An event whose id its project
//! already has is skipped, so a batch processed again after a crash
//! stores nothing twice.

use std::collections::HashSet;
use std::time::Duration;

use sentry_core::envelope::ItemType;
use sentry_core::grouping;
use sentry_core::normalize::{NormalizeConfig, normalize};
use sentry_core::store::{EventStore, IssueEvent, MetadataStore, StoreErrorKind, StoredEvent};
use sentry_core::{Envelope, Event, EventId, ProjectId};

use crate::ingest::client::{self, ClientIp};
use crate::spool::{Kind, SpoolReader, Submission};
use crate::state::AppState;

/// The most requests processed in one batch.
const MAX_BATCH: usize = 1000;

/// Processes the spool until its writer stops.
pub async fn run(state: AppState, mut reader: SpoolReader) {
    loop {
        let batch = match reader.next_batch(MAX_BATCH).await {
            Ok(batch) => batch,
            Err(error) => {
                tracing::error!(%error, "cannot read the spool");
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
        };
        let Some(next) = batch.last().map(|spooled| spooled.next) else {
            return;
        };
        let mut filed = Filed::default();
        for spooled in &batch {
            for (event, config) in events_of(&spooled.submission) {
                file_event(
                    &state,
                    &mut filed,
                    spooled.submission.project_id,
                    event,
                    &config,
                )
                .await;
            }
        }
        if !filed.events.is_empty() {
            retry("store events", || state.events.insert_events(&filed.events)).await;
        }
        tracing::debug!(
            requests = batch.len(),
            events = filed.events.len(),
            "processed a spool batch"
        );
        if let Err(error) = reader.commit(next) {
            tracing::warn!(%error, "cannot record the spool checkpoint");
        }
    }
}

/// The events of a batch, ready to store.
#[derive(Default)]
struct Filed {
    events: Vec<StoredEvent>,
    ids: HashSet<(ProjectId, EventId)>,
}

/// The events a request carried, with how to normalize each; a payload
/// that does not deserialize is dropped with a warning.
fn events_of(submission: &Submission) -> Vec<(Event, NormalizeConfig)> {
    let config = |headers| NormalizeConfig {
        // The id the client was answered with.
        envelope_event_id: submission.event_id,
        ..client::normalize_config(submission.received, headers, ClientIp(submission.client_ip))
    };
    let parse = |payload: &[u8], config: NormalizeConfig| match serde_json::from_slice::<Event>(
        payload,
    ) {
        Ok(event) => Some((event, config)),
        Err(error) => {
            tracing::warn!(%error, project_id = %submission.project_id, "dropping an event that does not deserialize");
            None
        }
    };
    match submission.kind {
        Kind::Event => parse(&submission.payload, config(None))
            .into_iter()
            .collect(),
        Kind::Envelope => match Envelope::parse(submission.payload.clone()) {
            Ok(envelope) => envelope
                .items
                .iter()
                .filter(|item| item.headers.ty == ItemType::Event)
                .filter_map(|item| parse(&item.payload, config(Some(&envelope.headers))))
                .collect(),
            Err(error) => {
                tracing::warn!(%error, "dropping a spooled envelope that does not parse");
                Vec::new()
            }
        },
    }
}

/// Normalizes and groups an event and files it under its issue; adds it
/// to the batch unless its project already has its id.
async fn file_event(
    state: &AppState,
    filed: &mut Filed,
    project_id: ProjectId,
    mut event: Event,
    config: &NormalizeConfig,
) {
    normalize(&mut event, config);
    let event_id = event.event_id.unwrap_or_else(EventId::new_random);
    event.event_id = Some(event_id);
    if !filed.ids.insert((project_id, event_id)) {
        return;
    }
    if retry("look up an event", || {
        state.events.has_event(project_id, event_id)
    })
    .await
    {
        return;
    }
    let scrubber = retry("read the scrubbing settings", || {
        state.scrubbing.for_project(&state.metadata, project_id)
    })
    .await;
    scrubber.scrub(&mut event);
    let grouping_config = retry("read the grouping config", || {
        state.grouping.for_project(&state.metadata, project_id)
    })
    .await;
    let grouping = grouping::prepare_and_group(&mut event, &grouping_config);
    if let Some(main) = grouping.main_exception_id {
        event
            .other
            .insert("main_exception_id".to_owned(), main.into());
    }
    let issue_event = IssueEvent::new(project_id, &event, &grouping, config.received);
    // A project deleted after its events were spooled takes them along.
    let filed_issue = retry("file an event", || async {
        match state.metadata.record_issue_event(&issue_event).await {
            Err(error) if error.kind() == StoreErrorKind::Conflict => Ok(None),
            result => result.map(Some),
        }
    })
    .await;
    let Some(issue) = filed_issue else {
        tracing::warn!(%event_id, %project_id, "dropping an event of a deleted project");
        return;
    };
    match StoredEvent::new(project_id, issue.id, &event, &grouping, config.received) {
        Ok(stored) => filed.events.push(stored),
        Err(error) => {
            tracing::warn!(%error, %event_id, "dropping an event that does not serialize")
        }
    }
}

/// Runs a store call until it succeeds, pausing longer after each failure
/// (up to 5 s).
async fn retry<T, E, F, A>(what: &str, mut attempt: A) -> T
where
    E: std::fmt::Debug,
    F: Future<Output = Result<T, E>>,
    A: FnMut() -> F,
{
    let mut pause = Duration::from_millis(100);
    loop {
        match attempt().await {
            Ok(value) => return value,
            Err(error) => {
                tracing::warn!(?error, "cannot {what}; retrying in {pause:?}");
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(Duration::from_secs(5));
            }
        }
    }
}
