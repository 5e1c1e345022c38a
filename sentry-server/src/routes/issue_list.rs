//! Issue lists in Sentry's web API, of a project
//! (`/api/0/projects/{org}/{project}/issues/`) or of an organization
//! (`/api/0/organizations/{org}/issues/`, narrowed by `project` ids):
//! `query` in Sentry's search syntax ([`crate::search`]), `sort` (`date`,
//! `new`, `freq`, `user`), `limit` and `cursor` (`Link` headers), and
//! `statsPeriod` (`24h`, the default, or `14d`; empty for none): each
//! issue's event counts per hour or day over the period, as `stats`.

use axum::Json;
use axum::extract::{Path, RawQuery, State};
use axum::response::{IntoResponse, Response};
use sentry_core::ProjectId;
use sentry_core::protocol::Timestamp;
use sentry_core::store::{
    EventFilter, EventStore, Issue, IssueQuery, IssueSort, MetadataStore, Page, Project,
};
use serde_json::{Value, json};

use crate::auth::{ApiAuth, form_pairs, param};
use crate::error::ApiError;
use crate::routes::model::issue_json;
use crate::routes::organizations::org_projects;
use crate::routes::pagination::OffsetPage;
use crate::routes::projects::visible_project;
use crate::search::IssueSearch;
use crate::state::AppState;

/// Largest page of issues, as in Sentry.
const MAX_LIMIT: u64 = 100;
/// Page size when none is asked for, as in Sentry.
const DEFAULT_LIMIT: u64 = 25;

/// Reads `sort`; Sentry's default is `date`.
///
/// # Errors
///
/// 400 for an order other than `date`, `new`, `freq` and `user`.
pub fn sort(params: &[(String, String)]) -> Result<IssueSort, ApiError> {
    match param(params, "sort").unwrap_or("date") {
        "date" | "" => Ok(IssueSort::LastSeen),
        "new" => Ok(IssueSort::FirstSeen),
        "freq" => Ok(IssueSort::TimesSeen),
        "user" => Ok(IssueSort::UserCount),
        other => Err(ApiError::bad_request(format!(
            "sort: unknown order `{other}`; use date, new, freq or user"
        ))),
    }
}

/// The stats a `statsPeriod` asks for: its name, how many buckets, and
/// each bucket's length in seconds.
fn stats_period(params: &[(String, String)]) -> Result<Option<(&str, u64, u64)>, ApiError> {
    match param(params, "statsPeriod").unwrap_or("24h") {
        "" => Ok(None),
        "24h" => Ok(Some(("24h", 24, 3600))),
        "14d" => Ok(Some(("14d", 14, 86_400))),
        other => Err(ApiError::bad_request(format!(
            "statsPeriod: `{other}` is not one of '', '24h' and '14d'"
        ))),
    }
}

/// Finds the issues of some projects that a search matches, in an order:
/// tag conditions are about events, so the issues are those with a
/// matching event.
pub async fn search_issues(
    state: &AppState,
    project_ids: Vec<ProjectId>,
    search: IssueSearch,
    sort: IssueSort,
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
            first_seen: search.first_seen,
            last_seen: search.last_seen,
            times_seen: search.times_seen,
            sort,
            offset,
            limit,
        })
        .await?)
}

