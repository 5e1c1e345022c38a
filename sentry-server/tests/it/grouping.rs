//! Grouping through the server: per-project rules set with Sentry's project
//! API, applied at ingest, and the grouping info of a stored event, which
//! agrees with `sentry-server grouping explain`.

use std::io::Write;
use std::process::{Command, Stdio};

use anyhow::Result;
use serde_json::{Value, json};

use crate::common::{TestServer, binary};

fn error(ty: &str, function: &str) -> Value {
    json!({
        "platform": "python",
        "exception": {"values": [{"type": ty, "value": "boom", "stacktrace": {"frames": [
            {"module": "app.main", "function": "main", "in_app": true, "lineno": 1},
            {"module": "app.work", "function": function, "in_app": true, "lineno": 2},
        ]}}]},
    })
}

#[tokio::test]
async fn invalid_rules_are_rejected_with_their_position() -> Result<()> {
    let server = TestServer::start()?;
    let init = server.init("rules")?;
    let (status, body) = server
        .put_project(&init, json!({"fingerprintingRules": "type:KeyError\n"}))
        .await?;
    assert_eq!(status, 400, "{body}");
    assert!(
        body["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("line 1"),
        "{body}"
    );
    assert!(body["fingerprintingRules"].is_array(), "{body}");
    let (status, body) = server
        .put_project(
            &init,
            json!({"groupingEnhancements": "function:a -group\nnonsense:b +app\n"}),
        )
        .await?;
    assert_eq!(status, 400, "{body}");
    let detail = body["detail"].as_str().unwrap_or_default();
    assert!(
        detail.contains("line 2") && detail.contains("column"),
        "{detail}"
    );
    Ok(())
}

#[tokio::test]
async fn project_rules_apply_at_ingest() -> Result<()> {
    let server = TestServer::start()?;
    let init = server.init("rules")?;
    let fingerprinting = "type:KeyError -> key-trouble title=\"Key trouble\"";
    let enhancements = "function:helper_* -group";
    let (status, body) = server
        .put_project(
            &init,
            json!({"fingerprintingRules": fingerprinting, "groupingEnhancements": enhancements}),
        )
        .await?;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["fingerprintingRules"], fingerprinting);
    let (_, project) = server
        .get(
            &init.token,
            &format!("/api/0/projects/{}/{}/", init.org, init.project),
        )
        .await?;
    assert_eq!(project["groupingEnhancements"], enhancements);

    // Two KeyErrors from different places: one issue, named by the rule.
    server.send_event(&init, &error("KeyError", "load")).await?;
    server.send_event(&init, &error("KeyError", "save")).await?;
    // Two ValueErrors that differ only in a frame the stack trace rule ignores: one issue.
    server
        .send_event(&init, &error("ValueError", "helper_a"))
        .await?;
    server
        .send_event(&init, &error("ValueError", "helper_b"))
        .await?;
    // A ValueError from another function: its own issue.
    server
        .send_event(&init, &error("ValueError", "compute"))
        .await?;

    let issues = server.all_issues(&init).await?;
    let mut summary: Vec<(String, String)> = issues
        .iter()
        .map(|issue| {
            let text = |v: &Value| v.as_str().unwrap_or_default().to_owned();
            (text(&issue["title"]), text(&issue["count"]))
        })
        .collect();
    summary.sort();
    assert_eq!(
        summary,
        [
            ("Key trouble".to_owned(), "2".to_owned()),
            ("ValueError: boom".to_owned(), "1".to_owned()),
            ("ValueError: boom".to_owned(), "2".to_owned()),
        ]
    );
    Ok(())
}

#[tokio::test]
async fn grouping_info_agrees_with_explain() -> Result<()> {
    let server = TestServer::start()?;
    let init = server.init("explain")?;
    let event = error("TypeError", "compute");
    let event_id = server.send_event(&init, &event).await?;
    let (status, info) = server
        .get(
            &init.token,
            &format!(
                "/api/0/projects/{}/{}/events/{event_id}/grouping-info/",
                init.org, init.project
            ),
        )
        .await?;
    assert_eq!(status, 200, "{info}");

    let mut child = Command::new(binary())
        .args(["grouping", "explain", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()?;
    child
        .stdin
        .take()
        .map(|mut stdin| stdin.write_all(event.to_string().as_bytes()))
        .transpose()?;
    let output = child.wait_with_output()?;
    assert!(output.status.success());
    let explained: Value = serde_json::from_slice(&output.stdout)?;
    assert_eq!(explained["hashes"], info["hashes"]);
    assert_eq!(explained["variants"], info["variants"]);
    // Every frame is in-app, so `app` would hash as `system` does and only `system` counts.
    let system = &info["variants"]["system"];
    assert_eq!(
        system["values"],
        json!(["app.main", "main", "app.work", "compute", "TypeError"])
    );
    assert_eq!(info["variants"]["app"]["hash"], Value::Null);
    assert_eq!(info["hashes"], json!([system["hash"]]));
    assert_eq!(system["hash"].as_str().map(str::len), Some(64));

    // `--hash md5` gives Sentry's 32-digit hashes over the same values.
    let file = server.data_dir().join("event.json");
    std::fs::write(&file, event.to_string())?;
    let output = Command::new(binary())
        .args(["grouping", "explain", "--hash", "md5"])
        .arg(&file)
        .output()?;
    assert!(output.status.success());
    let md5: Value = serde_json::from_slice(&output.stdout)?;
    assert_eq!(md5["variants"]["system"]["values"], system["values"]);
    assert_eq!(md5["hashes"][0].as_str().map(str::len), Some(32));

    let missing = Command::new(binary())
        .args(["grouping", "explain"])
        .arg(server.data_dir().join("missing.json"))
        .output()?;
    assert!(!missing.status.success(), "a missing file is an error");
    Ok(())
}
