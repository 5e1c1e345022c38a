//! `POST /api/<id>/minidump/`: a crash reporter's multipart upload becomes
//! an event with the dump attached; bad uploads are 4xx.

use std::io::Write as _;

use anyhow::{Context, Result};
use serde_json::Value;

use crate::common::{Init, TestServer};

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
