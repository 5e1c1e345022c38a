//! Alert rules end to end: events from the real Python SDK, rules made
//! through the web API, webhooks received by a local HTTP server and
//! emails by a real SMTP server (aiosmtpd).

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail, ensure};
use axum::Json;
use axum::extract::{Path as UrlPath, State};
use axum::http::StatusCode;
use reqwest::Method;
use serde_json::{Value, json};

use crate::common::{Backend, Init, TestServer, clients_dir, config_file, run_python, scripts_dir};

pub const FIRST_SEEN: &str = "sentry.rules.conditions.first_seen_event.FirstSeenEventCondition";
const REGRESSION: &str = "sentry.rules.conditions.regression_event.RegressionEventCondition";
const EVENT_FREQUENCY: &str = "sentry.rules.conditions.event_frequency.EventFrequencyCondition";
const NOTIFY_SERVICE: &str = "sentry.rules.actions.notify_event_service.NotifyEventServiceAction";
const NOTIFY_EMAIL: &str = "sentry.mail.actions.NotifyEmailAction";

/// Requests a local HTTP receiver got, by path: each with whether it was
/// answered with success.
#[derive(Default)]
pub struct Received {
    requests: BTreeMap<String, Vec<(Value, bool)>>,
}

pub type Shared = Arc<Mutex<Received>>;

/// Answers 200, except on paths starting with `fail-twice`, which answer
/// 500 to their first two requests.
async fn receive(
    State(shared): State<Shared>,
    UrlPath(path): UrlPath<String>,
    Json(body): Json<Value>,
) -> StatusCode {
    let mut received = shared.lock().unwrap();
    let requests = received.requests.entry(path.clone()).or_default();
    let ok = !(path.starts_with("fail-twice") && requests.len() < 2);
    requests.push((body, ok));
    if ok {
        StatusCode::OK
    } else {
        StatusCode::INTERNAL_SERVER_ERROR
    }
}

/// Starts the receiver; returns its base URL and what it receives.
pub async fn receiver() -> Result<(String, Shared)> {
    let shared = Shared::default();
    let app = axum::Router::new()
        .route("/{path}", axum::routing::post(receive))
        .with_state(Arc::clone(&shared));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}", listener.local_addr()?);
    tokio::spawn(async move { axum::serve(listener, app).await });
    Ok((url, shared))
}

/// The bodies a path received, with whether each was answered with success.
pub fn received(shared: &Shared, path: &str) -> Vec<(Value, bool)> {
    shared
        .lock()
        .unwrap()
        .requests
        .get(path)
        .cloned()
        .unwrap_or_default()
}

/// Polls until `check` holds, for up to 30 s.
async fn eventually(what: &str, check: impl FnMut() -> bool) -> Result<()> {
    eventually_within(what, Duration::from_secs(30), check).await
}

