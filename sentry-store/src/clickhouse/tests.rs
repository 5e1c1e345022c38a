//! Behaviours particular to ClickHouse, against a real server: the shared
//! conformance suite (`tests/it/conformance`) covers the trait itself.
//!
//! The server comes from `TEST_CLICKHOUSE_URL`, which `scripts/test-services`
//! sets. Tests use random project and issue ids, so they share the database
//! with each other and with the suite; the few that need a database of
//! their own create one and drop it.

use std::error::Error as _;
use std::sync::Arc;
use std::time::Instant;

use sentry_core::protocol::{Level, Timestamp};
use sentry_core::store::{
    EventCursor, EventFilter, EventPick, EventStore, Issue, IssueStatus, StoreErrorKind,
    StoredEvent, TagFilter,
};
use sentry_core::summary::EventMetadata;
use sentry_core::{EventId, GroupingHash, IssueId, ProjectId};
use tokio::sync::Mutex;

use super::endpoint::Endpoint;
use super::error::ChError;
use super::http::Http;
use super::rowbinary::RowReader;
use super::schema::{EVENT_IDS_TABLE, EVENTS_TABLE};
use super::sql::{event_id_literal, identifier, string_literal};
use super::{ClickhouseStore, Inner};

const DAY: i64 = 86_400_000_000;

fn url() -> String {
    std::env::var("TEST_CLICKHOUSE_URL").unwrap_or_else(|_| {
        panic!(
            "TEST_CLICKHOUSE_URL is not set; run the tests through scripts/test-services, e.g. \
             `TEST_SERVICES=clickhouse scripts/test-services -- cargo test -p sentry-store \
             --features clickhouse`, which starts a throwaway ClickHouse server and sets it"
        )
    })
}

/// The test server's URL with another database.
fn url_with_database(database: &str) -> String {
    let url = url();
    let (server, _) = url.rsplit_once('/').expect("a url with a database");
    format!("{server}/{database}")
}

/// A database name no other test uses.
fn unique_database(prefix: &str) -> String {
    format!("{prefix}_{}", EventId::new_random().as_uuid().simple())
}

async fn open() -> ClickhouseStore {
    ClickhouseStore::open(&url()).await.unwrap()
}

async fn drop_database(store: &ClickhouseStore) {
    let inner = &store.inner;
    inner
        .http
        .execute(&format!("DROP DATABASE {}", identifier(&inner.database)))
        .await
        .unwrap();
}

/// The same store, sending `settings` with every statement.
fn with_settings(store: &ClickhouseStore, settings: &[(&str, &str)]) -> ClickhouseStore {
    let inner = &store.inner;
    ClickhouseStore {
        inner: Arc::new(Inner {
            http: inner.http.with_settings(settings),
            database: inner.database.clone(),
            events: inner.events.clone(),
            event_ids: inner.event_ids.clone(),
            insert_lock: Mutex::new(()),
        }),
    }
}

/// Counts the rows of a table of the store's database that match a
/// condition, duplicates not merged yet included.
async fn count_rows(store: &ClickhouseStore, table: &str, condition: &str) -> u64 {
    let inner = &store.inner;
    let answer = inner
        .http
        .select(&format!(
            "SELECT toUInt64(count()) FROM {}.{} WHERE {condition} FORMAT RowBinary",
            identifier(&inner.database),
            identifier(table)
        ))
        .await
        .unwrap();
    RowReader::new(&answer).u64().unwrap()
}

/// The id rows of a project.
async fn id_rows(store: &ClickhouseStore, project: ProjectId) -> u64 {
    count_rows(
        store,
        EVENT_IDS_TABLE,
        &format!("project_id = {}", project.0),
    )
    .await
}

/// Ids far above what the suite's metadata stores hand out.
fn random_project() -> ProjectId {
    let bytes = EventId::new_random().as_bytes()[..8].try_into().unwrap();
    ProjectId(u64::from_le_bytes(bytes) | (1 << 62))
}

fn random_issue() -> IssueId {
    let bytes = EventId::new_random().as_bytes()[..8].try_into().unwrap();
    IssueId(i64::from_le_bytes(bytes))
}

/// The record the metadata store holds of an issue seen from `first` to
/// `last` (microseconds).
fn issue_seen(project_id: ProjectId, id: IssueId, first: i64, last: i64) -> Issue {
    Issue {
        id,
        project_id,
        short_number: 1,
        title: "Error".to_owned(),
        culprit: String::new(),
        level: Level::Error,
        ty: "error".to_owned(),
        platform: "python".to_owned(),
        metadata: EventMetadata::default(),
        status: IssueStatus::Unresolved,
        substatus: None,
        status_details: Default::default(),
        first_seen: at_micros(first),
        last_seen: at_micros(last),
        times_seen: 1,
        user_count: 0,
        grouping_config: String::new(),
    }
}

fn at_micros(micros: i64) -> Timestamp {
    Timestamp::from_unix_micros(micros).unwrap()
}

