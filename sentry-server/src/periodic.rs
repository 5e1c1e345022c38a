//! Periodic jobs that must run once per cluster, not once per node:
//! retention, cron monitor checks, the end of timed ignores. Every node
//! ticks; each tick claims the run in the metadata store
//! ([`MetadataStore::claim_job_run`]), and only the node whose claim wins
//! runs the job, so nodes sharing one Postgres run each job about once per
//! interval between them, and a node that stops leaves its jobs to the
//! others.

use std::future::Future;
use std::time::Duration;

use sentry_core::protocol::Timestamp;
use sentry_core::store::MetadataStore;
use sentry_store::AnyMetadataStore;

/// The share of its interval within which a job claimed by one node is
/// not run again by another: a little under the whole interval, so that
/// a node's next tick, which may come a few milliseconds early against
/// the store's record, still wins.
fn claim_interval(interval: Duration) -> Duration {
    interval.mul_f64(0.9)
}

/// Runs `job` every `interval` until the task is dropped, when this
/// node's claim of the run wins; `job` gets the time of the tick.
pub async fn run_once_per_cluster<F, Fut>(
    metadata: AnyMetadataStore,
    name: &'static str,
    interval: Duration,
    mut job: F,
) where
    F: FnMut(Timestamp) -> Fut,
    Fut: Future<Output = ()>,
{
    let mut ticker = tokio::time::interval(interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticker.tick().await;
        let now = Timestamp::now();
        match metadata
            .claim_job_run(name, now, claim_interval(interval))
            .await
        {
            Ok(true) => job(now).await,
            Ok(false) => tracing::debug!(job = name, "run by another node"),
            Err(error) => {
                tracing::warn!(%error, job = name, "cannot claim a periodic job; retrying at the next tick")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_claim_leaves_room_for_an_early_tick() {
        assert_eq!(
            claim_interval(Duration::from_secs(30)),
            Duration::from_secs(27)
        );
    }
}
