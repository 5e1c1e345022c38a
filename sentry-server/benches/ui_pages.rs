//! Server time of the web UI's pages over a store of 1,000,000 events:
//! the stores are filled directly (10,000 issues, events spread over the
//! last 22 hours, one issue with a tenth of them), then each page is
//! requested through the application in process, as a logged-in browser,
//! and timed from request to complete body.
//!
//! ```text
//! cargo bench -p sentry-server --no-default-features --features sqlite --bench ui_pages
//! BENCH_EVENTS=100000 cargo bench -p sentry-server --no-default-features --features sqlite --bench ui_pages
//! BENCH_EVENTS_URL=duckdb://... cargo bench -p sentry-server --bench ui_pages    # another event store
//! ```
//!
//! `BENCH_EVENTS` (default 1,000,000) and `BENCH_ISSUES` (10,000) set the
//! size; the event store is SQLite unless `BENCH_EVENTS_URL` names another
//! (a `{dir}` in it is the bench's temp dir). Results print as a Markdown
//! table for `docs/performance.md`.

#![allow(clippy::unwrap_used, reason = "a bench may unwrap")]
#![allow(clippy::print_stdout, reason = "a bench prints its results")]
#![allow(
    clippy::cast_precision_loss,
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    reason = "bench arithmetic on counts and times"
)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, ensure};
use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt as _;
use sentry_core::protocol::{Level, Timestamp};
use sentry_core::store::{
    ApiToken, EventStore, IssueEvent, MetadataStore, NewUser, OrgRole, StoredEvent, WebSession,
};
use sentry_core::summary::EventMetadata;
use sentry_core::{EventId, GroupingHash, IssueId};
use sentry_server::AppState;
use sentry_server::alerts::Alerts;
use sentry_server::alerts::delivery::{Deliverer, DeliveryConfig};
use sentry_server::config::IngestLimits;
use sentry_server::ingest::memory::MemoryBudget;
use sentry_server::spool::{Spool, SpoolOptions};
use sentry_server::symbolication::debug_files::DebugFileCaches;
use sentry_server::symbolication::disk_cache::DiskCache;
use sentry_server::symbolication::sourcemaps::SourceMaps;
use sentry_server::ui::session::{SESSION_COOKIE, token_hash};
use tower::ServiceExt as _;

const BATCH: usize = 1_000;
const SAMPLES: usize = 30;
const SLOW_SAMPLES: usize = 5;

fn env_number(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|text| text.replace('_', "").parse().ok())
        .unwrap_or(default)
}

/// A Python SDK event of about 3 KB: an exception with five frames (two
/// of them system frames), source context, locals, breadcrumbs, a request
/// and contexts.
fn payload(index: usize, issue: usize, timestamp: Timestamp) -> Vec<u8> {
    let frame = |module: &str, function: &str, line: usize, in_app: bool| {
        serde_json::json!({
            "module": module, "filename": format!("{}.py", module.replace('.', "/")),
            "function": function, "lineno": line, "in_app": in_app,
            "pre_context": ["def handler(request):", "    items = load(request)", "    total = 0"],
            "context_line": format!("    raise ValueError('bench failure {issue}')"),
            "post_context": ["", "def other():", "    pass"],
            "vars": {"request": "<Request POST /checkout>", "items": [1, 2, 3], "index": index},
        })
    };
    serde_json::to_vec(&serde_json::json!({
        "event_id": EventId::new_random().to_string(),
        "timestamp": timestamp.to_rfc3339(),
        "platform": "python",
        "level": "error",
        "release": format!("app@1.{}.0", index % 20),
        "environment": if index % 3 == 0 { "staging" } else { "production" },
        "exception": {"values": [{
            "type": "ValueError", "value": format!("bench failure {issue}"),
            "mechanism": {"type": "generic", "handled": false},
            "stacktrace": {"frames": [
                frame("threading", "run", 870, false),
                frame("django.core.handlers", "inner", 47, false),
                frame("app.views", "checkout", 120, true),
                frame("app.cart", "total", 58, true),
                frame(&format!("app.handlers_{issue}"), &format!("handle_{issue}"), 12, true),
            ]},
        }]},
        "breadcrumbs": {"values": [
            {"timestamp": timestamp.to_rfc3339(), "category": "query", "message": "SELECT * FROM cart WHERE id = %s"},
            {"timestamp": timestamp.to_rfc3339(), "category": "http", "data": {"url": "https://api.example.com/price", "status_code": 200}},
        ]},
        "request": {"method": "POST", "url": "https://shop.example.com/checkout", "headers": {"User-Agent": "Mozilla/5.0", "Accept": "text/html"}},
        "user": {"id": format!("{}", index % 5_000), "ip_address": "10.0.0.1"},
        "contexts": {"runtime": {"type": "runtime", "name": "CPython", "version": "3.12.1"}, "os": {"type": "os", "name": "Linux"}},
        "sdk": {"name": "sentry.python", "version": "2.75.0"},
    }))
    .unwrap_or_default()
}

