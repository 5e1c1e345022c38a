//! Behaviours of release health counts in the metadata store.

use sentry_core::ProjectId;
use sentry_core::protocol::Timestamp;
use sentry_core::store::{SessionCount, SessionMetric, SessionQuery, SessionStore, SessionTotal};

use super::{Stores, project, seconds};

const HOUR: f64 = 3_600.0;
const START: f64 = 1_700_000_000.0 - 1_700_000_000.0 % HOUR;

fn counted(
    project_id: ProjectId,
    release: &str,
    environment: &str,
    hour: f64,
    metric: SessionMetric,
    subject: &str,
    quantity: u64,
) -> SessionCount {
    SessionCount {
        project_id,
        release: release.to_owned(),
        environment: environment.to_owned(),
        hour: seconds(START + hour * HOUR),
        metric,
        subject: subject.to_owned(),
        quantity,
    }
}

fn query(project_id: ProjectId, interval_hours: u64) -> SessionQuery {
    SessionQuery {
        project_ids: vec![project_id],
        since: seconds(START),
        until: seconds(START + 4.0 * HOUR),
        interval_secs: interval_hours * 3_600,
        releases: None,
        environments: None,
        by_release: false,
        by_environment: false,
    }
}

/// The quantity of a metric in the bucket starting `hours` after the start.
fn total(totals: &[SessionTotal], hours: f64, metric: SessionMetric) -> u64 {
    let bucket = Timestamp::from_unix_seconds(START + hours * HOUR).unwrap();
    totals
        .iter()
        .filter(|total| total.bucket == bucket && total.metric == metric)
        .map(|total| total.quantity)
        .sum()
}

pub async fn session_subjects_count_once_and_aggregates_add_up(stores: &Stores) {
    let (_, project_id) = project(stores).await;
    let store = &stores.metadata;
    use SessionMetric::{Crashed, Errored, Session, User};
    store
        .record_sessions(&[
            counted(project_id, "1.0", "prod", 0.0, Session, "sid-a", 1),
            counted(project_id, "1.0", "prod", 0.0, Errored, "sid-a", 1),
            counted(project_id, "1.0", "prod", 0.0, User, "alice", 1),
            counted(project_id, "1.0", "prod", 0.0, Session, "", 10),
            counted(project_id, "1.0", "prod", 0.0, Crashed, "", 2),
        ])
        .await
        .unwrap();
    // Later updates of the same session and user, and another aggregate.
    store
        .record_sessions(&[
            counted(project_id, "1.0", "prod", 0.0, Errored, "sid-a", 1),
            counted(project_id, "1.0", "prod", 0.0, User, "alice", 1),
            counted(project_id, "1.0", "prod", 0.0, Session, "", 5),
            counted(project_id, "1.0", "prod", 1.0, User, "alice", 1),
            counted(project_id, "2.0", "staging", 1.0, Session, "sid-b", 1),
            counted(project_id, "2.0", "staging", 1.0, User, "bob", 1),
        ])
        .await
        .unwrap();
    let hourly = store.session_totals(&query(project_id, 1)).await.unwrap();
    assert_eq!(
        total(&hourly, 0.0, Session),
        16,
        "1 session + 10 + 5 aggregated"
    );
    assert_eq!(
        total(&hourly, 0.0, Errored),
        1,
        "one session, however often updated"
    );
    assert_eq!(total(&hourly, 0.0, Crashed), 2);
    assert_eq!(total(&hourly, 0.0, User), 1);
    assert_eq!(total(&hourly, 1.0, Session), 1);
    assert_eq!(total(&hourly, 1.0, User), 2);
    let whole = store.session_totals(&query(project_id, 4)).await.unwrap();
    assert_eq!(total(&whole, 0.0, Session), 17);
    assert_eq!(
        total(&whole, 0.0, User),
        2,
        "a user seen in two hours is one user over both"
    );
    assert!(
        whole
            .iter()
            .all(|t| t.release.is_none() && t.environment.is_none())
    );
}

pub async fn session_totals_group_and_filter_by_release_and_environment(stores: &Stores) {
    let (_, project_id) = project(stores).await;
    let store = &stores.metadata;
    use SessionMetric::Session;
    store
        .record_sessions(&[
            counted(project_id, "1.0", "prod", 0.0, Session, "", 3),
            counted(project_id, "1.0", "staging", 0.0, Session, "", 4),
            counted(project_id, "2.0", "prod", 2.0, Session, "", 5),
        ])
        .await
        .unwrap();
    let by_release = store
        .session_totals(&SessionQuery {
            by_release: true,
            ..query(project_id, 4)
        })
        .await
        .unwrap();
    let per_release: Vec<(Option<&str>, u64)> = by_release
        .iter()
        .map(|t| (t.release.as_deref(), t.quantity))
        .collect();
    assert_eq!(per_release, vec![(Some("1.0"), 7), (Some("2.0"), 5)]);
    let prod = store
        .session_totals(&SessionQuery {
            environments: Some(vec!["prod".to_owned()]),
            by_environment: true,
            ..query(project_id, 4)
        })
        .await
        .unwrap();
    let per_environment: Vec<(Option<&str>, u64)> = prod
        .iter()
        .map(|t| (t.environment.as_deref(), t.quantity))
        .collect();
    assert_eq!(per_environment, vec![(Some("prod"), 8)]);
    let none = store
        .session_totals(&SessionQuery {
            releases: Some(Vec::new()),
            ..query(project_id, 4)
        })
        .await
        .unwrap();
    assert!(none.is_empty(), "an empty list matches nothing: {none:?}");
    let hostile = store
        .session_totals(&SessionQuery {
            releases: Some(vec!["1.0' OR '1'='1".to_owned()]),
            ..query(project_id, 4)
        })
        .await
        .unwrap();
    assert!(hostile.is_empty());
}

pub async fn old_session_counts_are_deleted(stores: &Stores) {
    let (_, project_id) = project(stores).await;
    let store = &stores.metadata;
    let old = SessionCount {
        hour: seconds(1_000.0 * HOUR),
        ..counted(project_id, "1.0", "", 0.0, SessionMetric::Session, "", 1)
    };
    store.record_sessions(&[old]).await.unwrap();
    assert!(
        store
            .delete_sessions_before(seconds(1_001.0 * HOUR))
            .await
            .unwrap()
            >= 1
    );
    let left = store
        .session_totals(&SessionQuery {
            since: seconds(0.0),
            until: seconds(1_001.0 * HOUR),
            ..query(project_id, 1)
        })
        .await
        .unwrap();
    assert!(left.is_empty());
}
