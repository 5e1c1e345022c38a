//! Walking one thread's stack with minidump-unwind, within bounds: the
//! order threads are walked in, the window of stack memory the walker
//! gets, the provider that hands it the CFI found, and the walked frames
//! as a stack trace.

use std::collections::HashMap;
use std::future::Future;
use std::path::PathBuf;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use ::minidump::{
    MinidumpContext, MinidumpMemoryBase, MinidumpModuleList, MinidumpThread, Module, UnifiedMemory,
    UnifiedMemoryList,
};
use minidump_unwind::{
    CallStack, FileError, FileKind, FillSymbolError, FrameSymbolizer, FrameTrust, FrameWalker,
    SymbolFile, SymbolProvider, SystemInfo, walk_stack,
};
use serde_json::{Map, Value, json};

use super::{CfiModule, MAX_STACK_BYTES, MAX_THREADS};
use crate::normalize::trimming::MAX_FRAMES;
use crate::protocol::{Frame, Stacktrace};

/// How often a stack walk is polled (see [`run`]).
const MAX_POLLS: usize = 1024;

/// The order threads are walked in: the blamed thread first (so that the
/// stack budget goes to it first), then the others in the dump's order,
/// up to [`MAX_THREADS`] in all.
pub(super) fn walk_order(threads: &[MinidumpThread<'_>], blamed: Option<u32>) -> Vec<usize> {
    let blamed_index = threads
        .iter()
        .position(|thread| Some(thread.raw.thread_id) == blamed);
    let others = (0..threads.len()).filter(|index| Some(*index) != blamed_index);
    blamed_index
        .into_iter()
        .chain(others)
        .take(MAX_THREADS)
        .collect()
}

/// What walking each thread needs, and the stack bytes left to walk.
pub(super) struct Walk<'a, 'dump> {
    /// The system, as the walker wants it.
    pub(super) unwind_info: SystemInfo,
    /// The dump's memory, where the stacks are.
    pub(super) memory: &'a UnifiedMemoryList<'dump>,
    /// The dump's modules.
    pub(super) modules: &'a MinidumpModuleList,
    /// The CFI found.
    pub(super) provider: CfiProvider<'a>,
    /// Stack bytes left to walk in all threads.
    pub(super) budget: u64,
}

impl Walk<'_, '_> {
    /// Walks one thread's stack from `context`, within [`MAX_STACK_BYTES`]
    /// and what is left of the budget.
    pub(super) fn stack(
        &mut self,
        index: usize,
        thread: &MinidumpThread<'_>,
        context: MinidumpContext,
    ) -> Stacktrace {
        let stack_pointer = context.get_stack_pointer();
        let mut stack = CallStack::with_context(context);
        // The exception's context may point into other memory than the
        // thread's stack (a signal handler's alternate stack).
        let stack_memory = thread
            .stack_memory(self.memory)
            .filter(|stack| contains(*stack, stack_pointer))
            .or_else(|| self.memory.memory_at_address(stack_pointer))
            .or_else(|| thread.stack_memory(self.memory));
        let limit = self.budget.min(MAX_STACK_BYTES);
        let window = stack_memory.map(|stack| window(stack, stack_pointer, limit));
        if let Some(window) = &window {
            self.budget = self.budget.saturating_sub(window.walked);
        }
        let walk = walk_stack(
            index,
            (),
            &mut stack,
            window.as_ref().map(Window::memory),
            self.modules,
            &self.unwind_info,
            &self.provider,
        );
        // A walk that does not finish keeps the frames found so far.
        let _ = run(walk);
        stacktrace(&stack)
    }
}

/// A walked stack as a stack trace: the newest [`MAX_FRAMES`] frames,
/// outermost first, each with its `instruction_addr` (the exact address
/// for the innermost frame, the return address for the others), how the
/// walker found it (`trust`) and its module's path (`package`); and the
/// registers of the innermost frame.
fn stacktrace(stack: &CallStack) -> Stacktrace {
    let mut frames: Vec<Frame> = stack
        .frames
        .iter()
        .take(MAX_FRAMES)
        .map(|frame| Frame {
            instruction_addr: Some(json!(format!("0x{:x}", frame.resume_address))),
            trust: Some(trust_name(frame.trust).to_owned()),
            package: frame.module.as_ref().map(|module| module.name.clone()),
            ..Frame::default()
        })
        .collect();
    frames.reverse();
    let registers = stack
        .frames
        .first()
        .map(|frame| registers(&frame.context))
        .filter(|registers| !registers.is_empty())
        .map(Value::Object);
    Stacktrace {
        frames,
        registers,
        ..Stacktrace::default()
    }
}

/// Sentry's names for how a frame was found.
fn trust_name(trust: FrameTrust) -> &'static str {
    match trust {
        FrameTrust::None => "none",
        FrameTrust::Scan => "scan",
        FrameTrust::CfiScan => "cfi_scan",
        FrameTrust::FramePointer => "fp",
        FrameTrust::CallFrameInfo => "cfi",
        FrameTrust::PreWalked => "prewalked",
        FrameTrust::Context => "context",
    }
}

