//! The real SDKs: the Python `sentry-sdk` and `@sentry/node` send to a
//! server, and the web API shows what they made (`sentry-cli` has its own
//! module, `sentry_cli`).

use std::process::Command;

use anyhow::{Context, Result};
use serde_json::Value;

use crate::common::{
    Backend, Init, TestServer, clients_dir, exception_values, functions, issue_titled, run,
    run_python, scripts_dir, titles,
};

fn tags(event: &Value) -> Vec<(String, String)> {
    event["tags"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|tag| {
            let text = |v: &Value| v.as_str().unwrap_or_default().to_owned();
            (text(&tag["key"]), text(&tag["value"]))
        })
        .collect()
}

fn breadcrumb_messages(event: &Value) -> Vec<String> {
    event["entries"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|entry| entry["type"] == "breadcrumbs")
        .flat_map(|entry| {
            entry["data"]["values"]
                .as_array()
                .cloned()
                .unwrap_or_default()
        })
        .filter_map(|crumb| crumb["message"].as_str().map(str::to_owned))
        .collect()
}

/// Checks an issue's count, culprit and user count.
fn check_issue(issue: &Value, count: &str, culprit: &str, users: u64) {
    assert_eq!(issue["count"], count, "count of {}", issue["title"]);
    assert_eq!(issue["culprit"], culprit, "culprit of {}", issue["title"]);
    assert_eq!(issue["userCount"], users, "users of {}", issue["title"]);
    assert_eq!(issue["status"], "unresolved");
}

async fn check_context_event(
    server: &TestServer,
    init: &Init,
    issue: &Value,
    user: &str,
    crumb: &str,
) -> Result<()> {
    let event = server
        .latest_event(init, issue["id"].as_str().unwrap_or_default())
        .await?;
    assert!(
        tags(&event).contains(&("feature".to_owned(), "checkout".to_owned())),
        "tags: {}",
        event["tags"]
    );
    assert_eq!(event["user"]["id"], user);
    assert!(
        breadcrumb_messages(&event).iter().any(|m| m == crumb),
        "breadcrumbs: {:?}",
        breadcrumb_messages(&event)
    );
    assert_eq!(event["release"]["version"], "e2e@1.0.0");
    assert_eq!(event["environment"], "test");
    Ok(())
}

