//! `POST /api/<id>/minidump/`: a crash reporter's multipart upload becomes
//! an event with the dump attached; bad uploads are 4xx. A real minidump
//! (of `fixtures/native/crash`, written when it crashed) is walked into
//! the crash, its threads and modules, and symbolicated with the
//! executable `sentry-cli debug-files upload` sent; from an envelope too.

use std::io::Write as _;

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, ensure};
use serde_json::{Value, json};

use crate::common::{Backend, Init, TestServer, exception_values, frame_locations, sentry_cli};

const BOUNDARY: &str = "----crashpad-boundary-4f2a";

/// A part of a form: `(name, filename, content)`.
type Part<'a> = (&'a str, Option<&'a str>, &'a [u8]);

fn form(parts: &[Part<'_>]) -> Vec<u8> {
    let mut body = Vec::new();
    for (name, filename, content) in parts {
        body.extend_from_slice(format!("--{BOUNDARY}\r\n").as_bytes());
        match filename {
            Some(filename) => body.extend_from_slice(
                format!(
                    "Content-Disposition: form-data; name=\"{name}\"; filename=\"{filename}\"\r\n\
                     Content-Type: application/octet-stream\r\n\r\n"
                )
                .as_bytes(),
            ),
            None => body.extend_from_slice(
                format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n").as_bytes(),
            ),
        }
        body.extend_from_slice(content);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    body
}

async fn upload(server: &TestServer, init: &Init, body: Vec<u8>) -> Result<(u16, String)> {
    let response = server
        .http
        .post(format!(
            "{}/api/{}/minidump/?sentry_key={}",
            server.url,
            init.project_id,
            init.key()
        ))
        .header(
            "content-type",
            format!("multipart/form-data; boundary={BOUNDARY}"),
        )
        .body(body)
        .send()
        .await?;
    Ok((response.status().as_u16(), response.text().await?))
}

/// A minidump's header and some bytes.
fn dump() -> Vec<u8> {
    let mut dump = b"MDMP\x93\xa7\x00\x00".to_vec();
    dump.extend((0..4096u32).map(|n| (n % 251) as u8));
    dump
}

#[tokio::test]
async fn a_minidump_upload_becomes_an_event_with_its_dump() -> Result<()> {
    let server = TestServer::start()?;
    let init = server.init("native")?;
    let mut gzipped = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gzipped.write_all(&dump())?;
    let gzipped = gzipped.finish()?;
    let body = form(&[
        (
            "sentry",
            None,
            br#"{"release":"native@3.1","tags":{"arch":"x86_64"}}"#,
        ),
        ("sentry[environment]", None, b"production"),
        ("prod", None, b"CrashingApp"),
        ("upload_file_minidump", Some("crash.dmp"), &gzipped),
        ("log", Some("app.log"), b"last words\n"),
    ]);
    let (status, answer) = upload(&server, &init, body).await?;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer.len(), 36, "a hyphenated event id: {answer}");
    let event_id = answer.replace('-', "");

    let issues = server.all_issues(&init).await?;
    assert_eq!(issues.len(), 1, "{issues:?}");
    let event = server
        .latest_event(&init, issues[0]["id"].as_str().unwrap_or_default())
        .await?;
    assert_eq!(event["eventID"], event_id.as_str());
    assert_eq!(event["platform"], "native");
    assert_eq!(event["release"]["version"], "native@3.1");
    assert_eq!(event["environment"], "production");
    assert_eq!(
        event["context"]["prod"], "CrashingApp",
        "{}",
        event["context"]
    );
    // The dump is only a header and noise: the event keeps its
    // placeholder, and says why.
    assert_eq!(exception_values(&event)[0]["type"], "Minidump");
    assert_eq!(
        event["errors"][0]["type"], "native_symbolicator_failed",
        "{}",
        event["errors"]
    );
    let (_, attachments) = server
        .get(
            &init.token,
            &format!(
                "/api/0/projects/{}/{}/events/{event_id}/attachments/",
                init.org, init.project
            ),
        )
        .await?;
    let attachments = attachments.as_array().context("attachments")?;
    let summary: Vec<(String, String, u64)> = attachments
        .iter()
        .map(|a| {
            let text = |v: &Value| v.as_str().unwrap_or_default().to_owned();
            (
                text(&a["name"]),
                text(&a["type"]),
                a["size"].as_u64().unwrap_or(0),
            )
        })
        .collect();
    assert_eq!(
        summary,
        // Stored together: listed by name.
        [
            ("app.log".to_owned(), "event.attachment".to_owned(), 11),
            (
                "crash.dmp".to_owned(),
                "event.minidump".to_owned(),
                dump().len() as u64
            ),
        ]
    );
    Ok(())
}

#[tokio::test]
async fn bad_minidump_uploads_are_refused() -> Result<()> {
    let server = TestServer::start()?;
    let init = server.init("native-bad")?;
    let dump = dump();
    for (body, status, says) in [
        (form(&[("sentry", None, b"{}")]), 400, "missing minidump"),
        (
            form(&[("upload_file_minidump", Some("x.dmp"), b"MZ not a dump")]),
            400,
            "invalid minidump",
        ),
        (
            form(&[
                ("sentry", None, b"[1]"),
                ("upload_file_minidump", Some("x.dmp"), &dump),
            ]),
            400,
            "invalid sentry field",
        ),
        (b"not a form".to_vec(), 400, "multipart"),
    ] {
        let (got, answer) = upload(&server, &init, body).await?;
        assert_eq!(got, status, "{answer}");
        let detail: Value = serde_json::from_str(&answer)?;
        assert!(
            detail["detail"].as_str().unwrap_or_default().contains(says),
            "{answer}"
        );
    }
    Ok(())
}

fn native_fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fixtures/native")
        .join(name)
}

