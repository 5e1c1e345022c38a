//! Storage benchmarks, per backend pair: insert throughput in batches of
//! 1,000 events (durable when the call returns), then, at that size, the
//! latency of the issue list, an issue's latest event, an issue's tag
//! facets, the first page of an issue's events and an issue search by tag.
//!
//! ```text
//! cargo bench -p sentry-benches --bench stores                 # embedded, 1,000,000 events
//! BENCH_EVENTS=100000 BENCH_BACKENDS=embedded,sqlite cargo bench -p sentry-benches --bench stores
//! scripts/test-services -- env BENCH_BACKENDS=scale-out cargo bench -p sentry-benches --bench stores
//! ```
//!
//! Backends: `embedded` (SQLite metadata, DuckDB events), `sqlite` (SQLite
//! for both) and `scale-out` (Postgres and ClickHouse from
//! `TEST_POSTGRES_URL` and `TEST_CLICKHOUSE_URL`). `BENCH_EVENTS` (default
//! 1,000,000) and `BENCH_ISSUES` (default 10,000) set the size. Results are
//! printed as a Markdown table for `docs/performance.md`.

use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use sentry_core::protocol::{Level, Timestamp};
use sentry_core::store::{
    EventFilter, EventPick, EventStore, IssueEvent, IssueQuery, MetadataStore, StoredEvent,
    TagFilter,
};
use sentry_core::summary::EventMetadata;
use sentry_core::{EventId, GroupingHash, IssueId, ProjectId};
use sentry_store::{AnyEventStore, AnyMetadataStore, open_events, open_metadata};

const BATCH: usize = 1_000;
const SAMPLES: usize = 200;

fn env_number(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|text| text.replace('_', "").parse().ok())
        .unwrap_or(default)
}

/// A payload of about 3 KB, compressing like a real event.
fn payload(index: usize) -> Vec<u8> {
    let mut text = String::with_capacity(3200);
    text.push_str(&format!("{{\"event\":{index},\"frames\":["));
    let mut state = index as u64 | 1;
    while text.len() < 3000 {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        text.push_str(&format!(
            "{{\"function\":\"handler_{:x}\",\"lineno\":{},\"in_app\":true}},",
            state % 4096,
            state % 997
        ));
    }
    text.push_str("{}]}");
    text.into_bytes()
}

fn tags(index: usize) -> Vec<(String, String)> {
    let pick =
        |choices: &[&str], salt: usize| choices[(index / 7 + salt) % choices.len()].to_owned();
    vec![
        ("level".to_owned(), pick(&["error", "warning", "fatal"], 0)),
        (
            "environment".to_owned(),
            pick(&["production", "staging"], 1),
        ),
        ("release".to_owned(), format!("app@1.{}.0", index % 20)),
        ("user".to_owned(), format!("id:{}", index % 5_000)),
        (
            "browser".to_owned(),
            pick(&["Chrome 120", "Firefox 121", "Safari 17"], 2),
        ),
        (
            "os".to_owned(),
            pick(&["Windows 11", "macOS 14", "Linux"], 3),
        ),
        ("server_name".to_owned(), format!("web-{}", index % 12)),
        (
            "transaction".to_owned(),
            format!("/api/items/{}", index % 40),
        ),
    ]
}

struct Pair {
    name: &'static str,
    metadata: AnyMetadataStore,
    events: AnyEventStore,
    _dir: tempfile::TempDir,
}

async fn open_pair(name: &'static str) -> Result<Pair> {
    let dir = tempfile::tempdir()?;
    let file = |name: &str| dir.path().join(name).display().to_string();
    let (metadata_url, events_url) = match name {
        "embedded" => (
            format!("sqlite://{}", file("metadata.sqlite")),
            format!("duckdb://{}", file("events.duckdb")),
        ),
        "sqlite" => (
            format!("sqlite://{}", file("metadata.sqlite")),
            format!("sqlite://{}", file("events.sqlite")),
        ),
        "scale-out" => (
            std::env::var("TEST_POSTGRES_URL").context("TEST_POSTGRES_URL")?,
            std::env::var("TEST_CLICKHOUSE_URL").context("TEST_CLICKHOUSE_URL")?,
        ),
        other => anyhow::bail!("unknown backend {other}; use embedded, sqlite or scale-out"),
    };
    Ok(Pair {
        name,
        metadata: open_metadata(&metadata_url).await?,
        events: open_events(&events_url).await?,
        _dir: dir,
    })
}

