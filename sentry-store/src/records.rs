//! The metadata records as rows, shared by the SQLite and Postgres backends.
//!
//! Both backends lay the metadata tables out alike (integer ids, `BIGINT`
//! unix microseconds, enums as their API names), so each record has one
//! column list and one reader here, written against [`ReadRow`], which
//! both drivers' rows implement. Only the SQL around the columns differs
//! between the backends.

use std::time::Duration;

use sentry_core::protocol::Timestamp;
use sentry_core::store::{
    AlertRule, CheckIn, CheckInStatus, Deploy, Environment, Monitor, MonitorStatus, OrgMember,
    OrgMembership, OrgRole, Organization, Page, Project, Release, StoreError, StoreErrorKind, Team,
    User, WebSession,
};
use sentry_core::{
    CheckInId, DeployId, MonitorId, OrgId, ProjectId, ReleaseId, RuleId, TeamId, UserId,
};

/// A column that could not be read as the record needs it.
#[derive(Debug, thiserror::Error)]
pub(crate) enum RowError {
    /// The driver could not convert the column.
    #[error("cannot read column {index}")]
    Read {
        /// The column's position.
        index: usize,
        /// The driver's error.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// A column that must hold a value is `NULL`.
    #[error("column {0} is null")]
    Null(usize),
    /// A column holds a value this version cannot read.
    #[error("column {index} holds an unexpected value `{value}`")]
    Value {
        /// The column's position.
        index: usize,
        /// The value, as text.
        value: String,
    },
}

impl From<RowError> for StoreError {
    fn from(error: RowError) -> Self {
        StoreError::new(StoreErrorKind::Corrupt, error)
    }
}

/// Reads a record from a row.
pub(crate) type Reader<T> = fn(&dyn ReadRow) -> Result<T, RowError>;

/// A row of either driver, read column by column.
pub(crate) trait ReadRow {
    /// Reads an integer column that may be `NULL`.
    fn opt_i64(&self, index: usize) -> Result<Option<i64>, RowError>;
    /// Reads a text column that may be `NULL`.
    fn opt_text(&self, index: usize) -> Result<Option<String>, RowError>;
    /// Reads a binary column that may be `NULL`.
    fn opt_bytes(&self, index: usize) -> Result<Option<Vec<u8>>, RowError>;
    /// Reads a boolean column (an integer in SQLite).
    fn flag(&self, index: usize) -> Result<bool, RowError>;

    /// Reads an integer column.
    fn i64(&self, index: usize) -> Result<i64, RowError> {
        self.opt_i64(index)?.ok_or(RowError::Null(index))
    }

    /// Reads a text column.
    fn text(&self, index: usize) -> Result<String, RowError> {
        self.opt_text(index)?.ok_or(RowError::Null(index))
    }

    /// Reads an integer column that cannot be negative.
    fn unsigned(&self, index: usize) -> Result<u64, RowError> {
        let value = self.i64(index)?;
        u64::try_from(value).map_err(|_| unexpected(index, value))
    }

    /// Reads unix microseconds that may be `NULL`.
    fn opt_timestamp(&self, index: usize) -> Result<Option<Timestamp>, RowError> {
        let Some(micros) = self.opt_i64(index)? else {
            return Ok(None);
        };
        match Timestamp::from_unix_micros(micros) {
            Some(timestamp) => Ok(Some(timestamp)),
            None => Err(unexpected(index, micros)),
        }
    }

    /// Reads unix microseconds.
    fn timestamp(&self, index: usize) -> Result<Timestamp, RowError> {
        self.opt_timestamp(index)?.ok_or(RowError::Null(index))
    }
}

fn unexpected(index: usize, value: impl ToString) -> RowError {
    RowError::Value {
        index,
        value: value.to_string(),
    }
}

/// Reads a text column through a parser, e.g. an enum's API name.
fn parsed<T>(row: &dyn ReadRow, index: usize, parse: fn(&str) -> Option<T>) -> Result<T, RowError> {
    let text = row.text(index)?;
    parse(&text).ok_or_else(|| unexpected(index, text))
}

#[cfg(feature = "sqlite")]
impl ReadRow for rusqlite::Row<'_> {
    fn opt_i64(&self, index: usize) -> Result<Option<i64>, RowError> {
        self.get(index).map_err(|e| sqlite_error(index, e))
    }

