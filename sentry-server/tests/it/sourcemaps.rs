//! JavaScript symbolication with the real tool chain: a program bundled
//! and minified by esbuild, its source maps uploaded by `sentry-cli`
//! (with debug IDs injected, and by release and URL), its error reported
//! by `@sentry/node`; the stored event's frames must point at the
//! original sources, and both builds must land in one issue.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, ensure};
use serde_json::Value;

use crate::common::{
    Backend, Init, TestServer, clients_dir, exception_values, run, scripts_dir, sentry_cli,
};

/// The fixture program's sources.
fn sources() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/sourcemaps/src")
}

/// A build of the fixture program: its folder, the bundle's name and
/// extra esbuild flags.
struct Build<'a> {
    dir: &'a Path,
    bundle: &'a str,
    flags: &'a [&'a str],
}

impl Build<'_> {
    fn bundle_path(&self) -> PathBuf {
        self.dir.join("dist").join(self.bundle)
    }

    /// Copies the sources in and bundles them with esbuild.
    fn make(&self) -> Result<()> {
        let src = self.dir.join("src");
        std::fs::create_dir_all(&src)?;
        for name in ["checkout.js", "validate.js"] {
            std::fs::copy(sources().join(name), src.join(name))?;
        }
        std::fs::copy(
            scripts_dir().join("sourcemap_entry.js"),
            src.join("entry.js"),
        )?;
        let esbuild = clients_dir().join("node/node_modules/.bin/esbuild");
        run(Command::new(esbuild)
            .current_dir(self.dir)
            .args([
                "src/entry.js",
                "--bundle",
                "--minify",
                "--sourcemap",
                "--platform=node",
                "--format=cjs",
                "--external:@sentry/node",
            ])
            .args(self.flags)
            .arg(format!("--outfile=dist/{}", self.bundle)))?;
        Ok(())
    }

    /// Runs the bundle under Node with @sentry/node.
    fn report(&self, init: &Init, release: Option<&str>) -> Result<()> {
        let mut command = Command::new("node");
        command
            .arg(self.bundle_path())
            .env("NODE_PATH", clients_dir().join("node/node_modules"))
            .env("SENTRY_DSN", &init.dsn);
        if let Some(release) = release {
            command.env("SENTRY_RELEASE", release);
        }
        run(&mut command)?;
        Ok(())
    }
}

/// The frames of the event's exception, outermost first.
fn frames(event: &Value) -> Vec<Value> {
    exception_values(event)
        .first()
        .and_then(|exception| exception["stacktrace"]["frames"].as_array().cloned())
        .unwrap_or_default()
}

/// The frames of the fixture's sources: (file, function, line).
fn source_frames(event: &Value) -> Vec<(String, String, u64)> {
    frames(event)
        .iter()
        .filter(|frame| {
            frame["filename"]
                .as_str()
                .is_some_and(|name| name.starts_with("../src/"))
        })
        .map(|frame| {
            (
                frame["filename"].as_str().unwrap_or_default().to_owned(),
                frame["function"].as_str().unwrap_or_default().to_owned(),
                frame["lineNo"].as_u64().unwrap_or_default(),
            )
        })
        .collect()
}

