//! ProGuard deobfuscation with the real tool chain: a Java program
//! compiled by javac and obfuscated by ProGuard throws; `sentry-cli
//! upload-proguard` uploads the mapping; the exception of the obfuscated
//! run is reported through the Python sentry-sdk; the stored frames must
//! name the original classes, methods, files and lines.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use anyhow::{Context, Result, ensure};

use crate::common::{
    Backend, Init, TestServer, clients_dir, exception_values, run, scripts_dir, sentry_cli_command,
};

/// Copies the fixture, compiles, packs and obfuscates it in `dir`.
fn build(dir: &Path) -> Result<()> {
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/proguard");
    let sources = dir.join("src/com/example/shop");
    std::fs::create_dir_all(&sources)?;
    let mut files = Vec::new();
    for name in ["Main.java", "Checkout.java", "Validator.java"] {
        std::fs::copy(
            fixture.join("src/com/example/shop").join(name),
            sources.join(name),
        )?;
        files.push(format!("src/com/example/shop/{name}"));
    }
    std::fs::copy(fixture.join("rules.pro"), dir.join("rules.pro"))?;
    run(Command::new("javac")
        .current_dir(dir)
        .args(["--release", "11", "-d", "classes"])
        .args(&files))?;
    run(Command::new("jar")
        .current_dir(dir)
        .args(["cf", "app.jar", "-C", "classes", "."]))?;
    run(Command::new("proguard").current_dir(dir).arg("@rules.pro"))?;
    Ok(())
}

fn cli(server: &TestServer, init: &Init, dir: &Path, args: &[&str]) -> Result<String> {
    run(sentry_cli_command(server, init).current_dir(dir).args(args))
}

#[tokio::test]
async fn obfuscated_java_frames_are_mapped_back() -> Result<()> {
    proguard_case(Backend::Embedded).await
}

/// The same with the uploads in Postgres (metadata and blobs) and the
/// events in ClickHouse.
#[cfg(all(feature = "postgres", feature = "clickhouse"))]
#[tokio::test]
async fn obfuscated_java_frames_are_mapped_back_on_postgres_and_clickhouse() -> Result<()> {
    proguard_case(Backend::ScaleOut).await
}

async fn proguard_case(backend: Backend) -> Result<()> {
    let server = TestServer::start_on(backend)?;
    let init = server.init("proguard")?;
    let work = tempfile::tempdir()?;
    let dir = work.path();
    build(dir)?;
    cli(
        &server,
        &init,
        dir,
        &[
            "upload-proguard",
            "--write-properties",
            "sentry.properties",
            "mapping.txt",
        ],
    )?;
    let properties = std::fs::read_to_string(dir.join("sentry.properties"))?;
    let uuid = properties
        .lines()
        .find_map(|line| line.strip_prefix("io.sentry.ProguardUuids="))
        .context("no UUID written")?
        .trim()
        .to_owned();

    // The obfuscated program's error, reported as the SDK would.
    let obfuscated = run(Command::new("java").current_dir(dir).args([
        "-cp",
        "app-obf.jar",
        "com.example.shop.Main",
    ]))?;
    ensure!(
        obfuscated.contains("com.example.shop.b"),
        "not obfuscated: {obfuscated}"
    );
    let mut python = Command::new(clients_dir().join("venv/bin/python"))
        .arg(scripts_dir().join("python_java_event.py"))
        .arg(&uuid)
        .env("SENTRY_DSN", &init.dsn)
        .stdin(Stdio::piped())
        .spawn()?;
    python
        .stdin
        .take()
        .context("stdin")?
        .write_all(obfuscated.as_bytes())?;
    ensure!(python.wait()?.success(), "the Python client failed");

    server.settled().await?;
    let issues = server.all_issues(&init).await?;
    ensure!(issues.len() == 1, "issues: {issues:#?}");
    let id = issues[0]["id"].as_str().context("issue id")?;
    let event = server.latest_event(&init, id).await?;
    let exception = exception_values(&event)
        .first()
        .cloned()
        .context("no exception")?;
    let frames: Vec<(String, String, u64, String)> = exception["stacktrace"]["frames"]
        .as_array()
        .context("no frames")?
        .iter()
        .map(|frame| {
            let text = |key: &str| frame[key].as_str().unwrap_or_default().to_owned();
            (
                text("module"),
                text("function"),
                frame["lineNo"].as_u64().unwrap_or_default(),
                text("filename"),
            )
        })
        .collect();
    let expected: Vec<(String, String, u64, String)> = [
        ("com.example.shop.Main", "main", 6, "Main.java"),
        ("com.example.shop.Checkout", "total", 13, "Checkout.java"),
        (
            "com.example.shop.Validator",
            "checkPrice",
            6,
            "Validator.java",
        ),
    ]
    .into_iter()
    .map(|(module, function, line, file)| {
        (
            module.to_owned(),
            function.to_owned(),
            line,
            file.to_owned(),
        )
    })
    .collect();
    assert_eq!(frames, expected, "{event:#}");
    assert_eq!(exception["type"], "IllegalStateException");
    Ok(())
}
