//! Normalization and data scrubbing through the server: an event sent to
//! the envelope endpoint comes back through the event API scrubbed with
//! Sentry's default rules, its clock drift corrected and `{{auto}}`
//! resolved; project scrubbing options set with `PUT` apply to later events.

use anyhow::{Context, Result};
use sentry_core::protocol::Timestamp;
use serde_json::{Value, json};

use crate::common::{Backend, Init, TestServer};

const TWO_DAYS: f64 = 2.0 * 86_400.0;

/// Sends one event in an envelope whose `sent_at` says the SDK's clock
/// runs two days behind.
async fn send_drifted_envelope(server: &TestServer, init: &Init, event: &Value) -> Result<()> {
    let now = Timestamp::now().as_unix_seconds();
    let sent_at = Timestamp::from_unix_seconds(now - TWO_DAYS).context("timestamp")?;
    let mut event = event.clone();
    event["timestamp"] = json!(now - TWO_DAYS - 1.0);
    let body = format!(
        "{}\n{}\n{}\n",
        json!({"event_id": "9ec79c33ec9942ab8353589fcb2e04dc", "sent_at": sent_at.to_rfc3339()}),
        json!({"type": "event"}),
        event,
    );
    let path = format!(
        "/api/{}/envelope/?sentry_key={}",
        init.project_id,
        init.key()
    );
    let (status, answer) = server.post(&path, &[], body).await?;
    anyhow::ensure!(status == 200, "envelope answered {status}: {answer}");
    Ok(())
}

/// The latest event of the project's only issue.
async fn only_event(server: &TestServer, init: &Init) -> Result<Value> {
    let issues = server.all_issues(init).await?;
    anyhow::ensure!(issues.len() == 1, "expected one issue, got {issues:?}");
    let issue_id = issues[0]["id"].as_str().unwrap_or_default();
    server.latest_event(init, issue_id).await
}

fn entry<'a>(event: &'a Value, ty: &str) -> &'a Value {
    event["entries"]
        .as_array()
        .and_then(|entries| entries.iter().find(|entry| entry["type"] == ty))
        .map_or(&Value::Null, |entry| &entry["data"])
}

#[tokio::test]
async fn ingest_scrubs_and_normalizes_by_default() -> Result<()> {
    let server = TestServer::start()?;
    let init = server.init("scrubbed")?;
    let event = json!({
        "platform": "python",
        "message": "checkout failed",
        "extra": {"password": "hunter2", "order": "A-1"},
        "breadcrumbs": [{"message": "paid with 4111 1111 1111 1111"}],
        "user": {"id": "42", "ip_address": "{{auto}}"},
        "request": {"headers": {"Authorization": "Bearer abc", "Accept": "*/*"}},
    });
    send_drifted_envelope(&server, &init, &event).await?;

    let stored = only_event(&server, &init).await?;
    assert_eq!(stored["context"]["password"], "[Filtered]", "{stored}");
    assert_eq!(
        stored["_meta"]["context"]["password"][""]["rem"][0][0], "@password:filter",
        "{stored}"
    );
    assert_eq!(stored["context"]["order"], "A-1");
    assert_eq!(
        entry(&stored, "breadcrumbs")["values"][0]["message"],
        "paid with [Filtered]"
    );
    assert_eq!(
        entry(&stored, "request")["headers"],
        json!({"Authorization": "[Filtered]", "Accept": "*/*"})
    );
    assert_eq!(stored["user"]["ip_address"], "127.0.0.1");
    assert_eq!(stored["errors"][0]["type"], "clock_drift", "{stored}");
    let created = stored["dateCreated"].as_str().unwrap_or_default();
    let created = Timestamp::parse_rfc3339(created).context("dateCreated")?;
    let behind = Timestamp::now().as_unix_seconds() - created.as_unix_seconds();
    assert!(
        (0.0..600.0).contains(&behind),
        "drift corrected, {behind}s behind"
    );
    Ok(())
}

#[tokio::test]
async fn project_scrubbing_options_apply_at_ingest() -> Result<()> {
    let server = TestServer::start()?;
    let init = server.init("options")?;
    let (status, body) = server
        .put_project(&init, json!({"dataScrubber": "yes"}))
        .await?;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["detail"], "dataScrubber: must be a boolean");
    let (status, body) = server
        .put_project(&init, json!({"safeFields": "password"}))
        .await?;
    assert_eq!(status, 400, "{body}");

    let options = json!({
        "sensitiveFields": ["order_ref"],
        "safeFields": ["password"],
        "scrubIPAddresses": true,
    });
    let (status, body) = server.put_project(&init, options).await?;
    assert_eq!(status, 200, "{body}");
    let (_, project) = server
        .get(
            &init.token,
            &format!("/api/0/projects/{}/{}/", init.org, init.project),
        )
        .await?;
    assert_eq!(project["dataScrubber"], true);
    assert_eq!(project["dataScrubberDefaults"], true);
    assert_eq!(project["sensitiveFields"], json!(["order_ref"]));
    assert_eq!(project["safeFields"], json!(["password"]));
    assert_eq!(project["scrubIPAddresses"], true);

    server
        .send_event(
            &init,
            &json!({
                "message": "refund",
                "extra": {"password": "kept", "order_ref": "R-7", "api_key": "k"},
                "user": {"id": "7", "ip_address": "198.51.100.4"},
            }),
        )
        .await?;
    let stored = only_event(&server, &init).await?;
    assert_eq!(
        stored["context"],
        json!({"password": "kept", "order_ref": "[Filtered]", "api_key": "[Filtered]"})
    );
    assert_eq!(stored["user"]["ip_address"], Value::Null, "{stored}");

    let (status, body) = server
        .put_project(
            &init,
            json!({"dataScrubber": false, "scrubIPAddresses": null}),
        )
        .await?;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["dataScrubber"], false);
    assert_eq!(body["scrubIPAddresses"], false);
    Ok(())
}

/// Behind a trusted proxy, `{{auto}}` is the client `X-Forwarded-For`
/// names; from any other peer, the header is ignored.
#[tokio::test]
async fn auto_ip_behind_a_trusted_proxy_is_the_forwarded_client() -> Result<()> {
    let event = json!({
        "message": "behind a proxy",
        "user": {"ip_address": "{{auto}}"},
    })
    .to_string();
    for (trusted, expected) in [
        ("127.0.0.1/32", "198.51.100.23"),
        ("10.0.0.0/8", "127.0.0.1"),
    ] {
        let server = TestServer::start_with(Backend::Embedded, &["--trusted-proxies", trusted])?;
        let init = server.init("proxied")?;
        let path = format!("/api/{}/store/?sentry_key={}", init.project_id, init.key());
        let (status, answer) = server
            .post(
                &path,
                &[("x-forwarded-for", "10.1.1.1, 198.51.100.23")],
                event.clone(),
            )
            .await?;
        anyhow::ensure!(status == 200, "store answered {status}: {answer}");
        let stored = only_event(&server, &init).await?;
        assert_eq!(stored["user"]["ip_address"], expected, "trusting {trusted}");
    }
    Ok(())
}
