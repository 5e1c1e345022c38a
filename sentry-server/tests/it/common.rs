//! A server process for one test: its own temp data dir and port.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use serde::Deserialize;
use serde_json::Value;

/// What `sentry-server init --json` prints.
#[derive(Debug, Clone, Deserialize)]
pub struct Init {
    pub org: String,
    pub project: String,
    pub project_id: u64,
    pub dsn: String,
    pub token: String,
}

impl Init {
    /// The public key of the DSN.
    pub fn key(&self) -> &str {
        let after_scheme = self.dsn.split("://").nth(1).unwrap_or_default();
        after_scheme.split('@').next().unwrap_or_default()
    }
}

/// The stores a test server runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// The default: SQLite and DuckDB files in the data directory.
    Embedded,
    /// PostgreSQL and ClickHouse, as `scripts/test-services` starts them.
    #[cfg_attr(
        not(all(feature = "postgres", feature = "clickhouse")),
        allow(dead_code)
    )]
    ScaleOut,
}

impl Backend {
    /// The environment that points `serve` and `init` at the stores.
    fn env(self) -> Result<Vec<(&'static str, String)>> {
        Ok(match self {
            Backend::Embedded => Vec::new(),
            Backend::ScaleOut => {
                let service = |variable: &str| {
                    std::env::var(variable).with_context(|| {
                        format!(
                            "{variable} is not set; run the tests through scripts/test-services, \
                             which starts the servers and sets it"
                        )
                    })
                };
                vec![
                    ("SENTRY_METADATA_URL", service("TEST_POSTGRES_URL")?),
                    ("SENTRY_EVENTS_URL", service("TEST_CLICKHOUSE_URL")?),
                ]
            }
        })
    }

    /// The organization tests use: servers on shared databases get one of their own.
    fn org(self) -> String {
        match self {
            Backend::Embedded => "sentry".to_owned(),
            Backend::ScaleOut => {
                let nanos = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |elapsed| elapsed.as_nanos());
                format!("sentry-{:x}", nanos ^ u128::from(std::process::id()))
            }
        }
    }
}

pub struct TestServer {
    child: Child,
    data_dir: tempfile::TempDir,
    store_env: Vec<(&'static str, String)>,
    serve_args: Vec<String>,
    org: String,
    pub url: String,
    pub http: reqwest::Client,
}

/// Writes a configuration file into a new temp dir; returns the dir
/// (removed when dropped) and the file's path, for `--config`.
pub fn config_file(text: &str) -> Result<(tempfile::TempDir, String)> {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("sentry.toml");
    std::fs::write(&path, text)?;
    Ok((dir, path.display().to_string()))
}

pub fn binary() -> &'static str {
    env!("CARGO_BIN_EXE_sentry-server")
}

impl TestServer {
    /// Starts `sentry-server serve` on a free loopback port, on the embedded stores.
    pub fn start() -> Result<Self> {
        Self::start_on(Backend::Embedded)
    }

    /// Starts `sentry-server serve` on a free loopback port, on some stores.
    pub fn start_on(backend: Backend) -> Result<Self> {
        Self::start_with(backend, &[])
    }

    /// Starts `sentry-server serve` with more options.
    pub fn start_with(backend: Backend, serve_args: &[&str]) -> Result<Self> {
        let data_dir = tempfile::tempdir()?;
        let store_env = backend.env()?;
        let serve_args: Vec<String> = serve_args.iter().map(|&arg| arg.to_owned()).collect();
        let (child, url) = spawn(data_dir.path(), &store_env, &serve_args)?;
        Ok(Self {
            child,
            data_dir,
            store_env,
            serve_args,
            org: backend.org(),
            url,
            http: reqwest::Client::new(),
        })
    }

    /// Starts another node on the same stores (its own data directory, so
    /// its own spool and caches), as a scale-out installation runs several.
    pub fn another_node(&self) -> Result<Self> {
        let data_dir = tempfile::tempdir()?;
        let (child, url) = spawn(data_dir.path(), &self.store_env, &self.serve_args)?;
        Ok(Self {
            child,
            data_dir,
            store_env: self.store_env.clone(),
            serve_args: self.serve_args.clone(),
            org: self.org.clone(),
            url,
            http: reqwest::Client::new(),
        })
    }

