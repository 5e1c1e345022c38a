//! Releases, the projects they ship, and their deploys.

use deadpool_postgres::{GenericClient, Object};
use sentry_core::protocol::Timestamp;
use sentry_core::store::{Deploy, NewDeploy, Page, Release, ReleaseQuery, ReleaseUpdate};
use sentry_core::{OrgId, ProjectId, ReleaseId};

use super::error::PgError;
use super::sql;
use crate::records::{self, DEPLOY_COLUMNS, RELEASE_COLUMNS, signed};

/// The release's project ids, comma-separated, after [`RELEASE_COLUMNS`].
const PROJECT_IDS: &str = "(SELECT string_agg(project_id::text, ',') FROM release_projects \
     WHERE release_id = releases.id)";

fn select(filter: &str) -> String {
    format!("SELECT {RELEASE_COLUMNS}, {PROJECT_IDS} FROM releases WHERE {filter}")
}

const BY_VERSION: &str = "org_id = $1 AND version = $2";

/// Releases of an organization, optionally whose version contains a
/// pattern and that ship one of some projects (empty for any).
const LIST: &str = r"org_id = $1
       AND ($2::text IS NULL OR version ILIKE $2::text ESCAPE E'\\')
       AND (cardinality($3::bigint[]) = 0 OR EXISTS (
         SELECT 1 FROM release_projects
         WHERE release_id = releases.id AND project_id = ANY($3::bigint[])))
     ORDER BY date_created DESC, id DESC LIMIT $4 OFFSET $5";

/// Links a release to those of some projects that share its organization.
const LINK_PROJECTS: &str = "INSERT INTO release_projects (release_id, project_id) \
     SELECT releases.id, projects.id FROM releases JOIN projects ON projects.org_id = releases.org_id \
     WHERE releases.org_id = $1 AND releases.version = $2 AND projects.id = ANY($3::bigint[]) \
     ON CONFLICT DO NOTHING";

fn project_list(project_ids: &[ProjectId]) -> Vec<i64> {
    project_ids.iter().map(|id| signed(id.0)).collect()
}

pub(super) async fn ensure(
    client: &mut Object,
    org_id: OrgId,
    version: &str,
    project_ids: &[ProjectId],
) -> Result<Release, PgError> {
    let projects = project_list(project_ids);
    let transaction = client.transaction().await?;
    sql::execute(
        &transaction,
        "INSERT INTO releases (org_id, version, date_created) VALUES ($1, $2, $3) \
         ON CONFLICT (org_id, version) DO NOTHING",
        &[&org_id.0, &version, &Timestamp::now().as_unix_micros()],
    )
    .await?;
    sql::execute(
        &transaction,
        LINK_PROJECTS,
        &[&org_id.0, &version, &projects],
    )
    .await?;
    let release = sql::read_opt(
        &transaction,
        &select(BY_VERSION),
        &[&org_id.0, &version],
        records::release,
    )
    .await?
    .ok_or(PgError::Vanished("release"))?;
    transaction.commit().await?;
    Ok(release)
}

pub(super) async fn by_version<C: GenericClient>(
    client: &C,
    org_id: OrgId,
    version: &str,
) -> Result<Option<Release>, PgError> {
    let sql = select(BY_VERSION);
    sql::read_opt(client, &sql, &[&org_id.0, &version], records::release).await
}

pub(super) async fn update<C: GenericClient>(
    client: &C,
    org_id: OrgId,
    version: &str,
    update: &ReleaseUpdate,
) -> Result<Option<Release>, PgError> {
    sql::execute(
        client,
        "UPDATE releases SET reference = COALESCE($3, reference), url = COALESCE($4, url), \
         date_released = COALESCE($5, date_released) WHERE org_id = $1 AND version = $2",
        &[
            &org_id.0,
            &version,
            &update.reference,
            &update.url,
            &update.date_released.map(|at| at.as_unix_micros()),
        ],
    )
    .await?;
    by_version(client, org_id, version).await
}

pub(super) async fn list<C: GenericClient>(
    client: &C,
    query: &ReleaseQuery,
) -> Result<Page<Release>, PgError> {
    let pattern = query
        .query
        .as_deref()
        .map(crate::text_search::contains_pattern);
    let params: sql::Params<'_> = &[
        &query.org_id.0,
        &pattern,
        &project_list(&query.project_ids),
        &signed(query.limit).saturating_add(1),
        &signed(query.offset),
    ];
    let items = sql::read_all(client, &select(LIST), params, records::release).await?;
    Ok(records::page(items, query.limit))
}

pub(super) async fn delete<C: GenericClient>(
    client: &C,
    org_id: OrgId,
    version: &str,
) -> Result<bool, PgError> {
    let deleted = sql::execute(
        client,
        "DELETE FROM releases WHERE org_id = $1 AND version = $2",
        &[&org_id.0, &version],
    )
    .await?;
    Ok(deleted > 0)
}

pub(super) async fn create_deploy<C: GenericClient>(
    client: &C,
    release_id: ReleaseId,
    deploy: &NewDeploy,
) -> Result<Deploy, PgError> {
    let sql = format!(
        "INSERT INTO deploys (release_id, environment, name, url, date_started, date_finished) \
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING {DEPLOY_COLUMNS}"
    );
    let params: sql::Params<'_> = &[
        &release_id.0,
        &deploy.environment,
        &deploy.name,
        &deploy.url,
        &deploy.date_started.map(|at| at.as_unix_micros()),
        &deploy.date_finished.as_unix_micros(),
    ];
    sql::read_one(client, &sql, params, records::deploy).await
}

pub(super) async fn deploys<C: GenericClient>(
    client: &C,
    release_id: ReleaseId,
) -> Result<Vec<Deploy>, PgError> {
    let sql = format!(
        "SELECT {DEPLOY_COLUMNS} FROM deploys WHERE release_id = $1 \
         ORDER BY date_finished DESC, id DESC"
    );
    sql::read_all(client, &sql, &[&release_id.0], records::deploy).await
}
