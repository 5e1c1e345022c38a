//! Hostile and broken requests get a 4xx with a JSON `detail`, and the
//! server keeps serving.

use std::io::Write;

use anyhow::Result;

use crate::common::{Init, TestServer};

const EVENT: &str = r#"{"event_id":"9ec79c33ec9942ab8353589fcb2e04dc","message":"still serving"}"#;

fn envelope(payload: &str) -> String {
    format!(
        "{{}}\n{{\"type\":\"event\",\"length\":{}}}\n{payload}\n",
        payload.len()
    )
}

fn envelope_path(init: &Init) -> String {
    format!(
        "/api/{}/envelope/?sentry_key={}",
        init.project_id,
        init.key()
    )
}

/// Posts and checks the status and that the body is `{"detail": <text>}`.
async fn expect_rejected(
    server: &TestServer,
    path: &str,
    headers: &[(&str, &str)],
    body: Vec<u8>,
    status: u16,
) -> Result<String> {
    let (got, answer) = server.post(path, headers, body).await?;
    assert_eq!(got, status, "answer: {answer}");
    let detail = answer["detail"].as_str().unwrap_or_default().to_owned();
    assert!(!detail.is_empty(), "no detail in {answer}");
    Ok(detail)
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(data).unwrap();
    encoder.finish().unwrap()
}

#[tokio::test]
async fn malformed_requests_get_4xx_json_and_the_server_keeps_serving() -> Result<()> {
    let server = TestServer::start()?;
    let init = server.init("bad-input")?;
    let path = envelope_path(&init);

    let detail = expect_rejected(&server, &path, &[], b"{not json\n".to_vec(), 400).await?;
    assert!(
        detail.contains("invalid envelope header at byte 0"),
        "{detail}"
    );

    let wrong_length = "{}\n{\"type\":\"event\",\"length\":500}\n{}\n";
    let detail = expect_rejected(&server, &path, &[], wrong_length.into(), 400).await?;
    assert!(
        detail.contains("item length exceeds the envelope at byte 3"),
        "{detail}"
    );

    let detail = expect_rejected(
        &server,
        &path,
        &[],
        envelope("{\"message\": oops}").into_bytes(),
        400,
    )
    .await?;
    assert!(detail.contains("invalid event payload"), "{detail}");

    let detail = expect_rejected(&server, &path, &[], envelope("[1, 2]").into_bytes(), 400).await?;
    assert!(detail.contains("invalid event payload"), "{detail}");

    let unknown_project = format!("/api/999999/envelope/?sentry_key={}", init.key());
    expect_rejected(
        &server,
        &unknown_project,
        &[],
        envelope(EVENT).into_bytes(),
        403,
    )
    .await?;

    expect_rejected(
        &server,
        "/api/notanumber/envelope/",
        &[],
        envelope(EVENT).into_bytes(),
        400,
    )
    .await?;

    let wrong_key = format!(
        "/api/{}/envelope/?sentry_key=0123456789abcdef0123456789abcdef",
        init.project_id
    );
    expect_rejected(&server, &wrong_key, &[], envelope(EVENT).into_bytes(), 401).await?;

    let no_key = format!("/api/{}/envelope/", init.project_id);
    expect_rejected(&server, &no_key, &[], envelope(EVENT).into_bytes(), 401).await?;

    let auth = format!("Sentry sentry_key={}, sentry_version=7", init.key());
    let both = [
        ("X-Sentry-Auth", auth.as_str()),
        ("Authorization", auth.as_str()),
    ];
    expect_rejected(&server, &no_key, &both, envelope(EVENT).into_bytes(), 400).await?;

    let detail = expect_rejected(
        &server,
        &path,
        &[("Content-Encoding", "compress")],
        envelope(EVENT).into_bytes(),
        415,
    )
    .await?;
    assert!(detail.contains("compress"), "{detail}");

    let compressed = gzip(envelope(EVENT).as_bytes());
    let truncated = compressed[..compressed.len() / 2].to_vec();
    let detail = expect_rejected(
        &server,
        &path,
        &[("Content-Encoding", "gzip")],
        truncated,
        400,
    )
    .await?;
    assert!(detail.contains("gzip"), "{detail}");

    expect_rejected(&server, &path, &[], Vec::new(), 400).await?;

    // After all that, a good envelope (gzip, header auth) is still taken.
    let (status, answer) = server
        .post(
            &no_key,
            &[("X-Sentry-Auth", &auth), ("Content-Encoding", "gzip")],
            gzip(envelope(EVENT).as_bytes()),
        )
        .await?;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["id"], "9ec79c33ec9942ab8353589fcb2e04dc");
    let issues = server.all_issues(&init).await?;
    assert_eq!(issues.len(), 1);
    assert_eq!(issues[0]["title"], "still serving");
    Ok(())
}

#[tokio::test]
async fn a_decompression_bomb_is_cut_at_the_limit() -> Result<()> {
    let server = TestServer::start()?;
    let init = server.init("bomb")?;
    // 300 MiB of zeros, past the 200 MiB envelope limit, compressed to about 300 KiB.
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    let zeros = vec![0u8; 1024 * 1024];
    for _ in 0..300 {
        encoder.write_all(&zeros)?;
    }
    let bomb = encoder.finish()?;
    let detail = expect_rejected(
        &server,
        &envelope_path(&init),
        &[("Content-Encoding", "gzip")],
        bomb,
        413,
    )
    .await?;
    assert!(detail.contains("limit"), "{detail}");
    Ok(())
}

#[tokio::test]
async fn unknown_api_paths_and_missing_tokens_are_json_errors() -> Result<()> {
    let server = TestServer::start()?;
    let init = server.init("paths")?;
    let response = server
        .http
        .get(format!("{}/api/0/nothing/here/", server.url))
        .send()
        .await?;
    assert_eq!(response.status(), 404);
    let body: serde_json::Value = response.json().await?;
    assert!(body["detail"].is_string());
    let response = server
        .http
        .get(format!(
            "{}/api/0/projects/{}/{}/issues/",
            server.url, init.org, init.project
        ))
        .send()
        .await?;
    assert_eq!(response.status(), 401);
    let (status, body) = server.get("sntryu_nope", "/api/0/issues/1/").await?;
    assert_eq!(status, 401);
    assert!(body["detail"].is_string());
    Ok(())
}
