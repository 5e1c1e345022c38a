//! Cron monitors and their check-ins.

use deadpool_postgres::GenericClient;
use sentry_core::protocol::Timestamp;
use sentry_core::store::{CheckIn, CheckInUpdate, Monitor, MonitorSettings};
use sentry_core::{CheckInId, MonitorId, OrgId, ProjectId};

use super::error::PgError;
use super::sql;
use crate::records::{self, CHECKIN_COLUMNS, MONITOR_COLUMNS, signed};

pub(super) async fn upsert<C: GenericClient>(
    client: &C,
    project_id: ProjectId,
    slug: &str,
    settings: &MonitorSettings,
) -> Result<Monitor, PgError> {
    let sql = format!(
        "INSERT INTO monitors (project_id, slug, name, config, status, date_created) \
         VALUES ($1, $2, $3, $4, $5, $6) \
         ON CONFLICT (project_id, slug) DO UPDATE SET \
         name = excluded.name, config = excluded.config, status = excluded.status \
         RETURNING {MONITOR_COLUMNS}"
    );
    let params: sql::Params<'_> = &[
        &signed(project_id.0),
        &slug,
        &settings.name,
        &settings.config,
        &settings.status.as_str(),
        &Timestamp::now().as_unix_micros(),
    ];
    sql::read_one(client, &sql, params, records::monitor).await
}

pub(super) async fn by_id<C: GenericClient>(
    client: &C,
    id: MonitorId,
) -> Result<Option<Monitor>, PgError> {
    let sql = format!("SELECT {MONITOR_COLUMNS} FROM monitors WHERE id = $1");
    sql::read_opt(client, &sql, &[&id.0], records::monitor).await
}

pub(super) async fn by_slug<C: GenericClient>(
    client: &C,
    project_id: ProjectId,
    slug: &str,
) -> Result<Option<Monitor>, PgError> {
    let sql = format!("SELECT {MONITOR_COLUMNS} FROM monitors WHERE project_id = $1 AND slug = $2");
    sql::read_opt(
        client,
        &sql,
        &[&signed(project_id.0), &slug],
        records::monitor,
    )
    .await
}

pub(super) async fn of_project<C: GenericClient>(
    client: &C,
    project_id: ProjectId,
) -> Result<Vec<Monitor>, PgError> {
    let sql = format!("SELECT {MONITOR_COLUMNS} FROM monitors WHERE project_id = $1 ORDER BY slug");
    sql::read_all(client, &sql, &[&signed(project_id.0)], records::monitor).await
}

pub(super) async fn of_org<C: GenericClient>(
    client: &C,
    org_id: OrgId,
) -> Result<Vec<Monitor>, PgError> {
    let sql = format!(
        "SELECT {MONITOR_COLUMNS} FROM monitors \
         WHERE project_id IN (SELECT id FROM projects WHERE org_id = $1) ORDER BY slug, project_id"
    );
    sql::read_all(client, &sql, &[&org_id.0], records::monitor).await
}

pub(super) async fn due<C: GenericClient>(
    client: &C,
    before: Timestamp,
) -> Result<Vec<Monitor>, PgError> {
    let sql = format!(
        "SELECT {MONITOR_COLUMNS} FROM monitors \
         WHERE status = 'active' AND next_checkin_at <= $1 ORDER BY next_checkin_at, id"
    );
    sql::read_all(client, &sql, &[&before.as_unix_micros()], records::monitor).await
}

pub(super) async fn update_checkins<C: GenericClient>(
    client: &C,
    id: MonitorId,
    last_checkin_at: Option<Timestamp>,
    next_checkin_at: Option<Timestamp>,
) -> Result<bool, PgError> {
    let changed = sql::execute(
        client,
        "UPDATE monitors SET last_checkin_at = COALESCE($2, last_checkin_at), \
         next_checkin_at = $3 WHERE id = $1",
        &[
            &id.0,
            &last_checkin_at.map(|at| at.as_unix_micros()),
            &next_checkin_at.map(|at| at.as_unix_micros()),
        ],
    )
    .await?;
    Ok(changed > 0)
}

pub(super) async fn delete<C: GenericClient>(client: &C, id: MonitorId) -> Result<bool, PgError> {
    let deleted = sql::execute(client, "DELETE FROM monitors WHERE id = $1", &[&id.0]).await?;
    Ok(deleted > 0)
}

pub(super) async fn insert_checkin<C: GenericClient>(
    client: &C,
    checkin: &CheckIn,
) -> Result<(), PgError> {
    sql::execute(
        client,
        "INSERT INTO monitor_checkins \
         (id, monitor_id, status, duration_ms, environment, date_created, date_updated) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
        &[
            &&checkin.id.as_bytes()[..],
            &checkin.monitor_id.0,
            &checkin.status.as_str(),
            &checkin.duration_ms.map(signed),
            &checkin.environment,
            &checkin.date_created.as_unix_micros(),
            &checkin.date_updated.as_unix_micros(),
        ],
    )
    .await?;
    Ok(())
}

pub(super) async fn update_checkin<C: GenericClient>(
    client: &C,
    monitor_id: MonitorId,
    id: CheckInId,
    update: &CheckInUpdate,
) -> Result<Option<CheckIn>, PgError> {
    let sql = format!(
        "UPDATE monitor_checkins SET status = $3, duration_ms = COALESCE($4, duration_ms), \
         date_updated = $5 WHERE monitor_id = $1 AND id = $2 RETURNING {CHECKIN_COLUMNS}"
    );
    let params: sql::Params<'_> = &[
        &monitor_id.0,
        &&id.as_bytes()[..],
        &update.status.as_str(),
        &update.duration_ms.map(signed),
        &update.date_updated.as_unix_micros(),
    ];
    sql::read_opt(client, &sql, params, records::checkin).await
}

pub(super) async fn checkins<C: GenericClient>(
    client: &C,
    monitor_id: MonitorId,
    limit: u64,
) -> Result<Vec<CheckIn>, PgError> {
    let sql = format!(
        "SELECT {CHECKIN_COLUMNS} FROM monitor_checkins WHERE monitor_id = $1 \
         ORDER BY date_created DESC, id DESC LIMIT $2"
    );
    let params: sql::Params<'_> = &[&monitor_id.0, &signed(limit)];
    sql::read_all(client, &sql, params, records::checkin).await
}

pub(super) async fn checkins_in_progress<C: GenericClient>(
    client: &C,
    limit: u64,
) -> Result<Vec<CheckIn>, PgError> {
    let sql = format!(
        "SELECT {CHECKIN_COLUMNS} FROM monitor_checkins WHERE status = 'in_progress' \
         AND monitor_id IN (SELECT id FROM monitors WHERE status = 'active') \
         ORDER BY date_created, id LIMIT $1"
    );
    let params: sql::Params<'_> = &[&signed(limit)];
    sql::read_all(client, &sql, params, records::checkin).await
}
