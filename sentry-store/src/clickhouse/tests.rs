//! Behaviours particular to ClickHouse, against a real server: the shared
//! conformance suite (`tests/it/conformance`) covers the trait itself.
//!
//! The server comes from `TEST_CLICKHOUSE_URL`, which `scripts/test-services`
//! sets. Tests use random project and issue ids, so they share the database
//! with each other and with the suite; the few that need a database of
//! their own create one and drop it.

use std::error::Error as _;
use std::time::Instant;

use sentry_core::protocol::Timestamp;
use sentry_core::store::{
    EventCursor, EventFilter, EventPick, EventStore, StoreErrorKind, StoredEvent, TagFilter,
};
use sentry_core::{EventId, GroupingHash, IssueId, ProjectId};

use super::ClickhouseStore;
use super::endpoint::Endpoint;
use super::http::Http;
use super::rowbinary::RowReader;
use super::sql::{identifier, string_literal};

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

/// Ids far above what the suite's metadata stores hand out.
fn random_project() -> ProjectId {
    let bytes = EventId::new_random().as_bytes()[..8].try_into().unwrap();
    ProjectId(u64::from_le_bytes(bytes) | (1 << 62))
}

fn random_issue() -> IssueId {
    let bytes = EventId::new_random().as_bytes()[..8].try_into().unwrap();
    IssueId(i64::from_le_bytes(bytes))
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
        value: value.to_owned(),
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
    let latest = store.issue_event(issue, EventPick::Latest).await.unwrap();
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
    let oldest = store.issue_event(issue, EventPick::Oldest).await.unwrap();
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

/// Measures insert throughput: 100 batches of 1,000 events with 8 tags and
/// a 2 KB payload. Run by hand:
/// `cargo test -p sentry-store --features clickhouse --release -- --ignored --nocapture insert_throughput`.
#[tokio::test]
#[ignore = "a measurement, not a test"]
async fn insert_throughput() {
    let store = open().await;
    let project = random_project();
    let payload = {
        let mut text = String::from("{\"message\":\"");
        while text.len() < 2040 {
            text.push_str("lorem ipsum dolor sit amet ");
        }
        text.push_str("\"}");
        text.into_bytes()
    };
    let tags: Vec<(String, String)> = (0..8)
        .map(|index| {
            (
                format!("tag{index}"),
                format!("value-{index}-{}", index * 7),
            )
        })
        .collect();
    let batches: Vec<Vec<StoredEvent>> = (0..100)
        .map(|batch| {
            (0..1000)
                .map(|index| {
                    let mut event = event(
                        project,
                        IssueId(index % 50),
                        1_750_000_000_000_000 + (batch * 1000 + index) * 1000,
                        &[],
                    );
                    event.tags = tags.clone();
                    event.payload = payload.clone();
                    event
                })
                .collect()
        })
        .collect();
    let started = Instant::now();
    let mut inserted = 0;
    for batch in &batches {
        inserted += store.insert_events(batch).await.unwrap();
    }
    let elapsed = started.elapsed();
    assert_eq!(inserted, 100_000);
    // The two halves of an insert, on one more batch of new events.
    let mut batch = batches[0].clone();
    for event in &mut batch {
        event.event_id = EventId::new_random();
    }
    let refs: Vec<&StoredEvent> = batch.iter().collect();
    let lookup = Instant::now();
    store.inner.existing_ids(&refs).await.unwrap();
    let lookup = lookup.elapsed();
    let write = Instant::now();
    store.inner.write(&refs).await.unwrap();
    eprintln!(
        "one batch: lookup {lookup:.2?}, write {:.2?}",
        write.elapsed()
    );
    eprintln!(
        "inserted {inserted} events in {elapsed:.2?}: {:.0} events/s",
        inserted as f64 / elapsed.as_secs_f64()
    );
}
