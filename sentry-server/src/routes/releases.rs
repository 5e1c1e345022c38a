//! Releases and deploys in Sentry's web API, as `sentry-cli releases` and
//! `sentry-cli deploys` use them: create (201, or 208 when the version
//! exists), update and finalize, list (by organization or project, newest
//! first, `Link` cursors), delete, and the deploys of a release.
//!
//! A version is unique per organization and links to projects of it; its
//! first and last event are those of its projects' events with the
//! `release` tag.

use axum::Json;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use sentry_core::protocol::Timestamp;
use sentry_core::store::{
    Deploy, EventFilter, EventStore, MetadataStore, NewDeploy, Organization, Project, Release,
    ReleaseQuery, ReleaseUpdate, TagFilter,
};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::auth::{ApiAuth, form_pairs, param};
use crate::error::ApiError;
use crate::routes::json_body;
use crate::routes::organizations::org_projects;
use crate::routes::pagination::OffsetPage;
use crate::routes::projects::visible_project;
use crate::routes::sessions::release_health;
use crate::state::AppState;

/// Page size of release listings, as in Sentry.
const DEFAULT_LIMIT: u64 = 25;
/// Largest page of releases.
const MAX_LIMIT: u64 = 100;
/// Longest version Sentry accepts.
const MAX_VERSION_LENGTH: usize = 200;
/// Scopes that may read releases.
const READ_SCOPES: &[&str] = &["project:read", "project:releases"];
/// Scopes that may write releases.
const WRITE_SCOPES: &[&str] = &["project:write", "project:releases"];

/// Checks a version as Sentry does: 1 to 200 characters, no slashes,
/// backslashes or line breaks, not `.`, `..` or `latest`.
fn valid_version(version: &str) -> bool {
    !version.trim().is_empty()
        && version.chars().count() <= MAX_VERSION_LENGTH
        && !matches!(version, "." | ".." | "latest")
        && !version
            .chars()
            .any(|c| matches!(c, '/' | '\\' | '\r' | '\n' | '\t' | '\x0b' | '\x0c'))
}

fn parse_time(field: &str, text: Option<&str>) -> Result<Option<Timestamp>, ApiError> {
    text.map(|text| {
        Timestamp::parse_rfc3339(text)
            .ok_or_else(|| ApiError::bad_request(format!("{field}: not an ISO 8601 date and time")))
    })
    .transpose()
}

/// A project named in a request body (a release, an upload), by slug or id.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub(crate) enum ProjectName {
    Text(String),
    Number(u64),
}

/// Resolves project slugs (or ids) of an organization.
pub(crate) async fn projects_named(
    state: &AppState,
    org: &Organization,
    names: &[ProjectName],
) -> Result<Vec<Project>, ApiError> {
    let all = state.metadata.projects(org.id).await?;
    let mut found = Vec::with_capacity(names.len());
    for name in names {
        let project = all.iter().find(|project| match name {
            ProjectName::Text(text) => project.slug == *text || project.id.to_string() == *text,
            ProjectName::Number(id) => project.id.0 == *id,
        });
        match project {
            Some(project) => found.push(project.clone()),
            None => return Err(ApiError::bad_request("Invalid project ids or slugs")),
        }
    }
    Ok(found)
}

/// A release as Sentry's release endpoints return it, with the first and
/// last event of its version.
///
/// # Errors
///
/// Fails when a store fails.
pub async fn release_json(state: &AppState, release: &Release) -> Result<Value, ApiError> {
    let all = state.metadata.projects(release.org_id).await?;
    let projects: Vec<&Project> = all
        .iter()
        .filter(|project| release.projects.contains(&project.id))
        .collect();
    let (first_event, last_event) = if projects.is_empty() {
        (None, None)
    } else {
        let filter = EventFilter {
            tags: vec![TagFilter {
                key: "release".to_owned(),
                value: Some(release.version.clone()),
                negated: false,
            }],
            ..EventFilter::projects(projects.iter().map(|project| project.id))
        };
        let counts = state.events.count_events(&filter).await?;
        (counts.first_seen, counts.last_seen)
    };
    let deploys = state.metadata.deploys(release.id).await?;
    let mut health = release_health(
        state,
        projects.iter().map(|project| project.id).collect(),
        &release.version,
    )
    .await?;
    let project_list: Vec<Value> = projects
        .iter()
        .map(|project| {
            let health = health.remove(&project.id).unwrap_or(Value::Null);
            json!({
                "id": project.id.0,
                "slug": project.slug,
                "name": project.name,
                "newGroups": 0,
                "platform": project.platform,
                "platforms": project.platform.iter().collect::<Vec<_>>(),
                "hasHealthData": health["hasHealthData"] == true,
                "healthData": health,
            })
        })
        .collect();
    Ok(json!({
        "id": release.id.0,
        "version": release.version,
        "shortVersion": release.version,
        "status": "open",
        "ref": release.reference,
        "url": release.url,
        "dateCreated": release.date_created.to_rfc3339(),
        "dateReleased": release.date_released.as_ref().map(Timestamp::to_rfc3339),
        "data": {},
        "newGroups": 0,
        "owner": null,
        "commitCount": 0,
        "lastCommit": null,
        "authors": [],
        "deployCount": deploys.len(),
        "lastDeploy": deploys.first().map(deploy_json),
        "firstEvent": first_event.as_ref().map(Timestamp::to_rfc3339),
        "lastEvent": last_event.as_ref().map(Timestamp::to_rfc3339),
        "currentProjectMeta": {},
        "projects": project_list,
    }))
}

