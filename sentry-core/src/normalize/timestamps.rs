//! Timestamps: clock drift correction, clamping to an accepted window, and
//! the `received` and default `timestamp` fields.
//!
//! As in Relay, two corrections shift *every* timestamp of the event (its
//! `timestamp`, a transaction's `start_timestamp`, breadcrumbs) by the same
//! amount, so that their order and distances stay intact:
//!
//! 1. **Clock drift.** When the envelope header carries `sent_at` and it is
//!    at least [`MINIMUM_CLOCK_DRIFT_SECS`] away from the receive time, the
//!    sender's clock is wrong (often a wrong time zone), and the difference
//!    is added to all timestamps (`clock_drift`).
//! 2. **Window.** A timestamp more than `max_secs_in_future` ahead of the
//!    receive time, or more than `max_secs_in_past` behind it, is moved to
//!    the receive time, and the rest follow (`future_timestamp`,
//!    `past_timestamp`).
//!
//! Each correction is recorded as a processing error with the sender's and
//! the server's time.

use chrono::TimeDelta;

use super::NormalizeConfig;
use super::errors::{ErrorKind, ProcessingError};
use crate::protocol::{Event, Timestamp};

/// Smaller differences between `sent_at` and the receive time are network
/// latency and ordinary clock skew, and are left alone (Relay: 55 minutes).
pub const MINIMUM_CLOCK_DRIFT_SECS: i64 = 55 * 60;

/// How far in the past an event's timestamp may lie (Relay: 30 days).
pub const DEFAULT_MAX_SECS_IN_PAST: i64 = 30 * 24 * 60 * 60;

/// How far in the future an event's timestamp may lie (Relay: 1 minute).
pub const DEFAULT_MAX_SECS_IN_FUTURE: i64 = 60;

/// Corrects drift, clamps to the window, and sets `received` and a default
/// `timestamp`.
pub(crate) fn normalize_timestamps(
    event: &mut Event,
    config: &NormalizeConfig,
    errors: &mut Vec<ProcessingError>,
) {
    let received = config.received;
    if let Some(sent_at) = config.sent_at {
        let drift = received.0 - sent_at.0;
        if drift.num_seconds().abs() >= MINIMUM_CLOCK_DRIFT_SECS {
            shift_all(event, drift);
            errors.push(correction(ErrorKind::ClockDrift, sent_at, received));
        }
    }
    if let Some(timestamp) = event.timestamp {
        // A bound too large for chrono is no bound.
        let limit = |secs: i64, ahead: bool| {
            let delta = TimeDelta::try_seconds(secs)?;
            if ahead {
                received.0.checked_add_signed(delta)
            } else {
                received.0.checked_sub_signed(delta)
            }
        };
        let kind =
            if limit(config.max_secs_in_future, true).is_some_and(|latest| timestamp.0 > latest) {
                Some(ErrorKind::FutureTimestamp)
            } else if limit(config.max_secs_in_past, false)
                .is_some_and(|earliest| timestamp.0 < earliest)
            {
                Some(ErrorKind::PastTimestamp)
            } else {
                None
            };
        if let Some(kind) = kind {
            shift_all(event, received.0 - timestamp.0);
            errors.push(correction(kind, timestamp, received));
        }
    }
    event.received = Some(received);
    if event.timestamp.is_none() {
        event.timestamp = Some(received);
    }
}

fn correction(kind: ErrorKind, sdk_time: Timestamp, server_time: Timestamp) -> ProcessingError {
    ProcessingError::new(kind, "timestamp")
        .with_data("sdk_time", sdk_time.to_rfc3339())
        .with_data("server_time", server_time.to_rfc3339())
}

