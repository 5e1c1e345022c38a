//! `sentry-cli`, unmodified, against the server: every command of issue 6,
//! each checked through the web API.

use std::path::PathBuf;
use std::process::Command;

use anyhow::{Context, Result, ensure};
use serde_json::Value;

use crate::common::{Backend, Init, TestServer, clients_dir, titles};

/// Runs `sentry-cli` with the server's URL, token, organization, project and DSN.
struct Cli<'a> {
    binary: PathBuf,
    server: &'a TestServer,
    init: &'a Init,
}

impl Cli<'_> {
    /// Runs a command; fails unless it exits 0; returns its output.
    fn run(&self, args: &[&str]) -> Result<String> {
        let output = Command::new(&self.binary)
            .args(args)
            .env("SENTRY_URL", &self.server.url)
            .env("SENTRY_AUTH_TOKEN", &self.init.token)
            .env("SENTRY_ORG", &self.init.org)
            .env("SENTRY_PROJECT", &self.init.project)
            .env("SENTRY_DSN", &self.init.dsn)
            .env("SENTRY_DISABLE_UPDATE_CHECK", "true")
            .output()
            .with_context(|| format!("running sentry-cli {args:?}"))?;
        let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
        ensure!(
            output.status.success(),
            "sentry-cli {args:?} failed: {stdout}\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
        Ok(stdout)
    }
}

/// The status of every issue of the project, by title.
async fn statuses(server: &TestServer, init: &Init) -> Result<Vec<(String, String)>> {
    let mut found: Vec<(String, String)> = server
        .all_issues(init)
        .await?
        .iter()
        .map(|issue| {
            let text = |value: &Value| value.as_str().unwrap_or_default().to_owned();
            (text(&issue["title"]), text(&issue["status"]))
        })
        .collect();
    found.sort();
    Ok(found)
}

fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
    items
        .iter()
        .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
        .collect()
}

#[tokio::test]
async fn sentry_cli_commands_work_unmodified() -> Result<()> {
    sentry_cli_commands(Backend::Embedded).await
}

#[cfg(all(feature = "postgres", feature = "clickhouse"))]
#[tokio::test]
async fn sentry_cli_commands_work_unmodified_on_postgres_and_clickhouse() -> Result<()> {
    sentry_cli_commands(Backend::ScaleOut).await
}