/// The innermost frames in the crashed program's own code, outermost
/// first: function, file and line. (Past them, in libc, whose debug file
/// was not uploaded, the walk scans the stack, as Sentry's does.)
fn program_frames(exception: &Value) -> Vec<(String, String, u64)> {
    let frames = exception["stacktrace"]["frames"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let outside = frames
        .iter()
        .rposition(|frame| frame["filename"] != "crash.c")
        .map_or(0, |index| index + 1);
    frame_locations(&frames[outside..])
}

/// Checks an event made from `fixtures/native/crash.dmp`.
fn assert_walked_and_symbolicated(event: &Value) -> Result<()> {
    assert_eq!(event["platform"], "native");
    let exception = exception_values(event)
        .first()
        .cloned()
        .context("no exception")?;
    assert_eq!(exception["type"], "SIGSEGV", "{exception:#}");
    assert_eq!(exception["value"], "Fatal Error: SIGSEGV / SEGV_MAPERR");
    assert_eq!(exception["mechanism"]["type"], "minidump");
    assert_eq!(exception["mechanism"]["handled"], false);
    let expected: Vec<(String, String, u64)> = [
        ("main", 24),
        ("middle", 17),
        ("crash_here", 11),
        ("read_slot", 7),
    ]
    .into_iter()
    .map(|(function, line)| (function.to_owned(), "crash.c".to_owned(), line))
    .collect();
    assert_eq!(program_frames(&exception), expected, "{exception:#}");
    // The crashing thread is listed, its stack in the exception.
    let entries = event["entries"].as_array().context("entries")?;
    let threads = entries
        .iter()
        .find(|entry| entry["type"] == "threads")
        .context("no threads entry")?;
    let crashed: Vec<&Value> = threads["data"]["values"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|thread| thread["crashed"] == true)
        .collect();
    ensure!(crashed.len() == 1, "{threads:#}");
    // Every module is a debug image; the program's has its debug ID.
    let images = entries
        .iter()
        .find(|entry| entry["type"] == "debugmeta")
        .context("no debug images")?["data"]["images"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    ensure!(images.len() >= 3, "{images:#?}");
    ensure!(
        images.iter().any(|image| image["code_file"]
            .as_str()
            .is_some_and(|file| file.ends_with("/crash"))
            && image["debug_id"].is_string()),
        "{images:#?}"
    );
    assert_eq!(
        event["contexts"]["os"]["name"], "Linux",
        "{:#}",
        event["contexts"]
    );
    Ok(())
}

#[tokio::test]
async fn a_real_minidump_is_walked_and_symbolicated() -> Result<()> {
    minidump_case(Backend::Embedded).await
}

#[tokio::test]
async fn a_real_minidump_is_walked_and_symbolicated_on_postgres_and_clickhouse() -> Result<()> {
    minidump_case(Backend::ScaleOut).await
}

async fn minidump_case(backend: Backend) -> Result<()> {
    let server = TestServer::start_on(backend)?;
    let init = server.init("native-dump")?;
    let binary = native_fixture("crash");
    let binary = binary.to_str().context("path")?;
    sentry_cli(&server, &init, &["debug-files", "upload", "--wait", binary])?;
    let dump = std::fs::read(native_fixture("crash.dmp"))?;

    // As a crash reporter uploads it.
    let body = form(&[
        ("sentry", None, br#"{"release":"crash@1"}"#),
        ("upload_file_minidump", Some("crash.dmp"), &dump),
    ]);
    let (status, answer) = upload(&server, &init, body).await?;
    assert_eq!(status, 200, "{answer}");
    let issues = server.all_issues(&init).await?;
    assert_eq!(issues.len(), 1, "{issues:#?}");
    // A synthetic exception's type says little: the title is the
    // function that crashed, as Sentry titles it.
    assert_eq!(issues[0]["title"], "read_slot");
    assert_eq!(issues[0]["level"], "fatal");
    let id = issues[0]["id"].as_str().context("issue id")?;
    let event = server.latest_event(&init, id).await?;
    assert_walked_and_symbolicated(&event)?;

    // As an SDK sends it in an envelope: with its event, and alone.
    for with_event in [true, false] {
        let event_id = new_event_id();
        let mut envelope = format!("{}\n", json!({"event_id": event_id})).into_bytes();
        if with_event {
            let event = json!({"release": "crash@2", "level": "fatal"}).to_string();
            envelope
                .extend_from_slice(format!("{}\n{event}\n", json!({"type": "event"})).as_bytes());
        }
        let header = json!({
            "type": "attachment",
            "length": dump.len(),
            "filename": "crash.dmp",
            "attachment_type": "event.minidump",
        });
        envelope.extend_from_slice(format!("{header}\n").as_bytes());
        envelope.extend_from_slice(&dump);
        envelope.push(b'\n');
        let answer = server
            .http
            .post(format!(
                "{}/api/{}/envelope/?sentry_key={}",
                server.url,
                init.project_id,
                init.key()
            ))
            .body(envelope)
            .send()
            .await?;
        ensure!(answer.status() == 200, "{}", answer.text().await?);
        server.settled().await?;
        let (status, event) = server
            .get(
                &init.token,
                &format!(
                    "/api/0/projects/{}/{}/events/{event_id}/",
                    init.org, init.project
                ),
            )
            .await?;
        ensure!(
            status == 200,
            "envelope (with its event: {with_event}): {event}"
        );
        assert_walked_and_symbolicated(&event)?;
    }
    let issues = server.all_issues(&init).await?;
    assert_eq!(issues.len(), 1, "one crash, one issue: {issues:#?}");
    assert_eq!(issues[0]["count"], "3");
    Ok(())
}

/// A new event id, as SDKs write it (32 hex digits).
fn new_event_id() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}
