//! [`MetadataStore`] for [`PostgresStore`]: organizations, projects, keys,
//! tokens and settings here, issues in [`super::issues`].

use sentry_core::protocol::Timestamp;
use sentry_core::store::{
    ApiToken, Issue, IssueEvent, IssueQuery, IssueStatus, KeyRecord, MetadataStore, Organization,
    Page, Project, StoreError,
};
use sentry_core::{IssueId, OrgId, ProjectId, ProjectKey};
use tokio_postgres::Row;

use super::error::PgError;
use super::{PostgresStore, issues, sql};

const ORGANIZATION_COLUMNS: &str = "SELECT id, slug, name, date_created FROM organizations";
const PROJECT_COLUMNS: &str = "SELECT id, org_id, slug, name, platform, date_created FROM projects";
const KEY_COLUMNS: &str =
    "SELECT public_key, project_id, label, is_active, date_created FROM project_keys";
const TOKEN_COLUMNS: &str = "SELECT token, org_id, scopes, name, date_created FROM api_tokens";

/// Reads unix microseconds.
pub(super) fn timestamp(column: &'static str, micros: i64) -> Result<Timestamp, PgError> {
    Timestamp::from_unix_micros(micros).ok_or_else(|| PgError::Value {
        column,
        value: micros.to_string(),
    })
}

/// Reads a count or id that cannot be negative.
pub(super) fn unsigned(column: &'static str, value: i64) -> Result<u64, PgError> {
    u64::try_from(value).map_err(|_| PgError::Value {
        column,
        value: value.to_string(),
    })
}

/// The stored form of a project id; `None` for an id no row can have.
pub(super) fn project_key(id: ProjectId) -> Option<i64> {
    i64::try_from(id.0).ok()
}

/// The stored form of a project id that is about to be written.
pub(super) fn required_project_key(id: ProjectId) -> Result<i64, PgError> {
    project_key(id).ok_or(PgError::IdOutOfRange("project", id.0))
}

fn organization_row(row: &Row) -> Result<Organization, PgError> {
    Ok(Organization {
        id: OrgId(row.try_get(0)?),
        slug: row.try_get(1)?,
        name: row.try_get(2)?,
        date_created: timestamp("date_created", row.try_get(3)?)?,
    })
}

fn project_row(row: &Row) -> Result<Project, PgError> {
    Ok(Project {
        id: ProjectId(unsigned("id", row.try_get(0)?)?),
        org_id: OrgId(row.try_get(1)?),
        slug: row.try_get(2)?,
        name: row.try_get(3)?,
        platform: row.try_get(4)?,
        date_created: timestamp("date_created", row.try_get(5)?)?,
    })
}

fn key_row(row: &Row) -> Result<KeyRecord, PgError> {
    let public_key: String = row.try_get(0)?;
    Ok(KeyRecord {
        public_key: public_key.parse().map_err(|_| PgError::Value {
            column: "public_key",
            value: public_key.clone(),
        })?,
        project_id: ProjectId(unsigned("project_id", row.try_get(1)?)?),
        label: row.try_get(2)?,
        is_active: row.try_get(3)?,
        date_created: timestamp("date_created", row.try_get(4)?)?,
    })
}

fn token_row(row: &Row) -> Result<ApiToken, PgError> {
    let scopes: String = row.try_get(2)?;
    Ok(ApiToken {
        token: row.try_get(0)?,
        org_id: OrgId(row.try_get(1)?),
        scopes: scopes.split_whitespace().map(str::to_owned).collect(),
        name: row.try_get(3)?,
        date_created: timestamp("date_created", row.try_get(4)?)?,
    })
}

/// Converts every row, stopping at the first that cannot be read.
fn rows<T>(rows: &[Row], convert: fn(&Row) -> Result<T, PgError>) -> Result<Vec<T>, PgError> {
    rows.iter().map(convert).collect()
}

