//! Minidumps: the crash reports of Breakpad, Crashpad, Electron and
//! Windows turned into event data.
//!
//! A minidump holds the crashed process's threads (registers and stack
//! memory), its loaded modules (executables and libraries, with their
//! debug IDs), the operating system and CPU, and the exception that ended
//! it. Turning it into an event takes three steps, with the server's
//! debug-file store between the first and the last:
//!
//! 1. [`list_modules`] reads the dump and lists its modules.
//! 2. For each module the caller looks up the project's debug file with
//!    its debug ID and builds its call frame information (CFI) with
//!    [`build_cfi`] (a cache worth keeping: it depends only on the debug
//!    file), then wraps it for stack walking with [`CfiModule::from_cache`].
//! 3. [`process`] walks every thread's stack with the CFI found; a module
//!    without CFI is walked through frame pointers and, failing those, by
//!    scanning the stack for return addresses. [`ProcessedMinidump::apply`]
//!    writes the result into the event as Sentry does: the crashing thread
//!    becomes the exception (`SIGSEGV`, `EXCEPTION_ACCESS_VIOLATION_READ`,
//!    ...), the other threads go to `threads`, the modules to
//!    `debug_meta.images`, the system to the `os` and `device` contexts.
//!
//! The frames come out unsymbolicated, known by their `instruction_addr`
//! alone; [`super::native`] then gives them functions, files and lines
//! through the same debug files, as for any native event. The first frame
//! of a stack (the last one written, frames being outermost first) holds
//! the exact address of the instruction that was running; every other
//! holds a return address, which native symbolication looks up one byte
//! back, in the call.
//!
//! A minidump is hostile input. Reading it must not panic (rust-minidump's
//! parsers are fuzzed upstream, and the tests here cut and overwrite a
//! real dump all over), and the work is bounded whatever it claims: at
//! most [`MAX_THREADS`] threads and [`MAX_MODULES`] modules are taken, at
//! most [`MAX_STACK_BYTES`] of each stack (and [`MAX_TOTAL_STACK_BYTES`]
//! of all of them) are walked, and the newest [`MAX_FRAMES`] frames of
//! each thread are kept. Walking is CPU work, in proportion to the stack
//! bytes walked: an async server runs [`process`] on a blocking thread.
//!
//! [`MAX_FRAMES`]: crate::normalize::trimming::MAX_FRAMES

mod event_data;
mod walk;

use std::collections::HashMap;
use std::sync::Arc;

use ::minidump::{
    CodeView, Minidump, MinidumpBreakpadInfo, MinidumpException, MinidumpMiscInfo, MinidumpModule,
    MinidumpModuleList, MinidumpSystemInfo, MinidumpThreadList, MinidumpThreadNames, Module,
};
use minidump_unwind::{SymbolFile, SystemInfo};
use serde_json::{Map, Value, json};
use symbolic_cfi::CfiCache;
use symbolic_common::{ByteView, DebugId};
use symbolic_debuginfo::Archive;

use self::event_data::{arch_name, crash_exception, image, os_context};
use self::walk::{CfiProvider, Walk, walk_order};
use super::native::DebugFileError;
use crate::protocol::{Event, Exception, Level, Thread, Values};

/// The most threads taken from a dump: the crashing thread and the first
/// others in the dump's order. Busy servers run a few hundred threads;
/// the rest of a larger list is left out.
pub const MAX_THREADS: usize = 256;

/// The most modules taken from a dump, in the dump's order (the main
/// executable first). Large applications load a few hundred.
pub const MAX_MODULES: usize = 1024;

/// The most bytes of one thread's stack that are walked, from its stack
/// pointer up. Each frame takes at least a word, and real ones take tens
/// to hundreds of bytes, so this holds far more than the 250 frames that
/// are kept, yet bounds the frames (and the memory) one thread can make
/// the stack walker produce.
pub const MAX_STACK_BYTES: u64 = 256 * 1024;

/// The most stack bytes walked in all the threads of a dump together; a
/// thread past it keeps only its innermost frame. The crashing thread is
/// walked first.
pub const MAX_TOTAL_STACK_BYTES: u64 = 16 * 1024 * 1024;

