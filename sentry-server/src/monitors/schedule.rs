//! A monitor's `monitor_config`, as check-ins carry it: its schedule
//! (crontab or interval, in a time zone), how late a check-in may come
//! (`checkin_margin`) and how long a run may last (`max_runtime`), both in
//! minutes; and when check-ins are therefore due.

use std::str::FromStr;
use std::time::Duration;

use chrono::{DateTime, Months, Utc};
use chrono_tz::Tz;
use croner::Cron;
use sentry_core::protocol::Timestamp;
use serde::Deserialize;
use serde_json::Value;

/// Minutes a check-in may be late when the config does not say: Sentry's.
pub const DEFAULT_MARGIN_MINUTES: u64 = 1;
/// Minutes a run may last when the config does not say: Sentry's.
pub const DEFAULT_MAX_RUNTIME_MINUTES: u64 = 30;

/// A unit of an interval schedule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// Minutes.
    Minute,
    /// Hours.
    Hour,
    /// Days.
    Day,
    /// Weeks.
    Week,
    /// Calendar months.
    Month,
    /// Calendar years.
    Year,
}

/// When a monitor's job runs.
#[derive(Debug, Clone)]
pub enum Schedule {
    /// A crontab expression, read in the config's time zone.
    Crontab(Box<Cron>),
    /// Every `count` units after the last check-in.
    Interval {
        /// How many units.
        count: u32,
        /// Of what.
        unit: Unit,
    },
}

/// A monitor's configuration, read.
#[derive(Debug, Clone)]
pub struct MonitorConfig {
    /// When the job runs.
    pub schedule: Schedule,
    /// The time zone of a crontab schedule.
    pub timezone: Tz,
    /// How late a check-in may come before it counts as missed.
    pub margin: Duration,
    /// How long a run may stay in progress before it counts as timed out.
    pub max_runtime: Duration,
}

/// A config that does not read, naming what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("monitor_config.{field}: {message}")]
pub struct ConfigError {
    /// The field.
    pub field: &'static str,
    /// What is wrong with it.
    pub message: String,
}

fn invalid(field: &'static str, message: impl Into<String>) -> ConfigError {
    ConfigError {
        field,
        message: message.into(),
    }
}

#[derive(Deserialize)]
struct Raw {
    #[serde(default)]
    schedule: Option<Value>,
    #[serde(default)]
    schedule_type: Option<String>,
    #[serde(default)]
    checkin_margin: Option<Value>,
    #[serde(default)]
    max_runtime: Option<Value>,
    #[serde(default)]
    timezone: Option<String>,
}

/// Minutes from a JSON number (whole or not) or null.
fn minutes(
    value: Option<&Value>,
    default: u64,
    field: &'static str,
) -> Result<Duration, ConfigError> {
    match value {
        None | Some(Value::Null) => Ok(Duration::from_secs(default * 60)),
        Some(value) => value
            .as_f64()
            .filter(|minutes| minutes.is_finite() && *minutes >= 0.0 && *minutes <= 43_200.0)
            .map(|minutes| Duration::from_secs_f64(minutes * 60.0))
            .ok_or_else(|| invalid(field, "must be minutes from 0 to 43200")),
    }
}

