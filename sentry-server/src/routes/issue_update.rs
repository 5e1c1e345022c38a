//! The body of an issue update, one issue's or many: Sentry's `status`
//! (`resolved`, `resolvedInNextRelease`, `unresolved`, `ignored`, or the
//! older `muted`) and `statusDetails`, read into the change the store
//! makes.
//!
//! `statusDetails` may say `inNextRelease: true` (events of the release of
//! the issue's latest event leave it resolved), or ignore the issue for
//! `ignoreDuration` minutes, until `ignoreCount` more events or until
//! `ignoreUserCount` more users; Sentry's older API puts these fields, and
//! `snoozeDuration` for `ignoreDuration`, beside `status`. Counts apply to
//! the whole life of the ignore: `ignoreWindow` and `ignoreUserWindow` are
//! accepted and not applied.

use std::time::Duration;

use sentry_core::protocol::Timestamp;
use sentry_core::store::{
    EventPick, EventStore, Issue, IssueStatus, IssueStatusChange, IssueSubstatus, StatusDetails,
};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::error::ApiError;
use crate::routes::json_body;
use crate::state::AppState;

/// The longest ignore, in minutes: a year.
const MAX_IGNORE_MINUTES: u64 = 60 * 24 * 365;

/// What an update asks for, before it is applied to an issue.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StatusRequest {
    /// The new status; `None` leaves it.
    pub status: Option<IssueStatus>,
    /// Resolve in the next release.
    pub in_next_release: bool,
    /// Ignore for this many minutes.
    pub ignore_minutes: Option<u64>,
    /// Ignore until this many more events.
    pub ignore_count: Option<u64>,
    /// Ignore until this many more users.
    pub ignore_user_count: Option<u64>,
}

