//! Items other than errors: attachments, user feedback, sessions,
//! check-ins, client reports and the types that are dropped; what becomes
//! of each, through the web API and the outcome stats; and the limits of
//! an envelope.

use std::collections::BTreeMap;
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, ensure};
use serde_json::{Value, json};

use crate::common::{
    Backend, Init, TestServer, clients_dir, config_file, header, issue_titled, run, run_python,
    scripts_dir,
};

/// Outcome quantities by (outcome, category, reason).
type Outcomes = BTreeMap<(String, String, String), u64>;

/// The organization's outcomes of the last day, from `stats_v2`.
async fn outcomes(server: &TestServer, init: &Init) -> Result<Outcomes> {
    let path = format!(
        "/api/0/organizations/{}/stats_v2/?field=sum(quantity)&groupBy=outcome&groupBy=category\
         &groupBy=reason&statsPeriod=24h&interval=1h&project={}",
        init.org, init.project_id
    );
    let (status, body) = server.get(&init.token, &path).await?;
    ensure!(status == 200, "stats_v2 answered {status}: {body}");
    let mut found = Outcomes::new();
    for group in body["groups"].as_array().context("groups")? {
        let by = |key: &str| group["by"][key].as_str().unwrap_or_default().to_owned();
        let total = group["totals"]["sum(quantity)"]
            .as_u64()
            .unwrap_or_default();
        found.insert((by("outcome"), by("category"), by("reason")), total);
    }
    Ok(found)
}

