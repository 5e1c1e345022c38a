//! JavaScript symbolication benchmarks, on one thread.
//!
//! - `symbolicate/warm`: `javascript::symbolicate` of an event whose
//!   paths `prepare` completed, with the lookup caches already built (the
//!   server keeps built caches in memory, so this is the steady state).
//!   Throughput in frames rewritten. The clone that gives each iteration
//!   a fresh event is not timed.
//! - `prepare`: `javascript::prepare` alone (paths completed, minified
//!   files listed) on the event as it comes, per event.
//! - `from_cache`: `SourceMapModule::from_cache`, which the server calls
//!   for each minified file of each event on a built cache.
//! - `build`: `SourceMapModule::build`, the cold cost of a lookup cache,
//!   in bytes of minified file and source map.
//!
//! Each runs on two cases:
//!
//! - `small`: the fixture bundle of `fixtures/sourcemaps/dist` (326 bytes
//!   minified, a 1.5 KB map), 5 of the event's 7 frames in it;
//! - `lodash`: `fixtures/sourcemaps/lodash`, an entry bundled with lodash
//!   (72.5 KB minified, a 702 KB map), 28 of the event's 38 frames in it,
//!   the event as `@sentry/node` reports it.

use std::collections::HashMap;
use std::hint::black_box;
use std::path::PathBuf;
use std::sync::Arc;

use criterion::{BatchSize, BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use sentry_core::Event;
use sentry_core::symbolication::javascript::{self, ModuleLookup, ResolvedWith, SourceMapModule};
use sentry_core::symbolication::urls;
use serde_json::json;

/// A bundle and an event whose frames point into it.
struct Case {
    /// The bench's parameter.
    name: &'static str,
    /// The minified file.
    minified: String,
    /// Its source map.
    source_map: String,
    /// The event as it comes to symbolication.
    raw: Event,
    /// The same, its paths completed by `prepare`.
    event: Event,
    /// The built lookups, by minified file.
    lookups: HashMap<String, ModuleLookup>,
    /// The frames `symbolicate` rewrites.
    frames: u64,
}

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fixtures/sourcemaps")
}

fn read(path: PathBuf) -> String {
    std::fs::read_to_string(&path)
        .unwrap_or_else(|err| panic!("cannot read fixture {}: {err}", path.display()))
}

/// Where the event says the fixture bundle ran.
const DIST: &str = "/srv/shop/dist/app.min.js";

/// The event `@sentry/node` sends for the error of
/// `fixtures/sourcemaps/dist`, its frames oldest first (as the unit tests
/// of `symbolication::javascript` build it).
fn small_event() -> Event {
    let frame = |function: Option<&str>, abs_path: &str, line: u64, column: u64| {
        let mut frame = json!({
            "abs_path": abs_path,
            "filename": abs_path,
            "lineno": line,
            "colno": column,
            "in_app": true,
        });
        if let Some(function) = function {
            frame["function"] = json!(function);
        }
        frame
    };
    serde_json::from_value(json!({
        "platform": "node",
        "exception": {"values": [{
            "type": "Error",
            "value": "Negative price for pear",
            "stacktrace": {"frames": [
                frame(Some("Module._compile"), "node:internal/modules/cjs/loader", 1521, 14),
                frame(Some("Object.<anonymous>"), DIST, 1, 239),
                frame(Some("c"), DIST, 1, 231),
                frame(Some("e.total"), DIST, 1, 147),
                frame(Some("o"), DIST, 1, 17),
                frame(Some("Array.forEach"), "<anonymous>", 1, 1),
                frame(None, DIST, 1, 48),
            ]}
        }]}
    }))
    .expect("event")
}

