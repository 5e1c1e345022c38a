//! Browser security reports turned into events, as Relay turns them.
//!
//! Browsers post these to `/api/<project_id>/security/` on their own, with
//! no SDK involved. [`convert`] finds the kind of report from its keys:
//!
//! | body | kind |
//! |---|---|
//! | `{"csp-report": {"blocked-uri": ...}}` | CSP, legacy `report-uri` |
//! | `[{"type": "csp-violation", "body": {"blockedURL": ...}}]` | CSP, Reporting API (`application/reports+json`) |
//! | `{"known-pins": [...], "hostname": ...}` | HPKP |
//! | `{"expect-ct-report": {...}}` | Expect-CT |
//! | `{"expect-staple-report": {...}}` | Expect-Staple |
//!
//! Each report becomes an event with the report as its interface (`csp`,
//! `hpkp`, `expectct` or `expectstaple`, with Relay's underscored field
//! names, which grouping reads), a title in `logentry.formatted` ("Blocked
//! 'script' from 'evil.example.com'"), a culprit (the violated directive,
//! or the host), tags, `request.url` and the request's `User-Agent`.
//! CSP reports that only show a browser extension at work are filtered, as
//! Relay's default CSP filter drops them.

mod csp;
mod filter;
mod hostname;
mod uri;

use serde_json::{Value, json};

use self::csp::Csp;
use self::hostname::{ExpectCt, ExpectStaple, Hpkp};

/// What the request tells about a report besides its body.
#[derive(Debug, Clone, Copy, Default)]
pub struct ReportContext<'a> {
    /// The `User-Agent` of the browser that sent the report.
    pub user_agent: Option<&'a str>,
    /// The `Origin` of the request.
    pub origin: Option<&'a str>,
    /// The `sentry_release` query parameter.
    pub release: Option<&'a str>,
    /// The `sentry_environment` query parameter.
    pub environment: Option<&'a str>,
}

/// The kinds of security report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ReportKind {
    /// A Content Security Policy violation.
    Csp,
    /// An HTTP Public Key Pinning failure.
    Hpkp,
    /// An Expect-CT (Certificate Transparency) failure.
    ExpectCt,
    /// An Expect-Staple (OCSP stapling) failure.
    ExpectStaple,
}

impl ReportKind {
    /// The event type and interface key of the kind (`csp`, `hpkp`,
    /// `expectct`, `expectstaple`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Csp => "csp",
            Self::Hpkp => "hpkp",
            Self::ExpectCt => "expectct",
            Self::ExpectStaple => "expectstaple",
        }
    }
}

impl std::fmt::Display for ReportKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What became of one report.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// The event JSON to ingest.
    Event(Value),
    /// A report dropped on purpose; nothing is stored.
    Filtered(FilterReason),
}

/// Why a report was dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum FilterReason {
    /// A CSP report whose blocked URI or source file is a browser
    /// extension or other known noise.
    DisallowedSource,
    /// A Reporting API report of another type than `csp-violation`
    /// (`deprecation`, `intervention`, ...).
    UnsupportedType,
}

/// Why a body is not a security report.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SecurityReportError {
    /// The body is empty.
    #[error("empty security report")]
    Empty,
    /// The body is not JSON.
    #[error("security report is not JSON")]
    InvalidJson(#[source] serde_json::Error),
    /// The body is JSON but no known kind of report.
    #[error("unknown security report type")]
    UnknownType,
    /// The report's fields do not fit its kind.
    #[error("invalid {kind} report")]
    Invalid {
        /// The kind the body was read as.
        kind: ReportKind,
        /// What did not fit.
        #[source]
        source: serde_json::Error,
    },
    /// A CSP report that names no known directive.
    #[error("CSP report names no known directive")]
    UnknownDirective,
}

/// Converts a security report body into events, one per report (a
/// Reporting API batch holds several).
///
/// # Errors
///
/// When the body is empty, not JSON, no known kind of report, or a report
/// whose fields do not fit its kind.
pub fn convert(
    body: &[u8],
    context: &ReportContext<'_>,
) -> Result<Vec<Outcome>, SecurityReportError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(SecurityReportError::Empty);
    }
    let value: Value = serde_json::from_slice(body).map_err(SecurityReportError::InvalidJson)?;
    match value {
        Value::Array(reports) => reports
            .into_iter()
            .map(|report| convert_one(report, context))
            .collect(),
        report => Ok(vec![convert_one(report, context)?]),
    }
}