/// Waits (up to 20 s; counts are written every second) until the
/// outcomes hold every expected quantity; returns them.
async fn outcomes_reaching(
    server: &TestServer,
    init: &Init,
    expected: &[(&str, &str, &str, u64)],
) -> Result<Outcomes> {
    let started = Instant::now();
    loop {
        let found = outcomes(server, init).await?;
        let missing: Vec<_> = expected
            .iter()
            .filter(|(outcome, category, reason, quantity)| {
                let key = (
                    (*outcome).to_owned(),
                    (*category).to_owned(),
                    (*reason).to_owned(),
                );
                found.get(&key) != Some(quantity)
            })
            .collect();
        if missing.is_empty() {
            return Ok(found);
        }
        ensure!(
            started.elapsed() < Duration::from_secs(20),
            "outcomes {found:?} lack {missing:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// An envelope of items, each `(headers, payload)`, with a length each.
fn envelope(header: &Value, items: &[(Value, Vec<u8>)]) -> Vec<u8> {
    let mut body = header.to_string().into_bytes();
    body.push(b'\n');
    for (headers, payload) in items {
        let mut headers = headers.clone();
        headers["length"] = payload.len().into();
        body.extend_from_slice(headers.to_string().as_bytes());
        body.push(b'\n');
        body.extend_from_slice(payload);
        body.push(b'\n');
    }
    body
}

async fn post_envelope(server: &TestServer, init: &Init, body: Vec<u8>) -> Result<(u16, Value)> {
    let path = format!(
        "/api/{}/envelope/?sentry_key={}",
        init.project_id,
        init.key()
    );
    server.post(&path, &[], body).await
}

/// The organization's release health of the last day by release and
/// status, as `(release, status) → sessions`, and the crash-free rate.
async fn release_health(server: &TestServer, init: &Init) -> Result<(Outcomes, Value)> {
    let path = format!(
        "/api/0/organizations/{}/sessions/?field=sum(session)&field=crash_free_rate(session)\
         &groupBy=release&groupBy=session.status&statsPeriod=24h&interval=1h&project={}",
        init.org, init.project_id
    );
    let (status, body) = server.get(&init.token, &path).await?;
    ensure!(status == 200, "sessions answered {status}: {body}");
    let mut found = Outcomes::new();
    let mut rate = Value::Null;
    for group in body["groups"].as_array().context("groups")? {
        let by = |key: &str| group["by"][key].as_str().unwrap_or_default().to_owned();
        let total = group["totals"]["sum(session)"].as_u64().unwrap_or_default();
        found.insert((by("release"), by("session.status"), String::new()), total);
        rate = group["totals"]["crash_free_rate(session)"].clone();
    }
    Ok((found, rate))
}

#[tokio::test]
async fn python_sdk_attachments_sessions_check_ins_and_client_reports() -> Result<()> {
    let server = TestServer::start_on(Backend::Embedded)?;
    let init = server.init("python-items")?;
    run_python("python_items.py", &[], &init.dsn)?;

    let issues = server.all_issues(&init).await?;
    let issue = issue_titled(&issues, "OSError: python job failed");
    let event = server
        .latest_event(&init, issue["id"].as_str().unwrap_or_default())
        .await?;
    let event_id = event["eventID"].as_str().context("eventID")?;
    let attachments_path = format!(
        "/api/0/projects/{}/{}/events/{event_id}/attachments/",
        init.org, init.project
    );
    let (status, attachments) = server.get(&init.token, &attachments_path).await?;
    assert_eq!(status, 200, "{attachments}");
    let attachments = attachments.as_array().context("attachments")?;
    assert_eq!(attachments.len(), 1, "{attachments:?}");
    assert_eq!(attachments[0]["name"], "state.txt");
    assert_eq!(attachments[0]["mimetype"], "text/plain");
    assert_eq!(attachments[0]["type"], "event.attachment");
    let content = server
        .http
        .get(format!(
            "{}{attachments_path}{}/?download=1",
            server.url,
            attachments[0]["id"].as_str().unwrap_or_default()
        ))
        .bearer_auth(&init.token)
        .send()
        .await?;
    assert_eq!(content.status().as_u16(), 200);
    assert_eq!(content.text().await?, "cart contents: 3 items\n");

    let size = "cart contents: 3 items\n".len() as u64;
    let found = outcomes_reaching(
        &server,
        &init,
        &[
            ("accepted", "error", "", 1),
            ("accepted", "attachment", "", size),
            ("accepted", "session", "", 1),
            ("accepted", "monitor", "", 2),
            ("filtered", "transaction", "feature_disabled", 1),
            ("client_discard", "error", "before_send", 1),
        ],
    )
    .await?;
    assert!(
        !found.keys().any(|(outcome, ..)| outcome == "invalid"),
        "nothing the SDK sent is invalid: {found:?}"
    );
    // The session saw an error: one errored session, none crashed.
    let (health, crash_free) = release_health(&server, &init).await?;
    let key = |status: &str| ("items@2.0.0".to_owned(), status.to_owned(), String::new());
    assert_eq!(health.get(&key("errored")), Some(&1), "{health:?}");
    assert_eq!(health.get(&key("healthy")), Some(&0), "{health:?}");
    assert_eq!(health.get(&key("crashed")), Some(&0), "{health:?}");
    assert_eq!(crash_free, json!(1.0));
    // The release's details show the same health.
    let releases = format!("/api/0/organizations/{}/releases/", init.org);
    let (status, _) = server
        .call(
            reqwest::Method::POST,
            &init.token,
            &releases,
            Some(json!({"version": "items@2.0.0", "projects": [init.project]})),
        )
        .await?;
    assert_eq!(status, 201);
    let (_, release) = server
        .get(&init.token, &format!("{releases}items@2.0.0/"))
        .await?;
    let health = &release["projects"][0]["healthData"];
    assert_eq!(release["projects"][0]["hasHealthData"], true, "{release}");
    assert_eq!(health["totalSessions"], 1, "{health}");
    assert_eq!(health["sessionsErrored"], 1, "{health}");
    assert_eq!(health["sessionsCrashed"], 0, "{health}");
    assert_eq!(health["crashFreeSessions"], json!(100.0), "{health}");
    Ok(())
}

#[tokio::test]
async fn node_sdk_feedback_is_linked_to_its_issue() -> Result<()> {
    let server = TestServer::start_on(Backend::Embedded)?;
    let init = server.init("node-items")?;
    let event_id = run(Command::new("node")
        .arg(scripts_dir().join("node_items.cjs"))
        .env("NODE_PATH", clients_dir().join("node/node_modules"))
        .env("SENTRY_DSN", &init.dsn))?;
    let event_id = event_id.trim();

    let issues = server.all_issues(&init).await?;
    let issue = issue_titled(&issues, "TypeError: node checkout hangs");
    let issue_id = issue["id"].as_str().unwrap_or_default();
    let (status, feedback) = server
        .get(
            &init.token,
            &format!(
                "/api/0/projects/{}/{}/user-feedback/",
                init.org, init.project
            ),
        )
        .await?;
    assert_eq!(status, 200, "{feedback}");
    let feedback = feedback.as_array().context("feedback")?;
    assert_eq!(feedback.len(), 1, "{feedback:?}");
    assert_eq!(feedback[0]["comments"], "The checkout button does nothing");
    assert_eq!(feedback[0]["name"], "Jane Doe");
    assert_eq!(feedback[0]["email"], "jane@example.com");
    assert_eq!(feedback[0]["eventID"], event_id);
    assert_eq!(feedback[0]["issue"]["id"], issue_id);
    let (_, of_issue) = server
        .get(
            &init.token,
            &format!("/api/0/issues/{issue_id}/user-feedback/"),
        )
        .await?;
    assert_eq!(of_issue.as_array().map(Vec::len), Some(1), "{of_issue}");
    outcomes_reaching(
        &server,
        &init,
        &[
            ("accepted", "error", "", 1),
            ("accepted", "user_report_v2", "", 1),
        ],
    )
    .await?;
    // Node's session saw the error.
    let (health, _) = release_health(&server, &init).await?;
    let errored = (
        "items@2.0.0".to_owned(),
        "errored".to_owned(),
        String::new(),
    );
    assert_eq!(health.get(&errored), Some(&1), "{health:?}");
    Ok(())
}

#[tokio::test]
async fn every_item_type_meets_its_outcome() -> Result<()> {
    let server = TestServer::start_on(Backend::Embedded)?;
    let init = server.init("hand-made")?;
    let event_id = "0123456789abcdef0123456789abcdef";
    let event = json!({"event_id": event_id, "message": "hand-made failure", "level": "error"});
    let body = envelope(
        &json!({"event_id": event_id}),
        &[
            (json!({"type": "event"}), event.to_string().into_bytes()),
            (
                json!({"type": "attachment", "filename": "core.dmp", "attachment_type": "event.minidump"}),
                vec![0, 1, 2, 3, 255],
            ),
            (
                json!({"type": "user_report"}),
                json!({"event_id": event_id, "name": "Ann", "email": "ann@example.com",
                       "comments": "first words"})
                .to_string()
                .into_bytes(),
            ),
            // Release health without a release is invalid.
            (
                json!({"type": "session"}),
                br#"{"sid":"a","init":true,"started":"2020-01-01T00:00:00Z","attrs":{}}"#.to_vec(),
            ),
            (
                json!({"type": "log", "item_count": 3}),
                b"{\"items\":[]}".to_vec(),
            ),
            (json!({"type": "something_new"}), b"{}".to_vec()),
            (
                json!({"type": "check_in"}),
                br#"{"monitor_slug":"never-configured","status":"ok"}"#.to_vec(),
            ),
        ],
    );
    let (status, answer) = post_envelope(&server, &init, body).await?;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["id"], event_id);
    // A second report on the same event replaces the first.
    let second = envelope(
        &json!({}),
        &[(
            json!({"type": "user_report"}),
            json!({"event_id": event_id, "name": "Ann", "comments": "second thoughts"})
                .to_string()
                .into_bytes(),
        )],
    );
    assert_eq!(post_envelope(&server, &init, second).await?.0, 200);

    let (_, feedback) = server
        .get(
            &init.token,
            &format!(
                "/api/0/projects/{}/{}/user-feedback/",
                init.org, init.project
            ),
        )
        .await?;
    let feedback = feedback.as_array().context("feedback")?;
    assert_eq!(feedback.len(), 1, "{feedback:?}");
    assert_eq!(feedback[0]["comments"], "second thoughts");
    assert!(feedback[0]["issue"]["id"].is_string(), "{:?}", feedback[0]);
    let (_, attachments) = server
        .get(
            &init.token,
            &format!(
                "/api/0/projects/{}/{}/events/{event_id}/attachments/",
                init.org, init.project
            ),
        )
        .await?;
    assert_eq!(attachments[0]["type"], "event.minidump", "{attachments}");
    assert_eq!(attachments[0]["size"], 5);

    outcomes_reaching(
        &server,
        &init,
        &[
            ("accepted", "error", "", 1),
            ("accepted", "attachment", "", 5),
            ("accepted", "user_report_v2", "", 2),
            ("invalid", "session", "invalid_data", 1),
            ("filtered", "log_item", "feature_disabled", 3),
            ("invalid", "monitor", "monitor_not_found", 1),
        ],
    )
    .await?;
    Ok(())
}

#[tokio::test]
async fn envelopes_over_a_limit_are_refused_with_413() -> Result<()> {
    let (_dir, config) = config_file(
        "[limits]\nmax_attachments_per_envelope = 2\nmax_attachment_size = 64\nmax_session_count = 1\n",
    )?;
    let server = TestServer::start_with(Backend::Embedded, &["--config", &config])?;
    let init = server.init("limits")?;
    let attachment = |size| {
        (
            json!({"type": "attachment", "filename": "a.bin"}),
            vec![7; size],
        )
    };
    let session = || {
        (
            json!({"type": "session"}),
            br#"{"sid":"a","init":true,"started":"2020-01-01T00:00:00Z","attrs":{"release":"1"}}"#
                .to_vec(),
        )
    };
    let header = json!({"event_id": "fedcba9876543210fedcba9876543210"});
    for (items, detail) in [
        (
            vec![attachment(1), attachment(1), attachment(1)],
            "envelope exceeds the limit of 2 attachments",
        ),
        (
            vec![attachment(65)],
            "attachment item exceeds the limit of 64 bytes",
        ),
        (
            vec![session(), session()],
            "envelope exceeds the limit of 1 session items",
        ),
    ] {
        let (status, answer) = post_envelope(&server, &init, envelope(&header, &items)).await?;
        assert_eq!(status, 413, "{answer}");
        assert_eq!(answer["detail"], detail);
    }
    let within = envelope(&header, &[attachment(64), attachment(64)]);
    assert_eq!(post_envelope(&server, &init, within).await?.0, 200);
    outcomes_reaching(
        &server,
        &init,
        &[
            ("invalid", "attachment", "too_large", 3 + 65),
            ("invalid", "session", "too_large", 2),
            ("accepted", "attachment", "", 128),
        ],
    )
    .await?;
    Ok(())
}

#[tokio::test]
async fn rate_limits_answer_429_that_the_python_sdk_obeys() -> Result<()> {
    let server = TestServer::start_on(Backend::Embedded)?;
    let init = server.init("rate-limited")?;
    let (status, project) = server
        .put_project(&init, json!({"rateLimit": {"window": 3600, "count": 1}}))
        .await?;
    assert_eq!(status, 200, "{project}");
    assert_eq!(project["rateLimit"], json!({"window": 3600, "count": 1}));
    let (status, refused) = server
        .put_project(&init, json!({"rateLimit": {"window": 0, "count": 1}}))
        .await?;
    assert_eq!(status, 400, "{refused}");

    run_python("python_rate_limited.py", &[], &init.dsn)?;
    let issues = server.all_issues(&init).await?;
    assert_eq!(
        issues.len(),
        1,
        "only the first error is admitted: {issues:?}"
    );
    outcomes_reaching(
        &server,
        &init,
        &[
            ("accepted", "error", "", 1),
            ("rate_limited", "error", "project_quota", 1),
            ("client_discard", "error", "ratelimit_backoff", 1),
        ],
    )
    .await?;

    // The answer a client sees, in Sentry's format.
    let event = json!({"message": "over the limit"}).to_string();
    let response = server
        .http
        .post(format!(
            "{}/api/{}/store/?sentry_key={}",
            server.url,
            init.project_id,
            init.key()
        ))
        .body(event)
        .send()
        .await?;
    assert_eq!(response.status().as_u16(), 429);
    let header = |name: &str| header(&response, name);
    let retry_after: u64 = header("retry-after").parse()?;
    assert!((1..=3600).contains(&retry_after));
    assert_eq!(
        header("x-sentry-rate-limits"),
        format!("{retry_after}:error;default;security:project:project_quota")
    );
    assert!(response.json::<Value>().await?["detail"].is_string());

    // Lifting the limit admits events again at once.
    let (status, _) = server
        .put_project(&init, json!({"rateLimit": null}))
        .await?;
    assert_eq!(status, 200);
    server
        .send_event(&init, &json!({"message": "after the limit"}))
        .await?;

    // A DSN key's own limit.
    let key_url = format!(
        "{}/api/0/projects/{}/{}/keys/{}/",
        server.url,
        init.org,
        init.project,
        init.key()
    );
    let updated: Value = server
        .http
        .put(&key_url)
        .bearer_auth(&init.token)
        .json(&json!({"rateLimit": {"window": 3600, "count": 1}}))
        .send()
        .await?
        .json()
        .await?;
    assert_eq!(updated["rateLimit"], json!({"window": 3600, "count": 1}));
    server
        .send_event(&init, &json!({"message": "within the key's limit"}))
        .await?;
    let over = server
        .http
        .post(format!(
            "{}/api/{}/store/?sentry_key={}",
            server.url,
            init.project_id,
            init.key()
        ))
        .body(json!({"message": "past the key's limit"}).to_string())
        .send()
        .await?;
    assert_eq!(over.status().as_u16(), 429);
    let header = over
        .headers()
        .get("x-sentry-rate-limits")
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert!(
        header.ends_with(":error;default;security:key:key_quota"),
        "{header}"
    );
    let bad = server
        .http
        .put(&key_url)
        .bearer_auth(&init.token)
        .json(&json!({"rateLimit": {"window": -1, "count": 1}}))
        .send()
        .await?;
    assert_eq!(bad.status().as_u16(), 400);
    Ok(())
}

/// The latest check-ins of a monitor, newest first.
async fn checkins(server: &TestServer, init: &Init, slug: &str) -> Result<Vec<Value>> {
    let (status, body) = server
        .get(
            &init.token,
            &format!(
                "/api/0/projects/{}/{}/monitors/{slug}/checkins/",
                init.org, init.project
            ),
        )
        .await?;
    ensure!(status == 200, "check-ins answered {status}: {body}");
    Ok(body.as_array().cloned().unwrap_or_default())
}

#[tokio::test]
async fn the_cron_endpoint_opens_and_closes_check_ins() -> Result<()> {
    let server = TestServer::start_on(Backend::Embedded)?;
    let init = server.init("crons")?;
    let url = |query: &str| {
        format!(
            "{}/api/{}/cron/nightly-report/{}/?{query}",
            server.url,
            init.project_id,
            init.key()
        )
    };
    // The first check-in creates the monitor from its config.
    let config = json!({"monitor_config": {"schedule": {"type": "crontab", "value": "0 4 * * *"},
                                           "checkin_margin": 5, "timezone": "UTC"}});
    let opened = server
        .http
        .post(url("status=in_progress&environment=production"))
        .body(config.to_string())
        .send()
        .await?;
    assert_eq!(opened.status().as_u16(), 202);
    let closed = server
        .http
        .get(url("status=ok&duration=2.5"))
        .send()
        .await?;
    assert_eq!(closed.status().as_u16(), 202);
    let listed = checkins(&server, &init, "nightly-report").await?;
    assert_eq!(
        listed.len(),
        1,
        "the ok closes the open check-in: {listed:?}"
    );
    assert_eq!(listed[0]["status"], "ok");
    assert_eq!(listed[0]["duration"], 2_500);
    assert_eq!(listed[0]["environment"], "production");
    // A closed check-in is not reopened: an error after it is a new one.
    let failed = server.http.get(url("status=error")).send().await?;
    assert_eq!(failed.status().as_u16(), 202);
    let listed = checkins(&server, &init, "nightly-report").await?;
    let statuses: Vec<&str> = listed.iter().filter_map(|c| c["status"].as_str()).collect();
    assert_eq!(statuses, ["error", "ok"]);

    let (_, monitors) = server
        .get(
            &init.token,
            &format!("/api/0/organizations/{}/monitors/", init.org),
        )
        .await?;
    assert_eq!(monitors[0]["slug"], "nightly-report", "{monitors}");
    assert_eq!(monitors[0]["config"]["schedule"]["value"], "0 4 * * *");

    // Mistakes are answered at once.
    let bad_status = server.http.get(url("status=missed")).send().await?;
    assert_eq!(bad_status.status().as_u16(), 400);
    let bad_key = server
        .http
        .get(format!(
            "{}/api/{}/cron/nightly-report/{}/?status=ok",
            server.url,
            init.project_id,
            "0".repeat(32)
        ))
        .send()
        .await?;
    assert_eq!(bad_key.status().as_u16(), 401);
    Ok(())
}

#[tokio::test]
async fn configured_item_types_are_kept_as_they_came() -> Result<()> {
    use sentry_core::store::RawItemStore;

    let (_dir, config) = config_file("[ingest]\nstore_items = [\"log\"]\n")?;
    let server = TestServer::start_with(Backend::Embedded, &["--config", &config])?;
    let init = server.init("kept")?;
    let logs =
        br#"{"version":2,"items":[{"level":"info","body":"a"},{"level":"warn","body":"b"}]}"#;
    let body = envelope(
        &json!({}),
        &[
            (
                json!({"type": "log", "item_count": 2,
                       "content_type": "application/vnd.sentry.items.log+json"}),
                logs.to_vec(),
            ),
            (
                json!({"type": "span", "item_count": 1}),
                b"{\"items\":[{}]}".to_vec(),
            ),
        ],
    );
    assert_eq!(post_envelope(&server, &init, body).await?.0, 200);
    outcomes_reaching(
        &server,
        &init,
        &[
            ("accepted", "log_item", "", 2),
            ("filtered", "span", "feature_disabled", 1),
        ],
    )
    .await?;
    let metadata = sentry_store::open_metadata(&format!(
        "sqlite://{}",
        server.data_dir().join("metadata.sqlite").display()
    ))
    .await?;
    let project_id = sentry_core::ProjectId(init.project_id);
    let since = sentry_core::protocol::Timestamp::from_unix_seconds(0.0).context("time")?;
    let kept = metadata.raw_items(project_id, "log", since, 10).await?;
    assert_eq!(kept.len(), 1);
    assert_eq!(kept[0].payload, logs.to_vec());
    assert!(
        kept[0].headers.contains("item_count"),
        "{}",
        kept[0].headers
    );
    assert!(
        metadata
            .raw_items(project_id, "span", since, 10)
            .await?
            .is_empty()
    );

    // An unknown type in the setting stops the server from starting.
    std::fs::write(&config, "[ingest]\nstore_items = [\"events\"]\n")?;
    assert!(TestServer::start_with(Backend::Embedded, &["--config", &config]).is_err());
    Ok(())
}

#[tokio::test]
async fn metrics_count_requests_items_and_memory() -> Result<()> {
    let server = TestServer::start_on(Backend::Embedded)?;
    let init = server.init("metrics")?;
    server
        .send_event(&init, &json!({"message": "counted"}))
        .await?;
    let refused = server
        .post(
            &format!("/api/{}/store/?sentry_key={}", init.project_id, init.key()),
            &[],
            "not json",
        )
        .await?;
    assert_eq!(refused.0, 400);
    server.settled().await?;
    let started = Instant::now();
    let text = loop {
        let text = server
            .http
            .get(format!("{}/metrics", server.url))
            .send()
            .await?
            .text()
            .await?;
        // Outcomes are counted when the worker stores the event.
        if text.contains(r#"sentry_items_total{category="error",outcome="accepted",reason=""} 1"#)
            || started.elapsed() > Duration::from_secs(10)
        {
            break text;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    for expected in [
        r#"sentry_items_total{category="error",outcome="accepted",reason=""} 1"#,
        r#"sentry_items_total{category="error",outcome="invalid",reason="invalid_json"} 1"#,
        r#"sentry_http_requests_total{method="POST",route="/api/{project_id}/store/",status="200"} 1"#,
        r#"sentry_http_requests_total{method="POST",route="/api/{project_id}/store/",status="400"} 1"#,
        "sentry_http_request_duration_seconds",
        "sentry_spool_backlog_bytes 0",
        "process_resident_memory_bytes",
    ] {
        assert!(text.contains(expected), "{expected} missing from:\n{text}");
    }
    Ok(())
}