/// The longest module path or debug file name kept (Linux's `PATH_MAX`).
const MAX_NAME_BYTES: usize = 4096;

/// Why a minidump cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum MinidumpError {
    /// The header or the stream directory cannot be read.
    #[error("invalid minidump: {0}")]
    Invalid(String),
    /// A stream that processing needs is missing or cannot be read.
    #[error("invalid minidump: no readable {0} stream")]
    MissingStream(&'static str),
}

/// A module (executable or library) loaded in the crashed process.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DumpModule {
    /// Its debug ID, as Sentry writes it, when the dump has one: the key
    /// of its debug file.
    pub debug_id: Option<String>,
    /// Its code ID (an ELF build ID, a PE timestamp and size).
    pub code_id: Option<String>,
    /// Its path in the crashed process.
    pub code_file: String,
    /// The name of its debug file (a PDB's; an ELF's own path).
    pub debug_file: Option<String>,
    /// Where it was loaded.
    pub image_addr: u64,
    /// Its size in memory.
    pub image_size: u64,
}

/// Reads a minidump's modules, at most [`MAX_MODULES`], in the dump's
/// order (the main executable first). Several may share a debug ID.
///
/// # Errors
///
/// Fails when the dump's header, stream directory or system information
/// cannot be read.
pub fn list_modules(dump: &[u8]) -> Result<Vec<DumpModule>, MinidumpError> {
    let dump = read(dump)?;
    read_system_info(&dump)?;
    Ok(read_modules(&dump).iter().map(describe).collect())
}

/// Builds the call frame information of the object with `debug_id` in a
/// debug file, for stack walking: Breakpad `STACK CFI` and `STACK WIN`
/// records from its DWARF, Mach-O compact unwind, PE or PDB unwind
/// tables, behind `symbolic-cfi`'s versioned header. The result depends
/// only on the debug file: cache it, and hand it to
/// [`CfiModule::from_cache`].
///
/// # Errors
///
/// Fails when the file cannot be read, holds no such object, or its
/// unwind tables are broken.
pub fn build_cfi(content: &[u8], debug_id: &str) -> Result<Vec<u8>, DebugFileError> {
    let error = |error: &dyn std::fmt::Display| DebugFileError(error.to_string());
    let wanted: DebugId = debug_id.parse().map_err(|e| error(&e))?;
    let archive = Archive::parse(content).map_err(|e| error(&e))?;
    for object in archive.objects() {
        let object = object.map_err(|e| error(&e))?;
        if object.debug_id() != wanted {
            continue;
        }
        let cache = CfiCache::from_object(&object).map_err(|e| error(&e))?;
        let mut bytes = Vec::new();
        cache.write_to(&mut bytes).map_err(|e| error(&e))?;
        return Ok(bytes);
    }
    Err(DebugFileError(format!(
        "no object with debug ID {debug_id}"
    )))
}

/// The call frame information of one module, ready for stack walking.
#[derive(Clone)]
pub struct CfiModule {
    symbols: Arc<SymbolFile>,
}

impl std::fmt::Debug for CfiModule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The records themselves run to megabytes for large libraries.
        f.debug_struct("CfiModule")
            .field(
                "cfi_ranges",
                &self.symbols.cfi_stack_info.ranges_values().len(),
            )
            .finish_non_exhaustive()
    }
}

impl CfiModule {
    /// Reads a cache that [`build_cfi`] made. This parses the whole of it
    /// (about as long as building it took for large libraries): a caller
    /// walking many dumps keeps the module, not only the bytes.
    ///
    /// # Errors
    ///
    /// Fails when the bytes are not such a cache, or one from a version of
    /// the format this one does not read.
    pub fn from_cache(cache: &[u8]) -> Result<Self, DebugFileError> {
        let error = |error: &dyn std::fmt::Display| DebugFileError(error.to_string());
        let cache = CfiCache::from_bytes(ByteView::from_slice(cache)).map_err(|e| error(&e))?;
        if !cache.is_latest() {
            return Err(DebugFileError(format!(
                "CFI cache of version {}",
                cache.version()
            )));
        }
        let symbols = SymbolFile::from_bytes(cache.as_slice()).map_err(|e| error(&e))?;
        Ok(Self {
            symbols: Arc::new(symbols),
        })
    }
}

