//! The web API: issue listing, search, pagination, status updates, event
//! lookup and isolation between organizations.

use std::process::Command;

use anyhow::Result;
use serde_json::{Value, json};

use crate::common::{TestServer, binary, next_link};

fn error(ty: &str, value: &str) -> Value {
    json!({
        "platform": "python",
        "exception": {"values": [{"type": ty, "value": value, "stacktrace": {"frames": [
            {"module": "app", "filename": "app.py", "function": ty.to_lowercase(), "lineno": 3, "in_app": true}
        ]}}]},
    })
}

#[tokio::test]
async fn init_twice_prints_the_same_and_creates_nothing() -> Result<()> {
    let server = TestServer::start()?;
    let first = server.init("twice")?;
    let second = server.init("twice")?;
    assert_eq!(first.dsn, second.dsn);
    assert_eq!(first.token, second.token);
    assert_eq!(first.project_id, second.project_id);
    assert!(first.token.starts_with("sntryu_") && first.token.len() == 71);
    // The text form names the same DSN.
    let output = Command::new(binary())
        .arg("--data-dir")
        .arg(server.data_dir())
        .args(["init", "--project", "twice", "--public-url", &server.url])
        .output()?;
    assert!(String::from_utf8_lossy(&output.stdout).contains(&first.dsn));
    Ok(())
}

