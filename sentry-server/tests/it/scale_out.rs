//! Scale-out: two stateless server nodes on one Postgres and one
//! ClickHouse. Events sent to either give the same issues and exact
//! counts through either; a project's rate limit holds across both (its
//! counters are in Postgres); a node killed with kill -9 under load loses
//! no event it acknowledged once it restarts.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{Context, Result, ensure};
use serde_json::{Value, json};

use crate::common::{Backend, Init, TestServer};

fn store_url(node: &TestServer, init: &Init) -> String {
    format!(
        "{}/api/{}/store/?sentry_key={}",
        node.url,
        init.project_id,
        init.key()
    )
}

/// Each issue's title and event count, as one node lists them.
async fn counts(node: &TestServer, init: &Init) -> Result<Vec<(String, String)>> {
    node.settled().await?;
    let mut counts: Vec<(String, String)> = node
        .all_issues(init)
        .await?
        .iter()
        .map(|issue| {
            let text = |key: &str| issue[key].as_str().unwrap_or_default().to_owned();
            (text("title"), text("count"))
        })
        .collect();
    counts.sort();
    Ok(counts)
}

/// Sends events to `/store/` until told to stop; counts those answered 200.
async fn send_until_stopped(
    http: reqwest::Client,
    url: String,
    acked: Arc<Mutex<u64>>,
    stop: Arc<AtomicBool>,
) {
    while !stop.load(Ordering::Relaxed) {
        let event = json!({"message": "under load"});
        let Ok(response) = http.post(&url).body(event.to_string()).send().await else {
            // The node was killed: the request was not acknowledged.
            return;
        };
        if response.status() == 200 && response.json::<Value>().await.is_ok() {
            *acked
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner) += 1;
        }
    }
}

#[tokio::test]
async fn two_nodes_share_issues_counts_and_rate_limits() -> Result<()> {
    let first = TestServer::start_on(Backend::ScaleOut)?;
    let init = first.init("two-nodes")?;
    let second = first.another_node()?;
    let nodes = [&first, &second];

    // Events sent alternately: one issue per message, counted exactly.
    for n in 0..40 {
        let node = nodes[n % 2];
        let message = if n % 4 == 0 { "rare" } else { "common" };
        let answer = node
            .http
            .post(store_url(node, &init))
            .body(json!({"message": message}).to_string())
            .send()
            .await?;
        ensure!(answer.status() == 200, "event {n}: {}", answer.status());
    }
    let expected = vec![
        ("common".to_owned(), "30".to_owned()),
        ("rare".to_owned(), "10".to_owned()),
    ];
    // Each node stores what it took; once both have, either shows all.
    for node in nodes {
        node.settled().await?;
    }
    for node in nodes {
        assert_eq!(counts(node, &init).await?, expected, "through {}", node.url);
    }

    // A project's rate limit counts events of both nodes together.
    let limited = first.init("two-nodes-limited")?;
    let (status, _) = first
        .put_project(&limited, json!({"rateLimit": {"window": 3600, "count": 6}}))
        .await?;
    ensure!(status == 200, "rate limit: {status}");
    let mut accepted = 0;
    for n in 0..16 {
        let node = nodes[n % 2];
        let answer = node
            .http
            .post(store_url(node, &limited))
            .body(json!({"message": "limited"}).to_string())
            .send()
            .await?;
        match answer.status().as_u16() {
            200 => accepted += 1,
            429 => {}
            other => anyhow::bail!("event {n}: {other}"),
        }
    }
    assert_eq!(accepted, 6, "the limit holds across nodes");
    Ok(())
}

#[tokio::test]
async fn a_node_killed_under_load_loses_no_acknowledged_event() -> Result<()> {
    let first = TestServer::start_on(Backend::ScaleOut)?;
    let init = first.init("two-nodes-kill")?;
    let mut second = first.another_node()?;
    let acked = Arc::new(Mutex::new(0u64));
    let stop = Arc::new(AtomicBool::new(false));
    let senders: Vec<_> = [&first, &second, &first, &second]
        .iter()
        .map(|node| {
            tokio::spawn(send_until_stopped(
                node.http.clone(),
                store_url(node, &init),
                Arc::clone(&acked),
                Arc::clone(&stop),
            ))
        })
        .collect();
    while *acked
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        < 300
    {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    // Killed in the middle of the load, with requests in flight.
    second.kill_and_restart()?;
    tokio::time::sleep(Duration::from_millis(300)).await;
    stop.store(true, Ordering::Relaxed);
    for sender in senders {
        sender.await?;
    }
    let acked = *acked
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    second.settled().await?;
    // The events stored, through either node, and the issue's count: a
    // batch the node was filing when it was killed is filed again on
    // restart, and counted once.
    let issues = first.all_issues(&init).await?;
    let issue = issues.first().context("no issue")?;
    let id = issue["id"].as_str().context("no issue id")?.to_owned();
    let count: u64 = issue["count"].as_str().context("no count")?.parse()?;
    let mut stored = Vec::new();
    for node in [&first, &second] {
        let url = format!("{}/api/0/issues/{id}/events/", node.url);
        stored.push(node.all_pages(&init.token, url).await?.len() as u64);
    }
    assert_eq!(stored[0], stored[1], "both nodes list the same events");
    // Every acknowledged event is stored, once (a request in flight at the
    // kill may have been stored without its answer arriving).
    let stored = stored[0];
    ensure!(stored >= acked, "{stored} stored, {acked} acknowledged");
    ensure!(stored <= acked + 8, "{stored} stored, {acked} acknowledged");
    assert_eq!(count, stored, "the issue counts each stored event once");
    Ok(())
}

#[tokio::test]
async fn settings_changed_through_one_node_reach_the_other() -> Result<()> {
    // Settings are cached for a second on each node.
    let first = TestServer::start_with(Backend::ScaleOut, &["--settings-ttl", "1"])?;
    let init = first.init("two-nodes-settings")?;
    let second = first.another_node()?;
    let send = |node: &TestServer| {
        node.http
            .post(store_url(node, &init))
            .body(json!({"message": "settings"}).to_string())
            .send()
    };
    // The second node reads the project's settings: no limit.
    for _ in 0..3 {
        ensure!(send(&second).await?.status() == 200);
    }
    // A limit set through the first node holds on the second once its
    // cache has expired (it had counted nothing under a limit before).
    let (status, _) = first
        .put_project(&init, json!({"rateLimit": {"window": 3600, "count": 2}}))
        .await?;
    ensure!(status == 200, "rate limit: {status}");
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let mut accepted = 0;
    for _ in 0..6 {
        match send(&second).await?.status().as_u16() {
            200 => accepted += 1,
            429 => {}
            other => anyhow::bail!("answered {other}"),
        }
    }
    assert_eq!(
        accepted, 2,
        "the second node applies the first node's limit"
    );
    Ok(())
}
