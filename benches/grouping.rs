//! Grouping benchmarks.
//!
//! - `group`: `grouping::prepare_and_group` (prepare, then group) on an
//!   already parsed and normalized event (the clone that gives each
//!   iteration a fresh event is not timed).
//! - `group_with_parsing`: `serde_json::from_slice`, `normalize` and
//!   `prepare_and_group` from the raw JSON, as ingest does for each event.
//! - `group_corpus`: the same two, over all 161 inputs of the grouping
//!   conformance corpus (`fixtures/grouping`).

use std::hint::black_box;
use std::path::PathBuf;

use criterion::{BatchSize, BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use sentry_core::Event;
use sentry_core::grouping::{GroupingConfig, prepare_and_group};
use sentry_core::normalize::{NormalizeConfig, normalize};
use sentry_core::protocol::Timestamp;

/// The event fixtures, relative to `fixtures/envelopes`.
const EVENTS: [&str; 2] = ["event.json", "event-rich.json"];

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fixtures")
}

/// Reads one event fixture.
fn fixture(name: &str) -> Vec<u8> {
    let path = fixtures().join("envelopes").join(name);
    std::fs::read(&path)
        .unwrap_or_else(|err| panic!("cannot read fixture {}: {err}", path.display()))
}

/// The raw inputs of the grouping corpus, as JSON bytes.
fn corpus_inputs() -> Vec<Vec<u8>> {
    let dir = fixtures().join("grouping/variants/newstyle-2023-01-11");
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("corpus folder")
        .map(|entry| entry.expect("corpus entry").path())
        .collect();
    paths.sort();
    paths
        .iter()
        .map(|path| {
            let case: serde_json::Value =
                serde_json::from_slice(&std::fs::read(path).expect("corpus file"))
                    .expect("corpus JSON");
            serde_json::to_vec(&case["input"]).expect("input JSON")
        })
        .collect()
}

/// A fixed receive time, so that normalization is deterministic.
fn normalize_config() -> NormalizeConfig {
    NormalizeConfig::new(Timestamp::from_unix_seconds(1_795_000_000.0).expect("timestamp in range"))
}

fn parse_and_group(
    json: &[u8],
    normalize_config: &NormalizeConfig,
    config: &GroupingConfig,
) -> String {
    let mut event: Event = serde_json::from_slice(json).expect("fixture is valid");
    normalize(&mut event, normalize_config);
    prepare_and_group(&mut event, config)
        .hash
        .as_str()
        .to_owned()
}

fn normalized(json: &[u8], normalize_config: &NormalizeConfig) -> Event {
    let mut event: Event = serde_json::from_slice(json).expect("fixture is valid");
    normalize(&mut event, normalize_config);
    event
}

fn group(c: &mut Criterion) {
    let mut group = c.benchmark_group("group");
    group.throughput(Throughput::Elements(1));
    let grouping_config = GroupingConfig::default();
    let config = normalize_config();
    for name in EVENTS {
        let event = normalized(&fixture(name), &config);
        group.bench_with_input(BenchmarkId::from_parameter(name), &event, |b, event| {
            b.iter_batched(
                || event.clone(),
                // Returning the event leaves its drop outside the timing.
                |mut event| {
                    let grouping = prepare_and_group(black_box(&mut event), &grouping_config);
                    (event, grouping)
                },
                BatchSize::SmallInput,
            );
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
        group.bench_with_input(BenchmarkId::from_parameter(name), &json, |b, json| {
            b.iter(|| parse_and_group(black_box(json), &config, &grouping_config));
        });
    }
    group.finish();
}

fn group_corpus(c: &mut Criterion) {
    let inputs = corpus_inputs();
    let grouping_config = GroupingConfig::default();
    let config = normalize_config();
    let events: Vec<Event> = inputs
        .iter()
        .map(|json| normalized(json, &config))
        .collect();
    let mut group = c.benchmark_group("group_corpus");
    group.throughput(Throughput::Elements(inputs.len() as u64));
    group.bench_function("without_parsing", |b| {
        b.iter_batched(
            || events.clone(),
            |mut events| {
                for event in &mut events {
                    black_box(prepare_and_group(event, &grouping_config));
                }
                events
            },
            BatchSize::SmallInput,
        );
    });
    group.bench_function("with_parsing", |b| {
        b.iter(|| {
            for json in &inputs {
                black_box(parse_and_group(json, &config, &grouping_config));
            }
        });
    });
    group.finish();
}

criterion_group!(benches, group, group_with_parsing, group_corpus);
criterion_main!(benches);