/// Percentiles of latencies, in milliseconds.
fn percentiles(mut samples: Vec<Duration>) -> (f64, f64) {
    samples.sort_unstable();
    let at = |fraction: f64| {
        let index = ((samples.len() as f64 - 1.0) * fraction).round() as usize;
        samples[index].as_secs_f64() * 1000.0
    };
    (at(0.5), at(0.99))
}

async fn bench_pair(pair: &Pair, total_events: usize, total_issues: usize) -> Result<Vec<String>> {
    let org = pair
        .metadata
        .ensure_organization(&format!("bench-{}", EventId::new_random()))
        .await?;
    let project = pair.metadata.ensure_project(org.id, "bench").await?;
    let project_id: ProjectId = project.id;
    let issue_event = |index: usize, timestamp: Timestamp| IssueEvent {
        project_id,
        event_id: EventId::new_random(),
        hashes: vec![GroupingHash::from_values([
            format!("issue-{index}").as_str()
        ])],
        grouping_config: "bench".to_owned(),
        title: format!("ValueError: bench failure {index}"),
        culprit: format!("app.handlers in handle_{index}"),
        level: Level::Error,
        ty: "error".to_owned(),
        platform: "python".to_owned(),
        metadata: EventMetadata::default(),
        timestamp,
        user: None,
        release: None,
        received: timestamp,
    };
    let started = Instant::now();
    let mut issues: Vec<IssueId> = Vec::with_capacity(total_issues);
    let mut last_seen = Vec::with_capacity(total_issues);
    for index in 0..total_issues {
        let timestamp =
            Timestamp::from_unix_seconds(1_700_000_000.0 + index as f64).context("timestamp")?;
        let event = issue_event(index, timestamp);
        issues.push(pair.metadata.record_issue_event(&event).await?.issue.id);
        last_seen.push(timestamp);
    }
    let issue_rate = total_issues as f64 / started.elapsed().as_secs_f64();

    let mut inserted = 0u64;
    let mut insert_time = Duration::ZERO;
    let base = 1_700_000_000.0;
    for batch_start in (0..total_events).step_by(BATCH) {
        let batch: Vec<StoredEvent> = (batch_start..(batch_start + BATCH).min(total_events))
            .map(|index| {
                // Skewed: a tenth of the issues get most events, as in life.
                let issue = if index % 3 == 0 {
                    index % issues.len()
                } else {
                    index % (issues.len() / 10).max(1)
                };
                let timestamp = Timestamp::from_unix_seconds(base + index as f64 * 0.5)
                    .unwrap_or_else(Timestamp::now);
                last_seen[issue] = timestamp;
                StoredEvent {
                    project_id,
                    event_id: EventId::new_random(),
                    issue_id: issues[issue],
                    timestamp,
                    received: timestamp,
                    hash: GroupingHash::from_values(["bench"]),
                    grouping_config: "bench".to_owned(),
                    tags: tags(index),
                    payload: payload(index),
                }
            })
            .collect();
        let started = Instant::now();
        inserted += pair.events.insert_events(&batch).await?;
        insert_time += started.elapsed();
    }
    anyhow::ensure!(inserted == total_events as u64, "inserted {inserted}");
    let insert_rate = inserted as f64 / insert_time.as_secs_f64();
    // What ingest does for every event, once per issue: its last seen is
    // that of its newest event.
    let mut filed = Vec::with_capacity(issues.len());
    for (index, seen) in last_seen.into_iter().enumerate() {
        filed.push(
            pair.metadata
                .record_issue_event(&issue_event(index, seen))
                .await?
                .issue,
        );
    }

    let mut list = Vec::with_capacity(SAMPLES);
    let mut latest = Vec::with_capacity(SAMPLES);
    let mut facets = Vec::with_capacity(SAMPLES);
    let mut listed = Vec::with_capacity(SAMPLES);
    let mut searched = Vec::with_capacity(SAMPLES);
    for sample in 0..SAMPLES {
        let query = IssueQuery {
            project_ids: vec![project_id],
            limit: 25,
            offset: (sample % 4) as u64 * 25,
            ..IssueQuery::default()
        };
        let started = Instant::now();
        let page = pair.metadata.list_issues(&query).await?;
        list.push(started.elapsed());
        anyhow::ensure!(page.items.len() == 25, "issue list page");

        let issue = &filed[(sample * 7919) % (filed.len() / 10).max(1)];
        let started = Instant::now();
        let event = pair.events.issue_event(issue, EventPick::Latest).await?;
        latest.push(started.elapsed());
        anyhow::ensure!(event.is_some(), "latest event");

        let started = Instant::now();
        let found = pair
            .events
            .tag_facets(&EventFilter::issue(project_id, issue.id), &[], 10)
            .await?;
        facets.push(started.elapsed());
        anyhow::ensure!(!found.is_empty(), "facets");

        let started = Instant::now();
        let page = pair
            .events
            .list_events(&EventFilter::issue(project_id, issue.id), None, 100)
            .await?;
        listed.push(started.elapsed());
        anyhow::ensure!(!page.items.is_empty(), "event list");

        // An issue search by tag: the issues with a matching event, counted.
        let release = TagFilter {
            key: "release".to_owned(),
            value: Some(format!("app@1.{}.0", sample % 20)),
            negated: false,
        };
        let started = Instant::now();
        let matched = pair
            .events
            .count_by_issue(&EventFilter {
                tags: vec![release],
                ..EventFilter::projects([project_id])
            })
            .await?;
        searched.push(started.elapsed());
        anyhow::ensure!(!matched.is_empty(), "tag search");
    }
    let (list_p50, list_p99) = percentiles(list);
    let (latest_p50, latest_p99) = percentiles(latest);
    let (facets_p50, facets_p99) = percentiles(facets);
    let (listed_p50, listed_p99) = percentiles(listed);
    let (searched_p50, searched_p99) = percentiles(searched);
    Ok(vec![
        pair.name.to_owned(),
        format!("{total_events}"),
        format!("{total_issues}"),
        format!("{insert_rate:.0}"),
        format!("{issue_rate:.0}"),
        format!("{list_p50:.2} / {list_p99:.2}"),
        format!("{latest_p50:.2} / {latest_p99:.2}"),
        format!("{facets_p50:.2} / {facets_p99:.2}"),
        format!("{listed_p50:.2} / {listed_p99:.2}"),
        format!("{searched_p50:.2} / {searched_p99:.2}"),
    ])
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<()> {
    // `cargo bench` passes `--bench`; nothing else is read from the arguments.
    let total_events = env_number("BENCH_EVENTS", 1_000_000);
    let total_issues = env_number("BENCH_ISSUES", 10_000);
    let backends = std::env::var("BENCH_BACKENDS").unwrap_or_else(|_| "embedded".to_owned());
    println!(
        "| backend | events | issues | insert events/s | new issues/s | issue list p50 / p99 ms \
         | latest event p50 / p99 ms | tag facets p50 / p99 ms | issue events p50 / p99 ms \
         | tag search p50 / p99 ms |"
    );
    println!("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |");
    for name in backends.split(',').map(str::trim) {
        let name: &'static str = match name {
            "embedded" => "embedded",
            "sqlite" => "sqlite",
            "scale-out" => "scale-out",
            other => anyhow::bail!("unknown backend {other}"),
        };
        let pair = open_pair(name).await?;
        let row = bench_pair(&pair, total_events, total_issues).await?;
        println!("| {} |", row.join(" | "));
    }
    Ok(())
}
