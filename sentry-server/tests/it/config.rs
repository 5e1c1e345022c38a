//! The configuration file (`--config`): the binary listens and stores where
//! the file says, unless the environment says otherwise.

use std::io::{BufRead, BufReader};
use std::net::{SocketAddr, TcpListener};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use anyhow::{Context, Result};

use crate::common::binary;

/// The variables that would override the file, cleared so that the
/// environment of the test run cannot leak into the server.
const SETTINGS_VARIABLES: [&str; 11] = [
    "SENTRY_CONFIG",
    "SENTRY_LOG_FORMAT",
    "SENTRY_DATA_DIR",
    "SENTRY_METADATA_URL",
    "SENTRY_EVENTS_URL",
    "SENTRY_BLOBS_URL",
    "SENTRY_BLOB_GRACE_PERIOD",
    "SENTRY_BIND",
    "SENTRY_PUBLIC_URL",
    "SENTRY_CLEANUP_INTERVAL",
    "RUST_LOG",
];

/// A `sentry-server` process, killed on drop.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The binary without the settings variables of the test run.
fn sentry_server() -> Command {
    let mut command = Command::new(binary());
    for variable in SETTINGS_VARIABLES {
        command.env_remove(variable);
    }
    command
}

/// Starts the server and waits for the address it reports listening on.
fn start(mut command: Command) -> Result<(Server, String)> {
    let mut child = command
        .env("RUST_LOG", "info")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .context("spawning sentry-server")?;
    let stderr = child.stderr.take().context("no stderr")?;
    let server = Server(child);
    let (sender, receiver) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            eprintln!("[server] {line}");
            if let Some(address) = line.split("address=").nth(1) {
                let address = address.split_whitespace().next().unwrap_or_default();
                let _ = sender.send(address.to_owned());
            }
        }
    });
    let address = receiver
        .recv_timeout(Duration::from_secs(30))
        .context("server did not report its address")?;
    Ok((server, address))
}

/// A loopback address nothing listens on right now.
fn free_address() -> Result<SocketAddr> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?)
}

fn write_config(dir: &Path, data_dir: &Path, bind: SocketAddr) -> Result<std::path::PathBuf> {
    let path = dir.join("sentry.toml");
    std::fs::write(
        &path,
        format!(
            "data_dir = '{}'\n\n[serve]\nbind = '{bind}'\ncleanup_interval = 0\n",
            data_dir.display()
        ),
    )?;
    Ok(path)
}

#[tokio::test]
async fn serve_listens_and_stores_where_the_config_file_says() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let data_dir = dir.path().join("from-file");
    let bind = free_address()?;
    let config = write_config(dir.path(), &data_dir, bind)?;

    let mut command = sentry_server();
    command.arg("serve").arg("--config").arg(&config);
    let (_server, address) = start(command)?;

    assert_eq!(address, bind.to_string());
    let response = reqwest::get(format!("http://{bind}/api/0/")).await?;
    assert_eq!(response.status(), 401, "the API answers without a token");
    assert!(data_dir.join("metadata.sqlite").exists());
    assert!(
        data_dir.join("blobs").is_dir(),
        "blobs default to the data dir"
    );
    Ok(())
}

#[tokio::test]
async fn the_environment_beats_the_config_file() -> Result<()> {
    let dir = tempfile::tempdir()?;
    // The file names an address that is taken: the server only starts if
    // it listens where the environment says instead.
    let taken = TcpListener::bind("127.0.0.1:0")?;
    let config = write_config(
        dir.path(),
        &dir.path().join("from-file"),
        taken.local_addr()?,
    )?;
    let bind = free_address()?;
    let data_dir = dir.path().join("from-env");

    // No subcommand: `serve` is the default and reads the environment too.
    let mut command = sentry_server();
    command
        .env("SENTRY_CONFIG", &config)
        .env("SENTRY_BIND", bind.to_string())
        .env("SENTRY_DATA_DIR", &data_dir);
    let (_server, address) = start(command)?;

    assert_eq!(address, bind.to_string());
    assert!(data_dir.join("metadata.sqlite").exists());
    assert!(!dir.path().join("from-file").exists());
    Ok(())
}

#[test]
fn a_missing_or_invalid_config_file_stops_every_command() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let missing = dir.path().join("missing.toml");
    let misspelt = dir.path().join("misspelt.toml");
    std::fs::write(&misspelt, "[serve]\nbnid = '127.0.0.1:9000'\n")?;
    for (config, says) in [
        (&missing, "cannot read"),
        (&misspelt, "unknown field `bnid`"),
    ] {
        let output = sentry_server()
            .arg("--config")
            .arg(config)
            .args(["init", "--json"])
            .current_dir(dir.path())
            .output()?;
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success(), "{stderr}");
        assert!(stderr.contains(&config.display().to_string()), "{stderr}");
        assert!(stderr.contains(says), "{stderr}");
    }
    // Nothing was created in the default data directory.
    assert!(!dir.path().join("data").exists());
    Ok(())
}

