//! One suite of storage behaviours that every backend passes. Each case makes
//! its own organization and project, so cases can share a database.

use sentry_core::protocol::{Level, Timestamp};
use sentry_core::store::{
    ApiToken, EventPick, EventStore, IssueEvent, IssueQuery, IssueStatus, KeyRecord, MetadataStore,
    StoredEvent,
};
use sentry_core::summary::EventMetadata;
use sentry_core::{EventId, GroupingHash, IssueId, OrgId, ProjectId, ProjectKey};
use sentry_store::{AnyEventStore, AnyMetadataStore, open_events, open_metadata};

struct Stores {
    metadata: AnyMetadataStore,
    events: AnyEventStore,
}

fn unique(prefix: &str) -> String {
    format!("{prefix}-{}", EventId::new_random())
}

async fn project(stores: &Stores) -> (OrgId, ProjectId) {
    let org = stores
        .metadata
        .ensure_organization(&unique("org"))
        .await
        .unwrap();
    let project = stores
        .metadata
        .ensure_project(org.id, &unique("project"))
        .await
        .unwrap();
    (org.id, project.id)
}

fn issue_event(project_id: ProjectId, hash: &str, seconds: f64, user: Option<&str>) -> IssueEvent {
    IssueEvent {
        project_id,
        hashes: vec![GroupingHash::from_values([hash])],
        grouping_config: "test".to_owned(),
        title: format!("Error {hash}"),
        culprit: format!("culprit {seconds}"),
        level: Level::Error,
        ty: "error".to_owned(),
        platform: "python".to_owned(),
        metadata: EventMetadata::default(),
        timestamp: Timestamp::from_unix_seconds(seconds).unwrap(),
        user: user.map(str::to_owned),
    }
}

fn stored_event(project_id: ProjectId, issue_id: IssueId, seconds: f64) -> StoredEvent {
    StoredEvent {
        project_id,
        event_id: EventId::new_random(),
        issue_id,
        timestamp: Timestamp::from_unix_seconds(seconds).unwrap(),
        received: Timestamp::from_unix_seconds(seconds + 1.0).unwrap(),
        hash: GroupingHash::from_values(["x"]),
        grouping_config: "test".to_owned(),
        payload: format!("{{\"seconds\":{seconds}}}").into_bytes(),
    }
}

async fn conformance(stores: &Stores) {
    ensure_is_idempotent(stores).await;
    same_hash_joins_existing_issue(stores).await;
    counts_distinct_users(stores).await;
    projects_never_share_issues(stores).await;
    lists_issues_by_last_seen_with_pages(stores).await;
    filters_by_status_and_text(stores).await;
    new_event_reopens_resolved_issue(stores).await;
    keys_and_tokens_are_found(stores).await;
    secondary_hashes_find_the_issue(stores).await;
    project_options_are_kept(stores).await;
    stores_events_once_and_picks_latest_and_oldest(stores).await;
}

