//! Quota counters: how much of a rate limit each window has used, kept in
//! the metadata store so that every server of a cluster counts against
//! the same limit.

use std::future::Future;

use super::StoreError;
use crate::protocol::Timestamp;

/// The most characters of a quota key.
pub const MAX_QUOTA_KEY: usize = 200;

/// Quota counters. A trait of its own beside
/// [`MetadataStore`](super::MetadataStore), implemented by the same
/// backends.
pub trait QuotaStore: Send + Sync {
    /// Adds `quantity` to the counter of a quota (`project:42`,
    /// `key:<public key>`) in the window starting at `window_start`;
    /// returns the counter after adding. Atomic: concurrent calls from any
    /// server each see a distinct total.
    fn consume_quota(
        &self,
        key: &str,
        window_start: Timestamp,
        quantity: u64,
    ) -> impl Future<Output = Result<u64, StoreError>> + Send;

    /// Deletes the counters of windows that started before `before`;
    /// returns how many went.
    fn delete_quota_windows_before(
        &self,
        before: Timestamp,
    ) -> impl Future<Output = Result<u64, StoreError>> + Send;
}
