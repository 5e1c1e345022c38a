//! Issues in Sentry's web API: list, detail, status update.

use axum::Json;
use axum::extract::{Path, RawQuery, State};
use axum::response::{IntoResponse, Response};
use sentry_core::store::{
    EventFilter, EventStore, Issue, IssueQuery, IssueStatus, MetadataStore, Organization, Page,
    Project,
};
use sentry_core::{IssueId, ProjectId};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::auth::{ApiAuth, form_pairs, param};
use crate::error::ApiError;
use crate::routes::model::issue_json;
use crate::routes::pagination::OffsetPage;
use crate::routes::projects::visible_project;
use crate::search::IssueSearch;
use crate::state::AppState;

/// Largest page of issues, as in Sentry.
const MAX_LIMIT: u64 = 100;
/// Page size when none is asked for, as in Sentry.
const DEFAULT_LIMIT: u64 = 25;

/// `GET /api/0/`: what the token is. `sentry-cli info` calls it.
pub async fn api_root(auth: ApiAuth) -> Json<Value> {
    Json(json!({
        "version": "0",
        "auth": { "scopes": auth.token.scopes },
        "user": null,
    }))
}

/// `GET /api/0/projects/{org}/{project}/issues/`.
pub async fn list_project_issues(
    State(state): State<AppState>,
    auth: ApiAuth,
    Path((org, project)): Path<(String, String)>,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    auth.require_scope("event:read")?;
    let (org, project) = visible_project(&state, &auth, &org, &project).await?;
    let params = form_pairs(query.as_deref().unwrap_or_default());
    let search = IssueSearch::parse(param(&params, "query"))?;
    let page_request = OffsetPage::from_params(&params, DEFAULT_LIMIT, MAX_LIMIT)?;
    let page = search_issues(
        &state,
        vec![project.id],
        search,
        page_request.cursor.offset,
        page_request.limit,
    )
    .await?;
    let body: Vec<Value> = page
        .items
        .iter()
        .map(|issue| issue_json(issue, &project, &org.slug, &state.public_url))
        .collect();
    let base = format!(
        "{}/api/0/projects/{}/{}/issues/",
        state.public_url, org.slug, project.slug
    );
    let link = page_request.links(&base, &params, page.has_more);
    Ok((link, Json(body)).into_response())
}

/// Finds the issues of some projects that a search matches, most recently
/// seen first: tag conditions are about events, so the issues are those
/// with a matching event.
pub async fn search_issues(
    state: &AppState,
    project_ids: Vec<ProjectId>,
    search: IssueSearch,
    offset: u64,
    limit: u64,
) -> Result<Page<Issue>, ApiError> {
    let ids = if search.tags.is_empty() {
        None
    } else {
        let matched = state
            .events
            .count_by_issue(&EventFilter {
                tags: search.tags,
                ..EventFilter::projects(project_ids.iter().copied())
            })
            .await?;
        Some(matched.into_iter().map(|counts| counts.issue_id).collect())
    };
    Ok(state
        .metadata
        .list_issues(&IssueQuery {
            project_ids,
            status: search.status,
            text: search.text,
            ids,
            offset,
            limit,
        })
        .await?)
}

/// The path of an issue endpoint, `/api/0/issues/{issue_id}/...` or
/// `/api/0/organizations/{org}/issues/{issue_id}/...`, with the other
/// segments some endpoints have; one handler serves both forms.
#[derive(Debug, Deserialize)]
pub struct IssuePath {
    /// The organization slug, in the organization form.
    pub org: Option<String>,
    /// The issue id.
    pub issue_id: String,
    /// `latest`, `oldest` or `recommended`, for an issue's event.
    pub pick: Option<String>,
    /// A tag key, for an issue's tag.
    pub key: Option<String>,
}

/// Loads an issue the token may see, with its project and organization;
/// 404 also when the path names another organization than the issue's.
pub async fn visible_issue(
    state: &AppState,
    auth: &ApiAuth,
    path: &IssuePath,
) -> Result<(Issue, Project, Organization), ApiError> {
    let issue_id: IssueId = path.issue_id.parse().map_err(|_| ApiError::not_found())?;
    let issue = state
        .metadata
        .issue(issue_id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    let project = state
        .metadata
        .project(issue.project_id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    if project.org_id != auth.token.org_id {
        return Err(ApiError::not_found());
    }
    let org = state
        .metadata
        .organization(project.org_id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    if path.org.as_ref().is_some_and(|slug| *slug != org.slug) {
        return Err(ApiError::not_found());
    }
    Ok((issue, project, org))
}

/// `GET /api/0/issues/{id}/` and `/api/0/organizations/{org}/issues/{id}/`.
pub async fn get_issue(
    State(state): State<AppState>,
    auth: ApiAuth,
    Path(path): Path<IssuePath>,
) -> Result<Json<Value>, ApiError> {
    auth.require_scope("event:read")?;
    let (issue, project, org) = visible_issue(&state, &auth, &path).await?;
    Ok(Json(issue_json(
        &issue,
        &project,
        &org.slug,
        &state.public_url,
    )))
}

/// The body of an issue update.
#[derive(Debug, Deserialize)]
pub struct IssueUpdate {
    status: Option<String>,
}

/// `PUT` of an issue (either path) with `{"status": ...}`.
pub async fn update_issue(
    State(state): State<AppState>,
    auth: ApiAuth,
    Path(path): Path<IssuePath>,
    body: axum::body::Bytes,
) -> Result<Json<Value>, ApiError> {
    let update: IssueUpdate = serde_json::from_slice(&body)
        .map_err(|e| ApiError::bad_request(format!("invalid JSON body: {e}")))?;
    auth.require_scope("event:write")?;
    let (issue, project, org) = visible_issue(&state, &auth, &path).await?;
    let Some(status) = &update.status else {
        return Ok(Json(issue_json(
            &issue,
            &project,
            &org.slug,
            &state.public_url,
        )));
    };
    let status = IssueStatus::parse(status)
        .ok_or_else(|| ApiError::bad_request(format!("invalid status `{status}`")))?;
    let issue = state
        .metadata
        .set_issue_status(issue.id, status)
        .await?
        .ok_or_else(ApiError::not_found)?;
    Ok(Json(issue_json(
        &issue,
        &project,
        &org.slug,
        &state.public_url,
    )))
}
