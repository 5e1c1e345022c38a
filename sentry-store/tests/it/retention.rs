//! Retention bounds the disk: with old events deleted and the store
//! compacted after each round, the files of the embedded backends stop
//! growing, where without it they grow with every round.

use std::path::Path;

use sentry_core::protocol::Timestamp;
use sentry_core::store::{EventStore, StoredEvent};
use sentry_core::{EventId, GroupingHash, IssueId, ProjectId};
use sentry_store::open_events;

const ROUNDS: usize = 6;
const EVENTS_PER_ROUND: usize = 2_000;

/// A 4 KB payload that compresses about as well as a real event.
fn payload(seed: usize) -> Vec<u8> {
    let mut text = String::with_capacity(4096);
    let mut state = seed as u64 | 1;
    while text.len() < 4096 {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        text.push_str(&format!(
            "{{\"frame\":\"fn_{:x}\",\"line\":{}}},",
            state,
            state % 997
        ));
    }
    text.into_bytes()
}

fn round_of_events(round: usize) -> Vec<StoredEvent> {
    (0..EVENTS_PER_ROUND)
        .map(|index| {
            let seconds = 1_700_000_000.0 + (round * 86_400) as f64 + index as f64;
            StoredEvent {
                project_id: ProjectId(1),
                event_id: EventId::new_random(),
                issue_id: IssueId((index % 50) as i64),
                timestamp: Timestamp::from_unix_seconds(seconds).unwrap(),
                received: Timestamp::from_unix_seconds(seconds).unwrap(),
                hash: GroupingHash::from_values(["x"]),
                grouping_config: "test".to_owned(),
                tags: vec![
                    ("environment".to_owned(), "production".to_owned()),
                    ("user".to_owned(), format!("id:{}", index % 300)),
                ],
                payload: payload(round * EVENTS_PER_ROUND + index),
            }
        })
        .collect()
}

/// The bytes of a database file and its side files (`-wal`, `.wal`).
fn size_on_disk(path: &Path) -> u64 {
    let dir = path.parent().unwrap();
    let name = path.file_name().unwrap().to_string_lossy().into_owned();
    std::fs::read_dir(dir)
        .unwrap()
        .filter_map(Result::ok)
        .filter(|entry| entry.file_name().to_string_lossy().starts_with(&name))
        .map(|entry| entry.metadata().unwrap().len())
        .sum()
}

/// Runs the rounds, keeping only the latest round's events when `retain`;
/// returns the size on disk after each round.
async fn sizes(url_scheme: &str, file: &str, retain: bool) -> Vec<u64> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(file);
    let store = open_events(&format!("{url_scheme}://{}", path.display()))
        .await
        .unwrap();
    let mut sizes = Vec::new();
    for round in 0..ROUNDS {
        let events = round_of_events(round);
        let oldest_of_round = events[0].timestamp;
        for chunk in events.chunks(500) {
            store.insert_events(chunk).await.unwrap();
        }
        if retain {
            store
                .delete_events_before(ProjectId(1), oldest_of_round)
                .await
                .unwrap();
        }
        store.compact().await.unwrap();
        sizes.push(size_on_disk(&path));
    }
    sizes
}

async fn retention_bounds_the_disk(url_scheme: &str, file: &str) {
    let kept = sizes(url_scheme, file, true).await;
    let grown = sizes(url_scheme, file, false).await;
    eprintln!("{url_scheme}: with retention {kept:?}, without {grown:?}");
    let peak_early = kept[..2].iter().copied().max().unwrap();
    let last = *kept.last().unwrap();
    assert!(
        last <= peak_early + peak_early / 4,
        "{url_scheme}: the file keeps growing under retention: {kept:?}"
    );
    assert!(
        *grown.last().unwrap() > 3 * grown[0],
        "{url_scheme}: the control run should grow: {grown:?}"
    );
}

#[cfg(feature = "sqlite")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_gives_the_space_back() {
    retention_bounds_the_disk("sqlite", "events.sqlite").await;
}

#[cfg(feature = "duckdb")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn duckdb_gives_the_space_back() {
    retention_bounds_the_disk("duckdb", "events.duckdb").await;
}
