//! Behaviours of the metadata store.

use sentry_core::protocol::Timestamp;
use sentry_core::store::{
    ApiToken, IssueChange, IssueEvent, IssueQuery, IssueStatus, IssueStatusChange, KeyRecord,
    MetadataStore,
};
use sentry_core::{EventId, GroupingHash, IssueId, ProjectKey};

use super::{Stores, issue_event, project, unique};

pub async fn ensure_is_idempotent(stores: &Stores) {
    let slug = unique("org");
    let first = stores.metadata.ensure_organization(&slug).await.unwrap();
    let second = stores.metadata.ensure_organization(&slug).await.unwrap();
    assert_eq!(first, second);
    let project = stores
        .metadata
        .ensure_project(first.id, "web")
        .await
        .unwrap();
    assert_eq!(
        stores
            .metadata
            .ensure_project(first.id, "web")
            .await
            .unwrap(),
        project
    );
    assert_eq!(
        stores.metadata.projects(first.id).await.unwrap(),
        vec![project.clone()]
    );
    assert_eq!(
        stores.metadata.project(project.id).await.unwrap(),
        Some(project)
    );
}

pub async fn same_hash_joins_existing_issue(stores: &Stores) {
    let (_, project_id) = project(stores).await;
    let first = stores
        .metadata
        .record_issue_event(&issue_event(project_id, "a", 100.0, None))
        .await
        .unwrap()
        .issue;
    let second = stores
        .metadata
        .record_issue_event(&issue_event(project_id, "a", 50.0, None))
        .await
        .unwrap()
        .issue;
    assert_eq!(first.id, second.id);
    assert_eq!(second.times_seen, 2);
    assert_eq!(second.first_seen.as_unix_seconds(), 50.0);
    assert_eq!(second.last_seen.as_unix_seconds(), 100.0);
    assert_eq!(
        second.culprit, "culprit 100",
        "culprit follows the latest event"
    );
    let newer = IssueEvent {
        title: "Newer title".to_owned(),
        ..issue_event(project_id, "a", 200.0, None)
    };
    let third = stores
        .metadata
        .record_issue_event(&newer)
        .await
        .unwrap()
        .issue;
    assert_eq!(third.title, "Newer title", "title follows the latest event");
    let other = stores
        .metadata
        .record_issue_event(&issue_event(project_id, "b", 10.0, None))
        .await
        .unwrap()
        .issue;
    assert_ne!(other.id, first.id);
    assert_eq!(other.short_number, first.short_number + 1);
    let older = IssueEvent {
        title: "Older title".to_owned(),
        ..issue_event(project_id, "a", 1.0, None)
    };
    let fourth = stores
        .metadata
        .record_issue_event(&older)
        .await
        .unwrap()
        .issue;
    assert_eq!(
        fourth.title, "Newer title",
        "an older event does not change the title"
    );
}

