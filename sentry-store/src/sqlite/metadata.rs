//! The metadata half of the SQLite backend.

use rusqlite::{OptionalExtension, Row, params};
use sentry_core::protocol::{Level, Timestamp};
use sentry_core::store::{
    ApiToken, Issue, IssueEvent, IssueQuery, IssueStatus, KeyRecord, MetadataStore, Organization,
    Page, Project, StoreError,
};
use sentry_core::{IssueId, OrgId, ProjectId, ProjectKey};

use super::{SqliteStore, corrupt, unavailable};

fn timestamp(micros: i64) -> rusqlite::Result<Timestamp> {
    Timestamp::from_unix_micros(micros).ok_or(rusqlite::Error::IntegralValueOutOfRange(0, micros))
}

fn organization_row(row: &Row<'_>) -> rusqlite::Result<Organization> {
    Ok(Organization {
        id: OrgId(row.get(0)?),
        slug: row.get(1)?,
        name: row.get(2)?,
        date_created: timestamp(row.get(3)?)?,
    })
}

fn project_row(row: &Row<'_>) -> rusqlite::Result<Project> {
    Ok(Project {
        id: ProjectId(row.get(0)?),
        org_id: OrgId(row.get(1)?),
        slug: row.get(2)?,
        name: row.get(3)?,
        platform: row.get(4)?,
        date_created: timestamp(row.get(5)?)?,
    })
}

fn key_row(row: &Row<'_>) -> rusqlite::Result<KeyRecord> {
    let public_key: String = row.get(0)?;
    Ok(KeyRecord {
        public_key: public_key.parse().map_err(|e| {
            rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, Box::new(e))
        })?,
        project_id: ProjectId(row.get(1)?),
        label: row.get(2)?,
        is_active: row.get(3)?,
        date_created: timestamp(row.get(4)?)?,
    })
}

fn token_row(row: &Row<'_>) -> rusqlite::Result<ApiToken> {
    let scopes: String = row.get(2)?;
    Ok(ApiToken {
        token: row.get(0)?,
        org_id: OrgId(row.get(1)?),
        scopes: scopes.split_whitespace().map(str::to_owned).collect(),
        name: row.get(3)?,
        date_created: timestamp(row.get(4)?)?,
    })
}

const ISSUE_COLUMNS: &str = "id, project_id, short_number, title, culprit, level, type, metadata, status, \
     first_seen, last_seen, times_seen, user_count, grouping_config, platform";

fn issue_row(row: &Row<'_>) -> rusqlite::Result<Issue> {
    let conversion = |index: usize, text: &str| {
        rusqlite::Error::FromSqlConversionFailure(
            index,
            rusqlite::types::Type::Text,
            format!("unexpected value `{text}`").into(),
        )
    };
    let level: String = row.get(5)?;
    let metadata: String = row.get(7)?;
    let status: String = row.get(8)?;
    Ok(Issue {
        id: IssueId(row.get(0)?),
        project_id: ProjectId(row.get(1)?),
        short_number: row.get(2)?,
        title: row.get(3)?,
        culprit: row.get(4)?,
        level: Level::parse(&level).ok_or_else(|| conversion(5, &level))?,
        ty: row.get(6)?,
        metadata: serde_json::from_str(&metadata).map_err(|_| conversion(7, &metadata))?,
        status: IssueStatus::parse(&status).ok_or_else(|| conversion(8, &status))?,
        first_seen: timestamp(row.get(9)?)?,
        last_seen: timestamp(row.get(10)?)?,
        times_seen: row.get(11)?,
        user_count: row.get(12)?,
        grouping_config: row.get(13)?,
        platform: row.get(14)?,
    })
}

fn select_issue(connection: &rusqlite::Connection, id: i64) -> Result<Option<Issue>, StoreError> {
    connection
        .query_row(
            &format!("SELECT {ISSUE_COLUMNS} FROM issues WHERE id = ?1"),
            [id],
            issue_row,
        )
        .optional()
        .map_err(unavailable)
}

