//! Release health: `session` updates and `sessions` aggregates read into
//! [`SessionCount`]s, as Relay turns them into its session metrics.
//!
//! An update counts its session once as started (when it is the first,
//! `init`), as errored (errors, or an errored, crashed or abnormal end),
//! as crashed or as abnormal, each keyed by the session id so that later
//! updates of the same session count nothing twice, and its user (the
//! `did`) likewise. An aggregate adds its counts as they are.

use serde::Deserialize;
use serde_json::Value;

use super::{ItemError, json};
use crate::ids::ProjectId;
use crate::protocol::Timestamp;
use crate::store::{SessionCount, SessionMetric, hour_of};

/// How far in the past a session may have started (Relay's default).
const MAX_AGE_SECS: i64 = 5 * 24 * 3_600;
/// How far in the future a session may claim to have started.
const MAX_FUTURE_SECS: i64 = 3_600;
/// The most characters kept of a release, environment or id.
const MAX_LABEL: usize = 200;

#[derive(Deserialize, Default)]
struct Attributes {
    #[serde(default)]
    release: Option<String>,
    #[serde(default)]
    environment: Option<String>,
}

#[derive(Deserialize)]
struct Update {
    #[serde(default)]
    sid: Option<Value>,
    #[serde(default)]
    did: Option<Value>,
    #[serde(default)]
    init: bool,
    started: Option<Timestamp>,
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    errors: u64,
    #[serde(default)]
    attrs: Attributes,
}

#[derive(Deserialize)]
struct Aggregates {
    #[serde(default)]
    attrs: Attributes,
    #[serde(default)]
    aggregates: Vec<Aggregate>,
}

#[derive(Deserialize)]
struct Aggregate {
    started: Timestamp,
    #[serde(default)]
    did: Option<Value>,
    #[serde(default)]
    exited: u64,
    #[serde(default)]
    errored: u64,
    #[serde(default)]
    abnormal: u64,
    #[serde(default)]
    crashed: u64,
}

/// An id as text: SDKs send strings, and some send numbers for `did`.
fn id_text(value: Option<&Value>) -> Option<String> {
    let text = match value? {
        Value::String(text) => text.clone(),
        Value::Number(number) => number.to_string(),
        _ => return None,
    };
    let text: String = text.trim().chars().take(MAX_LABEL).collect();
    (!text.is_empty()).then_some(text)
}

/// The release and environment of a payload; a release is required.
fn release_of(item: &'static str, attrs: &Attributes) -> Result<(String, String), ItemError> {
    let release = attrs
        .release
        .as_deref()
        .map(str::trim)
        .filter(|release| !release.is_empty())
        .ok_or(ItemError::Missing {
            item,
            field: "release",
        })?;
    let environment = attrs.environment.as_deref().unwrap_or("").trim();
    Ok((
        release.chars().take(MAX_LABEL).collect(),
        environment.chars().take(MAX_LABEL).collect(),
    ))
}

fn check_started(
    item: &'static str,
    started: Timestamp,
    received: Timestamp,
) -> Result<(), ItemError> {
    let age = (received.0 - started.0).num_seconds();
    if !(-MAX_FUTURE_SECS..=MAX_AGE_SECS).contains(&age) {
        return Err(ItemError::Invalid {
            item,
            field: "started",
        });
    }
    Ok(())
}

/// Reads a `session` payload (one update).
///
/// # Errors
///
/// When it is not JSON of a session update, has no session id, start or
/// release, or started more than five days before `received` or more than
/// an hour after it.
pub fn from_update(
    project_id: ProjectId,
    payload: &[u8],
    received: Timestamp,
) -> Result<Vec<SessionCount>, ItemError> {
    const ITEM: &str = "session";
    let update: Update = json(ITEM, payload)?;
    let sid = id_text(update.sid.as_ref()).ok_or(ItemError::Missing {
        item: ITEM,
        field: "sid",
    })?;
    let started = update.started.ok_or(ItemError::Missing {
        item: ITEM,
        field: "started",
    })?;
    check_started(ITEM, started, received)?;
    let (release, environment) = release_of(ITEM, &update.attrs)?;
    let did = id_text(update.did.as_ref());
    let status = update.status.as_deref().unwrap_or("ok");
    let crashed = status == "crashed";
    let abnormal = status == "abnormal";
    let errored = update.errors > 0 || crashed || abnormal || status == "errored";
    let count = |metric, subject: &str| SessionCount {
        project_id,
        release: release.clone(),
        environment: environment.clone(),
        hour: hour_of(started),
        metric,
        subject: subject.to_owned(),
        quantity: 1,
    };
    let marks = [
        (update.init, SessionMetric::Session, SessionMetric::User),
        (errored, SessionMetric::Errored, SessionMetric::ErroredUser),
        (crashed, SessionMetric::Crashed, SessionMetric::CrashedUser),
        (
            abnormal,
            SessionMetric::Abnormal,
            SessionMetric::AbnormalUser,
        ),
    ];
    let mut counts = Vec::new();
    for (applies, session_metric, user_metric) in marks {
        if !applies {
            continue;
        }
        counts.push(count(session_metric, &sid));
        if let Some(did) = &did {
            counts.push(count(user_metric, did));
        }
    }
    if let Some(did) = &did
        && !update.init
    {
        // A user is counted whenever seen, not only on a session's start.
        counts.push(count(SessionMetric::User, did));
    }
    Ok(counts)
}

