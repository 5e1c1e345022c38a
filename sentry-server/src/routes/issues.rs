//! Issues in Sentry's web API: one issue's detail, update and deletion
//! (lists are in `issue_list`, bulk changes in `issue_bulk`).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use sentry_core::IssueId;
use sentry_core::store::{Issue, MetadataStore, Organization, Project};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::auth::ApiAuth;
use crate::error::ApiError;
use crate::routes::issue_bulk::update_issues;
use crate::routes::issue_update::StatusRequest;
use crate::routes::model::issue_json;
use crate::state::AppState;

/// `GET /api/0/`: what the token is. `sentry-cli info` calls it.
pub async fn api_root(auth: ApiAuth) -> Json<Value> {
    Json(json!({
        "version": "0",
        "auth": { "scopes": auth.token.scopes },
        "user": null,
    }))
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

/// `PUT` of an issue (either path): `status` and `statusDetails` (see
/// [`StatusRequest`]).
pub async fn update_issue(
    State(state): State<AppState>,
    auth: ApiAuth,
    Path(path): Path<IssuePath>,
    body: axum::body::Bytes,
) -> Result<Json<Value>, ApiError> {
    let request = StatusRequest::parse(&body)?;
    auth.require_scope("event:write")?;
    let (issue, project, org) = visible_issue(&state, &auth, &path).await?;
    let issue = match request.status {
        Some(_) => update_issues(&state, std::slice::from_ref(&issue), &request)
            .await?
            .ok_or_else(ApiError::not_found)?,
        None => issue,
    };
    Ok(Json(issue_json(
        &issue,
        &project,
        &org.slug,
        &state.public_url,
    )))
}

/// `DELETE` of an issue (either path): 202, as Sentry answers; its events
/// stay in the event store until retention removes them, unreachable.
pub async fn delete_issue(
    State(state): State<AppState>,
    auth: ApiAuth,
    Path(path): Path<IssuePath>,
) -> Result<StatusCode, ApiError> {
    auth.require_scope("event:admin")?;
    let (issue, _, _) = visible_issue(&state, &auth, &path).await?;
    state.metadata.delete_issues(&[issue.id]).await?;
    Ok(StatusCode::ACCEPTED)
}