/// Checks that an issue's latest event carries the exception chain with these
/// types, cause first, and that the outer one was raised in `chained`.
async fn check_chain(
    server: &TestServer,
    init: &Init,
    issue: &Value,
    types: &[&str],
) -> Result<Value> {
    let event = server
        .latest_event(init, issue["id"].as_str().unwrap_or_default())
        .await?;
    let exceptions = exception_values(&event);
    let found: Vec<&str> = exceptions
        .iter()
        .map(|e| e["type"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(found, types);
    let frames = exceptions.last().map(functions).unwrap_or_default();
    assert_eq!(
        frames.last().map(String::as_str),
        Some("chained"),
        "frames: {frames:?}"
    );
    Ok(event)
}

#[tokio::test]
async fn python_sdk_events_become_the_expected_issues() -> Result<()> {
    python_sdk(Backend::Embedded).await
}

#[cfg(all(feature = "postgres", feature = "clickhouse"))]
#[tokio::test]
async fn python_sdk_events_become_the_expected_issues_on_postgres_and_clickhouse() -> Result<()> {
    python_sdk(Backend::ScaleOut).await
}

async fn python_sdk(backend: Backend) -> Result<()> {
    let server = TestServer::start_on(backend)?;
    let init = server.init("python")?;
    run_python("python_scenarios.py", &[], &init.dsn)?;

    let issues = server.all_issues(&init).await?;
    let mut found = titles(&issues);
    found.sort();
    assert_eq!(
        found,
        [
            "LookupError: python with context",
            "RuntimeError: python outer failure",
            "TypeError: can only concatenate str (not \"int\") to str",
            "ValueError: python bad value 1",
            "ZeroDivisionError: division by zero",
            "python message 42",
        ]
    );
    check_issue(
        issue_titled(&issues, "ValueError: python bad value 1"),
        "2",
        "__main__ in same_site",
        0,
    );
    check_issue(
        issue_titled(&issues, "ZeroDivisionError: division by zero"),
        "1",
        "__main__ in divide",
        0,
    );
    check_issue(issue_titled(&issues, "python message 42"), "1", "", 0);
    let context = issue_titled(&issues, "LookupError: python with context");
    check_issue(context, "1", "__main__ in with_context", 1);
    check_context_event(&server, &init, context, "user-1", "python added item").await?;

    let chained = issue_titled(&issues, "RuntimeError: python outer failure");
    check_issue(chained, "1", "__main__ in chained", 0);
    let event = check_chain(&server, &init, chained, &["KeyError", "RuntimeError"]).await?;
    let exceptions = exception_values(&event);
    assert!(functions(&exceptions[1]).iter().any(|f| f == "capture"));
    let top = &exceptions[1]["stacktrace"]["frames"]
        .as_array()
        .context("frames")?
        .last()
        .cloned()
        .unwrap_or_default();
    assert_eq!(top["filename"], "python_scenarios.py");
    assert!(top["lineNo"].as_u64().is_some_and(|line| line > 0));
    Ok(())
}

#[tokio::test]
async fn node_sdk_events_become_the_expected_issues() -> Result<()> {
    node_sdk(Backend::Embedded).await
}

#[cfg(all(feature = "postgres", feature = "clickhouse"))]
#[tokio::test]
async fn node_sdk_events_become_the_expected_issues_on_postgres_and_clickhouse() -> Result<()> {
    node_sdk(Backend::ScaleOut).await
}

async fn node_sdk(backend: Backend) -> Result<()> {
    let clients = clients_dir();
    let server = TestServer::start_on(backend)?;
    let init = server.init("node")?;
    run(Command::new("node")
        .arg(scripts_dir().join("node_scenarios.cjs"))
        .env("NODE_PATH", clients.join("node/node_modules"))
        .env("SENTRY_DSN", &init.dsn))?;

    let mut issues = server.all_issues(&init).await?;
    // Node sends both RangeErrors at once, often within one millisecond: the
    // issue is titled after whichever the server stored last.
    for issue in &mut issues {
        if issue["title"] == "RangeError: node bad value 0" {
            issue["title"] = "RangeError: node bad value 1".into();
        }
    }
    let mut found = titles(&issues);
    found.sort();
    assert_eq!(
        found,
        [
            "Error: node outer failure",
            "EvalError: node cannot eval",
            "RangeError: node bad value 1",
            "SyntaxError: node cannot parse",
            "URIError: node with context",
            // captureMessage carries a synthetic exception: Sentry titles it by function.
            "main",
        ]
    );
    check_issue(
        issue_titled(&issues, "RangeError: node bad value 1"),
        "2",
        "sameSite(node_scenarios)",
        0,
    );
    check_issue(
        issue_titled(&issues, "EvalError: node cannot eval"),
        "1",
        "evalBroken(node_scenarios)",
        0,
    );
    let message = issue_titled(&issues, "main");
    check_issue(message, "1", "main(node_scenarios)", 0);
    let event = server
        .latest_event(&init, message["id"].as_str().unwrap_or_default())
        .await?;
    assert_eq!(event["message"], "node message 42");
    let context = issue_titled(&issues, "URIError: node with context");
    check_issue(context, "1", "withContext(node_scenarios)", 1);
    check_context_event(&server, &init, context, "user-2", "node added item").await?;

    let chained = issue_titled(&issues, "Error: node outer failure");
    check_chain(&server, &init, chained, &["TypeError", "Error"]).await?;
    Ok(())
}
