//! Events in Sentry's web API: an issue's latest and oldest, and by id.

use axum::Json;
use axum::extract::{Path, State};
use sentry_core::grouping;
use sentry_core::store::{EventPick, EventStore, Project, StoredEvent};
use sentry_core::{Event, EventId};
use serde_json::Value;

use crate::auth::ApiAuth;
use crate::error::ApiError;
use crate::routes::issues::visible_issue;
use crate::routes::model::event_json;
use crate::routes::projects::visible_project;
use crate::state::AppState;

fn deserialize(stored: &StoredEvent) -> Result<Event, ApiError> {
    serde_json::from_slice(&stored.payload).map_err(|e| {
        tracing::error!(event_id = %stored.event_id, error = %e, "stored event does not deserialize");
        ApiError::new(axum::http::StatusCode::INTERNAL_SERVER_ERROR, "internal error")
    })
}

fn render(stored: &StoredEvent, project: &Project) -> Result<Json<Value>, ApiError> {
    let event = deserialize(stored)?;
    Ok(Json(event_json(stored, &event, project)))
}

async fn pick_event(
    state: &AppState,
    auth: &ApiAuth,
    org: Option<&str>,
    issue_id: &str,
    pick: &str,
) -> Result<Json<Value>, ApiError> {
    auth.require_scope("event:read")?;
    let pick = match pick {
        "latest" | "recommended" => EventPick::Latest,
        "oldest" => EventPick::Oldest,
        _ => return Err(ApiError::not_found()),
    };
    let (issue, project, org_record) = visible_issue(state, auth, issue_id).await?;
    if org.is_some_and(|slug| slug != org_record.slug) {
        return Err(ApiError::not_found());
    }
    let stored = state
        .events
        .issue_event(issue.id, pick)
        .await?
        .ok_or_else(ApiError::not_found)?;
    render(&stored, &project)
}

/// `GET /api/0/issues/{id}/events/{latest|oldest|recommended}/`.
pub async fn issue_event(
    State(state): State<AppState>,
    auth: ApiAuth,
    Path((issue_id, pick)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    pick_event(&state, &auth, None, &issue_id, &pick).await
}

/// `GET /api/0/organizations/{org}/issues/{id}/events/{latest|oldest|recommended}/`.
pub async fn org_issue_event(
    State(state): State<AppState>,
    auth: ApiAuth,
    Path((org, issue_id, pick)): Path<(String, String, String)>,
) -> Result<Json<Value>, ApiError> {
    pick_event(&state, &auth, Some(&org), &issue_id, &pick).await
}

async fn stored_event(
    state: &AppState,
    auth: &ApiAuth,
    org: &str,
    project: &str,
    event_id: &str,
) -> Result<(StoredEvent, Project), ApiError> {
    auth.require_scope("event:read")?;
    let (_, project) = visible_project(state, auth, org, project).await?;
    let event_id: EventId = event_id.parse().map_err(|_| ApiError::not_found())?;
    let stored = state
        .events
        .event(project.id, event_id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    Ok((stored, project))
}

/// `GET /api/0/projects/{org}/{project}/events/{event_id}/`.
pub async fn project_event(
    State(state): State<AppState>,
    auth: ApiAuth,
    Path((org, project, event_id)): Path<(String, String, String)>,
) -> Result<Json<Value>, ApiError> {
    let (stored, project) = stored_event(&state, &auth, &org, &project, &event_id).await?;
    render(&stored, &project)
}

/// `GET /api/0/projects/{org}/{project}/events/{event_id}/grouping-info/`:
/// the event's grouping with the project's current rules, in the shape of
/// `sentry-server grouping explain`.
pub async fn grouping_info(
    State(state): State<AppState>,
    auth: ApiAuth,
    Path((org, project, event_id)): Path<(String, String, String)>,
) -> Result<Json<Value>, ApiError> {
    let (stored, project) = stored_event(&state, &auth, &org, &project, &event_id).await?;
    let mut event = deserialize(&stored)?;
    let config = state
        .grouping
        .for_project(&state.metadata, project.id)
        .await?;
    grouping::prepare(&mut event, &config);
    Ok(Json(grouping::group(&event, &config).to_json()))
}