/// The fields of `statusDetails` (and their older places beside `status`).
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct DetailFields {
    in_next_release: Option<bool>,
    in_release: Option<Value>,
    in_commit: Option<Value>,
    ignore_duration: Option<u64>,
    snooze_duration: Option<u64>,
    ignore_count: Option<u64>,
    ignore_user_count: Option<u64>,
    #[serde(rename = "ignoreWindow")]
    _ignore_window: Option<u64>,
    #[serde(rename = "ignoreUserWindow")]
    _ignore_user_window: Option<u64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct UpdateBody {
    status: Option<String>,
    #[serde(default)]
    status_details: DetailFields,
    #[serde(flatten)]
    legacy: DetailFields,
}

impl StatusRequest {
    /// Reads an update body.
    ///
    /// # Errors
    ///
    /// 400 for a body that is not JSON, an unknown status, details that do
    /// not fit the status, or release and commit resolutions, which the
    /// server does not support.
    pub fn parse(body: &[u8]) -> Result<Self, ApiError> {
        let body: UpdateBody = json_body::parse(body)?;
        let details = body.status_details;
        let legacy = body.legacy;
        if details.in_release.is_some() || details.in_commit.is_some() {
            return Err(ApiError::bad_request(
                "statusDetails: inRelease and inCommit are not supported; use inNextRelease",
            ));
        }
        let mut request = Self {
            status: None,
            in_next_release: details.in_next_release.or(legacy.in_next_release) == Some(true),
            ignore_minutes: details
                .ignore_duration
                .or(legacy.ignore_duration)
                .or(legacy.snooze_duration),
            ignore_count: details.ignore_count.or(legacy.ignore_count),
            ignore_user_count: details.ignore_user_count.or(legacy.ignore_user_count),
        };
        request.status = match body.status.as_deref() {
            None => None,
            Some("resolvedInNextRelease") => {
                request.in_next_release = true;
                Some(IssueStatus::Resolved)
            }
            Some(text) => Some(IssueStatus::parse(text).ok_or_else(|| {
                ApiError::bad_request(format!("status: unknown status `{text}`"))
            })?),
        };
        let ignores = request.ignore_minutes.is_some()
            || request.ignore_count.is_some()
            || request.ignore_user_count.is_some();
        match request.status {
            Some(IssueStatus::Ignored) | None => {}
            Some(_) if ignores => {
                return Err(ApiError::bad_request(
                    "statusDetails: ignore conditions need status `ignored`",
                ));
            }
            Some(_) => {}
        }
        if request.in_next_release && request.status != Some(IssueStatus::Resolved) {
            return Err(ApiError::bad_request(
                "statusDetails: inNextRelease needs status `resolved`",
            ));
        }
        if request
            .ignore_minutes
            .is_some_and(|minutes| minutes == 0 || minutes > MAX_IGNORE_MINUTES)
        {
            return Err(ApiError::bad_request(format!(
                "statusDetails: ignoreDuration must be 1 to {MAX_IGNORE_MINUTES} minutes"
            )));
        }
        if request.ignore_count == Some(0) || request.ignore_user_count == Some(0) {
            return Err(ApiError::bad_request(
                "statusDetails: ignoreCount and ignoreUserCount must be at least 1",
            ));
        }
        if request.status.is_none() && ignores {
            return Err(ApiError::bad_request(
                "statusDetails: ignore conditions need status `ignored`",
            ));
        }
        Ok(request)
    }

    /// The change this request makes to an issue, at `now`; `None` when
    /// it asks for no status.
    ///
    /// # Errors
    ///
    /// Fails when the issue's latest event cannot be read (for `inNextRelease`).
    pub async fn change_for(
        &self,
        state: &AppState,
        issue: &Issue,
        now: Timestamp,
    ) -> Result<Option<IssueStatusChange>, ApiError> {
        let Some(status) = self.status else {
            return Ok(None);
        };
        let mut change = IssueStatusChange::to(status);
        if self.in_next_release {
            change.details.resolved_in_release = latest_release(state, issue).await?;
        }
        if status == IssueStatus::Ignored {
            let details = &mut change.details;
            details.ignore_until = self.ignore_minutes.and_then(|minutes| {
                now.checked_add(Duration::from_secs(minutes.saturating_mul(60)))
            });
            details.ignore_until_times_seen = self
                .ignore_count
                .map(|count| issue.times_seen.saturating_add(count));
            details.ignore_until_user_count = self
                .ignore_user_count
                .map(|count| issue.user_count.saturating_add(count));
            if *details != StatusDetails::default() {
                change.substatus = Some(IssueSubstatus::ArchivedUntilConditionMet);
            }
        }
        Ok(Some(change))
    }
}

/// The release of an issue's latest event, if it has one.
async fn latest_release(state: &AppState, issue: &Issue) -> Result<Option<String>, ApiError> {
    let latest = state.events.issue_event(issue, EventPick::Latest).await?;
    Ok(latest.and_then(|event| {
        event
            .tags
            .into_iter()
            .find(|(key, _)| key == "release")
            .map(|(_, value)| value)
    }))
}

/// An issue's `statusDetails` as Sentry shows them; `ignoreCount` and
/// `ignoreUserCount` are the events and users still to come.
pub fn status_details_json(issue: &Issue) -> Value {
    let details = &issue.status_details;
    let mut shown = serde_json::Map::new();
    if issue.status == IssueStatus::Resolved && details.resolved_in_release.is_some() {
        shown.insert("inNextRelease".to_owned(), json!(true));
    }
    if issue.status == IssueStatus::Ignored {
        if let Some(until) = details.ignore_until {
            shown.insert("ignoreUntil".to_owned(), json!(until.to_rfc3339()));
        }
        if let Some(count) = details.ignore_until_times_seen {
            shown.insert(
                "ignoreCount".to_owned(),
                json!(count.saturating_sub(issue.times_seen)),
            );
        }
        if let Some(count) = details.ignore_until_user_count {
            shown.insert(
                "ignoreUserCount".to_owned(),
                json!(count.saturating_sub(issue.user_count)),
            );
        }
    }
    Value::Object(shown)
}

/// An issue's `substatus` as Sentry shows it: unresolved issues are
/// `ongoing` unless they regressed or escalated.
pub fn substatus_json(issue: &Issue) -> Value {
    match (issue.status, issue.substatus) {
        (_, Some(substatus)) => json!(substatus.as_str()),
        (IssueStatus::Unresolved, None) => json!("ongoing"),
        (IssueStatus::Ignored, None) => json!(IssueSubstatus::ArchivedForever.as_str()),
        (IssueStatus::Resolved, None) => Value::Null,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(body: &str) -> Result<StatusRequest, u16> {
        StatusRequest::parse(body.as_bytes()).map_err(|e| e.status().as_u16())
    }

    #[test]
    fn reads_sentry_and_older_forms() {
        assert_eq!(
            parse(r#"{"status":"resolvedInNextRelease"}"#).unwrap(),
            StatusRequest {
                status: Some(IssueStatus::Resolved),
                in_next_release: true,
                ..StatusRequest::default()
            }
        );
        let nested = parse(r#"{"status":"ignored","statusDetails":{"ignoreDuration":30}}"#);
        let flat = parse(r#"{"status":"ignored","ignoreDuration":30}"#);
        let cli = parse(r#"{"status":"muted","snoozeDuration":30}"#);
        assert_eq!(nested.unwrap().ignore_minutes, Some(30));
        assert_eq!(flat.unwrap().ignore_minutes, Some(30));
        assert_eq!(cli.unwrap().ignore_minutes, Some(30));
        let counted =
            parse(r#"{"status":"ignored","statusDetails":{"ignoreCount":5,"ignoreWindow":60}}"#)
                .unwrap();
        assert_eq!(counted.ignore_count, Some(5));
        assert_eq!(
            parse(r#"{"status":"muted","snoozeDuration":null}"#)
                .unwrap()
                .ignore_minutes,
            None
        );
        assert_eq!(parse("{}").unwrap(), StatusRequest::default());
    }

    #[test]
    fn refuses_what_does_not_fit() {
        for body in [
            "[",
            r#"{"status":"sleeping"}"#,
            r#"{"status":"resolved","statusDetails":{"ignoreCount":5}}"#,
            r#"{"status":"unresolved","statusDetails":{"inNextRelease":true}}"#,
            r#"{"status":"resolved","statusDetails":{"inRelease":"1.0"}}"#,
            r#"{"status":"ignored","statusDetails":{"ignoreDuration":0}}"#,
            r#"{"status":"ignored","statusDetails":{"ignoreCount":-1}}"#,
            r#"{"statusDetails":{"ignoreCount":3}}"#,
            r#"{"status":5}"#,
        ] {
            assert_eq!(parse(body), Err(400), "{body}");
        }
    }
}
