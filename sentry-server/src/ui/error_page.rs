//! What a page answers when it cannot show what was asked: an HTML page
//! with a status and a short message, or, without a session, a redirect
//! to the login page that comes back afterwards.

use askama::Template;
use axum::http::StatusCode;
use axum::http::header::LOCATION;
use axum::response::{Html, IntoResponse, Response};
use sentry_core::store::StoreError;

use crate::error::ApiError;

/// A failed page request.
#[derive(Debug)]
pub enum UiError {
    /// A page with a status and a message for people.
    Page {
        /// The HTTP status.
        status: StatusCode,
        /// What went wrong, in a sentence.
        message: String,
    },
    /// No valid session: log in, then come back to `next`.
    LoginRequired {
        /// The path and query to return to.
        next: String,
    },
}

impl UiError {
    /// A page with a status and a message.
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self::Page {
            status,
            message: message.into(),
        }
    }

    /// 400: the request makes no sense.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }

    /// 403: not allowed, e.g. a form without its CSRF token.
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, message)
    }

    /// 404: nothing there, or nothing this user may see.
    pub fn not_found() -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "The page you asked for does not exist.",
        )
    }

    /// A redirect to the login page, coming back to `next`.
    pub fn login_required(next: String) -> Self {
        Self::LoginRequired { next }
    }

    /// 500, after the cause was logged.
    pub fn internal() -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Something went wrong on the server.",
        )
    }
}

impl From<ApiError> for UiError {
    fn from(error: ApiError) -> Self {
        // ApiError logged server failures when it was made; its message is
        // safe for clients.
        Self::new(error.status(), error.detail())
    }
}

impl From<StoreError> for UiError {
    fn from(error: StoreError) -> Self {
        ApiError::from(error).into()
    }
}

impl From<crate::credentials::NoRandomness> for UiError {
    fn from(error: crate::credentials::NoRandomness) -> Self {
        crate::error::ApiError::from(error).into()
    }
}

impl From<askama::Error> for UiError {
    fn from(error: askama::Error) -> Self {
        tracing::error!(
            error = &error as &dyn std::error::Error,
            "a page does not render"
        );
        Self::internal()
    }
}

#[derive(Template)]
#[template(path = "ui/error.html")]
struct ErrorTemplate<'a> {
    status: u16,
    reason: &'a str,
    message: &'a str,
}

impl IntoResponse for UiError {
    fn into_response(self) -> Response {
        match self {
            UiError::LoginRequired { next } => {
                let location = format!(
                    "/auth/login/?{}",
                    serde_urlencoded::to_string([("next", next.as_str())]).unwrap_or_default()
                );
                (StatusCode::SEE_OTHER, [(LOCATION, location)]).into_response()
            }
            UiError::Page { status, message } => {
                let page = ErrorTemplate {
                    status: status.as_u16(),
                    reason: status.canonical_reason().unwrap_or("Error"),
                    message: &message,
                };
                match page.render() {
                    Ok(body) => (status, Html(body)).into_response(),
                    Err(_) => (status, message).into_response(),
                }
            }
        }
    }
}
