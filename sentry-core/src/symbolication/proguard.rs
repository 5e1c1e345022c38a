//! ProGuard (and R8) deobfuscation: Java frames of a shrunk and obfuscated
//! build turned back into their classes, methods and lines through the
//! mapping file the build wrote.
//!
//! `sentry-cli upload-proguard` uploads a mapping as a debug file named
//! `proguard/<uuid>.txt`, its UUID derived from its content
//! ([`read_mapping`]); the Android and Java SDKs send the UUIDs of their
//! mappings as `debug_meta` images of type `proguard`. [`prepare`] lists
//! them; the caller finds each mapping and hands over its cache (built
//! once by [`build_cache`]); [`symbolicate`] rewrites the event: the
//! classes of exceptions, and each frame's class (`module`), method
//! (`function`), line and file; a frame of inlined methods becomes one
//! frame per method, outermost first. The frames as they came are kept
//! in the raw stack trace.

use std::collections::HashMap;
use std::sync::Arc;

use proguard::{ProguardCache, ProguardMapping, StackFrame};
use serde_json::{Value, json};

use super::stacktraces_mut;
use crate::protocol::{Event, Frame};

/// Why a mapping could not be read.
#[derive(Debug, thiserror::Error)]
#[error("invalid ProGuard mapping: {0}")]
pub struct MappingError(String);

/// The UUID of a ProGuard mapping with line information, as
/// `sentry-cli` computes it; `None` for anything else.
pub fn read_mapping(content: &[u8]) -> Option<String> {
    let mapping = ProguardMapping::new(content);
    (mapping.is_valid() && mapping.has_line_info()).then(|| mapping.uuid().to_string())
}

/// Builds the lookup cache of a mapping.
///
/// # Errors
///
/// Fails when the content is not a mapping.
pub fn build_cache(content: &[u8]) -> Result<Vec<u8>, MappingError> {
    let mapping = ProguardMapping::new(content);
    if !mapping.is_valid() {
        return Err(MappingError("not a mapping file".to_owned()));
    }
    let mut cache = Vec::new();
    ProguardCache::write(&mapping, &mut cache).map_err(|error| MappingError(error.to_string()))?;
    Ok(cache)
}

/// A mapping's cache ready for lookups.
#[derive(Debug, Clone)]
pub struct MappingModule {
    cache: Arc<[u8]>,
}

impl MappingModule {
    /// Wraps a cache that [`build_cache`] made.
    ///
    /// # Errors
    ///
    /// Fails when the bytes are not such a cache.
    pub fn from_cache(cache: Arc<[u8]>) -> Result<Self, MappingError> {
        ProguardCache::parse(&cache).map_err(|error| MappingError(error.to_string()))?;
        Ok(Self { cache })
    }
}

/// What was found for one mapping.
#[derive(Debug, Clone)]
pub enum MappingLookup {
    /// Its cache.
    Found(MappingModule),
    /// No debug file of the project is this mapping.
    Missing,
    /// The mapping cannot be read.
    Malformed(String),
}

/// Whether an event's frames are Java's (or another JVM language's).
pub fn is_java(event: &Event) -> bool {
    matches!(event.platform.as_deref(), Some("java"))
}

/// The UUIDs of the event's ProGuard mappings, lowercase; empty unless
/// the event is Java's.
pub fn prepare(event: &Event) -> Vec<String> {
    if !is_java(event) {
        return Vec::new();
    }
    let images = event
        .debug_meta
        .as_ref()
        .and_then(|meta| meta.images.as_deref())
        .unwrap_or_default();
    let mut uuids: Vec<String> = Vec::new();
    for image in images {
        if image.get("type").and_then(Value::as_str) != Some("proguard") {
            continue;
        }
        let Some(uuid) = image
            .get("uuid")
            .or_else(|| image.get("debug_id"))
            .and_then(Value::as_str)
            .and_then(|text| uuid::Uuid::try_parse(text).ok())
        else {
            continue;
        };
        let uuid = uuid.to_string();
        if !uuids.contains(&uuid) {
            uuids.push(uuid);
        }
    }
    uuids
}

