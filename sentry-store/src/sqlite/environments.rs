//! Environments, recorded as events name them.

use rusqlite::{Connection, params};
use sentry_core::protocol::Timestamp;
use sentry_core::store::{Environment, StoreError};
use sentry_core::{OrgId, ProjectId};

use super::{query_all, query_one, query_opt, unavailable};
use crate::records::{self, ENVIRONMENT_COLUMNS, signed};

/// Looks the environment up first: at ingest it almost always exists, and
/// a read needs no write lock.
pub(super) fn ensure(
    connection: &Connection,
    project_id: ProjectId,
    name: &str,
) -> Result<Environment, StoreError> {
    let project_id = signed(project_id.0);
    let select = format!(
        "SELECT {ENVIRONMENT_COLUMNS} FROM environments WHERE project_id = ?1 AND name = ?2"
    );
    let found = query_opt(
        connection,
        &select,
        params![project_id, name],
        records::environment,
    )?;
    if let Some(found) = found {
        return Ok(found);
    }
    connection
        .execute(
            "INSERT INTO environments (project_id, name, first_seen) VALUES (?1, ?2, ?3) \
             ON CONFLICT (project_id, name) DO NOTHING",
            params![project_id, name, Timestamp::now().as_unix_micros()],
        )
        .map_err(unavailable)?;
    query_one(
        connection,
        &select,
        params![project_id, name],
        records::environment,
    )
}

pub(super) fn of_project(
    connection: &Connection,
    project_id: ProjectId,
) -> Result<Vec<Environment>, StoreError> {
    let sql = format!(
        "SELECT {ENVIRONMENT_COLUMNS} FROM environments WHERE project_id = ?1 ORDER BY name"
    );
    query_all(
        connection,
        &sql,
        [signed(project_id.0)],
        records::environment,
    )
}

pub(super) fn of_org(
    connection: &Connection,
    org_id: OrgId,
) -> Result<Vec<Environment>, StoreError> {
    let sql = format!(
        "SELECT {ENVIRONMENT_COLUMNS} FROM environments \
         WHERE project_id IN (SELECT id FROM projects WHERE org_id = ?1) ORDER BY name, project_id"
    );
    query_all(connection, &sql, [org_id.0], records::environment)
}
