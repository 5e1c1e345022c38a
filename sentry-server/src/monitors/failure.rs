//! A failed run of a monitor (an `error` check-in, a missed check-in, a
//! run past its `max_runtime`) becomes an error event, spooled like any
//! other, so that it files under the monitor's issue and alert rules see
//! it. Each failure's event id is derived from the failure, so that a
//! failure reported twice (a batch processed again after a crash, two
//! servers noticing the same missed check-in) is stored once.

use bytes::Bytes;
use sentry_core::protocol::Timestamp;
use sentry_core::store::Monitor;
use sentry_core::{CheckInId, EventId};
use serde_json::{Value, json};

use crate::ingest::spool_server_event;
use crate::state::AppState;

/// How a run failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// The job reported an error.
    Error(CheckInId),
    /// No check-in came by the time due plus the margin.
    Missed {
        /// When the check-in was due.
        expected: Timestamp,
    },
    /// The run stayed in progress past the monitor's `max_runtime`.
    Timeout(CheckInId),
}

impl Failure {
    /// The reason, as the event's `monitor.reason` tag says it.
    pub fn reason(&self) -> &'static str {
        match self {
            Failure::Error(_) => "error",
            Failure::Missed { .. } => "missed_checkin",
            Failure::Timeout(_) => "timeout",
        }
    }

    fn description(&self) -> &'static str {
        match self {
            Failure::Error(_) => "An error check-in was detected",
            Failure::Missed { .. } => "A missed check-in was detected",
            Failure::Timeout(_) => "A timeout check-in was detected",
        }
    }

    /// The id of the failure's event: the same for the same failure.
    pub fn event_id(&self, monitor: &Monitor) -> EventId {
        let mut seed = b"monitor-failure".to_vec();
        seed.extend_from_slice(&monitor.id.0.to_le_bytes());
        match self {
            Failure::Error(id) | Failure::Timeout(id) => seed.extend_from_slice(id.as_bytes()),
            Failure::Missed { expected } => {
                seed.extend_from_slice(&expected.as_unix_micros().to_le_bytes());
            }
        }
        seed.extend_from_slice(self.reason().as_bytes());
        EventId::derived(&seed)
    }
}

/// The event of a failure: one issue per monitor and environment,
/// titled `Cron failure: NAME`, with the reason and the monitor in tags
/// and a `monitor` context.
pub fn event(
    monitor: &Monitor,
    failure: Failure,
    environment: Option<&str>,
    now: Timestamp,
) -> Value {
    let config: Value = serde_json::from_str(&monitor.config).unwrap_or(Value::Null);
    json!({
        "event_id": failure.event_id(monitor).to_string(),
        "timestamp": now.as_unix_seconds(),
        "level": "error",
        "platform": "other",
        "logger": "sentry.monitors",
        "message": format!("Cron failure: {}", monitor.name),
        "culprit": failure.description(),
        "environment": environment,
        "fingerprint": ["monitor-failure", monitor.slug, environment.unwrap_or("")],
        "tags": {
            "monitor.slug": monitor.slug,
            "monitor.id": monitor.id.to_string(),
            "monitor.reason": failure.reason(),
        },
        "contexts": {
            "monitor": {
                "id": monitor.id.to_string(),
                "slug": monitor.slug,
                "name": monitor.name,
                "config": config,
                "reason": failure.reason(),
            },
        },
    })
}

/// Spools the event of a failure; a spool that refuses it is logged (the
/// failure's check-in is recorded all the same).
pub async fn raise(
    state: &AppState,
    monitor: &Monitor,
    failure: Failure,
    environment: Option<&str>,
) {
    let event = event(monitor, failure, environment, Timestamp::now());
    let event_id = failure.event_id(monitor);
    tracing::info!(monitor = %monitor.slug, reason = failure.reason(), %event_id, "cron monitor failure");
    metrics::counter!("sentry_monitor_failures_total", "reason" => failure.reason()).increment(1);
    let payload = Bytes::from(event.to_string());
    if let Err(error) = spool_server_event(state, monitor.project_id, event_id, payload).await {
        tracing::warn!(monitor = %monitor.slug, ?error, "cannot spool a cron failure event");
    }
}

#[cfg(test)]
mod tests {
    use sentry_core::store::MonitorStatus;
    use sentry_core::{MonitorId, ProjectId};

    use super::*;

    fn monitor() -> Monitor {
        Monitor {
            id: MonitorId(7),
            project_id: ProjectId(1),
            slug: "nightly".to_owned(),
            name: "Nightly backup".to_owned(),
            config: r#"{"schedule":{"type":"crontab","value":"0 3 * * *"}}"#.to_owned(),
            status: MonitorStatus::Active,
            next_checkin_at: None,
            last_checkin_at: None,
            date_created: Timestamp::from_unix_micros(0).unwrap(),
        }
    }

    #[test]
    fn the_same_failure_has_the_same_event_id() {
        let expected = Timestamp::from_unix_micros(3_600_000_000).unwrap();
        let missed = Failure::Missed { expected };
        assert_eq!(missed.event_id(&monitor()), missed.event_id(&monitor()));
        let later = Failure::Missed {
            expected: Timestamp::from_unix_micros(7_200_000_000).unwrap(),
        };
        assert_ne!(missed.event_id(&monitor()), later.event_id(&monitor()));
        let run = CheckInId::new_random();
        assert_ne!(
            Failure::Error(run).event_id(&monitor()),
            Failure::Timeout(run).event_id(&monitor()),
            "an error and a timeout of one run are two failures"
        );
    }

    #[test]
    fn the_event_names_the_monitor_and_the_reason() {
        let now = Timestamp::from_unix_micros(5_000_000).unwrap();
        let event = event(
            &monitor(),
            Failure::Timeout(CheckInId::new_random()),
            Some("production"),
            now,
        );
        assert_eq!(event["message"], "Cron failure: Nightly backup");
        assert_eq!(event["culprit"], "A timeout check-in was detected");
        assert_eq!(
            event["fingerprint"],
            json!(["monitor-failure", "nightly", "production"])
        );
        assert_eq!(event["tags"]["monitor.reason"], "timeout");
        assert_eq!(
            event["contexts"]["monitor"]["config"]["schedule"]["value"],
            "0 3 * * *"
        );
    }
}
