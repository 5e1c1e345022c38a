//! Client reports: what an SDK dropped before sending, and why.

use serde::Deserialize;

use super::{ItemError, json};
use crate::ids::ProjectId;
use crate::protocol::Timestamp;
use crate::store::{Outcome, OutcomeCount};

#[derive(Deserialize)]
struct ClientReport {
    #[serde(default)]
    timestamp: Option<Timestamp>,
    #[serde(default)]
    discarded_events: Vec<Discarded>,
}

#[derive(Deserialize)]
struct Discarded {
    reason: String,
    category: String,
    quantity: u64,
}

/// Reads a `client_report` payload into `client_discard` outcome counts
/// of a project, dated by the report's timestamp (or `received` when it
/// has none or names a time more than an hour away from it).
///
/// # Errors
///
/// When the payload is not a client report.
pub fn outcomes(
    project_id: ProjectId,
    payload: &[u8],
    received: Timestamp,
) -> Result<Vec<OutcomeCount>, ItemError> {
    let report: ClientReport = json("client_report", payload)?;
    let time = report
        .timestamp
        .filter(|time| (time.0 - received.0).num_seconds().abs() <= 3_600)
        .unwrap_or(received);
    Ok(report
        .discarded_events
        .into_iter()
        .filter(|discarded| discarded.quantity > 0)
        .map(|discarded| {
            OutcomeCount::new(
                project_id,
                time,
                &discarded.category,
                Outcome::ClientDiscard,
                &discarded.reason,
                discarded.quantity,
            )
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn discarded_events_become_client_discard_outcomes() {
        let received = Timestamp::from_unix_seconds(1_700_000_100.0).unwrap();
        let payload = br#"{"timestamp":1700000000.5,"discarded_events":[
            {"reason":"ratelimit_backoff","category":"error","quantity":2},
            {"reason":"sample_rate","category":"transaction","quantity":0}]}"#;
        let counts = outcomes(ProjectId(4), payload, received).unwrap();
        assert_eq!(
            counts,
            vec![OutcomeCount::new(
                ProjectId(4),
                Timestamp::from_unix_seconds(1_700_000_000.5).unwrap(),
                "error",
                Outcome::ClientDiscard,
                "ratelimit_backoff",
                2
            )]
        );
    }

    #[test]
    fn a_far_timestamp_is_replaced_by_the_time_received() {
        let received = Timestamp::from_unix_seconds(1_700_000_000.0).unwrap();
        let payload =
            br#"{"timestamp":1.0,"discarded_events":[{"reason":"x","category":"error","quantity":1}]}"#;
        let counts = outcomes(ProjectId(4), payload, received).unwrap();
        assert_eq!(counts[0].hour, crate::store::hour_of(received));
    }

    #[test]
    fn other_json_is_an_error() {
        assert!(outcomes(ProjectId(1), br#""report""#, Timestamp::now()).is_err());
        assert!(outcomes(ProjectId(1), b"{", Timestamp::now()).is_err());
    }
}