fn deploy_json(deploy: &Deploy) -> Value {
    json!({
        "id": deploy.id.to_string(),
        "environment": deploy.environment,
        "name": deploy.name,
        "url": deploy.url,
        "dateStarted": deploy.date_started.as_ref().map(Timestamp::to_rfc3339),
        "dateFinished": deploy.date_finished.to_rfc3339(),
    })
}

/// Lists releases a page at a time, with `query` (text in the version).
async fn releases_page(
    state: &AppState,
    org: &Organization,
    project_ids: Vec<sentry_core::ProjectId>,
    params: &[(String, String)],
    base: &str,
) -> Result<Response, ApiError> {
    let page = OffsetPage::from_params(params, DEFAULT_LIMIT, MAX_LIMIT)?;
    let found = state
        .metadata
        .releases(&ReleaseQuery {
            org_id: org.id,
            project_ids,
            query: param(params, "query")
                .filter(|text| !text.is_empty())
                .map(str::to_owned),
            offset: page.cursor.offset,
            limit: page.limit,
        })
        .await?;
    let mut body = Vec::with_capacity(found.items.len());
    for release in &found.items {
        body.push(release_json(state, release).await?);
    }
    Ok((page.links(base, params, found.has_more), Json(body)).into_response())
}

/// `GET /api/0/organizations/{org}/releases/`: `project` (ids, repeatable)
/// and `query` narrow it.
pub async fn list_org_releases(
    State(state): State<AppState>,
    auth: ApiAuth,
    Path(org): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    auth.require_any_scope(READ_SCOPES)?;
    let org = auth.organization(&state, &org).await?;
    let params = form_pairs(query.as_deref().unwrap_or_default());
    // Without `project`, every release, also those of no project.
    let project_ids = if params.iter().any(|(name, _)| name == "project") {
        let projects = org_projects(&state, &auth, &org.slug, &params).await?;
        projects.iter().map(|project| project.id).collect()
    } else {
        Vec::new()
    };
    let base = format!(
        "{}/api/0/organizations/{}/releases/",
        state.public_url, org.slug
    );
    releases_page(&state, &org, project_ids, &params, &base).await
}

/// `GET /api/0/projects/{org}/{project}/releases/`.
pub async fn list_project_releases(
    State(state): State<AppState>,
    auth: ApiAuth,
    Path((org, project)): Path<(String, String)>,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    auth.require_any_scope(READ_SCOPES)?;
    let (org, project) = visible_project(&state, &auth, &org, &project).await?;
    let params = form_pairs(query.as_deref().unwrap_or_default());
    let base = format!(
        "{}/api/0/projects/{}/{}/releases/",
        state.public_url, org.slug, project.slug
    );
    releases_page(&state, &org, vec![project.id], &params, &base).await
}

/// The body of a new release.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NewRelease {
    version: String,
    #[serde(default)]
    projects: Vec<ProjectName>,
    #[serde(rename = "ref")]
    reference: Option<String>,
    url: Option<String>,
    date_released: Option<String>,
}

/// `POST /api/0/organizations/{org}/releases/`: 201 with the new release,
/// 208 with the existing one (linked to the projects given as well).
pub async fn create_release(
    State(state): State<AppState>,
    auth: ApiAuth,
    Path(org): Path<String>,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    auth.require_any_scope(WRITE_SCOPES)?;
    let org = auth.organization(&state, &org).await?;
    let new: NewRelease = json_body::parse(&body)?;
    if new.projects.is_empty() {
        return Err(ApiError::bad_request("projects: This field is required."));
    }
    let projects = projects_named(&state, &org, &new.projects).await?;
    let project_ids: Vec<_> = projects.iter().map(|project| project.id).collect();
    create(&state, &org, new, &project_ids).await
}

