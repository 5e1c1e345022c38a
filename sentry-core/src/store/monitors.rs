//! Cron monitors and their check-ins.

use serde::{Deserialize, Serialize};

use crate::ids::{CheckInId, MonitorId, ProjectId};
use crate::protocol::Timestamp;

/// Whether a monitor expects check-ins.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MonitorStatus {
    /// Check-ins are expected; missing ones are reported.
    Active,
    /// Paused: nothing is expected.
    Disabled,
}

impl MonitorStatus {
    /// Returns the API name.
    pub fn as_str(&self) -> &'static str {
        match self {
            MonitorStatus::Active => "active",
            MonitorStatus::Disabled => "disabled",
        }
    }

    /// Reads an API name.
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "active" => Some(MonitorStatus::Active),
            "disabled" => Some(MonitorStatus::Disabled),
            _ => None,
        }
    }
}

/// A cron monitor: a job of a project that is expected to check in on a schedule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Monitor {
    /// Its id.
    pub id: MonitorId,
    /// The project it belongs to.
    pub project_id: ProjectId,
    /// Its slug, unique within the project; check-ins name it.
    pub slug: String,
    /// Its display name.
    pub name: String,
    /// Its configuration as JSON (schedule, margins, time zone…), which the
    /// server reads and the store keeps as opaque text.
    pub config: String,
    /// Whether it expects check-ins.
    pub status: MonitorStatus,
    /// When the next check-in is due, if one is.
    pub next_checkin_at: Option<Timestamp>,
    /// When the last check-in came, if any did.
    pub last_checkin_at: Option<Timestamp>,
    /// When it was created.
    pub date_created: Timestamp,
}

/// The fields of a monitor that creating or updating it by slug sets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MonitorSettings {
    /// Its display name.
    pub name: String,
    /// Its configuration as JSON.
    pub config: String,
    /// Whether it expects check-ins.
    pub status: MonitorStatus,
}

/// The state of a check-in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckInStatus {
    /// The job started and has not reported its end yet.
    InProgress,
    /// The job succeeded.
    Ok,
    /// The job failed.
    Error,
    /// The job never checked in when it was due (set by the server).
    Missed,
    /// The job started but did not finish in time (set by the server).
    Timeout,
}

impl CheckInStatus {
    /// Returns the API name.
    pub fn as_str(&self) -> &'static str {
        match self {
            CheckInStatus::InProgress => "in_progress",
            CheckInStatus::Ok => "ok",
            CheckInStatus::Error => "error",
            CheckInStatus::Missed => "missed",
            CheckInStatus::Timeout => "timeout",
        }
    }

    /// Reads an API name.
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "in_progress" => Some(CheckInStatus::InProgress),
            "ok" => Some(CheckInStatus::Ok),
            "error" => Some(CheckInStatus::Error),
            "missed" => Some(CheckInStatus::Missed),
            "timeout" => Some(CheckInStatus::Timeout),
            _ => None,
        }
    }
}

/// A check-in of a monitor: one run of the job, or one it missed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckIn {
    /// Its id.
    pub id: CheckInId,
    /// The monitor.
    pub monitor_id: MonitorId,
    /// Its state.
    pub status: CheckInStatus,
    /// How long the run took, in milliseconds, once known.
    pub duration_ms: Option<u64>,
    /// The environment the job ran in, if given.
    pub environment: Option<String>,
    /// When it was opened.
    pub date_created: Timestamp,
    /// When it last changed.
    pub date_updated: Timestamp,
}

/// A change to a check-in: a later report of the same run, e.g. the `ok`
/// that closes an `in_progress` check-in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CheckInUpdate {
    /// The new state.
    pub status: CheckInStatus,
    /// How long the run took, if known now; `None` keeps what was stored.
    pub duration_ms: Option<u64>,
    /// When the change happened.
    pub date_updated: Timestamp,
}