/// What a minidump tells about its crash, in the shape of event data;
/// [`ProcessedMinidump::apply`] writes it into the event.
#[derive(Debug, Clone, PartialEq)]
pub struct ProcessedMinidump {
    /// Whether the process crashed (the dump has an exception); a dump
    /// written on request has none.
    pub crashed: bool,
    /// The exception: the crash reason, and the stack trace of the thread
    /// that crashed (or requested the dump), with that frame's registers.
    pub exception: Option<Exception>,
    /// Every thread taken, in the dump's order; the crashing one is
    /// marked and has its stack trace in the exception instead.
    pub threads: Vec<Thread>,
    /// The modules as debug images (`type`, `code_file`, `code_id`,
    /// `debug_file`, `debug_id`, `image_addr`, `image_size`, `arch`).
    pub images: Vec<Value>,
    /// The `os` context: `name`, `version`, `build`.
    pub os: Map<String, Value>,
    /// The `device` context: `arch`.
    pub device: Map<String, Value>,
}

impl ProcessedMinidump {
    /// Writes the minidump's data into its event, as Sentry merges what
    /// Symbolicator found: the platform becomes `native`; the level
    /// `fatal` when the process crashed; the first exception (the
    /// upload's placeholder) takes the crash's type, value, mechanism,
    /// thread and stack trace; `threads` and `debug_meta.images` are
    /// replaced; the `os` and `device` contexts get the fields the event
    /// does not already have.
    pub fn apply(self, event: &mut Event) {
        event.platform = Some("native".to_owned());
        if self.crashed {
            event.level = Some(Level::Fatal);
        }
        let contexts = event.contexts.get_or_insert_with(Map::new);
        for (name, fields) in [("os", self.os), ("device", self.device)] {
            let context = contexts
                .entry(name)
                .or_insert_with(|| Value::Object(Map::new()));
            if !context.is_object() {
                *context = Value::Object(Map::new());
            }
            if let Value::Object(context) = context {
                for (key, value) in fields {
                    context.entry(key).or_insert(value);
                }
            }
        }
        event.debug_meta.get_or_insert_with(Default::default).images = Some(self.images);
        if let Some(crash) = self.exception {
            let exceptions = event.exception.get_or_insert_with(Default::default);
            match exceptions.values.first_mut() {
                Some(placeholder) => {
                    // Without a crash, the placeholder keeps its type.
                    if crash.ty.is_some() {
                        placeholder.ty = crash.ty;
                        placeholder.value = crash.value;
                        placeholder.mechanism = crash.mechanism;
                    }
                    placeholder.thread_id = crash.thread_id;
                    placeholder.stacktrace = crash.stacktrace;
                    placeholder.raw_stacktrace = None;
                }
                None => exceptions.values.push(crash),
            }
        }
        event.threads = Some(Values::new(self.threads));
    }
}

/// Records in the event's `errors` that its minidump could not be
/// processed (`native_symbolicator_failed`, as Sentry records a failed
/// minidump); the event keeps the upload's placeholder exception.
pub fn record_failure(event: &mut Event, error: &MinidumpError) {
    super::push_error(
        event.errors.get_or_insert_with(Vec::new),
        json!({"type": "native_symbolicator_failed", "message": error.to_string()}),
    );
}