impl PostgresStore {
    async fn select_organization(
        &self,
        filter: &str,
        param: &(dyn tokio_postgres::types::ToSql + Sync),
    ) -> Result<Option<Organization>, PgError> {
        let client = self.client().await?;
        let sql = format!("{ORGANIZATION_COLUMNS} WHERE {filter} = $1");
        let row = sql::query_opt(&client, &sql, &[param]).await?;
        row.as_ref().map(organization_row).transpose()
    }

    async fn select_project(
        &self,
        filter: &str,
        params: sql::Params<'_>,
    ) -> Result<Option<Project>, PgError> {
        let client = self.client().await?;
        let sql = format!("{PROJECT_COLUMNS} WHERE {filter}");
        let row = sql::query_opt(&client, &sql, params).await?;
        row.as_ref().map(project_row).transpose()
    }
}

impl MetadataStore for PostgresStore {
    async fn ensure_organization(&self, slug: &str) -> Result<Organization, StoreError> {
        let client = self.client().await?;
        sql::execute(
            &client,
            "INSERT INTO organizations (slug, name, date_created) VALUES ($1, $1, $2) \
             ON CONFLICT (slug) DO NOTHING",
            &[&slug, &Timestamp::now().as_unix_micros()],
        )
        .await?;
        drop(client);
        let found = self.select_organization("slug", &slug).await?;
        Ok(found.ok_or(PgError::Vanished("organization"))?)
    }

    async fn organization_by_slug(&self, slug: &str) -> Result<Option<Organization>, StoreError> {
        Ok(self.select_organization("slug", &slug).await?)
    }

    async fn organizations(&self) -> Result<Vec<Organization>, StoreError> {
        let client = self.client().await?;
        let sql = format!("{ORGANIZATION_COLUMNS} ORDER BY slug");
        let found = sql::query(&client, &sql, &[]).await?;
        Ok(rows(&found, organization_row)?)
    }

    async fn organization(&self, id: OrgId) -> Result<Option<Organization>, StoreError> {
        Ok(self.select_organization("id", &id.0).await?)
    }

    async fn ensure_project(&self, org_id: OrgId, slug: &str) -> Result<Project, StoreError> {
        let client = self.client().await?;
        sql::execute(
            &client,
            "INSERT INTO projects (org_id, slug, name, date_created) VALUES ($1, $2, $2, $3) \
             ON CONFLICT (org_id, slug) DO NOTHING",
            &[&org_id.0, &slug, &Timestamp::now().as_unix_micros()],
        )
        .await?;
        drop(client);
        let found = self.project_by_slug(org_id, slug).await?;
        Ok(found.ok_or(PgError::Vanished("project"))?)
    }

    async fn project(&self, id: ProjectId) -> Result<Option<Project>, StoreError> {
        let Some(id) = project_key(id) else {
            return Ok(None);
        };
        Ok(self.select_project("id = $1", &[&id]).await?)
    }

    async fn project_by_slug(
        &self,
        org_id: OrgId,
        slug: &str,
    ) -> Result<Option<Project>, StoreError> {
        Ok(self
            .select_project("org_id = $1 AND slug = $2", &[&org_id.0, &slug])
            .await?)
    }

    async fn projects(&self, org_id: OrgId) -> Result<Vec<Project>, StoreError> {
        let client = self.client().await?;
        let sql = format!("{PROJECT_COLUMNS} WHERE org_id = $1 ORDER BY slug");
        let found = sql::query(&client, &sql, &[&org_id.0]).await?;
        Ok(rows(&found, project_row)?)
    }

    async fn insert_key(&self, key: &KeyRecord) -> Result<(), StoreError> {
        let project_id = required_project_key(key.project_id)?;
        let client = self.client().await?;
        sql::execute(
            &client,
            "INSERT INTO project_keys (public_key, project_id, label, is_active, date_created) \
             VALUES ($1, $2, $3, $4, $5)",
            &[
                &key.public_key.as_str(),
                &project_id,
                &key.label,
                &key.is_active,
                &key.date_created.as_unix_micros(),
            ],
        )
        .await?;
        Ok(())
    }

