//! Organizations in Sentry's web API: the token's organization, its
//! projects, and the projects of every organization a token sees.
//!
//! A token belongs to one organization; listings show only that one, and
//! another organization's slug answers 404, as a missing one does.

use axum::Json;
use axum::extract::{Path, RawQuery, State};
use axum::response::{IntoResponse, Response};
use sentry_core::store::{MetadataStore, Organization, Project};
use serde_json::{Value, json};

use crate::auth::{ApiAuth, form_pairs};
use crate::error::ApiError;
use crate::routes::model::project_summary_json;
use crate::routes::pagination::OffsetPage;
use crate::state::AppState;

/// Largest page of organizations or projects, as in Sentry.
const MAX_LIMIT: u64 = 100;

/// An organization as Sentry's organization list and detail return it.
pub fn organization_json(org: &Organization) -> Value {
    json!({
        "id": org.id.to_string(),
        "slug": org.slug,
        "name": org.name,
        "dateCreated": org.date_created.to_rfc3339(),
        "status": { "id": "active", "name": "active" },
        "isEarlyAdopter": false,
        "require2FA": false,
        "requireEmailVerification": false,
        "features": [],
    })
}

/// `GET /api/0/organizations/`: the token's organization.
pub async fn list_organizations(
    State(state): State<AppState>,
    auth: ApiAuth,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    auth.require_scope("org:read")?;
    let params = form_pairs(query.as_deref().unwrap_or_default());
    let page = OffsetPage::from_params(&params, MAX_LIMIT, MAX_LIMIT)?;
    let orgs: Vec<Organization> = state
        .metadata
        .organization(auth.token.org_id)
        .await?
        .into_iter()
        .collect();
    let (orgs, has_more) = page.slice(orgs);
    let body: Vec<Value> = orgs.iter().map(organization_json).collect();
    let base = format!("{}/api/0/organizations/", state.public_url);
    Ok((page.links(&base, &params, has_more), Json(body)).into_response())
}

/// `GET /api/0/organizations/{org}/`.
pub async fn get_organization(
    State(state): State<AppState>,
    auth: ApiAuth,
    Path(org): Path<String>,
) -> Result<Json<Value>, ApiError> {
    auth.require_scope("org:read")?;
    let org = auth.organization(&state, &org).await?;
    Ok(Json(organization_json(&org)))
}

/// Lists projects by slug with their teams, a page at a time.
async fn projects_page(
    state: &AppState,
    projects: Vec<Project>,
    params: &[(String, String)],
    base: &str,
) -> Result<Response, ApiError> {
    let page = OffsetPage::from_params(params, MAX_LIMIT, MAX_LIMIT)?;
    let (projects, has_more) = page.slice(projects);
    let mut body = Vec::with_capacity(projects.len());
    for project in &projects {
        let teams = state.metadata.project_teams(project.id).await?;
        body.push(project_summary_json(project, &teams));
    }
    Ok((page.links(base, params, has_more), Json(body)).into_response())
}

/// The projects of an organization the token may see that a request's
/// `project` parameters (ids, repeatable; `-1` for all) name, or all of
/// them.
///
/// # Errors
///
/// 404 for another organization; 400 for a `project` that is not one of
/// its project ids.
pub async fn org_projects(
    state: &AppState,
    auth: &ApiAuth,
    org: &str,
    params: &[(String, String)],
) -> Result<Vec<Project>, ApiError> {
    let org = auth.organization(state, org).await?;
    let all = state.metadata.projects(org.id).await?;
    let wanted: Vec<&str> = params
        .iter()
        .filter(|(name, value)| name == "project" && value != "-1")
        .map(|(_, value)| value.as_str())
        .collect();
    if wanted.is_empty() {
        return Ok(all);
    }
    let mut projects = Vec::with_capacity(wanted.len());
    for id in wanted {
        let project = all
            .iter()
            .find(|project| project.id.to_string() == id)
            .ok_or_else(|| {
                ApiError::bad_request(format!(
                    "project: `{id}` is not a project of the organization"
                ))
            })?;
        projects.push(project.clone());
    }
    Ok(projects)
}

/// `GET /api/0/organizations/{org}/projects/`: by slug, with their teams.
pub async fn list_org_projects(
    State(state): State<AppState>,
    auth: ApiAuth,
    Path(org): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    auth.require_scope("project:read")?;
    let org = auth.organization(&state, &org).await?;
    let params = form_pairs(query.as_deref().unwrap_or_default());
    let projects = state.metadata.projects(org.id).await?;
    let base = format!(
        "{}/api/0/organizations/{}/projects/",
        state.public_url, org.slug
    );
    projects_page(&state, projects, &params, &base).await
}

/// `GET /api/0/projects/`: the projects of the token's organization.
pub async fn list_projects(
    State(state): State<AppState>,
    auth: ApiAuth,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    auth.require_scope("project:read")?;
    let params = form_pairs(query.as_deref().unwrap_or_default());
    let projects = state.metadata.projects(auth.token.org_id).await?;
    let base = format!("{}/api/0/projects/", state.public_url);
    projects_page(&state, projects, &params, &base).await
}
