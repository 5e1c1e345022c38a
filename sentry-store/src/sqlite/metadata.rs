//! The metadata half of the SQLite backend: organizations, projects, keys,
//! tokens, issues and settings here, the other records in their own modules.

use std::time::Duration;

use rusqlite::{OptionalExtension, Row, TransactionBehavior, params};
use sentry_core::protocol::Timestamp;
use sentry_core::store::{
    AlertRule, AlertRuleSettings, ApiToken, CheckIn, CheckInUpdate, Deploy, Environment,
    FiledEvent, Issue, IssueEvent, IssueQuery, IssueStatusChange, KeyRecord, MetadataStore,
    Monitor, MonitorSettings, NewDeploy, NewUser, OrgMember, OrgMembership, OrgRole, Organization,
    Page, Project, ProjectUpdate, Release, ReleaseQuery, ReleaseUpdate, StoreError, StoreErrorKind,
    Team, User, WebSession, status_after_event,
};
use sentry_core::{
    CheckInId, EventId, IssueId, MonitorId, OrgId, ProjectId, ProjectKey, ReleaseId, RuleId,
    TeamId, UserId,
};

use super::{
    SqliteStore, alert_rules, corrupt, environments, issues, monitors, query_all, query_one,
    query_opt, releases, teams, unavailable, users,
};
use crate::records::{self, ORGANIZATION_COLUMNS, PROJECT_COLUMNS};