/// What [`symbolicate`] did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Outcome {
    /// Frames found in a mapping.
    pub symbolicated: usize,
    /// Frames no mapping had.
    pub unsymbolicated: usize,
}

/// Rewrites the event's classes and frames through its mappings
/// (`lookups`, by UUID; mappings missing from it were not looked up).
pub fn symbolicate(event: &mut Event, lookups: &HashMap<String, MappingLookup>) -> Outcome {
    let mut outcome = Outcome::default();
    if !is_java(event) {
        return outcome;
    }
    let mut errors = Vec::new();
    let mut caches = Vec::new();
    for (uuid, lookup) in lookups {
        match lookup {
            MappingLookup::Found(module) => caches.push(module),
            MappingLookup::Missing => {
                errors.push(json!({"type": "proguard_missing_mapping", "mapping_uuid": uuid}));
            }
            MappingLookup::Malformed(reason) => errors.push(
                json!({"type": "proguard_missing_mapping", "mapping_uuid": uuid, "message": reason}),
            ),
        }
    }
    let parsed: Vec<ProguardCache<'_>> = caches
        .iter()
        .filter_map(|module| ProguardCache::parse(&module.cache).ok())
        .collect();
    if !parsed.is_empty() {
        if let Some(exceptions) = event.exception.as_mut() {
            for exception in &mut exceptions.values {
                let class = match (&exception.module, &exception.ty) {
                    (Some(module), Some(ty)) => format!("{module}.{ty}"),
                    (None, Some(ty)) => ty.clone(),
                    _ => continue,
                };
                if let Some(original) = parsed.iter().find_map(|cache| cache.remap_class(&class)) {
                    match original.rsplit_once('.') {
                        Some((module, ty)) => {
                            exception.module = Some(module.to_owned());
                            exception.ty = Some(ty.to_owned());
                        }
                        None => exception.ty = Some(original.to_owned()),
                    }
                }
            }
        }
        for (stacktrace, raw_slot) in stacktraces_mut(event) {
            let raw = stacktrace.clone();
            let mut rewritten = false;
            let mut frames = Vec::with_capacity(stacktrace.frames.len());
            for frame in std::mem::take(&mut stacktrace.frames) {
                match remap(&parsed, &frame) {
                    Some(expanded) => {
                        outcome.symbolicated += 1;
                        rewritten = true;
                        frames.extend(expanded);
                    }
                    None => {
                        if frame.module.is_some() && frame.function.is_some() {
                            outcome.unsymbolicated += 1;
                        }
                        frames.push(frame);
                    }
                }
            }
            stacktrace.frames = frames;
            if rewritten {
                if let Some(slot) = raw_slot {
                    *slot = Some(raw);
                }
            }
        }
    }
    if !errors.is_empty() {
        event.errors.get_or_insert_with(Vec::new).extend(errors);
    }
    outcome
}