async fn sentry_cli_commands(backend: Backend) -> Result<()> {
    let server = TestServer::start_on(backend)?;
    let init = server.init("cli")?;
    let other = server.init("cli-other")?;
    let cli = Cli {
        binary: clients_dir().join("node/node_modules/.bin/sentry-cli"),
        server: &server,
        init: &init,
    };

    let info = cli.run(&["info"])?;
    assert!(info.contains("project:releases"), "scopes missing:\n{info}");
    let projects = cli.run(&["projects", "list"])?;
    assert!(
        projects.contains(&init.project) && projects.contains(&other.project),
        "projects missing:\n{projects}"
    );

    // Events: two messages and an envelope.
    cli.run(&["send-event", "-m", "cli message one", "--no-environ"])?;
    cli.run(&["send-event", "-m", "cli message two", "--no-environ"])?;
    let dir = tempfile::tempdir()?;
    let envelope = dir.path().join("event.envelope");
    std::fs::write(
        &envelope,
        format!(
            "{{\"event_id\":\"9ec79c33ec9942ab8353589fcb2e04dc\",\"dsn\":\"{}\"}}\n\
             {{\"type\":\"event\"}}\n\
             {{\"message\":\"cli envelope event\",\"level\":\"warning\"}}\n",
            init.dsn
        ),
    )?;
    cli.run(&["send-envelope", envelope.to_str().context("path")?])?;
    let issues = server.all_issues(&init).await?;
    let mut found = titles(&issues);
    found.sort();
    assert_eq!(
        found,
        ["cli envelope event", "cli message one", "cli message two"]
    );

    let listed = cli.run(&["issues", "list"])?;
    for issue in &issues {
        let short_id = issue["shortId"].as_str().unwrap_or_default();
        assert!(listed.contains(short_id), "{short_id} missing:\n{listed}");
    }

    // Triage: by id, then by status, then all.
    let id_of = |title: &str| {
        issues
            .iter()
            .find(|issue| issue["title"] == title)
            .and_then(|issue| issue["id"].as_str())
            .unwrap_or_default()
            .to_owned()
    };
    cli.run(&["issues", "resolve", "-i", &id_of("cli message one")])?;
    cli.run(&["issues", "mute", "-i", &id_of("cli message two")])?;
    assert_eq!(
        statuses(&server, &init).await?,
        pairs(&[
            ("cli envelope event", "unresolved"),
            ("cli message one", "resolved"),
            ("cli message two", "ignored"),
        ])
    );
    // The list takes Sentry's search syntax.
    let short_id_of = |title: &str| {
        issues
            .iter()
            .find(|issue| issue["title"] == title)
            .and_then(|issue| issue["shortId"].as_str())
            .unwrap_or_default()
            .to_owned()
    };
    let resolved = cli.run(&["issues", "list", "--query", "is:resolved"])?;
    assert!(
        resolved.contains(&short_id_of("cli message one")),
        "{resolved}"
    );
    assert!(
        !resolved.contains(&short_id_of("cli message two")),
        "{resolved}"
    );
    cli.run(&["issues", "resolve", "-s", "unresolved"])?;
    assert_eq!(
        statuses(&server, &init).await?,
        pairs(&[
            ("cli envelope event", "resolved"),
            ("cli message one", "resolved"),
            ("cli message two", "ignored"),
        ])
    );
    cli.run(&["issues", "unresolve", "--all"])?;
    assert!(
        statuses(&server, &init)
            .await?
            .iter()
            .all(|(_, status)| status == "unresolved")
    );

    // Releases and deploys.
    let releases_path = format!("/api/0/organizations/{}/releases/", init.org);
    let version = "cli-app@1.0.0";
    cli.run(&[
        "releases",
        "new",
        version,
        "--url",
        "https://example.com/1.0.0",
    ])?;
    let (status, release) = server
        .get(&init.token, &format!("{releases_path}{version}/"))
        .await?;
    assert_eq!(status, 200, "{release}");
    assert_eq!(release["url"], "https://example.com/1.0.0");
    assert_eq!(release["dateReleased"], Value::Null);
    assert_eq!(release["projects"][0]["slug"], init.project.as_str());
    cli.run(&["releases", "finalize", version])?;
    let (_, release) = server
        .get(&init.token, &format!("{releases_path}{version}/"))
        .await?;
    assert!(release["dateReleased"].is_string(), "{release}");
    let listed = cli.run(&["releases", "list"])?;
    assert!(listed.contains(version), "release missing:\n{listed}");

    cli.run(&[
        "deploys",
        "new",
        "-r",
        version,
        "-e",
        "production",
        "-n",
        "first deploy",
        "--url",
        "https://ci.example.com/1",
        "--time",
        "12",
    ])?;
    let (status, deploys) = server
        .get(&init.token, &format!("{releases_path}{version}/deploys/"))
        .await?;
    assert_eq!(status, 200, "{deploys}");
    assert_eq!(deploys[0]["environment"], "production");
    assert_eq!(deploys[0]["name"], "first deploy");
    assert_eq!(deploys[0]["url"], "https://ci.example.com/1");

    cli.run(&["releases", "delete", version])?;
    let (status, _) = server
        .get(&init.token, &format!("{releases_path}{version}/"))
        .await?;
    assert_eq!(status, 404);

    // Cron monitors: a run that succeeds creates the monitor from its
    // schedule; one that fails is an error check-in.
    cli.run(&[
        "monitors",
        "run",
        "cli-job",
        "--schedule",
        "0 3 * * *",
        "--",
        "true",
    ])?;
    let failed = cli.run(&["monitors", "run", "cli-job", "--", "false"]);
    assert!(failed.is_err(), "the job's failure is sentry-cli's");
    let (status, monitors) = server
        .get(
            &init.token,
            &format!("/api/0/organizations/{}/monitors/", init.org),
        )
        .await?;
    assert_eq!(status, 200, "{monitors}");
    assert_eq!(monitors[0]["slug"], "cli-job", "{monitors}");
    assert_eq!(monitors[0]["config"]["schedule"]["value"], "0 3 * * *");
    let (_, checkins) = server
        .get(
            &init.token,
            &format!(
                "/api/0/projects/{}/{}/monitors/cli-job/checkins/",
                init.org, init.project
            ),
        )
        .await?;
    let statuses: Vec<&str> = checkins
        .as_array()
        .context("check-ins")?
        .iter()
        .filter_map(|checkin| checkin["status"].as_str())
        .collect();
    assert_eq!(statuses, ["error", "ok"], "{checkins}");
    Ok(())
}

/// sentry-cli 2 manages releases through the project's release endpoints
/// (`/api/0/projects/{org}/{project}/releases/...`), where 3 uses the
/// organization's.
#[tokio::test]
async fn sentry_cli_2_manages_releases() -> Result<()> {
    let server = TestServer::start()?;
    let init = server.init("cli-two")?;
    let cli = Cli {
        binary: clients_dir().join("cli2/node_modules/.bin/sentry-cli"),
        server: &server,
        init: &init,
    };
    let version = cli.run(&["--version"])?;
    ensure!(version.starts_with("sentry-cli 2."), "{version}");
    let release = "cli-two@1.0.0";
    let detail = format!("/api/0/organizations/{}/releases/{release}/", init.org);
    cli.run(&["releases", "new", release])?;
    let (status, created) = server.get(&init.token, &detail).await?;
    assert_eq!(status, 200, "{created}");
    assert_eq!(created["projects"][0]["slug"], init.project.as_str());
    assert!(created["dateReleased"].is_null(), "{created}");
    cli.run(&["releases", "finalize", release])?;
    let (_, finalized) = server.get(&init.token, &detail).await?;
    assert!(finalized["dateReleased"].is_string(), "{finalized}");
    let info = cli.run(&["releases", "info", release])?;
    assert!(info.contains(release), "{info}");
    cli.run(&["deploys", "new", "-r", release, "-e", "production"])?;
    let deploys = cli.run(&["deploys", "list", "-r", release])?;
    assert!(deploys.contains("production"), "{deploys}");
    assert!(cli.run(&["releases", "list"])?.contains(release));
    cli.run(&["releases", "delete", release])?;
    let (status, _) = server.get(&init.token, &detail).await?;
    assert_eq!(status, 404);
    Ok(())
}