pub async fn counts_distinct_users(stores: &Stores) {
    let (_, project_id) = project(stores).await;
    for user in [Some("id:1"), Some("id:2"), Some("id:1"), None] {
        stores
            .metadata
            .record_issue_event(&issue_event(project_id, "u", 1.0, user))
            .await
            .unwrap();
    }
    let page = stores
        .metadata
        .list_issues(&IssueQuery {
            project_ids: vec![project_id],
            limit: 10,
            ..IssueQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(page.items[0].user_count, 2);
    assert_eq!(page.items[0].times_seen, 4);
}

pub async fn projects_never_share_issues(stores: &Stores) {
    let (_, a) = project(stores).await;
    let (_, b) = project(stores).await;
    let in_a = stores
        .metadata
        .record_issue_event(&issue_event(a, "same", 1.0, None))
        .await
        .unwrap()
        .issue;
    let in_b = stores
        .metadata
        .record_issue_event(&issue_event(b, "same", 1.0, None))
        .await
        .unwrap()
        .issue;
    assert_ne!(in_a.id, in_b.id);
    assert_eq!(in_b.times_seen, 1);
}

pub async fn lists_issues_by_last_seen_with_pages(stores: &Stores) {
    let (_, project_id) = project(stores).await;
    for (index, hash) in ["p1", "p2", "p3"].iter().enumerate() {
        stores
            .metadata
            .record_issue_event(&issue_event(project_id, hash, index as f64, None))
            .await
            .unwrap();
    }
    let query = IssueQuery {
        project_ids: vec![project_id],
        limit: 2,
        ..IssueQuery::default()
    };
    let first = stores.metadata.list_issues(&query).await.unwrap();
    assert!(first.has_more);
    let titles: Vec<_> = first
        .items
        .iter()
        .map(|issue| issue.title.as_str())
        .collect();
    assert_eq!(titles, ["Error p3", "Error p2"]);
    let second = stores
        .metadata
        .list_issues(&IssueQuery { offset: 2, ..query })
        .await
        .unwrap();
    assert!(!second.has_more);
    assert_eq!(second.items[0].title, "Error p1");
}

pub async fn filters_by_status_and_text(stores: &Stores) {
    let (_, project_id) = project(stores).await;
    let kept = stores
        .metadata
        .record_issue_event(&issue_event(project_id, "needle_1", 1.0, None))
        .await
        .unwrap()
        .issue;
    let resolved = stores
        .metadata
        .record_issue_event(&issue_event(project_id, "hay", 2.0, None))
        .await
        .unwrap()
        .issue;
    stores
        .metadata
        .set_issue_status(resolved.id, &IssueStatusChange::to(IssueStatus::Resolved))
        .await
        .unwrap();
    let query = |status, text: &[&str]| IssueQuery {
        project_ids: vec![project_id],
        status,
        text: text.iter().map(|word| (*word).to_owned()).collect(),
        limit: 10,
        ..IssueQuery::default()
    };
    let unresolved = stores
        .metadata
        .list_issues(&query(Some(IssueStatus::Unresolved), &[]))
        .await
        .unwrap();
    assert_eq!(unresolved.items.len(), 1);
    assert_eq!(unresolved.items[0].id, kept.id);
    let all = stores
        .metadata
        .list_issues(&query(None, &[]))
        .await
        .unwrap();
    assert_eq!(all.items.len(), 2);
    let text = stores
        .metadata
        .list_issues(&query(None, &["NEEDLE_1"]))
        .await
        .unwrap();
    assert_eq!(text.items.len(), 1);
    let wildcard = stores
        .metadata
        .list_issues(&query(None, &["needle%"]))
        .await
        .unwrap();
    assert!(
        wildcard.items.is_empty(),
        "LIKE wildcards in search text are literal"
    );
}

pub async fn new_event_reopens_resolved_issue(stores: &Stores) {
    let (_, project_id) = project(stores).await;
    let issue = stores
        .metadata
        .record_issue_event(&issue_event(project_id, "r", 1.0, None))
        .await
        .unwrap()
        .issue;
    let resolved = stores
        .metadata
        .set_issue_status(issue.id, &IssueStatusChange::to(IssueStatus::Resolved))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(resolved.status, IssueStatus::Resolved);
    let again = stores
        .metadata
        .record_issue_event(&issue_event(project_id, "r", 2.0, None))
        .await
        .unwrap()
        .issue;
    assert_eq!(again.status, IssueStatus::Unresolved);
    assert_eq!(
        stores
            .metadata
            .set_issue_status(
                IssueId(i64::MAX),
                &IssueStatusChange::to(IssueStatus::Resolved)
            )
            .await
            .unwrap(),
        None
    );
}

pub async fn keys_and_tokens_are_found(stores: &Stores) {
    let (org_id, project_id) = project(stores).await;
    let public_key = ProjectKey::from_random_bytes(*EventId::new_random().as_bytes());
    let key = KeyRecord {
        public_key: public_key.clone(),
        project_id,
        label: "Default".to_owned(),
        is_active: true,
        date_created: Timestamp::now(),
    };
    stores.metadata.insert_key(&key).await.unwrap();
    let found = stores.metadata.key(&public_key).await.unwrap().unwrap();
    assert_eq!(found.project_id, project_id);
    assert_eq!(
        stores
            .metadata
            .project_keys(project_id)
            .await
            .unwrap()
            .len(),
        1
    );
    let token = ApiToken {
        token: unique("sntryu"),
        org_id,
        scopes: vec!["org:read".to_owned(), "project:read".to_owned()],
        name: "test".to_owned(),
        date_created: Timestamp::now(),
    };
    stores.metadata.insert_token(&token).await.unwrap();
    let found = stores.metadata.token(&token.token).await.unwrap().unwrap();
    assert!(found.has_scope("project:read"));
    assert!(!found.has_scope("project:write"));
    assert_eq!(stores.metadata.org_tokens(org_id).await.unwrap().len(), 1);
    assert_eq!(stores.metadata.token("nope").await.unwrap(), None);
}

pub async fn secondary_hashes_find_the_issue(stores: &Stores) {
    let (_, project_id) = project(stores).await;
    let hash = |text: &str| GroupingHash::from_values([text]);
    let first = IssueEvent {
        hashes: vec![hash("app-1"), hash("system")],
        ..issue_event(project_id, "ignored", 1.0, None)
    };
    let issue = stores
        .metadata
        .record_issue_event(&first)
        .await
        .unwrap()
        .issue;
    // A later event whose primary hash is new but whose system hash is known joins it.
    let second = IssueEvent {
        hashes: vec![hash("app-2"), hash("system")],
        ..issue_event(project_id, "ignored", 2.0, None)
    };
    let joined = stores
        .metadata
        .record_issue_event(&second)
        .await
        .unwrap()
        .issue;
    assert_eq!(joined.id, issue.id);
    assert_eq!(joined.times_seen, 2);
    // And its new hash now names the issue too.
    let third = IssueEvent {
        hashes: vec![hash("app-2")],
        ..issue_event(project_id, "ignored", 3.0, None)
    };
    assert_eq!(
        stores
            .metadata
            .record_issue_event(&third)
            .await
            .unwrap()
            .issue
            .id,
        issue.id
    );
}

pub async fn project_options_are_kept(stores: &Stores) {
    let (_, project_id) = project(stores).await;
    let key = "fingerprintingRules";
    assert_eq!(
        stores
            .metadata
            .project_option(project_id, key)
            .await
            .unwrap(),
        None
    );
    stores
        .metadata
        .set_project_option(project_id, key, Some("a -> b"))
        .await
        .unwrap();
    stores
        .metadata
        .set_project_option(project_id, key, Some("c -> d"))
        .await
        .unwrap();
    assert_eq!(
        stores
            .metadata
            .project_option(project_id, key)
            .await
            .unwrap()
            .as_deref(),
        Some("c -> d")
    );
    stores
        .metadata
        .set_project_option(project_id, key, None)
        .await
        .unwrap();
    assert_eq!(
        stores
            .metadata
            .project_option(project_id, key)
            .await
            .unwrap(),
        None
    );
}

pub async fn restricts_the_list_to_given_issues(stores: &Stores) {
    let (_, project_id) = project(stores).await;
    let mut ids = Vec::new();
    for (index, hash) in ["a", "b", "c"].into_iter().enumerate() {
        let event = issue_event(project_id, hash, index as f64, None);
        ids.push(
            stores
                .metadata
                .record_issue_event(&event)
                .await
                .unwrap()
                .issue
                .id,
        );
    }
    let list = |only: Option<Vec<IssueId>>| IssueQuery {
        project_ids: vec![project_id],
        ids: only,
        limit: 10,
        ..IssueQuery::default()
    };
    let found = stores
        .metadata
        .list_issues(&list(Some(vec![ids[2], ids[0], IssueId(i64::MAX)])))
        .await
        .unwrap();
    let found: Vec<IssueId> = found.items.iter().map(|issue| issue.id).collect();
    assert_eq!(found, [ids[2], ids[0]], "by last seen, unknown ids ignored");
    let none = stores
        .metadata
        .list_issues(&list(Some(Vec::new())))
        .await
        .unwrap();
    assert!(none.items.is_empty(), "an empty list matches nothing");
    let all = stores.metadata.list_issues(&list(None)).await.unwrap();
    assert_eq!(all.items.len(), 3);
    // Another project's issue is not listed even when named.
    let (_, other_project) = project(stores).await;
    let other = stores
        .metadata
        .record_issue_event(&issue_event(other_project, "a", 1.0, None))
        .await
        .unwrap()
        .issue;
    let crossed = stores
        .metadata
        .list_issues(&list(Some(vec![other.id])))
        .await
        .unwrap();
    assert!(crossed.items.is_empty());
}

pub async fn filing_an_event_again_counts_nothing(stores: &Stores) {
    let (_, project_id) = project(stores).await;
    let event = issue_event(project_id, "again", 10.0, Some("id:1"));
    let first = stores.metadata.record_issue_event(&event).await.unwrap();
    assert_eq!(first.change, IssueChange::Created);
    let later = issue_event(project_id, "again", 20.0, Some("id:2"));
    stores.metadata.record_issue_event(&later).await.unwrap();
    // Filed again, as after a crash before the batch's events were stored.
    let again = stores.metadata.record_issue_event(&event).await.unwrap();
    assert_eq!(again.issue.id, first.issue.id);
    assert_eq!(
        again.change,
        IssueChange::Created,
        "the change of the first filing"
    );
    assert_eq!(again.issue.times_seen, 2, "counted once");
    assert_eq!(again.issue.user_count, 2);
    // Once stored and forgotten, the same id is an event like any other
    // (the event store is what recognizes it from then on).
    stores
        .metadata
        .forget_filed_events(&[(project_id, event.event_id), (project_id, later.event_id)])
        .await
        .unwrap();
    let after = stores.metadata.record_issue_event(&event).await.unwrap();
    assert_eq!(after.change, IssueChange::Counted);
    assert_eq!(after.issue.times_seen, 3);
    // Forgetting nothing, or what was never filed, is no error.
    stores.metadata.forget_filed_events(&[]).await.unwrap();
    stores
        .metadata
        .forget_filed_events(&[(project_id, EventId::new_random())])
        .await
        .unwrap();
}

pub async fn an_event_filed_under_a_deleted_issue_is_filed_anew(stores: &Stores) {
    let (_, project_id) = project(stores).await;
    let event = issue_event(project_id, "deleted", 10.0, None);
    let first = stores.metadata.record_issue_event(&event).await.unwrap();
    assert_eq!(
        stores
            .metadata
            .delete_issues(&[first.issue.id])
            .await
            .unwrap(),
        1
    );
    let again = stores.metadata.record_issue_event(&event).await.unwrap();
    assert_ne!(again.issue.id, first.issue.id);
    assert_eq!(again.change, IssueChange::Created);
    assert_eq!(again.issue.times_seen, 1);
    let third = stores.metadata.record_issue_event(&event).await.unwrap();
    assert_eq!(
        (third.issue.id, third.issue.times_seen),
        (again.issue.id, 1)
    );
}

pub async fn periodic_jobs_run_once_per_interval(stores: &Stores) {
    let job = unique("job");
    let hour = std::time::Duration::from_secs(3600);
    let at = |seconds: f64| Timestamp::from_unix_seconds(seconds).unwrap();
    let claim = |seconds: f64| stores.metadata.claim_job_run(&job, at(seconds), hour);
    assert!(claim(10_000.0).await.unwrap(), "a job that never ran");
    assert!(!claim(10_000.0).await.unwrap(), "claimed already");
    assert!(!claim(13_599.0).await.unwrap(), "within the interval");
    assert!(claim(13_600.0).await.unwrap(), "an interval later");
    assert!(!claim(14_000.0).await.unwrap());
    assert!(
        stores
            .metadata
            .claim_job_run(&unique("job"), at(14_000.0), hour)
            .await
            .unwrap(),
        "jobs are claimed apart"
    );
    // Concurrent claims of one run: one wins.
    let racing = futures_util::future::join_all(
        (0..8).map(|_| stores.metadata.claim_job_run(&job, at(20_000.0), hour)),
    )
    .await;
    let won = racing
        .into_iter()
        .filter(|won| *won.as_ref().unwrap())
        .count();
    assert_eq!(won, 1);
}
