//! The web UI: server-rendered pages where people read and triage issues,
//! with no front-end build (a few lines of plain JavaScript add
//! conveniences; every page reads without it).
//!
//! People log in with accounts made by `sentry-server user create`
//! ([`login`], [`session`]); every form carries a CSRF token ([`csrf`]).
//! The pages run the same queries as the web API: the issue list
//! ([`issue_list`]), the issue page ([`issue_detail`]), project settings
//! ([`settings`]) and releases ([`releases`]) call the functions of
//! [`crate::routes`] that the API's handlers call. Templates
//! live in `sentry-server/templates/ui/` and compile with the binary.
//!
//! Paths follow Sentry's: `/organizations/{org}/issues/`,
//! `/organizations/{org}/issues/{id}/`, `/organizations/{org}/releases/`,
//! `/settings/{org}/projects/{project}/`, `/auth/login/`.

pub mod accounts;
pub mod assets;
pub mod csrf;
pub mod error_page;
pub mod event_nav;
pub mod event_view;
pub mod format;
pub mod grouping_view;
pub mod issue_detail;
pub mod issue_list;
pub mod login;
pub mod page;
pub mod password;
pub mod releases;
pub mod session;
pub mod settings;
pub mod sparkline;

use axum::Router;
use axum::routing::{get, post};

use crate::state::AppState;

/// The pages of the web UI.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(login::home))
        .route("/auth/login/", get(login::login_form).post(login::login))
        .route("/auth/logout/", post(login::logout))
        .route("/_static/ui.css", get(assets::stylesheet))
        .route("/_static/ui.js", get(assets::script))
        .route("/organizations/{org}/issues/", get(issue_list::issue_list))
        .route(
            "/organizations/{org}/issues/bulk/",
            post(issue_list::bulk_update),
        )
        .route(
            "/organizations/{org}/issues/{issue_id}/",
            get(issue_detail::issue_page),
        )
        .route(
            "/organizations/{org}/issues/{issue_id}/events/{event}/",
            get(issue_detail::issue_page),
        )
        .route(
            "/organizations/{org}/issues/{issue_id}/tags/",
            get(issue_detail::tags_panel),
        )
        .route(
            "/organizations/{org}/issues/{issue_id}/sparkline.svg",
            get(issue_detail::sparkline_image),
        )
        .route(
            "/organizations/{org}/issues/{issue_id}/status/",
            post(issue_detail::update_status),
        )
        .route(
            "/organizations/{org}/releases/",
            get(releases::releases_page),
        )
        .route("/settings/{org}/projects/", get(settings::first_project))
        .route(
            "/settings/{org}/projects/{project}/",
            get(settings::settings_page).post(settings::save_settings),
        )
}
