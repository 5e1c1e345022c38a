//! The issue list, `/organizations/{org}/issues/`: a search box in the
//! issue search syntax, status tabs, sort, pagination, each issue's
//! counts and a chart of its last 24 hours (an image of its own, see
//! [`crate::ui::sparkline`]), and bulk resolve, ignore and unresolve. It
//! runs the web API's queries ([`search_issues`], [`selected_issues`],
//! [`update_issues`]).

use askama::Template;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use sentry_core::IssueId;
use sentry_core::protocol::Timestamp;
use sentry_core::store::{Issue, IssueStatus, MetadataStore, Project};

use crate::auth::{form_pairs, param};
use crate::routes::issue_bulk::{selected_issues, update_issues};
use crate::routes::issue_list::{search_issues, sort};
use crate::routes::issue_update::StatusRequest;
use crate::routes::model::short_id;
use crate::routes::pagination::OffsetPage;
use crate::search::IssueSearch;
use crate::state::AppState;
use crate::ui::error_page::UiError;
use crate::ui::format::{age, compact_count, time_ago};
use crate::ui::page::{Chrome, local_path, render_with, see_other, with_query};
use crate::ui::session::WebUser;

/// Issues per page.
const PAGE_SIZE: u64 = 25;
/// The query of the list when none is given, as in Sentry.
const DEFAULT_QUERY: &str = "is:unresolved";
/// The sorts offered, with their labels.
const SORTS: [(&str, &str); 4] = [
    ("date", "Last Seen"),
    ("new", "First Seen"),
    ("freq", "Events"),
    ("user", "Users"),
];

/// An issue as a row of the list.
#[derive(Debug, Clone)]
pub struct IssueRow {
    /// Its id.
    pub id: IssueId,
    /// `PROJECT-1A`.
    pub short_id: String,
    /// The exception type or title.
    pub ty: String,
    /// The exception value, beside the type.
    pub value: String,
    /// Where it happened.
    pub culprit: String,
    /// Its level.
    pub level: &'static str,
    /// Its status.
    pub status: &'static str,
    /// Its project's slug.
    pub project: String,
    /// Events, compact.
    pub count: String,
    /// Users, compact.
    pub users: String,
    /// When it was last seen, relative.
    pub last_seen: String,
    /// How old it is.
    pub first_seen: String,
    /// The URL of the chart of its events over 24 hours.
    pub sparkline: String,
}

/// A status tab.
#[derive(Debug, Clone)]
pub struct Tab {
    /// Its label.
    pub label: &'static str,
    /// Its link.
    pub href: String,
    /// Whether the list shows it.
    pub active: bool,
}

#[derive(Template)]
#[template(path = "ui/issue_list.html")]
struct IssueListPage {
    chrome: Chrome,
    query: String,
    error: String,
    tabs: Vec<Tab>,
    sorts: Vec<(&'static str, &'static str, bool)>,
    projects: Vec<(u64, String, bool)>,
    rows: Vec<IssueRow>,
    previous: String,
    next: String,
    first_index: u64,
    last_index: u64,
    here: String,
    bulk_action: String,
}

/// The query with its `is:` term replaced by a status.
pub fn with_status(query: &str, status: IssueStatus) -> String {
    let mut terms = vec![format!("is:{}", status.as_str())];
    terms.extend(
        query
            .split_whitespace()
            .filter(|term| !term.starts_with("is:"))
            .map(str::to_owned),
    );
    terms.join(" ")
}