/// An issue's event counts per bucket of `seconds` over the `buckets`
/// buckets before `now`, oldest first, as (bucket start in seconds,
/// count) pairs; empty buckets count 0.
///
/// # Errors
///
/// Fails when the event store fails.
pub async fn issue_series(
    state: &AppState,
    issue: &Issue,
    buckets: u64,
    seconds: u64,
    now: Timestamp,
) -> Result<Vec<(i64, u64)>, ApiError> {
    let bucket_micros = i64::try_from(seconds.saturating_mul(1_000_000)).unwrap_or(i64::MAX);
    let now_micros = now.as_unix_micros();
    let last_start = now_micros - now_micros.rem_euclid(bucket_micros);
    let first_start = last_start
        .saturating_sub(bucket_micros.saturating_mul(i64::try_from(buckets).unwrap_or(0) - 1));
    let filter = EventFilter {
        start: Timestamp::from_unix_micros(first_start),
        ..EventFilter::issue(issue.project_id, issue.id)
    };
    let series = state.events.event_series(&filter, seconds).await?;
    let mut points = Vec::new();
    let mut start = first_start;
    while start <= last_start {
        let count = series
            .iter()
            .find(|bucket| bucket.start.as_unix_micros() == start)
            .map_or(0, |bucket| bucket.events);
        points.push((start / 1_000_000, count));
        start = start.saturating_add(bucket_micros);
    }
    Ok(points)
}

/// Answers a list request over some projects.
async fn list(
    state: &AppState,
    projects: &[Project],
    org_slug: &str,
    params: &[(String, String)],
    base: &str,
) -> Result<Response, ApiError> {
    let now = Timestamp::now();
    let search = IssueSearch::parse(param(params, "query"), now)?;
    let sort = sort(params)?;
    let stats = stats_period(params)?;
    let page_request = OffsetPage::from_params(params, DEFAULT_LIMIT, MAX_LIMIT)?;
    let project_ids = projects.iter().map(|project| project.id).collect();
    let page = search_issues(
        state,
        project_ids,
        search,
        sort,
        page_request.cursor.offset,
        page_request.limit,
    )
    .await?;
    let mut body = Vec::with_capacity(page.items.len());
    for issue in &page.items {
        let Some(project) = projects
            .iter()
            .find(|project| project.id == issue.project_id)
        else {
            continue;
        };
        let mut json = issue_json(issue, project, org_slug, &state.public_url);
        if let Some((name, buckets, seconds)) = stats {
            let series = issue_series(state, issue, buckets, seconds, now).await?;
            let points: Vec<Value> = series
                .iter()
                .map(|(start, count)| json!([start, count]))
                .collect();
            json["stats"] = json!({ name: points });
        }
        body.push(json);
    }
    let link = page_request.links(base, params, page.has_more);
    Ok((link, Json(body)).into_response())
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
    let base = format!(
        "{}/api/0/projects/{}/{}/issues/",
        state.public_url, org.slug, project.slug
    );
    list(&state, &[project], &org.slug, &params, &base).await
}

/// `GET /api/0/organizations/{org}/issues/`: over the projects named by
/// `project` (ids, repeatable), else all of the organization's.
pub async fn list_org_issues(
    State(state): State<AppState>,
    auth: ApiAuth,
    Path(org): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    auth.require_scope("event:read")?;
    let params = form_pairs(query.as_deref().unwrap_or_default());
    let projects = org_projects(&state, &auth, &org, &params).await?;
    let base = format!("{}/api/0/organizations/{org}/issues/", state.public_url);
    list(&state, &projects, &org, &params, &base).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
            .collect()
    }

    #[test]
    fn reads_sorts_and_periods() {
        assert_eq!(sort(&params(&[])).unwrap(), IssueSort::LastSeen);
        assert_eq!(
            sort(&params(&[("sort", "freq")])).unwrap(),
            IssueSort::TimesSeen
        );
        assert_eq!(
            sort(&params(&[("sort", "new")])).unwrap(),
            IssueSort::FirstSeen
        );
        assert_eq!(
            sort(&params(&[("sort", "user")])).unwrap(),
            IssueSort::UserCount
        );
        assert!(sort(&params(&[("sort", "priority; DROP TABLE issues")])).is_err());
        assert_eq!(stats_period(&params(&[])).unwrap(), Some(("24h", 24, 3600)));
        assert_eq!(stats_period(&params(&[("statsPeriod", "")])).unwrap(), None);
        assert!(stats_period(&params(&[("statsPeriod", "1y")])).is_err());
    }
}
