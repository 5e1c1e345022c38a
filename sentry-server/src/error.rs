//! The one mapping from failures to HTTP answers.
//!
//! Client mistakes are 4xx with a short JSON `{"detail": ...}`, as Sentry
//! answers. Backend failures are logged once here with their cause chain and
//! answered 500 `{"detail": "internal error"}`, with nothing internal leaked.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use sentry_core::store::{StoreError, StoreErrorKind};

/// An error answer of the API.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    body: serde_json::Value,
    /// Seconds the client should wait before retrying (`Retry-After`).
    retry_after: Option<u64>,
    /// Sentry's `X-Sentry-Rate-Limits` header, for a rate limited request.
    rate_limits: Option<String>,
}

impl ApiError {
    /// An answer with a status and a message for the client.
    pub fn new(status: StatusCode, detail: impl Into<String>) -> Self {
        Self {
            status,
            body: serde_json::json!({ "detail": detail.into() }),
            retry_after: None,
            rate_limits: None,
        }
    }

    /// An answer with a status and a JSON body that has a `detail` and
    /// more, such as per-field validation errors.
    pub fn with_body(status: StatusCode, body: serde_json::Value) -> Self {
        Self {
            status,
            body,
            retry_after: None,
            rate_limits: None,
        }
    }

    /// 400: the request is malformed.
    pub fn bad_request(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, detail)
    }

    /// 401: no or unknown credentials.
    pub fn unauthorized(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, detail)
    }

    /// 403: credentials that do not grant this.
    pub fn forbidden(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, detail)
    }

    /// 404: nothing there, or nothing the caller may see.
    pub fn not_found() -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "The requested resource does not exist",
        )
    }

    /// 409: something with the same unique name exists.
    pub fn conflict(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, detail)
    }

    /// A store failure where a uniqueness rule may be broken: a conflict
    /// is 409 with `detail`, anything else 500.
    pub fn from_store_conflict(error: StoreError, detail: impl Into<String>) -> Self {
        if error.kind() == StoreErrorKind::Conflict {
            Self::conflict(detail)
        } else {
            error.into()
        }
    }

    /// 429: come back in `seconds`; the answer carries `Retry-After`.
    pub fn too_many_requests(detail: impl Into<String>, seconds: u64) -> Self {
        Self {
            retry_after: Some(seconds),
            ..Self::new(StatusCode::TOO_MANY_REQUESTS, detail)
        }
    }

    /// Adds `X-Sentry-Rate-Limits`: `SECONDS:CATEGORIES:SCOPE:REASON`.
    pub fn with_rate_limits(self, header: String) -> Self {
        Self {
            rate_limits: Some(header),
            ..self
        }
    }

    /// 503: the server cannot take this now.
    pub fn unavailable(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::SERVICE_UNAVAILABLE, detail)
    }

    /// Returns the status code.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// Returns the message of a field-level validation error about a
    /// field (the first entry of the body's list under the field's name).
    pub fn field_message(&self, field: &str) -> Option<&str> {
        self.body.get(field)?.get(0)?.as_str()
    }

    /// Returns the message for the client, `detail` of the JSON body.
    pub fn detail(&self) -> &str {
        self.body["detail"].as_str().unwrap_or_default()
    }
}

impl From<crate::credentials::NoRandomness> for ApiError {
    fn from(error: crate::credentials::NoRandomness) -> Self {
        tracing::error!(
            error = &error as &dyn std::error::Error,
            "cannot make a credential"
        );
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal error")
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        tracing::error!(error = &error as &dyn std::error::Error, "store failure");
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal error")
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (self.status, Json(self.body)).into_response();
        if let Some(seconds) = self.retry_after {
            response
                .headers_mut()
                .insert(axum::http::header::RETRY_AFTER, seconds.into());
        }
        if let Some(value) = self
            .rate_limits
            .and_then(|header| axum::http::HeaderValue::from_str(&header).ok())
        {
            response.headers_mut().insert("x-sentry-rate-limits", value);
        }
        response
    }
}
