//! A real minidump, made here: the fixture program `crash` (see
//! `fixtures/native/README.md`) dies of SIGSEGV under ptrace, and
//! `minidump-writer` writes its dump, as a Breakpad or Crashpad handler
//! would. The dump then goes the way an upload does: its modules are
//! listed, the executable's CFI is built from its debug file, the stacks
//! are walked, the result is applied to the upload's event, and native
//! symbolication names the frames.
//!
//! With `SENTRY_UPDATE_FIXTURES=1` the dump is also written to
//! `fixtures/native/crash.dmp`, which other tests (and the server's
//! end-to-end test) read.
//!
//! The workspace forbids `unsafe`, so the child is started stopped by a
//! shell (`kill -STOP $$; exec crash`) rather than through `fork` and
//! `PTRACE_TRACEME`, and the fault address, which the kernel hands over
//! only in a union of `siginfo_t`, is computed from the faulting
//! instruction instead.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use minidump_writer::CrashContextExt;
use minidump_writer::crash_context::CrashContext;
use minidump_writer::minidump_writer::MinidumpWriterConfig;
use nix::libc;
use nix::sys::ptrace::{self, regset};
use nix::sys::signal::{self, Signal};
use nix::sys::wait::{WaitPidFlag, WaitStatus, waitpid};
use nix::unistd::Pid;
use sentry_core::Event;
use sentry_core::minidump_upload::event_from_fields;
use sentry_core::symbolication::minidump::{self, CfiModule};
use sentry_core::symbolication::native::{self, ImageLookup, SymCacheModule};

fn fixture(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fixtures")
        .join(path)
}

/// The crashed child: stopped, with its registers at the fault.
struct Crashed {
    child: Reaped,
    context: CrashContext,
}

/// A child process that is killed and reaped when dropped, also when an
/// assertion fails halfway.
struct Reaped(Child);

