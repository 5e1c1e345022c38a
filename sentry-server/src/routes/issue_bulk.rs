//! Bulk changes to issues, as `sentry-cli issues resolve`, `mute` and
//! `unresolve` make them: `PUT` (or `DELETE`) of
//! `/api/0/projects/{org}/{project}/issues/` or
//! `/api/0/organizations/{org}/issues/` with the issues chosen by `id`
//! (repeatable), else by `status`, else by `query` (Sentry's search
//! syntax), else all of them; at most 1000 at once, as in Sentry. An
//! update answers with the status set, or 204 when no issue matched.

use axum::Json;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use sentry_core::protocol::Timestamp;
use sentry_core::store::{Issue, IssueSort, IssueStatus, MetadataStore, Project};
use sentry_core::{IssueId, ProjectId};
use serde_json::Value;

use crate::auth::{ApiAuth, form_pairs, param};
use crate::error::ApiError;
use crate::routes::issue_list::search_issues;
use crate::routes::issue_update::{StatusRequest, status_details_json, substatus_json};
use crate::routes::organizations::org_projects;
use crate::routes::projects::visible_project;
use crate::search::IssueSearch;
use crate::state::AppState;

/// Most issues one bulk request changes, as in Sentry.
const BULK_LIMIT: u64 = 1000;

/// The issues of some projects a bulk request names: by `id`
/// (repeatable), else by `status`, else by `query`, else all of them (the
/// web UI's bulk form passes ids only).
///
/// # Errors
///
/// 400 for more than 1000 ids, an id that is not one, or a bad status or query.
pub async fn selected_issues(
    state: &AppState,
    projects: &[Project],
    params: &[(String, String)],
) -> Result<Vec<Issue>, ApiError> {
    let project_ids: Vec<ProjectId> = projects.iter().map(|project| project.id).collect();
    let ids: Vec<&str> = params
        .iter()
        .filter(|(name, _)| name == "id")
        .map(|(_, value)| value.as_str())
        .collect();
    if !ids.is_empty() {
        if ids.len() > usize::try_from(BULK_LIMIT).unwrap_or(usize::MAX) {
            return Err(ApiError::bad_request(format!(
                "Too many issues: at most {BULK_LIMIT} at once"
            )));
        }
        let mut issues = Vec::with_capacity(ids.len());
        for text in ids {
            let id: IssueId = text
                .parse()
                .map_err(|_| ApiError::bad_request(format!("id: `{text}` is not an issue id")))?;
            // Another project's issue is left alone, as a missing one is.
            let issue = state.metadata.issue(id).await?;
            issues.extend(issue.filter(|issue| project_ids.contains(&issue.project_id)));
        }
        return Ok(issues);
    }
    let search = match (param(params, "status"), param(params, "query")) {
        (Some(status), _) => IssueSearch {
            status: Some(IssueStatus::parse(status).ok_or_else(|| {
                ApiError::bad_request(format!("status: unknown status `{status}`"))
            })?),
            ..IssueSearch::default()
        },
        (None, Some(query)) => IssueSearch::parse(Some(query), Timestamp::now())?,
        (None, None) => IssueSearch::default(),
    };
    let page = search_issues(
        state,
        project_ids,
        search,
        IssueSort::default(),
        0,
        BULK_LIMIT,
    )
    .await?;
    Ok(page.items)
}

/// `PUT /api/0/projects/{org}/{project}/issues/`: applies an update (see
/// [`StatusRequest`]) to the selected issues.
pub async fn bulk_update_project_issues(
    State(state): State<AppState>,
    auth: ApiAuth,
    Path((org, project)): Path<(String, String)>,
    RawQuery(query): RawQuery,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    let request = StatusRequest::parse(&body)?;
    auth.require_scope("event:write")?;
    let (_, project) = visible_project(&state, &auth, &org, &project).await?;
    let params = form_pairs(query.as_deref().unwrap_or_default());
    let issues = selected_issues(&state, &[project], &params).await?;
    apply(&state, &issues, &request).await
}

/// `PUT /api/0/organizations/{org}/issues/`: as the project form, over the
/// projects named by `project` (ids, repeatable), else all of the organization's.
pub async fn bulk_update_org_issues(
    State(state): State<AppState>,
    auth: ApiAuth,
    Path(org): Path<String>,
    RawQuery(query): RawQuery,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    let request = StatusRequest::parse(&body)?;
    auth.require_scope("event:write")?;
    let params = form_pairs(query.as_deref().unwrap_or_default());
    let projects = org_projects(&state, &auth, &org, &params).await?;
    let issues = selected_issues(&state, &projects, &params).await?;
    apply(&state, &issues, &request).await
}

/// Applies an update to issues, the web API's and the web UI's one way to
/// change statuses; returns the last issue changed, as it is now.
///
/// # Errors
///
/// Fails when a store fails.
pub async fn update_issues(
    state: &AppState,
    issues: &[Issue],
    request: &StatusRequest,
) -> Result<Option<Issue>, ApiError> {
    let now = Timestamp::now();
    let mut last = None;
    for issue in issues {
        if let Some(change) = request.change_for(state, issue, now).await? {
            last = state.metadata.set_issue_status(issue.id, &change).await?;
        }
    }
    Ok(last)
}

/// Applies an update to issues; the answer is the status set, or 204 when
/// there was no issue.
async fn apply(
    state: &AppState,
    issues: &[Issue],
    request: &StatusRequest,
) -> Result<Response, ApiError> {
    if issues.is_empty() {
        return Ok(StatusCode::NO_CONTENT.into_response());
    }
    let last = update_issues(state, issues, request).await?;
    let mut answer = serde_json::Map::new();
    if let Some(issue) = last {
        answer.insert("status".to_owned(), issue.status.as_str().into());
        answer.insert("statusDetails".to_owned(), status_details_json(&issue));
        answer.insert("substatus".to_owned(), substatus_json(&issue));
    }
    Ok(Json(Value::Object(answer)).into_response())
}

/// `DELETE /api/0/projects/{org}/{project}/issues/`: deletes the selected
/// issues; 204.
pub async fn bulk_delete_project_issues(
    State(state): State<AppState>,
    auth: ApiAuth,
    Path((org, project)): Path<(String, String)>,
    RawQuery(query): RawQuery,
) -> Result<StatusCode, ApiError> {
    auth.require_scope("event:admin")?;
    let (_, project) = visible_project(&state, &auth, &org, &project).await?;
    let params = form_pairs(query.as_deref().unwrap_or_default());
    let issues = selected_issues(&state, &[project], &params).await?;
    delete(&state, &issues).await
}

/// `DELETE /api/0/organizations/{org}/issues/`: as the project form, over
/// the projects named by `project`, else all of the organization's.
pub async fn bulk_delete_org_issues(
    State(state): State<AppState>,
    auth: ApiAuth,
    Path(org): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<StatusCode, ApiError> {
    auth.require_scope("event:admin")?;
    let params = form_pairs(query.as_deref().unwrap_or_default());
    let projects = org_projects(&state, &auth, &org, &params).await?;
    let issues = selected_issues(&state, &projects, &params).await?;
    delete(&state, &issues).await
}

async fn delete(state: &AppState, issues: &[Issue]) -> Result<StatusCode, ApiError> {
    let ids: Vec<IssueId> = issues.iter().map(|issue| issue.id).collect();
    if !ids.is_empty() {
        state.metadata.delete_issues(&ids).await?;
    }
    Ok(StatusCode::NO_CONTENT)
}