impl MetadataStore for SqliteStore {
    async fn ensure_organization(&self, slug: &str) -> Result<Organization, StoreError> {
        let slug = slug.to_owned();
        self.run(move |connection| {
            connection
                .execute(
                    "INSERT INTO organizations (slug, name, date_created) VALUES (?1, ?1, ?2) ON CONFLICT (slug) DO NOTHING",
                    params![slug, Timestamp::now().as_unix_micros()],
                )
                .map_err(unavailable)?;
            connection
                .query_row(
                    "SELECT id, slug, name, date_created FROM organizations WHERE slug = ?1",
                    [&slug],
                    organization_row,
                )
                .map_err(unavailable)
        })
        .await
    }

    async fn organization_by_slug(&self, slug: &str) -> Result<Option<Organization>, StoreError> {
        let slug = slug.to_owned();
        self.run(move |connection| {
            connection
                .query_row(
                    "SELECT id, slug, name, date_created FROM organizations WHERE slug = ?1",
                    [&slug],
                    organization_row,
                )
                .optional()
                .map_err(unavailable)
        })
        .await
    }

    async fn organizations(&self) -> Result<Vec<Organization>, StoreError> {
        self.run(move |connection| {
            let mut statement = connection
                .prepare("SELECT id, slug, name, date_created FROM organizations ORDER BY slug")
                .map_err(unavailable)?;
            let rows = statement
                .query_map([], organization_row)
                .map_err(unavailable)?;
            rows.collect::<Result<_, _>>().map_err(unavailable)
        })
        .await
    }

    async fn organization(&self, id: OrgId) -> Result<Option<Organization>, StoreError> {
        self.run(move |connection| {
            connection
                .query_row(
                    "SELECT id, slug, name, date_created FROM organizations WHERE id = ?1",
                    [id.0],
                    organization_row,
                )
                .optional()
                .map_err(unavailable)
        })
        .await
    }

    async fn ensure_project(&self, org_id: OrgId, slug: &str) -> Result<Project, StoreError> {
        let slug = slug.to_owned();
        self.run(move |connection| {
            connection
                .execute(
                    "INSERT INTO projects (org_id, slug, name, date_created) VALUES (?1, ?2, ?2, ?3) \
                     ON CONFLICT (org_id, slug) DO NOTHING",
                    params![org_id.0, slug, Timestamp::now().as_unix_micros()],
                )
                .map_err(unavailable)?;
            connection
                .query_row(
                    "SELECT id, org_id, slug, name, platform, date_created FROM projects WHERE org_id = ?1 AND slug = ?2",
                    params![org_id.0, slug],
                    project_row,
                )
                .map_err(unavailable)
        })
        .await
    }

    async fn project(&self, id: ProjectId) -> Result<Option<Project>, StoreError> {
        self.run(move |connection| {
            let id = i64::try_from(id.0).unwrap_or(i64::MAX);
            connection
                .query_row(
                    "SELECT id, org_id, slug, name, platform, date_created FROM projects WHERE id = ?1",
                    [id],
                    project_row,
                )
                .optional()
                .map_err(unavailable)
        })
        .await
    }

    async fn project_by_slug(
        &self,
        org_id: OrgId,
        slug: &str,
    ) -> Result<Option<Project>, StoreError> {
        let slug = slug.to_owned();
        self.run(move |connection| {
            connection
                .query_row(
                    "SELECT id, org_id, slug, name, platform, date_created FROM projects WHERE org_id = ?1 AND slug = ?2",
                    params![org_id.0, slug],
                    project_row,
                )
                .optional()
                .map_err(unavailable)
        })
        .await
    }

