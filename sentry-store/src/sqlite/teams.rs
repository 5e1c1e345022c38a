//! Teams and the projects they own.

use rusqlite::{Connection, params};
use sentry_core::protocol::Timestamp;
use sentry_core::store::{Project, StoreError, Team};
use sentry_core::{OrgId, ProjectId, TeamId};

use super::{query_all, query_one, query_opt, unavailable};
use crate::records::{self, PROJECT_COLUMNS, TEAM_COLUMNS, signed};

pub(super) fn create(
    connection: &Connection,
    org_id: OrgId,
    slug: &str,
    name: &str,
) -> Result<Team, StoreError> {
    let sql = format!(
        "INSERT INTO teams (org_id, slug, name, date_created) VALUES (?1, ?2, ?3, ?4) \
         RETURNING {TEAM_COLUMNS}"
    );
    let now = Timestamp::now().as_unix_micros();
    query_one(
        connection,
        &sql,
        params![org_id.0, slug, name, now],
        records::team,
    )
}

pub(super) fn by_slug(
    connection: &Connection,
    org_id: OrgId,
    slug: &str,
) -> Result<Option<Team>, StoreError> {
    let sql = format!("SELECT {TEAM_COLUMNS} FROM teams WHERE org_id = ?1 AND slug = ?2");
    query_opt(connection, &sql, params![org_id.0, slug], records::team)
}

pub(super) fn of_org(connection: &Connection, org_id: OrgId) -> Result<Vec<Team>, StoreError> {
    let sql = format!("SELECT {TEAM_COLUMNS} FROM teams WHERE org_id = ?1 ORDER BY slug");
    query_all(connection, &sql, [org_id.0], records::team)
}

/// Links a project and a team of the same organization; returns whether they are linked.
pub(super) fn add_project(
    connection: &Connection,
    project_id: ProjectId,
    team_id: TeamId,
) -> Result<bool, StoreError> {
    let project_id = signed(project_id.0);
    connection
        .execute(
            "INSERT INTO project_teams (project_id, team_id) \
             SELECT projects.id, teams.id FROM projects JOIN teams ON teams.org_id = projects.org_id \
             WHERE projects.id = ?1 AND teams.id = ?2 \
             ON CONFLICT DO NOTHING",
            params![project_id, team_id.0],
        )
        .map_err(unavailable)?;
    linked(connection, project_id, team_id)
}

fn linked(connection: &Connection, project_id: i64, team_id: TeamId) -> Result<bool, StoreError> {
    connection
        .query_row(
            "SELECT EXISTS (SELECT 1 FROM project_teams WHERE project_id = ?1 AND team_id = ?2)",
            params![project_id, team_id.0],
            |row| row.get(0),
        )
        .map_err(unavailable)
}

pub(super) fn remove_project(
    connection: &Connection,
    project_id: ProjectId,
    team_id: TeamId,
) -> Result<bool, StoreError> {
    let removed = connection
        .execute(
            "DELETE FROM project_teams WHERE project_id = ?1 AND team_id = ?2",
            params![signed(project_id.0), team_id.0],
        )
        .map_err(unavailable)?;
    Ok(removed > 0)
}

pub(super) fn of_project(
    connection: &Connection,
    project_id: ProjectId,
) -> Result<Vec<Team>, StoreError> {
    let sql = format!(
        "SELECT {TEAM_COLUMNS} FROM teams \
         WHERE id IN (SELECT team_id FROM project_teams WHERE project_id = ?1) ORDER BY slug"
    );
    query_all(connection, &sql, [signed(project_id.0)], records::team)
}

pub(super) fn projects(
    connection: &Connection,
    team_id: TeamId,
) -> Result<Vec<Project>, StoreError> {
    let sql = format!(
        "SELECT {PROJECT_COLUMNS} FROM projects \
         WHERE id IN (SELECT project_id FROM project_teams WHERE team_id = ?1) ORDER BY slug"
    );
    query_all(connection, &sql, [team_id.0], records::project)
}