/// Converts one report object.
fn convert_one(
    mut report: Value,
    context: &ReportContext<'_>,
) -> Result<Outcome, SecurityReportError> {
    let Some(object) = report.as_object_mut() else {
        return Err(SecurityReportError::UnknownType);
    };
    if let Some(csp) = object.remove("csp-report") {
        return convert_csp(csp, context);
    }
    if let Some(ty) = object.get("type").and_then(Value::as_str) {
        if ty != "csp-violation" {
            return Ok(Outcome::Filtered(FilterReason::UnsupportedType));
        }
        let body = object.remove("body").unwrap_or(Value::Null);
        return convert_csp(body, context);
    }
    let (kind, parts) = if object.contains_key("known-pins") {
        let hpkp: Hpkp = read(ReportKind::Hpkp, report)?;
        (ReportKind::Hpkp, hpkp.into_parts())
    } else if let Some(inner) = object.remove("expect-staple-report") {
        let staple: ExpectStaple = read(ReportKind::ExpectStaple, inner)?;
        (ReportKind::ExpectStaple, staple.into_parts())
    } else if let Some(inner) = object.remove("expect-ct-report") {
        let ct: ExpectCt = read(ReportKind::ExpectCt, inner)?;
        (ReportKind::ExpectCt, ct.into_parts())
    } else {
        return Err(SecurityReportError::UnknownType);
    };
    Ok(Outcome::Event(parts.into_event(kind, context)))
}

fn read<T: serde::de::DeserializeOwned>(
    kind: ReportKind,
    value: Value,
) -> Result<T, SecurityReportError> {
    serde_json::from_value(value).map_err(|source| SecurityReportError::Invalid { kind, source })
}

fn convert_csp(body: Value, context: &ReportContext<'_>) -> Result<Outcome, SecurityReportError> {
    let csp: Csp = read(ReportKind::Csp, body)?;
    let directive = csp
        .directive()
        .ok_or(SecurityReportError::UnknownDirective)?;
    let (blocked_uri, source_file) = csp.filtered_uris();
    if filter::is_disallowed(blocked_uri, source_file) {
        return Ok(Outcome::Filtered(FilterReason::DisallowedSource));
    }
    let event = csp
        .into_parts(directive)
        .into_event(ReportKind::Csp, context);
    Ok(Outcome::Event(event))
}

/// What each kind of report contributes to its event.
struct EventParts {
    message: String,
    culprit: String,
    tags: Vec<(String, String)>,
    url: Option<String>,
    /// Headers the report implies (`Referer`).
    headers: Vec<(String, String)>,
    interface: Value,
}

impl EventParts {
    /// Builds the event JSON, with what Relay adds from the request.
    fn into_event(self, kind: ReportKind, context: &ReportContext<'_>) -> Value {
        let mut headers = self.headers;
        if let Some(origin) = context.origin {
            headers.push(("Origin".to_owned(), origin.to_owned()));
        }
        if let Some(user_agent) = context.user_agent {
            headers.push(("User-Agent".to_owned(), user_agent.to_owned()));
        }
        let mut request = serde_json::Map::new();
        if let Some(url) = self.url {
            request.insert("url".to_owned(), Value::String(url));
        }
        if !headers.is_empty() {
            request.insert("headers".to_owned(), json!(headers));
        }
        let mut event = json!({
            "type": kind.as_str(),
            "logger": "csp",
            "level": "error",
            "logentry": {"formatted": self.message},
            "culprit": self.culprit,
            "tags": self.tags,
            kind.as_str(): self.interface,
        });
        if !request.is_empty() {
            event["request"] = Value::Object(request);
        }
        if let Some(release) = context.release {
            event["release"] = json!(release);
        }
        if let Some(environment) = context.environment {
            event["environment"] = json!(environment);
        }
        event
    }
}

#[cfg(test)]
mod tests;