async fn ensure_is_idempotent(stores: &Stores) {
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

async fn same_hash_joins_existing_issue(stores: &Stores) {
    let (_, project_id) = project(stores).await;
    let first = stores
        .metadata
        .record_issue_event(&issue_event(project_id, "a", 100.0, None))
        .await
        .unwrap();
    let second = stores
        .metadata
        .record_issue_event(&issue_event(project_id, "a", 50.0, None))
        .await
        .unwrap();
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
    let third = stores.metadata.record_issue_event(&newer).await.unwrap();
    assert_eq!(third.title, "Newer title", "title follows the latest event");
    let other = stores
        .metadata
        .record_issue_event(&issue_event(project_id, "b", 10.0, None))
        .await
        .unwrap();
    assert_ne!(other.id, first.id);
    assert_eq!(other.short_number, first.short_number + 1);
    let older = IssueEvent {
        title: "Older title".to_owned(),
        ..issue_event(project_id, "a", 1.0, None)
    };
    let fourth = stores.metadata.record_issue_event(&older).await.unwrap();
    assert_eq!(
        fourth.title, "Newer title",
        "an older event does not change the title"
    );
}

async fn counts_distinct_users(stores: &Stores) {
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

async fn projects_never_share_issues(stores: &Stores) {
    let (_, a) = project(stores).await;
    let (_, b) = project(stores).await;
    let in_a = stores
        .metadata
        .record_issue_event(&issue_event(a, "same", 1.0, None))
        .await
        .unwrap();
    let in_b = stores
        .metadata
        .record_issue_event(&issue_event(b, "same", 1.0, None))
        .await
        .unwrap();
    assert_ne!(in_a.id, in_b.id);
    assert_eq!(in_b.times_seen, 1);
}

async fn lists_issues_by_last_seen_with_pages(stores: &Stores) {
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

async fn filters_by_status_and_text(stores: &Stores) {
    let (_, project_id) = project(stores).await;
    let kept = stores
        .metadata
        .record_issue_event(&issue_event(project_id, "needle_1", 1.0, None))
        .await
        .unwrap();
    let resolved = stores
        .metadata
        .record_issue_event(&issue_event(project_id, "hay", 2.0, None))
        .await
        .unwrap();
    stores
        .metadata
        .set_issue_status(resolved.id, IssueStatus::Resolved)
        .await
        .unwrap();
    let query = |status, text: &[&str]| IssueQuery {
        project_ids: vec![project_id],
        status,
        text: text.iter().map(|word| (*word).to_owned()).collect(),
        limit: 10,
        offset: 0,
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

async fn new_event_reopens_resolved_issue(stores: &Stores) {
    let (_, project_id) = project(stores).await;
    let issue = stores
        .metadata
        .record_issue_event(&issue_event(project_id, "r", 1.0, None))
        .await
        .unwrap();
    let resolved = stores
        .metadata
        .set_issue_status(issue.id, IssueStatus::Resolved)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(resolved.status, IssueStatus::Resolved);
    let again = stores
        .metadata
        .record_issue_event(&issue_event(project_id, "r", 2.0, None))
        .await
        .unwrap();
    assert_eq!(again.status, IssueStatus::Unresolved);
    assert_eq!(
        stores
            .metadata
            .set_issue_status(IssueId(i64::MAX), IssueStatus::Resolved)
            .await
            .unwrap(),
        None
    );
}

async fn keys_and_tokens_are_found(stores: &Stores) {
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

async fn stores_events_once_and_picks_latest_and_oldest(stores: &Stores) {
    let (_, project_id) = project(stores).await;
    let issue = stores
        .metadata
        .record_issue_event(&issue_event(project_id, "e", 1.0, None))
        .await
        .unwrap();
    let events = [
        stored_event(project_id, issue.id, 20.0),
        stored_event(project_id, issue.id, 10.0),
        stored_event(project_id, issue.id, 30.0),
    ];
    assert_eq!(stores.events.insert_events(&events).await.unwrap(), 3);
    assert_eq!(
        stores.events.insert_events(&events[..1]).await.unwrap(),
        0,
        "duplicates are skipped"
    );
    let fetched = stores
        .events
        .event(project_id, events[0].event_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(fetched, events[0]);
    assert!(
        stores
            .events
            .has_event(project_id, events[1].event_id)
            .await
            .unwrap()
    );
    let (_, other_project) = project(stores).await;
    assert_eq!(
        stores
            .events
            .event(other_project, events[0].event_id)
            .await
            .unwrap(),
        None
    );
    let latest = stores
        .events
        .issue_event(issue.id, EventPick::Latest)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(latest.event_id, events[2].event_id);
    let oldest = stores
        .events
        .issue_event(issue.id, EventPick::Oldest)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(oldest.event_id, events[1].event_id);
}

async fn secondary_hashes_find_the_issue(stores: &Stores) {
    let (_, project_id) = project(stores).await;
    let hash = |text: &str| GroupingHash::from_values([text]);
    let first = IssueEvent {
        hashes: vec![hash("app-1"), hash("system")],
        ..issue_event(project_id, "ignored", 1.0, None)
    };
    let issue = stores.metadata.record_issue_event(&first).await.unwrap();
    // A later event whose primary hash is new but whose system hash is known joins it.
    let second = IssueEvent {
        hashes: vec![hash("app-2"), hash("system")],
        ..issue_event(project_id, "ignored", 2.0, None)
    };
    let joined = stores.metadata.record_issue_event(&second).await.unwrap();
    assert_eq!(joined.id, issue.id);
    assert_eq!(joined.times_seen, 2);
    // And its new hash now names the issue too.
    let third = IssueEvent {
        hashes: vec![hash("app-2")],
        ..issue_event(project_id, "ignored", 3.0, None)
    };
    assert_eq!(
        stores.metadata.record_issue_event(&third).await.unwrap().id,
        issue.id
    );
}

async fn project_options_are_kept(stores: &Stores) {
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

#[tokio::test]
async fn sqlite_in_memory() {
    let stores = Stores {
        metadata: open_metadata("sqlite::memory:").await.unwrap(),
        events: open_events("sqlite::memory:").await.unwrap(),
    };
    conformance(&stores).await;
}

#[tokio::test]
async fn sqlite_files() {
    let dir = tempfile::tempdir().unwrap();
    let metadata_url = format!("sqlite://{}", dir.path().join("metadata.sqlite").display());
    let events_url = format!("sqlite://{}", dir.path().join("events.sqlite").display());
    let stores = Stores {
        metadata: open_metadata(&metadata_url).await.unwrap(),
        events: open_events(&events_url).await.unwrap(),
    };
    conformance(&stores).await;
    drop(stores);
    // Reopening runs no migration twice and keeps the data.
    let metadata = open_metadata(&metadata_url).await.unwrap();
    let org = metadata.ensure_organization("reopened").await.unwrap();
    assert!(metadata.organization(org.id).await.unwrap().is_some());
}

/// Records 8 × 50 events of one hash from 8 tasks at once, spread over the
/// store handles (for a server backend, separate pools stand in for
/// separate processes), then 8 events of each of 25 new hashes, every task
/// racing to create the same issues.
async fn concurrent_recording_is_exact(handles: &[AnyMetadataStore]) {
    const TASKS: usize = 8;
    const EVENTS: usize = 50;
    const NEW_ISSUES: usize = 25;
    let org = handles[0]
        .ensure_organization(&unique("org"))
        .await
        .unwrap();
    let project_id = handles[0]
        .ensure_project(org.id, &unique("project"))
        .await
        .unwrap()
        .id;
    let started = std::time::Instant::now();
    let tasks: Vec<_> = (0..TASKS)
        .map(|task| {
            let metadata = handles[task % handles.len()].clone();
            tokio::spawn(async move {
                let mut ids = Vec::new();
                for index in 0..EVENTS {
                    let seconds = (task * EVENTS + index) as f64;
                    let user = format!("id:{task}");
                    let event = issue_event(project_id, "contended", seconds, Some(&user));
                    ids.push(metadata.record_issue_event(&event).await.unwrap().id);
                }
                for round in 0..NEW_ISSUES {
                    let hash = format!("new-{round}");
                    let event = issue_event(project_id, &hash, round as f64, None);
                    ids.push(metadata.record_issue_event(&event).await.unwrap().id);
                }
                ids
            })
        })
        .collect();
    let mut ids = Vec::new();
    for task in tasks {
        ids.push(task.await.unwrap());
    }
    let elapsed = started.elapsed();
    let contended = ids[0][0];
    assert!(
        ids.iter()
            .all(|ids| ids[..EVENTS].iter().all(|id| *id == contended))
    );
    let issue = handles[0].issue(contended).await.unwrap().unwrap();
    assert_eq!(issue.times_seen, (TASKS * EVENTS) as u64);
    assert_eq!(issue.user_count, TASKS as u64);
    assert_eq!(issue.first_seen.as_unix_seconds(), 0.0);
    assert_eq!(
        issue.last_seen.as_unix_seconds(),
        (TASKS * EVENTS - 1) as f64
    );
    let page = handles[0]
        .list_issues(&IssueQuery {
            project_ids: vec![project_id],
            limit: 100,
            ..IssueQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(page.items.len(), 1 + NEW_ISSUES, "one issue per hash");
    let mut short_numbers: Vec<u64> = page.items.iter().map(|issue| issue.short_number).collect();
    short_numbers.sort_unstable();
    assert_eq!(
        short_numbers,
        (1..=(1 + NEW_ISSUES) as u64).collect::<Vec<_>>()
    );
    for issue in &page.items {
        if issue.id != contended {
            assert_eq!(issue.times_seen, TASKS as u64, "{}", issue.title);
        }
    }
    eprintln!(
        "{} events from {TASKS} tasks over {} handle(s) in {elapsed:.2?}: times_seen {}, {} issues",
        TASKS * (EVENTS + NEW_ISSUES),
        handles.len(),
        issue.times_seen,
        page.items.len()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_concurrent_recording() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("metadata.sqlite").display());
    let metadata = open_metadata(&url).await.unwrap();
    concurrent_recording_is_exact(&[metadata]).await;
}

#[cfg(feature = "postgres")]
fn postgres_url() -> String {
    std::env::var("TEST_POSTGRES_URL").unwrap_or_else(|_| {
        panic!(
            "TEST_POSTGRES_URL is not set; run the tests through scripts/test-services, \
             e.g. `scripts/test-services -- cargo test -p sentry-store --all-features`, \
             which starts a throwaway PostgreSQL server and sets it"
        )
    })
}

#[cfg(feature = "postgres")]
#[tokio::test]
async fn postgres_metadata() {
    let url = postgres_url();
    // Twice, the second time on a reopened store: migrations are idempotent
    // and every case makes its own organization and project.
    for _ in 0..2 {
        let stores = Stores {
            metadata: open_metadata(&url).await.unwrap(),
            events: open_events("sqlite::memory:").await.unwrap(),
        };
        conformance(&stores).await;
    }
}

#[cfg(feature = "postgres")]
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_concurrent_recording() {
    let url = postgres_url();
    // Two pools, as two server processes would have, opened (and so
    // migrated) at the same time.
    let (first, second) = tokio::join!(open_metadata(&url), open_metadata(&url));
    concurrent_recording_is_exact(&[first.unwrap(), second.unwrap()]).await;
}

#[cfg(feature = "postgres")]
#[tokio::test]
async fn postgres_urls_are_checked() {
    use sentry_core::store::StoreErrorKind;
    let error = open_events("postgres://u@127.0.0.1:1/db")
        .await
        .err()
        .unwrap();
    assert_eq!(error.kind(), StoreErrorKind::InvalidLocation);
    let cause = std::error::Error::source(&error).unwrap().to_string();
    assert!(cause.contains("metadata only"), "{cause}");
    let error = open_metadata("postgres://u@127.0.0.1:notaport/db")
        .await
        .err()
        .unwrap();
    assert_eq!(error.kind(), StoreErrorKind::InvalidLocation);
    // Nothing listens on port 1.
    let error = open_metadata("postgres://u@127.0.0.1:1/db")
        .await
        .err()
        .unwrap();
    assert_eq!(error.kind(), StoreErrorKind::Unavailable);
}