impl Drop for Reaped {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Runs `program` until it faults, and leaves it stopped there.
fn run_until_sigsegv(program: &Path) -> Crashed {
    // The shell stops itself, so that it can be traced before it runs
    // the program, which then has an empty environment but the shell's
    // `PWD` (nothing of ours goes into the dump).
    let child = Reaped(
        Command::new("/bin/sh")
            .arg("-c")
            .arg(r#"kill -STOP $$; exec "$0""#)
            .arg(program)
            .env_clear()
            .current_dir(program.parent().unwrap())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let pid = Pid::from_raw(i32::try_from(child.0.id()).unwrap());
    let stopped = waitpid(pid, Some(WaitPidFlag::WUNTRACED)).unwrap();
    assert_eq!(stopped, WaitStatus::Stopped(pid, Signal::SIGSTOP));
    ptrace::seize(pid, ptrace::Options::empty()).unwrap();
    signal::kill(pid, Signal::SIGCONT).unwrap();
    loop {
        match waitpid(pid, None).unwrap() {
            WaitStatus::Stopped(_, Signal::SIGSEGV) => break,
            WaitStatus::Stopped(..) | WaitStatus::PtraceEvent(..) => {
                ptrace::cont(pid, None).unwrap();
            }
            other => panic!("the program did not fault: {other:?}"),
        }
    }

    let regs = ptrace::getregs(pid).unwrap();
    let fpregs = ptrace::getregset::<regset::NT_PRFPREG>(pid).unwrap();
    let siginfo = ptrace::getsiginfo(pid).unwrap();
    // `crash_here` faults reading `slots[3]` through a null `slots`:
    // `mov 0xc(%rdi),%ebx`.
    let instruction = ptrace::read(pid, regs.rip as ptrace::AddressType).unwrap();
    assert_eq!(
        &instruction.to_le_bytes()[..3],
        [0x8b, 0x5f, 0x0c],
        "not the fixture's faulting instruction"
    );
    let fault_address = regs.rdi.wrapping_add(0xc);

    // All zeros, then the fields minidump-writer reads.
    let mut context = CrashContext::from_bytes(&vec![0; size_of::<CrashContext>()]).unwrap();
    context.pid = pid.as_raw();
    context.tid = pid.as_raw();
    context.siginfo.ssi_signo = u32::try_from(siginfo.si_signo).unwrap();
    context.siginfo.ssi_code = siginfo.si_code;
    context.siginfo.ssi_errno = siginfo.si_errno;
    context.siginfo.ssi_addr = fault_address;
    let gregs = &mut context.context.uc_mcontext.gregs;
    for (index, value) in [
        (libc::REG_R8, regs.r8),
        (libc::REG_R9, regs.r9),
        (libc::REG_R10, regs.r10),
        (libc::REG_R11, regs.r11),
        (libc::REG_R12, regs.r12),
        (libc::REG_R13, regs.r13),
        (libc::REG_R14, regs.r14),
        (libc::REG_R15, regs.r15),
        (libc::REG_RDI, regs.rdi),
        (libc::REG_RSI, regs.rsi),
        (libc::REG_RBP, regs.rbp),
        (libc::REG_RBX, regs.rbx),
        (libc::REG_RDX, regs.rdx),
        (libc::REG_RAX, regs.rax),
        (libc::REG_RCX, regs.rcx),
        (libc::REG_RSP, regs.rsp),
        (libc::REG_RIP, regs.rip),
        (libc::REG_EFL, regs.eflags),
        (libc::REG_CSGSFS, regs.cs | regs.gs << 16 | regs.fs << 32),
        (libc::REG_CR2, fault_address),
    ] {
        gregs[usize::try_from(index).unwrap()] = i64::from_ne_bytes(value.to_ne_bytes());
    }
    let float = &mut context.float_state;
    float.cwd = fpregs.cwd;
    float.swd = fpregs.swd;
    float.ftw = fpregs.ftw;
    float.fop = fpregs.fop;
    float.rip = fpregs.rip;
    float.rdp = fpregs.rdp;
    float.mxcsr = fpregs.mxcsr;
    float.mxcr_mask = fpregs.mxcr_mask;
    float.st_space = fpregs.st_space;
    float.xmm_space = fpregs.xmm_space;

    // Let go, stopped instead of dying of the SIGSEGV: minidump-writer
    // attaches to it in turn.
    ptrace::detach(pid, Signal::SIGSTOP).unwrap();
    Crashed { child, context }
}

/// Crashes the fixture program and writes its minidump.
fn minidump_of_crash() -> Vec<u8> {
    // A copy in a directory of its own: the dump records the program's
    // path, and the fixture's should not depend on the checkout.
    let directory = std::env::temp_dir().join(format!("sentry-minidump-{}", std::process::id()));
    std::fs::create_dir_all(&directory).unwrap();
    let program = directory.join("crash");
    std::fs::copy(fixture("native/crash"), &program).unwrap();

    let Crashed { child, context } = run_until_sigsegv(&program);
    let pid = context.pid;
    let mut config = MinidumpWriterConfig::new(pid, pid);
    config.set_crash_context(CrashContextExt { inner: context });
    let mut file = std::io::Cursor::new(Vec::new());
    let written = config.write(&mut file);
    drop(child);
    std::fs::remove_dir_all(&directory).unwrap();
    written.unwrap();
    file.into_inner()
}

#[test]
fn a_crashed_programs_minidump_is_walked_and_symbolicated() {
    let dump = minidump_of_crash();
    assert!(dump.starts_with(b"MDMP"));
    if std::env::var_os("SENTRY_UPDATE_FIXTURES").is_some() {
        std::fs::write(fixture("native/crash.dmp"), &dump).unwrap();
    }

    // The modules: the executable, with the debug ID its debug file has,
    // and libc.
    let executable = std::fs::read(fixture("native/crash")).unwrap();
    let debug_id = native::read_debug_file(&executable).unwrap()[0]
        .debug_id
        .clone();
    let modules = minidump::list_modules(&dump).unwrap();
    let crash = modules
        .iter()
        .find(|module| module.code_file.ends_with("/crash"))
        .unwrap();
    assert_eq!(crash.debug_id.as_deref(), Some(debug_id.as_str()));
    assert!(
        modules
            .iter()
            .any(|module| module.code_file.contains("/libc.so")),
        "{modules:?}"
    );

    // The CFI of the executable, found by debug ID as the server finds
    // it; and that of the system's libraries, which are on this machine
    // (a project would upload them): walking through libc needs its CFI.
    let mut cfi = HashMap::new();
    for module in &modules {
        let Some(module_id) = &module.debug_id else {
            continue;
        };
        let content = if module_id == &debug_id {
            executable.clone()
        } else if let Ok(content) = std::fs::read(&module.code_file) {
            content
        } else {
            continue;
        };
        if let Ok(built) = minidump::build_cfi(&content, module_id) {
            cfi.insert(module_id.clone(), CfiModule::from_cache(&built).unwrap());
        }
    }
    assert!(cfi.contains_key(&debug_id));
    let processed = minidump::process(&dump, &cfi).unwrap();

    let fields = [("sentry".to_owned(), r#"{"release":"crash@1"}"#.to_owned())];
    let mut event: Event = serde_json::from_value(event_from_fields(&fields).unwrap()).unwrap();
    processed.apply(&mut event);
    let exception = &event.exceptions()[0];
    assert_eq!(exception.ty.as_deref(), Some("SIGSEGV"));
    assert_eq!(
        exception.value.as_deref(),
        Some("Fatal Error: SIGSEGV / SEGV_MAPERR")
    );
    let threads = &event.threads.as_ref().unwrap().values;
    let crashed = threads
        .iter()
        .find(|thread| thread.crashed == Some(true))
        .unwrap();
    assert_eq!(exception.thread_id, crashed.id);
    // A single-threaded program: its one thread is the process.
    let pid = serde_json::from_value::<u32>(crashed.id.clone().unwrap()).unwrap();
    assert!(modules.len() > 2 && threads.len() == 1 && pid > 0);

    // Native symbolication of the walked frames through the executable.
    let images = native::prepare(&mut event);
    assert!(images.iter().any(|image| image.debug_id == debug_id));
    let symcache = native::build_symcache(&executable, &debug_id).unwrap();
    let lookups = HashMap::from([(
        debug_id.clone(),
        ImageLookup::Found(SymCacheModule::from_cache(symcache.into()).unwrap()),
    )]);
    let outcome = native::symbolicate(&mut event, &lookups);
    // `_start`, `main`, `middle` and `crash_here`; libc's frames were not
    // looked up.
    assert_eq!(outcome.symbolicated, 4);
    assert_eq!(outcome.unsymbolicated, 0);

    let frames = &event.exceptions()[0].stacktrace.as_ref().unwrap().frames;
    let named: Vec<(&str, &str, u64)> = frames
        .iter()
        .filter_map(|frame| {
            Some((
                frame.function.as_deref()?,
                frame.abs_path.as_deref()?,
                frame.lineno?,
            ))
        })
        .collect();
    assert_eq!(
        named,
        [
            ("main", "/src/crash.c", 24),
            ("middle", "/src/crash.c", 17),
            ("crash_here", "/src/crash.c", 11),
            ("read_slot", "/src/crash.c", 7),
        ]
    );
    // Outermost first, the crash last: the whole stack, each frame found
    // through the CFI of its callee, from the crash (found in the
    // context) through `main` and libc's two frames to `_start`.
    let walked: Vec<(&str, &str)> = frames
        .iter()
        .map(|frame| {
            let package = frame.package.as_deref().unwrap_or_default();
            let name = match frame.function.as_deref() {
                Some(function) => function,
                None if package.contains("/libc.so") => "(libc)",
                None => "(unknown)",
            };
            (name, frame.trust.as_deref().unwrap_or_default())
        })
        .skip_while(|(name, _)| *name != "_start")
        .collect();
    assert_eq!(
        walked,
        [
            ("_start", "cfi"),
            ("(libc)", "cfi"),
            ("(libc)", "cfi"),
            ("main", "cfi"),
            ("middle", "cfi"),
            ("crash_here", "context"),
            ("read_slot", "context"),
        ]
    );
}
