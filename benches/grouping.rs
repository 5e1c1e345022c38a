//! Grouping benchmarks.
//!
//! - `group`: `grouping::group` on an already parsed and normalized event.
//! - `group_with_parsing`: `serde_json::from_slice`, `normalize` and `group`
//!   from the raw JSON, as the ingest path does for each event.

use std::hint::black_box;
use std::path::PathBuf;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use sentry_core::Event;
use sentry_core::grouping::{GroupingConfig, group as group_event};
use sentry_core::normalize::{NormalizeConfig, normalize};
use sentry_core::protocol::Timestamp;

/// The event fixtures, relative to `fixtures/envelopes`.
const EVENTS: [&str; 2] = ["event.json", "event-rich.json"];

/// Reads one fixture.
fn fixture(name: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../fixtures/envelopes")
        .join(name);
    std::fs::read(&path)
        .unwrap_or_else(|err| panic!("cannot read fixture {}: {err}", path.display()))
}

/// A fixed receive time, so that normalization is deterministic.
fn normalize_config() -> NormalizeConfig {
    NormalizeConfig {
        received: Timestamp::from_unix_seconds(1_795_000_000.0).expect("timestamp in range"),
        envelope_event_id: None,
    }
}

fn group(c: &mut Criterion) {
    let mut group = c.benchmark_group("group");
    group.throughput(Throughput::Elements(1));
    let grouping_config = GroupingConfig::default();
    let config = normalize_config();
    for name in EVENTS {
        let mut event: Event = serde_json::from_slice(&fixture(name)).expect("fixture is valid");
        normalize(&mut event, &config);
        group.bench_with_input(BenchmarkId::from_parameter(name), &event, |b, event| {
            b.iter(|| group_event(black_box(event), &grouping_config));
        });
    }
    group.finish();
}

fn group_with_parsing(c: &mut Criterion) {
    let mut group = c.benchmark_group("group_with_parsing");
    group.throughput(Throughput::Elements(1));
    let grouping_config = GroupingConfig::default();
    let config = normalize_config();
    for name in EVENTS {
        let json = fixture(name);
        serde_json::from_slice::<Event>(&json).expect("fixture is valid");
        group.bench_with_input(BenchmarkId::from_parameter(name), &json, |b, json| {
            b.iter(|| {
                let mut event: Event =
                    serde_json::from_slice(black_box(json)).expect("fixture is valid");
                normalize(&mut event, &config);
                group_event(&event, &grouping_config)
            });
        });
    }
    group.finish();
}

criterion_group!(benches, group, group_with_parsing);
criterion_main!(benches);
