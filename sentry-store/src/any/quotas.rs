//! [`QuotaStore`] for [`AnyMetadataStore`]: quota counters live in the
//! metadata backend.

use sentry_core::protocol::Timestamp;
use sentry_core::store::{QuotaStore, StoreError};

use super::AnyMetadataStore;

// Without a metadata backend the enum is empty and the arguments go unused.
#[cfg_attr(
    not(any(feature = "sqlite", feature = "postgres")),
    allow(unused_variables)
)]
impl QuotaStore for AnyMetadataStore {
    async fn consume_quota(
        &self,
        key: &str,
        window_start: Timestamp,
        quantity: u64,
    ) -> Result<u64, StoreError> {
        dispatch!(self, s => s.consume_quota(key, window_start, quantity))
    }

    async fn delete_quota_windows_before(&self, before: Timestamp) -> Result<u64, StoreError> {
        dispatch!(self, s => s.delete_quota_windows_before(before))
    }
}
