//! Envelope parsing benchmarks.
//!
//! - `envelope_parse`: `Envelope::parse` on every `fixtures/envelopes/envelope-*.bin`.
//! - `envelope_parse_event`: parsing an envelope and deserializing its event item.

use std::hint::black_box;
use std::path::PathBuf;

use bytes::Bytes;
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use sentry_core::Envelope;
use sentry_core::envelope::ItemType;

/// Returns the directory of the envelope fixtures.
fn fixtures_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fixtures/envelopes")
}

/// Reads one fixture into a `Bytes`.
fn fixture(name: &str) -> Bytes {
    let path = fixtures_dir().join(name);
    let data = std::fs::read(&path)
        .unwrap_or_else(|err| panic!("cannot read fixture {}: {err}", path.display()));
    Bytes::from(data)
}

/// Returns the names of all `envelope-*.bin` fixtures, sorted.
fn envelope_fixtures() -> Vec<String> {
    let dir = fixtures_dir();
    let entries = std::fs::read_dir(&dir)
        .unwrap_or_else(|err| panic!("cannot list {}: {err}", dir.display()));
    let mut names: Vec<String> = entries
        .filter_map(Result::ok)
        .filter_map(|entry| entry.file_name().into_string().ok())
        .filter(|name| name.starts_with("envelope-") && name.ends_with(".bin"))
        .collect();
    names.sort();
    assert!(!names.is_empty(), "no envelope-*.bin in {}", dir.display());
    names
}

fn envelope_parse(c: &mut Criterion) {
    let mut group = c.benchmark_group("envelope_parse");
    for name in envelope_fixtures() {
        let body = fixture(&name);
        // Fail early on a fixture that does not parse, rather than timing an error path.
        Envelope::parse(body.clone())
            .unwrap_or_else(|err| panic!("fixture {name} does not parse: {err}"));
        let len = u64::try_from(body.len()).expect("fixture length fits in u64");
        group.throughput(Throughput::Bytes(len));
        group.bench_with_input(BenchmarkId::from_parameter(&name), &body, |b, body| {
            b.iter(|| Envelope::parse(black_box(body.clone())));
        });
    }
    group.finish();
}

fn envelope_parse_event(c: &mut Criterion) {
    let mut group = c.benchmark_group("envelope_parse_event");
    group.throughput(Throughput::Elements(1));
    for name in ["envelope-error-7k.bin", "envelope-error-rich.bin"] {
        let body = fixture(name);
        let check = Envelope::parse(body.clone()).expect("fixture parses");
        let item = check
            .item(&ItemType::Event)
            .expect("fixture has an event item");
        serde_json::from_slice::<sentry_core::Event>(&item.payload).expect("event item is valid");
        group.bench_with_input(BenchmarkId::from_parameter(name), &body, |b, body| {
            b.iter(|| {
                let envelope = Envelope::parse(black_box(body.clone())).expect("parses");
                let item = envelope.item(&ItemType::Event).expect("has an event item");
                serde_json::from_slice::<sentry_core::Event>(&item.payload).expect("valid event")
            });
        });
    }
    group.finish();
}

criterion_group!(benches, envelope_parse, envelope_parse_event);
criterion_main!(benches);
