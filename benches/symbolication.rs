//! Symbolication benchmarks, on one thread: JavaScript, native, ProGuard.
//!
//! JavaScript:
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
//!
//! Native, on the ELF fixtures of `fixtures/native`:
//!
//! - `native/symbolicate/warm`: `native::symbolicate` of an event whose
//!   frames are addresses into the fixture, with its SymCache already
//!   built (the steady state, as for JavaScript). Throughput in frames
//!   found in a debug file, before inlined calls are expanded; the clone
//!   is not timed.
//! - `native/build`: `native::build_symcache`, the cold cost of a cache,
//!   in bytes of debug file.
//!
//! The cases: `crash`, `fixtures/native/crash` (a 25-line C program,
//! 18 KB) and the 3 frames of its crash; `rules`, `fixtures/native/rules`
//! (a C++ program using the standard library, 808 KB, most of it DWARF)
//! and the 22 frames of its crash as gdb unwinds it, 20 in the program
//! (28 once inlined calls are expanded) and 2 in a libc whose
//! debug file is missing.
//!
//! ProGuard, on the mapping of `symbolication::proguard`'s unit tests:
//! `proguard/symbolicate/warm` (frames deobfuscated, 3 of the event's 4)
//! and `proguard/build` (bytes of mapping).

use std::collections::HashMap;
use std::hint::black_box;
use std::path::PathBuf;
use std::sync::Arc;