    fn opt_text(&self, index: usize) -> Result<Option<String>, RowError> {
        self.get(index).map_err(|e| sqlite_error(index, e))
    }

    fn opt_bytes(&self, index: usize) -> Result<Option<Vec<u8>>, RowError> {
        self.get(index).map_err(|e| sqlite_error(index, e))
    }

    fn flag(&self, index: usize) -> Result<bool, RowError> {
        self.get(index).map_err(|e| sqlite_error(index, e))
    }
}

#[cfg(feature = "sqlite")]
fn sqlite_error(index: usize, source: rusqlite::Error) -> RowError {
    RowError::Read {
        index,
        source: Box::new(source),
    }
}

#[cfg(feature = "postgres")]
impl ReadRow for tokio_postgres::Row {
    fn opt_i64(&self, index: usize) -> Result<Option<i64>, RowError> {
        self.try_get(index).map_err(|e| postgres_error(index, e))
    }

    fn opt_text(&self, index: usize) -> Result<Option<String>, RowError> {
        self.try_get(index).map_err(|e| postgres_error(index, e))
    }

    fn opt_bytes(&self, index: usize) -> Result<Option<Vec<u8>>, RowError> {
        self.try_get(index).map_err(|e| postgres_error(index, e))
    }

    fn flag(&self, index: usize) -> Result<bool, RowError> {
        self.try_get(index).map_err(|e| postgres_error(index, e))
    }
}

#[cfg(feature = "postgres")]
fn postgres_error(index: usize, source: tokio_postgres::Error) -> RowError {
    RowError::Read {
        index,
        source: Box::new(source),
    }
}

