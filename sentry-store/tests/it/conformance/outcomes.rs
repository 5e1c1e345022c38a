//! Behaviours of outcome counts in the metadata store.

use sentry_core::ProjectId;
use sentry_core::store::{Outcome, OutcomeCount, OutcomeQuery, OutcomeStore};

use super::{Stores, project, seconds};

const HOUR: f64 = 3_600.0;

fn count(
    project_id: ProjectId,
    at: f64,
    category: &str,
    outcome: Outcome,
    reason: &str,
    quantity: u64,
) -> OutcomeCount {
    OutcomeCount::new(project_id, seconds(at), category, outcome, reason, quantity)
}

pub async fn outcome_counts_add_up_per_hour(stores: &Stores) {
    let (_, project_id) = project(stores).await;
    let (_, other_project) = project(stores).await;
    let start = 1_700_000_000.0 - 1_700_000_000.0 % HOUR;
    let store = &stores.metadata;
    store
        .add_outcomes(&[
            count(project_id, start + 10.0, "error", Outcome::Accepted, "", 2),
            count(project_id, start + 20.0, "error", Outcome::Accepted, "", 3),
            count(
                project_id,
                start + 30.0,
                "error",
                Outcome::RateLimited,
                "project_quota",
                1,
            ),
            count(
                project_id,
                start + HOUR,
                "attachment",
                Outcome::Accepted,
                "",
                4_096,
            ),
            count(other_project, start, "error", Outcome::Accepted, "", 7),
        ])
        .await
        .unwrap();
    store
        .add_outcomes(&[count(
            project_id,
            start + 50.0,
            "error",
            Outcome::Accepted,
            "",
            5,
        )])
        .await
        .unwrap();
    let read = store
        .outcomes(&OutcomeQuery {
            project_ids: vec![project_id],
            since: seconds(start),
            until: seconds(start + 2.0 * HOUR),
        })
        .await
        .unwrap();
    assert_eq!(
        read,
        vec![
            count(project_id, start, "error", Outcome::Accepted, "", 10),
            count(
                project_id,
                start,
                "error",
                Outcome::RateLimited,
                "project_quota",
                1
            ),
            count(
                project_id,
                start + HOUR,
                "attachment",
                Outcome::Accepted,
                "",
                4_096
            ),
        ],
        "one row per hour, category, outcome and reason, in that order"
    );
    let later = store
        .outcomes(&OutcomeQuery {
            project_ids: vec![project_id, other_project],
            since: seconds(start + HOUR),
            until: seconds(start + 2.0 * HOUR),
        })
        .await
        .unwrap();
    assert_eq!(
        later.len(),
        1,
        "the range starts at its first hour: {later:?}"
    );
}

pub async fn old_outcome_counts_are_deleted(stores: &Stores) {
    let (_, project_id) = project(stores).await;
    // Far in the past, so that no other test's counts are this old.
    let old = 1_000.0 * HOUR;
    let store = &stores.metadata;
    store
        .add_outcomes(&[
            count(project_id, old, "error", Outcome::Accepted, "", 1),
            count(project_id, old + HOUR, "error", Outcome::Accepted, "", 1),
        ])
        .await
        .unwrap();
    let deleted = store
        .delete_outcomes_before(seconds(old + HOUR))
        .await
        .unwrap();
    assert!(deleted >= 1);
    let left = store
        .outcomes(&OutcomeQuery {
            project_ids: vec![project_id],
            since: seconds(0.0),
            until: seconds(old + 2.0 * HOUR),
        })
        .await
        .unwrap();
    assert_eq!(
        left,
        vec![count(
            project_id,
            old + HOUR,
            "error",
            Outcome::Accepted,
            "",
            1
        )]
    );
}
