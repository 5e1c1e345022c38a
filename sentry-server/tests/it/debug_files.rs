//! Native symbolication with the real tool chain: a C program built by gcc
//! with DWARF debug information crashes; `sentry-cli debug-files upload`
//! uploads the executable; the crash (its real addresses and load
//! address) is reported through the Python sentry-sdk; the stored frames
//! must name the functions, files and lines, the inlined call included.

use std::path::Path;
use std::process::Command;

use anyhow::{Context, Result, ensure};
use serde_json::{Value, json};

use crate::common::{
    Backend, TestServer, exception_values, frame_locations, run, run_python, scripts_dir,
    sentry_cli,
};

/// A value of `sentry-cli debug-files check`'s report, e.g. `Debug ID`.
fn checked(report: &str, label: &str) -> Result<String> {
    report
        .lines()
        .find_map(|line| {
            let line = line.trim().trim_start_matches("> ");
            line.strip_prefix(label)?
                .strip_prefix(':')
                .map(|value| value.trim().to_owned())
        })
        .with_context(|| format!("no {label} in {report}"))
}

/// Builds the fixture with the crash reporter; returns the executable.
fn build(dir: &Path) -> Result<std::path::PathBuf> {
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/native/crash.c");
    std::fs::copy(fixture, dir.join("crash.c"))?;
    std::fs::copy(
        scripts_dir().join("crash_report.c"),
        dir.join("crash_report.c"),
    )?;
    let binary = dir.join("crash");
    run(Command::new("gcc")
        .current_dir(dir)
        .args(["-g", "-O1", "-fno-omit-frame-pointer"])
        .arg(format!("-fdebug-prefix-map={}=/src", dir.display()))
        .args(["-o", "crash", "crash.c", "crash_report.c"]))?;
    Ok(binary)
}

#[tokio::test]
async fn native_frames_are_symbolicated_with_uploaded_debug_files() -> Result<()> {
    native_case(Backend::Embedded).await
}

/// The same with the uploads in Postgres (metadata and blobs) and the
/// events in ClickHouse.
#[cfg(all(feature = "postgres", feature = "clickhouse"))]
#[tokio::test]
async fn native_frames_are_symbolicated_with_uploaded_debug_files_on_postgres_and_clickhouse()
-> Result<()> {
    native_case(Backend::ScaleOut).await
}

async fn native_case(backend: Backend) -> Result<()> {
    let server = TestServer::start_on(backend)?;
    let init = server.init("native")?;
    let work = tempfile::tempdir()?;
    let binary = build(work.path())?;
    let binary_path = binary.to_str().context("path")?;

    let check = sentry_cli(&server, &init, &["debug-files", "check", binary_path])?;
    let debug_id = checked(&check, "Debug ID")?;
    let code_id = checked(&check, "Code ID")?;
    let uploaded = sentry_cli(
        &server,
        &init,
        &["debug-files", "upload", "--wait", binary_path],
    )?;
    ensure!(uploaded.contains(&debug_id), "upload output: {uploaded}");

    // The program crashes and reports its own stack.
    let output = Command::new(&binary).output()?;
    ensure!(
        output.status.code() == Some(1),
        "the program did not crash as expected"
    );
    let report = String::from_utf8(output.stdout)?;
    let report = report.lines().last().context("no crash report")?;
    run_python(
        "python_native_event.py",
        &[report, binary_path, &debug_id, &code_id],
        &init.dsn,
    )?;

    server.settled().await?;
    let issues = server.all_issues(&init).await?;
    ensure!(issues.len() == 1, "issues: {issues:#?}");
    let id = issues[0]["id"].as_str().context("issue id")?;
    let event = server.latest_event(&init, id).await?;
    let exception = exception_values(&event)
        .first()
        .cloned()
        .context("no exception")?;
    let frames = frame_locations(
        exception["stacktrace"]["frames"]
            .as_array()
            .context("no frames")?,
    );
    let expected: Vec<(String, String, u64)> = [
        ("main", "crash.c", 24),
        ("middle", "crash.c", 17),
        ("crash_here", "crash.c", 11),
        ("read_slot", "crash.c", 7),
    ]
    .into_iter()
    .map(|(function, file, line)| (function.to_owned(), file.to_owned(), line))
    .collect();
    assert_eq!(frames, expected, "{event:#}");
    let last = &exception["stacktrace"]["frames"][3];
    assert_eq!(last["absPath"], "/src/crash.c");
    assert_eq!(last["package"], Value::from(binary_path));
    // The frames as reported are kept.
    let raw = exception["rawStacktrace"]["frames"]
        .as_array()
        .context("no raw frames")?;
    assert_eq!(raw.len(), 3);
    assert!(raw.iter().all(|frame| frame["function"].is_null()));
    Ok(())
}

