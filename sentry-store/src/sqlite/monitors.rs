//! Cron monitors and their check-ins.

use rusqlite::{Connection, params};
use sentry_core::protocol::Timestamp;
use sentry_core::store::{CheckIn, CheckInUpdate, Monitor, MonitorSettings, StoreError};
use sentry_core::{CheckInId, MonitorId, OrgId, ProjectId};

use super::{query_all, query_one, query_opt, unavailable};
use crate::records::{self, CHECKIN_COLUMNS, MONITOR_COLUMNS, signed};

pub(super) fn upsert(
    connection: &Connection,
    project_id: ProjectId,
    slug: &str,
    settings: &MonitorSettings,
) -> Result<Monitor, StoreError> {
    let sql = format!(
        "INSERT INTO monitors (project_id, slug, name, config, status, date_created) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6) \
         ON CONFLICT (project_id, slug) DO UPDATE SET \
         name = excluded.name, config = excluded.config, status = excluded.status \
         RETURNING {MONITOR_COLUMNS}"
    );
    let params = params![
        signed(project_id.0),
        slug,
        settings.name,
        settings.config,
        settings.status.as_str(),
        Timestamp::now().as_unix_micros()
    ];
    query_one(connection, &sql, params, records::monitor)
}

pub(super) fn by_id(connection: &Connection, id: MonitorId) -> Result<Option<Monitor>, StoreError> {
    let sql = format!("SELECT {MONITOR_COLUMNS} FROM monitors WHERE id = ?1");
    query_opt(connection, &sql, [id.0], records::monitor)
}

pub(super) fn by_slug(
    connection: &Connection,
    project_id: ProjectId,
    slug: &str,
) -> Result<Option<Monitor>, StoreError> {
    let sql = format!("SELECT {MONITOR_COLUMNS} FROM monitors WHERE project_id = ?1 AND slug = ?2");
    query_opt(
        connection,
        &sql,
        params![signed(project_id.0), slug],
        records::monitor,
    )
}

pub(super) fn of_project(
    connection: &Connection,
    project_id: ProjectId,
) -> Result<Vec<Monitor>, StoreError> {
    let sql = format!("SELECT {MONITOR_COLUMNS} FROM monitors WHERE project_id = ?1 ORDER BY slug");
    query_all(connection, &sql, [signed(project_id.0)], records::monitor)
}

pub(super) fn of_org(connection: &Connection, org_id: OrgId) -> Result<Vec<Monitor>, StoreError> {
    let sql = format!(
        "SELECT {MONITOR_COLUMNS} FROM monitors \
         WHERE project_id IN (SELECT id FROM projects WHERE org_id = ?1) ORDER BY slug, project_id"
    );
    query_all(connection, &sql, [org_id.0], records::monitor)
}

pub(super) fn due(connection: &Connection, before: Timestamp) -> Result<Vec<Monitor>, StoreError> {
    let sql = format!(
        "SELECT {MONITOR_COLUMNS} FROM monitors \
         WHERE status = 'active' AND next_checkin_at <= ?1 ORDER BY next_checkin_at, id"
    );
    query_all(
        connection,
        &sql,
        [before.as_unix_micros()],
        records::monitor,
    )
}

pub(super) fn update_checkins(
    connection: &Connection,
    id: MonitorId,
    last_checkin_at: Option<Timestamp>,
    next_checkin_at: Option<Timestamp>,
) -> Result<bool, StoreError> {
    let changed = connection
        .execute(
            "UPDATE monitors SET last_checkin_at = coalesce(?2, last_checkin_at), \
             next_checkin_at = ?3 WHERE id = ?1",
            params![
                id.0,
                last_checkin_at.map(|at| at.as_unix_micros()),
                next_checkin_at.map(|at| at.as_unix_micros())
            ],
        )
        .map_err(unavailable)?;
    Ok(changed > 0)
}

pub(super) fn delete(connection: &Connection, id: MonitorId) -> Result<bool, StoreError> {
    let deleted = connection
        .execute("DELETE FROM monitors WHERE id = ?1", [id.0])
        .map_err(unavailable)?;
    Ok(deleted > 0)
}

pub(super) fn insert_checkin(connection: &Connection, checkin: &CheckIn) -> Result<(), StoreError> {
    connection
        .execute(
            "INSERT INTO monitor_checkins \
             (id, monitor_id, status, duration_ms, environment, date_created, date_updated) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![
                checkin.id.as_bytes(),
                checkin.monitor_id.0,
                checkin.status.as_str(),
                checkin.duration_ms.map(signed),
                checkin.environment,
                checkin.date_created.as_unix_micros(),
                checkin.date_updated.as_unix_micros()
            ],
        )
        .map_err(unavailable)?;
    Ok(())
}

pub(super) fn update_checkin(
    connection: &Connection,
    monitor_id: MonitorId,
    id: CheckInId,
    update: &CheckInUpdate,
) -> Result<Option<CheckIn>, StoreError> {
    let sql = format!(
        "UPDATE monitor_checkins SET status = ?3, duration_ms = coalesce(?4, duration_ms), \
         date_updated = ?5 WHERE monitor_id = ?1 AND id = ?2 RETURNING {CHECKIN_COLUMNS}"
    );
    let params = params![
        monitor_id.0,
        id.as_bytes(),
        update.status.as_str(),
        update.duration_ms.map(signed),
        update.date_updated.as_unix_micros()
    ];
    query_opt(connection, &sql, params, records::checkin)
}

pub(super) fn checkins(
    connection: &Connection,
    monitor_id: MonitorId,
    limit: u64,
) -> Result<Vec<CheckIn>, StoreError> {
    let sql = format!(
        "SELECT {CHECKIN_COLUMNS} FROM monitor_checkins WHERE monitor_id = ?1 \
         ORDER BY date_created DESC, id DESC LIMIT ?2"
    );
    query_all(
        connection,
        &sql,
        params![monitor_id.0, signed(limit)],
        records::checkin,
    )
}

pub(super) fn checkins_in_progress(
    connection: &Connection,
    limit: u64,
) -> Result<Vec<CheckIn>, StoreError> {
    let sql = format!(
        "SELECT {CHECKIN_COLUMNS} FROM monitor_checkins WHERE status = 'in_progress' \
         AND monitor_id IN (SELECT id FROM monitors WHERE status = 'active') \
         ORDER BY date_created, id LIMIT ?1"
    );
    query_all(connection, &sql, params![signed(limit)], records::checkin)
}