    async fn projects(&self, org_id: OrgId) -> Result<Vec<Project>, StoreError> {
        self.run(move |connection| {
            let mut statement = connection
                .prepare("SELECT id, org_id, slug, name, platform, date_created FROM projects WHERE org_id = ?1 ORDER BY slug")
                .map_err(unavailable)?;
            let rows = statement.query_map([org_id.0], project_row).map_err(unavailable)?;
            rows.collect::<Result<_, _>>().map_err(unavailable)
        })
        .await
    }

    async fn insert_key(&self, key: &KeyRecord) -> Result<(), StoreError> {
        let key = key.clone();
        self.run(move |connection| {
            connection
                .execute(
                    "INSERT INTO project_keys (public_key, project_id, label, is_active, date_created) VALUES (?1, ?2, ?3, ?4, ?5)",
                    params![
                        key.public_key.as_str(),
                        key.project_id.0,
                        key.label,
                        key.is_active,
                        key.date_created.as_unix_micros()
                    ],
                )
                .map_err(unavailable)?;
            Ok(())
        })
        .await
    }

    async fn project_keys(&self, project_id: ProjectId) -> Result<Vec<KeyRecord>, StoreError> {
        self.run(move |connection| {
            let mut statement = connection
                .prepare(
                    "SELECT public_key, project_id, label, is_active, date_created FROM project_keys \
                     WHERE project_id = ?1 ORDER BY date_created, public_key",
                )
                .map_err(unavailable)?;
            let rows = statement.query_map([project_id.0], key_row).map_err(unavailable)?;
            rows.collect::<Result<_, _>>().map_err(unavailable)
        })
        .await
    }

    async fn key(&self, public_key: &ProjectKey) -> Result<Option<KeyRecord>, StoreError> {
        let public_key = public_key.clone();
        self.run(move |connection| {
            connection
                .query_row(
                    "SELECT public_key, project_id, label, is_active, date_created FROM project_keys WHERE public_key = ?1",
                    [public_key.as_str()],
                    key_row,
                )
                .optional()
                .map_err(unavailable)
        })
        .await
    }

    async fn insert_token(&self, token: &ApiToken) -> Result<(), StoreError> {
        let token = token.clone();
        self.run(move |connection| {
            connection
                .execute(
                    "INSERT INTO api_tokens (token, org_id, scopes, name, date_created) VALUES (?1, ?2, ?3, ?4, ?5)",
                    params![
                        token.token,
                        token.org_id.0,
                        token.scopes.join(" "),
                        token.name,
                        token.date_created.as_unix_micros()
                    ],
                )
                .map_err(unavailable)?;
            Ok(())
        })
        .await
    }

    async fn token(&self, token: &str) -> Result<Option<ApiToken>, StoreError> {
        let token = token.to_owned();
        self.run(move |connection| {
            connection
                .query_row(
                    "SELECT token, org_id, scopes, name, date_created FROM api_tokens WHERE token = ?1",
                    [&token],
                    token_row,
                )
                .optional()
                .map_err(unavailable)
        })
        .await
    }

    async fn org_tokens(&self, org_id: OrgId) -> Result<Vec<ApiToken>, StoreError> {
        self.run(move |connection| {
            let mut statement = connection
                .prepare(
                    "SELECT token, org_id, scopes, name, date_created FROM api_tokens WHERE org_id = ?1 \
                     ORDER BY date_created, token",
                )
                .map_err(unavailable)?;
            let rows = statement.query_map([org_id.0], token_row).map_err(unavailable)?;
            rows.collect::<Result<_, _>>().map_err(unavailable)
        })
        .await
    }