/// Reads a `sessions` payload (aggregates).
///
/// # Errors
///
/// When it is not JSON of session aggregates or has no release. Buckets
/// that started too long ago or too far ahead are left out, as are empty
/// ones.
pub fn from_aggregates(
    project_id: ProjectId,
    payload: &[u8],
    received: Timestamp,
) -> Result<Vec<SessionCount>, ItemError> {
    const ITEM: &str = "sessions";
    let aggregates: Aggregates = json(ITEM, payload)?;
    let (release, environment) = release_of(ITEM, &aggregates.attrs)?;
    let mut counts = Vec::new();
    for bucket in aggregates.aggregates {
        if check_started(ITEM, bucket.started, received).is_err() {
            continue;
        }
        let errored = bucket
            .errored
            .saturating_add(bucket.abnormal)
            .saturating_add(bucket.crashed);
        let total = errored.saturating_add(bucket.exited);
        let did = id_text(bucket.did.as_ref());
        let metrics = [
            (total, SessionMetric::Session, SessionMetric::User),
            (errored, SessionMetric::Errored, SessionMetric::ErroredUser),
            (
                bucket.crashed,
                SessionMetric::Crashed,
                SessionMetric::CrashedUser,
            ),
            (
                bucket.abnormal,
                SessionMetric::Abnormal,
                SessionMetric::AbnormalUser,
            ),
        ];
        for (quantity, session_metric, user_metric) in metrics {
            if quantity == 0 {
                continue;
            }
            let count = |metric, subject: &str, quantity| SessionCount {
                project_id,
                release: release.clone(),
                environment: environment.clone(),
                hour: hour_of(bucket.started),
                metric,
                subject: subject.to_owned(),
                quantity,
            };
            counts.push(count(session_metric, "", quantity));
            if let Some(did) = &did {
                counts.push(count(user_metric, did, 1));
            }
        }
    }
    Ok(counts)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn received() -> Timestamp {
        Timestamp::from_unix_seconds(1_700_000_000.0).unwrap()
    }

    fn metrics(counts: &[SessionCount]) -> Vec<(SessionMetric, &str, u64)> {
        counts
            .iter()
            .map(|count| (count.metric, count.subject.as_str(), count.quantity))
            .collect()
    }

    #[test]
    fn a_first_update_with_errors_counts_a_session_and_an_errored_one() {
        let payload = br#"{"sid":"5d2c7d4e-1a2b-4c3d-8e9f-000000000001","did":"alice",
            "init":true,"started":"2023-11-14T22:00:00Z","status":"ok","errors":1,
            "attrs":{"release":"app@1.0","environment":"production"}}"#;
        let counts = from_update(ProjectId(1), payload, received()).unwrap();
        let sid = "5d2c7d4e-1a2b-4c3d-8e9f-000000000001";
        assert_eq!(
            metrics(&counts),
            vec![
                (SessionMetric::Session, sid, 1),
                (SessionMetric::User, "alice", 1),
                (SessionMetric::Errored, sid, 1),
                (SessionMetric::ErroredUser, "alice", 1),
            ]
        );
        assert_eq!(counts[0].release, "app@1.0");
        assert_eq!(counts[0].environment, "production");
        assert_eq!(
            counts[0].hour,
            Timestamp::parse_rfc3339("2023-11-14T22:00:00Z").unwrap()
        );
    }

    #[test]
    fn a_crash_counts_as_errored_and_crashed() {
        let payload = br#"{"sid":"abc","init":false,"started":1699999000,
            "status":"crashed","attrs":{"release":"1"}}"#;
        let counts = from_update(ProjectId(1), payload, received()).unwrap();
        assert_eq!(
            metrics(&counts),
            vec![
                (SessionMetric::Errored, "abc", 1),
                (SessionMetric::Crashed, "abc", 1)
            ]
        );
    }

    #[test]
    fn updates_without_release_or_too_old_are_invalid() {
        let no_release = br#"{"sid":"a","init":true,"started":1699999000,"attrs":{}}"#;
        assert!(matches!(
            from_update(ProjectId(1), no_release, received()),
            Err(ItemError::Missing {
                field: "release",
                ..
            })
        ));
        let old = br#"{"sid":"a","init":true,"started":1000,"attrs":{"release":"1"}}"#;
        assert!(from_update(ProjectId(1), old, received()).is_err());
        assert!(from_update(ProjectId(1), b"not json", received()).is_err());
    }

    #[test]
    fn aggregates_add_their_counts() {
        let payload = br#"{"attrs":{"release":"1.0","environment":"prod"},"aggregates":[
            {"started":"2023-11-14T22:13:00Z","exited":3,"errored":1,"crashed":1},
            {"started":"2023-11-14T22:14:00Z","exited":0}]}"#;
        let counts = from_aggregates(ProjectId(1), payload, received()).unwrap();
        assert_eq!(
            metrics(&counts),
            vec![
                (SessionMetric::Session, "", 5),
                (SessionMetric::Errored, "", 2),
                (SessionMetric::Crashed, "", 1),
            ]
        );
    }
}
