//! Processing behind the spool: batches of spooled requests become stored
//! events, attachments, release health counts, user feedback, check-ins
//! and outcomes.
//!
//! Each batch is read from the spool and its items are handled in order
//! ([`items`](super::items)): events are normalized, scrubbed and grouped
//! one by one; the event store is asked once per project which of the
//! batch's ids it already has; the others are filed under their issues
//! one by one, then stored in one call to the event store; attachments, feedback and session counts follow in a call each;
//! only then is the spool's checkpoint moved past the batch. A store that
//! fails is retried, with growing pauses, until it answers: the spool
//! keeps everything meanwhile (and ingest answers 429 once its backlog is
//! at its bound). A batch processed again after a crash stores nothing
//! twice: an event whose id its project already has is skipped, and
//! attachments, feedback and check-ins have ids of their own (counts that
//! are added up, of session aggregates and outcomes, may count twice).

use std::time::Duration;

use super::items::Batch;
use crate::spool::SpoolReader;
use crate::state::AppState;

/// The most requests processed in one batch.
const MAX_BATCH: usize = 1000;
/// The most payload bytes read into one batch (a larger request still
/// makes a batch of its own).
const MAX_BATCH_BYTES: usize = 64 * 1024 * 1024;

/// Processes the spool until its writer stops.
pub async fn run(state: AppState, mut reader: SpoolReader) {
    loop {
        let spooled = match reader.next_batch(MAX_BATCH, MAX_BATCH_BYTES).await {
            Ok(spooled) => spooled,
            Err(error) => {
                tracing::error!(%error, "cannot read the spool");
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
        };
        let Some(next) = spooled.last().map(|spooled| spooled.next) else {
            return;
        };
        let started = std::time::Instant::now();
        let mut batch = Batch::default();
        for request in &spooled {
            batch.add_request(&state, request).await;
        }
        let requests = spooled.len();
        drop(spooled);
        batch.store(&state).await;
        metrics::histogram!("sentry_spool_batch_requests").record(requests as f64);
        metrics::histogram!("sentry_spool_batch_duration_seconds")
            .record(started.elapsed().as_secs_f64());
        tracing::debug!(requests, "processed a spool batch");
        if let Err(error) = reader.commit(next) {
            tracing::warn!(%error, "cannot record the spool checkpoint");
        }
    }
}

/// Runs a store call until it succeeds, pausing longer after each failure
/// (up to 5 s).
pub(super) async fn retry<T, E, F, A>(what: &str, mut attempt: A) -> T
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
