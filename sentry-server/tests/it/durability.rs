//! Durability: an event the server answered 200 for survives a kill -9.

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{Context, Result};
use serde_json::{Value, json};

use crate::common::{Backend, TestServer, config_file};

/// Sends events to `/store/` until told to stop; records the ids answered 200.
async fn send_until_stopped(
    http: reqwest::Client,
    url: String,
    acked: Arc<Mutex<Vec<String>>>,
    stop: Arc<AtomicBool>,
) {
    while !stop.load(Ordering::Relaxed) {
        let event = json!({"message": "durable event", "level": "error"});
        let Ok(response) = http.post(&url).body(event.to_string()).send().await else {
            return;
        };
        if response.status() != 200 {
            continue;
        }
        let Ok(answer) = response.json::<Value>().await else {
            return;
        };
        if let Some(id) = answer["id"].as_str() {
            acked.lock().unwrap().push(id.to_owned());
        }
    }
}

#[tokio::test]
async fn no_acknowledged_event_is_lost_to_a_kill() -> Result<()> {
    let mut server = TestServer::start()?;
    let init = server.init("durable")?;
    let store_url = format!(
        "{}/api/{}/store/?sentry_key={}",
        server.url,
        init.project_id,
        init.key()
    );
    let acked = Arc::new(Mutex::new(Vec::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let senders: Vec<_> = (0..4)
        .map(|_| {
            tokio::spawn(send_until_stopped(
                server.http.clone(),
                store_url.clone(),
                Arc::clone(&acked),
                Arc::clone(&stop),
            ))
        })
        .collect();
    while acked.lock().unwrap().len() < 300 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    // Killed in the middle of the load, with requests in flight.
    server.kill_and_restart()?;
    stop.store(true, Ordering::Relaxed);
    for sender in senders {
        sender.await?;
    }
    let acked: Vec<String> = acked.lock().unwrap().clone();

    let issues = server.all_issues(&init).await?;
    anyhow::ensure!(issues.len() == 1, "one issue: {issues:?}");
    let issue_id = issues[0]["id"].as_str().context("issue id")?;
    let url = format!("{}/api/0/issues/{issue_id}/events/?limit=100", server.url);
    let stored: Vec<String> = server
        .all_pages(&init.token, url)
        .await?
        .iter()
        .filter_map(|event| event["eventID"].as_str().map(str::to_owned))
        .collect();
    let distinct: HashSet<&String> = stored.iter().collect();
    assert_eq!(distinct.len(), stored.len(), "every event is stored once");
    let missing: Vec<&String> = acked.iter().filter(|id| !distinct.contains(id)).collect();
    assert!(
        missing.is_empty(),
        "{} of {} acknowledged events are lost: {missing:?}",
        missing.len(),
        acked.len()
    );
    // A batch being filed at the kill is filed again on restart, and
    // counted once.
    assert_eq!(
        issues[0]["count"],
        stored.len().to_string(),
        "the issue counts each stored event once"
    );
    Ok(())
}

#[tokio::test]
async fn a_full_spool_answers_429_and_recovers() -> Result<()> {
    // Room for a handful of events: a burst outruns processing at once.
    let server = TestServer::start_with(Backend::Embedded, &["--max-spool-backlog", "2000"])?;
    let init = server.init("burst")?;
    let store_url = format!(
        "{}/api/{}/store/?sentry_key={}",
        server.url,
        init.project_id,
        init.key()
    );
    let event = json!({"message": "burst event", "level": "error"}).to_string();
    let mut burst = tokio::task::JoinSet::new();
    for _ in 0..400 {
        let request = server.http.post(&store_url).body(event.clone()).send();
        burst.spawn(async move {
            let response = request.await?;
            let status = response.status().as_u16();
            let retry_after = response
                .headers()
                .get("retry-after")
                .and_then(|value| value.to_str().ok())
                .map(str::to_owned);
            let answer: Value = response.json().await?;
            anyhow::Ok((status, retry_after, answer))
        });
    }
    let mut answers = Vec::new();
    while let Some(answer) = burst.join_next().await {
        answers.push(answer??);
    }
    let acked: Vec<&str> = answers
        .iter()
        .filter(|(status, _, _)| *status == 200)
        .filter_map(|(_, _, answer)| answer["id"].as_str())
        .collect();
    let refused: Vec<_> = answers
        .iter()
        .filter(|(status, _, _)| *status == 429)
        .collect();
    assert!(!refused.is_empty(), "some of the burst is refused");
    assert!(!acked.is_empty(), "some of the burst is taken");
    assert_eq!(
        acked.len() + refused.len(),
        answers.len(),
        "only 200s and 429s"
    );
    for (_, retry_after, answer) in refused {
        assert_eq!(retry_after.as_deref(), Some("60"));
        assert!(answer["detail"].is_string(), "{answer}");
    }
    // Once processing catches up, events are taken again, and every one
    // acknowledged was stored.
    let issues = server.all_issues(&init).await?;
    assert_eq!(issues[0]["count"], acked.len().to_string());
    let id = server
        .send_event(&init, &json!({"message": "after the burst"}))
        .await?;
    assert!(!id.is_empty());
    Ok(())
}

/// The peak resident memory of a process, in bytes (`VmHWM`).
fn peak_rss(pid: u32) -> Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let kib: u64 = status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|number| number.parse().ok())
        .ok_or_else(|| anyhow::anyhow!("no VmHWM in /proc/{pid}/status"))?;
    Ok(kib * 1024)
}