/// The addresses `llvm-objdump -d` shows in a program's code, each with
/// its instruction (PE and Mach-O alike).
fn disassembly(binary: &Path) -> Result<Vec<(u64, String)>> {
    let listing = run(Command::new("llvm-objdump").arg("-d").arg(binary))?;
    Ok(listing
        .lines()
        .filter_map(|line| {
            let (address, rest) = line.trim().split_once(": ")?;
            let address = u64::from_str_radix(address, 16).ok()?;
            // Past the bytes: the mnemonic, a tab, the operands.
            let instruction = rest.split_once('\t').map_or(rest, |(_, text)| text);
            Some((address, instruction.to_owned()))
        })
        .collect())
}

/// The first program found of some names.
fn tool(names: &[&str]) -> Result<String> {
    names
        .iter()
        .find(|name| {
            Command::new("sh")
                .args(["-c", &format!("command -v {name}")])
                .output()
                .is_ok_and(|output| output.status.success())
        })
        .map(|name| (*name).to_owned())
        .with_context(|| format!("none of {names:?} is installed"))
}

/// A platform whose programs cannot run here, and how to build one.
struct Foreign {
    /// The debug image type and load address of the executable.
    image_type: &'static str,
    image_addr: u64,
    /// The executable, and the debug file `sentry-cli` uploads.
    executable: &'static str,
    debug_file: &'static str,
}

/// Builds `fixtures/native/crash_win.c` for another platform in `dir`.
fn build_foreign(dir: &Path, platform: &Foreign) -> Result<()> {
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/native/crash_win.c");
    std::fs::copy(fixture, dir.join("crash_win.c"))?;
    let compile = |target: &str, extra: &[&str]| {
        run(Command::new("clang")
            .current_dir(dir)
            .arg(format!("--target={target}"))
            .args(["-g", "-O1", "-fno-omit-frame-pointer", "-c", "crash_win.c"])
            .args(extra)
            .args(["-o", "crash.o"]))
    };
    if platform.image_type == "pe" {
        compile("x86_64-pc-windows-msvc", &["-gcodeview"])?;
        run(Command::new("lld-link")
            .current_dir(dir)
            .args([
                "/debug",
                "/entry:main",
                "/nodefaultlib",
                "/subsystem:console",
            ])
            .args(["/out:crash.exe", "/pdb:crash.pdb", "crash.o"]))?;
    } else {
        compile("x86_64-apple-macos11", &[])?;
        run(Command::new(tool(&["ld64.lld", "ld64.lld-14"])?)
            .current_dir(dir)
            .args([
                "-arch",
                "x86_64",
                "-platform_version",
                "macos",
                "11.0",
                "11.0",
            ])
            .args(["-e", "_main", "-o", "crash", "crash.o"]))?;
        run(Command::new("dsymutil")
            .current_dir(dir)
            .args(["crash", "-o", "crash.dSYM"]))?;
    }
    Ok(())
}