/// The valid registers of a context, as hex strings of the register's
/// width.
fn registers(context: &MinidumpContext) -> Map<String, Value> {
    let digits = context.register_size() * 2;
    context
        .valid_registers()
        .map(|(name, value)| (name.to_owned(), json!(format!("0x{value:0digits$x}"))))
        .collect()
}

/// Whether a memory region holds an address.
fn contains(memory: UnifiedMemory<'_, '_>, address: u64) -> bool {
    memory
        .memory_range()
        .is_some_and(|range| range.start <= address && address <= range.end)
}

/// The part of a stack region the walker is given: from the region's
/// start up to `limit` bytes past the stack pointer.
pub(super) struct Window<'a> {
    region: WindowRegion<'a>,
    /// Bytes from the stack pointer to the window's end.
    pub(super) walked: u64,
}

enum WindowRegion<'a> {
    Memory(::minidump::MinidumpMemory<'a>),
    Memory64(::minidump::MinidumpMemory64<'a>),
}

impl Window<'_> {
    pub(super) fn memory(&self) -> UnifiedMemory<'_, '_> {
        match &self.region {
            WindowRegion::Memory(memory) => UnifiedMemory::Memory(memory),
            WindowRegion::Memory64(memory) => UnifiedMemory::Memory64(memory),
        }
    }
}

pub(super) fn window<'a>(
    stack: UnifiedMemory<'_, 'a>,
    stack_pointer: u64,
    limit: u64,
) -> Window<'a> {
    fn cut<'a, D: Clone>(
        memory: &MinidumpMemoryBase<'a, D>,
        stack_pointer: u64,
        limit: u64,
    ) -> (MinidumpMemoryBase<'a, D>, u64) {
        let length = memory.bytes.len();
        let start = usize::try_from(stack_pointer.saturating_sub(memory.base_address))
            .unwrap_or(usize::MAX)
            .min(length);
        let end = start
            .saturating_add(usize::try_from(limit).unwrap_or(usize::MAX))
            .min(length);
        let bytes = memory.bytes.get(..end).unwrap_or_default();
        let cut = MinidumpMemoryBase {
            desc: memory.desc.clone(),
            base_address: memory.base_address,
            size: bytes.len() as u64,
            bytes,
            endian: memory.endian,
        };
        (cut, (end - start) as u64)
    }
    match stack {
        UnifiedMemory::Memory(memory) => {
            let (cut, walked) = cut(memory, stack_pointer, limit);
            Window {
                region: WindowRegion::Memory(cut),
                walked,
            }
        }
        UnifiedMemory::Memory64(memory) => {
            let (cut, walked) = cut(memory, stack_pointer, limit);
            Window {
                region: WindowRegion::Memory64(cut),
                walked,
            }
        }
    }
}

/// Runs a stack walk to its end. minidump-unwind's walker is async so
/// that symbol providers may fetch files; ours has everything in memory
/// and answers at once, so the walk completes in its first poll. A few
/// more are allowed for a future that merely yields; `None` if it still
/// has not finished.
fn run<F: Future>(future: F) -> Option<F::Output> {
    let mut future = pin!(future);
    let mut context = Context::from_waker(Waker::noop());
    for _ in 0..MAX_POLLS {
        if let Poll::Ready(output) = future.as_mut().poll(&mut context) {
            return Some(output);
        }
    }
    None
}

/// Gives the stack walker the CFI of the modules that have it.
pub(super) struct CfiProvider<'a> {
    /// The CFI found, by debug ID.
    pub(super) cfi: &'a HashMap<String, CfiModule>,
}

impl CfiProvider<'_> {
    fn module_cfi(&self, module: &dyn Module) -> Option<&SymbolFile> {
        let debug_id = module.debug_identifier()?;
        self.cfi
            .get(&debug_id.to_string())
            .map(|cfi| cfi.symbols.as_ref())
    }
}

#[async_trait::async_trait]
impl SymbolProvider for CfiProvider<'_> {
    /// Names no function (that comes later, from the debug files), but
    /// tells the stack scanner which candidate return addresses to drop:
    /// one in a module whose CFI covers no function there is no return
    /// address (`Ok` with no name). For any other address the answer is
    /// "no symbols" (`Err`), and the scanner takes the candidate.
    async fn fill_symbol(
        &self,
        module: &(dyn Module + Sync),
        frame: &mut (dyn FrameSymbolizer + Send),
    ) -> Result<(), FillSymbolError> {
        let Some(symbols) = self.module_cfi(module) else {
            return Err(FillSymbolError {});
        };
        let Some(offset) = frame.get_instruction().checked_sub(module.base_address()) else {
            return Err(FillSymbolError {});
        };
        if symbols.cfi_stack_info.is_empty() || symbols.cfi_stack_info.get(offset).is_some() {
            Err(FillSymbolError {})
        } else {
            Ok(())
        }
    }

    async fn walk_frame(
        &self,
        module: &(dyn Module + Sync),
        walker: &mut (dyn FrameWalker + Send),
    ) -> Option<()> {
        self.module_cfi(module)?.walk_frame(module, walker)
    }

    async fn get_file_path(
        &self,
        _module: &(dyn Module + Sync),
        _file_kind: FileKind,
    ) -> Result<PathBuf, FileError> {
        Err(FileError::NotFound)
    }
}
