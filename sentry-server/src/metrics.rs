//! Prometheus metrics: the process records through the `metrics` facade,
//! and `GET /metrics` renders them in the text exposition format.
//!
//! | metric | kind | labels |
//! | --- | --- | --- |
//! | `sentry_http_requests_total` | counter | `method`, `route` (the matched path pattern), `status` |
//! | `sentry_http_request_duration_seconds` | histogram | `method`, `route` |
//! | `sentry_items_total` | counter | `category`, `outcome`, `reason` |
//! | `sentry_spool_backlog_bytes` | gauge | |
//! | `sentry_spool_batch_requests` | histogram | |
//! | `sentry_spool_batch_duration_seconds` | histogram | |
//! | `process_resident_memory_bytes` | gauge | |
//! | `sentry_alert_rules_fired_total` | counter | |
//! | `sentry_alert_signals_dropped_total` | counter | |
//! | `sentry_alert_deliveries_total` | counter | `kind` (`webhook`, `email`), `result` (`sent`, `retried`, `failed`, `dropped`) |
//! | `sentry_monitor_failures_total` | counter | `reason` (`error`, `missed_checkin`, `timeout`) |
//! | `sentry_upload_chunks_total` | counter | |
//! | `sentry_symbolicated_frames_total` | counter | `platform` |
//! | `sentry_unsymbolicated_frames_total` | counter | `platform` |
//! | `sentry_symbolication_duration_seconds` | histogram | `platform` |
//! | `sentry_symbolication_cache_total` | counter | `kind` (`sourcemap`, `symcache`, `proguard`), `result` (`memory`, `disk`, `built`) |

use std::sync::OnceLock;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};

use crate::state::AppState;

static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

/// Installs the process's recorder, once; later calls return the same
/// handle. `None` when another recorder was installed first.
pub fn handle() -> Option<&'static PrometheusHandle> {
    HANDLE
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new().build_recorder();
            let handle = recorder.handle();
            match metrics::set_global_recorder(recorder) {
                Ok(()) => Some(handle),
                Err(error) => {
                    tracing::warn!(%error, "cannot install the metrics recorder");
                    None
                }
            }
        })
        .as_ref()
}

/// How often the recorder drains its histograms' samples into their
/// summaries, so that a server nobody scrapes keeps a bounded number.
const UPKEEP_INTERVAL: std::time::Duration = std::time::Duration::from_secs(5);

/// Drains the recorder's samples every 5 seconds, until the
/// task is dropped.
pub async fn run_upkeep() {
    let Some(handle) = handle() else {
        return;
    };
    let mut ticker = tokio::time::interval(UPKEEP_INTERVAL);
    loop {
        ticker.tick().await;
        handle.run_upkeep();
    }
}

/// Counts a request and its duration by route (the path pattern, so that
/// ids do not become labels) and status.
pub async fn track(request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |path| path.as_str().to_owned());
    let method = request.method().as_str().to_owned();
    let started = Instant::now();
    let response = next.run(request).await;
    let status = response.status().as_u16().to_string();
    metrics::histogram!(
        "sentry_http_request_duration_seconds",
        "method" => method.clone(),
        "route" => route.clone(),
    )
    .record(started.elapsed().as_secs_f64());
    metrics::counter!(
        "sentry_http_requests_total",
        "method" => method,
        "route" => route,
        "status" => status,
    )
    .increment(1);
    response
}

/// The resident memory of this process, from `/proc/self/statm`.
fn resident_bytes() -> Option<f64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: f64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * 4096.0)
}

/// `GET /metrics`.
pub async fn render(State(state): State<AppState>) -> impl IntoResponse {
    metrics::gauge!("sentry_spool_backlog_bytes").set(state.spool.backlog() as f64);
    if let Some(bytes) = resident_bytes() {
        metrics::gauge!("process_resident_memory_bytes").set(bytes);
    }
    let text = handle().map(PrometheusHandle::render).unwrap_or_default();
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        text,
    )
}