#[tokio::test]
async fn pdb_frames_are_symbolicated() -> Result<()> {
    foreign_case(&Foreign {
        image_type: "pe",
        image_addr: 0x1_4000_0000,
        executable: "crash.exe",
        debug_file: "crash.pdb",
    })
    .await
}

#[tokio::test]
async fn dsym_frames_are_symbolicated() -> Result<()> {
    foreign_case(&Foreign {
        image_type: "macho",
        image_addr: 0x1_0000_0000,
        executable: "crash",
        debug_file: "crash.dSYM/Contents/Resources/DWARF/crash",
    })
    .await
}

/// Windows' and macOS's debug formats: `fixtures/native/crash_win.c`
/// built by clang for x86-64 Windows with CodeView, linked by lld-link
/// into an `.exe` and its `.pdb`, or for macOS, linked by lld into a
/// Mach-O executable whose DWARF `dsymutil` gathers into a dSYM. Such
/// programs cannot run here, so the crash's frames are the addresses of
/// its code that the disassembly shows: the faulting read in `crash_here`
/// (through the inlined `read_slot`) and the return addresses of the
/// calls in `middle` and `main`.
async fn foreign_case(platform: &Foreign) -> Result<()> {
    let server = TestServer::start()?;
    let init = server.init(&format!("native-{}", platform.image_type))?;
    let work = tempfile::tempdir()?;
    let dir = work.path();
    build_foreign(dir, platform)?;
    let debug_file = dir.join(platform.debug_file);
    let debug_file = debug_file.to_str().context("path")?;
    let check = sentry_cli(&server, &init, &["debug-files", "check", debug_file])?;
    let debug_id = checked(&check, "Debug ID")?;
    let uploaded = sentry_cli(
        &server,
        &init,
        &["debug-files", "upload", "--wait", debug_file],
    )?;
    ensure!(uploaded.contains(&debug_id), "upload output: {uploaded}");

    let code = disassembly(&dir.join(platform.executable))?;
    let fault = code
        .iter()
        .find(|(_, instruction)| instruction.contains("12(%r"))
        .with_context(|| format!("no faulting read in {code:#?}"))?
        .0;
    let returns: Vec<u64> = code
        .windows(2)
        .filter(|pair| pair[0].1.starts_with("call"))
        .map(|pair| pair[1].0)
        .collect();
    ensure!(returns.len() == 2, "{code:#?}");
    let hex = |address: u64| format!("{address:#x}");
    let event = json!({
        "platform": "native",
        "level": "fatal",
        "exception": {"values": [{
            "type": "EXC_BAD_ACCESS",
            "value": "Fatal Error: read of address 0xc",
            "stacktrace": {"frames": [
                {"instruction_addr": hex(returns[1])},
                {"instruction_addr": hex(returns[0])},
                {"instruction_addr": hex(fault)},
            ]},
        }]},
        "debug_meta": {"images": [{
            "type": platform.image_type,
            "code_file": platform.executable,
            "debug_id": debug_id,
            "image_addr": hex(platform.image_addr),
            "image_size": 1_048_576,
            "arch": "x86_64",
        }]},
    });
    server.send_event(&init, &event).await?;
    let issues = server.all_issues(&init).await?;
    let id = issues
        .first()
        .and_then(|issue| issue["id"].as_str())
        .context("no issue")?;
    let event = server.latest_event(&init, id).await?;
    let exception = exception_values(&event)
        .first()
        .cloned()
        .context("no exception")?;
    let frames = frame_locations(
        exception["stacktrace"]["frames"]
            .as_array()
            .context("no frames")?,
    );
    let expected: Vec<(String, String, u64)> = [
        ("main", 19),
        ("middle", 14),
        ("crash_here", 9),
        ("read_slot", 5),
    ]
    .into_iter()
    .map(|(function, line)| (function.to_owned(), "crash_win.c".to_owned(), line))
    .collect();
    assert_eq!(frames, expected, "{exception:#}");
    Ok(())
}
