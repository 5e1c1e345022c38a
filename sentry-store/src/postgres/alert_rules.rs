//! Alert rules and their rate limit.

use std::time::Duration;

use deadpool_postgres::GenericClient;
use sentry_core::protocol::Timestamp;
use sentry_core::store::{AlertRule, AlertRuleSettings};
use sentry_core::{ProjectId, RuleId};

use super::error::PgError;
use super::sql;
use crate::records::{self, ALERT_RULE_COLUMNS, fire_threshold, signed};

pub(super) async fn create<C: GenericClient>(
    client: &C,
    project_id: ProjectId,
    settings: &AlertRuleSettings,
) -> Result<AlertRule, PgError> {
    let sql = format!(
        "INSERT INTO alert_rules (project_id, name, config, enabled, date_created) \
         VALUES ($1, $2, $3, $4, $5) RETURNING {ALERT_RULE_COLUMNS}"
    );
    let params: sql::Params<'_> = &[
        &signed(project_id.0),
        &settings.name,
        &settings.config,
        &settings.enabled,
        &Timestamp::now().as_unix_micros(),
    ];
    sql::read_one(client, &sql, params, records::alert_rule).await
}

pub(super) async fn by_id<C: GenericClient>(
    client: &C,
    id: RuleId,
) -> Result<Option<AlertRule>, PgError> {
    let sql = format!("SELECT {ALERT_RULE_COLUMNS} FROM alert_rules WHERE id = $1");
    sql::read_opt(client, &sql, &[&id.0], records::alert_rule).await
}

pub(super) async fn of_project<C: GenericClient>(
    client: &C,
    project_id: ProjectId,
) -> Result<Vec<AlertRule>, PgError> {
    let sql =
        format!("SELECT {ALERT_RULE_COLUMNS} FROM alert_rules WHERE project_id = $1 ORDER BY id");
    sql::read_all(client, &sql, &[&signed(project_id.0)], records::alert_rule).await
}

pub(super) async fn update<C: GenericClient>(
    client: &C,
    id: RuleId,
    settings: &AlertRuleSettings,
) -> Result<Option<AlertRule>, PgError> {
    let sql = format!(
        "UPDATE alert_rules SET name = $2, config = $3, enabled = $4 WHERE id = $1 \
         RETURNING {ALERT_RULE_COLUMNS}"
    );
    let params: sql::Params<'_> = &[&id.0, &settings.name, &settings.config, &settings.enabled];
    sql::read_opt(client, &sql, params, records::alert_rule).await
}

pub(super) async fn delete<C: GenericClient>(client: &C, id: RuleId) -> Result<bool, PgError> {
    let deleted = sql::execute(client, "DELETE FROM alert_rules WHERE id = $1", &[&id.0]).await?;
    Ok(deleted > 0)
}

/// One `UPDATE`: a second claimer waits for the first's row lock, and
/// Postgres then checks the condition again against the row the first
/// wrote, so of racing claims at most one wins.
pub(super) async fn claim_fire<C: GenericClient>(
    client: &C,
    id: RuleId,
    now: Timestamp,
    min_interval: Duration,
) -> Result<bool, PgError> {
    let claimed = sql::execute(
        client,
        "UPDATE alert_rules SET last_fired_at = $2 \
         WHERE id = $1 AND (last_fired_at IS NULL OR last_fired_at <= $3)",
        &[
            &id.0,
            &now.as_unix_micros(),
            &fire_threshold(now, min_interval),
        ],
    )
    .await?;
    Ok(claimed > 0)
}