    /// Kills the server with SIGKILL, as a crash would, and starts it again
    /// on the same data directory (on a new port).
    pub fn kill_and_restart(&mut self) -> Result<()> {
        self.child.kill()?;
        self.child.wait()?;
        let (child, url) = spawn(self.data_dir.path(), &self.store_env, &self.serve_args)?;
        self.child = child;
        self.url = url;
        Ok(())
    }

    /// The server's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn data_dir(&self) -> &Path {
        self.data_dir.path()
    }

    /// Runs `init --json` for a project of the test's organization.
    pub fn init(&self, project: &str) -> Result<Init> {
        self.init_in(&self.org, project)
    }

    /// Runs `init --json` for a project of an organization.
    pub fn init_in(&self, org: &str, project: &str) -> Result<Init> {
        let output = Command::new(binary())
            .envs(self.store_env.iter().map(|(name, value)| (name, value)))
            .arg("--data-dir")
            .arg(self.data_dir())
            .args([
                "init",
                "--json",
                "--org",
                org,
                "--project",
                project,
                "--public-url",
                &self.url,
            ])
            .output()?;
        if !output.status.success() {
            bail!("init failed: {}", String::from_utf8_lossy(&output.stderr));
        }
        Ok(serde_json::from_slice(&output.stdout)?)
    }

    /// Runs `user create --password-stdin` for an account of the test's
    /// organization, a web UI login.
    pub fn create_user(&self, email: &str, password: &str, superuser: bool) -> Result<()> {
        use std::io::Write as _;
        let mut command = Command::new(binary());
        command
            .envs(self.store_env.iter().map(|(name, value)| (name, value)))
            .arg("--data-dir")
            .arg(self.data_dir())
            .args([
                "user",
                "create",
                "--email",
                email,
                "--password-stdin",
                "--org",
                &self.org,
            ]);
        if superuser {
            command.arg("--superuser");
        }
        let mut child = command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()?;
        child
            .stdin
            .take()
            .context("no stdin")?
            .write_all(format!("{password}\n").as_bytes())?;
        let output = child.wait_with_output()?;
        if !output.status.success() {
            bail!(
                "user create failed: {}",
                String::from_utf8_lossy(&output.stderr)
            );
        }
        Ok(())
    }

    /// Waits until the server has processed everything it acknowledged
    /// (ingest answers once a request is spooled, and stores it after).
    pub async fn settled(&self) -> Result<()> {
        let started = std::time::Instant::now();
        loop {
            let ready: Value = self
                .http
                .get(format!("{}/health/ready", self.url))
                .send()
                .await?
                .json()
                .await?;
            if ready["spoolBacklog"] == 0 {
                return Ok(());
            }
            anyhow::ensure!(
                started.elapsed() < Duration::from_secs(60),
                "the server did not process its spool: {ready}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// GETs an API path with a token, once everything sent is processed;
    /// returns the status and JSON body.
    pub async fn get(&self, token: &str, path: &str) -> Result<(u16, Value)> {
        self.settled().await?;
        let response = self
            .http
            .get(format!("{}{path}", self.url))
            .bearer_auth(token)
            .send()
            .await?;
        let status = response.status().as_u16();
        Ok((status, response.json().await?))
    }

    /// Sends an API request with a token and an optional JSON body, once
    /// everything sent is processed; returns the status and the JSON body
    /// (`null` when empty).
    pub async fn call(
        &self,
        method: reqwest::Method,
        token: &str,
        path: &str,
        body: Option<Value>,
    ) -> Result<(u16, Value)> {
        self.settled().await?;
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.url))
            .bearer_auth(token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await?;
        let status = response.status().as_u16();
        let text = response.text().await?;
        if text.is_empty() {
            return Ok((status, Value::Null));
        }
        let body =
            serde_json::from_str(&text).with_context(|| format!("answer is not JSON: {text:?}"))?;
        Ok((status, body))
    }

    /// PUTs a project update through Sentry's project API; returns the
    /// status and JSON body.
    pub async fn put_project(&self, init: &Init, body: Value) -> Result<(u16, Value)> {
        let response = self
            .http
            .put(format!(
                "{}/api/0/projects/{}/{}/",
                self.url, init.org, init.project
            ))
            .bearer_auth(&init.token)
            .json(&body)
            .send()
            .await?;
        let status = response.status().as_u16();
        Ok((status, response.json().await?))
    }

    /// Lists every issue of a project (all statuses), following `Link` cursors.
    pub async fn all_issues(&self, init: &Init) -> Result<Vec<Value>> {
        let url = format!(
            "{}/api/0/projects/{}/{}/issues/?query=",
            self.url, init.org, init.project
        );
        self.all_pages(&init.token, url).await
    }

    /// GETs a list and every page after it, following `Link` cursors.
    pub async fn all_pages(&self, token: &str, url: String) -> Result<Vec<Value>> {
        self.settled().await?;
        let mut items = Vec::new();
        let mut next = Some(url);
        while let Some(url) = next {
            let response = self.http.get(&url).bearer_auth(token).send().await?;
            anyhow::ensure!(
                response.status() == 200,
                "{url} answered {}",
                response.status()
            );
            next = next_link(response.headers().get("link").and_then(|v| v.to_str().ok()));
            let page: Vec<Value> = response.json().await?;
            items.extend(page);
        }
        Ok(items)
    }

    /// The latest event of an issue.
    pub async fn latest_event(&self, init: &Init, issue_id: &str) -> Result<Value> {
        let (status, event) = self
            .get(
                &init.token,
                &format!("/api/0/issues/{issue_id}/events/latest/"),
            )
            .await?;
        anyhow::ensure!(status == 200, "latest event answered {status}: {event}");
        Ok(event)
    }

    /// Sends an event to `/store/` with the project's DSN key; returns its id.
    pub async fn send_event(&self, init: &Init, event: &Value) -> Result<String> {
        let path = format!("/api/{}/store/?sentry_key={}", init.project_id, init.key());
        let (status, answer) = self.post(&path, &[], event.to_string()).await?;
        anyhow::ensure!(status == 200, "store answered {status}: {answer}");
        Ok(answer["id"].as_str().unwrap_or_default().to_owned())
    }

    /// POSTs raw bytes to an ingest path.
    pub async fn post(
        &self,
        path: &str,
        headers: &[(&str, &str)],
        body: impl Into<reqwest::Body>,
    ) -> Result<(u16, Value)> {
        let mut request = self.http.post(format!("{}{path}", self.url)).body(body);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let response = request.send().await?;
        let status = response.status().as_u16();
        let text = response.text().await?;
        let body =
            serde_json::from_str(&text).with_context(|| format!("answer is not JSON: {text:?}"))?;
        Ok((status, body))
    }
}

/// Spawns `sentry-server serve` on a free loopback port; returns the
/// process and its URL once it listens.
fn spawn(
    data_dir: &Path,
    store_env: &[(&'static str, String)],
    serve_args: &[String],
) -> Result<(Child, String)> {
    let mut child = Command::new(binary())
        .args(["--data-dir"])
        .arg(data_dir)
        .args(["serve", "--bind", "127.0.0.1:0"])
        .args(serve_args)
        .envs(store_env.iter().map(|(name, value)| (name, value)))
        .env("RUST_LOG", "info")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .context("spawning sentry-server")?;
    let stderr = child.stderr.take().context("no stderr")?;
    let (sender, receiver) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            eprintln!("[server] {line}");
            if let Some(address) = line.split("address=").nth(1) {
                let address = address
                    .split_whitespace()
                    .next()
                    .unwrap_or_default()
                    .to_owned();
                let _ = sender.send(address);
            }
        }
    });
    let address = receiver
        .recv_timeout(Duration::from_secs(30))
        .context("server did not report its address")?;
    Ok((child, format!("http://{address}")))
}

