//! A load generator for a running server: it posts realistic error
//! envelopes over HTTP to a loopback address and reports what the server
//! made of them.
//!
//! The event is `fixtures/envelopes/event.json`: a Python error with a
//! 20-frame stack trace, breadcrumbs, contexts, request and user, about
//! 7 KB. Its exception type is varied over `--issues` values (100 by
//! default), so it files under that many issues, and every request gets
//! an event id of its own.
//!
//! ```sh
//! cargo run --release -p sentry-benches --bin load -- \
//!     --dsn http://KEY@127.0.0.1:9000/1 --concurrency 32 --duration 60 [--rate 10000] [--gzip] [--pid PID]
//! ```
//!
//! It prints, as text and as one JSON line: requests sent and answered
//! (2xx, 429, other), events accepted per second, events fully processed
//! per second (grouped and stored: the server's
//! `sentry_items_total{category="error",outcome="accepted"}`, read from
//! `/metrics` before and after, waiting for the backlog to drain; or what
//! `--processed-command` prints, for another server), accept
//! latency percentiles, and the server's resident memory before the load
//! and at its peak (`VmHWM` of `--pid`, on Linux).

use std::io::Write;
use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, ensure};
use bytes::Bytes;
use clap::Parser;
use serde_json::{Value, json};

/// Command-line options.
#[derive(Debug, Parser)]
#[command(about = "Drives a sentry-server on loopback with realistic error envelopes")]
struct Options {
    /// The project's DSN; its host must be a loopback address.
    #[arg(long)]
    dsn: String,
    /// Requests in flight at once.
    #[arg(long, default_value_t = 32)]
    concurrency: usize,
    /// Stop after this many requests (0: no bound).
    #[arg(long, default_value_t = 0)]
    count: u64,
    /// Stop after this many seconds.
    #[arg(long, default_value_t = 30.0)]
    duration: f64,
    /// Requests per second to aim at (0: as fast as answers come).
    #[arg(long, default_value_t = 0.0)]
    rate: f64,
    /// Distinct issues the events file under.
    #[arg(long, default_value_t = 100)]
    issues: usize,
    /// Compress bodies with gzip.
    #[arg(long)]
    gzip: bool,
    /// The server's process id, for its resident memory (with its child
    /// processes', such as a pre-forking server's workers).
    #[arg(long)]
    pid: Option<u32>,
    /// Seconds to wait for the server to process what it accepted.
    #[arg(long, default_value_t = 120.0)]
    drain_timeout: f64,
    /// A shell command that prints how many events the server has
    /// processed, for servers without this one's `/metrics` (the
    /// comparison with other servers uses it).
    #[arg(long)]
    processed_command: Option<String>,
}

/// What the DSN gives: where to post and how to authenticate.
struct Target {
    envelope_url: String,
    metrics_url: String,
    auth: String,
}

impl Target {
    fn from_dsn(dsn: &str) -> Result<Self> {
        let url = reqwest::Url::parse(dsn).context("the DSN is not a URL")?;
        let host = url.host_str().context("the DSN has no host")?;
        let loopback = host == "localhost"
            || host
                .trim_matches(['[', ']'])
                .parse::<IpAddr>()
                .is_ok_and(|ip| ip.is_loopback());
        ensure!(loopback, "refusing to load {host}: only loopback addresses");
        let key = url.username();
        ensure!(!key.is_empty(), "the DSN has no public key");
        let project = url
            .path_segments()
            .and_then(|mut segments| segments.next_back())
            .filter(|id| !id.is_empty())
            .context("the DSN has no project id")?;
        let base = format!(
            "{}://{}:{}",
            url.scheme(),
            host,
            url.port_or_known_default().unwrap_or(80)
        );
        Ok(Self {
            envelope_url: format!("{base}/api/{project}/envelope/"),
            metrics_url: format!("{base}/metrics"),
            auth: format!(
                "Sentry sentry_version=7, sentry_key={key}, sentry_client=sentry-load/1.0"
            ),
        })
    }
}

