//! Cron monitors end to end: check-ins from the real Python SDK, a
//! missed check-in and a timed-out run noticed by the server on time, and
//! each failure raising an issue and an alert.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::Result;
use serde_json::{Value, json};

use crate::alerts::{FIRST_SEEN, create_rule, eventually_within, received, receiver, webhook};
use crate::common::{Backend, TestServer, issue_titled, run_python};

fn unix_now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |elapsed| elapsed.as_secs_f64())
}

/// The alert a failure of a monitor raised, when it has come.
fn alert_for(messages: &[(Value, bool)], monitor: &str) -> Option<Value> {
    messages
        .iter()
        .map(|(body, _)| body)
        .find(|body| body["message"] == format!("Cron failure: {monitor}").as_str())
        .cloned()
}

#[tokio::test(flavor = "multi_thread")]
async fn missed_timed_out_and_failed_runs_raise_issues_and_alerts() -> Result<()> {
    let (hooks, shared) = receiver().await?;
    let server = TestServer::start_with(Backend::Embedded, &["--monitor-check-interval", "1"])?;
    let init = server.init("crons")?;
    create_rule(
        &server,
        &init,
        json!({
            "name": "New issues",
            "conditions": [{"id": FIRST_SEEN}],
            "actions": [webhook(format!("{hooks}/cron"))],
            "frequency": 0,
        }),
    )
    .await?;
    let sent_at = unix_now();
    run_python("python_checkins.py", &[], &init.dsn)?;

    // An error check-in: an issue and its alert at once.
    eventually_within("the error run's alert", Duration::from_secs(30), || {
        alert_for(&received(&shared, "cron"), "py-error").is_some()
    })
    .await?;

    // The every-minute monitor is due at the next minute; one minute of
    // margin later its check-in is missed. The server checks every second.
    let due = (sent_at / 60.0).floor() * 60.0 + 60.0;
    let deadline = due + 60.0;
    eventually_within(
        "the missed check-in's alert",
        Duration::from_secs(150),
        || alert_for(&received(&shared, "cron"), "py-missed").is_some(),
    )
    .await?;
    let noticed = unix_now();
    eprintln!(
        "the missed check-in's alert came {:.1} s after its margin ran out",
        noticed - deadline
    );
    assert!(
        noticed >= deadline - 1.0,
        "not missed before the margin ran out: noticed at {noticed}, deadline {deadline}"
    );
    assert!(
        noticed - deadline < 10.0,
        "the alert came {:.1} s after the margin ran out",
        noticed - deadline
    );
    // The run in progress had a minute: it timed out by now.
    eventually_within("the timed-out run's alert", Duration::from_secs(30), || {
        alert_for(&received(&shared, "cron"), "py-timeout").is_some()
    })
    .await?;

    let issues = server.all_issues(&init).await?;
    let culprits: Vec<(&str, &str)> = ["py-error", "py-missed", "py-timeout"]
        .iter()
        .map(|monitor| {
            let issue = issue_titled(&issues, &format!("Cron failure: {monitor}"));
            (*monitor, issue["culprit"].as_str().unwrap_or_default())
        })
        .collect();
    assert_eq!(
        culprits,
        [
            ("py-error", "An error check-in was detected"),
            ("py-missed", "A missed check-in was detected"),
            ("py-timeout", "A timeout check-in was detected"),
        ]
    );
    let checkins = |slug: &str| {
        format!(
            "/api/0/projects/{}/{}/monitors/{slug}/checkins/",
            init.org, init.project
        )
    };
    let (_, missed) = server.get(&init.token, &checkins("py-missed")).await?;
    let statuses: Vec<&str> = missed
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|checkin| checkin["status"].as_str())
        .collect();
    assert_eq!(statuses.first(), Some(&"missed"), "{missed}");
    assert!(statuses.contains(&"ok"));
    let (_, timeout) = server.get(&init.token, &checkins("py-timeout")).await?;
    assert_eq!(timeout[0]["status"], "timeout", "{timeout}");
    let (_, monitors) = server
        .get(
            &init.token,
            &format!("/api/0/organizations/{}/monitors/", init.org),
        )
        .await?;
    let every_minute = monitors
        .as_array()
        .unwrap()
        .iter()
        .find(|monitor| monitor["slug"] == "py-missed")
        .unwrap();
    let next: f64 = every_minute["nextCheckIn"]
        .as_str()
        .and_then(|text| chrono::DateTime::parse_from_rfc3339(text).ok())
        .map(|time| time.timestamp() as f64)
        .unwrap();
    assert!(
        next > due,
        "the monitor waits for its next run: {every_minute}"
    );
    Ok(())
}