/// Polls until `check` holds, for up to `limit`.
pub async fn eventually_within(
    what: &str,
    limit: Duration,
    mut check: impl FnMut() -> bool,
) -> Result<()> {
    let started = Instant::now();
    while !check() {
        if started.elapsed() > limit {
            bail!("timed out waiting for {what}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Ok(())
}

/// A real SMTP server that writes each message to a folder as JSON.
struct SmtpSink {
    child: Child,
    folder: tempfile::TempDir,
    port: u16,
}

impl SmtpSink {
    fn start() -> Result<Self> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let folder = tempfile::tempdir()?;
        let mut child = Command::new(clients_dir().join("venv/bin/python"))
            .arg(scripts_dir().join("smtp_sink.py"))
            .arg(port.to_string())
            .arg(folder.path())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .context("starting aiosmtpd")?;
        let stdout = child.stdout.take().context("no stdout")?;
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line)?;
        ensure!(line.trim() == "ready", "aiosmtpd did not start: {line:?}");
        Ok(Self {
            child,
            folder,
            port,
        })
    }

    fn messages(&self) -> Vec<Value> {
        let mut paths: Vec<_> = std::fs::read_dir(self.folder.path())
            .map(|entries| {
                entries
                    .filter_map(|entry| entry.ok().map(|e| e.path()))
                    .collect()
            })
            .unwrap_or_default();
        paths.retain(|path: &std::path::PathBuf| path.extension().is_some_and(|ext| ext == "json"));
        paths.sort();
        paths
            .iter()
            .filter_map(|path| std::fs::read(path).ok())
            .filter_map(|bytes| serde_json::from_slice(&bytes).ok())
            .collect()
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn send_events(init: &Init, mode: &str, count: usize) -> Result<()> {
    run_python(
        "python_alert_events.py",
        &[mode, &count.to_string()],
        &init.dsn,
    )
    .map(drop)
}

pub fn webhook(url: String) -> Value {
    json!({"id": NOTIFY_SERVICE, "service": "webhooks", "url": url})
}

pub async fn create_rule(server: &TestServer, init: &Init, body: Value) -> Result<Value> {
    let path = format!("/api/0/projects/{}/{}/rules/", init.org, init.project);
    let (status, rule) = server
        .call(Method::POST, &init.token, &path, Some(body))
        .await?;
    ensure!(status == 201, "rule not created: {status} {rule}");
    Ok(rule)
}

fn smtp_config(port: u16) -> String {
    format!(
        "[alerts]\nsmtp_url = \"smtp://127.0.0.1:{port}\"\nemail_from = \"alerts@sentry.test\"\n\
         retry_delay = 1\ndelivery_attempts = 4\n"
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn alert_rules_send_webhooks_slack_messages_and_emails() -> Result<()> {
    let (hooks, shared) = receiver().await?;
    let smtp = SmtpSink::start()?;
    let (_dir, config) = config_file(&smtp_config(smtp.port))?;
    let server = TestServer::start_with(Backend::Embedded, &["--config", &config])?;
    let init = server.init("alerts")?;
    create_rule(
        &server,
        &init,
        json!({
            "name": "New issues",
            "conditions": [{"id": FIRST_SEEN}],
            "actions": [
                webhook(format!("{hooks}/new")),
                {"id": NOTIFY_SERVICE, "service": "slack", "url": format!("{hooks}/slack")},
                {"id": NOTIFY_EMAIL, "targetType": "Email", "targetIdentifier": "dev@example.test"},
            ],
            "frequency": 0,
        }),
    )
    .await?;
    create_rule(
        &server,
        &init,
        json!({
            "name": "Regressions",
            "conditions": [{"id": REGRESSION}],
            "actions": [webhook(format!("{hooks}/fail-twice"))],
            "frequency": 0,
        }),
    )
    .await?;
    create_rule(
        &server,
        &init,
        json!({
            "name": "Busy",
            "conditions": [{"id": EVENT_FREQUENCY, "value": 3, "interval": "1h"}],
            "actions": [webhook(format!("{hooks}/busy"))],
        }),
    )
    .await?;

    // A new issue: a webhook, a Slack message and an email, each linking to it.
    send_events(&init, "same", 1)?;
    eventually("the new-issue messages", || {
        !received(&shared, "new").is_empty()
            && !received(&shared, "slack").is_empty()
            && !smtp.messages().is_empty()
    })
    .await?;
    let issues = server.all_issues(&init).await?;
    assert_eq!(issues.len(), 1);
    let issue = &issues[0];
    let issue_id = issue["id"].as_str().unwrap();
    let link = format!(
        "{}/organizations/{}/issues/{issue_id}/",
        server.url, init.org
    );
    let (new, _) = &received(&shared, "new")[0];
    assert_eq!(new["id"], issue_id);
    assert_eq!(new["url"], link.as_str());
    assert_eq!(new["message"], "ValueError: python alert failure");
    assert_eq!(new["project_slug"], init.project.as_str());
    assert_eq!(new["triggering_rules"], json!(["New issues"]));
    assert_eq!(new["event"]["environment"], "production");
    let (slack, _) = &received(&shared, "slack")[0];
    assert!(
        slack["text"].as_str().unwrap().contains(&link),
        "Slack text links the issue: {slack}"
    );
    assert_eq!(slack["attachments"][0]["title_link"], link.as_str());
    let mail = &smtp.messages()[0];
    assert_eq!(mail["to"], json!(["dev@example.test"]));
    assert_eq!(mail["from"], "alerts@sentry.test");
    let content = mail["content"].as_str().unwrap();
    assert!(
        content.contains(&format!(
            "Subject: [Sentry] {}",
            issue["shortId"].as_str().unwrap()
        )),
        "{content}"
    );
    assert!(
        content.contains(&link),
        "the email links the issue: {content}"
    );

    // Resolved, then seen again: a regression, delivered although the
    // receiver fails twice first.
    let (status, _) = server
        .call(
            Method::PUT,
            &init.token,
            &format!("/api/0/issues/{issue_id}/"),
            Some(json!({"status": "resolved"})),
        )
        .await?;
    assert_eq!(status, 200);
    send_events(&init, "same", 1)?;
    eventually("the regression's retried webhook", || {
        received(&shared, "fail-twice").iter().any(|(_, ok)| *ok)
    })
    .await?;
    let attempts = received(&shared, "fail-twice");
    assert_eq!(
        attempts.iter().map(|(_, ok)| *ok).collect::<Vec<_>>(),
        [false, false, true],
        "two failures, then the retry that got through"
    );
    assert_eq!(attempts[2].0["reason"], "regression");
    assert_eq!(
        received(&shared, "new").len(),
        1,
        "a regression is not a new issue"
    );

    // More than 3 events in the hour: the frequency rule fires, once.
    send_events(&init, "same", 4)?;
    eventually("the frequency webhook", || {
        !received(&shared, "busy").is_empty()
    })
    .await?;
    send_events(&init, "same", 3)?;
    server.settled().await?;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        received(&shared, "busy").len(),
        1,
        "the rule's frequency holds back a second message"
    );
    let (_, rules) = server
        .get(
            &init.token,
            &format!("/api/0/projects/{}/{}/rules/", init.org, init.project),
        )
        .await?;
    let busy = rules
        .as_array()
        .unwrap()
        .iter()
        .find(|rule| rule["name"] == "Busy")
        .unwrap();
    assert!(busy["lastTriggered"].is_string(), "{busy}");
    assert_eq!(busy["frequency"], 30, "Sentry's default frequency");
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_storm_of_new_issues_sends_one_message_per_rule() -> Result<()> {
    let (hooks, shared) = receiver().await?;
    let server = TestServer::start()?;
    let init = server.init("storm")?;
    create_rule(
        &server,
        &init,
        json!({
            "name": "Storm",
            "conditions": [{"id": FIRST_SEEN}],
            "actions": [webhook(format!("{hooks}/storm"))],
            "frequency": 30,
        }),
    )
    .await?;
    send_events(&init, "distinct", 40)?;
    let issues = server.all_issues(&init).await?;
    assert_eq!(issues.len(), 40, "each message is an issue of its own");
    eventually("the storm's message", || {
        !received(&shared, "storm").is_empty()
    })
    .await?;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        received(&shared, "storm").len(),
        1,
        "40 new issues, one message"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_receiver_that_never_answers_does_not_hold_up_ingest() -> Result<()> {
    // A port that accepts connections and never answers.
    let silent = std::net::TcpListener::bind("127.0.0.1:0")?;
    let silent_url = format!("http://{}/hook", silent.local_addr()?);
    let server = TestServer::start()?;
    let init = server.init("silent")?;
    create_rule(
        &server,
        &init,
        json!({
            "name": "Into the void",
            "conditions": [{"id": FIRST_SEEN}],
            "actions": [webhook(silent_url)],
            "frequency": 0,
        }),
    )
    .await?;
    send_events(&init, "distinct", 30)?;
    let started = Instant::now();
    let issues = server.all_issues(&init).await?;
    assert_eq!(issues.len(), 30);
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "ingest went on while the webhook hung"
    );
    drop(silent);
    Ok(())
}

#[tokio::test]
async fn bad_rules_are_refused_naming_the_field() -> Result<()> {
    let server = TestServer::start()?;
    let init = server.init("rules")?;
    let path = format!("/api/0/projects/{}/{}/rules/", init.org, init.project);
    let cases = [
        (
            json!({"conditions": [{"id": FIRST_SEEN}], "actions": [webhook("http://x.test/".into())]}),
            "name",
        ),
        (
            json!({"name": "r", "conditions": [], "actions": [webhook("http://x.test/".into())]}),
            "conditions",
        ),
        (
            json!({"name": "r", "conditions": [{"id": FIRST_SEEN}], "actions": [webhook("file:///etc/passwd".into())]}),
            "actions[0].url",
        ),
        (
            json!({"name": "r", "conditions": [{"id": EVENT_FREQUENCY, "value": "many", "interval": "1h"}], "actions": [webhook("http://x.test/".into())]}),
            "conditions[0].value",
        ),
    ];
    for (body, field) in cases {
        let (status, answer) = server
            .call(Method::POST, &init.token, &path, Some(body))
            .await?;
        assert_eq!(status, 400, "{answer}");
        assert!(
            answer["detail"].as_str().unwrap().starts_with(field),
            "{field}: {answer}"
        );
    }
    let rule = create_rule(
        &server,
        &init,
        json!({"name": "Kept", "conditions": [{"id": FIRST_SEEN}], "actions": [webhook("http://x.test/".into())]}),
    )
    .await?;
    let detail = format!("{path}{}/", rule["id"].as_str().unwrap());
    let (status, updated) = server
        .call(
            Method::PUT,
            &init.token,
            &detail,
            Some(json!({"name": "Renamed", "status": "disabled", "conditions": [{"id": REGRESSION}], "actions": [webhook("http://y.test/".into())]})),
        )
        .await?;
    assert_eq!(status, 200, "{updated}");
    assert_eq!(updated["name"], "Renamed");
    assert_eq!(updated["status"], "disabled");
    assert_eq!(updated["conditions"][0]["id"], REGRESSION);
    let (status, _) = server
        .call(Method::DELETE, &init.token, &detail, None)
        .await?;
    assert_eq!(status, 202);
    let (status, _) = server.get(&init.token, &detail).await?;
    assert_eq!(status, 404);
    Ok(())
}