    async fn record_issue_event(&self, event: &IssueEvent) -> Result<Issue, StoreError> {
        let event = event.clone();
        self.run(move |connection| {
            let metadata = serde_json::to_string(&event.metadata).map_err(corrupt)?;
            let transaction = connection.transaction().map_err(unavailable)?;
            let project_id = i64::try_from(event.project_id.0).map_err(corrupt)?;
            let seen = event.timestamp.as_unix_micros();
            let mut existing: Option<i64> = None;
            for hash in &event.hashes {
                existing = transaction
                    .query_row(
                        "SELECT issue_id FROM issue_hashes WHERE project_id = ?1 AND hash = ?2",
                        params![project_id, hash.as_str()],
                        |row| row.get(0),
                    )
                    .optional()
                    .map_err(unavailable)?;
                if existing.is_some() {
                    break;
                }
            }
            let issue_id = match existing {
                Some(issue_id) => {
                    transaction
                        .execute(
                            "UPDATE issues SET times_seen = times_seen + 1, \
                             first_seen = min(first_seen, ?2), \
                             last_seen = max(last_seen, ?2), \
                             level = CASE WHEN ?2 >= last_seen THEN ?3 ELSE level END, \
                             culprit = CASE WHEN ?2 >= last_seen THEN ?4 ELSE culprit END, \
                             title = CASE WHEN ?2 >= last_seen THEN ?5 ELSE title END, \
                             metadata = CASE WHEN ?2 >= last_seen THEN ?6 ELSE metadata END, \
                             status = CASE WHEN status = 'resolved' THEN 'unresolved' ELSE status END \
                             WHERE id = ?1",
                            params![issue_id, seen, event.level.as_str(), event.culprit, event.title, metadata],
                        )
                        .map_err(unavailable)?;
                    issue_id
                }
                None => {
                    let short_number: i64 = transaction
                        .query_row(
                            "UPDATE projects SET next_short_number = next_short_number + 1 WHERE id = ?1 \
                             RETURNING next_short_number - 1",
                            [project_id],
                            |row| row.get(0),
                        )
                        .map_err(unavailable)?;
                    transaction
                        .execute(
                            "INSERT INTO issues (project_id, short_number, title, culprit, level, type, metadata, status, \
                             first_seen, last_seen, times_seen, user_count, grouping_config, platform) \
                             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'unresolved', ?8, ?8, 1, 0, ?9, ?10)",
                            params![
                                project_id,
                                short_number,
                                event.title,
                                event.culprit,
                                event.level.as_str(),
                                event.ty,
                                metadata,
                                seen,
                                event.grouping_config,
                                event.platform
                            ],
                        )
                        .map_err(unavailable)?;
                    transaction.last_insert_rowid()
                }
            };
            for hash in &event.hashes {
                transaction
                    .execute(
                        "INSERT INTO issue_hashes (project_id, hash, issue_id) VALUES (?1, ?2, ?3) ON CONFLICT DO NOTHING",
                        params![project_id, hash.as_str(), issue_id],
                    )
                    .map_err(unavailable)?;
            }
            if let Some(user) = &event.user {
                let added = transaction
                    .execute(
                        "INSERT INTO issue_users (issue_id, user) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
                        params![issue_id, user],
                    )
                    .map_err(unavailable)?;
                if added > 0 {
                    transaction
                        .execute("UPDATE issues SET user_count = user_count + 1 WHERE id = ?1", [issue_id])
                        .map_err(unavailable)?;
                }
            }
            let issue = select_issue(&transaction, issue_id)?.ok_or_else(|| corrupt("issue vanished during update"))?;
            transaction.commit().map_err(unavailable)?;
            Ok(issue)
        })
        .await
    }

    async fn issue(&self, id: IssueId) -> Result<Option<Issue>, StoreError> {
        self.run(move |connection| select_issue(connection, id.0))
            .await
    }

