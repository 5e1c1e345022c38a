//! Behaviours of user feedback in the metadata store.

use sentry_core::store::{UserReport, UserReportQuery, UserReportStore};
use sentry_core::{EventId, IssueId, ProjectId};

use super::{Stores, project, seconds};

fn report(project_id: ProjectId, at: f64, comments: &str) -> UserReport {
    UserReport {
        id: EventId::new_random(),
        project_id,
        event_id: Some(EventId::new_random()),
        issue_id: None,
        name: "Jane".to_owned(),
        email: "jane@example.com".to_owned(),
        comments: comments.to_owned(),
        environment: Some("production".to_owned()),
        date_created: seconds(at),
    }
}

fn query(project_id: ProjectId) -> UserReportQuery {
    UserReportQuery {
        project_id,
        issue_id: None,
        before: None,
        limit: 100,
    }
}

pub async fn user_reports_are_listed_newest_first_in_pages(stores: &Stores) {
    let (_, project_id) = project(stores).await;
    let (_, other_project) = project(stores).await;
    let store = &stores.metadata;
    let first = report(project_id, 100.0, "it broke");
    let second = UserReport {
        issue_id: Some(IssueId(7)),
        ..report(project_id, 200.0, "again")
    };
    let third = report(project_id, 300.0, "'; DROP TABLE user_reports; --");
    for record in [
        &first,
        &second,
        &third,
        &report(other_project, 250.0, "other"),
    ] {
        store.upsert_user_report(record).await.unwrap();
    }
    let all = store.user_reports(&query(project_id)).await.unwrap();
    assert_eq!(all, vec![third.clone(), second.clone(), first.clone()]);
    let page = store
        .user_reports(&UserReportQuery {
            limit: 1,
            before: Some((second.date_created, second.id)),
            ..query(project_id)
        })
        .await
        .unwrap();
    assert_eq!(page, vec![first.clone()]);
    let of_issue = store
        .user_reports(&UserReportQuery {
            issue_id: Some(IssueId(7)),
            ..query(project_id)
        })
        .await
        .unwrap();
    assert_eq!(of_issue, vec![second.clone()]);
}

pub async fn a_second_report_with_the_same_id_replaces_the_first(stores: &Stores) {
    let (_, project_id) = project(stores).await;
    let store = &stores.metadata;
    let first = report(project_id, 100.0, "first words");
    store.upsert_user_report(&first).await.unwrap();
    let replaced = UserReport {
        comments: "second thoughts".to_owned(),
        issue_id: Some(IssueId(3)),
        date_created: seconds(150.0),
        ..first.clone()
    };
    store.upsert_user_report(&replaced).await.unwrap();
    assert_eq!(
        store.user_reports(&query(project_id)).await.unwrap(),
        vec![replaced]
    );
}

pub async fn old_user_reports_are_deleted(stores: &Stores) {
    let (_, project_id) = project(stores).await;
    let store = &stores.metadata;
    let old = report(project_id, 100.0, "old");
    let new = report(project_id, 300.0, "new");
    store.upsert_user_report(&old).await.unwrap();
    store.upsert_user_report(&new).await.unwrap();
    let deleted = store
        .delete_user_reports_before(project_id, seconds(200.0))
        .await
        .unwrap();
    assert_eq!(deleted, 1);
    assert_eq!(
        store.user_reports(&query(project_id)).await.unwrap(),
        vec![new]
    );
}

pub async fn reports_before_their_event_are_linked_to_its_issue(stores: &Stores) {
    let (_, project_id) = project(stores).await;
    let (_, other_project) = project(stores).await;
    let store = &stores.metadata;
    let early = report(project_id, 100.0, "sent before the event");
    let linked = UserReport {
        issue_id: Some(IssueId(1)),
        ..report(project_id, 110.0, "already linked")
    };
    store.upsert_user_report(&early).await.unwrap();
    store.upsert_user_report(&linked).await.unwrap();
    let early_event = early.event_id.unwrap();
    let changed = store
        .link_user_reports(&[
            (project_id, early_event, IssueId(9)),
            (project_id, linked.event_id.unwrap(), IssueId(9)),
            (other_project, early_event, IssueId(10)),
        ])
        .await
        .unwrap();
    assert_eq!(
        changed, 1,
        "only the unlinked report of the project changes"
    );
    let reports = store.user_reports(&query(project_id)).await.unwrap();
    let issues: Vec<Option<IssueId>> = reports.iter().map(|r| r.issue_id).collect();
    assert_eq!(issues, vec![Some(IssueId(1)), Some(IssueId(9))]);
    assert_eq!(store.link_user_reports(&[]).await.unwrap(), 0);
}
