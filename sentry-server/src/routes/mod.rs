//! Every HTTP path the server answers, on one screen.

pub mod alert_rules;
pub mod api_tokens;
pub mod artifact_bundles;
pub mod attachments;
pub mod chunk_upload;
pub mod cron;
pub mod debug_files;
pub mod events;
pub mod health;
pub mod ingest;
pub mod issue_bulk;
pub mod issue_list;
pub mod issue_update;
pub mod issues;
pub mod json_body;
pub mod minidump;
pub mod model;
pub mod monitors;
pub mod nul_guard;
pub mod openapi;
pub mod organizations;
pub mod pagination;
pub mod project_keys;
pub mod projects;
pub mod releases;
pub mod security;
pub mod series;
pub mod sessions;
pub mod slugs;
pub mod stats;
pub mod tags;
pub mod teams;
pub mod user_feedback;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};

use crate::state::AppState;

/// Builds the application: ingest, the web API, the web UI, and JSON 404s
/// for the rest.
pub fn app(state: AppState) -> Router {
    // Before anything records, so that nothing recorded is lost.
    crate::metrics::handle();
    // Ingest, as SDKs and sentry-cli send it; browser SDKs send it across
    // origins.
    let ingest = Router::new()
        .route("/api/{project_id}/envelope/", post(ingest::envelope))
        .route("/api/{project_id}/envelope", post(ingest::envelope))
        .route("/api/{project_id}/store/", post(ingest::store))
        .route("/api/{project_id}/store", post(ingest::store))
        .route("/api/{project_id}/security/", post(security::report))
        .route("/api/{project_id}/security", post(security::report))
        .route("/api/{project_id}/csp-report/", post(security::report))
        .route("/api/{project_id}/csp-report", post(security::report))
        .route(
            "/api/{project_id}/minidump/",
            post(minidump::upload).layer(DefaultBodyLimit::max(state.limits.max_envelope_size)),
        )
        .route(
            "/api/{project_id}/minidump",
            post(minidump::upload).layer(DefaultBodyLimit::max(state.limits.max_envelope_size)),
        )
        .route(
            "/api/{project_id}/cron/{monitor_slug}/{key}/",
            get(cron::check_in).post(cron::check_in),
        )
        .route(
            "/api/{project_id}/cron/{monitor_slug}/{key}",
            get(cron::check_in).post(cron::check_in),
        )
        .layer(ingest::cors());
    Router::new()
        .merge(ingest)
        .merge(web_api())
        .merge(crate::ui::routes())
        .route(
            "/api/0/organizations/{org}/chunk-upload/",
            get(chunk_upload::options)
                .post(chunk_upload::upload)
                .layer(DefaultBodyLimit::max(chunk_upload::max_request_size(
                    state.limits.max_upload_chunk_size,
                ))),
        )
        .route("/health/live", get(health::live))
        .route("/health/ready", get(health::ready))
        .route("/metrics", get(crate::metrics::render))
        .fallback(not_found)
        .layer(axum::middleware::from_fn(crate::metrics::track))
        .with_state(state)
}