fn event(
    project_id: ProjectId,
    issue_id: IssueId,
    micros: i64,
    tags: &[(&str, &str)],
) -> StoredEvent {
    StoredEvent {
        project_id,
        event_id: EventId::new_random(),
        issue_id,
        timestamp: at_micros(micros),
        received: at_micros(micros + 1),
        hash: GroupingHash::from_values(["h"]),
        grouping_config: "test".to_owned(),
        tags: tags
            .iter()
            .map(|(key, value)| ((*key).to_owned(), (*value).to_owned()))
            .collect(),
        payload: format!("{{\"at\":{micros}}}").into_bytes(),
    }
}

fn tag(key: &str, value: &str, negated: bool) -> TagFilter {
    TagFilter {
        key: key.to_owned(),
        value: Some(value.to_owned()),
        negated,
    }
}

fn hostile_strings() -> Vec<String> {
    let mut strings: Vec<String> = [
        "it's",
        "''",
        "\\",
        "\\'",
        "\\N",
        "\\x41",
        "\\0",
        "NULL",
        "-- comment",
        "/* comment */",
        "'; DROP TABLE events; --",
        "100%",
        "_",
        "%_%",
        "`backtick`",
        "\"double\"",
        "{\"json\": [1]}",
        "ünïcødé 🦀 中文 \u{200b}\u{feff}",
        "",
    ]
    .into_iter()
    .map(str::to_owned)
    .collect();
    strings.push((0u8..=0x7f).map(char::from).collect());
    strings.push("'\\".repeat(50_000));
    // Twice this (key and value) is more than `max_query_size` (256 KiB).
    strings.push("ü".repeat(100_000));
    strings
}

#[tokio::test]
async fn string_literals_reach_the_server_unchanged() {
    let store = open().await;
    for value in hostile_strings() {
        let answer = store
            .inner
            .http
            .select(&format!(
                "SELECT {} FORMAT RowBinary",
                string_literal(&value)
            ))
            .await
            .unwrap();
        let mut reader = RowReader::new(&answer);
        assert_eq!(reader.string().unwrap(), value);
        assert!(reader.is_empty());
    }
}

#[tokio::test]
async fn hostile_tags_round_trip_and_match_exactly() {
    let store = open().await;
    let project = random_project();
    let issue = random_issue();
    let strings = hostile_strings();
    let events: Vec<StoredEvent> = strings
        .iter()
        .enumerate()
        .map(|(index, value)| {
            let mut event = event(project, issue, index as i64, &[(value, value), ("n", "1")]);
            event.payload = value.as_bytes().iter().copied().chain(0..=255).collect();
            event.grouping_config = value.clone();
            event
        })
        .collect();
    assert_eq!(
        store.insert_events(&events).await.unwrap(),
        events.len() as u64
    );
    for (value, event) in strings.iter().zip(&events) {
        assert_eq!(
            store.event(project, event.event_id).await.unwrap().as_ref(),
            Some(event)
        );
        let filter = EventFilter {
            tags: vec![tag(value, value, false)],
            ..EventFilter::projects([project])
        };
        let page = store.list_events(&filter, None, 100).await.unwrap();
        let found: Vec<EventId> = page.items.iter().map(|e| e.event_id).collect();
        assert_eq!(
            found,
            [event.event_id],
            "{:?}",
            &value[..value.len().min(40)]
        );
        let negated = EventFilter {
            tags: vec![tag(value, value, true)],
            ..EventFilter::projects([project])
        };
        assert_eq!(
            store.count_events(&negated).await.unwrap().events,
            events.len() as u64 - 1
        );
        let facets = store
            .tag_facets(
                &EventFilter::projects([project]),
                std::slice::from_ref(value),
                5,
            )
            .await
            .unwrap();
        assert_eq!(facets.len(), 1);
        assert_eq!(&facets[0].top[0].value, value);
    }
    // `%` and `_` are not wildcards.
    let wildcard = EventFilter {
        tags: vec![tag("%", "%", false)],
        ..EventFilter::projects([project])
    };
    assert_eq!(store.count_events(&wildcard).await.unwrap().events, 0);
}

#[tokio::test]
async fn opens_concurrently_and_again() {
    let database = unique_database("open_race");
    let url = url_with_database(&database);
    let opened = futures_join_all((0..6).map(|_| {
        let url = url.clone();
        async move { ClickhouseStore::open(&url).await }
    }))
    .await;
    let stores: Vec<ClickhouseStore> = opened.into_iter().map(Result::unwrap).collect();
    let project = random_project();
    let events = [event(project, random_issue(), 5, &[])];
    assert_eq!(stores[0].insert_events(&events).await.unwrap(), 1);
    let reopened = ClickhouseStore::open(&url).await.unwrap();
    assert!(
        reopened
            .has_event(project, events[0].event_id)
            .await
            .unwrap()
    );
    drop_database(&reopened).await;
}