/// The envelopes of each issue, with the places of the event id to fill.
struct Templates {
    bodies: Vec<(Vec<u8>, Vec<usize>)>,
}

/// The placeholder event id the templates carry.
const PLACEHOLDER: &str = "00000000000000000000000000000000";

impl Templates {
    fn new(issues: usize) -> Result<Self> {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../fixtures/envelopes/event.json"
        );
        let event: Value = serde_json::from_slice(&std::fs::read(path)?)?;
        let mut bodies = Vec::with_capacity(issues);
        for issue in 0..issues.max(1) {
            let mut event = event.clone();
            event["event_id"] = json!(PLACEHOLDER);
            // The server's receive time stands in: never clamped as old.
            if let Some(event) = event.as_object_mut() {
                event.remove("timestamp");
            }
            event["exception"]["values"][0]["type"] = json!(format!("LoadTestError{issue:04}"));
            let payload = serde_json::to_vec(&event)?;
            let header = json!({"event_id": PLACEHOLDER, "sent_at": "2026-11-24T09:12:33.418221Z"});
            let mut body = serde_json::to_vec(&header)?;
            body.push(b'\n');
            body.extend_from_slice(
                serde_json::to_string(&json!({"type": "event", "length": payload.len()}))?
                    .as_bytes(),
            );
            body.push(b'\n');
            body.extend_from_slice(&payload);
            body.push(b'\n');
            let places = body
                .windows(PLACEHOLDER.len())
                .enumerate()
                .filter(|(_, window)| *window == PLACEHOLDER.as_bytes())
                .map(|(place, _)| place)
                .collect();
            bodies.push((body, places));
        }
        Ok(Self { bodies })
    }

    /// The body of request `n`: its issue's envelope with an event id of
    /// its own.
    fn body(&self, n: u64, gzip: bool) -> Result<Bytes> {
        let (template, places) = &self.bodies[(n as usize) % self.bodies.len()];
        let mut body = template.clone();
        let id = format!("{:016x}{:016x}", rand_u64(), n);
        for place in places {
            body[*place..*place + 32].copy_from_slice(id.as_bytes());
        }
        if !gzip {
            return Ok(Bytes::from(body));
        }
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        encoder.write_all(&body)?;
        Ok(Bytes::from(encoder.finish()?))
    }
}

/// A random number from the clock and a counter: ids need only be distinct.
fn rand_u64() -> u64 {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_nanos() as u64);
    nanos ^ COUNTER.fetch_add(1, Ordering::Relaxed).rotate_left(40)
}

/// Counts of answers.
#[derive(Default)]
struct Answers {
    ok: AtomicU64,
    too_many: AtomicU64,
    other: AtomicU64,
    failed: AtomicU64,
}

/// How the count of processed events is read.
enum Processed {
    /// From this server's `/metrics`.
    Metrics(reqwest::Client, String),
    /// From what a shell command prints.
    Command(String),
}

impl Processed {
    async fn count(&self) -> Result<u64> {
        match self {
            Processed::Metrics(client, url) => metrics_count(client, url).await,
            Processed::Command(command) => {
                let output = tokio::process::Command::new("sh")
                    .args(["-c", command])
                    .output()
                    .await?;
                ensure!(
                    output.status.success(),
                    "{command} failed: {}",
                    String::from_utf8_lossy(&output.stderr)
                );
                let text = String::from_utf8_lossy(&output.stdout);
                text.split_whitespace()
                    .last()
                    .and_then(|count| count.parse().ok())
                    .with_context(|| format!("{command} printed no count: {text:?}"))
            }
        }
    }

    /// How long to wait between two reads.
    fn poll(&self) -> Duration {
        match self {
            Processed::Metrics(..) => Duration::from_millis(50),
            Processed::Command(_) => Duration::from_secs(1),
        }
    }
}

/// The server's count of events processed, from its metrics.
async fn metrics_count(client: &reqwest::Client, url: &str) -> Result<u64> {
    let text = client.get(url).send().await?.text().await?;
    Ok(text
        .lines()
        .filter(|line| {
            line.starts_with("sentry_items_total{")
                && line.contains("category=\"error\"")
                && line.contains("outcome=\"accepted\"")
        })
        .filter_map(|line| line.rsplit(' ').next()?.parse::<f64>().ok())
        .map(|count| count as u64)
        .sum())
}

