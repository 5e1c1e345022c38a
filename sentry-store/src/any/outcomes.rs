//! [`OutcomeStore`] for [`AnyMetadataStore`]: outcome counts live in the
//! metadata backend.

use sentry_core::protocol::Timestamp;
use sentry_core::store::{OutcomeCount, OutcomeQuery, OutcomeStore, StoreError};

use super::AnyMetadataStore;

// Without a metadata backend the enum is empty and the arguments go unused.
#[cfg_attr(
    not(any(feature = "sqlite", feature = "postgres")),
    allow(unused_variables)
)]
impl OutcomeStore for AnyMetadataStore {
    async fn add_outcomes(&self, counts: &[OutcomeCount]) -> Result<(), StoreError> {
        dispatch!(self, s => s.add_outcomes(counts))
    }

    async fn outcomes(&self, query: &OutcomeQuery) -> Result<Vec<OutcomeCount>, StoreError> {
        dispatch!(self, s => s.outcomes(query))
    }

    async fn delete_outcomes_before(&self, before: Timestamp) -> Result<u64, StoreError> {
        dispatch!(self, s => s.delete_outcomes_before(before))
    }
}