/// Awaits futures concurrently, without a dependency on `futures`.
async fn futures_join_all<F: std::future::Future + Send + 'static>(
    futures: impl IntoIterator<Item = F>,
) -> Vec<F::Output>
where
    F::Output: Send + 'static,
{
    let handles: Vec<_> = futures.into_iter().map(tokio::spawn).collect();
    let mut outputs = Vec::new();
    for handle in handles {
        outputs.push(handle.await.unwrap());
    }
    outputs
}

#[tokio::test]
async fn refuses_a_table_of_another_layout() {
    let database = unique_database("layout");
    let endpoint = Endpoint::parse(&url_with_database(&database)).unwrap();
    let http = Http::new(&endpoint).unwrap();
    let quoted = identifier(&database);
    http.execute(&format!("CREATE DATABASE {quoted}"))
        .await
        .unwrap();
    http.execute(&format!(
        "CREATE TABLE {quoted}.events (project_id UInt64, event_id String, date Date) \
         ENGINE = MergeTree() PARTITION BY date ORDER BY project_id"
    ))
    .await
    .unwrap();
    let error = ClickhouseStore::open(&url_with_database(&database))
        .await
        .err()
        .unwrap();
    http.execute(&format!("DROP DATABASE {quoted}"))
        .await
        .unwrap();
    assert_eq!(error.kind(), StoreErrorKind::Corrupt);
    let message = error.source().unwrap().to_string();
    assert!(message.contains("unknown layout"), "{message}");
}

#[tokio::test]
async fn refuses_an_id_table_of_another_layout() {
    let database = unique_database("ids_layout");
    let url = url_with_database(&database);
    let store = ClickhouseStore::open(&url).await.unwrap();
    let ids = format!("{}.{}", identifier(&database), identifier(EVENT_IDS_TABLE));
    let http = &store.inner.http;
    http.execute(&format!("DROP TABLE {ids}")).await.unwrap();
    http.execute(&format!(
        "CREATE TABLE {ids} (project_id UInt64, event_id String, date Date) \
         ENGINE = MergeTree() PARTITION BY date ORDER BY project_id"
    ))
    .await
    .unwrap();
    let error = ClickhouseStore::open(&url).await.err().unwrap();
    drop_database(&store).await;
    assert_eq!(error.kind(), StoreErrorKind::Corrupt);
    let message = error.source().unwrap().to_string();
    assert!(message.contains("event_ids"), "{message}");
}

#[tokio::test]
async fn reports_bad_urls_and_unreachable_servers() {
    let error = ClickhouseStore::open("clickhouse://user:hunter2@127.0.0.1:1/")
        .await
        .err()
        .unwrap();
    assert_eq!(error.kind(), StoreErrorKind::InvalidLocation);
    assert!(!format!("{error:?} {}", error.source().unwrap()).contains("hunter2"));
    // Nothing listens on port 1.
    let error = ClickhouseStore::open("clickhouse://user:hunter2@127.0.0.1:1/db")
        .await
        .err()
        .unwrap();
    assert_eq!(error.kind(), StoreErrorKind::Unavailable);
    let mut chain = String::new();
    let mut cause: Option<&dyn std::error::Error> = Some(&error);
    while let Some(current) = cause {
        chain.push_str(&format!("{current} / {current:?} / "));
        cause = current.source();
    }
    assert!(!chain.contains("hunter2"), "{chain}");
}