/// Builds a case: the lookup of the bundle in `dir` for the frames
/// pointing at `url`; any other file (a library's, outside the bundle)
/// is missing, as the server finds it. `frames` is how many frames the
/// bundle's map must rewrite.
fn case(name: &'static str, dir: &str, url: &str, raw: Event, frames: usize) -> Case {
    let file = url.rsplit('/').next().expect("file name");
    let minified = read(fixtures().join(dir).join(file));
    let source_map = read(fixtures().join(dir).join(format!("{file}.map")));
    let cache: Arc<[u8]> = SourceMapModule::build(&minified, &source_map)
        .expect("fixture map builds")
        .into();
    let mut event = raw.clone();
    let modules = javascript::prepare(&mut event);
    let lookups: HashMap<String, ModuleLookup> = modules
        .into_iter()
        .map(|module| {
            let lookup = if module.abs_path == url {
                let map_url = urls::join(url, &format!("{file}.map"));
                let found =
                    SourceMapModule::from_cache(Arc::clone(&cache), map_url, ResolvedWith::DebugId)
                        .expect("cache parses");
                ModuleLookup::Found(found)
            } else {
                ModuleLookup::MissingSource
            };
            (module.abs_path, lookup)
        })
        .collect();
    assert!(
        lookups.contains_key(url),
        "{name}: no frame points at {url}"
    );
    let outcome = javascript::symbolicate(&mut event.clone(), &lookups);
    assert_eq!(outcome.symbolicated, frames, "{name}: frames rewritten");
    Case {
        name,
        minified,
        source_map,
        raw,
        event,
        lookups,
        frames: outcome.symbolicated as u64,
    }
}

/// The event `@sentry/node` 11.12 would send for the error of
/// `fixtures/sourcemaps/lodash` (its `event.json`).
fn lodash_event() -> Event {
    let path = fixtures().join("lodash/event.json");
    serde_json::from_str(&read(path)).expect("event")
}

fn cases() -> Vec<Case> {
    vec![
        case("small", "dist", DIST, small_event(), 5),
        case(
            "lodash",
            "lodash/dist",
            "/srv/shop/dist/app.min.js",
            lodash_event(),
            28,
        ),
    ]
}

fn symbolicate(c: &mut Criterion) {
    let mut group = c.benchmark_group("symbolicate");
    for case in cases() {
        group.throughput(Throughput::Elements(case.frames));
        group.bench_with_input(BenchmarkId::new("warm", case.name), &case, |b, case| {
            b.iter_batched(
                || case.event.clone(),
                // Returning the event leaves its drop outside the timing.
                |mut event| {
                    let outcome = javascript::symbolicate(black_box(&mut event), &case.lookups);
                    (event, outcome)
                },
                BatchSize::SmallInput,
            );
        });
    }
    group.finish();
}

fn prepare(c: &mut Criterion) {
    let mut group = c.benchmark_group("prepare");
    group.throughput(Throughput::Elements(1));
    for case in cases() {
        group.bench_with_input(BenchmarkId::from_parameter(case.name), &case, |b, case| {
            b.iter_batched(
                || case.raw.clone(),
                |mut event| {
                    let modules = javascript::prepare(black_box(&mut event));
                    (event, modules)
                },
                BatchSize::SmallInput,
            );
        });
    }
    group.finish();
}

fn from_cache(c: &mut Criterion) {
    let mut group = c.benchmark_group("from_cache");
    group.throughput(Throughput::Elements(1));
    for case in cases() {
        let cache: Arc<[u8]> = SourceMapModule::build(&case.minified, &case.source_map)
            .expect("fixture map builds")
            .into();
        group.bench_with_input(
            BenchmarkId::from_parameter(case.name),
            &cache,
            |b, cache| {
                b.iter(|| {
                    SourceMapModule::from_cache(
                        Arc::clone(black_box(cache)),
                        String::from("/srv/dist/app.min.js.map"),
                        ResolvedWith::DebugId,
                    )
                });
            },
        );
    }
    group.finish();
}

fn build(c: &mut Criterion) {
    let mut group = c.benchmark_group("build");
    for case in cases() {
        group.throughput(Throughput::Bytes(
            (case.minified.len() + case.source_map.len()) as u64,
        ));
        group.bench_with_input(BenchmarkId::from_parameter(case.name), &case, |b, case| {
            b.iter(|| SourceMapModule::build(black_box(&case.minified), &case.source_map));
        });
    }
    group.finish();
}

criterion_group!(benches, symbolicate, prepare, from_cache, build);
criterion_main!(benches);