fn tags(index: usize) -> Vec<(String, String)> {
    let pick =
        |choices: &[&str], salt: usize| choices[(index / 7 + salt) % choices.len()].to_owned();
    vec![
        ("level".to_owned(), "error".to_owned()),
        (
            "environment".to_owned(),
            pick(&["production", "staging"], 1),
        ),
        ("release".to_owned(), format!("app@1.{}.0", index % 20)),
        ("user".to_owned(), format!("id:{}", index % 5_000)),
        (
            "browser".to_owned(),
            pick(&["Chrome 120", "Firefox 121", "Safari 17"], 2),
        ),
        (
            "os".to_owned(),
            pick(&["Windows 11", "macOS 14", "Linux"], 3),
        ),
        ("server_name".to_owned(), format!("web-{}", index % 12)),
        (
            "transaction".to_owned(),
            format!("/api/items/{}", index % 40),
        ),
    ]
}

/// Which issue an event belongs to: a tenth of all events to issue 0, a
/// tenth of the issues get most of the rest, as in life.
fn issue_of(index: usize, issues: usize) -> usize {
    if index % 10 == 0 {
        0
    } else if index % 3 == 0 {
        index % issues
    } else {
        index % (issues / 10).max(1)
    }
}

struct Bench {
    state: AppState,
    cookie: String,
    token: String,
    hottest: IssueId,
    typical: IssueId,
    empty: IssueId,
    _dir: tempfile::TempDir,
}