use criterion::{BatchSize, BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use sentry_core::Event;
use sentry_core::symbolication::javascript::{self, ModuleLookup, ResolvedWith, SourceMapModule};
use sentry_core::symbolication::native::{self, ImageLookup, SymCacheModule};
use sentry_core::symbolication::proguard::{self, MappingLookup, MappingModule};
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

/// A debug file and an event whose frames point into it.
struct NativeCase {
    /// The bench's parameter.
    name: &'static str,
    /// The debug file.
    content: Vec<u8>,
    /// Its debug ID.
    debug_id: String,
    /// The event, as `native::prepare` leaves it.
    event: Event,
    /// The lookups: the fixture's cache, and any other image missing.
    lookups: HashMap<String, ImageLookup>,
    /// The frames `symbolicate` finds in the debug file.
    frames: u64,
}

/// Where the fixture is loaded in the event (gdb's address, without
/// address space randomization).
const NATIVE_BASE: u64 = 0x5555_5555_4000;

/// Where libc is loaded in the `rules` crash.
const LIBC_BASE: u64 = 0x7fff_f7a1_e000;

/// The debug ID of Debian 12's libc (build ID
/// `93ac61ec5a8eb1396f9fbd350e3169a558528a40`), whose debug file the
/// server does not have.
const LIBC_DEBUG_ID: &str = "ec61ac93-8e5a-39b1-6f9f-bd350e3169a5";

/// The return addresses of the `rules` crash in the program, relative to
/// it, outermost first, as `fixtures/native/README.md` lists them; the
/// last is the faulting instruction. `LIBC_FRAMES` come before them,
/// after `_start`.
const RULES_FRAMES: [u64; 19] = [
    0x34ee, 0x6630, 0x64b0, 0x2c8c, 0x42c8, 0x42c8, 0x42c8, 0x42c8, 0x42c8, 0x42c8, 0x433a, 0x23e9,
    0x3772, 0x3724, 0x74e4, 0x7391, 0x58e2, 0x5582, 0x2363,
];

/// `__libc_start_main_impl` and `__libc_start_call_main`, relative to libc.
const LIBC_FRAMES: [u64; 2] = [0x27305, 0x2724a];

/// `_start`, relative to the program.
const RULES_START: u64 = 0x2291;

/// Builds a native case: the fixture `file` of `fixtures/native` loaded
/// at `NATIVE_BASE` (`image_size` bytes mapped), and an event whose
/// frames are `addresses` (absolute, outermost first); `libc` adds a libc
/// image whose debug file is missing. `frames` is how many frames the
/// fixture must resolve, `innermost` the function and line the last
/// frame becomes.
fn native_case(
    name: &'static str,
    file: &str,
    image_size: u64,
    addresses: &[u64],
    libc: bool,
    frames: usize,
    innermost: (&str, u64),
) -> NativeCase {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../fixtures/native")
        .join(file);
    let content = std::fs::read(&path)
        .unwrap_or_else(|err| panic!("cannot read fixture {}: {err}", path.display()));
    let debug_file = native::read_debug_file(&content).expect("fixture is a debug file");
    let debug_id = debug_file[0].debug_id.clone();
    let cache: Arc<[u8]> = native::build_symcache(&content, &debug_id)
        .expect("fixture cache builds")
        .into();
    let mut images = vec![json!({
        "type": "elf",
        "debug_id": debug_id,
        "code_id": debug_file[0].code_id,
        "code_file": format!("/usr/local/bin/{file}"),
        "image_addr": format!("0x{NATIVE_BASE:x}"),
        "image_size": image_size,
    })];
    let mut lookups = HashMap::from([(
        debug_id.clone(),
        ImageLookup::Found(SymCacheModule::from_cache(cache).expect("cache parses")),
    )]);
    if libc {
        images.push(json!({
            "type": "elf",
            "debug_id": LIBC_DEBUG_ID,
            "code_id": "93ac61ec5a8eb1396f9fbd350e3169a558528a40",
            "code_file": "/usr/lib/x86_64-linux-gnu/libc.so.6",
            "image_addr": format!("0x{LIBC_BASE:x}"),
            "image_size": 0x1d5000,
        }));
        lookups.insert(LIBC_DEBUG_ID.to_owned(), ImageLookup::Missing);
    }
    let frame_values: Vec<_> = addresses
        .iter()
        .map(|address| json!({"instruction_addr": format!("0x{address:x}")}))
        .collect();
    let mut event: Event = serde_json::from_value(json!({
        "platform": "native",
        "debug_meta": {"images": images},
        "exception": {"values": [{
            "type": "SIGSEGV",
            "value": "Segfault",
            "stacktrace": {"frames": frame_values},
        }]}
    }))
    .expect("event");
    let used = native::prepare(&mut event);
    assert_eq!(used.len(), lookups.len(), "{name}: images used");
    let mut symbolicated = event.clone();
    let outcome = native::symbolicate(&mut symbolicated, &lookups);
    assert_eq!(outcome.symbolicated, frames, "{name}: frames found");
    assert_eq!(
        outcome.unsymbolicated,
        addresses.len() - frames,
        "{name}: frames not found"
    );
    let last = symbolicated.exceptions()[0]
        .stacktrace
        .as_ref()
        .and_then(|stacktrace| stacktrace.frames.last())
        .map(|frame| (frame.function.as_deref(), frame.lineno));
    assert_eq!(
        last,
        Some((Some(innermost.0), Some(innermost.1))),
        "{name}: innermost frame"
    );
    NativeCase {
        name,
        content,
        debug_id,
        event,
        lookups,
        frames: outcome.symbolicated as u64,
    }
}

fn native_cases() -> Vec<NativeCase> {
    let crash: Vec<u64> = [0x1194, 0x1179, 0x1152]
        .iter()
        .map(|offset| NATIVE_BASE + offset)
        .collect();
    let rules: Vec<u64> = std::iter::once(NATIVE_BASE + RULES_START)
        .chain(LIBC_FRAMES.iter().map(|offset| LIBC_BASE + offset))
        .chain(RULES_FRAMES.iter().map(|offset| NATIVE_BASE + offset))
        .collect();
    vec![
        native_case("crash", "crash", 0x5000, &crash, false, 3, ("read_slot", 7)),
        native_case(
            "rules",
            "rules",
            0xb000,
            &rules,
            true,
            20,
            ("shop::rules::discounted", 137),
        ),
    ]
}

fn native_symbolicate(c: &mut Criterion) {
    let mut group = c.benchmark_group("native/symbolicate");
    for case in native_cases() {
        group.throughput(Throughput::Elements(case.frames));
        group.bench_with_input(BenchmarkId::new("warm", case.name), &case, |b, case| {
            b.iter_batched(
                || case.event.clone(),
                |mut event| {
                    let outcome = native::symbolicate(black_box(&mut event), &case.lookups);
                    (event, outcome)
                },
                BatchSize::SmallInput,
            );
        });
    }
    group.finish();
}

fn native_build(c: &mut Criterion) {
    let mut group = c.benchmark_group("native/build");
    for case in native_cases() {
        group.throughput(Throughput::Bytes(case.content.len() as u64));
        group.bench_with_input(BenchmarkId::from_parameter(case.name), &case, |b, case| {
            b.iter(|| native::build_symcache(black_box(&case.content), &case.debug_id));
        });
    }
    group.finish();
}

/// The mapping of `symbolication::proguard`'s unit tests.
const MAPPING: &str = "\
com.example.shop.Checkout -> com.example.shop.a:
    int[] prices -> a
    6:8:void <init>(int[]) -> <init>
    11:15:int total() -> a
com.example.shop.Main -> com.example.shop.Main:
    3:3:void <init>() -> <init>
    6:17:void main(java.lang.String[]) -> main
com.example.shop.Validator -> com.example.shop.b:
    5:8:int checkPrice(int) -> a
";

/// The event of `symbolication::proguard`'s unit tests, 3 of its 4 frames
/// obfuscated, and its lookups.
fn proguard_case() -> (Event, HashMap<String, MappingLookup>) {
    let uuid = proguard::read_mapping(MAPPING.as_bytes()).expect("mapping");
    let frame = |module: &str, function: &str, line: u64| json!({"module": module, "function": function, "lineno": line, "filename": "SourceFile"});
    let event: Event = serde_json::from_value(json!({
        "platform": "java",
        "debug_meta": {"images": [{"type": "proguard", "uuid": uuid}]},
        "exception": {"values": [{
            "type": "b",
            "module": "com.example.shop",
            "stacktrace": {"frames": [
                frame("com.example.shop.Main", "main", 6),
                frame("com.example.shop.a", "a", 13),
                frame("com.example.shop.b", "a", 6),
                frame("java.lang.Thread", "run", 833),
            ]}
        }]}
    }))
    .expect("event");
    assert_eq!(proguard::prepare(&event), vec![uuid.clone()]);
    let cache: Arc<[u8]> = proguard::build_cache(MAPPING.as_bytes())
        .expect("mapping cache builds")
        .into();
    let module = MappingModule::from_cache(cache).expect("cache parses");
    let lookups = HashMap::from([(uuid, MappingLookup::Found(module))]);
    let outcome = proguard::symbolicate(&mut event.clone(), &lookups);
    assert_eq!(outcome.symbolicated, 3, "frames deobfuscated");
    (event, lookups)
}

fn proguard_symbolicate(c: &mut Criterion) {
    let mut group = c.benchmark_group("proguard/symbolicate");
    let (event, lookups) = proguard_case();
    group.throughput(Throughput::Elements(3));
    group.bench_function(BenchmarkId::new("warm", "shop"), |b| {
        b.iter_batched(
            || event.clone(),
            |mut event| {
                let outcome = proguard::symbolicate(black_box(&mut event), &lookups);
                (event, outcome)
            },
            BatchSize::SmallInput,
        );
    });
    group.finish();
}

fn proguard_build(c: &mut Criterion) {
    let mut group = c.benchmark_group("proguard/build");
    group.throughput(Throughput::Bytes(MAPPING.len() as u64));
    group.bench_function(BenchmarkId::from_parameter("shop"), |b| {
        b.iter(|| proguard::build_cache(black_box(MAPPING.as_bytes())));
    });
    group.finish();
}

criterion_group!(
    benches,
    symbolicate,
    prepare,
    from_cache,
    build,
    native_symbolicate,
    native_build,
    proguard_symbolicate,
    proguard_build
);
criterion_main!(benches);