/// Shifts every timestamp of the event by `delta`; a timestamp that would
/// leave chrono's range is left as it is.
fn shift_all(event: &mut Event, delta: TimeDelta) {
    let shift = |timestamp: &mut Timestamp| {
        if let Some(moved) = timestamp.0.checked_add_signed(delta) {
            timestamp.0 = moved;
        }
    };
    if let Some(timestamp) = event.timestamp.as_mut() {
        shift(timestamp);
    }
    if let Some(breadcrumbs) = event.breadcrumbs.as_mut() {
        for breadcrumb in &mut breadcrumbs.values {
            if let Some(timestamp) = breadcrumb.timestamp.as_mut() {
                shift(timestamp);
            }
        }
    }
    // Transactions carry `start_timestamp`, which this crate does not model.
    if let Some(start) = event.other.get_mut("start_timestamp") {
        if let Ok(mut timestamp) = serde_json::from_value::<Timestamp>(start.clone()) {
            shift(&mut timestamp);
            if let Ok(value) = serde_json::to_value(timestamp) {
                *start = value;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const RECEIVED: f64 = 1_700_000_000.0;

    fn at(seconds: f64) -> Timestamp {
        Timestamp::from_unix_seconds(seconds).unwrap()
    }

    fn run(event: &mut Event, config: &NormalizeConfig) -> Vec<ProcessingError> {
        let mut errors = Vec::new();
        normalize_timestamps(event, config, &mut errors);
        errors
    }

    fn event_at(seconds: f64) -> Event {
        serde_json::from_value(json!({
            "timestamp": seconds,
            "breadcrumbs": [{"timestamp": seconds - 10.0, "message": "before"}],
        }))
        .unwrap()
    }

    fn breadcrumb_time(event: &Event) -> f64 {
        event.breadcrumbs.as_ref().unwrap().values[0]
            .timestamp
            .unwrap()
            .as_unix_seconds()
    }

    #[test]
    fn corrects_clock_drift_from_sent_at() {
        // The device clock runs a day behind: it stamped and sent the event
        // "yesterday", and the server received it now.
        let day = 86_400.0;
        let mut event = event_at(RECEIVED - day - 5.0);
        let config = NormalizeConfig {
            sent_at: Some(at(RECEIVED - day)),
            ..NormalizeConfig::new(at(RECEIVED))
        };
        let errors = run(&mut event, &config);
        assert_eq!(event.timestamp, Some(at(RECEIVED - 5.0)));
        assert_eq!(breadcrumb_time(&event), RECEIVED - 15.0);
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].kind, ErrorKind::ClockDrift);
        assert_eq!(errors[0].data["sdk_time"], at(RECEIVED - day).to_rfc3339());
        assert_eq!(errors[0].data["server_time"], at(RECEIVED).to_rfc3339());
    }

    #[test]
    fn small_drift_is_latency_and_left_alone() {
        let mut event = event_at(RECEIVED - 600.0);
        let config = NormalizeConfig {
            sent_at: Some(at(RECEIVED - 600.0)),
            ..NormalizeConfig::new(at(RECEIVED))
        };
        assert!(run(&mut event, &config).is_empty());
        assert_eq!(event.timestamp, Some(at(RECEIVED - 600.0)));
    }

    #[test]
    fn clamps_future_timestamp_to_receive_time() {
        let mut event = event_at(RECEIVED + 3600.0);
        let errors = run(&mut event, &NormalizeConfig::new(at(RECEIVED)));
        assert_eq!(event.timestamp, Some(at(RECEIVED)));
        assert_eq!(breadcrumb_time(&event), RECEIVED - 10.0);
        assert_eq!(errors[0].kind, ErrorKind::FutureTimestamp);
        assert_eq!(errors[0].to_json()["name"], "timestamp");
    }

    #[test]
    fn clamps_past_timestamp_to_receive_time() {
        let mut event = event_at(RECEIVED - 31.0 * 86_400.0);
        let errors = run(&mut event, &NormalizeConfig::new(at(RECEIVED)));
        assert_eq!(event.timestamp, Some(at(RECEIVED)));
        assert_eq!(errors[0].kind, ErrorKind::PastTimestamp);
    }

    #[test]
    fn keeps_timestamps_inside_the_window() {
        let mut event = event_at(RECEIVED - 29.0 * 86_400.0);
        assert!(run(&mut event, &NormalizeConfig::new(at(RECEIVED))).is_empty());
        let mut soon = event_at(RECEIVED + 30.0);
        assert!(run(&mut soon, &NormalizeConfig::new(at(RECEIVED))).is_empty());
        assert_eq!(soon.timestamp, Some(at(RECEIVED + 30.0)));
    }

    #[test]
    fn bounds_are_exact_and_may_be_huge() {
        let mut event = event_at(RECEIVED + 60.5);
        let errors = run(&mut event, &NormalizeConfig::new(at(RECEIVED)));
        assert_eq!(errors[0].kind, ErrorKind::FutureTimestamp);
        let unbounded = NormalizeConfig {
            max_secs_in_past: i64::MAX,
            max_secs_in_future: i64::MAX,
            ..NormalizeConfig::new(at(RECEIVED))
        };
        let mut event = event_at(1.0);
        assert!(run(&mut event, &unbounded).is_empty());
    }

    #[test]
    fn shifts_transaction_start_timestamp_too() {
        let mut event: Event = serde_json::from_value(json!({
            "timestamp": RECEIVED + 7200.0,
            "start_timestamp": RECEIVED + 7190.0,
        }))
        .unwrap();
        run(&mut event, &NormalizeConfig::new(at(RECEIVED)));
        assert_eq!(event.other["start_timestamp"], json!(RECEIVED - 10.0));
    }

    #[test]
    fn sets_received_and_missing_timestamp() {
        let mut event = Event::default();
        run(&mut event, &NormalizeConfig::new(at(RECEIVED)));
        assert_eq!(event.received, Some(at(RECEIVED)));
        assert_eq!(event.timestamp, Some(at(RECEIVED)));
    }
}