#[tokio::test]
async fn status_filters_default_to_unresolved() -> Result<()> {
    let server = TestServer::start()?;
    let init = server.init("status")?;
    server.send_event(&init, &error("KeyError", "a")).await?;
    server.send_event(&init, &error("TypeError", "b")).await?;
    let issues = server.all_issues(&init).await?;
    assert_eq!(issues.len(), 2);
    let resolved_id = issues[0]["id"].as_str().unwrap_or_default().to_owned();

    let response = server
        .http
        .put(format!("{}/api/0/issues/{resolved_id}/", server.url))
        .bearer_auth(&init.token)
        .json(&json!({"status": "resolved"}))
        .send()
        .await?;
    assert_eq!(response.status(), 200);
    let updated: Value = response.json().await?;
    assert_eq!(updated["status"], "resolved");

    let base = format!("/api/0/projects/{}/{}/issues/", init.org, init.project);
    let (_, default) = server.get(&init.token, &base).await?;
    assert_eq!(
        default.as_array().map(Vec::len),
        Some(1),
        "no query means is:unresolved"
    );
    let (_, resolved) = server
        .get(&init.token, &format!("{base}?query=is:resolved"))
        .await?;
    assert_eq!(resolved[0]["id"], resolved_id.as_str());
    let (_, everything) = server.get(&init.token, &format!("{base}?query=")).await?;
    assert_eq!(everything.as_array().map(Vec::len), Some(2));
    let (_, text) = server
        .get(&init.token, &format!("{base}?query=TypeError"))
        .await?;
    assert_eq!(text.as_array().map(Vec::len), Some(1));
    assert_eq!(text[0]["metadata"]["type"], "TypeError");
    let (status, _) = server
        .get(&init.token, &format!("{base}?query=is:bogus"))
        .await?;
    assert_eq!(status, 400);

    // A new event reopens the resolved issue.
    let reopened_type = resolved[0]["metadata"]["type"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let reopened_value = resolved[0]["metadata"]["value"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    server
        .send_event(&init, &error(&reopened_type, &reopened_value))
        .await?;
    let (_, detail) = server
        .get(
            &init.token,
            &format!("/api/0/organizations/{}/issues/{resolved_id}/", init.org),
        )
        .await?;
    assert_eq!(detail["status"], "unresolved");
    assert_eq!(detail["count"], "2");
    Ok(())
}

#[tokio::test]
async fn pages_follow_link_cursors() -> Result<()> {
    let server = TestServer::start()?;
    let init = server.init("pages")?;
    // Distinct words: numbers would be parameterized into one issue.
    for (n, word) in ["zero", "one", "two", "three", "four"].iter().enumerate() {
        let event = json!({"message": format!("message {word}"), "timestamp": 1_700_000_000 + n});
        server.send_event(&init, &event).await?;
    }
    server.settled().await?;
    let url = format!(
        "{}/api/0/projects/{}/{}/issues/?query=&limit=2",
        server.url, init.org, init.project
    );
    let mut next = Some(url);
    let mut seen = Vec::new();
    while let Some(url) = next {
        let response = server
            .http
            .get(&url)
            .bearer_auth(&init.token)
            .send()
            .await?;
        next = next_link(response.headers().get("link").and_then(|v| v.to_str().ok()));
        let page: Vec<Value> = response.json().await?;
        assert!(page.len() <= 2);
        seen.extend(
            page.into_iter()
                .map(|issue| issue["title"].as_str().unwrap_or_default().to_owned()),
        );
    }
    assert_eq!(
        seen,
        [
            "message four",
            "message three",
            "message two",
            "message one",
            "message zero"
        ]
    );
    Ok(())
}

#[tokio::test]
async fn events_are_found_by_id_and_by_issue() -> Result<()> {
    let server = TestServer::start()?;
    let init = server.init("events")?;
    let first = server
        .send_event(
            &init,
            &json!({"message": "same", "timestamp": 1_700_000_000}),
        )
        .await?;
    let last = server
        .send_event(
            &init,
            &json!({"message": "same", "timestamp": 1_700_000_100}),
        )
        .await?;
    let (status, event) = server
        .get(
            &init.token,
            &format!(
                "/api/0/projects/{}/{}/events/{first}/",
                init.org, init.project
            ),
        )
        .await?;
    assert_eq!(status, 200);
    assert_eq!(event["eventID"], first.as_str());
    assert_eq!(event["message"], "same");
    let issue_id = event["groupID"].as_str().unwrap_or_default().to_owned();
    let (_, latest) = server
        .get(
            &init.token,
            &format!("/api/0/issues/{issue_id}/events/latest/"),
        )
        .await?;
    assert_eq!(latest["eventID"], last.as_str());
    let (_, oldest) = server
        .get(
            &init.token,
            &format!(
                "/api/0/organizations/{}/issues/{issue_id}/events/oldest/",
                init.org
            ),
        )
        .await?;
    assert_eq!(oldest["eventID"], first.as_str());
    let (status, _) = server
        .get(
            &init.token,
            &format!(
                "/api/0/projects/{}/{}/events/{}/",
                init.org,
                init.project,
                "0".repeat(32)
            ),
        )
        .await?;
    assert_eq!(status, 404);
    Ok(())
}

#[tokio::test]
async fn a_token_never_sees_another_organization() -> Result<()> {
    let server = TestServer::start()?;
    let ours = server.init_in("ours", "app")?;
    let theirs = server.init_in("theirs", "app")?;
    assert_ne!(ours.token, theirs.token);
    server
        .send_event(&ours, &json!({"message": "private"}))
        .await?;
    let issue_id = server.all_issues(&ours).await?[0]["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();

    for path in [
        format!("/api/0/issues/{issue_id}/"),
        format!("/api/0/issues/{issue_id}/events/latest/"),
        format!("/api/0/organizations/ours/issues/{issue_id}/"),
        format!("/api/0/organizations/theirs/issues/{issue_id}/"),
        "/api/0/projects/ours/app/issues/".to_owned(),
    ] {
        let (status, body) = server.get(&theirs.token, &path).await?;
        assert_eq!(status, 404, "{path}: {body}");
    }
    let response = server
        .http
        .put(format!("{}/api/0/issues/{issue_id}/", server.url))
        .bearer_auth(&theirs.token)
        .json(&json!({"status": "resolved"}))
        .send()
        .await?;
    assert_eq!(response.status(), 404);
    Ok(())
}

#[tokio::test]
async fn retention_settings_are_validated_and_null_restores_the_default() -> Result<()> {
    let server = TestServer::start()?;
    let init = server.init("retention")?;
    let url = format!(
        "{}/api/0/projects/{}/{}/",
        server.url, init.org, init.project
    );
    let put = async |body: Value| -> Result<(u16, Value)> {
        let response = server
            .http
            .put(&url)
            .bearer_auth(&init.token)
            .json(&body)
            .send()
            .await?;
        Ok((response.status().as_u16(), response.json().await?))
    };
    let (status, project) = put(json!({"retentionDays": 30, "maxEvents": 1000})).await?;
    assert_eq!(status, 200, "{project}");
    assert_eq!(
        (
            project["retentionDays"].clone(),
            project["maxEvents"].clone()
        ),
        (json!(30), json!(1000))
    );
    let (status, project) = put(json!({"retentionDays": null, "maxEvents": null})).await?;
    assert_eq!(status, 200, "{project}");
    assert_eq!(
        (
            project["retentionDays"].clone(),
            project["maxEvents"].clone()
        ),
        (json!(90), Value::Null)
    );
    let (status, answer) = put(json!({"retentionDays": 0})).await?;
    assert_eq!(status, 400);
    assert!(answer["retentionDays"].is_array(), "{answer}");
    Ok(())
}
