//! Outcomes: what became of every item a project sent. Ingest and the
//! worker record them here as they decide; a task adds the counts to the
//! [`OutcomeStore`] every second, and each is also counted in the
//! `sentry_items_total` metric.
//!
//! Counts wait in memory until written, so a crash can lose up to a
//! second of them; they are statistics, and the items themselves are
//! safe in the spool or the stores.

use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use sentry_core::ProjectId;
use sentry_core::protocol::Timestamp;
use sentry_core::store::{Outcome, OutcomeCount, OutcomeStore, StoreError};

/// Categories Sentry defines, the only ones that become metric labels
/// (client reports may name anything).
const KNOWN_CATEGORIES: &[&str] = &[
    "default",
    "error",
    "transaction",
    "security",
    "attachment",
    "session",
    "profile",
    "profile_chunk",
    "replay",
    "monitor",
    "span",
    "log_item",
    "log_byte",
    "trace_metric",
    "user_report_v2",
];

/// Outcome counts not yet written to the store.
#[derive(Default)]
pub struct Outcomes {
    pending: Mutex<Vec<OutcomeCount>>,
}

impl Outcomes {
    /// Counts `quantity` items of a category of a project that met an
    /// outcome for a reason (empty for none), now.
    pub fn record(
        &self,
        project_id: ProjectId,
        category: &str,
        outcome: Outcome,
        reason: &str,
        quantity: u64,
    ) {
        self.add(std::iter::once(OutcomeCount::new(
            project_id,
            Timestamp::now(),
            category,
            outcome,
            reason,
            quantity,
        )));
    }

    /// Adds counts made elsewhere (those of client reports).
    pub fn add(&self, counts: impl IntoIterator<Item = OutcomeCount>) {
        let counts: Vec<OutcomeCount> = counts
            .into_iter()
            .filter(|count| count.quantity > 0)
            .inspect(count_metric)
            .collect();
        self.merge(counts);
    }

    /// Writes the pending counts to the store; on failure they are kept
    /// for the next attempt.
    ///
    /// # Errors
    ///
    /// When the store fails.
    pub async fn flush(&self, store: &impl OutcomeStore) -> Result<(), StoreError> {
        let counts =
            std::mem::take(&mut *self.pending.lock().unwrap_or_else(PoisonError::into_inner));
        if counts.is_empty() {
            return Ok(());
        }
        if let Err(error) = store.add_outcomes(&counts).await {
            let mut pending = self.pending.lock().unwrap_or_else(PoisonError::into_inner);
            let newer = std::mem::replace(&mut *pending, counts);
            drop(pending);
            self.merge(newer);
            return Err(error);
        }
        Ok(())
    }

    /// Adds counts to the pending ones, row by row.
    fn merge(&self, counts: Vec<OutcomeCount>) {
        let mut pending = self.pending.lock().unwrap_or_else(PoisonError::into_inner);
        for count in counts {
            match pending
                .iter_mut()
                .find(|row| row.row_key() == count.row_key())
            {
                Some(row) => row.quantity = row.quantity.saturating_add(count.quantity),
                None => pending.push(count),
            }
        }
    }
}

fn count_metric(count: &OutcomeCount) {
    let category = if KNOWN_CATEGORIES.contains(&count.category.as_str()) {
        count.category.clone()
    } else {
        "other".to_owned()
    };
    // Client reports name their own reasons; only the server's become labels.
    let reason = if count.outcome == Outcome::ClientDiscard {
        String::new()
    } else {
        count.reason.clone()
    };
    metrics::counter!(
        "sentry_items_total",
        "category" => category,
        "outcome" => count.outcome.as_str(),
        "reason" => reason,
    )
    .increment(count.quantity);
}

/// Writes pending counts every `interval` until the task is dropped.
pub async fn run_periodically(
    outcomes: std::sync::Arc<Outcomes>,
    store: impl OutcomeStore,
    interval: Duration,
) {
    let mut ticks = tokio::time::interval(interval);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        if let Err(error) = outcomes.flush(&store).await {
            tracing::warn!(%error, "cannot write outcome counts; keeping them for the next try");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sentry_core::store::OutcomeQuery;
    use sentry_store::open_metadata;

    #[tokio::test]
    async fn counts_add_up_until_written() {
        let store = open_metadata("sqlite::memory:").await.unwrap();
        let org = sentry_core::store::MetadataStore::ensure_organization(&store, "org")
            .await
            .unwrap();
        let project = sentry_core::store::MetadataStore::ensure_project(&store, org.id, "p")
            .await
            .unwrap();
        let outcomes = Outcomes::default();
        outcomes.record(project.id, "error", Outcome::Accepted, "", 2);
        outcomes.record(project.id, "error", Outcome::Accepted, "", 3);
        outcomes.record(project.id, "error", Outcome::Invalid, "too_large", 1);
        outcomes.record(project.id, "error", Outcome::Invalid, "too_large", 0);
        outcomes.flush(&store).await.unwrap();
        outcomes.flush(&store).await.unwrap();
        let now = Timestamp::now();
        let counts = store
            .outcomes(&OutcomeQuery {
                project_ids: vec![project.id],
                since: Timestamp::from_unix_seconds(now.as_unix_seconds() - 7_200.0).unwrap(),
                until: Timestamp::from_unix_seconds(now.as_unix_seconds() + 3_600.0).unwrap(),
            })
            .await
            .unwrap();
        let quantities: Vec<(Outcome, u64)> =
            counts.iter().map(|c| (c.outcome, c.quantity)).collect();
        assert_eq!(
            quantities,
            vec![(Outcome::Accepted, 5), (Outcome::Invalid, 1)]
        );
    }
}