impl Drop for TestServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The `rel="next"` URL of a Sentry `Link` header, if it has results.
pub fn next_link(header: Option<&str>) -> Option<String> {
    header?.split(", <").find_map(|part| {
        let part = part.trim_start_matches('<');
        let (url, attributes) = part.split_once(">;")?;
        (attributes.contains("rel=\"next\"") && attributes.contains("results=\"true\""))
            .then(|| url.to_owned())
    })
}

/// The real `sentry-cli`, set up to talk to a server as an
/// organization's admin (its URL, token, organization and project).
pub fn sentry_cli_command(server: &TestServer, init: &Init) -> Command {
    let mut command = Command::new(clients_dir().join("node/node_modules/.bin/sentry-cli"));
    command
        .env("SENTRY_URL", &server.url)
        .env("SENTRY_AUTH_TOKEN", &init.token)
        .env("SENTRY_ORG", &init.org)
        .env("SENTRY_PROJECT", &init.project)
        .env("SENTRY_DISABLE_UPDATE_CHECK", "true");
    command
}

/// Runs `sentry-cli` with `args` against a server; returns its output.
pub fn sentry_cli(server: &TestServer, init: &Init, args: &[&str]) -> Result<String> {
    run(sentry_cli_command(server, init).args(args))
}

/// Where `scripts/install-test-clients` put the real clients.
pub fn clients_dir() -> PathBuf {
    let dir = match std::env::var_os("SENTRY_TEST_CLIENTS") {
        Some(dir) => PathBuf::from(dir),
        None => {
            // The test binary is TARGET/debug/deps/it-...; the clients default to TARGET/test-clients.
            let exe = std::env::current_exe().expect("test binary path");
            exe.ancestors()
                .nth(3)
                .expect("target dir")
                .join("test-clients")
        }
    };
    assert!(
        dir.join("venv/bin/python").exists()
            && dir.join("node/node_modules/.bin/sentry-cli").exists(),
        "the real Sentry clients are not installed in {}; run scripts/install-test-clients (scripts/test does)",
        dir.display()
    );
    dir
}