/// One frame through the mappings: the frames of its methods, outermost
/// first; `None` when no mapping knows it.
fn remap(caches: &[ProguardCache<'_>], frame: &Frame) -> Option<Vec<Frame>> {
    let class = frame.module.as_deref()?;
    let method = frame.function.as_deref()?;
    let line = frame
        .lineno
        .and_then(|line| usize::try_from(line).ok())
        .unwrap_or(0);
    let input = StackFrame::new(class, method, line);
    for cache in caches {
        // The remapped frames come innermost first.
        let found: Vec<StackFrame<'_>> = cache.remap_frame(&input).collect();
        if !found.is_empty() {
            let mut frames: Vec<Frame> = found
                .iter()
                .map(|remapped| {
                    let mut rewritten = frame.clone();
                    rewritten.module = Some(remapped.class().to_owned());
                    rewritten.function = Some(remapped.method().to_owned());
                    rewritten.lineno = remapped.line().map(|line| line as u64);
                    rewritten.filename = Some(
                        remapped
                            .file()
                            .map(str::to_owned)
                            .unwrap_or_else(|| source_file_of(remapped.class())),
                    );
                    rewritten.abs_path = rewritten.filename.clone();
                    rewritten
                })
                .collect();
            frames.reverse();
            return Some(frames);
        }
        if let Some((original_class, original_method)) = cache.remap_method(class, method) {
            let mut rewritten = frame.clone();
            rewritten.module = Some(original_class.to_owned());
            rewritten.function = Some(original_method.to_owned());
            rewritten.filename = Some(source_file_of(original_class));
            rewritten.abs_path = rewritten.filename.clone();
            return Some(vec![rewritten]);
        }
    }
    None
}

/// The source file of a class when the mapping names none: its outermost
/// class's simple name with `.java` (`a.b.Outer$Inner` → `Outer.java`).
fn source_file_of(class: &str) -> String {
    let simple = class.rsplit('.').next().unwrap_or(class);
    let outer = simple.split('$').next().unwrap_or(simple);
    format!("{outer}.java")
}

#[cfg(test)]
mod tests {
    use super::*;

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

    fn event(uuid: &str) -> Event {
        let frame = |module: &str, function: &str, line: u64| json!({"module": module, "function": function, "lineno": line, "filename": "SourceFile"});
        serde_json::from_value(json!({
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
        .unwrap()
    }

    #[test]
    fn deobfuscates_classes_methods_and_files() {
        let uuid = read_mapping(MAPPING.as_bytes()).unwrap();
        let mut event = event(&uuid);
        assert_eq!(prepare(&event), vec![uuid.clone()]);
        let cache = build_cache(MAPPING.as_bytes()).unwrap();
        let module = MappingModule::from_cache(cache.into()).unwrap();
        let lookups = HashMap::from([(uuid, MappingLookup::Found(module))]);
        let outcome = symbolicate(&mut event, &lookups);
        assert_eq!(
            outcome,
            Outcome {
                symbolicated: 3,
                unsymbolicated: 1
            }
        );
        let exception = &event.exceptions()[0];
        assert_eq!(exception.ty.as_deref(), Some("Validator"));
        assert_eq!(exception.module.as_deref(), Some("com.example.shop"));
        let frames: Vec<(&str, &str, Option<u64>, &str)> = exception
            .stacktrace
            .as_ref()
            .unwrap()
            .frames
            .iter()
            .map(|frame| {
                (
                    frame.module.as_deref().unwrap(),
                    frame.function.as_deref().unwrap(),
                    frame.lineno,
                    frame.filename.as_deref().unwrap(),
                )
            })
            .collect();
        assert_eq!(
            frames,
            [
                ("com.example.shop.Main", "main", Some(6), "Main.java"),
                (
                    "com.example.shop.Checkout",
                    "total",
                    Some(13),
                    "Checkout.java"
                ),
                (
                    "com.example.shop.Validator",
                    "checkPrice",
                    Some(6),
                    "Validator.java"
                ),
                ("java.lang.Thread", "run", Some(833), "SourceFile"),
            ]
        );
        let raw = exception.raw_stacktrace.as_ref().unwrap();
        assert_eq!(raw.frames[1].module.as_deref(), Some("com.example.shop.a"));
    }

    #[test]
    fn a_missing_mapping_is_an_event_error() {
        let mut event = event("0b1d3a4e-5f6a-5b7c-8d9e-0f1a2b3c4d5e");
        let lookups = HashMap::from([(
            "0b1d3a4e-5f6a-5b7c-8d9e-0f1a2b3c4d5e".to_owned(),
            MappingLookup::Missing,
        )]);
        symbolicate(&mut event, &lookups);
        assert_eq!(
            event.errors.as_ref().unwrap()[0]["type"],
            "proguard_missing_mapping"
        );
        assert_eq!(read_mapping(b"\x7fELF not a mapping"), None);
        assert!(build_cache(b"\x7fELF").is_err());
    }
}