#[test]
fn config_show_prints_what_is_in_effect_with_passwords_masked() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let file = dir.path().join("config.toml");
    std::fs::write(
        &file,
        r#"
        metadata_url = "postgres://sentry:hunter2@db.internal/sentry"
        [serve]
        bind = "0.0.0.0:9100"
        [limits]
        max_event_size = 4096
        [alerts]
        smtp_url = "smtp://mailer:s3cret@mail.internal:587"
        "#,
    )?;
    let output = sentry_server()
        .args(["--config"])
        .arg(&file)
        .args(["config", "show"])
        // The environment beats the file.
        .env("SENTRY_BIND", "127.0.0.1:9200")
        .output()?;
    let shown = String::from_utf8(output.stdout)?;
    anyhow::ensure!(output.status.success(), "{shown}");
    for expected in [
        r#"metadata_url = "postgres://sentry:***@db.internal/sentry""#,
        r#"bind = "127.0.0.1:9200""#,
        "max_event_size = 4096",
        "max_attachments_per_envelope = 30",
        r#"smtp_url = "smtp://mailer:***@mail.internal:587""#,
    ] {
        anyhow::ensure!(shown.contains(expected), "no `{expected}` in:\n{shown}");
    }
    anyhow::ensure!(!shown.contains("hunter2") && !shown.contains("s3cret"));
    Ok(())
}

#[test]
fn config_check_names_each_problem_and_fails() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let good = sentry_server()
        .args(["--data-dir"])
        .arg(dir.path())
        .args(["config", "check"])
        .output()?;
    assert!(good.status.success());
    assert_eq!(String::from_utf8(good.stdout)?.trim(), "configuration OK");

    let file = dir.path().join("config.toml");
    std::fs::write(
        &file,
        r#"
        events_url = "mongodb://db/events"
        [serve]
        public_url = "sentry.example.com"
        [limits]
        max_event_size = 0
        "#,
    )?;
    let bad = sentry_server()
        .args(["--config"])
        .arg(&file)
        .args(["config", "check"])
        .output()?;
    assert!(!bad.status.success());
    let report = String::from_utf8(bad.stdout)?;
    for problem in ["events_url:", "public_url:", "max_event_size:"] {
        anyhow::ensure!(report.contains(problem), "no {problem} in:\n{report}");
    }
    // An unknown key is refused too, naming it.
    std::fs::write(&file, "max_evnt_size = 1\n")?;
    let unknown = sentry_server()
        .args(["--config"])
        .arg(&file)
        .args(["config", "check"])
        .output()?;
    assert!(!unknown.status.success());
    let message = String::from_utf8(unknown.stderr)?;
    anyhow::ensure!(message.contains("max_evnt_size"), "{message}");
    Ok(())
}

#[test]
fn logs_are_json_lines_when_asked() -> Result<()> {
    let dir = tempfile::tempdir()?;
    for (format, json) in [("json", true), ("text", false)] {
        let output = sentry_server()
            .args(["--log-format", format, "--data-dir"])
            .arg(dir.path().join(format))
            .args(["init", "--json"])
            .env("RUST_LOG", "info")
            .current_dir(dir.path())
            .output()?;
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(output.status.success(), "{stderr}");
        // Opening the stores logs their migrations.
        let lines: Vec<&str> = stderr.lines().filter(|line| !line.is_empty()).collect();
        assert!(
            lines.iter().any(|line| line.contains("migrated")),
            "{stderr}"
        );
        for line in lines {
            let parsed = serde_json::from_str::<serde_json::Value>(line);
            if json {
                let parsed = parsed.with_context(|| format!("not JSON: {line}"))?;
                assert_eq!(parsed["level"], "INFO", "{line}");
                assert!(parsed["fields"]["message"].is_string(), "{line}");
                assert!(parsed["timestamp"].is_string(), "{line}");
            } else {
                assert!(parsed.is_err(), "text, not JSON: {line}");
            }
        }
    }
    Ok(())
}

#[test]
fn init_makes_the_dsn_from_the_configured_public_url() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let config = dir.path().join("sentry.toml");
    std::fs::write(
        &config,
        format!(
            "data_dir = '{}'\n\n[serve]\nbind = '0.0.0.0:9100'\npublic_url = 'https://errors.example.com'\n",
            dir.path().join("data").display()
        ),
    )?;
    let dsn = |extra: &[&str]| -> Result<String> {
        let output = sentry_server()
            .arg("--config")
            .arg(&config)
            .args(["init", "--json"])
            .args(extra)
            .output()?;
        let stdout = String::from_utf8_lossy(&output.stdout);
        let created: serde_json::Value = serde_json::from_str(stdout.trim())
            .with_context(|| String::from_utf8_lossy(&output.stderr).into_owned())?;
        Ok(created["dsn"].as_str().unwrap_or_default().to_owned())
    };
    let from_file = dsn(&[])?;
    assert!(
        from_file.starts_with("https://") && from_file.ends_with("@errors.example.com/1"),
        "{from_file}"
    );
    let given = dsn(&["--public-url", "http://10.0.0.5:9000"])?;
    assert!(given.ends_with("@10.0.0.5:9000/1"), "{given}");
    Ok(())
}
