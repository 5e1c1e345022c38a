//! Issue counters stay exact, one event is counted once, and an alert
//! rule fires once, when several tasks (and, for a server backend, several
//! connection pools) write at once.

use sentry_core::store::{IssueChange, IssueQuery, MetadataStore};
use sentry_store::{AnyMetadataStore, open_metadata};

use super::alert_rules::concurrent_claims_win_once;
use super::{issue_event, unique};

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
                    ids.push(metadata.record_issue_event(&event).await.unwrap().issue.id);
                }
                for round in 0..NEW_ISSUES {
                    let hash = format!("new-{round}");
                    let event = issue_event(project_id, &hash, round as f64, None);
                    ids.push(metadata.record_issue_event(&event).await.unwrap().issue.id);
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
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_concurrent_recording() {
    let url = super::postgres_url();
    // Two pools, as two server processes would have, opened (and so
    // migrated) at the same time.
    let (first, second) = tokio::join!(open_metadata(&url), open_metadata(&url));
    concurrent_recording_is_exact(&[first.unwrap(), second.unwrap()]).await;
}

/// Files one event from 8 tasks at once (an SDK's retry that reached
/// several nodes): one count, one issue, the same change for every task.
async fn concurrent_filings_of_one_event_count_once(handles: &[AnyMetadataStore]) {
    let project_id = new_project(handles).await;
    let event = issue_event(project_id, "retried", 1.0, Some("id:1"));
    let tasks: Vec<_> = (0..8)
        .map(|task| {
            let metadata = handles[task % handles.len()].clone();
            let event = event.clone();
            tokio::spawn(async move { metadata.record_issue_event(&event).await.unwrap() })
        })
        .collect();
    let mut filings = Vec::new();
    for task in tasks {
        filings.push(task.await.unwrap());
    }
    for filed in &filings {
        assert_eq!(filed.issue.id, filings[0].issue.id);
        assert_eq!(filed.change, IssueChange::Created);
    }
    let issue = handles[0]
        .issue(filings[0].issue.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((issue.times_seen, issue.user_count), (1, 1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_concurrent_filings_of_one_event() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("metadata.sqlite").display());
    let handles = [
        open_metadata(&url).await.unwrap(),
        open_metadata(&url).await.unwrap(),
    ];
    concurrent_filings_of_one_event_count_once(&handles).await;
}

#[cfg(feature = "postgres")]
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_concurrent_filings_of_one_event() {
    let url = super::postgres_url();
    let (first, second) = tokio::join!(open_metadata(&url), open_metadata(&url));
    concurrent_filings_of_one_event_count_once(&[first.unwrap(), second.unwrap()]).await;
}

/// A project of its own, made through the first handle.
async fn new_project(handles: &[AnyMetadataStore]) -> sentry_core::ProjectId {
    let org = handles[0]
        .ensure_organization(&unique("org"))
        .await
        .unwrap();
    handles[0]
        .ensure_project(org.id, &unique("project"))
        .await
        .unwrap()
        .id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_rule_claims_race() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("metadata.sqlite").display());
    // Two handles on one file, as two server processes would have.
    let handles = [
        open_metadata(&url).await.unwrap(),
        open_metadata(&url).await.unwrap(),
    ];
    let project_id = new_project(&handles).await;
    concurrent_claims_win_once(&handles, project_id).await;
}

#[cfg(feature = "postgres")]
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_rule_claims_race() {
    let url = super::postgres_url();
    let (first, second) = tokio::join!(open_metadata(&url), open_metadata(&url));
    let handles = [first.unwrap(), second.unwrap()];
    let project_id = new_project(&handles).await;
    concurrent_claims_win_once(&handles, project_id).await;
}
