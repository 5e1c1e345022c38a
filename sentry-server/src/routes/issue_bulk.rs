//! Bulk changes to a project's issues, as `sentry-cli issues resolve`,
//! `mute` and `unresolve` make them: `PUT /api/0/projects/{org}/{project}/issues/`
//! with the issues chosen by `id` (repeatable), else by `status`, else by
//! `query` (Sentry's search syntax), else all of them; at most 1000 at once,
//! as in Sentry. The answer is the change applied, or 204 when no issue
//! matched.

use axum::Json;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use sentry_core::IssueId;
use sentry_core::store::{Issue, IssueStatus, MetadataStore, Project};
use serde_json::Value;

use crate::auth::{ApiAuth, form_pairs, param};
use crate::error::ApiError;
use crate::routes::issues::search_issues;
use crate::routes::projects::visible_project;
use crate::search::IssueSearch;
use crate::state::AppState;

/// Most issues one bulk request changes, as in Sentry.
const BULK_LIMIT: u64 = 1000;

/// The issues of a project a bulk request names.
async fn selected_issues(
    state: &AppState,
    project: &Project,
    params: &[(String, String)],
) -> Result<Vec<Issue>, ApiError> {
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
            issues.extend(issue.filter(|issue| issue.project_id == project.id));
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
        (None, Some(query)) => IssueSearch::parse(Some(query))?,
        (None, None) => IssueSearch::default(),
    };
    let page = search_issues(state, vec![project.id], search, 0, BULK_LIMIT).await?;
    Ok(page.items)
}

/// `PUT /api/0/projects/{org}/{project}/issues/`: applies a change (the
/// body of an issue update) to the selected issues.
pub async fn bulk_update_issues(
    State(state): State<AppState>,
    auth: ApiAuth,
    Path((org, project)): Path<(String, String)>,
    RawQuery(query): RawQuery,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    auth.require_scope("event:write")?;
    let (_, project) = visible_project(&state, &auth, &org, &project).await?;
    let params = form_pairs(query.as_deref().unwrap_or_default());
    let update: Value = serde_json::from_slice(&body)
        .map_err(|e| ApiError::bad_request(format!("invalid JSON body: {e}")))?;
    let status = match update.get("status") {
        None | Some(Value::Null) => None,
        Some(Value::String(text)) => Some(
            IssueStatus::parse(text)
                .ok_or_else(|| ApiError::bad_request(format!("status: unknown status `{text}`")))?,
        ),
        Some(_) => return Err(ApiError::bad_request("status: must be a string")),
    };
    let issues = selected_issues(&state, &project, &params).await?;
    if issues.is_empty() {
        return Ok(StatusCode::NO_CONTENT.into_response());
    }
    if let Some(status) = status {
        for issue in &issues {
            state.metadata.set_issue_status(issue.id, status).await?;
        }
    }
    let mut answer = serde_json::Map::new();
    if let Some(status) = status {
        answer.insert("status".to_owned(), status.as_str().into());
        answer.insert(
            "statusDetails".to_owned(),
            Value::Object(Default::default()),
        );
    }
    Ok(Json(Value::Object(answer)).into_response())
}
