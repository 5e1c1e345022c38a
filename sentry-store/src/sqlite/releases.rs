//! Releases, the projects they ship, and their deploys.

use rusqlite::{Connection, params};
use sentry_core::protocol::Timestamp;
use sentry_core::store::{
    Deploy, NewDeploy, Page, Release, ReleaseQuery, ReleaseUpdate, StoreError,
};
use sentry_core::{OrgId, ProjectId, ReleaseId};

use super::{corrupt, query_all, query_one, query_opt, unavailable};
use crate::records::{self, DEPLOY_COLUMNS, RELEASE_COLUMNS, signed};

/// The release's project ids, comma-separated, after [`RELEASE_COLUMNS`].
const PROJECT_IDS: &str =
    "(SELECT group_concat(project_id) FROM release_projects WHERE release_id = releases.id)";

fn select(filter: &str) -> String {
    format!("SELECT {RELEASE_COLUMNS}, {PROJECT_IDS} FROM releases WHERE {filter}")
}

const BY_VERSION: &str = "org_id = ?1 AND version = ?2";

/// Releases of an organization, optionally whose version contains a
/// pattern and that ship one of some projects (a JSON array; `[]` for any).
const LIST: &str = r"org_id = ?1
       AND (?2 IS NULL OR version LIKE ?2 ESCAPE '\')
       AND (?3 = '[]' OR EXISTS (
         SELECT 1 FROM release_projects
         WHERE release_id = releases.id AND project_id IN (SELECT value FROM json_each(?3))))
     ORDER BY date_created DESC, id DESC LIMIT ?4 OFFSET ?5";

/// The project ids as a JSON array, for `json_each`.
fn project_list(project_ids: &[ProjectId]) -> Result<String, StoreError> {
    let ids: Vec<i64> = project_ids.iter().map(|id| signed(id.0)).collect();
    serde_json::to_string(&ids).map_err(corrupt)
}

pub(super) fn ensure(
    connection: &mut Connection,
    org_id: OrgId,
    version: &str,
    project_ids: &[ProjectId],
) -> Result<Release, StoreError> {
    let projects = project_list(project_ids)?;
    let transaction = connection.transaction().map_err(unavailable)?;
    transaction
        .execute(
            "INSERT INTO releases (org_id, version, date_created) VALUES (?1, ?2, ?3) \
             ON CONFLICT (org_id, version) DO NOTHING",
            params![org_id.0, version, Timestamp::now().as_unix_micros()],
        )
        .map_err(unavailable)?;
    transaction
        .execute(
            "INSERT INTO release_projects (release_id, project_id) \
             SELECT releases.id, projects.id FROM releases JOIN projects ON projects.org_id = releases.org_id \
             WHERE releases.org_id = ?1 AND releases.version = ?2 \
               AND projects.id IN (SELECT value FROM json_each(?3)) \
             ON CONFLICT DO NOTHING",
            params![org_id.0, version, projects],
        )
        .map_err(unavailable)?;
    let release = query_one(
        &transaction,
        &select(BY_VERSION),
        params![org_id.0, version],
        records::release,
    )?;
    transaction.commit().map_err(unavailable)?;
    Ok(release)
}

pub(super) fn by_version(
    connection: &Connection,
    org_id: OrgId,
    version: &str,
) -> Result<Option<Release>, StoreError> {
    query_opt(
        connection,
        &select(BY_VERSION),
        params![org_id.0, version],
        records::release,
    )
}

pub(super) fn update(
    connection: &Connection,
    org_id: OrgId,
    version: &str,
    update: &ReleaseUpdate,
) -> Result<Option<Release>, StoreError> {
    connection
        .execute(
            "UPDATE releases SET reference = coalesce(?3, reference), url = coalesce(?4, url), \
             date_released = coalesce(?5, date_released) WHERE org_id = ?1 AND version = ?2",
            params![
                org_id.0,
                version,
                update.reference,
                update.url,
                update.date_released.map(|at| at.as_unix_micros())
            ],
        )
        .map_err(unavailable)?;
    by_version(connection, org_id, version)
}

pub(super) fn list(
    connection: &Connection,
    query: &ReleaseQuery,
) -> Result<Page<Release>, StoreError> {
    let pattern = query
        .query
        .as_deref()
        .map(crate::text_search::contains_pattern);
    let params = params![
        query.org_id.0,
        pattern,
        project_list(&query.project_ids)?,
        signed(query.limit).saturating_add(1),
        signed(query.offset)
    ];
    let items = query_all(connection, &select(LIST), params, records::release)?;
    Ok(records::page(items, query.limit))
}

pub(super) fn delete(
    connection: &Connection,
    org_id: OrgId,
    version: &str,
) -> Result<bool, StoreError> {
    let deleted = connection
        .execute(
            "DELETE FROM releases WHERE org_id = ?1 AND version = ?2",
            params![org_id.0, version],
        )
        .map_err(unavailable)?;
    Ok(deleted > 0)
}

pub(super) fn create_deploy(
    connection: &Connection,
    release_id: ReleaseId,
    deploy: &NewDeploy,
) -> Result<Deploy, StoreError> {
    let sql = format!(
        "INSERT INTO deploys (release_id, environment, name, url, date_started, date_finished) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6) RETURNING {DEPLOY_COLUMNS}"
    );
    let params = params![
        release_id.0,
        deploy.environment,
        deploy.name,
        deploy.url,
        deploy.date_started.map(|at| at.as_unix_micros()),
        deploy.date_finished.as_unix_micros()
    ];
    query_one(connection, &sql, params, records::deploy)
}

pub(super) fn deploys(
    connection: &Connection,
    release_id: ReleaseId,
) -> Result<Vec<Deploy>, StoreError> {
    let sql = format!(
        "SELECT {DEPLOY_COLUMNS} FROM deploys WHERE release_id = ?1 \
         ORDER BY date_finished DESC, id DESC"
    );
    query_all(connection, &sql, [release_id.0], records::deploy)
}