/// Resident memory of a process and its descendants, now and at each
/// one's peak, summed, in bytes.
fn memory(pid: u32) -> Option<(u64, u64)> {
    let mut total = process_memory(pid)?;
    for child in descendants(pid) {
        if let Some((rss, peak)) = process_memory(child) {
            total.0 += rss;
            total.1 += peak;
        }
    }
    Some(total)
}

/// The processes below `pid`, from `/proc/*/stat`.
fn descendants(pid: u32) -> Vec<u32> {
    let mut parents: Vec<(u32, u32)> = Vec::new();
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Some(child) = entry
            .file_name()
            .to_str()
            .and_then(|name| name.parse::<u32>().ok())
        else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        // After the command's closing parenthesis: state, then the parent.
        let parent = stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().nth(1)?.parse::<u32>().ok());
        if let Some(parent) = parent {
            parents.push((child, parent));
        }
    }
    let mut found = vec![pid];
    let mut index = 0;
    while index < found.len() {
        let current = found[index];
        found.extend(
            parents
                .iter()
                .filter(|(_, parent)| *parent == current)
                .map(|(child, _)| *child),
        );
        index += 1;
    }
    found.remove(0);
    found
}

/// Resident memory of one process, now and at its peak, in bytes.
fn process_memory(pid: u32) -> Option<(u64, u64)> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let field = |name: &str| {
        status
            .lines()
            .find(|line| line.starts_with(name))?
            .split_whitespace()
            .nth(1)?
            .parse::<u64>()
            .ok()
            .map(|kib| kib * 1024)
    };
    Some((field("VmRSS:")?, field("VmHWM:")?))
}

fn percentile(sorted: &[u32], fraction: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let index = ((sorted.len() - 1) as f64 * fraction).round() as usize;
    f64::from(sorted[index.min(sorted.len() - 1)]) / 1000.0
}

