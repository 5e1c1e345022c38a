//! What Sentry's series endpoints (`stats_v2`, `sessions`) share: their
//! repeated query parameters, the time range cut into intervals
//! (`statsPeriod` or `start` and `end`, `interval`), and the projects of
//! the organization they cover (`project`).

use sentry_core::ProjectId;
use sentry_core::protocol::Timestamp;
use sentry_core::store::{MetadataStore, Organization};

use crate::auth::form_pairs;
use crate::error::ApiError;
use crate::state::AppState;

const HOUR_SECS: i64 = 3_600;
/// The most intervals one answer has.
const MAX_INTERVALS: i64 = 1_000;

/// A request's query parameters, some repeated.
pub struct Params(Vec<(String, String)>);

impl Params {
    /// Reads a query string.
    pub fn parse(query: Option<&str>) -> Self {
        Self(form_pairs(query.unwrap_or("")))
    }

    /// Every value of a parameter, in order.
    pub fn all(&self, name: &str) -> Vec<&str> {
        self.0
            .iter()
            .filter(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
            .collect()
    }

    /// The first value of a parameter.
    pub fn one(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }
}

/// A time range cut into intervals, aligned to their length as Sentry
/// aligns them; times in unix seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeWindow {
    /// The start of the first interval.
    pub start: i64,
    /// The end of the last interval.
    pub end: i64,
    /// The length of an interval.
    pub interval: i64,
}

impl TimeWindow {
    /// Reads `statsPeriod` (default `default_period`) or `start` and
    /// `end`, and `interval` (whole hours or days; default an hour).
    ///
    /// # Errors
    ///
    /// 400 for a parameter that does not read, or a range of no or too
    /// many intervals.
    pub fn from_params(params: &Params, default_period: &str) -> Result<Self, ApiError> {
        let interval = match params.one("interval") {
            Some(text) => duration_secs(text)
                .filter(|secs| secs % HOUR_SECS == 0)
                .ok_or_else(|| ApiError::bad_request("`interval` must be whole hours or days"))?,
            None => HOUR_SECS,
        };
        let now = Timestamp::now().0.timestamp();
        let (start, end) = match (params.one("start"), params.one("end")) {
            (Some(start), Some(end)) => {
                let parse = |text| {
                    Timestamp::parse_rfc3339(text)
                        .map(|time| time.0.timestamp())
                        .ok_or_else(|| ApiError::bad_request(format!("invalid time `{text}`")))
                };
                (parse(start)?, parse(end)?)
            }
            (None, None) => {
                let period = duration_secs(params.one("statsPeriod").unwrap_or(default_period))
                    .ok_or_else(|| ApiError::bad_request("invalid `statsPeriod`"))?;
                (now.saturating_sub(period), now)
            }
            _ => return Err(ApiError::bad_request("give both `start` and `end`")),
        };
        let start = start - start.rem_euclid(interval);
        let count = (end - start + interval - 1) / interval;
        if count <= 0 || count > MAX_INTERVALS {
            return Err(ApiError::bad_request(format!(
                "the range must hold between 1 and {MAX_INTERVALS} intervals"
            )));
        }
        Ok(Self {
            start,
            end: start + count * interval,
            interval,
        })
    }

    /// How many intervals.
    pub fn count(&self) -> usize {
        usize::try_from((self.end - self.start) / self.interval).unwrap_or(0)
    }

    /// The interval a time falls in, if any.
    pub fn index(&self, time: Timestamp) -> Option<usize> {
        let offset = time.0.timestamp() - self.start;
        if offset < 0 || time.0.timestamp() >= self.end {
            return None;
        }
        usize::try_from(offset / self.interval).ok()
    }

    /// The start and end as timestamps.
    ///
    /// # Errors
    ///
    /// 400 when they are out of range.
    pub fn bounds(&self) -> Result<(Timestamp, Timestamp), ApiError> {
        let time = |secs: i64| {
            Timestamp::from_unix_seconds(secs as f64)
                .ok_or_else(|| ApiError::bad_request("time out of range"))
        };
        Ok((time(self.start)?, time(self.end)?))
    }

    /// The start of each interval, as Sentry writes it.
    pub fn intervals(&self) -> Vec<String> {
        (0..self.count() as i64)
            .map(|n| format_time(self.start + n * self.interval))
            .collect()
    }

    /// The start and end, as Sentry writes them.
    pub fn start_end(&self) -> (String, String) {
        (format_time(self.start), format_time(self.end))
    }
}

fn format_time(secs: i64) -> String {
    Timestamp::from_unix_seconds(secs as f64)
        .map(|time| time.0.format("%Y-%m-%dT%H:%M:%SZ").to_string())
        .unwrap_or_default()
}

/// Reads a duration such as `90m`, `24h`, `14d` or `2w` in seconds.
pub fn duration_secs(text: &str) -> Option<i64> {
    let split = text.find(|c: char| !c.is_ascii_digit())?;
    let (number, unit) = text.split_at(split);
    let number: i64 = number.parse().ok()?;
    let unit = match unit {
        "s" => 1,
        "m" => 60,
        "h" => HOUR_SECS,
        "d" => 24 * HOUR_SECS,
        "w" => 7 * 24 * HOUR_SECS,
        _ => return None,
    };
    number.checked_mul(unit).filter(|secs| *secs > 0)
}

/// The organization's projects that `project` names (ids, repeated; none
/// or `-1` for all).
///
/// # Errors
///
/// When the store fails.
pub async fn project_ids(
    state: &AppState,
    org: &Organization,
    params: &Params,
) -> Result<Vec<ProjectId>, ApiError> {
    let wanted: Vec<&str> = params
        .all("project")
        .into_iter()
        .filter(|id| *id != "-1")
        .collect();
    Ok(state
        .metadata
        .projects(org.id)
        .await?
        .iter()
        .map(|project| project.id)
        .filter(|id| wanted.is_empty() || wanted.contains(&id.to_string().as_str()))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_sentrys_units() {
        assert_eq!(duration_secs("24h"), Some(86_400));
        assert_eq!(duration_secs("14d"), Some(14 * 86_400));
        assert_eq!(duration_secs("90m"), Some(5_400));
        assert_eq!(duration_secs("2w"), Some(14 * 86_400));
        for bad in ["", "h", "24", "0h", "24y", "-1h", "99999999999999999999h"] {
            assert_eq!(duration_secs(bad), None, "{bad}");
        }
    }

    #[test]
    fn windows_are_aligned_and_bounded() {
        let params = Params::parse(Some(
            "start=2026-11-24T10:30:00Z&end=2026-11-24T13:00:00Z&interval=1h",
        ));
        let window = TimeWindow::from_params(&params, "24h").unwrap();
        assert_eq!(window.count(), 3);
        assert_eq!(window.start_end().0, "2026-11-24T10:00:00Z");
        let too_many = Params::parse(Some("statsPeriod=90d&interval=1h"));
        assert!(TimeWindow::from_params(&too_many, "24h").is_err());
        let odd = Params::parse(Some("interval=90m"));
        assert!(TimeWindow::from_params(&odd, "24h").is_err());
    }
}
