//! `GET /health/live` and `GET /health/ready`, for load balancers and
//! orchestrators.

use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use sentry_core::store::{EventStore, MetadataStore};
use sentry_core::{EventId, OrgId, ProjectId};
use serde_json::{Value, json};

use crate::state::AppState;

/// How long each store may take to answer the readiness check.
const STORE_TIMEOUT: Duration = Duration::from_secs(2);

/// The process answers.
pub async fn live() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}

/// The server takes requests and its stores answer: one read of the
/// metadata store and one of the event store, each within
/// 2 seconds; otherwise 503 naming the store. `spoolBacklog` is
/// the bytes accepted but not yet processed (0 when everything
/// acknowledged is stored).
pub async fn ready(State(state): State<AppState>) -> (StatusCode, Json<Value>) {
    let backlog = state.spool.backlog();
    let probe = [EventId::new_random()];
    let metadata = tokio::time::timeout(STORE_TIMEOUT, state.metadata.organization(OrgId(0)));
    let events = tokio::time::timeout(
        STORE_TIMEOUT,
        state.events.stored_event_ids(ProjectId(0), &probe),
    );
    let (metadata, events) = tokio::join!(metadata, events);
    let problem = match (metadata, events) {
        (Err(_), _) => Some("the metadata store does not answer in time".to_owned()),
        (Ok(Err(error)), _) => Some(format!("the metadata store fails: {error}")),
        (_, Err(_)) => Some("the event store does not answer in time".to_owned()),
        (_, Ok(Err(error))) => Some(format!("the event store fails: {error}")),
        (Ok(Ok(_)), Ok(Ok(_))) => None,
    };
    match problem {
        None => (
            StatusCode::OK,
            Json(json!({ "status": "ok", "spoolBacklog": backlog })),
        ),
        Some(detail) => {
            tracing::warn!(%detail, "not ready");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(json!({ "status": "unavailable", "detail": detail, "spoolBacklog": backlog })),
            )
        }
    }
}
