//! [`SessionStore`] for [`AnyMetadataStore`]: release health counts live
//! in the metadata backend.

use sentry_core::protocol::Timestamp;
use sentry_core::store::{SessionCount, SessionQuery, SessionStore, SessionTotal, StoreError};

use super::AnyMetadataStore;

// Without a metadata backend the enum is empty and the arguments go unused.
#[cfg_attr(
    not(any(feature = "sqlite", feature = "postgres")),
    allow(unused_variables)
)]
impl SessionStore for AnyMetadataStore {
    async fn record_sessions(&self, counts: &[SessionCount]) -> Result<(), StoreError> {
        dispatch!(self, s => s.record_sessions(counts))
    }

    async fn session_totals(&self, query: &SessionQuery) -> Result<Vec<SessionTotal>, StoreError> {
        dispatch!(self, s => s.session_totals(query))
    }

    async fn delete_sessions_before(&self, before: Timestamp) -> Result<u64, StoreError> {
        dispatch!(self, s => s.delete_sessions_before(before))
    }
}
