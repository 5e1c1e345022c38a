//! `POST /api/<project_id>/security/`: the reports browsers send on their
//! own when a page breaks its Content Security Policy (CSP), or a host its
//! HPKP, Expect-CT or Expect-Staple policy. The policy's report URL
//! carries the DSN key as `?sentry_key=`, and optionally
//! `sentry_release` and `sentry_environment`.
//!
//! As Relay answers: 200 with an empty body once the reports are spooled,
//! also when every report was filtered as noise; 415 for another content
//! type; 400 with `{"detail": ...}` for a body that is no security report.

use std::error::Error as _;

use axum::body::Body;
use axum::extract::{Path, RawQuery, State};
use axum::http::header::{CONTENT_TYPE, ORIGIN, USER_AGENT};
use axum::http::{HeaderMap, StatusCode};
use bytes::Bytes;
use sentry_core::security_report::{
    self, FilterReason, Outcome, ReportContext, SecurityReportError,
};

use crate::auth::{client_auth, form_pairs};
use crate::error::ApiError;
use crate::ingest::client::ClientIp;
use crate::ingest::{self, body};
use crate::routes::ingest::{authorize, project_id};
use crate::state::AppState;

/// The content types browsers send security reports with.
const CONTENT_TYPES: &[&str] = &[
    "application/csp-report",
    "application/json",
    "application/expect-ct-report",
    "application/expect-ct-report+json",
    "application/expect-staple-report",
    "application/reports+json",
];

/// Takes one security report, or a Reporting API batch of them.
pub async fn report(
    State(state): State<AppState>,
    Path(project): Path<String>,
    RawQuery(query): RawQuery,
    client_ip: ClientIp,
    headers: HeaderMap,
    body: Body,
) -> Result<StatusCode, ApiError> {
    let project_id = project_id(&project)?;
    check_content_type(&headers)?;
    let auth = client_auth(&headers, query.as_deref(), None)?;
    authorize(&state, project_id, &auth, &headers).await?;
    let (body, _reservation) =
        body::read(&headers, body, state.limits.max_event_size, &state.memory).await?;

    let pairs = query.as_deref().map(form_pairs).unwrap_or_default();
    let param = |name: &str| {
        pairs
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    };
    let header = |name| headers.get(name).and_then(|value| value.to_str().ok());
    let context = ReportContext {
        user_agent: header(USER_AGENT),
        origin: header(ORIGIN),
        release: param("sentry_release"),
        environment: param("sentry_environment"),
    };
    let outcomes = security_report::convert(&body, &context).map_err(rejection)?;
    for outcome in outcomes {
        match outcome {
            Outcome::Event(event) => {
                let payload = Bytes::from(event.to_string());
                ingest::accept_event(&state, project_id, &auth.key, payload, client_ip).await?;
            }
            Outcome::Filtered(reason) => {
                tracing::debug!(%project_id, ?reason, "security report filtered");
                state.outcomes.record(
                    project_id,
                    "security",
                    sentry_core::store::Outcome::Filtered,
                    match reason {
                        FilterReason::UnsupportedType => "unsupported_report",
                        _ => "invalid_csp",
                    },
                    1,
                );
            }
        }
    }
    Ok(StatusCode::OK)
}

/// Accepts only the security report content types, parameters aside.
fn check_content_type(headers: &HeaderMap) -> Result<(), ApiError> {
    let mime = headers
        .get(CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .map(|mime| mime.trim().to_ascii_lowercase())
        .unwrap_or_default();
    if CONTENT_TYPES.contains(&mime.as_str()) {
        return Ok(());
    }
    Err(ApiError::new(
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        format!("unsupported content type for security reports `{mime}`"),
    ))
}

/// A 400 that says what is wrong with the report, cause included.
fn rejection(error: SecurityReportError) -> ApiError {
    let detail = match error.source() {
        Some(source) => format!("invalid security report: {error}: {source}"),
        None => format!("invalid security report: {error}"),
    };
    ApiError::bad_request(detail)
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn with_type(value: &'static str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static(value));
        headers
    }

    #[test]
    fn content_types_are_checked_without_parameters() {
        assert!(check_content_type(&with_type("application/csp-report")).is_ok());
        assert!(check_content_type(&with_type("Application/JSON; charset=utf-8")).is_ok());
        assert!(check_content_type(&with_type("application/reports+json")).is_ok());
        assert!(check_content_type(&with_type("application/expect-ct-report+json")).is_ok());
        let error = check_content_type(&with_type("text/plain")).unwrap_err();
        assert_eq!(error.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
        let error = check_content_type(&HeaderMap::new()).unwrap_err();
        assert_eq!(error.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    }
}