/// Walks the stacks of a minidump's threads, with the CFI found for its
/// modules (`cfi`, by debug ID as [`list_modules`] gives it; a module
/// missing from it is walked without), and gathers what the event needs.
///
/// # Errors
///
/// Fails when the dump's header, stream directory, system information or
/// thread list cannot be read.
pub fn process(
    dump: &[u8],
    cfi: &HashMap<String, CfiModule>,
) -> Result<ProcessedMinidump, MinidumpError> {
    let dump = read(dump)?;
    let system = read_system_info(&dump)?;
    let thread_list = dump
        .get_stream::<MinidumpThreadList<'_>>()
        .map_err(|_| MinidumpError::MissingStream("thread list"))?;
    let modules = read_modules(&dump);
    let misc = dump.get_stream::<MinidumpMiscInfo>().ok();
    let memory = dump.get_memory().unwrap_or_default();
    let names = dump.get_stream::<MinidumpThreadNames>().unwrap_or_default();
    let (dump_thread, requesting_thread) = dump
        .get_stream::<MinidumpBreakpadInfo>()
        .map(|info| (info.dump_thread_id, info.requesting_thread_id))
        .unwrap_or_default();
    let exception = dump.get_stream::<MinidumpException<'_>>().ok();
    // The thread the exception names crashed; without an exception, the
    // dump may still name the thread that asked for it.
    let blamed = exception
        .as_ref()
        .map(MinidumpException::get_crashing_thread_id)
        .or(requesting_thread);

    let (os_version, os_build) = system.os_parts();
    let mut walk = Walk {
        unwind_info: SystemInfo {
            os: system.os,
            os_version: Some(os_version.clone()),
            os_build: os_build.clone(),
            cpu: system.cpu,
            cpu_info: None,
            cpu_microcode_version: None,
            cpu_count: usize::from(system.raw.number_of_processors),
        },
        memory: &memory,
        modules: &modules,
        provider: CfiProvider { cfi },
        budget: MAX_TOTAL_STACK_BYTES,
    };

    let mut walked: Vec<(usize, Thread)> = Vec::new();
    let mut crash_stacktrace = None;
    for index in walk_order(&thread_list.threads, blamed) {
        let Some(thread) = thread_list.threads.get(index) else {
            continue;
        };
        let id = thread.raw.thread_id;
        let is_blamed = Some(id) == blamed;
        let mut entry = Thread {
            id: Some(json!(id)),
            name: names.get_name(id).map(|name| truncated(&name)),
            crashed: Some(is_blamed && exception.is_some()),
            current: Some(is_blamed),
            ..Thread::default()
        };
        // A Breakpad handler writes the dump from a thread of its own,
        // whose stack shows only the writing.
        let context = if Some(id) == dump_thread {
            None
        } else if is_blamed {
            exception
                .as_ref()
                .and_then(|exception| exception.context(&system, misc.as_ref()))
                .or_else(|| thread.context(&system, misc.as_ref()))
        } else {
            thread.context(&system, misc.as_ref())
        };
        if let Some(context) = context {
            let stacktrace = walk.stack(index, thread, context.into_owned());
            if is_blamed {
                crash_stacktrace = Some(stacktrace);
            } else {
                entry.stacktrace = Some(stacktrace);
            }
        }
        walked.push((index, entry));
    }
    walked.sort_by_key(|(index, _)| *index);
    let threads = walked.into_iter().map(|(_, thread)| thread).collect();

    let crashed = exception.is_some();
    let exception = match &exception {
        Some(exception) => Some(crash_exception(exception, &system, crash_stacktrace)),
        // Sentry keeps the upload's placeholder type when nothing
        // crashed, but the stack trace of the thread that asked for the
        // dump is still the one to show.
        None => crash_stacktrace.map(|stacktrace| Exception {
            thread_id: blamed.map(|id| json!(id)),
            stacktrace: Some(stacktrace),
            ..Exception::default()
        }),
    };
    let images = modules
        .iter()
        .map(|module| image(&describe(module), system.os, system.cpu))
        .collect();
    let mut device = Map::new();
    device.insert("type".to_owned(), json!("device"));
    device.insert("arch".to_owned(), json!(arch_name(system.cpu)));

    Ok(ProcessedMinidump {
        crashed,
        exception,
        threads,
        images,
        os: os_context(system.os, &os_version, os_build.as_deref()),
        device,
    })
}

fn read(dump: &[u8]) -> Result<Minidump<'_, &[u8]>, MinidumpError> {
    Minidump::read(dump).map_err(|error| MinidumpError::Invalid(error.to_string()))
}

fn read_system_info(dump: &Minidump<'_, &[u8]>) -> Result<MinidumpSystemInfo, MinidumpError> {
    dump.get_stream::<MinidumpSystemInfo>()
        .map_err(|_| MinidumpError::MissingStream("system info"))
}