/// The stored form of an unsigned count or id; larger values saturate.
pub(crate) fn signed(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

/// Makes a page of at most `limit` records from a query for `limit + 1`:
/// a record beyond `limit` means that more follow.
pub(crate) fn page<T>(mut items: Vec<T>, limit: u64) -> Page<T> {
    let has_more = items.len() as u64 > limit;
    items.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    Page { items, has_more }
}

/// The latest time a rule may have last fired at for a claim at `now` to
/// win: `min_interval` before `now`, in unix microseconds.
pub(crate) fn fire_threshold(now: Timestamp, min_interval: Duration) -> i64 {
    let interval = i64::try_from(min_interval.as_micros()).unwrap_or(i64::MAX);
    now.as_unix_micros().saturating_sub(interval)
}

pub(crate) const ORGANIZATION_COLUMNS: &str = "id, slug, name, date_created";

pub(crate) fn organization(row: &dyn ReadRow) -> Result<Organization, RowError> {
    Ok(Organization {
        id: OrgId(row.i64(0)?),
        slug: row.text(1)?,
        name: row.text(2)?,
        date_created: row.timestamp(3)?,
    })
}

pub(crate) const PROJECT_COLUMNS: &str = "id, org_id, slug, name, platform, date_created";

pub(crate) fn project(row: &dyn ReadRow) -> Result<Project, RowError> {
    Ok(Project {
        id: ProjectId(row.unsigned(0)?),
        org_id: OrgId(row.i64(1)?),
        slug: row.text(2)?,
        name: row.text(3)?,
        platform: row.opt_text(4)?,
        date_created: row.timestamp(5)?,
    })
}

/// The statements that delete a project and everything of it, children
/// first, but its outcome counts, which are the organization's usage;
/// `{project}` stands for the parameter holding the project id.
pub(crate) const PROJECT_DELETIONS: &[&str] = &[
    "DELETE FROM issue_users WHERE issue_id IN (SELECT id FROM issues WHERE project_id = {project})",
    "DELETE FROM issue_hashes WHERE project_id = {project}",
    "DELETE FROM filed_events WHERE project_id = {project}",
    "DELETE FROM issues WHERE project_id = {project}",
    "DELETE FROM project_keys WHERE project_id = {project}",
    "DELETE FROM project_options WHERE project_id = {project}",
    "DELETE FROM project_teams WHERE project_id = {project}",
    "DELETE FROM release_projects WHERE project_id = {project}",
    "DELETE FROM environments WHERE project_id = {project}",
    "DELETE FROM monitor_checkins WHERE monitor_id IN (SELECT id FROM monitors WHERE project_id = {project})",
    "DELETE FROM monitors WHERE project_id = {project}",
    "DELETE FROM alert_rules WHERE project_id = {project}",
    "DELETE FROM attachments WHERE project_id = {project}",
    "DELETE FROM user_reports WHERE project_id = {project}",
    "DELETE FROM session_counts WHERE project_id = {project}",
    "DELETE FROM raw_items WHERE project_id = {project}",
    "DELETE FROM artifact_bundle_projects WHERE project_id = {project}",
    "DELETE FROM debug_files WHERE project_id = {project}",
    "DELETE FROM projects WHERE id = {project}",
];

pub(crate) const TEAM_COLUMNS: &str = "id, org_id, slug, name, date_created";

pub(crate) fn team(row: &dyn ReadRow) -> Result<Team, RowError> {
    Ok(Team {
        id: TeamId(row.i64(0)?),
        org_id: OrgId(row.i64(1)?),
        slug: row.text(2)?,
        name: row.text(3)?,
        date_created: row.timestamp(4)?,
    })
}

pub(crate) const USER_COLUMNS: &str =
    "id, email, name, password_hash, is_superuser, date_joined, last_login";

pub(crate) fn user(row: &dyn ReadRow) -> Result<User, RowError> {
    Ok(User {
        id: UserId(row.i64(0)?),
        email: row.text(1)?,
        name: row.text(2)?,
        password_hash: row.opt_text(3)?,
        is_superuser: row.flag(4)?,
        date_joined: row.timestamp(5)?,
        last_login: row.opt_timestamp(6)?,
    })
}

/// [`USER_COLUMNS`], then the membership's, from `org_members JOIN users`.
pub(crate) const MEMBER_COLUMNS: &str = "id, email, name, password_hash, is_superuser, date_joined, last_login, org_id, role, date_added";

pub(crate) fn member(row: &dyn ReadRow) -> Result<OrgMember, RowError> {
    Ok(OrgMember {
        user: user(row)?,
        org_id: OrgId(row.i64(7)?),
        role: parsed(row, 8, OrgRole::parse)?,
        date_added: row.timestamp(9)?,
    })
}

/// [`ORGANIZATION_COLUMNS`], then the role, from `org_members JOIN organizations`.
pub(crate) const MEMBERSHIP_COLUMNS: &str = "id, slug, name, date_created, role";

pub(crate) fn membership(row: &dyn ReadRow) -> Result<OrgMembership, RowError> {
    Ok(OrgMembership {
        organization: organization(row)?,
        role: parsed(row, 4, OrgRole::parse)?,
    })
}

pub(crate) const SESSION_COLUMNS: &str = "token_hash, user_id, date_created, expires";

pub(crate) fn session(row: &dyn ReadRow) -> Result<WebSession, RowError> {
    Ok(WebSession {
        token_hash: row.text(0)?,
        user_id: UserId(row.i64(1)?),
        date_created: row.timestamp(2)?,
        expires: row.timestamp(3)?,
    })
}

/// The columns of `releases`; each backend adds, as an eighth column, its
/// expression for the release's project ids as comma-separated text.
pub(crate) const RELEASE_COLUMNS: &str =
    "id, org_id, version, reference, url, date_created, date_released";

pub(crate) fn release(row: &dyn ReadRow) -> Result<Release, RowError> {
    let mut projects = Vec::new();
    for id in row.opt_text(7)?.unwrap_or_default().split(',') {
        if !id.is_empty() {
            projects.push(id.parse().map_err(|_| unexpected(7, id))?);
        }
    }
    projects.sort_unstable();
    Ok(Release {
        id: ReleaseId(row.i64(0)?),
        org_id: OrgId(row.i64(1)?),
        version: row.text(2)?,
        projects,
        reference: row.opt_text(3)?,
        url: row.opt_text(4)?,
        date_created: row.timestamp(5)?,
        date_released: row.opt_timestamp(6)?,
    })
}

pub(crate) const DEPLOY_COLUMNS: &str =
    "id, release_id, environment, name, url, date_started, date_finished";

pub(crate) fn deploy(row: &dyn ReadRow) -> Result<Deploy, RowError> {
    Ok(Deploy {
        id: DeployId(row.i64(0)?),
        release_id: ReleaseId(row.i64(1)?),
        environment: row.text(2)?,
        name: row.opt_text(3)?,
        url: row.opt_text(4)?,
        date_started: row.opt_timestamp(5)?,
        date_finished: row.timestamp(6)?,
    })
}

pub(crate) const ENVIRONMENT_COLUMNS: &str = "project_id, name, first_seen";

pub(crate) fn environment(row: &dyn ReadRow) -> Result<Environment, RowError> {
    Ok(Environment {
        project_id: ProjectId(row.unsigned(0)?),
        name: row.text(1)?,
        first_seen: row.timestamp(2)?,
    })
}

pub(crate) const MONITOR_COLUMNS: &str = "id, project_id, slug, name, config, status, \
     next_checkin_at, last_checkin_at, date_created";

pub(crate) fn monitor(row: &dyn ReadRow) -> Result<Monitor, RowError> {
    Ok(Monitor {
        id: MonitorId(row.i64(0)?),
        project_id: ProjectId(row.unsigned(1)?),
        slug: row.text(2)?,
        name: row.text(3)?,
        config: row.text(4)?,
        status: parsed(row, 5, MonitorStatus::parse)?,
        next_checkin_at: row.opt_timestamp(6)?,
        last_checkin_at: row.opt_timestamp(7)?,
        date_created: row.timestamp(8)?,
    })
}

pub(crate) const CHECKIN_COLUMNS: &str =
    "id, monitor_id, status, duration_ms, environment, date_created, date_updated";

pub(crate) fn checkin(row: &dyn ReadRow) -> Result<CheckIn, RowError> {
    let id = row.opt_bytes(0)?.ok_or(RowError::Null(0))?;
    let id = <[u8; 16]>::try_from(id.as_slice()).map_err(|_| unexpected(0, id.len()))?;
    Ok(CheckIn {
        id: CheckInId::from_bytes(id),
        monitor_id: MonitorId(row.i64(1)?),
        status: parsed(row, 2, CheckInStatus::parse)?,
        duration_ms: row
            .opt_i64(3)?
            .map(|ms| u64::try_from(ms).map_err(|_| unexpected(3, ms)))
            .transpose()?,
        environment: row.opt_text(4)?,
        date_created: row.timestamp(5)?,
        date_updated: row.timestamp(6)?,
    })
}

pub(crate) const ALERT_RULE_COLUMNS: &str =
    "id, project_id, name, config, enabled, date_created, last_fired_at";

pub(crate) fn alert_rule(row: &dyn ReadRow) -> Result<AlertRule, RowError> {
    Ok(AlertRule {
        id: RuleId(row.i64(0)?),
        project_id: ProjectId(row.unsigned(1)?),
        name: row.text(2)?,
        config: row.text(3)?,
        enabled: row.flag(4)?,
        date_created: row.timestamp(5)?,
        last_fired_at: row.opt_timestamp(6)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fire_threshold_saturates() {
        let now = Timestamp::from_unix_seconds(100.0).unwrap();
        assert_eq!(
            fire_threshold(now, Duration::from_secs(60)),
            40_000_000,
            "60 s before 100 s"
        );
        assert_eq!(
            fire_threshold(now, Duration::MAX),
            100_000_000 - i64::MAX,
            "an interval beyond i64 microseconds saturates"
        );
    }
}
