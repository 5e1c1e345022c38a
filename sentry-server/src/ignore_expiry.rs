//! Ends ignores whose time has come, as Sentry's periodic task does: an
//! issue ignored for a while is unresolved (escalating) once the while is
//! over, whether or not an event arrives. Events end ignores by count and
//! by user count as they are filed.

use std::time::Duration;

use sentry_core::store::MetadataStore;
use sentry_store::AnyMetadataStore;

/// How often expired ignores are looked for.
pub const EXPIRY_INTERVAL: Duration = Duration::from_secs(30);

/// Unresolves the issues whose ignore ran out, every `interval` (once
/// per cluster), until the task is dropped; a failure is logged and
/// retried at the next tick.
pub async fn run_periodically(metadata: AnyMetadataStore, interval: Duration) {
    let store = metadata.clone();
    crate::periodic::run_once_per_cluster(metadata, "ignore_expiry", interval, |now| {
        let store = store.clone();
        async move {
            match store.unignore_expired(now).await {
                Ok(0) => {}
                Ok(count) => tracing::info!(count, "ignores ran out; issues unresolved"),
                Err(error) => tracing::warn!(%error, "cannot end expired ignores; retrying"),
            }
        }
    })
    .await;
}