/// The dump's modules, at most [`MAX_MODULES`], with names cut to
/// [`MAX_NAME_BYTES`]: the stack walker copies a frame's module into the
/// frame, so a huge name would be copied once per frame.
fn read_modules(dump: &Minidump<'_, &[u8]>) -> MinidumpModuleList {
    let Ok(listed) = dump.get_stream::<MinidumpModuleList>() else {
        return MinidumpModuleList::new();
    };
    let kept = listed
        .iter()
        .take(MAX_MODULES)
        .map(|module| {
            let mut module = module.clone();
            if module.name.len() > MAX_NAME_BYTES {
                module.name = truncated(&module.name);
            }
            match &mut module.codeview_info {
                Some(CodeView::Pdb70(record)) => record.pdb_file_name.truncate(MAX_NAME_BYTES),
                Some(CodeView::Pdb20(record)) => record.pdb_file_name.truncate(MAX_NAME_BYTES),
                Some(CodeView::Elf(record)) => record.build_id.truncate(MAX_NAME_BYTES),
                Some(CodeView::Unknown(bytes)) => bytes.truncate(MAX_NAME_BYTES),
                None => {}
            }
            module
        })
        .collect();
    MinidumpModuleList::from_modules(kept)
}

/// Cuts a name from the dump to [`MAX_NAME_BYTES`], on a character
/// boundary.
fn truncated(name: &str) -> String {
    let mut end = name.len().min(MAX_NAME_BYTES);
    while !name.is_char_boundary(end) {
        end -= 1;
    }
    name.get(..end).unwrap_or_default().to_owned()
}

fn describe(module: &MinidumpModule) -> DumpModule {
    DumpModule {
        debug_id: module
            .debug_identifier()
            .filter(|id| !id.is_nil())
            .map(|id| id.to_string()),
        code_id: module
            .code_identifier()
            .filter(|id| !id.is_nil())
            .map(|id| id.to_string()),
        code_file: module.code_file().into_owned(),
        debug_file: module
            .debug_file()
            .map(|name| name.into_owned())
            .filter(|name| !name.is_empty()),
        image_addr: module.base_address(),
        image_size: module.size(),
    }
}

#[cfg(test)]
mod tests {
    use ::minidump::UnifiedMemory;

    use super::walk::window;
    use super::*;

    const DUMP: &[u8] = include_bytes!("../../../../fixtures/native/crash.dmp");
    const CRASH: &[u8] = include_bytes!("../../../../fixtures/native/crash");

    fn crash_debug_id() -> String {
        super::super::native::read_debug_file(CRASH).unwrap()[0]
            .debug_id
            .clone()
    }

    #[test]
    fn lists_the_modules_of_the_committed_dump() {
        let modules = list_modules(DUMP).unwrap();
        let crash = modules
            .iter()
            .find(|module| module.code_file.ends_with("/crash"))
            .unwrap();
        assert_eq!(crash.debug_id.as_deref(), Some(crash_debug_id().as_str()));
        assert_eq!(
            crash.code_id.as_deref(),
            Some("4ddd54076f1b1c3d3286917ceb19bbff7e4cd409")
        );
        assert!(
            modules
                .iter()
                .any(|module| module.code_file.contains("libc.so")),
            "{modules:?}"
        );
    }