#[tokio::test]
async fn wrong_password_is_unavailable() {
    let url = url().replacen("clickhouse://", "clickhouse://default:wrong@", 1);
    let error = ClickhouseStore::open(&url).await.err().unwrap();
    assert_eq!(error.kind(), StoreErrorKind::Unavailable);
    assert!(!error.source().unwrap().to_string().contains(":wrong"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn racing_inserts_of_one_process_store_each_event_once() {
    let store = open().await;
    let project = random_project();
    let issue = random_issue();
    let events: Vec<StoredEvent> = (0..200)
        .map(|index| event(project, issue, index, &[]))
        .collect();
    let inserted: u64 = futures_join_all((0..8).map(|_| {
        let store = store.clone();
        let events = events.clone();
        async move { store.insert_events(&events).await.unwrap() }
    }))
    .await
    .into_iter()
    .sum();
    assert_eq!(inserted, 200);
    let counts = store
        .count_events(&EventFilter::projects([project]))
        .await
        .unwrap();
    assert_eq!(counts.events, 200);
}

#[tokio::test]
async fn rows_duplicated_by_racing_processes_are_listed_once() {
    let store = open().await;
    let project = random_project();
    let issue = random_issue();
    let twice = event(project, issue, 9, &[]);
    let once = event(project, issue, 8, &[]);
    // What two processes that both found the id missing would write.
    store.inner.write(&[&twice, &once]).await.unwrap();
    store.inner.write(&[&twice]).await.unwrap();
    assert_eq!(
        store
            .insert_events(std::slice::from_ref(&twice))
            .await
            .unwrap(),
        0
    );
    let filter = EventFilter::projects([project]);
    let page = store.list_events(&filter, None, 10).await.unwrap();
    assert_eq!(page.items, [twice.clone(), once.clone()]);
    // The two copies fill the first two places; a page of one still has
    // one event and knows that another follows.
    let first = store.list_events(&filter, None, 1).await.unwrap();
    assert_eq!(
        (first.items.as_slice(), first.has_more),
        (std::slice::from_ref(&twice), true)
    );
    let second = store
        .list_events(&filter, Some(EventCursor::after(&twice)), 1)
        .await
        .unwrap();
    assert_eq!(
        (second.items.as_slice(), second.has_more),
        (std::slice::from_ref(&once), false)
    );
    let latest = store
        .issue_event(&issue_seen(project, issue, 8, 9), EventPick::Latest)
        .await
        .unwrap();
    assert_eq!(latest.as_ref(), Some(&twice));
    assert_eq!(
        store.event(project, twice.event_id).await.unwrap().as_ref(),
        Some(&twice)
    );
    assert_eq!(store.trim_events(project, 1).await.unwrap(), 1);
    assert_eq!(
        store.list_events(&filter, None, 10).await.unwrap().items,
        std::slice::from_ref(&twice)
    );
    assert_eq!(
        store
            .delete_events_before(project, at_micros(10))
            .await
            .unwrap(),
        1,
        "the duplicated event counts once, merged or not"
    );
}

#[tokio::test]
async fn a_batch_may_span_many_days() {
    // A database of its own: 250 partitions would slow every other test's
    // queries that have no time bounds.
    let database = unique_database("many_days");
    let store = ClickhouseStore::open(&url_with_database(&database))
        .await
        .unwrap();
    let project = random_project();
    let issue = random_issue();
    let base = 19_000 * DAY;
    let events: Vec<StoredEvent> = (0..250)
        .map(|index| event(project, issue, base + index * DAY + 5, &[]))
        .collect();
    assert_eq!(store.insert_events(&events).await.unwrap(), 250);
    let filter = EventFilter::projects([project]);
    let daily = store.event_series(&filter, 86_400).await.unwrap();
    assert_eq!(daily.len(), 250);
    assert!(daily.iter().all(|bucket| bucket.events == 1));
    assert_eq!(daily[0].start, at_micros(base));
    let window = EventFilter {
        start: Some(at_micros(base + 10 * DAY)),
        end: Some(at_micros(base + 20 * DAY + 5)),
        ..filter.clone()
    };
    assert_eq!(store.count_events(&window).await.unwrap().events, 10);
    drop_database(&store).await;
}

#[tokio::test]
async fn series_and_cursors_work_before_1970() {
    let store = open().await;
    let project = random_project();
    let issue = random_issue();
    let hour = 3_600_000_000;
    let events: Vec<StoredEvent> = [-2 * hour - 1, -hour - 1, -hour, -1, 0, hour]
        .into_iter()
        .map(|micros| event(project, issue, micros, &[]))
        .collect();
    store.insert_events(&events).await.unwrap();
    let filter = EventFilter::projects([project]);
    let series = store.event_series(&filter, 3600).await.unwrap();
    let buckets: Vec<(i64, u64)> = series
        .iter()
        .map(|bucket| (bucket.start.as_unix_micros(), bucket.events))
        .collect();
    assert_eq!(
        buckets,
        [
            (-3 * hour, 1),
            (-2 * hour, 1),
            (-hour, 2),
            (0, 1),
            (hour, 1)
        ]
    );
    let mut listed = Vec::new();
    let mut cursor: Option<EventCursor> = None;
    loop {
        let page = store.list_events(&filter, cursor, 1).await.unwrap();
        cursor = page.items.last().map(EventCursor::after);
        listed.extend(page.items.into_iter().map(|e| e.timestamp.as_unix_micros()));
        if !page.has_more {
            break;
        }
    }
    assert_eq!(listed, [hour, 0, -1, -hour, -hour - 1, -2 * hour - 1]);
    let seen = issue_seen(project, issue, -2 * hour - 1, hour);
    let oldest = store.issue_event(&seen, EventPick::Oldest).await.unwrap();
    assert_eq!(oldest.unwrap().timestamp, at_micros(-2 * hour - 1));
    let deleted = store
        .delete_events_before(project, at_micros(-hour))
        .await
        .unwrap();
    assert_eq!(deleted, 2);
}

#[tokio::test]
async fn an_empty_project_list_matches_nothing() {
    let store = open().await;
    let none = EventFilter::default();
    assert!(
        store
            .list_events(&none, None, 10)
            .await
            .unwrap()
            .items
            .is_empty()
    );
    assert_eq!(store.count_events(&none).await.unwrap().events, 0);
    assert!(store.count_by_issue(&none).await.unwrap().is_empty());
    assert!(store.event_series(&none, 60).await.unwrap().is_empty());
    assert!(store.tag_facets(&none, &[], 5).await.unwrap().is_empty());
    assert_eq!(store.insert_events(&[]).await.unwrap(), 0);
}

#[tokio::test]
async fn odd_limits_and_intervals_are_safe() {
    let store = open().await;
    let project = random_project();
    let issue = random_issue();
    let events: Vec<StoredEvent> = (0..3)
        .map(|index| event(project, issue, index, &[("k", "v")]))
        .collect();
    store.insert_events(&events).await.unwrap();
    let filter = EventFilter::projects([project]);
    let page = store.list_events(&filter, None, 0).await.unwrap();
    assert!(page.items.is_empty() && page.has_more);
    let page = store.list_events(&filter, None, u64::MAX).await.unwrap();
    assert_eq!(page.items.len(), 3);
    assert!(!page.has_more);
    let zero = store.event_series(&filter, 0).await.unwrap();
    assert_eq!(zero.len(), 1, "a zero interval counts as one second");
    let huge = store.event_series(&filter, u64::MAX).await.unwrap();
    assert_eq!(huge.len(), 1);
    assert_eq!(huge[0].start, at_micros(0));
    let facets = store.tag_facets(&filter, &[], 0).await.unwrap();
    assert_eq!((facets[0].total, facets[0].top.len()), (3, 0));
    assert_eq!(store.trim_events(project, u64::MAX).await.unwrap(), 0);
    assert_eq!(store.trim_events(project, 0).await.unwrap(), 3);
}

#[tokio::test]
async fn drops_whole_days_of_every_project() {
    let database = unique_database("retention");
    let store = ClickhouseStore::open(&url_with_database(&database))
        .await
        .unwrap();
    let (first, second) = (random_project(), random_project());
    let base = 20_000 * DAY;
    let mut events = Vec::new();
    for day in 0..3 {
        for project in [first, second] {
            events.push(event(project, random_issue(), base + day * DAY + 10, &[]));
            events.push(event(
                project,
                random_issue(),
                base + day * DAY + DAY - 1,
                &[],
            ));
        }
    }
    store.insert_events(&events).await.unwrap();
    // The cutoff falls inside the third day: only the first two go.
    let dropped = store
        .drop_days_before(at_micros(base + 2 * DAY + 20))
        .await
        .unwrap();
    assert_eq!(dropped, 8);
    let left = store
        .count_events(&EventFilter::projects([first, second]))
        .await
        .unwrap();
    assert_eq!(left.events, 4);
    assert_eq!(left.first_seen, Some(at_micros(base + 2 * DAY + 10)));
    drop_database(&store).await;
}

/// A lookup by event id reads a granule or two of the id table, and one
/// partition of events, never the whole project: with `max_rows_to_read`
/// at a quarter of a project's events, the lookups pass, while the statement
/// `has_event` ran before the id table, which read the event ids of every
/// partition, is refused. (18.16 has no `X-ClickHouse-Summary` header, and
/// the test server no `system.query_log`; the limit is checked on the
/// granules that the primary key selects, before reading.)
#[tokio::test]
async fn event_id_lookups_do_not_scan_the_project() {
    let database = unique_database("lookups");
    let store = ClickhouseStore::open(&url_with_database(&database))
        .await
        .unwrap();
    let project = random_project();
    // 200,000 events over 20 days of January 2022, 100 issues.
    let (count, base) = (200_000, 19_000 * DAY);
    let step = 20 * DAY / count;
    let events: Vec<StoredEvent> = (0..count)
        .map(|index| event(project, IssueId(index % 100), base + index * step, &[]))
        .collect();
    assert_eq!(store.insert_events(&events).await.unwrap(), count as u64);
    let limit = (count / 4).to_string();
    let limited = with_settings(
        &store,
        &[
            ("max_rows_to_read", &limit),
            ("read_overflow_mode", "throw"),
        ],
    );
    for wanted in events.iter().step_by(9_973) {
        assert!(limited.has_event(project, wanted.event_id).await.unwrap());
        assert_eq!(
            limited
                .event(project, wanted.event_id)
                .await
                .unwrap()
                .as_ref(),
            Some(wanted)
        );
    }
    assert!(
        !limited
            .has_event(project, EventId::new_random())
            .await
            .unwrap()
    );
    // The duplicate check of a batch (ids sent as an array from 16 on):
    // a granule of 1,024 ids per id.
    let mut batch: Vec<&StoredEvent> = events.iter().step_by(6_007).take(32).collect();
    let missing = event(project, IssueId(1), base, &[]);
    batch.push(&missing);
    let existing = limited.inner.existing_ids(&batch).await.unwrap();
    assert_eq!(existing.len(), 32);
    assert!(!existing.contains(&(project, missing.event_id)));
    let new = event(project, IssueId(1), base + 5, &[]);
    assert_eq!(
        limited
            .insert_events(&[events[7].clone(), new.clone()])
            .await
            .unwrap(),
        1
    );
    assert!(limited.has_event(project, new.event_id).await.unwrap());
    let old_lookup = format!(
        "SELECT toUInt8(1) FROM {} WHERE project_id = {} AND event_id = {} LIMIT 1 \
         FORMAT RowBinary",
        store.inner.events,
        project.0,
        event_id_literal(&new.event_id)
    );
    let error = limited.inner.http.select(&old_lookup).await.err().unwrap();
    assert!(
        matches!(
            error,
            ChError::Server {
                code: Some(158),
                ..
            }
        ),
        "{error}"
    );
    drop_database(&store).await;
}

/// An event whose id row is missing, as when a process stops between the
/// two inserts, is still found by id; `has_event` misses it, so it may be
/// stored again, and is then read and deleted once.
#[tokio::test]
async fn an_event_without_its_id_row_is_found_and_may_be_stored_again() {
    let store = open().await;
    let project = random_project();
    let issue = random_issue();
    let lost = event(project, issue, 7 * DAY + 3, &[]);
    let kept = event(project, issue, 7 * DAY + 4, &[]);
    let both = [lost.clone(), kept.clone()];
    assert_eq!(store.insert_events(&both).await.unwrap(), 2);
    store
        .inner
        .mutate(
            EVENT_IDS_TABLE,
            &format!(
                "DELETE WHERE project_id = {} AND event_id = {}",
                project.0,
                event_id_literal(&lost.event_id)
            ),
        )
        .await
        .unwrap();
    assert!(!store.has_event(project, lost.event_id).await.unwrap());
    assert_eq!(
        store.event(project, lost.event_id).await.unwrap().as_ref(),
        Some(&lost)
    );
    assert_eq!(store.insert_events(&both).await.unwrap(), 1);
    assert!(store.has_event(project, lost.event_id).await.unwrap());
    assert_eq!(
        store.event(project, lost.event_id).await.unwrap().as_ref(),
        Some(&lost)
    );
    let filter = EventFilter::projects([project]);
    let page = store.list_events(&filter, None, 10).await.unwrap();
    assert_eq!(page.items, [kept.clone(), lost.clone()]);
    assert_eq!(
        store
            .delete_events_before(project, at_micros(8 * DAY))
            .await
            .unwrap(),
        2
    );
    assert_eq!(id_rows(&store, project).await, 0);
}

/// An id row whose event is gone (a delete of the events alone) finds no
/// event, without reading every partition.
#[tokio::test]
async fn an_id_row_without_its_event_finds_nothing() {
    let store = open().await;
    let project = random_project();
    let gone = event(project, random_issue(), 9 * DAY, &[]);
    store
        .insert_events(std::slice::from_ref(&gone))
        .await
        .unwrap();
    store
        .inner
        .mutate(
            EVENTS_TABLE,
            &format!("DELETE WHERE project_id = {}", project.0),
        )
        .await
        .unwrap();
    assert_eq!(store.event(project, gone.event_id).await.unwrap(), None);
}

#[tokio::test]
async fn deletes_remove_the_ids() {
    let store = open().await;
    let (project, other) = (random_project(), random_project());
    let issue = random_issue();
    let events: Vec<StoredEvent> = (0..6)
        .map(|index| event(project, issue, 30 * DAY + index * DAY, &[]))
        .collect();
    let bystander = event(other, issue, 30 * DAY, &[]);
    store.insert_events(&events).await.unwrap();
    store
        .insert_events(std::slice::from_ref(&bystander))
        .await
        .unwrap();
    assert_eq!(id_rows(&store, project).await, 6);
    let stored = |events: &[StoredEvent]| {
        let store = store.clone();
        let ids: Vec<EventId> = events.iter().map(|event| event.event_id).collect();
        async move {
            let mut found = Vec::new();
            for id in ids {
                found.push(store.has_event(project, id).await.unwrap());
            }
            found
        }
    };
    assert_eq!(
        store
            .delete_events_before(project, at_micros(32 * DAY))
            .await
            .unwrap(),
        2
    );
    assert_eq!(
        stored(&events).await,
        [false, false, true, true, true, true]
    );
    assert_eq!(id_rows(&store, project).await, 4);
    assert_eq!(store.trim_events(project, 1).await.unwrap(), 3);
    assert_eq!(
        stored(&events).await,
        [false, false, false, false, false, true]
    );
    assert_eq!(id_rows(&store, project).await, 1);
    assert!(store.has_event(other, bystander.event_id).await.unwrap());
}

#[tokio::test]
async fn dropping_days_drops_their_ids() {
    let database = unique_database("retention_ids");
    let store = ClickhouseStore::open(&url_with_database(&database))
        .await
        .unwrap();
    let project = random_project();
    // 2024-08-15, 2024-09-30, 2024-10-04, 2024-10-05, 2024-10-06.
    let days = [19_950, 19_996, 20_000, 20_001, 20_002];
    let events: Vec<StoredEvent> = days
        .iter()
        .flat_map(|day| {
            [10, DAY - 1].map(|offset| event(project, random_issue(), day * DAY + offset, &[]))
        })
        .collect();
    store.insert_events(&events).await.unwrap();
    // Two whole months go, and a day of the third.
    let dropped = store
        .drop_days_before(at_micros(20_001 * DAY + 20))
        .await
        .unwrap();
    assert_eq!(dropped, 6);
    for (index, event) in events.iter().enumerate() {
        assert_eq!(
            store.has_event(project, event.event_id).await.unwrap(),
            index >= 6,
            "event {index}"
        );
    }
    assert_eq!(id_rows(&store, project).await, 4);
    let answer = store
        .inner
        .http
        .select(&format!(
            "SELECT DISTINCT partition_id FROM system.parts WHERE database = {} \
             AND table = {} AND active FORMAT RowBinary",
            string_literal(&database),
            string_literal(EVENT_IDS_TABLE)
        ))
        .await
        .unwrap();
    let months = RowReader::new(&answer).rows(|row| row.string()).unwrap();
    assert_eq!(months, ["202410"]);
    drop_database(&store).await;
}

/// A database that a version without the id table wrote gets the table on
/// open, filled from the stored events, once.
#[tokio::test]
async fn fills_the_id_table_of_an_older_database() {
    let database = unique_database("backfill");
    let url = url_with_database(&database);
    let store = ClickhouseStore::open(&url).await.unwrap();
    let project = random_project();
    // Three months, and an event before 1970 (on its first day).
    let events: Vec<StoredEvent> = [
        -5,
        19_950 * DAY,
        19_996 * DAY,
        20_000 * DAY,
        20_000 * DAY + 1,
    ]
    .into_iter()
    .map(|micros| event(project, random_issue(), micros, &[]))
    .collect();
    store.insert_events(&events).await.unwrap();
    store
        .inner
        .http
        .execute(&format!("DROP TABLE {}", store.inner.event_ids))
        .await
        .unwrap();
    let reopened = ClickhouseStore::open(&url).await.unwrap();
    assert_eq!(id_rows(&reopened, project).await, 5);
    for event in &events {
        assert!(reopened.has_event(project, event.event_id).await.unwrap());
        assert_eq!(
            reopened
                .event(project, event.event_id)
                .await
                .unwrap()
                .as_ref(),
            Some(event)
        );
    }
    assert_eq!(reopened.insert_events(&events).await.unwrap(), 0);
    let again = ClickhouseStore::open(&url).await.unwrap();
    assert_eq!(id_rows(&again, project).await, 5, "filled once");
    // Processes that open an older database at once may each fill the
    // table: the duplicates are harmless.
    store
        .inner
        .http
        .execute(&format!("DROP TABLE {}", store.inner.event_ids))
        .await
        .unwrap();
    let opened = futures_join_all((0..4).map(|_| {
        let url = url.clone();
        async move { ClickhouseStore::open(&url).await }
    }))
    .await;
    for store in opened {
        let store = store.unwrap();
        let answer = store
            .inner
            .http
            .select(&format!(
                "SELECT toUInt64(uniqExact(event_id)) FROM {} WHERE project_id = {} \
                 FORMAT RowBinary",
                store.inner.event_ids, project.0
            ))
            .await
            .unwrap();
        assert_eq!(RowReader::new(&answer).u64().unwrap(), 5);
        for event in &events {
            assert_eq!(
                store.event(project, event.event_id).await.unwrap().as_ref(),
                Some(event)
            );
        }
        assert_eq!(store.insert_events(&events).await.unwrap(), 0);
    }
    drop_database(&again).await;
}

/// A JSON payload of about 2 KB.
fn bench_payload() -> Vec<u8> {
    let mut text = String::from("{\"message\":\"");
    while text.len() < 2040 {
        text.push_str("lorem ipsum dolor sit amet ");
    }
    text.push_str("\"}");
    text.into_bytes()
}

/// `count` events of a project as the measurements write them: 50 issues,
/// 8 tags, a 2 KB payload, one every `step` microseconds from `start`.
fn bench_events(project: ProjectId, count: i64, start: i64, step: i64) -> Vec<StoredEvent> {
    let payload = bench_payload();
    let tags: Vec<(String, String)> = (0..8)
        .map(|index| {
            (
                format!("tag{index}"),
                format!("value-{index}-{}", index * 7),
            )
        })
        .collect();
    (0..count)
        .map(|index| {
            let mut event = event(project, IssueId(index % 50), start + index * step, &[]);
            event.tags = tags.clone();
            event.payload = payload.clone();
            event
        })
        .collect()
}

/// Inserts batches and reports the throughput, and the lookup and write
/// halves of one more batch of new events.
async fn measure_inserts(store: &ClickhouseStore, batches: &[Vec<StoredEvent>]) {
    let started = Instant::now();
    let mut inserted = 0;
    for batch in batches {
        inserted += store.insert_events(batch).await.unwrap();
    }
    let elapsed = started.elapsed();
    let expected: usize = batches.iter().map(Vec::len).sum();
    assert_eq!(inserted, expected as u64);
    // The two halves of an insert, on batches of new events: ten lookups,
    // one write.
    let mut lookups = Vec::new();
    let mut batch = batches[0].clone();
    for _ in 0..10 {
        for event in &mut batch {
            event.event_id = EventId::new_random();
        }
        let refs: Vec<&StoredEvent> = batch.iter().collect();
        let lookup = Instant::now();
        store.inner.existing_ids(&refs).await.unwrap();
        lookups.push(lookup.elapsed());
    }
    let refs: Vec<&StoredEvent> = batch.iter().collect();
    let write = Instant::now();
    store.inner.write(&refs).await.unwrap();
    eprintln!(
        "a batch of 1,000: lookup {}; write {:.2?}",
        latency_summary(lookups),
        write.elapsed()
    );
    eprintln!(
        "inserted {inserted} events in {elapsed:.2?}: {:.0} events/s",
        inserted as f64 / elapsed.as_secs_f64()
    );
}

/// Mean, median and 99th percentile of some durations.
fn latency_summary(mut samples: Vec<std::time::Duration>) -> String {
    samples.sort();
    let mean = samples.iter().sum::<std::time::Duration>() / samples.len() as u32;
    let at = |fraction: f64| samples[((samples.len() - 1) as f64 * fraction) as usize];
    format!("mean {mean:.2?}, p50 {:.2?}, p99 {:.2?}", at(0.5), at(0.99))
}

/// Measures insert throughput: 100 batches of 1,000 events with 8 tags and
/// a 2 KB payload. Run by hand:
/// `cargo test -p sentry-store --features clickhouse --release -- --ignored --nocapture insert_throughput`.
#[tokio::test]
#[ignore = "a measurement, not a test"]
async fn insert_throughput() {
    let store = open().await;
    let project = random_project();
    let events = bench_events(project, 100_000, 1_750_000_000_000_000, 1000);
    let batches: Vec<Vec<StoredEvent>> = events.chunks(1000).map(<[_]>::to_vec).collect();
    measure_inserts(&store, &batches).await;
}

/// Measures event id lookups (`has_event`, `event`) and insert throughput
/// (as [`insert_throughput`]) in a project that already holds 500,000
/// events over 30 days, in a database of its own. Run by hand:
/// `cargo test -p sentry-store --features clickhouse --release -- --ignored --nocapture large_project`.
#[tokio::test]
#[ignore = "a measurement, not a test"]
async fn lookups_and_inserts_in_a_large_project() {
    let database = unique_database("large_project");
    let store = ClickhouseStore::open(&url_with_database(&database))
        .await
        .unwrap();
    let project = random_project();
    let now = 1_750_000_000_000_000;
    let held = 500_000;
    // One event every 5.184 s: 500,000 events over the 30 days before `now`.
    let step = 30 * DAY / held;
    // Written 10,000 at a time, keeping every 500th event to look up.
    let mut samples = Vec::new();
    let fill = Instant::now();
    for chunk in 0..held / 10_000 {
        let start = now - 30 * DAY + chunk * 10_000 * step;
        let events = bench_events(project, 10_000, start, step);
        let refs: Vec<&StoredEvent> = events.iter().collect();
        store.inner.write(&refs).await.unwrap();
        samples.extend(events.into_iter().step_by(500));
    }
    eprintln!("wrote {held} events in {:.2?}", fill.elapsed());
    // Let background merges settle, as on a server that has been running.
    tokio::time::sleep(std::time::Duration::from_secs(20)).await;
    let mut present = Vec::new();
    let mut absent = Vec::new();
    for sample in &samples {
        let started = Instant::now();
        assert!(store.has_event(project, sample.event_id).await.unwrap());
        present.push(started.elapsed());
        let started = Instant::now();
        assert!(
            !store
                .has_event(project, EventId::new_random())
                .await
                .unwrap()
        );
        absent.push(started.elapsed());
    }
    eprintln!(
        "has_event over {} stored ids: {}",
        present.len(),
        latency_summary(present)
    );
    eprintln!(
        "has_event over {} new ids: {}",
        absent.len(),
        latency_summary(absent)
    );
    let mut fetched = Vec::new();
    for sample in samples.iter().step_by(5) {
        let started = Instant::now();
        let found = store.event(project, sample.event_id).await.unwrap();
        fetched.push(started.elapsed());
        assert_eq!(found.as_ref(), Some(sample));
    }
    eprintln!(
        "event over {} stored ids: {}",
        fetched.len(),
        latency_summary(fetched)
    );
    drop(samples);
    let events = bench_events(project, 100_000, now, 1000);
    let batches: Vec<Vec<StoredEvent>> = events.chunks(1000).map(<[_]>::to_vec).collect();
    measure_inserts(&store, &batches).await;
    // The server's way: `has_event`, then an insert of that one event.
    let singles = bench_events(project, 500, now + 200_000_000, 1000);
    let started = Instant::now();
    for event in &singles {
        assert!(!store.has_event(project, event.event_id).await.unwrap());
        let inserted = store
            .insert_events(std::slice::from_ref(event))
            .await
            .unwrap();
        assert_eq!(inserted, 1);
    }
    let elapsed = started.elapsed();
    eprintln!(
        "inserted {} events one at a time, each after has_event, in {elapsed:.2?}: {:.0} events/s",
        singles.len(),
        singles.len() as f64 / elapsed.as_secs_f64()
    );
    drop_database(&store).await;
}