/// The web API, under `/api/0/`.
fn web_api() -> Router<AppState> {
    Router::new()
        .route("/api/0/", get(issues::api_root))
        .route("/api/0/openapi.json", get(openapi::openapi))
        .route(
            "/api/0/organizations/",
            get(organizations::list_organizations),
        )
        .route(
            "/api/0/organizations/{org}/",
            get(organizations::get_organization),
        )
        .route(
            "/api/0/organizations/{org}/projects/",
            get(organizations::list_org_projects),
        )
        .route("/api/0/projects/", get(organizations::list_projects))
        .route(
            "/api/0/organizations/{org}/teams/",
            get(teams::list_teams).post(teams::create_team),
        )
        .route("/api/0/teams/{org}/{team}/", get(teams::get_team))
        .route(
            "/api/0/teams/{org}/{team}/projects/",
            get(teams::list_team_projects).post(teams::create_project),
        )
        .route(
            "/api/0/projects/{org}/{project}/keys/",
            get(project_keys::list_keys).post(project_keys::create_key),
        )
        .route(
            "/api/0/projects/{org}/{project}/keys/{key_id}/",
            get(project_keys::get_key).put(project_keys::update_key),
        )
        .route(
            "/api/0/projects/{org}/{project}/rules/",
            get(alert_rules::list_rules).post(alert_rules::create_rule),
        )
        .route(
            "/api/0/projects/{org}/{project}/rules/{rule_id}/",
            get(alert_rules::get_rule)
                .put(alert_rules::update_rule)
                .delete(alert_rules::delete_rule),
        )
        .route(
            "/api/0/api-tokens/",
            get(api_tokens::list_tokens).post(api_tokens::create_token),
        )
        .route(
            "/api/0/organizations/{org}/releases/",
            get(releases::list_org_releases).post(releases::create_release),
        )
        .route(
            "/api/0/organizations/{org}/releases/{version}/",
            get(releases::get_release)
                .put(releases::update_release)
                .delete(releases::delete_release),
        )
        .route(
            "/api/0/organizations/{org}/releases/{version}/deploys/",
            get(releases::list_deploys).post(releases::create_deploy),
        )
        .route(
            "/api/0/projects/{org}/{project}/releases/",
            get(releases::list_project_releases).post(releases::create_project_release),
        )
        .route(
            "/api/0/projects/{org}/{project}/releases/{version}/",
            get(releases::get_project_release)
                .put(releases::update_project_release)
                .delete(releases::delete_project_release),
        )
        .route(
            "/api/0/projects/{org}/{project}/",
            get(projects::get_project)
                .put(projects::update_project)
                .delete(projects::delete_project),
        )
        .route(
            "/api/0/projects/{org}/{project}/issues/",
            get(issue_list::list_project_issues)
                .put(issue_bulk::bulk_update_project_issues)
                .delete(issue_bulk::bulk_delete_project_issues),
        )
        .route(
            "/api/0/organizations/{org}/issues/",
            get(issue_list::list_org_issues)
                .put(issue_bulk::bulk_update_org_issues)
                .delete(issue_bulk::bulk_delete_org_issues),
        )
        .route(
            "/api/0/issues/{issue_id}/",
            get(issues::get_issue)
                .put(issues::update_issue)
                .delete(issues::delete_issue),
        )
        .route(
            "/api/0/organizations/{org}/issues/{issue_id}/",
            get(issues::get_issue)
                .put(issues::update_issue)
                .delete(issues::delete_issue),
        )
        .route(
            "/api/0/issues/{issue_id}/events/",
            get(events::issue_events),
        )
        .route(
            "/api/0/organizations/{org}/issues/{issue_id}/events/",
            get(events::issue_events),
        )
        .route(
            "/api/0/projects/{org}/{project}/events/{event_id}/attachments/",
            get(attachments::list),
        )
        .route(
            "/api/0/projects/{org}/{project}/events/{event_id}/attachments/{attachment_id}/",
            get(attachments::get),
        )
        .route(
            "/api/0/projects/{org}/{project}/user-feedback/",
            get(user_feedback::project_feedback),
        )
        .route(
            "/api/0/issues/{issue_id}/user-feedback/",
            get(user_feedback::issue_feedback),
        )
        .route(
            "/api/0/organizations/{org}/issues/{issue_id}/user-feedback/",
            get(user_feedback::issue_feedback),
        )
        .route("/api/0/organizations/{org}/stats_v2/", get(stats::stats_v2))
        .route(
            "/api/0/organizations/{org}/sessions/",
            get(sessions::sessions),
        )
        .route(
            "/api/0/organizations/{org}/monitors/",
            get(monitors::org_monitors),
        )
        .route(
            "/api/0/projects/{org}/{project}/monitors/{slug}/checkins/",
            get(monitors::checkins),
        )
        .route("/api/0/issues/{issue_id}/tags/", get(tags::issue_tags))
        .route(
            "/api/0/organizations/{org}/issues/{issue_id}/tags/",
            get(tags::issue_tags),
        )
        .route("/api/0/issues/{issue_id}/tags/{key}/", get(tags::issue_tag))
        .route(
            "/api/0/organizations/{org}/issues/{issue_id}/tags/{key}/",
            get(tags::issue_tag),
        )
        .route(
            "/api/0/issues/{issue_id}/tags/{key}/values/",
            get(tags::issue_tag_values),
        )
        .route(
            "/api/0/organizations/{org}/issues/{issue_id}/tags/{key}/values/",
            get(tags::issue_tag_values),
        )
        .route(
            "/api/0/issues/{issue_id}/events/{pick}/",
            get(events::issue_event),
        )
        .route(
            "/api/0/organizations/{org}/issues/{issue_id}/events/{pick}/",
            get(events::issue_event),
        )
        .route(
            "/api/0/projects/{org}/{project}/events/{event_id}/",
            get(events::project_event),
        )
        .route(
            "/api/0/projects/{org}/{project}/events/{event_id}/grouping-info/",
            get(events::grouping_info),
        )
        .route(
            "/api/0/organizations/{org}/artifactbundle/assemble/",
            post(artifact_bundles::assemble),
        )
        .route(
            "/api/0/projects/{org}/{project}/files/difs/assemble/",
            post(debug_files::assemble),
        )
        .method_not_allowed_fallback(method_not_allowed)
        .layer(axum::middleware::from_fn(nul_guard::refuse_nul))
}

async fn not_found() -> crate::error::ApiError {
    crate::error::ApiError::not_found()
}

async fn method_not_allowed() -> crate::error::ApiError {
    crate::error::ApiError::new(
        axum::http::StatusCode::METHOD_NOT_ALLOWED,
        "Method not allowed",
    )
}