/// The one event of the project that satisfies `pick`, waiting for it.
async fn event_where(
    server: &TestServer,
    init: &Init,
    pick: impl Fn(&Value) -> bool,
) -> Result<Value> {
    for _ in 0..100 {
        for issue in server.all_issues(init).await? {
            let id = issue["id"].as_str().context("issue id")?;
            let (status, events) = server
                .get(
                    &init.token,
                    &format!("/api/0/issues/{id}/events/?full=true"),
                )
                .await?;
            ensure!(status == 200, "listing events answered {status}: {events}");
            if let Some(event) = events
                .as_array()
                .into_iter()
                .flatten()
                .find(|event| pick(event))
            {
                return Ok(event.clone());
            }
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    anyhow::bail!("no such event arrived")
}

/// The source line of a frame, from its context.
fn context_line(frame: &Value) -> Option<&str> {
    frame["context"]
        .as_array()?
        .iter()
        .find(|pair| pair[0] == frame["lineNo"])
        .and_then(|pair| pair[1].as_str())
        .map(str::trim)
}

fn release_of(event: &Value) -> Option<&str> {
    event["release"]["version"]
        .as_str()
        .or_else(|| event["release"].as_str())
}

#[tokio::test]
async fn minified_node_frames_are_mapped_to_their_sources() -> Result<()> {
    sourcemaps_case(Backend::Embedded).await
}

/// The same with the uploads in Postgres (metadata and blobs) and the
/// events in ClickHouse.
#[cfg(all(feature = "postgres", feature = "clickhouse"))]
#[tokio::test]
async fn minified_node_frames_are_mapped_to_their_sources_on_postgres_and_clickhouse() -> Result<()>
{
    sourcemaps_case(Backend::ScaleOut).await
}

async fn sourcemaps_case(backend: Backend) -> Result<()> {
    let mut server = TestServer::start_on(backend)?;
    let init = server.init("sourcemaps")?;
    let work = tempfile::tempdir()?;

    // Build one: debug IDs injected, uploaded without a release.
    let first = Build {
        dir: &work.path().join("one"),
        bundle: "app.min.js",
        flags: &[],
    };
    first.make()?;
    let dist = first.dir.join("dist");
    let dist = dist.to_str().context("path")?;
    sentry_cli(&server, &init, &["sourcemaps", "inject", dist])?;
    let uploaded = sentry_cli(&server, &init, &["sourcemaps", "upload", "--wait", dist])?;
    ensure!(uploaded.contains("app.min.js"), "upload output: {uploaded}");
    first.report(&init, None)?;
    let event = event_where(&server, &init, |event| release_of(event).is_none()).await?;
    let expected: Vec<(String, String, u64)> = [
        ("../src/entry.js", "Object.?", 14),
        ("../src/checkout.js", "runCheckout", 17),
        ("../src/checkout.js", "Checkout.total", 10),
        ("../src/validate.js", "validateCart", 3),
        // The SDK names the anonymous callback `?`, and so does the map.
        ("../src/validate.js", "?", 5),
    ]
    .into_iter()
    .map(|(file, function, line)| (file.to_owned(), function.to_owned(), line))
    .collect();
    assert_eq!(
        source_frames(&event),
        expected,
        "errors {:#}, last frame {:#}",
        event["errors"],
        frames(&event).last().cloned().unwrap_or_default()
    );
    let thrown = frames(&event).last().cloned().context("no frames")?;
    assert_eq!(
        context_line(&thrown),
        Some("throw new Error(`Negative price for ${item.name}`);"),
        "{thrown:#}"
    );
    assert_eq!(thrown["data"]["resolved_with"], "debug-id", "{thrown:#}");

    // A restarted server finds the built cache on disk instead of
    // parsing the map again.
    server.kill_and_restart()?;
    let host = server.url.trim_start_matches("http://");
    let restarted = Init {
        dsn: format!("http://{}@{host}/{}", init.key(), init.project_id),
        ..init.clone()
    };
    first.report(&restarted, None)?;
    server.settled().await?;
    let metrics = server
        .http
        .get(format!("{}/metrics", server.url))
        .send()
        .await?
        .text()
        .await?;
    let from_disk = metrics
        .lines()
        .find(|line| {
            line.starts_with("sentry_symbolication_cache_total")
                && line.contains(r#"kind="sourcemap""#)
                && line.contains(r#"result="disk""#)
        })
        .with_context(|| {
            let lines: Vec<&str> = metrics
                .lines()
                .filter(|line| line.contains("symbolicat"))
                .collect();
            format!("no disk hit in {lines:#?}")
        })?;
    ensure!(!from_disk.ends_with(" 0"), "{from_disk}");

    // Build two: names kept and a banner (other code, columns and lines),
    // no debug IDs: found by release and URL.
    let second = Build {
        dir: &work.path().join("two"),
        bundle: "app.min.js",
        flags: &["--keep-names", "--banner:js=/* build two */"],
    };
    second.make()?;
    let dist = second.dir.join("dist");
    let prefix = format!("~{}", dist.to_str().context("path")?);
    let dist = dist.to_str().context("path")?;
    // Uploads build two for a release, without debug IDs.
    let upload_for = |release: &str| -> Result<()> {
        sentry_cli(&server, &init, &["releases", "new", release])?;
        sentry_cli(
            &server,
            &init,
            &[
                "sourcemaps",
                "upload",
                "--wait",
                "--release",
                release,
                "--url-prefix",
                &prefix,
                dist,
            ],
        )?;
        Ok(())
    };
    upload_for("shop@2")?;
    second.report(&restarted, Some("shop@2"))?;
    let event = event_where(&server, &init, |event| release_of(event) == Some("shop@2")).await?;
    assert_eq!(source_frames(&event), expected);
    let thrown = frames(&event).last().cloned().context("no frames")?;
    assert_eq!(thrown["data"]["resolved_with"], "release", "{thrown:#}");

    // The same build reported under a release nothing was uploaded for
    // stays minified.
    second.report(&restarted, Some("shop@3"))?;
    let event = event_where(&server, &init, |event| release_of(event) == Some("shop@3")).await?;
    assert!(
        source_frames(&event).is_empty(),
        "{:#}",
        frames(&event).last().cloned().unwrap_or_default()
    );
    // The server now remembers that shop@3 has no upload for the file; an
    // upload makes it look again.
    upload_for("shop@3")?;
    second.report(&restarted, Some("shop@3"))?;
    let event = event_where(&server, &init, |event| {
        release_of(event) == Some("shop@3") && !source_frames(event).is_empty()
    })
    .await?;
    assert_eq!(source_frames(&event), expected);

    // One bug, one issue, whatever build it came from (four reports);
    // the minified report is another.
    let issues = server.all_issues(&init).await?;
    let counts: Vec<(String, String)> = issues
        .iter()
        .map(|issue| {
            (
                issue["title"].as_str().unwrap_or_default().to_owned(),
                issue["count"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    ensure!(issues.len() == 2, "issues: {counts:?}");
    let counts: Vec<&str> = counts.iter().map(|(_, count)| count.as_str()).collect();
    ensure!(
        counts.contains(&"4") && counts.contains(&"1"),
        "issues: {issues:#?}"
    );
    Ok(())
}
