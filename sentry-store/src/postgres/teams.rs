//! Teams and the projects they own.

use deadpool_postgres::GenericClient;
use sentry_core::protocol::Timestamp;
use sentry_core::store::{Project, Team};
use sentry_core::{OrgId, ProjectId, TeamId};

use super::error::PgError;
use super::sql;
use crate::records::{self, PROJECT_COLUMNS, TEAM_COLUMNS, signed};

/// Links a project and a team of the same organization, then tells
/// whether they are linked (the insert's row is not visible to the
/// statement's own `SELECT`, hence both branches).
const ADD_PROJECT: &str = "WITH added AS ( \
         INSERT INTO project_teams (project_id, team_id) \
         SELECT projects.id, teams.id FROM projects JOIN teams ON teams.org_id = projects.org_id \
         WHERE projects.id = $1 AND teams.id = $2 \
         ON CONFLICT DO NOTHING RETURNING 1) \
     SELECT EXISTS (SELECT 1 FROM added) \
         OR EXISTS (SELECT 1 FROM project_teams WHERE project_id = $1 AND team_id = $2)";

pub(super) async fn create<C: GenericClient>(
    client: &C,
    org_id: OrgId,
    slug: &str,
    name: &str,
) -> Result<Team, PgError> {
    let sql = format!(
        "INSERT INTO teams (org_id, slug, name, date_created) VALUES ($1, $2, $3, $4) \
         RETURNING {TEAM_COLUMNS}"
    );
    let now = Timestamp::now().as_unix_micros();
    sql::read_one(
        client,
        &sql,
        &[&org_id.0, &slug, &name, &now],
        records::team,
    )
    .await
}

pub(super) async fn by_slug<C: GenericClient>(
    client: &C,
    org_id: OrgId,
    slug: &str,
) -> Result<Option<Team>, PgError> {
    let sql = format!("SELECT {TEAM_COLUMNS} FROM teams WHERE org_id = $1 AND slug = $2");
    sql::read_opt(client, &sql, &[&org_id.0, &slug], records::team).await
}

pub(super) async fn of_org<C: GenericClient>(
    client: &C,
    org_id: OrgId,
) -> Result<Vec<Team>, PgError> {
    let sql = format!("SELECT {TEAM_COLUMNS} FROM teams WHERE org_id = $1 ORDER BY slug");
    sql::read_all(client, &sql, &[&org_id.0], records::team).await
}

pub(super) async fn add_project<C: GenericClient>(
    client: &C,
    project_id: ProjectId,
    team_id: TeamId,
) -> Result<bool, PgError> {
    let row = sql::query_one(client, ADD_PROJECT, &[&signed(project_id.0), &team_id.0]).await?;
    Ok(row.try_get(0)?)
}

pub(super) async fn remove_project<C: GenericClient>(
    client: &C,
    project_id: ProjectId,
    team_id: TeamId,
) -> Result<bool, PgError> {
    let removed = sql::execute(
        client,
        "DELETE FROM project_teams WHERE project_id = $1 AND team_id = $2",
        &[&signed(project_id.0), &team_id.0],
    )
    .await?;
    Ok(removed > 0)
}

pub(super) async fn of_project<C: GenericClient>(
    client: &C,
    project_id: ProjectId,
) -> Result<Vec<Team>, PgError> {
    let sql = format!(
        "SELECT {TEAM_COLUMNS} FROM teams \
         WHERE id IN (SELECT team_id FROM project_teams WHERE project_id = $1) ORDER BY slug"
    );
    sql::read_all(client, &sql, &[&signed(project_id.0)], records::team).await
}

pub(super) async fn projects<C: GenericClient>(
    client: &C,
    team_id: TeamId,
) -> Result<Vec<Project>, PgError> {
    let sql = format!(
        "SELECT {PROJECT_COLUMNS} FROM projects \
         WHERE id IN (SELECT project_id FROM project_teams WHERE team_id = $1) ORDER BY slug"
    );
    sql::read_all(client, &sql, &[&team_id.0], records::project).await
}