/// `POST /api/0/projects/{org}/{project}/releases/`: creates a release of
/// the project (sentry-cli 2 creates releases there), as the
/// organization's endpoint does.
pub async fn create_project_release(
    State(state): State<AppState>,
    auth: ApiAuth,
    Path((org, project)): Path<(String, String)>,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    auth.require_any_scope(WRITE_SCOPES)?;
    let (org, project) = visible_project(&state, &auth, &org, &project).await?;
    let new: NewRelease = json_body::parse(&body)?;
    create(&state, &org, new, &[project.id]).await
}

/// Creates a release of some projects, or links them to it if it exists:
/// 201, or 208 for an existing release.
async fn create(
    state: &AppState,
    org: &Organization,
    new: NewRelease,
    project_ids: &[sentry_core::ProjectId],
) -> Result<Response, ApiError> {
    if !valid_version(&new.version) {
        return Err(ApiError::bad_request(
            "version: Release with name containing slashes, line breaks or only `.`, `..`, \
             `latest` is not allowed, nor one longer than 200 characters",
        ));
    }
    let date_released = parse_time("dateReleased", new.date_released.as_deref())?;
    let existed = state
        .metadata
        .release_by_version(org.id, &new.version)
        .await?
        .is_some();
    let mut release = state
        .metadata
        .ensure_release(org.id, &new.version, project_ids)
        .await?;
    let update = ReleaseUpdate {
        reference: new.reference,
        url: new.url,
        date_released,
    };
    if update != ReleaseUpdate::default() {
        release = state
            .metadata
            .update_release(org.id, &new.version, &update)
            .await?
            .ok_or_else(ApiError::not_found)?;
    }
    let status = if existed {
        StatusCode::ALREADY_REPORTED
    } else {
        StatusCode::CREATED
    };
    Ok((status, Json(release_json(state, &release).await?)).into_response())
}

/// Loads a release of an organization the token may see.
async fn visible_release(
    state: &AppState,
    auth: &ApiAuth,
    org: &str,
    version: &str,
) -> Result<(Organization, Release), ApiError> {
    let org = auth.organization(state, org).await?;
    let release = state
        .metadata
        .release_by_version(org.id, version)
        .await?
        .ok_or_else(ApiError::not_found)?;
    Ok((org, release))
}

/// `GET /api/0/organizations/{org}/releases/{version}/`.
pub async fn get_release(
    State(state): State<AppState>,
    auth: ApiAuth,
    Path((org, version)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    auth.require_any_scope(READ_SCOPES)?;
    let (_, release) = visible_release(&state, &auth, &org, &version).await?;
    Ok(Json(release_json(&state, &release).await?))
}

/// The body of a release update; `sentry-cli releases finalize` sends
/// `dateReleased`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReleaseChanges {
    #[serde(default)]
    projects: Vec<ProjectName>,
    #[serde(rename = "ref")]
    reference: Option<String>,
    url: Option<String>,
    date_released: Option<String>,
}

/// `PUT /api/0/organizations/{org}/releases/{version}/`: sets `ref`, `url`
/// and `dateReleased` (finalizes), links more `projects`.
pub async fn update_release(
    State(state): State<AppState>,
    auth: ApiAuth,
    Path((org, version)): Path<(String, String)>,
    body: axum::body::Bytes,
) -> Result<Json<Value>, ApiError> {
    auth.require_any_scope(WRITE_SCOPES)?;
    let (org, _) = visible_release(&state, &auth, &org, &version).await?;
    let changes: ReleaseChanges = json_body::parse(&body)?;
    let date_released = parse_time("dateReleased", changes.date_released.as_deref())?;
    let projects = projects_named(&state, &org, &changes.projects).await?;
    if !projects.is_empty() {
        let project_ids: Vec<_> = projects.iter().map(|project| project.id).collect();
        state
            .metadata
            .ensure_release(org.id, &version, &project_ids)
            .await?;
    }
    let update = ReleaseUpdate {
        reference: changes.reference,
        url: changes.url,
        date_released,
    };
    let release = state
        .metadata
        .update_release(org.id, &version, &update)
        .await?
        .ok_or_else(ApiError::not_found)?;
    Ok(Json(release_json(&state, &release).await?))
}