    #[test]
    fn the_committed_dump_becomes_a_sigsegv_with_its_stack() {
        let debug_id = crash_debug_id();
        let cfi = build_cfi(CRASH, &debug_id).unwrap();
        let module = CfiModule::from_cache(&cfi).unwrap();
        let processed = process(DUMP, &HashMap::from([(debug_id.clone(), module)])).unwrap();
        assert!(processed.crashed);
        let exception = processed.exception.as_ref().unwrap();
        assert_eq!(exception.ty.as_deref(), Some("SIGSEGV"));
        assert_eq!(
            exception.value.as_deref(),
            Some("Fatal Error: SIGSEGV / SEGV_MAPERR")
        );
        let mechanism = exception.mechanism.as_ref().unwrap();
        assert_eq!(mechanism.ty.as_deref(), Some("minidump"));
        assert_eq!(mechanism.other["meta"]["signal"]["number"], 11);
        assert_eq!(mechanism.other["meta"]["signal"]["code"], 1);
        assert_eq!(mechanism.other["data"]["relevant_address"], "0xc");

        // The innermost frames: the faulting instruction, then the return
        // addresses in `middle` and `main`, found through the executable's
        // CFI. (Past `main`, in libc, whose CFI is not given, the walker
        // falls back to scanning.)
        let image = processed
            .images
            .iter()
            .find(|image| image["debug_id"] == debug_id.as_str())
            .unwrap();
        let base = super::super::native::parse_address(&image["image_addr"]).unwrap();
        let stacktrace = exception.stacktrace.as_ref().unwrap();
        let innermost: Vec<(u64, &str)> = stacktrace
            .frames
            .iter()
            .rev()
            .take(3)
            .map(|frame| {
                let address =
                    super::super::native::parse_address(frame.instruction_addr.as_ref().unwrap())
                        .unwrap();
                (address - base, frame.trust.as_deref().unwrap())
            })
            .collect();
        assert_eq!(
            innermost,
            [(0x1152, "context"), (0x1179, "cfi"), (0x1194, "cfi")]
        );
        let registers = stacktrace.registers.as_ref().unwrap();
        assert_eq!(
            registers["rip"],
            format!("0x{:016x}", base + 0x1152).as_str()
        );

        let crashed: Vec<&Thread> = processed
            .threads
            .iter()
            .filter(|thread| thread.crashed == Some(true))
            .collect();
        assert_eq!(crashed.len(), 1);
        assert_eq!(crashed[0].id, exception.thread_id);
        assert!(crashed[0].stacktrace.is_none());
        assert_eq!(processed.os["name"], "Linux");
        assert_eq!(processed.device["arch"], "x86_64");
    }

    #[test]
    fn without_cfi_the_walker_falls_back_to_frame_pointers() {
        let processed = process(DUMP, &HashMap::new()).unwrap();
        let frames = &processed.exception.unwrap().stacktrace.unwrap().frames;
        let trusts: Vec<&str> = frames
            .iter()
            .rev()
            .take(3)
            .filter_map(|frame| frame.trust.as_deref())
            .collect();
        assert_eq!(trusts, ["context", "fp", "fp"]);
    }