fn timestamp(micros: i64) -> rusqlite::Result<Timestamp> {
    Timestamp::from_unix_micros(micros).ok_or(rusqlite::Error::IntegralValueOutOfRange(0, micros))
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
            let sql = format!("SELECT {ORGANIZATION_COLUMNS} FROM organizations WHERE slug = ?1");
            query_one(connection, &sql, [&slug], records::organization)
        })
        .await
    }

    async fn organization_by_slug(&self, slug: &str) -> Result<Option<Organization>, StoreError> {
        let slug = slug.to_owned();
        self.run(move |connection| {
            let sql = format!("SELECT {ORGANIZATION_COLUMNS} FROM organizations WHERE slug = ?1");
            query_opt(connection, &sql, [&slug], records::organization)
        })
        .await
    }

    async fn organizations(&self) -> Result<Vec<Organization>, StoreError> {
        self.run(move |connection| {
            let sql = format!("SELECT {ORGANIZATION_COLUMNS} FROM organizations ORDER BY slug");
            query_all(connection, &sql, [], records::organization)
        })
        .await
    }

    async fn organization(&self, id: OrgId) -> Result<Option<Organization>, StoreError> {
        self.run(move |connection| {
            let sql = format!("SELECT {ORGANIZATION_COLUMNS} FROM organizations WHERE id = ?1");
            query_opt(connection, &sql, [id.0], records::organization)
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
            let sql = format!("SELECT {PROJECT_COLUMNS} FROM projects WHERE org_id = ?1 AND slug = ?2");
            query_one(connection, &sql, params![org_id.0, slug], records::project)
        })
        .await
    }

    async fn project(&self, id: ProjectId) -> Result<Option<Project>, StoreError> {
        self.run(move |connection| {
            let id = i64::try_from(id.0).unwrap_or(i64::MAX);
            let sql = format!("SELECT {PROJECT_COLUMNS} FROM projects WHERE id = ?1");
            query_opt(connection, &sql, [id], records::project)
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
            let sql =
                format!("SELECT {PROJECT_COLUMNS} FROM projects WHERE org_id = ?1 AND slug = ?2");
            query_opt(connection, &sql, params![org_id.0, slug], records::project)
        })
        .await
    }

    async fn projects(&self, org_id: OrgId) -> Result<Vec<Project>, StoreError> {
        self.run(move |connection| {
            let sql =
                format!("SELECT {PROJECT_COLUMNS} FROM projects WHERE org_id = ?1 ORDER BY slug");
            query_all(connection, &sql, [org_id.0], records::project)
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

    async fn record_issue_event(&self, event: &IssueEvent) -> Result<FiledEvent, StoreError> {
        let event = event.clone();
        self.run(move |connection| {
            let metadata = serde_json::to_string(&event.metadata).map_err(corrupt)?;
            // It reads before it writes: taking the write lock first makes
            // another connection to the file wait instead of failing busy.
            let transaction = connection
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(unavailable)?;
            let project_id = i64::try_from(event.project_id.0).map_err(corrupt)?;
            let event_id = &event.event_id.as_bytes()[..];
            if let Some(filed) = issues::filed_before(&transaction, project_id, event_id)? {
                return Ok(filed);
            }
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
                             metadata = CASE WHEN ?2 >= last_seen THEN ?6 ELSE metadata END \
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
                        .optional()
                        .map_err(unavailable)?
                        .ok_or_else(|| StoreError::from_kind(StoreErrorKind::Conflict))?;
                    let issue_id: i64 = transaction
                        .query_row(
                            "UPDATE id_sequences SET next = next + 1 WHERE name = 'issues' RETURNING next - 1",
                            [],
                            |row| row.get(0),
                        )
                        .map_err(unavailable)?;
                    transaction
                        .execute(
                            "INSERT INTO issues (id, project_id, short_number, title, culprit, level, type, metadata, status, \
                             first_seen, last_seen, times_seen, user_count, grouping_config, platform) \
                             VALUES (?11, ?1, ?2, ?3, ?4, ?5, ?6, ?7, 'unresolved', ?8, ?8, 1, 0, ?9, ?10)",
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
                                event.platform,
                                issue_id
                            ],
                        )
                        .map_err(unavailable)?;
                    issue_id
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
            let mut issue = issues::select(&transaction, issue_id)?
                .ok_or_else(|| corrupt("issue vanished during update"))?;
            let change = status_after_event(&issue, event.received, event.release.as_deref());
            if let Some(change) = &change {
                issues::set_status(&transaction, issue_id, change)?;
                issue = issues::select(&transaction, issue_id)?
                    .ok_or_else(|| corrupt("issue vanished during update"))?;
            }
            let filed = FiledEvent::new(issue, existing.is_none(), change.as_ref());
            transaction
                .execute(
                    "INSERT INTO filed_events (project_id, event_id, issue_id, change) VALUES (?1, ?2, ?3, ?4)",
                    params![project_id, event_id, issue_id, filed.change.as_str()],
                )
                .map_err(unavailable)?;
            transaction.commit().map_err(unavailable)?;
            Ok(filed)
        })
        .await
    }

    async fn forget_filed_events(&self, events: &[(ProjectId, EventId)]) -> Result<(), StoreError> {
        if events.is_empty() {
            return Ok(());
        }
        let events = events.to_vec();
        self.run(move |connection| {
            let transaction = connection.transaction().map_err(unavailable)?;
            {
                let mut statement = transaction
                    .prepare_cached(
                        "DELETE FROM filed_events WHERE project_id = ?1 AND event_id = ?2",
                    )
                    .map_err(unavailable)?;
                for (project_id, event_id) in &events {
                    let Ok(project_id) = i64::try_from(project_id.0) else {
                        continue;
                    };
                    statement
                        .execute(params![project_id, &event_id.as_bytes()[..]])
                        .map_err(unavailable)?;
                }
            }
            transaction.commit().map_err(unavailable)
        })
        .await
    }

    async fn issue(&self, id: IssueId) -> Result<Option<Issue>, StoreError> {
        self.run(move |c| issues::select(c, id.0)).await
    }

    async fn list_issues(&self, query: &IssueQuery) -> Result<Page<Issue>, StoreError> {
        let query = query.clone();
        self.run(move |c| issues::list(c, &query)).await
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
        change: &IssueStatusChange,
    ) -> Result<Option<Issue>, StoreError> {
        let change = change.clone();
        self.run(move |c| {
            issues::set_status(c, id.0, &change)?;
            issues::select(c, id.0)
        })
        .await
    }

    async fn unignore_expired(&self, now: Timestamp) -> Result<u64, StoreError> {
        self.run(move |c| issues::unignore_expired(c, now)).await
    }

    async fn delete_issues(&self, ids: &[IssueId]) -> Result<u64, StoreError> {
        let ids = ids.to_vec();
        self.run(move |c| issues::delete(c, &ids)).await
    }

    async fn delete_project(&self, id: ProjectId) -> Result<bool, StoreError> {
        let Ok(id) = i64::try_from(id.0) else {
            return Ok(false);
        };
        self.run(move |connection| {
            let transaction = connection.transaction().map_err(unavailable)?;
            let mut deleted = 0;
            for statement in records::PROJECT_DELETIONS {
                deleted = transaction
                    .execute(&statement.replace("{project}", "?1"), [id])
                    .map_err(unavailable)?;
            }
            transaction.commit().map_err(unavailable)?;
            Ok(deleted > 0)
        })
        .await
    }

    async fn update_project(
        &self,
        id: ProjectId,
        update: &ProjectUpdate,
    ) -> Result<Option<Project>, StoreError> {
        let update = update.clone();
        self.run(move |c| update_project(c, id, &update)).await
    }

    async fn create_team(&self, org_id: OrgId, slug: &str, name: &str) -> Result<Team, StoreError> {
        let (slug, name) = (slug.to_owned(), name.to_owned());
        self.run(move |c| teams::create(c, org_id, &slug, &name))
            .await
    }

    async fn team_by_slug(&self, org_id: OrgId, slug: &str) -> Result<Option<Team>, StoreError> {
        let slug = slug.to_owned();
        self.run(move |c| teams::by_slug(c, org_id, &slug)).await
    }

    async fn teams(&self, org_id: OrgId) -> Result<Vec<Team>, StoreError> {
        self.run(move |c| teams::of_org(c, org_id)).await
    }

    async fn add_project_team(
        &self,
        project_id: ProjectId,
        team_id: TeamId,
    ) -> Result<bool, StoreError> {
        self.run(move |c| teams::add_project(c, project_id, team_id))
            .await
    }

    async fn remove_project_team(
        &self,
        project_id: ProjectId,
        team_id: TeamId,
    ) -> Result<bool, StoreError> {
        self.run(move |c| teams::remove_project(c, project_id, team_id))
            .await
    }

    async fn project_teams(&self, project_id: ProjectId) -> Result<Vec<Team>, StoreError> {
        self.run(move |c| teams::of_project(c, project_id)).await
    }

    async fn team_projects(&self, team_id: TeamId) -> Result<Vec<Project>, StoreError> {
        self.run(move |c| teams::projects(c, team_id)).await
    }

    async fn create_user(&self, user: &NewUser) -> Result<User, StoreError> {
        let user = user.clone();
        self.run(move |c| users::create(c, &user)).await
    }

    async fn user(&self, id: UserId) -> Result<Option<User>, StoreError> {
        self.run(move |c| users::by_id(c, id)).await
    }

    async fn user_by_email(&self, email: &str) -> Result<Option<User>, StoreError> {
        let email = email.to_owned();
        self.run(move |c| users::by_email(c, &email)).await
    }

    async fn users(&self) -> Result<Vec<User>, StoreError> {
        self.run(|c| users::all(c)).await
    }

    async fn set_user_password(&self, id: UserId, password_hash: &str) -> Result<bool, StoreError> {
        let password_hash = password_hash.to_owned();
        self.run(move |c| users::set_password(c, id, &password_hash))
            .await
    }

    async fn record_user_login(&self, id: UserId, at: Timestamp) -> Result<bool, StoreError> {
        self.run(move |c| users::record_login(c, id, at)).await
    }

    async fn add_org_member(
        &self,
        org_id: OrgId,
        user_id: UserId,
        role: OrgRole,
    ) -> Result<(), StoreError> {
        self.run(move |c| users::add_member(c, org_id, user_id, role))
            .await
    }

    async fn remove_org_member(&self, org_id: OrgId, user_id: UserId) -> Result<bool, StoreError> {
        self.run(move |c| users::remove_member(c, org_id, user_id))
            .await
    }

    async fn org_member(
        &self,
        org_id: OrgId,
        user_id: UserId,
    ) -> Result<Option<OrgMember>, StoreError> {
        self.run(move |c| users::member(c, org_id, user_id)).await
    }

    async fn org_members(&self, org_id: OrgId) -> Result<Vec<OrgMember>, StoreError> {
        self.run(move |c| users::members(c, org_id)).await
    }

    async fn user_orgs(&self, user_id: UserId) -> Result<Vec<OrgMembership>, StoreError> {
        self.run(move |c| users::memberships(c, user_id)).await
    }

    async fn create_session(&self, session: &WebSession) -> Result<(), StoreError> {
        let session = session.clone();
        self.run(move |c| users::create_session(c, &session)).await
    }

    async fn session(
        &self,
        token_hash: &str,
        now: Timestamp,
    ) -> Result<Option<WebSession>, StoreError> {
        let token_hash = token_hash.to_owned();
        self.run(move |c| users::session(c, &token_hash, now)).await
    }

    async fn delete_session(&self, token_hash: &str) -> Result<bool, StoreError> {
        let token_hash = token_hash.to_owned();
        self.run(move |c| users::delete_session(c, &token_hash))
            .await
    }

    async fn delete_expired_sessions(&self, now: Timestamp) -> Result<u64, StoreError> {
        self.run(move |c| users::delete_expired_sessions(c, now))
            .await
    }

    async fn ensure_release(
        &self,
        org_id: OrgId,
        version: &str,
        project_ids: &[ProjectId],
    ) -> Result<Release, StoreError> {
        let (version, project_ids) = (version.to_owned(), project_ids.to_vec());
        self.run(move |c| releases::ensure(c, org_id, &version, &project_ids))
            .await
    }

    async fn release_by_version(
        &self,
        org_id: OrgId,
        version: &str,
    ) -> Result<Option<Release>, StoreError> {
        let version = version.to_owned();
        self.run(move |c| releases::by_version(c, org_id, &version))
            .await
    }

    async fn update_release(
        &self,
        org_id: OrgId,
        version: &str,
        update: &ReleaseUpdate,
    ) -> Result<Option<Release>, StoreError> {
        let (version, update) = (version.to_owned(), update.clone());
        self.run(move |c| releases::update(c, org_id, &version, &update))
            .await
    }

    async fn releases(&self, query: &ReleaseQuery) -> Result<Page<Release>, StoreError> {
        let query = query.clone();
        self.run(move |c| releases::list(c, &query)).await
    }

    async fn delete_release(&self, org_id: OrgId, version: &str) -> Result<bool, StoreError> {
        let version = version.to_owned();
        self.run(move |c| releases::delete(c, org_id, &version))
            .await
    }

    async fn create_deploy(
        &self,
        release_id: ReleaseId,
        deploy: &NewDeploy,
    ) -> Result<Deploy, StoreError> {
        let deploy = deploy.clone();
        self.run(move |c| releases::create_deploy(c, release_id, &deploy))
            .await
    }

    async fn deploys(&self, release_id: ReleaseId) -> Result<Vec<Deploy>, StoreError> {
        self.run(move |c| releases::deploys(c, release_id)).await
    }

    async fn ensure_environment(
        &self,
        project_id: ProjectId,
        name: &str,
    ) -> Result<Environment, StoreError> {
        let name = name.to_owned();
        self.run(move |c| environments::ensure(c, project_id, &name))
            .await
    }

    async fn project_environments(
        &self,
        project_id: ProjectId,
    ) -> Result<Vec<Environment>, StoreError> {
        self.run(move |c| environments::of_project(c, project_id))
            .await
    }

    async fn org_environments(&self, org_id: OrgId) -> Result<Vec<Environment>, StoreError> {
        self.run(move |c| environments::of_org(c, org_id)).await
    }

    async fn upsert_monitor(
        &self,
        project_id: ProjectId,
        slug: &str,
        settings: &MonitorSettings,
    ) -> Result<Monitor, StoreError> {
        let (slug, settings) = (slug.to_owned(), settings.clone());
        self.run(move |c| monitors::upsert(c, project_id, &slug, &settings))
            .await
    }

    async fn monitor(&self, id: MonitorId) -> Result<Option<Monitor>, StoreError> {
        self.run(move |c| monitors::by_id(c, id)).await
    }

    async fn monitor_by_slug(
        &self,
        project_id: ProjectId,
        slug: &str,
    ) -> Result<Option<Monitor>, StoreError> {
        let slug = slug.to_owned();
        self.run(move |c| monitors::by_slug(c, project_id, &slug))
            .await
    }

    async fn project_monitors(&self, project_id: ProjectId) -> Result<Vec<Monitor>, StoreError> {
        self.run(move |c| monitors::of_project(c, project_id)).await
    }

    async fn org_monitors(&self, org_id: OrgId) -> Result<Vec<Monitor>, StoreError> {
        self.run(move |c| monitors::of_org(c, org_id)).await
    }

    async fn monitors_due(&self, before: Timestamp) -> Result<Vec<Monitor>, StoreError> {
        self.run(move |c| monitors::due(c, before)).await
    }

    async fn update_monitor_checkins(
        &self,
        id: MonitorId,
        last_checkin_at: Option<Timestamp>,
        next_checkin_at: Option<Timestamp>,
    ) -> Result<bool, StoreError> {
        self.run(move |c| monitors::update_checkins(c, id, last_checkin_at, next_checkin_at))
            .await
    }

    async fn delete_monitor(&self, id: MonitorId) -> Result<bool, StoreError> {
        self.run(move |c| monitors::delete(c, id)).await
    }

    async fn insert_checkin(&self, checkin: &CheckIn) -> Result<(), StoreError> {
        let checkin = checkin.clone();
        self.run(move |c| monitors::insert_checkin(c, &checkin))
            .await
    }

    async fn update_checkin(
        &self,
        monitor_id: MonitorId,
        id: CheckInId,
        update: &CheckInUpdate,
    ) -> Result<Option<CheckIn>, StoreError> {
        let update = *update;
        self.run(move |c| monitors::update_checkin(c, monitor_id, id, &update))
            .await
    }

    async fn monitor_checkins(
        &self,
        monitor_id: MonitorId,
        limit: u64,
    ) -> Result<Vec<CheckIn>, StoreError> {
        self.run(move |c| monitors::checkins(c, monitor_id, limit))
            .await
    }

    async fn checkins_in_progress(&self, limit: u64) -> Result<Vec<CheckIn>, StoreError> {
        self.run(move |c| monitors::checkins_in_progress(c, limit))
            .await
    }

    async fn create_alert_rule(
        &self,
        project_id: ProjectId,
        settings: &AlertRuleSettings,
    ) -> Result<AlertRule, StoreError> {
        let settings = settings.clone();
        self.run(move |c| alert_rules::create(c, project_id, &settings))
            .await
    }

    async fn alert_rule(&self, id: RuleId) -> Result<Option<AlertRule>, StoreError> {
        self.run(move |c| alert_rules::by_id(c, id)).await
    }

    async fn alert_rules(&self, project_id: ProjectId) -> Result<Vec<AlertRule>, StoreError> {
        self.run(move |c| alert_rules::of_project(c, project_id))
            .await
    }

    async fn update_alert_rule(
        &self,
        id: RuleId,
        settings: &AlertRuleSettings,
    ) -> Result<Option<AlertRule>, StoreError> {
        let settings = settings.clone();
        self.run(move |c| alert_rules::update(c, id, &settings))
            .await
    }

    async fn delete_alert_rule(&self, id: RuleId) -> Result<bool, StoreError> {
        self.run(move |c| alert_rules::delete(c, id)).await
    }

    async fn claim_rule_fire(
        &self,
        id: RuleId,
        now: Timestamp,
        min_interval: Duration,
    ) -> Result<bool, StoreError> {
        self.run(move |c| alert_rules::claim_fire(c, id, now, min_interval))
            .await
    }

    async fn claim_job_run(
        &self,
        name: &str,
        now: Timestamp,
        min_interval: Duration,
    ) -> Result<bool, StoreError> {
        let name = name.to_owned();
        self.run(move |connection| {
            let claimed = connection
                .execute(
                    "INSERT INTO job_runs (name, last_run) VALUES (?1, ?2) \
                     ON CONFLICT (name) DO UPDATE SET last_run = excluded.last_run \
                     WHERE job_runs.last_run <= ?3",
                    params![
                        name,
                        now.as_unix_micros(),
                        records::fire_threshold(now, min_interval)
                    ],
                )
                .map_err(unavailable)?;
            Ok(claimed > 0)
        })
        .await
    }
}

/// Sets the fields of a project an update gives; `None` when it is missing.
fn update_project(
    connection: &mut rusqlite::Connection,
    id: ProjectId,
    update: &ProjectUpdate,
) -> Result<Option<Project>, StoreError> {
    // Ids beyond i64 name no project.
    let Ok(id) = i64::try_from(id.0) else {
        return Ok(None);
    };
    let transaction = connection.transaction().map_err(unavailable)?;
    if let Some(name) = &update.name {
        transaction
            .execute(
                "UPDATE projects SET name = ?2 WHERE id = ?1",
                params![id, name],
            )
            .map_err(unavailable)?;
    }
    if let Some(slug) = &update.slug {
        transaction
            .execute(
                "UPDATE projects SET slug = ?2 WHERE id = ?1",
                params![id, slug],
            )
            .map_err(unavailable)?;
    }
    if let Some(platform) = &update.platform {
        transaction
            .execute(
                "UPDATE projects SET platform = ?2 WHERE id = ?1",
                params![id, platform],
            )
            .map_err(unavailable)?;
    }
    let sql = format!("SELECT {PROJECT_COLUMNS} FROM projects WHERE id = ?1");
    let project = query_opt(&transaction, &sql, [id], records::project)?;
    transaction.commit().map_err(unavailable)?;
    Ok(project)
}