impl MonitorConfig {
    /// Reads a `monitor_config` (the JSON a monitor keeps).
    ///
    /// # Errors
    ///
    /// When it has no schedule, or a field does not read.
    pub fn from_json(text: &str) -> Result<Self, ConfigError> {
        let raw: Raw =
            serde_json::from_str(text).map_err(|error| invalid("", error.to_string()))?;
        let timezone = match raw.timezone.as_deref().map(str::trim) {
            None | Some("") => Tz::UTC,
            Some(name) => Tz::from_str(name)
                .map_err(|_| invalid("timezone", format!("unknown time zone {name:?}")))?,
        };
        let schedule = raw.schedule.ok_or_else(|| invalid("schedule", "missing"))?;
        // The older form: `"schedule": "0 * * * *"` or `[1, "hour"]` with `schedule_type`.
        let (kind, value, unit) = match &schedule {
            Value::Object(object) => (
                object
                    .get("type")
                    .and_then(Value::as_str)
                    .map(str::to_owned),
                object.get("value").cloned().unwrap_or(Value::Null),
                object
                    .get("unit")
                    .and_then(Value::as_str)
                    .map(str::to_owned),
            ),
            Value::String(_) => (
                raw.schedule_type.clone().or(Some("crontab".to_owned())),
                schedule.clone(),
                None,
            ),
            Value::Array(parts) => (
                raw.schedule_type.clone().or(Some("interval".to_owned())),
                parts.first().cloned().unwrap_or(Value::Null),
                parts.get(1).and_then(Value::as_str).map(str::to_owned),
            ),
            _ => (None, Value::Null, None),
        };
        let schedule = match kind.as_deref() {
            Some("crontab") => {
                let expression = value
                    .as_str()
                    .ok_or_else(|| invalid("schedule", "a crontab schedule needs an expression"))?;
                let cron = Cron::from_str(expression.trim())
                    .map_err(|error| invalid("schedule", format!("{expression:?}: {error}")))?;
                Schedule::Crontab(Box::new(cron))
            }
            Some("interval") => {
                let count = value
                    .as_u64()
                    .and_then(|count| u32::try_from(count).ok())
                    .filter(|count| *count > 0)
                    .ok_or_else(|| invalid("schedule", "an interval needs a positive count"))?;
                let unit = match unit.as_deref() {
                    Some("minute") => Unit::Minute,
                    Some("hour") => Unit::Hour,
                    Some("day") => Unit::Day,
                    Some("week") => Unit::Week,
                    Some("month") => Unit::Month,
                    Some("year") => Unit::Year,
                    _ => {
                        return Err(invalid(
                            "schedule",
                            "the unit must be minute, hour, day, week, month or year",
                        ));
                    }
                };
                Schedule::Interval { count, unit }
            }
            _ => return Err(invalid("schedule", "the type must be crontab or interval")),
        };
        Ok(Self {
            schedule,
            timezone,
            margin: minutes(
                raw.checkin_margin.as_ref(),
                DEFAULT_MARGIN_MINUTES,
                "checkin_margin",
            )?,
            max_runtime: minutes(
                raw.max_runtime.as_ref(),
                DEFAULT_MAX_RUNTIME_MINUTES,
                "max_runtime",
            )?,
        })
    }

    /// When the check-in after one at `after` is due: the schedule's next
    /// time after it, counted from the start of its minute, as Sentry does.
    /// `None` when the schedule has no next time (or it is past year 9999).
    pub fn next_after(&self, after: Timestamp) -> Option<Timestamp> {
        let micros = after.as_unix_micros();
        let minute = micros - micros.rem_euclid(60_000_000);
        let start = DateTime::<Utc>::from_timestamp_micros(minute)?;
        let next = match &self.schedule {
            Schedule::Crontab(cron) => {
                let local = start.with_timezone(&self.timezone);
                cron.find_next_occurrence(&local, false)
                    .ok()?
                    .with_timezone(&Utc)
            }
            Schedule::Interval { count, unit } => {
                let count = *count;
                match unit {
                    Unit::Minute => start + chrono::Duration::minutes(count.into()),
                    Unit::Hour => start + chrono::Duration::hours(count.into()),
                    Unit::Day => start + chrono::Duration::days(count.into()),
                    Unit::Week => start + chrono::Duration::weeks(count.into()),
                    Unit::Month => start.checked_add_months(Months::new(count))?,
                    Unit::Year => start.checked_add_months(Months::new(count.checked_mul(12)?))?,
                }
            }
        };
        Timestamp::from_unix_micros(next.timestamp_micros())
    }

