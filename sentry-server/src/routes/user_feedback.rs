//! User feedback in Sentry's web API: a project's, newest first with
//! cursors, and an issue's.

use axum::Json;
use axum::extract::{Path, RawQuery, State};
use axum::http::HeaderMap;
use sentry_core::store::{Project, UserReport, UserReportQuery, UserReportStore};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::auth::{ApiAuth, form_pairs};
use crate::error::ApiError;
use crate::routes::issues::{IssuePath, visible_issue};
use crate::routes::pagination::{link_header, parse_event_cursor, time_id_cursor};
use crate::routes::projects::visible_project;
use crate::state::AppState;

/// Largest page of feedback.
const MAX_PER_PAGE: usize = 100;

/// The path of a project's feedback.
#[derive(Deserialize)]
pub struct ProjectPath {
    org: String,
    project: String,
}

fn report_json(report: &UserReport) -> Value {
    let event_id = report.event_id.map(|id| id.to_string());
    json!({
        "id": report.id.to_string(),
        "eventID": event_id,
        "name": report.name,
        "email": report.email,
        "comments": report.comments,
        "dateCreated": report.date_created.to_rfc3339(),
        "user": null,
        "event": {"id": event_id, "eventID": event_id},
        "issue": report.issue_id.map(|id| json!({"id": id.to_string()})),
        "environment": report.environment,
    })
}

/// Lists a page of a project's (or an issue's) feedback, with `Link`.
async fn page(
    state: &AppState,
    project: &Project,
    issue_id: Option<sentry_core::IssueId>,
    base: String,
    query: Option<String>,
) -> Result<(HeaderMap, Json<Value>), ApiError> {
    let params = form_pairs(query.as_deref().unwrap_or(""));
    let cursor = params
        .iter()
        .find(|(name, _)| name == "cursor")
        .map(|(_, value)| parse_event_cursor(value))
        .transpose()?
        .flatten();
    let limit = params
        .iter()
        .find(|(name, _)| name == "per_page")
        .and_then(|(_, value)| value.parse::<usize>().ok())
        .unwrap_or(MAX_PER_PAGE)
        .clamp(1, MAX_PER_PAGE);
    let mut reports = state
        .metadata
        .user_reports(&UserReportQuery {
            project_id: project.id,
            issue_id,
            before: cursor.map(|cursor| (cursor.timestamp, cursor.event_id)),
            limit: limit + 1,
        })
        .await?;
    let has_more = reports.len() > limit;
    reports.truncate(limit);
    let next = reports.last().map_or_else(String::new, |last| {
        time_id_cursor(last.date_created, last.id)
    });
    let headers = link_header(&base, &params, ("", false), (&next, has_more));
    Ok((headers, Json(reports.iter().map(report_json).collect())))
}

/// `GET /api/0/projects/{org}/{project}/user-feedback/`.
pub async fn project_feedback(
    State(state): State<AppState>,
    auth: ApiAuth,
    Path(path): Path<ProjectPath>,
    RawQuery(query): RawQuery,
) -> Result<(HeaderMap, Json<Value>), ApiError> {
    auth.require_scope("project:read")?;
    let (org, project) = visible_project(&state, &auth, &path.org, &path.project).await?;
    let base = format!(
        "{}/api/0/projects/{}/{}/user-feedback/",
        state.public_url, org.slug, project.slug
    );
    page(&state, &project, None, base, query).await
}

/// `GET /api/0/issues/{id}/user-feedback/` (or the organization path).
pub async fn issue_feedback(
    State(state): State<AppState>,
    auth: ApiAuth,
    Path(path): Path<IssuePath>,
    RawQuery(query): RawQuery,
) -> Result<(HeaderMap, Json<Value>), ApiError> {
    auth.require_scope("event:read")?;
    let (issue, project, _) = visible_issue(&state, &auth, &path).await?;
    let base = format!(
        "{}/api/0/issues/{}/user-feedback/",
        state.public_url, issue.id
    );
    page(&state, &project, Some(issue.id), base, query).await
}