async fn fill(total_events: usize, total_issues: usize) -> Result<Bench> {
    let dir = tempfile::tempdir()?;
    let path = |name: &str| dir.path().join(name).display().to_string();
    let events_url = std::env::var("BENCH_EVENTS_URL")
        .map(|url| url.replace("{dir}", &dir.path().display().to_string()))
        .unwrap_or_else(|_| format!("sqlite://{}", path("events.sqlite")));
    let metadata =
        sentry_store::open_metadata(&format!("sqlite://{}", path("metadata.sqlite"))).await?;
    let events = sentry_store::open_events(&events_url).await?;
    let blobs = sentry_store::open_blobs(&format!("file://{}", path("blobs"))).await?;
    let org = metadata.ensure_organization("sentry").await?;
    let project = metadata.ensure_project(org.id, "bench").await?;

    let now = Timestamp::now().as_unix_micros();
    // Events every ~0.08 s over the last 22 hours (at a million).
    let step = 22 * 3600 * 1_000_000 / total_events.max(1) as i64;
    let time_of = |index: usize| {
        Timestamp::from_unix_micros(now - (total_events - index) as i64 * step).unwrap()
    };
    let issue_event = |issue: usize, timestamp: Timestamp, user: usize| IssueEvent {
        project_id: project.id,
        event_id: EventId::new_random(),
        hashes: vec![GroupingHash::from_values([
            format!("issue-{issue}").as_str()
        ])],
        grouping_config: "newstyle:2023-01-11".to_owned(),
        title: format!("ValueError: bench failure {issue}"),
        culprit: format!("app.handlers_{issue} in handle_{issue}"),
        level: Level::Error,
        ty: "error".to_owned(),
        platform: "python".to_owned(),
        metadata: EventMetadata {
            ty: Some("ValueError".to_owned()),
            value: Some(format!("bench failure {issue}")),
            ..EventMetadata::default()
        },
        timestamp,
        user: Some(format!("id:{user}")),
        release: None,
        received: timestamp,
    };
    let started = Instant::now();
    let mut issues: Vec<IssueId> = Vec::with_capacity(total_issues);
    for issue in 0..total_issues {
        let first = time_of(issue.min(total_events.saturating_sub(1)));
        issues.push(
            metadata
                .record_issue_event(&issue_event(issue, first, 0))
                .await?
                .issue
                .id,
        );
    }
    let mut last_seen = vec![None; total_issues];
    for batch_start in (0..total_events).step_by(BATCH) {
        let batch: Vec<StoredEvent> = (batch_start..(batch_start + BATCH).min(total_events))
            .map(|index| {
                let issue = issue_of(index, total_issues);
                let timestamp = time_of(index);
                last_seen[issue] = Some((timestamp, index));
                StoredEvent {
                    project_id: project.id,
                    event_id: EventId::new_random(),
                    issue_id: issues[issue],
                    timestamp,
                    received: timestamp,
                    hash: GroupingHash::from_values([format!("issue-{issue}").as_str()]),
                    grouping_config: "newstyle:2023-01-11".to_owned(),
                    tags: tags(index),
                    payload: payload(index, issue, timestamp),
                }
            })
            .collect();
        events.insert_events(&batch).await?;
    }
    for (issue, seen) in last_seen.into_iter().enumerate() {
        if let Some((timestamp, index)) = seen {
            metadata
                .record_issue_event(&issue_event(issue, timestamp, index % 5_000))
                .await?;
        }
    }
    println!(
        "filled {total_events} events in {total_issues} issues in {:.0} s",
        started.elapsed().as_secs_f64()
    );

    let user = metadata
        .create_user(&NewUser {
            email: "bench@example.com".to_owned(),
            name: "bench".to_owned(),
            password_hash: None,
            is_superuser: false,
        })
        .await?;
    metadata
        .add_org_member(org.id, user.id, OrgRole::Owner)
        .await?;
    let secret = "bench-session-secret";
    metadata
        .create_session(&WebSession {
            token_hash: token_hash(secret),
            user_id: user.id,
            date_created: Timestamp::now(),
            expires: Timestamp::from_unix_micros(now + 3_600_000_000).context("expiry")?,
        })
        .await?;
    let token = "sntryu_bench".to_owned();
    metadata
        .insert_token(&ApiToken {
            token: token.clone(),
            org_id: org.id,
            scopes: vec!["event:read".to_owned(), "project:read".to_owned()],
            name: "bench".to_owned(),
            date_created: Timestamp::now(),
        })
        .await?;
    let limits = IngestLimits::default();
    let (spool, _reader) = Spool::open(&SpoolOptions {
        dir: dir.path().join("spool"),
        segment_size: SpoolOptions::DEFAULT_SEGMENT_SIZE,
        max_backlog: SpoolOptions::DEFAULT_MAX_BACKLOG,
    })?;
    let (alerts, _engine) = Alerts::start(
        metadata.clone(),
        events.clone(),
        Arc::new(Deliverer::new(&DeliveryConfig::default())?),
        "http://127.0.0.1:9000".to_owned(),
    );
    let disk = Arc::new(DiskCache::open(dir.path().join("symbolication-cache"), 0));
    let state = AppState {
        alerts,
        metadata,
        events,
        blobs,
        spool,
        limits,
        memory: MemoryBudget::new(limits.max_request_memory),
        store_items: Arc::default(),
        grouping: Arc::default(),
        scrubbing: Arc::default(),
        origins: Arc::default(),
        outcomes: Arc::default(),
        rate_limits: Arc::default(),
        source_maps: Arc::new(SourceMaps::new(
            limits.max_symbolication_cache_memory / 2,
            Arc::clone(&disk),
        )),
        debug_files: Arc::new(DebugFileCaches::new(
            limits.max_symbolication_cache_memory / 2,
            disk,
        )),
        public_url: "http://127.0.0.1:9000".to_owned(),
        trusted_proxies: Arc::from([]),
    };
    Ok(Bench {
        state,
        cookie: format!("{SESSION_COOKIE}={secret}"),
        token,
        hottest: issues[0],
        // Index 501 of 1,000 gets every 1,000th event (see issue_of).
        typical: issues[total_issues / 2 + 1],
        empty: issues[total_issues / 2],
        _dir: dir,
    })
}

