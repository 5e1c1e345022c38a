//! Cron monitors in Sentry's web API: an organization's monitors, and a
//! monitor's latest check-ins.

use axum::Json;
use axum::extract::{Path, RawQuery, State};
use sentry_core::store::{CheckIn, MetadataStore, Monitor, Project};
use serde_json::{Value, json};

use crate::auth::{ApiAuth, form_pairs};
use crate::error::ApiError;
use crate::routes::projects::visible_project;
use crate::state::AppState;

/// The most check-ins one answer lists.
const MAX_CHECKINS: u64 = 100;

fn monitor_json(monitor: &Monitor, project: &Project) -> Value {
    let config: Value = serde_json::from_str(&monitor.config).unwrap_or(Value::Null);
    json!({
        "id": monitor.id.to_string(),
        "slug": monitor.slug,
        "name": monitor.name,
        "status": monitor.status.as_str(),
        "type": "cron_job",
        "config": config,
        "dateCreated": monitor.date_created.to_rfc3339(),
        "lastCheckIn": monitor.last_checkin_at.map(|time| time.to_rfc3339()),
        "nextCheckIn": monitor.next_checkin_at.map(|time| time.to_rfc3339()),
        "project": {"id": project.id.to_string(), "slug": project.slug},
    })
}

fn checkin_json(checkin: &CheckIn) -> Value {
    json!({
        "id": checkin.id.to_string(),
        "status": checkin.status.as_str(),
        "duration": checkin.duration_ms,
        "environment": checkin.environment,
        "dateCreated": checkin.date_created.to_rfc3339(),
        "dateAdded": checkin.date_created.to_rfc3339(),
        "dateUpdated": checkin.date_updated.to_rfc3339(),
    })
}

/// `GET /api/0/organizations/{org}/monitors/`: every monitor of the
/// organization's projects, by slug.
pub async fn org_monitors(
    State(state): State<AppState>,
    auth: ApiAuth,
    Path(org): Path<String>,
) -> Result<Json<Value>, ApiError> {
    auth.require_scope("org:read")?;
    let org = auth.organization(&state, &org).await?;
    let projects = state.metadata.projects(org.id).await?;
    let monitors = state.metadata.org_monitors(org.id).await?;
    Ok(Json(
        monitors
            .iter()
            .filter_map(|monitor| {
                let project = projects.iter().find(|p| p.id == monitor.project_id)?;
                Some(monitor_json(monitor, project))
            })
            .collect(),
    ))
}

/// `GET /api/0/projects/{org}/{project}/monitors/{slug}/checkins/`: the
/// latest check-ins, newest first (`per_page`, at most 100).
pub async fn checkins(
    State(state): State<AppState>,
    auth: ApiAuth,
    Path((org, project, slug)): Path<(String, String, String)>,
    RawQuery(query): RawQuery,
) -> Result<Json<Value>, ApiError> {
    auth.require_scope("project:read")?;
    let (_, project) = visible_project(&state, &auth, &org, &project).await?;
    let monitor = state
        .metadata
        .monitor_by_slug(project.id, &slug)
        .await?
        .ok_or_else(ApiError::not_found)?;
    let limit = form_pairs(query.as_deref().unwrap_or(""))
        .iter()
        .find(|(name, _)| name == "per_page")
        .and_then(|(_, value)| value.parse::<u64>().ok())
        .unwrap_or(MAX_CHECKINS)
        .clamp(1, MAX_CHECKINS);
    let checkins = state.metadata.monitor_checkins(monitor.id, limit).await?;
    Ok(Json(checkins.iter().map(checkin_json).collect()))
}
