//! Native symbolication: frames known only by an instruction address
//! turned into functions, files and lines through the debug files of the
//! images (executables and libraries) the event lists in `debug_meta`.
//!
//! Debug files are read with Sentry's `symbolic` crates: [`DebugFile`]
//! tells what an uploaded file is (ELF, Mach-O, PE/PDB, Breakpad), and a
//! [`SymCache`] built from it once ([`build_symcache`]) answers address
//! lookups, inlined calls included. [`prepare`] lists the images an
//! event's frames point into; the caller finds their debug files and
//! hands over their caches; [`symbolicate`] rewrites the frames: an
//! address with inlined calls becomes one frame per call, innermost last,
//! with the function's demangled name (C++, Rust, Swift), the mangled one
//! as `raw_function`, file and line. The frames as they came are kept in
//! the raw stack trace; what could not be done is recorded in the event's
//! `errors`, as Sentry records it.

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::{Value, json};
use symbolic_common::{ByteView, DebugId, Language, Name, NameMangling};
use symbolic_debuginfo::{Archive, FileFormat, ObjectKind};
use symbolic_demangle::{Demangle, DemangleOptions};
use symbolic_symcache::{SymCache, SymCacheConverter};

use super::{push_error, stacktraces_mut};
use crate::protocol::{Event, Frame};

/// Why a debug file could not be read.
#[derive(Debug, thiserror::Error)]
#[error("invalid debug file: {0}")]
pub struct DebugFileError(pub(super) String);

/// What an uploaded debug file holds, one entry per object (a fat Mach-O
/// holds several).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DebugFile {
    /// The object's debug ID, as Sentry writes it (`uuid` or
    /// `uuid-appendix`).
    pub debug_id: String,
    /// The object's code ID (an ELF build ID, a PE timestamp and size).
    pub code_id: Option<String>,
    /// Its format: `elf`, `macho`, `pe`, `pdb`, `breakpad`, ...
    pub format: String,
    /// Its CPU architecture, e.g. `x86_64`.
    pub arch: String,
    /// What kind of object: `exe`, `lib`, `dbg`, ...
    pub kind: String,
    /// What it can be used for: `symtab`, `debug`, `unwind`, `sources`.
    pub features: Vec<String>,
}

/// Reads what a debug file holds.
///
/// # Errors
///
/// Fails when the content is no debug file `symbolic` knows.
pub fn read_debug_file(content: &[u8]) -> Result<Vec<DebugFile>, DebugFileError> {
    let error = |error: &dyn std::fmt::Display| DebugFileError(error.to_string());
    let archive = Archive::parse(content).map_err(|e| error(&e))?;
    let format = archive.file_format();
    let mut files = Vec::new();
    for object in archive.objects() {
        let object = object.map_err(|e| error(&e))?;
        let mut features = Vec::new();
        if object.has_symbols() {
            features.push("symtab".to_owned());
        }
        if object.has_debug_info() {
            features.push("debug".to_owned());
        }
        if object.has_unwind_info() {
            features.push("unwind".to_owned());
        }
        if object.has_sources() {
            features.push("sources".to_owned());
        }
        files.push(DebugFile {
            debug_id: object.debug_id().to_string(),
            code_id: object.code_id().map(|id| id.to_string()),
            format: format_name(format).to_owned(),
            arch: object.arch().name().to_owned(),
            kind: kind_name(object.kind()).to_owned(),
            features,
        });
    }
    if files.is_empty() {
        return Err(DebugFileError("the file holds no object".to_owned()));
    }
    Ok(files)
}

fn format_name(format: FileFormat) -> &'static str {
    match format {
        FileFormat::Elf => "elf",
        FileFormat::MachO => "macho",
        FileFormat::Pe => "pe",
        FileFormat::Pdb => "pdb",
        FileFormat::Breakpad => "breakpad",
        FileFormat::SourceBundle => "sourcebundle",
        FileFormat::Wasm => "wasm",
        FileFormat::PortablePdb => "portablepdb",
        _ => "unknown",
    }
}

