//! `GET /health/live` and `GET /health/ready`, for load balancers and
//! orchestrators.

use axum::Json;
use axum::extract::State;
use serde_json::{Value, json};

use crate::state::AppState;

/// The process answers.
pub async fn live() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}

/// The server takes requests; `spoolBacklog` is the bytes accepted but not
/// yet processed (0 when everything acknowledged is stored).
pub async fn ready(State(state): State<AppState>) -> Json<Value> {
    Json(json!({ "status": "ok", "spoolBacklog": state.spool.backlog() }))
}
