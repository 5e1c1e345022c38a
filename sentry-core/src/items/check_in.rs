//! Cron check-ins: `check_in` items (and the cron endpoint, which the
//! server turns into one), read into what the monitor store keeps.

use serde::Deserialize;
use serde_json::Value;

use super::{ItemError, json};
use crate::ids::CheckInId;
use crate::store::CheckInStatus;

/// The most characters of a monitor slug (Sentry's limit).
pub const MAX_SLUG: usize = 50;
/// The most characters kept of an environment or release.
const MAX_LABEL: usize = 200;

/// A check-in as an SDK reports it.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckInReport {
    /// The id of the run; later reports of the run repeat it. The nil id
    /// (also when none is given) means the monitor's latest check-in if
    /// it is in progress, else a new one, as Sentry reads it.
    pub check_in_id: CheckInId,
    /// The monitor's slug, made a valid slug.
    pub monitor_slug: String,
    /// `in_progress`, `ok` or `error`.
    pub status: CheckInStatus,
    /// How long the run took, in milliseconds, when reported.
    pub duration_ms: Option<u64>,
    /// The environment, if given.
    pub environment: Option<String>,
    /// The release, if given.
    pub release: Option<String>,
    /// The monitor's configuration, as JSON text, when the report carries
    /// one (the first check-in of a run usually does); it creates or
    /// updates the monitor.
    pub monitor_config: Option<String>,
}

#[derive(Deserialize)]
struct Payload {
    #[serde(default)]
    check_in_id: Option<String>,
    #[serde(default)]
    monitor_slug: Option<String>,
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    duration: Option<f64>,
    #[serde(default)]
    environment: Option<String>,
    #[serde(default)]
    release: Option<String>,
    #[serde(default)]
    monitor_config: Option<Value>,
}

/// Makes a monitor slug as Sentry does: lowercase letters, digits, `-` and
/// `_`, other characters as `-`, at most [`MAX_SLUG`] characters; `None`
/// when nothing is left.
pub fn slugify(text: &str) -> Option<String> {
    let mut slug = String::new();
    for c in text.trim().chars().flat_map(char::to_lowercase) {
        let c = if c.is_ascii_alphanumeric() || c == '_' {
            c
        } else {
            '-'
        };
        if c == '-' && (slug.is_empty() || slug.ends_with('-')) {
            continue;
        }
        slug.push(c);
    }
    let slug: String = slug.chars().take(MAX_SLUG).collect();
    let slug = slug.trim_end_matches('-').to_owned();
    (!slug.is_empty()).then_some(slug)
}

fn label(text: Option<String>) -> Option<String> {
    text.map(|text| text.trim().chars().take(MAX_LABEL).collect::<String>())
        .filter(|text| !text.is_empty())
}

/// Reads a `check_in` payload. A missing `check_in_id` reads as the nil
/// id (Node and the cron endpoint send none with a closing `ok`).
///
/// # Errors
///
/// When it is not JSON of a check-in, has no usable monitor slug, or its
/// status is not `in_progress`, `ok` or `error`.
pub fn read(payload: &[u8]) -> Result<CheckInReport, ItemError> {
    const ITEM: &str = "check_in";
    let payload: Payload = json(ITEM, payload)?;
    let monitor_slug =
        payload
            .monitor_slug
            .as_deref()
            .and_then(slugify)
            .ok_or(ItemError::Missing {
                item: ITEM,
                field: "monitor_slug",
            })?;
    let status = match payload.status.as_deref() {
        Some("in_progress") => CheckInStatus::InProgress,
        Some("ok") => CheckInStatus::Ok,
        Some("error") => CheckInStatus::Error,
        _ => {
            return Err(ItemError::Invalid {
                item: ITEM,
                field: "status",
            });
        }
    };
    let check_in_id = match payload.check_in_id.as_deref() {
        Some(text) => text.parse().map_err(|_| ItemError::Invalid {
            item: ITEM,
            field: "check_in_id",
        })?,
        None => CheckInId::nil(),
    };
    let monitor_config = match payload.monitor_config {
        None | Some(Value::Null) => None,
        Some(config @ Value::Object(_)) => Some(config.to_string()),
        Some(_) => {
            return Err(ItemError::Invalid {
                item: ITEM,
                field: "monitor_config",
            });
        }
    };
    Ok(CheckInReport {
        check_in_id,
        monitor_slug,
        status,
        duration_ms: payload
            .duration
            .filter(|seconds| seconds.is_finite() && *seconds >= 0.0)
            .map(|seconds| (seconds * 1_000.0).round() as u64),
        environment: label(payload.environment),
        release: label(payload.release),
        monitor_config,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_first_check_in_carries_its_monitor_config() {
        let payload = br#"{"check_in_id":"83a7c8a2a0f04f5f9c3c3d0a36c6b3e4","monitor_slug":"Nightly Backup",
            "status":"in_progress","environment":"production",
            "monitor_config":{"schedule":{"type":"crontab","value":"0 3 * * *"},"checkin_margin":5}}"#;
        let report = read(payload).unwrap();
        assert_eq!(report.monitor_slug, "nightly-backup");
        assert_eq!(report.status, CheckInStatus::InProgress);
        assert_eq!(report.environment.as_deref(), Some("production"));
        assert!(report.monitor_config.unwrap().contains("0 3 * * *"));
    }

    #[test]
    fn durations_are_kept_in_milliseconds() {
        let report = read(br#"{"monitor_slug":"job","status":"ok","duration":1.5}"#).unwrap();
        assert_eq!(report.duration_ms, Some(1_500));
        assert!(report.check_in_id.is_nil());
        assert_eq!(report.monitor_config, None);
    }

    #[test]
    fn server_statuses_and_bad_slugs_are_refused() {
        assert!(read(br#"{"monitor_slug":"job","status":"missed"}"#).is_err());
        assert!(read(br#"{"monitor_slug":"!!!","status":"ok"}"#).is_err());
        assert!(read(br#"{"monitor_slug":"job","status":"ok","check_in_id":"nope"}"#).is_err());
        assert!(read(br#"{"monitor_slug":"job","status":"ok","monitor_config":[1]}"#).is_err());
    }

    #[test]
    fn slugs_are_lowercase_and_dashed() {
        assert_eq!(slugify("  My Job (EU)  ").as_deref(), Some("my-job-eu"));
        assert_eq!(
            slugify("a".repeat(80).as_str()).map(|s| s.len()),
            Some(MAX_SLUG)
        );
        assert_eq!(slugify("--"), None);
    }
}
