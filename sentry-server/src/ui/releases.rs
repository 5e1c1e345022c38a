//! The releases page, `/organizations/{org}/releases/`: each release with
//! its projects, when it was created and its last event, as the web API's
//! release listing gives them ([`release_json`]).

use askama::Template;
use axum::extract::{Path, RawQuery, State};
use axum::response::Response;
use sentry_core::protocol::Timestamp;
use sentry_core::store::{MetadataStore, ReleaseQuery};

use crate::auth::{form_pairs, param};
use crate::routes::pagination::OffsetPage;
use crate::routes::releases::release_json;
use crate::state::AppState;
use crate::ui::error_page::UiError;
use crate::ui::format::time_ago;
use crate::ui::page::{Chrome, render, with_query};
use crate::ui::session::WebUser;

/// Releases per page.
const PAGE_SIZE: u64 = 25;

/// A release as a row.
#[derive(Debug, Clone)]
pub struct ReleaseRow {
    /// Its version.
    pub version: String,
    /// The slugs of its projects, comma-separated.
    pub projects: String,
    /// When it was created, relative.
    pub created: String,
    /// When its last event came, relative, or empty.
    pub last_event: String,
    /// How many deploys it has.
    pub deploys: u64,
}

#[derive(Template)]
#[template(path = "ui/releases.html")]
struct ReleasesPage {
    chrome: Chrome,
    query: String,
    rows: Vec<ReleaseRow>,
    previous: String,
    next: String,
}

fn relative(value: &serde_json::Value, now: Timestamp) -> String {
    value
        .as_str()
        .and_then(Timestamp::parse_rfc3339)
        .map(|time| time_ago(time, now))
        .unwrap_or_default()
}

/// `GET /organizations/{org}/releases/`: `query` (text in the version), `cursor`.
pub async fn releases_page(
    State(state): State<AppState>,
    user: WebUser,
    Path(org_slug): Path<String>,
    RawQuery(raw): RawQuery,
) -> Result<Response, UiError> {
    let org = user.organization(&state, &org_slug).await?;
    let params = form_pairs(raw.as_deref().unwrap_or_default());
    let page = OffsetPage::from_params(&params, PAGE_SIZE, PAGE_SIZE)?;
    let query = param(&params, "query").unwrap_or_default().to_owned();
    let found = state
        .metadata
        .releases(&ReleaseQuery {
            org_id: org.id,
            project_ids: Vec::new(),
            query: Some(query.clone()).filter(|text| !text.is_empty()),
            offset: page.cursor.offset,
            limit: page.limit,
        })
        .await?;
    let now = Timestamp::now();
    let mut rows = Vec::with_capacity(found.items.len());
    for release in &found.items {
        let json = release_json(&state, release).await?;
        rows.push(ReleaseRow {
            version: release.version.clone(),
            projects: json["projects"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|project| project["slug"].as_str())
                .collect::<Vec<_>>()
                .join(", "),
            created: time_ago(release.date_created, now),
            last_event: relative(&json["lastEvent"], now),
            deploys: json["deployCount"].as_u64().unwrap_or(0),
        });
    }
    let base = format!("/organizations/{}/releases/", org.slug);
    let offset = page.cursor.offset;
    let link =
        |cursor: String| with_query(&base, &[("query", query.as_str()), ("cursor", &cursor)]);
    render(&ReleasesPage {
        chrome: Chrome::new(&user, &org, "releases"),
        previous: if offset > 0 {
            link(format!("0:{}:1", offset.saturating_sub(PAGE_SIZE)))
        } else {
            String::new()
        },
        next: if found.has_more {
            link(format!("0:{}:0", offset + PAGE_SIZE))
        } else {
            String::new()
        },
        query,
        rows,
    })
}