fn kind_name(kind: ObjectKind) -> &'static str {
    match kind {
        ObjectKind::Executable => "exe",
        ObjectKind::Library => "lib",
        ObjectKind::Debug => "dbg",
        ObjectKind::Sources => "src",
        ObjectKind::Relocatable => "rel",
        ObjectKind::Dump => "dump",
        _ => "other",
    }
}

/// Builds the lookup cache (a SymCache) of the object with `debug_id` in
/// a debug file.
///
/// # Errors
///
/// Fails when the file cannot be read or holds no such object.
pub fn build_symcache(content: &[u8], debug_id: &str) -> Result<Vec<u8>, DebugFileError> {
    let error = |error: &dyn std::fmt::Display| DebugFileError(error.to_string());
    let wanted: DebugId = debug_id.parse().map_err(|e| error(&e))?;
    let view = ByteView::from_slice(content);
    let archive = Archive::parse(&view).map_err(|e| error(&e))?;
    for object in archive.objects() {
        let object = object.map_err(|e| error(&e))?;
        if object.debug_id() != wanted {
            continue;
        }
        let mut converter = SymCacheConverter::new();
        converter.process_object(&object).map_err(|e| error(&e))?;
        let mut cache = Vec::new();
        converter.serialize(&mut cache).map_err(|e| error(&e))?;
        return Ok(cache);
    }
    Err(DebugFileError(format!(
        "no object with debug ID {debug_id}"
    )))
}

/// An image an event's frames point into, from its `debug_meta`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageRef {
    /// Its debug ID, as Sentry writes it.
    pub debug_id: String,
    /// Its code ID, if the SDK sent one.
    pub code_id: Option<String>,
    /// Its path on the device (`code_file`).
    pub code_file: Option<String>,
    /// Where it was loaded.
    pub image_addr: u64,
    /// Its size in memory; 0 when unknown (then it reaches the next image).
    pub image_size: u64,
}

/// A symbolication cache ready for lookups.
#[derive(Debug, Clone)]
pub struct SymCacheModule {
    cache: Arc<[u8]>,
}

impl SymCacheModule {
    /// Wraps a cache that [`build_symcache`] made.
    ///
    /// # Errors
    ///
    /// Fails when the bytes are not such a cache.
    pub fn from_cache(cache: Arc<[u8]>) -> Result<Self, DebugFileError> {
        SymCache::parse(&cache).map_err(|error| DebugFileError(error.to_string()))?;
        Ok(Self { cache })
    }
}

/// What was found for one image.
#[derive(Debug, Clone)]
pub enum ImageLookup {
    /// Its symbolication cache.
    Found(SymCacheModule),
    /// No debug file of the project has its debug ID.
    Missing,
    /// Its debug file cannot be read.
    Malformed(String),
}

/// Whether an event's frames are native.
pub fn is_native(event: &Event) -> bool {
    matches!(
        event.platform.as_deref(),
        Some("native" | "c" | "cocoa" | "objc" | "swift")
    )
}

/// Reads an address as SDKs send it: a `0x` hex string, or a number.
pub fn parse_address(value: &Value) -> Option<u64> {
    match value {
        Value::String(text) => {
            let digits = text
                .strip_prefix("0x")
                .or_else(|| text.strip_prefix("0X"))?;
            u64::from_str_radix(digits, 16).ok()
        }
        Value::Number(number) => number.as_u64(),
        _ => None,
    }
}

/// The images of the event's `debug_meta`, sorted by load address.
fn images(event: &Event) -> Vec<ImageRef> {
    let listed = event
        .debug_meta
        .as_ref()
        .and_then(|meta| meta.images.as_deref())
        .unwrap_or_default();
    let mut images: Vec<ImageRef> = listed
        .iter()
        .filter(|image| {
            matches!(
                image.get("type").and_then(Value::as_str),
                Some("elf" | "macho" | "pe" | "symbolic" | "apple" | "wasm")
            )
        })
        .filter_map(|image| {
            let text = |key: &str| image.get(key).and_then(Value::as_str).map(str::to_owned);
            let debug_id: DebugId = text("debug_id")
                .or_else(|| text("id"))
                .or_else(|| text("uuid"))?
                .parse()
                .ok()?;
            Some(ImageRef {
                debug_id: debug_id.to_string(),
                code_id: text("code_id"),
                code_file: text("code_file").or_else(|| text("name")),
                image_addr: parse_address(image.get("image_addr")?)?,
                image_size: image.get("image_size").and_then(parse_address).unwrap_or(0),
            })
        })
        .collect();
    images.sort_by_key(|image| image.image_addr);
    images
}

