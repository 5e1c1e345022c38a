//! What every logged-in page shares: the navigation around it and how it
//! is sent.

use askama::Template;
use axum::http::header::{CACHE_CONTROL, LOCATION};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use sentry_core::store::Organization;

use crate::ui::error_page::UiError;
use crate::ui::session::WebUser;

/// The frame around a page: who is logged in, the organization, the
/// section the sidebar highlights, and the token of the logout form.
#[derive(Debug, Clone)]
pub struct Chrome {
    /// The user's email.
    pub user_email: String,
    /// The organization's slug.
    pub org_slug: String,
    /// The organization's name.
    pub org_name: String,
    /// `issues`, `releases` or `settings`.
    pub section: &'static str,
    /// The form token.
    pub csrf: String,
}

impl Chrome {
    /// The frame of a page of an organization.
    pub fn new(user: &WebUser, org: &Organization, section: &'static str) -> Self {
        Self {
            user_email: user.user.email.clone(),
            org_slug: org.slug.clone(),
            org_name: org.name.clone(),
            section,
            csrf: user.csrf_token(),
        }
    }
}

/// Renders a page with a status; private pages are not cached nor framed.
///
/// # Errors
///
/// 500 when the template fails.
pub fn render_with(status: StatusCode, page: &impl Template) -> Result<Response, UiError> {
    let body = page.render()?;
    let mut response = (status, Html(body)).into_response();
    let headers = response.headers_mut();
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert("x-frame-options", HeaderValue::from_static("DENY"));
    headers.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    Ok(response)
}

/// Renders a page, 200.
///
/// # Errors
///
/// 500 when the template fails.
pub fn render(page: &impl Template) -> Result<Response, UiError> {
    render_with(StatusCode::OK, page)
}

/// A `303 See Other` to a path of this server, as a form's answer.
pub fn see_other(path: &str) -> Response {
    (StatusCode::SEE_OTHER, [(LOCATION, path.to_owned())]).into_response()
}

/// A path to go to after a form, if it is one of this server's: it starts
/// with one `/` (so `//evil.example` and `https://...` are refused).
pub fn local_path(path: Option<&str>) -> Option<&str> {
    path.filter(|path| path.starts_with('/') && !path.starts_with("//") && !path.starts_with("/\\"))
}

/// A path with query parameters; empty values are left out.
pub fn with_query(path: &str, params: &[(&str, &str)]) -> String {
    let kept: Vec<(&str, &str)> = params
        .iter()
        .copied()
        .filter(|(_, value)| !value.is_empty())
        .collect();
    if kept.is_empty() {
        return path.to_owned();
    }
    format!(
        "{path}?{}",
        serde_urlencoded::to_string(kept).unwrap_or_default()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn returns_only_to_local_paths() {
        assert_eq!(
            local_path(Some("/organizations/x/issues/")),
            Some("/organizations/x/issues/")
        );
        assert_eq!(local_path(Some("//evil.example/")), None);
        assert_eq!(local_path(Some("/\\evil.example/")), None);
        assert_eq!(local_path(Some("https://evil.example/")), None);
        assert_eq!(local_path(None), None);
    }

    #[test]
    fn builds_query_strings() {
        assert_eq!(
            with_query(
                "/a/",
                &[("query", "is:resolved level:error"), ("cursor", "")]
            ),
            "/a/?query=is%3Aresolved+level%3Aerror"
        );
        assert_eq!(with_query("/a/", &[("cursor", "")]), "/a/");
    }
}