#[tokio::main]
async fn main() -> Result<()> {
    let options = Options::parse();
    ensure!(options.concurrency > 0, "--concurrency must be positive");
    let target = Arc::new(Target::from_dsn(&options.dsn)?);
    let templates = Arc::new(Templates::new(options.issues)?);
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(options.concurrency)
        .build()?;
    let idle_memory = options.pid.and_then(memory);
    let processed = match &options.processed_command {
        Some(command) => Processed::Command(command.clone()),
        None => Processed::Metrics(client.clone(), target.metrics_url.clone()),
    };
    let processed_before = processed
        .count()
        .await
        .context("cannot read how many events the server processed")?;

    let answers = Arc::new(Answers::default());
    let next = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let deadline = started + Duration::from_secs_f64(options.duration);
    let per_worker = (options.rate > 0.0)
        .then(|| Duration::from_secs_f64(options.concurrency as f64 / options.rate));
    let mut workers = Vec::new();
    for _ in 0..options.concurrency {
        let (client, target, templates, answers, next) = (
            client.clone(),
            Arc::clone(&target),
            Arc::clone(&templates),
            Arc::clone(&answers),
            Arc::clone(&next),
        );
        let (count, gzip) = (options.count, options.gzip);
        workers.push(tokio::spawn(async move {
            let mut latencies: Vec<u32> = Vec::new();
            let mut ticks = per_worker.map(|period| {
                let mut ticks = tokio::time::interval(period);
                ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
                ticks
            });
            loop {
                if let Some(ticks) = &mut ticks {
                    ticks.tick().await;
                }
                let n = next.fetch_add(1, Ordering::Relaxed);
                if Instant::now() >= deadline || (count > 0 && n >= count) {
                    break;
                }
                let Ok(body) = templates.body(n, gzip) else {
                    break;
                };
                let mut request = client
                    .post(&target.envelope_url)
                    .header("X-Sentry-Auth", &target.auth)
                    .header("Content-Type", "application/x-sentry-envelope");
                if gzip {
                    request = request.header("Content-Encoding", "gzip");
                }
                let sent = Instant::now();
                let result = request.body(body).send().await;
                let counter = match result {
                    Ok(response) => {
                        let status = response.status();
                        let _ = response.bytes().await;
                        latencies
                            .push(u32::try_from(sent.elapsed().as_micros()).unwrap_or(u32::MAX));
                        if status.is_success() {
                            &answers.ok
                        } else if status.as_u16() == 429 {
                            &answers.too_many
                        } else {
                            &answers.other
                        }
                    }
                    Err(_) => &answers.failed,
                };
                counter.fetch_add(1, Ordering::Relaxed);
            }
            latencies
        }));
    }
    let mut latencies = Vec::new();
    for worker in workers {
        latencies.extend(worker.await?);
    }
    let sending = started.elapsed().as_secs_f64();
    let processed_at_end = processed.count().await?;
    let ok = answers.ok.load(Ordering::Relaxed);
    // Wait until everything accepted is processed.
    let drain_deadline = Instant::now() + Duration::from_secs_f64(options.drain_timeout);
    let mut processed_after = processed_at_end;
    while processed_after.saturating_sub(processed_before) < ok {
        if Instant::now() > drain_deadline {
            eprintln!(
                "the server processed {} of {ok} accepted events within the drain timeout",
                processed_after.saturating_sub(processed_before)
            );
            break;
        }
        tokio::time::sleep(processed.poll()).await;
        processed_after = processed.count().await?;
    }
    let total = started.elapsed().as_secs_f64();
    let peak_memory = options.pid.and_then(memory);
    latencies.sort_unstable();

    let processed_events = processed_after.saturating_sub(processed_before);
    let report = json!({
        "processed": processed_events,
        "accepted_not_processed": ok.saturating_sub(processed_events),
        "requests": latencies.len() as u64 + answers.failed.load(Ordering::Relaxed),
        "accepted": ok,
        "rejected_429": answers.too_many.load(Ordering::Relaxed),
        "rejected_other": answers.other.load(Ordering::Relaxed),
        "failed": answers.failed.load(Ordering::Relaxed),
        "seconds_sending": sending,
        "seconds_until_processed": total,
        "accepted_per_second": ok as f64 / sending,
        "processed_per_second_while_sending": processed_at_end.saturating_sub(processed_before) as f64 / sending,
        "processed_per_second": processed_events as f64 / total,
        "latency_ms_p50": percentile(&latencies, 0.50),
        "latency_ms_p99": percentile(&latencies, 0.99),
        "latency_ms_max": percentile(&latencies, 1.0),
        "idle_rss_mb": idle_memory.map(|(rss, _)| rss as f64 / 1048576.0),
        "peak_rss_mb": peak_memory.map(|(_, peak)| peak as f64 / 1048576.0),
        "concurrency": options.concurrency,
        "gzip": options.gzip,
        "rate_target": options.rate,
    });
    println!(
        "sent {} requests in {:.1} s: {} accepted ({:.0}/s), {} answered 429, {} other, {} failed",
        report["requests"],
        sending,
        ok,
        report["accepted_per_second"].as_f64().unwrap_or_default(),
        report["rejected_429"],
        report["rejected_other"],
        report["failed"]
    );
    println!(
        "processed {:.0} events/s while sending, {:.0}/s until all were processed ({:.1} s)",
        report["processed_per_second_while_sending"]
            .as_f64()
            .unwrap_or_default(),
        report["processed_per_second"].as_f64().unwrap_or_default(),
        total
    );
    println!(
        "accept latency p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        report["latency_ms_p50"].as_f64().unwrap_or_default(),
        report["latency_ms_p99"].as_f64().unwrap_or_default(),
        report["latency_ms_max"].as_f64().unwrap_or_default()
    );
    if let (Some(idle), Some(peak)) = (
        report["idle_rss_mb"].as_f64(),
        report["peak_rss_mb"].as_f64(),
    ) {
        println!("server memory: {idle:.1} MB before the load, {peak:.1} MB at its peak");
    }
    println!("{report}");
    Ok(())
}