    /// The first due time after `expected` whose margin has not yet run
    /// out at `now`: where a monitor waits after a missed check-in, without
    /// reporting every tick of a long outage one by one.
    pub fn next_open_after(&self, expected: Timestamp, now: Timestamp) -> Option<Timestamp> {
        let mut next = self.next_after(expected)?;
        // A bound on the walk: a minute-by-minute schedule after a year's outage.
        for _ in 0..600_000 {
            if next.checked_add(self.margin).is_none_or(|end| end > now) {
                return Some(next);
            }
            next = self.next_after(next)?;
        }
        self.next_after(now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> Timestamp {
        Timestamp::parse_rfc3339(text).unwrap()
    }

    fn config(json: &str) -> MonitorConfig {
        MonitorConfig::from_json(json).unwrap()
    }

    #[test]
    fn a_crontab_schedule_is_due_at_its_next_time() {
        let hourly = config(
            r#"{"schedule":{"type":"crontab","value":"0 * * * *"},"checkin_margin":5,"max_runtime":10}"#,
        );
        assert_eq!(
            hourly.next_after(at("2026-11-24T10:00:30Z")),
            Some(at("2026-11-24T11:00:00Z"))
        );
        assert_eq!(hourly.margin, Duration::from_secs(300));
        assert_eq!(hourly.max_runtime, Duration::from_secs(600));
    }

    #[test]
    fn a_crontab_schedule_follows_its_time_zone() {
        let daily = config(
            r#"{"schedule":{"type":"crontab","value":"30 9 * * *"},"timezone":"Europe/Vienna"}"#,
        );
        // 09:30 in Vienna is 08:30 UTC in winter.
        assert_eq!(
            daily.next_after(at("2026-11-24T12:00:00Z")),
            Some(at("2026-11-25T08:30:00Z"))
        );
        assert_eq!(
            daily.margin,
            Duration::from_secs(60),
            "Sentry's default margin"
        );
    }

    #[test]
    fn an_interval_counts_from_the_minute_of_the_last_check_in() {
        let every_two_hours = config(r#"{"schedule":{"type":"interval","value":2,"unit":"hour"}}"#);
        assert_eq!(
            every_two_hours.next_after(at("2026-11-24T10:17:45Z")),
            Some(at("2026-11-24T12:17:00Z"))
        );
        let monthly = config(r#"{"schedule":{"type":"interval","value":1,"unit":"month"}}"#);
        assert_eq!(
            monthly.next_after(at("2026-01-31T00:00:00Z")),
            Some(at("2026-02-28T00:00:00Z"))
        );
    }

    #[test]
    fn the_older_schedule_forms_read() {
        let crontab = config(r#"{"schedule":"*/5 * * * *","schedule_type":"crontab"}"#);
        assert_eq!(
            crontab.next_after(at("2026-11-24T10:01:00Z")),
            Some(at("2026-11-24T10:05:00Z"))
        );
        let interval = config(r#"{"schedule":[10,"minute"],"schedule_type":"interval"}"#);
        assert_eq!(
            interval.next_after(at("2026-11-24T10:01:00Z")),
            Some(at("2026-11-24T10:11:00Z"))
        );
    }

    #[test]
    fn after_an_outage_the_next_due_time_is_one_still_open() {
        let every_minute =
            config(r#"{"schedule":{"type":"crontab","value":"* * * * *"},"checkin_margin":1}"#);
        // Expected at 10:01, noticed missed at 10:30:30: 10:30 is the
        // first time whose margin (to 10:31) is still open.
        assert_eq!(
            every_minute.next_open_after(at("2026-11-24T10:01:00Z"), at("2026-11-24T10:30:30Z")),
            Some(at("2026-11-24T10:30:00Z"))
        );
    }

    #[test]
    fn bad_configs_name_the_field() {
        let field = |json: &str| MonitorConfig::from_json(json).unwrap_err().field;
        assert_eq!(field(r#"{}"#), "schedule");
        assert_eq!(
            field(r#"{"schedule":{"type":"crontab","value":"61 * * * *"}}"#),
            "schedule"
        );
        assert_eq!(
            field(r#"{"schedule":{"type":"interval","value":0,"unit":"hour"}}"#),
            "schedule"
        );
        assert_eq!(
            field(r#"{"schedule":{"type":"interval","value":1,"unit":"fortnight"}}"#),
            "schedule"
        );
        assert_eq!(
            field(
                r#"{"schedule":{"type":"crontab","value":"* * * * *"},"timezone":"Mars/Olympus"}"#
            ),
            "timezone"
        );
        assert_eq!(
            field(r#"{"schedule":{"type":"crontab","value":"* * * * *"},"checkin_margin":-1}"#),
            "checkin_margin"
        );
    }
}