/// `DELETE /api/0/organizations/{org}/releases/{version}/`: 204, or 404.
pub async fn delete_release(
    State(state): State<AppState>,
    auth: ApiAuth,
    Path((org, version)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    auth.require_any_scope(&["project:admin", "project:releases"])?;
    let org = auth.organization(&state, &org).await?;
    if state.metadata.delete_release(org.id, &version).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::not_found())
    }
}

/// `GET /api/0/projects/{org}/{project}/releases/{version}/`, where
/// sentry-cli 2 reads a release: the organization's release, once the
/// project is one the token may see.
pub async fn get_project_release(
    State(state): State<AppState>,
    auth: ApiAuth,
    Path((org, project, version)): Path<(String, String, String)>,
) -> Result<Json<Value>, ApiError> {
    visible_project(&state, &auth, &org, &project).await?;
    get_release(State(state), auth, Path((org, version))).await
}

/// `PUT /api/0/projects/{org}/{project}/releases/{version}/` (sentry-cli
/// 2's `releases finalize`), as the organization's endpoint.
pub async fn update_project_release(
    State(state): State<AppState>,
    auth: ApiAuth,
    Path((org, project, version)): Path<(String, String, String)>,
    body: axum::body::Bytes,
) -> Result<Json<Value>, ApiError> {
    visible_project(&state, &auth, &org, &project).await?;
    update_release(State(state), auth, Path((org, version)), body).await
}

/// `DELETE /api/0/projects/{org}/{project}/releases/{version}/`
/// (sentry-cli 2's `releases delete`), as the organization's endpoint.
pub async fn delete_project_release(
    State(state): State<AppState>,
    auth: ApiAuth,
    Path((org, project, version)): Path<(String, String, String)>,
) -> Result<StatusCode, ApiError> {
    visible_project(&state, &auth, &org, &project).await?;
    delete_release(State(state), auth, Path((org, version))).await
}

/// `GET /api/0/organizations/{org}/releases/{version}/deploys/`: most
/// recently finished first.
pub async fn list_deploys(
    State(state): State<AppState>,
    auth: ApiAuth,
    Path((org, version)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    auth.require_any_scope(READ_SCOPES)?;
    let (_, release) = visible_release(&state, &auth, &org, &version).await?;
    let deploys = state.metadata.deploys(release.id).await?;
    Ok(Json(Value::Array(
        deploys.iter().map(deploy_json).collect(),
    )))
}

/// The body of a new deploy.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NewDeployBody {
    environment: String,
    name: Option<String>,
    url: Option<String>,
    date_started: Option<String>,
    date_finished: Option<String>,
}

/// `POST /api/0/organizations/{org}/releases/{version}/deploys/`: 201 with
/// the deploy; `dateFinished` defaults to now.
pub async fn create_deploy(
    State(state): State<AppState>,
    auth: ApiAuth,
    Path((org, version)): Path<(String, String)>,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    auth.require_any_scope(WRITE_SCOPES)?;
    let (_, release) = visible_release(&state, &auth, &org, &version).await?;
    let new: NewDeployBody = json_body::parse(&body)?;
    let environment = new.environment.trim();
    if environment.is_empty()
        || environment.len() > 64
        || environment.contains(['/', '\n', '\r', '\t'])
    {
        return Err(ApiError::bad_request(
            "environment: must be 1 to 64 characters without slashes or line breaks",
        ));
    }
    let deploy = NewDeploy {
        environment: environment.to_owned(),
        name: new.name.filter(|name| !name.is_empty()),
        url: new.url.filter(|url| !url.is_empty()),
        date_started: parse_time("dateStarted", new.date_started.as_deref())?,
        date_finished: parse_time("dateFinished", new.date_finished.as_deref())?
            .unwrap_or_else(Timestamp::now),
    };
    let deploy = state.metadata.create_deploy(release.id, &deploy).await?;
    Ok((StatusCode::CREATED, Json(deploy_json(&deploy))).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_are_checked_as_sentry_does() {
        for good in ["1.0.0", "app@1.2.3", "abc123", "a b"] {
            assert!(valid_version(good), "{good}");
        }
        for bad in [
            "",
            " ",
            ".",
            "..",
            "latest",
            "a/b",
            "a\\b",
            "a\nb",
            &"x".repeat(201),
        ] {
            assert!(!valid_version(bad), "{bad:?}");
        }
    }
}
