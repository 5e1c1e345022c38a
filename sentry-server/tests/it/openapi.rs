//! The OpenAPI description at `/api/0/openapi.json`, and schemathesis
//! (from PyPI, installed with the test clients) generating requests from it
//! against a running server: no request may get a 5xx.

use std::process::Command;

use anyhow::{Context, Result, ensure};
use reqwest::Method;
use serde_json::{Value, json};

use crate::common::{Backend, TestServer, clients_dir};

/// How long schemathesis generates requests.
const FUZZ_SECONDS: &str = "60";

#[tokio::test]
async fn schemathesis_finds_no_server_error() -> Result<()> {
    schemathesis(Backend::Embedded).await
}

#[cfg(all(feature = "postgres", feature = "clickhouse"))]
#[tokio::test]
async fn schemathesis_finds_no_server_error_on_postgres_and_clickhouse() -> Result<()> {
    schemathesis(Backend::ScaleOut).await
}

async fn schemathesis(backend: Backend) -> Result<()> {
    let clients = clients_dir();
    let server = TestServer::start_on(backend)?;
    // The description's examples name `init`'s defaults and these.
    let init = server.init("internal")?;
    for n in 0..3 {
        let event =
            json!({"message": format!("message {n}"), "release": "app@1.0.0", "tags": {"t": "v"}});
        server.send_event(&init, &event).await?;
    }
    let token = init.token.as_str();
    let teams = format!("/api/0/organizations/{}/teams/", init.org);
    let (status, _) = server
        .call(Method::POST, token, &teams, Some(json!({"slug": "core"})))
        .await?;
    ensure!(status == 201, "team: {status}");

    // The description is served without a token and names every path.
    let description: Value = server
        .http
        .get(format!("{}/api/0/openapi.json", server.url))
        .send()
        .await?
        .json()
        .await?;
    assert_eq!(description["openapi"], "3.0.3");
    let paths = description["paths"].as_object().context("paths")?;
    for path in [
        "/api/0/projects/{org}/{project}/issues/",
        "/api/0/organizations/{org}/releases/{version}/deploys/",
        "/api/0/teams/{org}/{team}/projects/",
        "/api/0/issues/{issue_id}/events/{pick}/",
        "/api/0/api-tokens/",
    ] {
        assert!(paths.contains_key(path), "{path} is not described");
    }

    let dir = tempfile::tempdir()?;
    let junit = dir.path().join("junit.xml");
    let output = Command::new(clients.join("venv/bin/schemathesis"))
        .current_dir(dir.path())
        .args(["run", &format!("{}/api/0/openapi.json", server.url)])
        .args(["--header", &format!("Authorization: Bearer {token}")])
        .args(["--checks", "not_a_server_error"])
        // One worker and a patient timeout: the test shares two cores with
        // the rest of the suite, and a slow answer is not what it looks for.
        .args(["--max-time", FUZZ_SECONDS, "--workers", "1"])
        .args(["--request-timeout", "60"])
        .args(["--generation-database", "none", "--no-color"])
        .args(["--report", "junit", "--report-junit-path"])
        .arg(&junit)
        .output()
        .context("running schemathesis")?;
    let printed = String::from_utf8_lossy(&output.stdout).into_owned();
    let report = std::fs::read_to_string(&junit).context("schemathesis wrote no report")?;
    ensure!(
        !report.contains("<failure"),
        "schemathesis found server errors:\n{printed}"
    );
    // Errors are schemathesis's own trouble: only Hypothesis's "flaky"
    // generation errors are tolerated, never a failed connection.
    let errors = report.matches("<error").count();
    let flaky = report.matches("Inconsistent results").count();
    ensure!(
        output.status.success() || errors <= flaky,
        "schemathesis failed:\n{printed}"
    );
    ensure!(
        printed.contains(" passed"),
        "schemathesis tested nothing:\n{printed}"
    );
    // And the server still answers.
    let (status, _) = server.get(token, "/api/0/").await?;
    assert_eq!(status, 200);
    Ok(())
}