/// The image an address falls in.
fn image_of(images: &[ImageRef], address: u64) -> Option<&ImageRef> {
    let index = images.partition_point(|image| image.image_addr <= address);
    let image = images.get(index.checked_sub(1)?)?;
    let reaches = match image.image_size {
        0 => images.get(index).map_or(u64::MAX, |next| next.image_addr),
        size => image.image_addr.saturating_add(size),
    };
    (address < reaches).then_some(image)
}

/// The images the event's frames point into, each once; empty unless
/// the event is native.
pub fn prepare(event: &mut Event) -> Vec<ImageRef> {
    if !is_native(event) {
        return Vec::new();
    }
    let images = images(event);
    let mut used: Vec<ImageRef> = Vec::new();
    for (stacktrace, _) in stacktraces_mut(event) {
        for frame in &stacktrace.frames {
            let Some(address) = frame.instruction_addr.as_ref().and_then(parse_address) else {
                continue;
            };
            if let Some(image) = image_of(&images, address) {
                if used.iter().all(|known| known.debug_id != image.debug_id) {
                    used.push(image.clone());
                }
            }
        }
    }
    used
}

/// What [`symbolicate`] did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Outcome {
    /// Frames found in a debug file (before inlined calls are expanded).
    pub symbolicated: usize,
    /// Frames in an image whose debug file is missing or unreadable, or
    /// whose address it does not cover.
    pub unsymbolicated: usize,
}

/// Rewrites the event's native frames through the caches found for their
/// images (`lookups`, by debug ID; an image missing from it was not looked
/// up and its frames are left as they are).
pub fn symbolicate(event: &mut Event, lookups: &HashMap<String, ImageLookup>) -> Outcome {
    let mut outcome = Outcome::default();
    if !is_native(event) {
        return outcome;
    }
    let images = images(event);
    let mut errors: Vec<Value> = Vec::new();
    for (stacktrace, raw_slot) in stacktraces_mut(event) {
        let raw = stacktrace.clone();
        let count = stacktrace.frames.len();
        let mut rewritten = false;
        let mut frames = Vec::with_capacity(count);
        for (index, frame) in std::mem::take(&mut stacktrace.frames)
            .into_iter()
            .enumerate()
        {
            let address = frame.instruction_addr.as_ref().and_then(parse_address);
            let image = address.and_then(|address| image_of(&images, address));
            let (Some(address), Some(image)) = (address, image) else {
                frames.push(frame);
                continue;
            };
            match lookups.get(&image.debug_id) {
                Some(ImageLookup::Found(module)) => {
                    // Frames are outermost first; all but the crashing one
                    // (the last) hold a return address, just past the call.
                    let caller = index + 1 < count;
                    let lookup_address = if caller {
                        address.saturating_sub(1)
                    } else {
                        address
                    };
                    // A return address at the very start of an image
                    // (never a real one) stays at the image's start.
                    let relative = lookup_address.saturating_sub(image.image_addr);
                    let expanded = lookup(module, relative, &frame, image);
                    if expanded.is_empty() {
                        outcome.unsymbolicated += 1;
                        frames.push(frame);
                    } else {
                        outcome.symbolicated += 1;
                        rewritten = true;
                        frames.extend(expanded);
                    }
                }
                Some(ImageLookup::Missing) => {
                    outcome.unsymbolicated += 1;
                    push_error(
                        &mut errors,
                        json!({"type": "native_missing_dsym", "image_path": image.code_file, "image_uuid": image.debug_id}),
                    );
                    frames.push(frame);
                }
                Some(ImageLookup::Malformed(reason)) => {
                    outcome.unsymbolicated += 1;
                    push_error(
                        &mut errors,
                        json!({"type": "native_bad_dsym", "image_path": image.code_file, "image_uuid": image.debug_id, "message": reason}),
                    );
                    frames.push(frame);
                }
                None => frames.push(frame),
            }
        }
        stacktrace.frames = frames;
        if rewritten {
            if let Some(slot) = raw_slot {
                *slot = Some(raw);
            }
        }
    }
    if !errors.is_empty() {
        event.errors.get_or_insert_with(Vec::new).extend(errors);
    }
    outcome
}