/// The folder of the client scripts.
pub fn scripts_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/it/clients")
}

/// Finds the issue with a title.
pub fn issue_titled<'a>(issues: &'a [Value], title: &str) -> &'a Value {
    issues
        .iter()
        .find(|issue| issue["title"] == title)
        .unwrap_or_else(|| panic!("no issue titled {title:?} among {:#?}", titles(issues)))
}

pub fn titles(issues: &[Value]) -> Vec<String> {
    issues
        .iter()
        .map(|issue| issue["title"].as_str().unwrap_or_default().to_owned())
        .collect()
}

/// The exception values of an event from the web API.
pub fn exception_values(event: &Value) -> Vec<Value> {
    event["entries"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|entry| entry["type"] == "exception")
        .and_then(|entry| entry["data"]["values"].as_array().cloned())
        .unwrap_or_default()
}

/// The function names of a stack trace from the web API, outermost first.
pub fn functions(exception: &Value) -> Vec<String> {
    exception["stacktrace"]["frames"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|frame| frame["function"].as_str().unwrap_or_default().to_owned())
        .collect()
}

/// The function, file name and line of frames from the web API.
pub fn frame_locations(frames: &[Value]) -> Vec<(String, String, u64)> {
    frames
        .iter()
        .map(|frame| {
            let text = |key: &str| frame[key].as_str().unwrap_or_default().to_owned();
            (
                text("function"),
                text("filename"),
                frame["lineNo"].as_u64().unwrap_or_default(),
            )
        })
        .collect()
}

/// Runs a command to its end; returns its standard output, or fails with
/// both of its outputs.
pub fn run(command: &mut Command) -> Result<String> {
    let output = command
        .output()
        .with_context(|| format!("running {command:?}"))?;
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    anyhow::ensure!(
        output.status.success(),
        "{command:?} failed: {stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    Ok(stdout)
}

/// Runs one of the Python client scripts (`tests/it/clients/`) with the
/// real sentry-sdk, `SENTRY_DSN` set to `dsn`; returns its standard output.
pub fn run_python(script: &str, args: &[&str], dsn: &str) -> Result<String> {
    run(Command::new(clients_dir().join("venv/bin/python"))
        .arg(scripts_dir().join(script))
        .args(args)
        .env("SENTRY_DSN", dsn))
}

/// A response header's value as text; empty when missing or not text.
pub fn header(response: &reqwest::Response, name: &str) -> String {
    response
        .headers()
        .get(name)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}