    async fn list_issues(&self, query: &IssueQuery) -> Result<Page<Issue>, StoreError> {
        let query = query.clone();
        self.run(move |connection| {
            if query.project_ids.is_empty() || query.ids.as_ref().is_some_and(Vec::is_empty) {
                return Ok(Page {
                    items: Vec::new(),
                    has_more: false,
                });
            }
            let mut sql = format!("SELECT {ISSUE_COLUMNS} FROM issues WHERE project_id IN (");
            let mut values: Vec<rusqlite::types::Value> = Vec::new();
            for (index, project_id) in query.project_ids.iter().enumerate() {
                if index > 0 {
                    sql.push_str(", ");
                }
                sql.push('?');
                values.push(rusqlite::types::Value::Integer(
                    i64::try_from(project_id.0).map_err(corrupt)?,
                ));
            }
            sql.push(')');
            if let Some(status) = query.status {
                sql.push_str(" AND status = ?");
                values.push(rusqlite::types::Value::Text(status.as_str().to_owned()));
            }
            if let Some(ids) = &query.ids {
                sql.push_str(" AND id IN (SELECT value FROM json_each(?))");
                let list: Vec<i64> = ids.iter().map(|id| id.0).collect();
                values.push(rusqlite::types::Value::Text(
                    serde_json::to_string(&list).map_err(corrupt)?,
                ));
            }
            for word in &query.text {
                sql.push_str(" AND (title LIKE ? ESCAPE '\\' OR culprit LIKE ? ESCAPE '\\')");
                let pattern = crate::text_search::contains_pattern(word);
                values.push(rusqlite::types::Value::Text(pattern.clone()));
                values.push(rusqlite::types::Value::Text(pattern));
            }
            sql.push_str(" ORDER BY last_seen DESC, id DESC LIMIT ? OFFSET ?");
            let limit = i64::try_from(query.limit).unwrap_or(i64::MAX);
            values.push(rusqlite::types::Value::Integer(limit.saturating_add(1)));
            values.push(rusqlite::types::Value::Integer(
                i64::try_from(query.offset).unwrap_or(i64::MAX),
            ));
            let mut statement = connection.prepare(&sql).map_err(unavailable)?;
            let rows = statement
                .query_map(rusqlite::params_from_iter(values), issue_row)
                .map_err(unavailable)?;
            let mut items: Vec<Issue> = rows.collect::<Result<_, _>>().map_err(unavailable)?;
            let has_more = items.len() as u64 > query.limit;
            items.truncate(usize::try_from(query.limit).unwrap_or(usize::MAX));
            Ok(Page { items, has_more })
        })
        .await
    }

    async fn project_option(
        &self,
        project_id: ProjectId,
        key: &str,
    ) -> Result<Option<String>, StoreError> {
        let key = key.to_owned();
        let project_id = i64::try_from(project_id.0).map_err(corrupt)?;
        self.run(move |connection| {
            connection
                .query_row(
                    "SELECT value FROM project_options WHERE project_id = ?1 AND key = ?2",
                    params![project_id, key],
                    |row| row.get(0),
                )
                .optional()
                .map_err(unavailable)
        })
        .await
    }

    async fn set_project_option(
        &self,
        project_id: ProjectId,
        key: &str,
        value: Option<&str>,
    ) -> Result<(), StoreError> {
        let key = key.to_owned();
        let value = value.map(str::to_owned);
        let project_id = i64::try_from(project_id.0).map_err(corrupt)?;
        self.run(move |connection| {
            match value {
                Some(value) => connection.execute(
                    "INSERT INTO project_options (project_id, key, value) VALUES (?1, ?2, ?3) \
                     ON CONFLICT (project_id, key) DO UPDATE SET value = excluded.value",
                    params![project_id, key, value],
                ),
                None => connection.execute(
                    "DELETE FROM project_options WHERE project_id = ?1 AND key = ?2",
                    params![project_id, key],
                ),
            }
            .map_err(unavailable)?;
            Ok(())
        })
        .await
    }

    async fn set_issue_status(
        &self,
        id: IssueId,
        status: IssueStatus,
    ) -> Result<Option<Issue>, StoreError> {
        self.run(move |connection| {
            connection
                .execute(
                    "UPDATE issues SET status = ?2 WHERE id = ?1",
                    params![id.0, status.as_str()],
                )
                .map_err(unavailable)?;
            select_issue(connection, id.0)
        })
        .await
    }
}