/// A function's name as people read it (C++, Rust, Swift, Objective-C,
/// MSVC): without parameters and hashes; the name itself when it is not
/// mangled or cannot be demangled.
fn demangle(mangled: &str, language: Language) -> String {
    Name::new(mangled, NameMangling::Unknown, language)
        .try_demangle(DemangleOptions::name_only())
        .into_owned()
}

/// The frames of one address: the calls inlined there, outermost first,
/// each a copy of `frame` with its function, file and line.
fn lookup(module: &SymCacheModule, relative: u64, frame: &Frame, image: &ImageRef) -> Vec<Frame> {
    let Ok(cache) = SymCache::parse(&module.cache) else {
        return Vec::new();
    };
    // The lookup yields the innermost inlined call first.
    let mut found: Vec<Frame> = cache
        .lookup(relative)
        .map(|location| {
            let function = location.function();
            let mangled = function.name();
            let demangled = demangle(mangled, function.language());
            let mut rewritten = frame.clone();
            rewritten.function = Some(demangled.clone());
            rewritten.raw_function = (demangled != mangled).then(|| mangled.to_owned());
            rewritten.symbol = Some(mangled.to_owned());
            if let Some(file) = location.file() {
                let path = file.full_path();
                rewritten.filename = Some(
                    path.rsplit(['/', '\\'])
                        .next()
                        .unwrap_or(path.as_str())
                        .to_owned(),
                );
                rewritten.abs_path = Some(path);
            }
            rewritten.lineno = match location.line() {
                0 => None,
                line => Some(u64::from(line)),
            };
            rewritten.symbol_addr = Some(Value::from(format!(
                "0x{:x}",
                image.image_addr + u64::from(function.entry_pc())
            )));
            rewritten.package = image.code_file.clone();
            rewritten.data.get_or_insert_with(Default::default).insert(
                "symbolicator_status".to_owned(),
                Value::from("symbolicated"),
            );
            rewritten
        })
        .collect();
    found.reverse();
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_demangled_for_each_language() {
        for (mangled, language, expected) in [
            // C++ (Itanium), as gcc and clang write it.
            (
                "_ZN4shop5rules10discountedERKNS_4CartE",
                Language::Cpp,
                "shop::rules::discounted",
            ),
            // Rust, legacy mangling (the default) and v0, hash left out.
            (
                "_ZN4core9panicking5panic17h0123456789abcdefE",
                Language::Rust,
                "core::panicking::panic",
            ),
            (
                "_RNvNtCs1234_4shop5rules10discounted",
                Language::Rust,
                "shop::rules::discounted",
            ),
            // Swift.
            ("$s4main5helloyyF", Language::Swift, "hello"),
            // MSVC, as a PDB names a C++ method.
            ("?total@Checkout@@QEAAHXZ", Language::Cpp, "Checkout::total"),
            // Not mangled: as it is.
            ("crash_here", Language::C, "crash_here"),
        ] {
            assert_eq!(demangle(mangled, language), expected, "{mangled}");
            assert_eq!(
                demangle(mangled, Language::Unknown),
                expected,
                "{mangled} (no language)"
            );
        }
    }

    fn event(images: Value, addresses: &[&str]) -> Event {
        let frames: Vec<Value> = addresses
            .iter()
            .map(|address| json!({"instruction_addr": address}))
            .collect();
        serde_json::from_value(json!({
            "platform": "native",
            "debug_meta": {"images": images},
            "exception": {"values": [{"type": "SIGSEGV", "stacktrace": {"frames": frames}}]}
        }))
        .unwrap()
    }

    #[test]
    fn reads_addresses_as_sdks_send_them() {
        assert_eq!(parse_address(&json!("0x1000")), Some(0x1000));
        assert_eq!(parse_address(&json!(4096)), Some(4096));
        assert_eq!(parse_address(&json!("1000")), None);
        assert_eq!(parse_address(&json!("0xzz")), None);
    }

    #[test]
    fn frames_find_their_images() {
        let images = json!([
            {"type": "elf", "debug_id": "d8a71f9e-0c5f-4d8b-91a3-6f3f0b8a1e2c", "image_addr": "0x1000", "image_size": 4096, "code_file": "/app/prog"},
            {"type": "elf", "debug_id": "11111111-2222-3333-4444-555555555555", "image_addr": "0x10000", "image_size": 0},
            {"type": "sourcemap", "debug_id": "11111111-2222-3333-4444-666666666666", "code_file": "x.js"},
        ]);
        let mut event = event(images, &["0x1800", "0x1900", "0x3000", "0x20000"]);
        let used = prepare(&mut event);
        let ids: Vec<&str> = used.iter().map(|image| image.debug_id.as_str()).collect();
        assert_eq!(
            ids,
            [
                "d8a71f9e-0c5f-4d8b-91a3-6f3f0b8a1e2c",
                "11111111-2222-3333-4444-555555555555"
            ]
        );
        let mut javascript = event.clone();
        javascript.platform = Some("javascript".to_owned());
        assert!(prepare(&mut javascript).is_empty());
    }

    const CRASH: &[u8] = include_bytes!("../../../fixtures/native/crash");
    const BASE: u64 = 0x5555_5555_4000;

    #[test]
    fn reads_an_elf_and_symbolicates_its_frames_with_inlined_calls() {
        let files = read_debug_file(CRASH).unwrap();
        assert_eq!(files.len(), 1);
        let file = &files[0];
        assert_eq!(file.format, "elf");
        assert_eq!(file.arch, "x86_64");
        // A position-independent executable is a shared object to ELF.
        assert_eq!(file.kind, "lib");
        assert!(file.features.contains(&"debug".to_owned()), "{file:?}");
        assert!(file.features.contains(&"symtab".to_owned()), "{file:?}");
        // An ELF's debug ID is its build ID's first 16 bytes as a GUID.
        let code_id = file.code_id.as_deref().unwrap();
        assert_eq!(code_id.len(), 40);

        let cache = build_symcache(CRASH, &file.debug_id).unwrap();
        let module = SymCacheModule::from_cache(cache.into()).unwrap();
        let images = json!([{
            "type": "elf",
            "debug_id": file.debug_id,
            "code_id": code_id,
            "code_file": "/usr/local/bin/crash",
            "image_addr": format!("0x{BASE:x}"),
            "image_size": 0x5000,
        }]);
        let address = |offset: u64| format!("0x{:x}", BASE + offset);
        let mut event = event(
            images,
            &[&address(0x1194), &address(0x1179), &address(0x1152)],
        );
        let used = prepare(&mut event);
        assert_eq!(used.len(), 1);
        let lookups = HashMap::from([(file.debug_id.clone(), ImageLookup::Found(module))]);
        let outcome = symbolicate(&mut event, &lookups);
        assert_eq!(
            outcome,
            Outcome {
                symbolicated: 3,
                unsymbolicated: 0
            }
        );
        let frames = &event.exceptions()[0].stacktrace.as_ref().unwrap().frames;
        let summary: Vec<(&str, &str, u64)> = frames
            .iter()
            .map(|frame| {
                (
                    frame.function.as_deref().unwrap(),
                    frame.abs_path.as_deref().unwrap(),
                    frame.lineno.unwrap(),
                )
            })
            .collect();
        assert_eq!(
            summary,
            [
                ("main", "/src/crash.c", 24),
                ("middle", "/src/crash.c", 17),
                ("crash_here", "/src/crash.c", 11),
                ("read_slot", "/src/crash.c", 7),
            ]
        );
        assert_eq!(frames[3].filename.as_deref(), Some("crash.c"));
        assert_eq!(frames[3].package.as_deref(), Some("/usr/local/bin/crash"));
        // Both frames of the faulting address keep it.
        assert_eq!(frames[2].instruction_addr, frames[3].instruction_addr);
        let raw = event.exceptions()[0].raw_stacktrace.as_ref().unwrap();
        assert_eq!(raw.frames.len(), 3);
        assert!(event.errors.is_none());
    }

    #[test]
    fn a_breakpad_file_symbolicates_like_its_executable() {
        let symbols = include_bytes!("../../../fixtures/native/crash.sym");
        let files = read_debug_file(symbols).unwrap();
        let elf = read_debug_file(CRASH).unwrap();
        assert_eq!(files[0].format, "breakpad");
        assert_eq!(files[0].debug_id, elf[0].debug_id);
        let cache = build_symcache(symbols, &files[0].debug_id).unwrap();
        let module = SymCacheModule::from_cache(cache.into()).unwrap();
        let images = json!([{
            "type": "elf",
            "debug_id": files[0].debug_id,
            "image_addr": format!("0x{BASE:x}"),
            "image_size": 0x5000,
        }]);
        let address = |offset: u64| format!("0x{:x}", BASE + offset);
        let mut event = event(
            images,
            &[&address(0x1194), &address(0x1179), &address(0x1152)],
        );
        let lookups = HashMap::from([(files[0].debug_id.clone(), ImageLookup::Found(module))]);
        assert_eq!(symbolicate(&mut event, &lookups).symbolicated, 3);
        let frames = &event.exceptions()[0].stacktrace.as_ref().unwrap().frames;
        let summary: Vec<(&str, u64)> = frames
            .iter()
            .map(|frame| (frame.function.as_deref().unwrap(), frame.lineno.unwrap()))
            .collect();
        // Without inline records the inlined `read_slot` is not a frame.
        assert_eq!(summary, [("main", 24), ("middle", 17), ("crash_here", 11)]);
        assert_eq!(frames[2].abs_path.as_deref(), Some("/src/crash.c"));
    }

    #[test]
    fn an_address_at_an_images_start_does_not_underflow() {
        let files = read_debug_file(CRASH).unwrap();
        let cache = build_symcache(CRASH, &files[0].debug_id).unwrap();
        let module = SymCacheModule::from_cache(cache.into()).unwrap();
        let images = json!([{
            "type": "elf",
            "debug_id": files[0].debug_id,
            "image_addr": format!("0x{BASE:x}"),
            "image_size": 0x5000,
        }]);
        // The outer frame's address is the image's first byte: its lookup
        // address (one byte back) would fall before the image.
        let start = format!("0x{BASE:x}");
        let inner = format!("0x{:x}", BASE + 0x1152);
        let mut event = event(images, &[&start, &inner]);
        let lookups = HashMap::from([(files[0].debug_id.clone(), ImageLookup::Found(module))]);
        let outcome = symbolicate(&mut event, &lookups);
        assert_eq!(outcome.symbolicated + outcome.unsymbolicated, 2);
    }

    #[test]
    fn missing_and_broken_debug_files_are_event_errors() {
        let images = json!([
            {"type": "elf", "debug_id": "d8a71f9e-0c5f-4d8b-91a3-6f3f0b8a1e2c", "image_addr": "0x1000", "image_size": 4096, "code_file": "/app/prog"},
        ]);
        let mut event = event(images, &["0x1800"]);
        let lookups = HashMap::from([(
            "d8a71f9e-0c5f-4d8b-91a3-6f3f0b8a1e2c".to_owned(),
            ImageLookup::Missing,
        )]);
        let outcome = symbolicate(&mut event, &lookups);
        assert_eq!(outcome.unsymbolicated, 1);
        assert_eq!(
            event.errors.as_ref().unwrap()[0]["type"],
            "native_missing_dsym"
        );
        assert!(read_debug_file(b"not a debug file").is_err());
        assert!(build_symcache(b"junk", "d8a71f9e-0c5f-4d8b-91a3-6f3f0b8a1e2c").is_err());
    }
}
