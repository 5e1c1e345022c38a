//! The issue page, `/organizations/{org}/issues/{id}/` (its latest event)
//! and `.../events/{event_id|latest|oldest}/`: the issue's summary, tag
//! facets (`.../tags/`, framed), one event in full with links to its neighbours, the grouping
//! information, and the resolve, ignore and unresolve buttons. It runs the
//! web API's queries ([`issue_event_filter`], [`event_grouping`],
//! [`update_issues`]).

use askama::Template;
use axum::extract::{Path, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use sentry_core::protocol::Timestamp;
use sentry_core::store::{
    EventPick, EventStore, Issue, IssueStatus, MetadataStore, Organization, Project, StoredEvent,
    UserReportQuery, UserReportStore,
};
use sentry_core::{EventId, IssueId};
use serde::Deserialize;

use crate::auth::{form_pairs, param};
use crate::routes::events::{deserialize, event_grouping, issue_event_filter};
use crate::routes::issue_bulk::update_issues;
use crate::routes::issue_list::issue_series;
use crate::routes::model::short_id;
use crate::routes::tags::key_label;
use crate::state::AppState;
use crate::ui::error_page::UiError;
use crate::ui::event_nav::{newer_event, older_event};
use crate::ui::event_view::{EventView, event_view};
use crate::ui::format::{compact_count, date_time, time_ago};
use crate::ui::grouping_view::{VariantView, variants};
use crate::ui::issue_list::action_request;
use crate::ui::page::{Chrome, render, see_other};
use crate::ui::session::WebUser;
use crate::ui::sparkline;

/// Values shown per tag key.
const TOP_VALUES: u64 = 5;

/// The path of an issue page.
#[derive(Debug, Deserialize)]
pub struct IssuePagePath {
    /// The organization slug.
    pub org: String,
    /// The issue id.
    pub issue_id: String,
    /// An event id, `latest` or `oldest`.
    pub event: Option<String>,
}

/// A tag value with its share of the issue's events.
#[derive(Debug, Clone)]
pub struct FacetValue {
    /// The value.
    pub value: String,
    /// Its share, in whole percent.
    pub percent: u64,
    /// Its events, compact.
    pub count: String,
}

/// A tag key with its most frequent values.
#[derive(Debug, Clone)]
pub struct FacetView {
    /// The key.
    pub key: String,
    /// The label Sentry shows for it.
    pub label: String,
    /// The most frequent values.
    pub values: Vec<FacetValue>,
}

/// Links between the issue's events; empty when there is none that way.
#[derive(Debug, Clone, Default)]
pub struct EventLinks {
    /// The latest event.
    pub latest: String,
    /// The oldest event.
    pub oldest: String,
    /// The event before this one (older).
    pub older: String,
    /// The event after this one (newer).
    pub newer: String,
}

/// The shown event's own facts.
#[derive(Debug, Clone, Default)]
pub struct EventHeader {
    /// Its id.
    pub id: String,
    /// When it happened.
    pub date: String,
    /// Its tags.
    pub tags: Vec<(String, String)>,
}

/// A piece of user feedback as the issue page shows it.
pub struct FeedbackView {
    /// Who wrote it: name and email as given.
    pub author: String,
    /// What they wrote.
    pub comments: String,
    /// When it came.
    pub date: String,
    /// The event it is about, when known.
    pub event_link: String,
}

/// The most pieces of feedback the issue page shows.
const FEEDBACK_SHOWN: usize = 10;

#[derive(Template)]
#[template(path = "ui/issue_detail.html")]
struct IssuePage {
    chrome: Chrome,
    short_id: String,
    project: String,
    title: String,
    ty: String,
    value: String,
    culprit: String,
    level: &'static str,
    status: &'static str,
    status_note: String,
    first_seen: String,
    first_seen_ago: String,
    last_seen: String,
    last_seen_ago: String,
    count: String,
    users: String,
    release: String,
    tags_path: String,
    has_event: bool,
    header: EventHeader,
    links: EventLinks,
    event: EventView,
    variants: Vec<VariantView>,
    feedback: Vec<FeedbackView>,
    action: String,
    list: String,
    api_json: String,
}

/// Loads an issue of an organization the user may see, with its project.
async fn org_issue(
    state: &AppState,
    user: &WebUser,
    org_slug: &str,
    issue_id: &str,
) -> Result<(Organization, Issue, Project), UiError> {
    let org = user.organization(state, org_slug).await?;
    let id: IssueId = issue_id.parse().map_err(|_| UiError::not_found())?;
    let issue = state
        .metadata
        .issue(id)
        .await?
        .ok_or_else(UiError::not_found)?;
    let project = state
        .metadata
        .project(issue.project_id)
        .await?
        .filter(|project| project.org_id == org.id)
        .ok_or_else(UiError::not_found)?;
    Ok((org, issue, project))
}

/// The event a page asks for: latest by default.
async fn chosen_event(
    state: &AppState,
    issue: &Issue,
    event: Option<&str>,
) -> Result<Option<StoredEvent>, UiError> {
    let stored = match event {
        None | Some("latest" | "recommended") => {
            state.events.issue_event(issue, EventPick::Latest).await?
        }
        Some("oldest") => state.events.issue_event(issue, EventPick::Oldest).await?,
        Some(text) => {
            let id: EventId = text.parse().map_err(|_| UiError::not_found())?;
            let stored = state
                .events
                .event(issue.project_id, id)
                .await?
                .filter(|stored| stored.issue_id == issue.id);
            Some(stored.ok_or_else(UiError::not_found)?)
        }
    };
    Ok(stored)
}

fn facet_views(facets: Vec<sentry_core::store::TagFacet>) -> Vec<FacetView> {
    facets
        .into_iter()
        .map(|facet| {
            let total = facet.total.max(1);
            FacetView {
                label: key_label(&facet.key),
                key: facet.key,
                values: facet
                    .top
                    .into_iter()
                    .map(|value| FacetValue {
                        percent: value.count * 100 / total,
                        count: compact_count(value.count),
                        value: value.value,
                    })
                    .collect(),
            }
        })
        .collect()
}

fn status_note(issue: &Issue) -> String {
    let details = &issue.status_details;
    match issue.status {
        IssueStatus::Resolved => match &details.resolved_in_release {
            Some(release) => format!("Resolved in the release after {release}"),
            None => "Resolved".to_owned(),
        },
        IssueStatus::Ignored => match details.ignore_until {
            Some(until) => format!("Ignored until {}", date_time(until)),
            None => "Ignored".to_owned(),
        },
        IssueStatus::Unresolved => String::new(),
    }
}

/// `GET /organizations/{org}/issues/{id}/` and `.../events/{event}/`.
pub async fn issue_page(
    State(state): State<AppState>,
    user: WebUser,
    Path(path): Path<IssuePagePath>,
) -> Result<Response, UiError> {
    let (org, issue, project) = org_issue(&state, &user, &path.org, &path.issue_id).await?;
    let now = Timestamp::now();
    let base = format!("/organizations/{}/issues/{}/", org.slug, issue.id);
    let stored = chosen_event(&state, &issue, path.event.as_deref()).await?;
    let mut page_event = EventView::default();
    let mut header = EventHeader::default();
    let mut links = EventLinks::default();
    let mut grouping_variants = Vec::new();
    let mut release = String::new();
    let mut api_json = String::new();
    if let Some(stored) = &stored {
        let mut event = deserialize(stored)?;
        page_event = event_view(&event, &stored.payload);
        release = event.release.clone().unwrap_or_default();
        header = EventHeader {
            id: stored.event_id.to_string(),
            date: date_time(stored.timestamp),
            tags: stored.tags.clone(),
        };
        let event_link = |event: &StoredEvent| format!("{base}events/{}/", event.event_id);
        links = EventLinks {
            latest: format!("{base}events/latest/"),
            oldest: format!("{base}events/oldest/"),
            older: older_event(&state, &issue, stored)
                .await?
                .as_ref()
                .map(event_link)
                .unwrap_or_default(),
            newer: newer_event(&state, &issue, stored)
                .await?
                .as_ref()
                .map(event_link)
                .unwrap_or_default(),
        };
        grouping_variants = variants(&event_grouping(&state, &project, &mut event).await?);
        api_json = format!(
            "/api/0/projects/{}/{}/events/{}/",
            org.slug, project.slug, stored.event_id
        );
    }
    let reports = state
        .metadata
        .user_reports(&UserReportQuery {
            project_id: project.id,
            issue_id: Some(issue.id),
            before: None,
            limit: FEEDBACK_SHOWN,
        })
        .await?;
    let feedback = reports
        .into_iter()
        .map(|report| FeedbackView {
            author: match (report.name.is_empty(), report.email.is_empty()) {
                (false, false) => format!("{} <{}>", report.name, report.email),
                (false, true) => report.name,
                (true, false) => report.email,
                (true, true) => "Anonymous".to_owned(),
            },
            comments: report.comments,
            date: date_time(report.date_created),
            event_link: report
                .event_id
                .map(|event_id| format!("{base}events/{event_id}/"))
                .unwrap_or_default(),
        })
        .collect();
    let (ty, value) = match (&issue.metadata.ty, &issue.metadata.value) {
        (Some(ty), value) => (ty.clone(), value.clone().unwrap_or_default()),
        (None, _) => (issue.title.clone(), String::new()),
    };
    let page = IssuePage {
        chrome: Chrome::new(&user, &org, "issues"),
        short_id: short_id(&project.slug, issue.short_number),
        project: project.slug.clone(),
        title: issue.title.clone(),
        ty,
        value,
        culprit: issue.culprit.clone(),
        level: issue.level.as_str(),
        status: issue.status.as_str(),
        status_note: status_note(&issue),
        first_seen: date_time(issue.first_seen),
        first_seen_ago: time_ago(issue.first_seen, now),
        last_seen: date_time(issue.last_seen),
        last_seen_ago: time_ago(issue.last_seen, now),
        count: compact_count(issue.times_seen),
        users: compact_count(issue.user_count),
        release,
        tags_path: format!("{base}tags/"),
        has_event: stored.is_some(),
        header,
        links,
        event: page_event,
        variants: grouping_variants,
        feedback,
        action: format!("{base}status/"),
        list: format!(
            "/organizations/{}/issues/?project={}",
            org.slug, project.id.0
        ),
        api_json,
    };
    render(&page)
}

#[derive(Template)]
#[template(path = "ui/issue_tags.html")]
struct TagsPage {
    facets: Vec<FacetView>,
}

/// `GET /organizations/{org}/issues/{id}/tags/`: each tag key of the
/// issue's events with its most frequent values, the API's tag facets; the
/// issue page shows it in its side column (a frame of its own, so that
/// the page does not wait for the facets of a busy issue).
pub async fn tags_panel(
    State(state): State<AppState>,
    user: WebUser,
    Path(path): Path<IssuePagePath>,
) -> Result<Response, UiError> {
    let (_, issue, _) = org_issue(&state, &user, &path.org, &path.issue_id).await?;
    let filter = issue_event_filter(&issue, &[])?;
    let facets = facet_views(state.events.tag_facets(&filter, &[], TOP_VALUES).await?);
    let mut response = render(&TagsPage { facets })?;
    // Framed by this server's own issue page only.
    response.headers_mut().insert(
        "x-frame-options",
        axum::http::HeaderValue::from_static("SAMEORIGIN"),
    );
    Ok(response)
}

/// `GET /organizations/{org}/issues/{id}/sparkline.svg`: the issue's
/// events per hour over the last 24 hours, as the issue list's chart.
pub async fn sparkline_image(
    State(state): State<AppState>,
    user: WebUser,
    Path(path): Path<IssuePagePath>,
) -> Result<Response, UiError> {
    let (_, issue, _) = org_issue(&state, &user, &path.org, &path.issue_id).await?;
    let series = issue_series(&state, &issue, 24, 3600, Timestamp::now()).await?;
    let counts: Vec<u64> = series.iter().map(|(_, count)| *count).collect();
    Ok((
        [
            (CONTENT_TYPE, "image/svg+xml"),
            (CACHE_CONTROL, "private, max-age=60"),
        ],
        sparkline::svg(&counts),
    )
        .into_response())
}

/// `POST /organizations/{org}/issues/{id}/status/`: `action` (resolve,
/// ignore, unresolve), then back to the issue.
pub async fn update_status(
    State(state): State<AppState>,
    user: WebUser,
    Path(path): Path<IssuePagePath>,
    body: axum::body::Bytes,
) -> Result<Response, UiError> {
    let form = form_pairs(std::str::from_utf8(&body).unwrap_or_default());
    user.check_csrf(&form)?;
    let (org, issue, _) = org_issue(&state, &user, &path.org, &path.issue_id).await?;
    let request = action_request(param(&form, "action"))?;
    update_issues(&state, std::slice::from_ref(&issue), &request).await?;
    Ok(see_other(&format!(
        "/organizations/{}/issues/{}/",
        org.slug, issue.id
    )))
}