    async fn project_keys(&self, project_id: ProjectId) -> Result<Vec<KeyRecord>, StoreError> {
        let Some(project_id) = project_key(project_id) else {
            return Ok(Vec::new());
        };
        let client = self.client().await?;
        let sql = format!("{KEY_COLUMNS} WHERE project_id = $1 ORDER BY date_created, public_key");
        let found = sql::query(&client, &sql, &[&project_id]).await?;
        Ok(rows(&found, key_row)?)
    }

    async fn key(&self, public_key: &ProjectKey) -> Result<Option<KeyRecord>, StoreError> {
        let client = self.client().await?;
        let sql = format!("{KEY_COLUMNS} WHERE public_key = $1");
        let row = sql::query_opt(&client, &sql, &[&public_key.as_str()]).await?;
        Ok(row.as_ref().map(key_row).transpose()?)
    }

    async fn insert_token(&self, token: &ApiToken) -> Result<(), StoreError> {
        let client = self.client().await?;
        sql::execute(
            &client,
            "INSERT INTO api_tokens (token, org_id, scopes, name, date_created) \
             VALUES ($1, $2, $3, $4, $5)",
            &[
                &token.token,
                &token.org_id.0,
                &token.scopes.join(" "),
                &token.name,
                &token.date_created.as_unix_micros(),
            ],
        )
        .await?;
        Ok(())
    }

    async fn token(&self, token: &str) -> Result<Option<ApiToken>, StoreError> {
        let client = self.client().await?;
        let sql = format!("{TOKEN_COLUMNS} WHERE token = $1");
        let row = sql::query_opt(&client, &sql, &[&token]).await?;
        Ok(row.as_ref().map(token_row).transpose()?)
    }

    async fn org_tokens(&self, org_id: OrgId) -> Result<Vec<ApiToken>, StoreError> {
        let client = self.client().await?;
        let sql = format!("{TOKEN_COLUMNS} WHERE org_id = $1 ORDER BY date_created, token");
        let found = sql::query(&client, &sql, &[&org_id.0]).await?;
        Ok(rows(&found, token_row)?)
    }

    async fn record_issue_event(&self, event: &IssueEvent) -> Result<Issue, StoreError> {
        let mut client = self.client().await?;
        Ok(issues::record(&mut client, event).await?)
    }

    async fn issue(&self, id: IssueId) -> Result<Option<Issue>, StoreError> {
        let client = self.client().await?;
        Ok(issues::select(&client, id.0).await?)
    }

    async fn list_issues(&self, query: &IssueQuery) -> Result<Page<Issue>, StoreError> {
        let client = self.client().await?;
        Ok(issues::list(&client, query).await?)
    }

    async fn project_option(
        &self,
        project_id: ProjectId,
        key: &str,
    ) -> Result<Option<String>, StoreError> {
        let Some(project_id) = project_key(project_id) else {
            return Ok(None);
        };
        let client = self.client().await?;
        let row = sql::query_opt(
            &client,
            "SELECT value FROM project_options WHERE project_id = $1 AND key = $2",
            &[&project_id, &key],
        )
        .await?;
        Ok(row
            .map(|row| row.try_get(0))
            .transpose()
            .map_err(PgError::from)?)
    }

    async fn set_project_option(
        &self,
        project_id: ProjectId,
        key: &str,
        value: Option<&str>,
    ) -> Result<(), StoreError> {
        let project_id = required_project_key(project_id)?;
        let client = self.client().await?;
        match value {
            Some(value) => {
                sql::execute(
                    &client,
                    "INSERT INTO project_options (project_id, key, value) VALUES ($1, $2, $3) \
                     ON CONFLICT (project_id, key) DO UPDATE SET value = excluded.value",
                    &[&project_id, &key, &value],
                )
                .await?
            }
            None => {
                sql::execute(
                    &client,
                    "DELETE FROM project_options WHERE project_id = $1 AND key = $2",
                    &[&project_id, &key],
                )
                .await?
            }
        };
        Ok(())
    }

    async fn set_issue_status(
        &self,
        id: IssueId,
        status: IssueStatus,
    ) -> Result<Option<Issue>, StoreError> {
        let client = self.client().await?;
        Ok(issues::set_status(&client, id.0, status).await?)
    }
}