/// Requests a page `SAMPLES` times (`SLOW_SAMPLES` when the first takes
/// over a second); returns the count, the median and the slowest time, in
/// milliseconds.
async fn time_page(bench: &Bench, path: &str) -> Result<(usize, f64, f64)> {
    let app = sentry_server::app(bench.state.clone());
    let mut samples = Vec::with_capacity(SAMPLES);
    let mut wanted = SAMPLES;
    while samples.len() < wanted {
        let request = Request::get(path)
            .header("cookie", &bench.cookie)
            .header("authorization", format!("Bearer {}", bench.token))
            .body(Body::empty())?;
        let started = Instant::now();
        let response = app.clone().oneshot(request).await?;
        let status = response.status();
        let body = response.into_body().collect().await?.to_bytes();
        samples.push(started.elapsed());
        if samples.len() == 1 && samples[0] > Duration::from_secs(1) {
            wanted = SLOW_SAMPLES;
        }
        ensure!(
            status == StatusCode::OK,
            "{path} answered {status}: {}",
            String::from_utf8_lossy(&body)
        );
    }
    samples.sort_unstable();
    let ms = |duration: Duration| duration.as_secs_f64() * 1000.0;
    Ok((
        samples.len(),
        ms(samples[samples.len() / 2]),
        ms(samples[samples.len() - 1]),
    ))
}

#[tokio::main]
async fn main() -> Result<()> {
    let total_events = env_number("BENCH_EVENTS", 1_000_000);
    let total_issues = env_number("BENCH_ISSUES", 10_000);
    let bench = fill(total_events, total_issues).await?;
    let hottest = bench.hottest;
    let typical = bench.typical;
    let empty = bench.empty;
    let list = "/organizations/sentry/issues/";
    let issue = |id: IssueId| format!("/organizations/sentry/issues/{id}/");
    let pages = [
        ("issue list", list.to_owned()),
        ("issue list, page 5", format!("{list}?cursor=0:100:0")),
        ("issue list, sort by events", format!("{list}?sort=freq")),
        ("issue list, text search", format!("{list}?query=is:unresolved+failure+42")),
        ("issue list, tag search", format!("{list}?query=is:unresolved+browser:%22Safari+17%22")),
        ("chart of the hottest issue (image)", format!("{}sparkline.svg", issue(hottest))),
        ("chart of a typical issue (image)", format!("{}sparkline.svg", issue(typical))),
        ("issue page, typical issue", issue(typical)),
        ("issue page, hottest issue (a tenth of all events)", issue(hottest)),
        ("issue page, hottest issue, oldest event", format!("{}events/oldest/", issue(hottest))),
        ("issue page, issue without events", issue(empty)),
        ("tag values of a typical issue (frame)", format!("{}tags/", issue(typical))),
        ("tag values of the hottest issue (frame)", format!("{}tags/", issue(hottest))),
        ("project settings", "/settings/sentry/projects/bench/".to_owned()),
        ("releases", "/organizations/sentry/releases/".to_owned()),
        ("API: issue list with 24h stats", "/api/0/projects/sentry/bench/issues/".to_owned()),
        ("API: issue list, tag search", "/api/0/projects/sentry/bench/issues/?query=is:unresolved+browser:%22Safari+17%22&statsPeriod=".to_owned()),
        ("API: hottest issue's latest event", format!("/api/0/issues/{hottest}/events/latest/")),
        ("API: hottest issue's oldest event", format!("/api/0/issues/{hottest}/events/oldest/")),
        ("API: hottest issue's tags", format!("/api/0/issues/{hottest}/tags/")),
    ];
    println!("\n| request | samples | median | slowest |\n| --- | ---: | ---: | ---: |");
    for (name, path) in pages {
        let (count, median, slowest) = time_page(&bench, &path).await?;
        println!("| {name} | {count} | {median:.1} ms | {slowest:.1} ms |");
    }
    Ok(())
}
