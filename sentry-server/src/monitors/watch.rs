//! The periodic check of cron monitors. Every few seconds it looks for
//! monitors whose check-in is overdue past its margin, and for runs in
//! progress past their `max_runtime`; each becomes a `missed` or
//! `timeout` check-in and a failure event ([`super::failure`]).
//!
//! The check runs once per cluster ([`crate::periodic`]); should two
//! servers still check at once, a missed check-in's id is derived from its
//! monitor and due time, so that only the one whose insert wins raises the
//! failure.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::time::Duration;

use sentry_core::protocol::Timestamp;
use sentry_core::store::{
    CheckIn, CheckInStatus, CheckInUpdate, MetadataStore, Monitor, StoreError, StoreErrorKind,
};
use sentry_core::{CheckInId, MonitorId};

use super::failure::{self, Failure};
use super::schedule::MonitorConfig;
use crate::state::AppState;

/// The most runs in progress looked at in one check.
const MAX_RUNNING: u64 = 10_000;

/// Checks the monitors every `interval`, until the task is aborted.
pub async fn run_periodically(state: AppState, interval: Duration) {
    let metadata = state.metadata.clone();
    crate::periodic::run_once_per_cluster(metadata, "monitor_checks", interval, |now| {
        let state = state.clone();
        async move {
            if let Err(error) = check(&state, now).await {
                tracing::warn!(%error, "cannot check cron monitors");
            }
        }
    })
    .await;
}

/// Records what is overdue at `now`: missed check-ins and timed-out runs.
///
/// # Errors
///
/// When the metadata store fails; what was recorded before stays.
pub async fn check(state: &AppState, now: Timestamp) -> Result<(), StoreError> {
    for monitor in state.metadata.monitors_due(now).await? {
        missed(state, &monitor, now).await?;
    }
    let mut monitors: HashMap<MonitorId, Option<(Monitor, MonitorConfig)>> = HashMap::new();
    for run in state.metadata.checkins_in_progress(MAX_RUNNING).await? {
        let read = match monitors.entry(run.monitor_id) {
            Entry::Occupied(entry) => entry.into_mut(),
            Entry::Vacant(entry) => {
                let monitor = state.metadata.monitor(run.monitor_id).await?;
                entry.insert(monitor.and_then(|monitor| {
                    let config = MonitorConfig::from_json(&monitor.config).ok()?;
                    Some((monitor, config))
                }))
            }
        };
        if let Some((monitor, config)) = read {
            timed_out(state, monitor, config, &run, now).await?;
        }
    }
    Ok(())
}

/// Whether `time` plus `duration` is still to come at `now` (a sum past
/// the range of timestamps never comes).
fn still_ahead(time: Timestamp, duration: Duration, now: Timestamp) -> bool {
    time.checked_add(duration).is_none_or(|end| end > now)
}

/// Records a missed check-in when the monitor's margin has run out.
async fn missed(state: &AppState, monitor: &Monitor, now: Timestamp) -> Result<(), StoreError> {
    let Some(expected) = monitor.next_checkin_at else {
        return Ok(());
    };
    let config = match MonitorConfig::from_json(&monitor.config) {
        Ok(config) => config,
        Err(error) => {
            tracing::debug!(monitor = %monitor.slug, %error, "a monitor without a usable schedule");
            return state
                .metadata
                .update_monitor_checkins(monitor.id, None, None)
                .await
                .map(drop);
        }
    };
    if still_ahead(expected, config.margin, now) {
        return Ok(());
    }
    let environment = state
        .metadata
        .monitor_checkins(monitor.id, 1)
        .await?
        .into_iter()
        .next()
        .and_then(|latest| latest.environment);
    let checkin = CheckIn {
        id: missed_checkin_id(monitor.id, expected),
        monitor_id: monitor.id,
        status: CheckInStatus::Missed,
        duration_ms: None,
        environment: environment.clone(),
        date_created: expected,
        date_updated: now,
    };
    match state.metadata.insert_checkin(&checkin).await {
        Ok(()) => {
            failure::raise(
                state,
                monitor,
                Failure::Missed { expected },
                environment.as_deref(),
            )
            .await;
        }
        // Recorded by another server, or before a crash.
        Err(error) if error.kind() == StoreErrorKind::Conflict => {}
        Err(error) => return Err(error),
    }
    let next = config.next_open_after(expected, now);
    state
        .metadata
        .update_monitor_checkins(monitor.id, None, next)
        .await
        .map(drop)
}

/// Marks a run in progress past its monitor's `max_runtime` as timed out.
async fn timed_out(
    state: &AppState,
    monitor: &Monitor,
    config: &MonitorConfig,
    run: &CheckIn,
    now: Timestamp,
) -> Result<(), StoreError> {
    if still_ahead(run.date_created, config.max_runtime, now) {
        return Ok(());
    }
    let update = CheckInUpdate {
        status: CheckInStatus::Timeout,
        duration_ms: None,
        date_updated: now,
    };
    if state
        .metadata
        .update_checkin(monitor.id, run.id, &update)
        .await?
        .is_some()
    {
        failure::raise(
            state,
            monitor,
            Failure::Timeout(run.id),
            run.environment.as_deref(),
        )
        .await;
    }
    Ok(())
}

/// The id of the missed check-in of a monitor due at a time: the same
/// wherever it is computed.
fn missed_checkin_id(monitor_id: MonitorId, expected: Timestamp) -> CheckInId {
    let mut seed = b"missed-checkin".to_vec();
    seed.extend_from_slice(&monitor_id.0.to_le_bytes());
    seed.extend_from_slice(&expected.as_unix_micros().to_le_bytes());
    CheckInId::derived(&seed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missed_check_in_has_one_id_per_monitor_and_due_time() {
        let at = |seconds: i64| Timestamp::from_unix_micros(seconds * 1_000_000).unwrap();
        assert_eq!(
            missed_checkin_id(MonitorId(1), at(60)),
            missed_checkin_id(MonitorId(1), at(60))
        );
        assert_ne!(
            missed_checkin_id(MonitorId(1), at(60)),
            missed_checkin_id(MonitorId(1), at(120))
        );
        assert_ne!(
            missed_checkin_id(MonitorId(1), at(60)),
            missed_checkin_id(MonitorId(2), at(60))
        );
    }
}
