//! Prometheus metrics: the process records through the `metrics` facade,
//! and `GET /metrics` renders them in the text exposition format.
//!
//! | metric | kind | labels |
//! | --- | --- | --- |
//! | `sentry_items_total` | counter | `category`, `outcome`, `reason` |
//! | `sentry_spool_backlog_bytes` | gauge | |

use std::sync::OnceLock;

use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
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

/// `GET /metrics`.
pub async fn render(State(state): State<AppState>) -> impl IntoResponse {
    metrics::gauge!("sentry_spool_backlog_bytes").set(state.spool.backlog() as f64);
    let text = handle().map(PrometheusHandle::render).unwrap_or_default();
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        text,
    )
}
