//! Events in Sentry's web API: an issue's events (newest first, with
//! cursors), its latest and oldest, and an event by id.

use axum::Json;
use axum::extract::{Path, RawQuery, State};
use axum::response::{IntoResponse, Response};
use sentry_core::grouping;
use sentry_core::protocol::Timestamp;
use sentry_core::store::{
    EventFilter, EventPick, EventStore, Issue, Project, StoredEvent, TagFilter,
};
use sentry_core::{Event, EventId};
use serde_json::{Map, Value};

use crate::auth::{ApiAuth, form_pairs};
use crate::error::ApiError;
use crate::routes::issues::{IssuePath, visible_issue};
use crate::routes::model::event_json;
use crate::routes::pagination::{event_cursor_after, link_header, parse_event_cursor};
use crate::routes::projects::visible_project;
use crate::search::IssueSearch;
use crate::state::AppState;

/// Largest page of an issue's events, as in Sentry.
const MAX_EVENTS_PER_PAGE: u64 = 100;

/// The fields of an event in a listing without `full=true`, as Sentry's
/// simple event serializer gives them.
const SUMMARY_FIELDS: [&str; 12] = [
    "id",
    "eventID",
    "groupID",
    "projectID",
    "title",
    "message",
    "platform",
    "dateCreated",
    "tags",
    "user",
    "location",
    "culprit",
];

/// Reads a stored event's payload; a payload that does not read is logged
/// and answered 500.
///
/// # Errors
///
/// 500 when the payload is not an event.
pub fn deserialize(stored: &StoredEvent) -> Result<Event, ApiError> {
    serde_json::from_slice(&stored.payload).map_err(|e| {
        tracing::error!(event_id = %stored.event_id, error = %e, "stored event does not deserialize");
        ApiError::new(axum::http::StatusCode::INTERNAL_SERVER_ERROR, "internal error")
    })
}

fn render(stored: &StoredEvent, project: &Project) -> Result<Json<Value>, ApiError> {
    let event = deserialize(stored)?;
    Ok(Json(event_json(stored, &event, project)))
}

/// `GET /api/0/issues/{id}/events/{latest|oldest|recommended}/` (or the
/// organization path).
pub async fn issue_event(
    State(state): State<AppState>,
    auth: ApiAuth,
    Path(path): Path<IssuePath>,
) -> Result<Json<Value>, ApiError> {
    let pick = match path.pick.as_deref() {
        Some("latest" | "recommended") => EventPick::Latest,
        Some("oldest") => EventPick::Oldest,
        _ => return Err(ApiError::not_found()),
    };
    auth.require_scope("event:read")?;
    let (issue, project, _) = visible_issue(&state, &auth, &path).await?;
    let stored = state
        .events
        .issue_event(&issue, pick)
        .await?
        .ok_or_else(ApiError::not_found)?;
    render(&stored, &project)
}

/// The events of an issue that a request's `query` (tag conditions only)
/// and `environment` parameters select.
///
/// # Errors
///
/// 400 for free text in `query` (events are searched by tag) or a bad query.
pub fn issue_event_filter(
    issue: &Issue,
    params: &[(String, String)],
) -> Result<EventFilter, ApiError> {
    let mut filter = EventFilter::issue(issue.project_id, issue.id);
    for (name, value) in params {
        match name.as_str() {
            "query" => {
                let search = IssueSearch::parse(Some(value), Timestamp::now())?;
                let only_tags = IssueSearch {
                    tags: Vec::new(),
                    ..search.clone()
                } == IssueSearch::default();
                if !only_tags {
                    return Err(ApiError::bad_request(
                        "Invalid search query: events are searched by tag (key:value)",
                    ));
                }
                filter.tags.extend(search.tags);
            }
            "environment" if !value.is_empty() => filter.tags.push(TagFilter {
                key: "environment".to_owned(),
                value: Some(value.clone()),
                negated: false,
            }),
            _ => {}
        }
    }
    Ok(filter)
}

/// `GET /api/0/issues/{id}/events/` (or the organization path): newest
/// first, 100 a page, `Link` cursors; `query` (tag conditions),
/// `environment`, `limit`, `full`.
pub async fn issue_events(
    State(state): State<AppState>,
    auth: ApiAuth,
    Path(path): Path<IssuePath>,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    auth.require_scope("event:read")?;
    let (issue, project, org_record) = visible_issue(&state, &auth, &path).await?;
    let params = form_pairs(query.as_deref().unwrap_or_default());
    let param = |name: &str| {
        params
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    };
    let filter = issue_event_filter(&issue, &params)?;
    let limit = match param("limit").or(param("per_page")) {
        Some(text) => text
            .parse::<u64>()
            .map_err(|_| ApiError::bad_request("limit must be a number"))?
            .clamp(1, MAX_EVENTS_PER_PAGE),
        None => MAX_EVENTS_PER_PAGE,
    };
    let full = matches!(param("full"), Some("1" | "true"));
    let after = parse_event_cursor(param("cursor").unwrap_or_default())?;
    let page = state.events.list_events(&filter, after, limit).await?;
    let mut body = Vec::with_capacity(page.items.len());
    for stored in &page.items {
        let detail = event_json(stored, &deserialize(stored)?, &project);
        body.push(if full { detail } else { summary(detail) });
    }
    let base = match path.org {
        Some(_) => format!(
            "{}/api/0/organizations/{}/issues/{}/events/",
            state.public_url, org_record.slug, issue.id
        ),
        None => format!("{}/api/0/issues/{}/events/", state.public_url, issue.id),
    };
    let next = page
        .items
        .last()
        .map(event_cursor_after)
        .unwrap_or_default();
    let links = link_header(&base, &params, ("", false), (&next, page.has_more));
    Ok((links, Json(Value::Array(body))).into_response())
}

/// Keeps the fields of a listing entry, and adds `event.type`.
fn summary(detail: Value) -> Value {
    let Value::Object(mut fields) = detail else {
        return detail;
    };
    let event_type = fields.get("type").cloned().unwrap_or(Value::Null);
    let mut kept: Map<String, Value> = SUMMARY_FIELDS
        .iter()
        .filter_map(|name| {
            fields
                .remove(*name)
                .map(|value| ((*name).to_owned(), value))
        })
        .collect();
    kept.insert("event.type".to_owned(), event_type);
    Value::Object(kept)
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
    Ok(Json(
        event_grouping(&state, &project, &mut event)
            .await?
            .to_json(),
    ))
}

/// Groups a stored event again with its project's current rules, to show
/// which components contributed and why.
///
/// # Errors
///
/// Fails when the project's rules cannot be read.
pub async fn event_grouping(
    state: &AppState,
    project: &Project,
    event: &mut Event,
) -> Result<grouping::Grouping, ApiError> {
    let config = state
        .grouping
        .for_project(&state.metadata, project.id)
        .await?;
    Ok(grouping::prepare_and_group(event, &config))
}