fn row(issue: &Issue, project: Option<&Project>, org_slug: &str, now: Timestamp) -> IssueRow {
    let slug = project
        .map(|project| project.slug.clone())
        .unwrap_or_default();
    let (ty, value) = match (&issue.metadata.ty, &issue.metadata.value) {
        (Some(ty), value) => (ty.clone(), value.clone().unwrap_or_default()),
        (None, _) => (issue.title.clone(), String::new()),
    };
    IssueRow {
        id: issue.id,
        short_id: short_id(&slug, issue.short_number),
        ty,
        value,
        culprit: issue.culprit.clone(),
        level: issue.level.as_str(),
        status: issue.status.as_str(),
        project: slug,
        count: compact_count(issue.times_seen),
        users: compact_count(issue.user_count),
        last_seen: time_ago(issue.last_seen, now),
        first_seen: age(issue.first_seen, now),
        sparkline: format!(
            "/organizations/{org_slug}/issues/{}/sparkline.svg",
            issue.id
        ),
    }
}

/// `GET /organizations/{org}/issues/`: `query`, `sort`, `project` (an id),
/// `cursor`.
pub async fn issue_list(
    State(state): State<AppState>,
    user: WebUser,
    Path(org_slug): Path<String>,
    RawQuery(raw_query): RawQuery,
) -> Result<Response, UiError> {
    let org = user.organization(&state, &org_slug).await?;
    let params = form_pairs(raw_query.as_deref().unwrap_or_default());
    let all_projects = state.metadata.projects(org.id).await?;
    let project_param = param(&params, "project").unwrap_or_default().to_owned();
    let projects: Vec<Project> = all_projects
        .iter()
        .filter(|project| project_param.is_empty() || project.id.0.to_string() == project_param)
        .cloned()
        .collect();
    let query = param(&params, "query").unwrap_or(DEFAULT_QUERY).to_owned();
    let sort_name = param(&params, "sort").unwrap_or("date").to_owned();
    let order = sort(&params)?;
    let page = OffsetPage::from_params(&params, PAGE_SIZE, PAGE_SIZE)?;
    let now = Timestamp::now();
    let base = format!("/organizations/{}/issues/", org.slug);
    let link = |query: &str, cursor: &str| {
        with_query(
            &base,
            &[
                ("project", project_param.as_str()),
                ("query", query),
                (
                    "sort",
                    if sort_name == "date" {
                        ""
                    } else {
                        sort_name.as_str()
                    },
                ),
                ("cursor", cursor),
            ],
        )
    };
    let (search, error) = match IssueSearch::parse(Some(&query), now) {
        Ok(search) => (Some(search), String::new()),
        Err(error) => (None, error.detail().to_owned()),
    };
    let status = search.as_ref().and_then(|search| search.status);
    let mut rows = Vec::new();
    let mut has_more = false;
    if let (Some(search), false) = (search, projects.is_empty()) {
        let project_ids = projects.iter().map(|project| project.id).collect();
        let found = search_issues(
            &state,
            project_ids,
            search,
            order,
            page.cursor.offset,
            page.limit,
        )
        .await?;
        has_more = found.has_more;
        for issue in &found.items {
            let project = projects
                .iter()
                .find(|project| project.id == issue.project_id);
            rows.push(row(issue, project, &org.slug, now));
        }
    }
    let offset = page.cursor.offset;
    let count = u64::try_from(rows.len()).unwrap_or(0);
    let tabs = [
        ("Unresolved", IssueStatus::Unresolved),
        ("Resolved", IssueStatus::Resolved),
        ("Ignored", IssueStatus::Ignored),
    ]
    .into_iter()
    .map(|(label, tab_status)| Tab {
        label,
        href: link(&with_status(&query, tab_status), ""),
        active: status == Some(tab_status),
    })
    .collect();
    let here = link(&query, &raw_cursor(&params));
    let page_view = IssueListPage {
        chrome: Chrome::new(&user, &org, "issues"),
        tabs,
        sorts: SORTS
            .iter()
            .map(|(name, label)| (*name, *label, *name == sort_name))
            .collect(),
        projects: all_projects
            .iter()
            .map(|project| {
                (
                    project.id.0,
                    project.slug.clone(),
                    project.id.0.to_string() == project_param,
                )
            })
            .collect(),
        previous: if offset > 0 {
            link(&query, &format!("0:{}:1", offset.saturating_sub(PAGE_SIZE)))
        } else {
            String::new()
        },
        next: if has_more {
            link(&query, &format!("0:{}:0", offset + PAGE_SIZE))
        } else {
            String::new()
        },
        first_index: if count == 0 { 0 } else { offset + 1 },
        last_index: offset + count,
        rows,
        bulk_action: format!("/organizations/{}/issues/bulk/", org.slug),
        here,
        query,
        error: error.clone(),
    };
    let status_code = if error.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::BAD_REQUEST
    };
    render_with(status_code, &page_view)
}