#[tokio::test]
async fn a_flood_of_large_requests_keeps_memory_bounded() -> Result<()> {
    const MIB: usize = 1024 * 1024;
    const BUDGET: usize = 16 * MIB;
    let (_dir, config) = config_file(&format!("[limits]\nmax_request_memory = {BUDGET}\n"))?;
    // The spool's bound keeps what is taken within what processing can
    // catch up with; the memory budget bounds what is held meanwhile.
    let server = TestServer::start_with(
        Backend::Embedded,
        &["--config", &config, "--max-spool-backlog", "67108864"],
    )?;
    let init = server.init("flood")?;
    let url = format!(
        "{}/api/{}/envelope/?sentry_key={}",
        server.url,
        init.project_id,
        init.key()
    );
    // An event with a 1 MiB attachment, each with its own event id.
    let envelope = |n: u64| {
        let event_id = format!("{n:032x}");
        let event = json!({"event_id": event_id, "message": "flood"}).to_string();
        let mut attachment = vec![(n % 251) as u8; MIB];
        attachment[..8].copy_from_slice(&n.to_le_bytes());
        let mut body = format!("{{\"event_id\":\"{event_id}\"}}\n").into_bytes();
        body.extend_from_slice(
            format!("{{\"type\":\"event\",\"length\":{}}}\n", event.len()).as_bytes(),
        );
        body.extend_from_slice(event.as_bytes());
        body.extend_from_slice(
            format!("\n{{\"type\":\"attachment\",\"length\":{MIB},\"filename\":\"blob.bin\"}}\n")
                .as_bytes(),
        );
        body.extend_from_slice(&attachment);
        body.push(b'\n');
        body
    };
    let baseline = peak_rss(server.pid())?;
    // 64 clients at once, each 1 MiB a request, for 5 seconds: four
    // times the budget in flight all the time.
    let bodies: Vec<Vec<Vec<u8>>> = (0..64u64)
        .map(|client| {
            (0..4)
                .map(|k| envelope(1 + client * 1_000_000 + k))
                .collect()
        })
        .collect();
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    let mut clients = tokio::task::JoinSet::new();
    for bodies in bodies {
        let http = server.http.clone();
        let url = url.clone();
        clients.spawn(async move {
            let (mut acked, mut refused, mut sent) = (0u64, 0u64, 0usize);
            while std::time::Instant::now() < deadline {
                let body = bodies[sent % bodies.len()].clone();
                sent += 1;
                let status = http.post(&url).body(body).send().await?.status().as_u16();
                match status {
                    200 => acked += 1,
                    429 => refused += 1,
                    other => anyhow::bail!("answered {other}"),
                }
            }
            anyhow::Ok((acked, refused))
        });
    }
    let (mut acked, mut refused) = (0, 0);
    while let Some(result) = clients.join_next().await {
        let (a, r) = result??;
        acked += a;
        refused += r;
    }
    let peak = peak_rss(server.pid())?;
    eprintln!(
        "flood: {acked} taken, {refused} refused; peak RSS {} MiB (at start {} MiB)",
        peak / MIB as u64,
        baseline / MIB as u64
    );
    assert!(refused > 0, "the budget refuses part of the flood");
    assert!(acked > 0, "the budget takes part of the flood");
    // The bodies held stay within the budget; the rest is the stores'
    // working memory (DuckDB's buffer pool above all) and the batches.
    let bound = baseline + 384 * MIB as u64;
    assert!(
        peak < bound,
        "peak RSS {peak} bytes passes {bound} (at start {baseline})"
    );
    // Once it has caught up, the server takes events again, and it stored
    // what it took.
    server.settled().await?;
    server
        .send_event(&init, &json!({"message": "after the flood"}))
        .await?;
    let issues = server.all_issues(&init).await?;
    let stored: u64 = issues
        .iter()
        .filter(|issue| issue["title"] == "flood")
        .filter_map(|issue| issue["count"].as_str()?.parse::<u64>().ok())
        .sum();
    // Each client repeats its four event ids, so ids taken twice count once.
    assert!(
        stored > 0 && stored <= acked,
        "{stored} stored of {acked} taken"
    );
    Ok(())
}
