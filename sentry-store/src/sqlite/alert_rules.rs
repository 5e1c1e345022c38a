//! Alert rules and their rate limit.

use std::time::Duration;

use rusqlite::{Connection, params};
use sentry_core::protocol::Timestamp;
use sentry_core::store::{AlertRule, AlertRuleSettings, StoreError};
use sentry_core::{ProjectId, RuleId};

use super::{query_all, query_one, query_opt, unavailable};
use crate::records::{self, ALERT_RULE_COLUMNS, fire_threshold, signed};

pub(super) fn create(
    connection: &Connection,
    project_id: ProjectId,
    settings: &AlertRuleSettings,
) -> Result<AlertRule, StoreError> {
    let sql = format!(
        "INSERT INTO alert_rules (project_id, name, config, enabled, date_created) \
         VALUES (?1, ?2, ?3, ?4, ?5) RETURNING {ALERT_RULE_COLUMNS}"
    );
    let params = params![
        signed(project_id.0),
        settings.name,
        settings.config,
        settings.enabled,
        Timestamp::now().as_unix_micros()
    ];
    query_one(connection, &sql, params, records::alert_rule)
}

pub(super) fn by_id(connection: &Connection, id: RuleId) -> Result<Option<AlertRule>, StoreError> {
    let sql = format!("SELECT {ALERT_RULE_COLUMNS} FROM alert_rules WHERE id = ?1");
    query_opt(connection, &sql, [id.0], records::alert_rule)
}

pub(super) fn of_project(
    connection: &Connection,
    project_id: ProjectId,
) -> Result<Vec<AlertRule>, StoreError> {
    let sql =
        format!("SELECT {ALERT_RULE_COLUMNS} FROM alert_rules WHERE project_id = ?1 ORDER BY id");
    query_all(
        connection,
        &sql,
        [signed(project_id.0)],
        records::alert_rule,
    )
}

pub(super) fn update(
    connection: &Connection,
    id: RuleId,
    settings: &AlertRuleSettings,
) -> Result<Option<AlertRule>, StoreError> {
    let sql = format!(
        "UPDATE alert_rules SET name = ?2, config = ?3, enabled = ?4 WHERE id = ?1 \
         RETURNING {ALERT_RULE_COLUMNS}"
    );
    let params = params![id.0, settings.name, settings.config, settings.enabled];
    query_opt(connection, &sql, params, records::alert_rule)
}

pub(super) fn delete(connection: &Connection, id: RuleId) -> Result<bool, StoreError> {
    let deleted = connection
        .execute("DELETE FROM alert_rules WHERE id = ?1", [id.0])
        .map_err(unavailable)?;
    Ok(deleted > 0)
}

/// One statement, so the check and the write cannot be split by another
/// writer (SQLite runs one write at a time, also across processes).
pub(super) fn claim_fire(
    connection: &Connection,
    id: RuleId,
    now: Timestamp,
    min_interval: Duration,
) -> Result<bool, StoreError> {
    let claimed = connection
        .execute(
            "UPDATE alert_rules SET last_fired_at = ?2 \
             WHERE id = ?1 AND (last_fired_at IS NULL OR last_fired_at <= ?3)",
            params![
                id.0,
                now.as_unix_micros(),
                fire_threshold(now, min_interval)
            ],
        )
        .map_err(unavailable)?;
    Ok(claimed > 0)
}