fn raw_cursor(params: &[(String, String)]) -> String {
    param(params, "cursor").unwrap_or_default().to_owned()
}

/// The update a bulk or issue form's `action` asks for.
///
/// # Errors
///
/// 400 for an unknown action.
pub fn action_request(action: Option<&str>) -> Result<StatusRequest, UiError> {
    let status = match action {
        Some("resolve") => IssueStatus::Resolved,
        Some("ignore") => IssueStatus::Ignored,
        Some("unresolve") => IssueStatus::Unresolved,
        _ => {
            return Err(UiError::bad_request(
                "Unknown action: use resolve, ignore or unresolve.",
            ));
        }
    };
    Ok(StatusRequest {
        status: Some(status),
        ..StatusRequest::default()
    })
}

/// `POST /organizations/{org}/issues/bulk/`: `action` on the issues `id`
/// (repeatable) of the organization, chosen as the bulk API chooses them,
/// then back to `next`; without any `id`, nothing changes.
pub async fn bulk_update(
    State(state): State<AppState>,
    user: WebUser,
    Path(org_slug): Path<String>,
    body: axum::body::Bytes,
) -> Result<Response, UiError> {
    let form = form_pairs(std::str::from_utf8(&body).unwrap_or_default());
    user.check_csrf(&form)?;
    let org = user.organization(&state, &org_slug).await?;
    let request = action_request(param(&form, "action"))?;
    let fallback = format!("/organizations/{}/issues/", org.slug);
    let back = local_path(param(&form, "next"))
        .unwrap_or(&fallback)
        .to_owned();
    // Only the checked rows: without any, the API's selection would be every issue.
    if !form.iter().any(|(name, _)| name == "id") {
        return Ok(see_other(&back));
    }
    let projects = state.metadata.projects(org.id).await?;
    let issues = selected_issues(&state, &projects, &form).await?;
    update_issues(&state, &issues, &request).await?;
    Ok(see_other(&back))
}

#[cfg(test)]
mod tests {
    use sentry_core::store::IssueSort;

    use super::*;

    #[test]
    fn tabs_replace_the_status_term() {
        assert_eq!(
            with_status("is:unresolved level:error  boom", IssueStatus::Resolved),
            "is:resolved level:error boom"
        );
        assert_eq!(with_status("", IssueStatus::Ignored), "is:ignored");
    }

    #[test]
    fn actions_are_resolve_ignore_unresolve() {
        assert_eq!(
            action_request(Some("resolve")).unwrap().status,
            Some(IssueStatus::Resolved)
        );
        assert_eq!(
            action_request(Some("ignore")).unwrap().status,
            Some(IssueStatus::Ignored)
        );
        assert_eq!(
            action_request(Some("unresolve")).unwrap().status,
            Some(IssueStatus::Unresolved)
        );
        assert!(action_request(Some("delete")).is_err());
        assert!(action_request(None).is_err());
    }

    #[test]
    fn offers_the_api_sorts() {
        for (name, _) in SORTS {
            let chosen = sort(&[("sort".to_owned(), name.to_owned())]);
            assert!(chosen.is_ok(), "{name}");
        }
        assert_eq!(
            sort(&[("sort".to_owned(), "freq".to_owned())]).unwrap(),
            IssueSort::TimesSeen
        );
    }
}