    #[test]
    fn applying_replaces_the_placeholder() {
        let fields = [("sentry".to_owned(), r#"{"release":"1.0"}"#.to_owned())];
        let event = crate::minidump_upload::event_from_fields(&fields).unwrap();
        let mut event: Event = serde_json::from_value(event).unwrap();
        let processed = process(DUMP, &HashMap::new()).unwrap();
        processed.clone().apply(&mut event);
        let exceptions = event.exceptions();
        assert_eq!(exceptions.len(), 1);
        assert_eq!(exceptions[0].ty.as_deref(), Some("SIGSEGV"));
        assert_eq!(
            exceptions[0].mechanism.as_ref().unwrap().synthetic,
            Some(true)
        );
        assert_eq!(event.level, Some(Level::Fatal));
        assert_eq!(event.platform.as_deref(), Some("native"));
        assert_eq!(event.release.as_deref(), Some("1.0"));
        assert_eq!(
            event.threads.as_ref().unwrap().values.len(),
            processed.threads.len()
        );
        let contexts = event.contexts.as_ref().unwrap();
        assert_eq!(contexts["os"]["type"], "os");
        assert_eq!(contexts["device"]["arch"], "x86_64");
        let images = event.debug_meta.as_ref().unwrap().images.as_ref().unwrap();
        assert_eq!(images.len(), processed.images.len());
        assert!(images.iter().all(|image| image["type"] == "elf"));
        // The event serializes, and native symbolication finds its images.
        serde_json::to_vec(&event).unwrap();
        assert!(!super::super::native::prepare(&mut event).is_empty());
    }

    /// The committed dump with its exception stream's directory entry
    /// turned into an unused one: a dump written on request.
    fn dump_without_exception() -> Vec<u8> {
        let mut dump = DUMP.to_vec();
        let word = |dump: &[u8], at: usize| {
            u32::from_le_bytes(dump[at..at + 4].try_into().unwrap()) as usize
        };
        let (count, directory) = (word(&dump, 8), word(&dump, 12));
        let entry = (0..count)
            .map(|index| directory + index * 12)
            .find(|&entry| word(&dump, entry) == 6)
            .unwrap();
        dump[entry..entry + 4].fill(0);
        dump
    }

    #[test]
    fn a_dump_without_an_exception_keeps_the_placeholder() {
        let processed = process(&dump_without_exception(), &HashMap::new()).unwrap();
        assert!(!processed.crashed);
        assert!(processed.exception.is_none());
        let thread = &processed.threads[0];
        assert_eq!(thread.crashed, Some(false));
        assert!(!thread.stacktrace.as_ref().unwrap().frames.is_empty());

        let fields = [("sentry".to_owned(), r#"{"level":"warning"}"#.to_owned())];
        let event = crate::minidump_upload::event_from_fields(&fields).unwrap();
        let mut event: Event = serde_json::from_value(event).unwrap();
        processed.apply(&mut event);
        assert_eq!(event.exceptions()[0].ty.as_deref(), Some("Minidump"));
        assert_eq!(event.level, Some(Level::Warning));
    }

    #[test]
    fn a_failure_is_recorded_once_on_the_event() {
        let mut event = Event::default();
        let Err(error) = process(b"", &HashMap::new()) else {
            panic!("an empty dump is no minidump");
        };
        record_failure(&mut event, &error);
        record_failure(&mut event, &error);
        let errors = event.errors.unwrap_or_default();
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert_eq!(errors[0]["type"], "native_symbolicator_failed");
        assert!(
            errors[0]["message"]
                .as_str()
                .is_some_and(|m| m.contains("invalid minidump"))
        );
    }

    #[test]
    fn hostile_input_is_an_error_not_a_panic() {
        let empty = list_modules(b"");
        assert!(matches!(empty, Err(MinidumpError::Invalid(_))), "{empty:?}");
        assert!(process(b"", &HashMap::new()).is_err());

        let mut garbage = b"MDMP\x93\xa7\x00\x00".to_vec();
        garbage.extend((0..4096u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8));
        assert!(list_modules(&garbage).is_err());
        assert!(process(&garbage, &HashMap::new()).is_err());

        // A dump cut anywhere reads or fails, without panicking; cut
        // within its directory or streams, it fails.
        for length in (0..DUMP.len()).step_by(61) {
            let cut = &DUMP[..length];
            let _ = list_modules(cut);
            let _ = process(cut, &HashMap::new());
        }
        assert!(process(&DUMP[..1024], &HashMap::new()).is_err());

        // Bytes overwritten all over the dump (counts, sizes, offsets,
        // registers, stack contents): read or refused, never a panic.
        for (step, position) in (0..DUMP.len()).step_by(7).enumerate() {
            let mut mutated = DUMP.to_vec();
            let value = [0xff, 0x00, 0x7f, 0x80][step % 4];
            let end = (position + 4).min(mutated.len());
            mutated[position..end].fill(value);
            let _ = list_modules(&mutated);
            let _ = process(&mutated, &HashMap::new());
        }

        assert!(CfiModule::from_cache(b"not a cache").is_err());
        assert!(build_cfi(b"junk", "d8a71f9e-0c5f-4d8b-91a3-6f3f0b8a1e2c").is_err());
    }

    #[test]
    fn a_stack_window_stops_at_its_limit() {
        let bytes = [0u8; 64];
        let memory = ::minidump::MinidumpMemory {
            desc: Default::default(),
            base_address: 0x1000,
            size: 64,
            bytes: &bytes,
            endian: ::minidump::Endian::Little,
        };
        let cut = window(UnifiedMemory::Memory(&memory), 0x1010, 16);
        assert_eq!(cut.walked, 16);
        assert_eq!(cut.memory().bytes().len(), 32);
        // A stack pointer outside the region walks from its start.
        let cut = window(UnifiedMemory::Memory(&memory), 0x10, 1024);
        assert_eq!(cut.walked, 64);
    }
}
