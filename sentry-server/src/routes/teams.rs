//! Teams in Sentry's web API: list and create an organization's teams,
//! a team's detail and projects, and creating a project under a team (the
//! only way Sentry creates projects).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use sentry_core::store::{MetadataStore, Organization, ProjectUpdate, Team};
use serde::Deserialize;
use serde_json::Value;

use crate::auth::ApiAuth;
use crate::error::ApiError;
use crate::routes::json_body;
use crate::routes::model::{project_summary_json, team_json};
use crate::routes::projects::project_detail_json;
use crate::routes::slugs::{check_slug, slug_from_name};
use crate::state::AppState;

/// Longest team or project name.
const MAX_NAME_LENGTH: usize = 64;

/// A name and slug from a body: the slug derived from the name when not
/// given, the name the slug when not given.
fn name_and_slug(name: Option<String>, slug: Option<String>) -> Result<(String, String), ApiError> {
    let name = name
        .map(|name| name.trim().to_owned())
        .filter(|name| !name.is_empty());
    let slug = match (&slug, &name) {
        (Some(slug), _) => slug.clone(),
        (None, Some(name)) => slug_from_name(name),
        (None, None) => return Err(ApiError::bad_request("name: This field is required.")),
    };
    check_slug("slug", &slug)?;
    let name = name.unwrap_or_else(|| slug.clone());
    if name.chars().count() > MAX_NAME_LENGTH {
        return Err(ApiError::bad_request(format!(
            "name: Ensure this field has no more than {MAX_NAME_LENGTH} characters."
        )));
    }
    Ok((name, slug))
}

/// A team with its projects.
async fn team_with_projects(state: &AppState, team: &Team) -> Result<Value, ApiError> {
    let mut json = team_json(team);
    let projects = state.metadata.team_projects(team.id).await?;
    let summaries: Vec<Value> = projects
        .iter()
        .map(|project| project_summary_json(project, std::slice::from_ref(team)))
        .collect();
    json["projects"] = Value::Array(summaries);
    Ok(json)
}

/// Loads a team of an organization the token may see.
async fn visible_team(
    state: &AppState,
    auth: &ApiAuth,
    org: &str,
    team: &str,
) -> Result<(Organization, Team), ApiError> {
    let org = auth.organization(state, org).await?;
    let team = state
        .metadata
        .team_by_slug(org.id, team)
        .await?
        .ok_or_else(ApiError::not_found)?;
    Ok((org, team))
}

/// `GET /api/0/organizations/{org}/teams/`: by slug, with their projects.
pub async fn list_teams(
    State(state): State<AppState>,
    auth: ApiAuth,
    Path(org): Path<String>,
) -> Result<Json<Value>, ApiError> {
    auth.require_any_scope(&["team:read", "org:read"])?;
    let org = auth.organization(&state, &org).await?;
    let mut body = Vec::new();
    for team in state.metadata.teams(org.id).await? {
        body.push(team_with_projects(&state, &team).await?);
    }
    Ok(Json(Value::Array(body)))
}

/// The body of a new team or project.
#[derive(Debug, Deserialize)]
pub struct NewNamed {
    name: Option<String>,
    slug: Option<String>,
    platform: Option<String>,
}

/// `POST /api/0/organizations/{org}/teams/`: 201 with the team; 409 when
/// the slug is taken.
pub async fn create_team(
    State(state): State<AppState>,
    auth: ApiAuth,
    Path(org): Path<String>,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    auth.require_any_scope(&["team:write", "org:write"])?;
    let org = auth.organization(&state, &org).await?;
    let new: NewNamed = json_body::parse(&body)?;
    let (name, slug) = name_and_slug(new.name, new.slug)?;
    let team = state
        .metadata
        .create_team(org.id, &slug, &name)
        .await
        .map_err(|e| ApiError::from_store_conflict(e, "A team with this slug already exists."))?;
    Ok((StatusCode::CREATED, Json(team_json(&team))).into_response())
}

/// `GET /api/0/teams/{org}/{team}/`.
pub async fn get_team(
    State(state): State<AppState>,
    auth: ApiAuth,
    Path((org, team)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    auth.require_any_scope(&["team:read", "org:read"])?;
    let (_, team) = visible_team(&state, &auth, &org, &team).await?;
    Ok(Json(team_with_projects(&state, &team).await?))
}

/// `GET /api/0/teams/{org}/{team}/projects/`: by slug.
pub async fn list_team_projects(
    State(state): State<AppState>,
    auth: ApiAuth,
    Path((org, team)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    auth.require_scope("project:read")?;
    let (_, team) = visible_team(&state, &auth, &org, &team).await?;
    let projects = state.metadata.team_projects(team.id).await?;
    Ok(Json(Value::Array(
        projects
            .iter()
            .map(|project| project_summary_json(project, std::slice::from_ref(&team)))
            .collect(),
    )))
}

/// `POST /api/0/teams/{org}/{team}/projects/`: creates a project owned by
/// the team (`name`, optional `slug` and `platform`); 201 with the project,
/// 409 when the slug is taken.
pub async fn create_project(
    State(state): State<AppState>,
    auth: ApiAuth,
    Path((org, team)): Path<(String, String)>,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    auth.require_any_scope(&["project:write", "project:admin"])?;
    let (org, team) = visible_team(&state, &auth, &org, &team).await?;
    let new: NewNamed = json_body::parse(&body)?;
    let (name, slug) = name_and_slug(new.name, new.slug)?;
    let taken = || ApiError::conflict("A project with this slug already exists.");
    if state
        .metadata
        .project_by_slug(org.id, &slug)
        .await?
        .is_some()
    {
        return Err(taken());
    }
    let project = state.metadata.ensure_project(org.id, &slug).await?;
    let update = ProjectUpdate {
        name: Some(name),
        slug: None,
        platform: Some(new.platform.filter(|platform| !platform.is_empty())),
    };
    let project = state
        .metadata
        .update_project(project.id, &update)
        .await?
        .ok_or_else(ApiError::not_found)?;
    state.metadata.add_project_team(project.id, team.id).await?;
    let detail = project_detail_json(&state, &org, &project).await?;
    Ok((StatusCode::CREATED, Json(detail)).into_response())
}
