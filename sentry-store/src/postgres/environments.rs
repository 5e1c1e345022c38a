//! Environments, recorded as events name them.

use deadpool_postgres::GenericClient;
use sentry_core::protocol::Timestamp;
use sentry_core::store::Environment;
use sentry_core::{OrgId, ProjectId};

use super::error::PgError;
use super::sql;
use crate::records::{self, ENVIRONMENT_COLUMNS, signed};

/// Looks the environment up first: at ingest it almost always exists, and
/// a read takes no lock.
pub(super) async fn ensure<C: GenericClient>(
    client: &C,
    project_id: ProjectId,
    name: &str,
) -> Result<Environment, PgError> {
    let project_id = signed(project_id.0);
    let select = format!(
        "SELECT {ENVIRONMENT_COLUMNS} FROM environments WHERE project_id = $1 AND name = $2"
    );
    let params: sql::Params<'_> = &[&project_id, &name];
    if let Some(found) = sql::read_opt(client, &select, params, records::environment).await? {
        return Ok(found);
    }
    sql::execute(
        client,
        "INSERT INTO environments (project_id, name, first_seen) VALUES ($1, $2, $3) \
         ON CONFLICT (project_id, name) DO NOTHING",
        &[&project_id, &name, &Timestamp::now().as_unix_micros()],
    )
    .await?;
    sql::read_opt(client, &select, params, records::environment)
        .await?
        .ok_or(PgError::Vanished("environment"))
}

pub(super) async fn of_project<C: GenericClient>(
    client: &C,
    project_id: ProjectId,
) -> Result<Vec<Environment>, PgError> {
    let sql = format!(
        "SELECT {ENVIRONMENT_COLUMNS} FROM environments WHERE project_id = $1 ORDER BY name"
    );
    sql::read_all(client, &sql, &[&signed(project_id.0)], records::environment).await
}

pub(super) async fn of_org<C: GenericClient>(
    client: &C,
    org_id: OrgId,
) -> Result<Vec<Environment>, PgError> {
    let sql = format!(
        "SELECT {ENVIRONMENT_COLUMNS} FROM environments \
         WHERE project_id IN (SELECT id FROM projects WHERE org_id = $1) ORDER BY name, project_id"
    );
    sql::read_all(client, &sql, &[&org_id.0], records::environment).await
}
