//! [`MetadataStore`] for [`PostgresStore`]: organizations, projects, keys,
//! tokens and settings here, issues and the other records in their own
//! modules ([`super::issues`], [`super::teams`], …).

use std::time::Duration;

use sentry_core::protocol::Timestamp;
use sentry_core::store::{
    AlertRule, AlertRuleSettings, ApiToken, CheckIn, CheckInUpdate, Deploy, Environment,
    FiledEvent, Issue, IssueEvent, IssueQuery, IssueStatusChange, KeyRecord, MetadataStore,
    Monitor, MonitorSettings, NewDeploy, NewUser, OrgMember, OrgMembership, OrgRole, Organization,
    Page, Project, ProjectUpdate, Release, ReleaseQuery, ReleaseUpdate, StoreError, Team, User,
    WebSession,
};
use sentry_core::{
    CheckInId, EventId, IssueId, MonitorId, OrgId, ProjectId, ProjectKey, ReleaseId, RuleId,
    TeamId, UserId,
};
use tokio_postgres::Row;

use super::error::PgError;
use super::{
    PostgresStore, alert_rules, environments, issues, monitors, releases, sql, teams, users,
};
use crate::records::{self, ORGANIZATION_COLUMNS, PROJECT_COLUMNS};

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
        let sql = format!("SELECT {ORGANIZATION_COLUMNS} FROM organizations WHERE {filter} = $1");
        sql::read_opt(&client, &sql, &[param], records::organization).await
    }

    async fn select_project(
        &self,
        filter: &str,
        params: sql::Params<'_>,
    ) -> Result<Option<Project>, PgError> {
        let client = self.client().await?;
        let sql = format!("SELECT {PROJECT_COLUMNS} FROM projects WHERE {filter}");
        sql::read_opt(&client, &sql, params, records::project).await
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
        let sql = format!("SELECT {ORGANIZATION_COLUMNS} FROM organizations ORDER BY slug");
        Ok(sql::read_all(&client, &sql, &[], records::organization).await?)
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
        let sql = format!("SELECT {PROJECT_COLUMNS} FROM projects WHERE org_id = $1 ORDER BY slug");
        Ok(sql::read_all(&client, &sql, &[&org_id.0], records::project).await?)
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

    async fn record_issue_event(&self, event: &IssueEvent) -> Result<FiledEvent, StoreError> {
        let mut client = self.client().await?;
        Ok(issues::record(&mut client, event).await?)
    }

    async fn forget_filed_events(&self, events: &[(ProjectId, EventId)]) -> Result<(), StoreError> {
        if events.is_empty() {
            return Ok(());
        }
        let client = self.client().await?;
        Ok(issues::forget_filed(&client, events).await?)
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
        change: &IssueStatusChange,
    ) -> Result<Option<Issue>, StoreError> {
        let client = self.client().await?;
        Ok(issues::set_status(&client, id.0, change).await?)
    }

    async fn unignore_expired(&self, now: Timestamp) -> Result<u64, StoreError> {
        let client = self.client().await?;
        Ok(issues::unignore_expired(&client, now).await?)
    }

    async fn delete_issues(&self, ids: &[IssueId]) -> Result<u64, StoreError> {
        let mut client = self.client().await?;
        Ok(issues::delete(&mut client, ids).await?)
    }

    async fn delete_project(&self, id: ProjectId) -> Result<bool, StoreError> {
        let Some(id) = project_key(id) else {
            return Ok(false);
        };
        let mut client = self.client().await?;
        let transaction = client.transaction().await.map_err(PgError::from)?;
        let mut deleted = 0;
        for statement in records::PROJECT_DELETIONS {
            deleted =
                sql::execute(&transaction, &statement.replace("{project}", "$1"), &[&id]).await?;
        }
        transaction.commit().await.map_err(PgError::from)?;
        Ok(deleted > 0)
    }

    async fn update_project(
        &self,
        id: ProjectId,
        update: &ProjectUpdate,
    ) -> Result<Option<Project>, StoreError> {
        let Some(id) = project_key(id) else {
            return Ok(None);
        };
        let client = self.client().await?;
        let sql = format!(
            "UPDATE projects SET name = COALESCE($2, name), slug = COALESCE($3, slug), \
             platform = CASE WHEN $4 THEN $5 ELSE platform END WHERE id = $1 \
             RETURNING {PROJECT_COLUMNS}"
        );
        let platform = update.platform.clone().flatten();
        Ok(sql::read_opt(
            &client,
            &sql,
            &[
                &id,
                &update.name,
                &update.slug,
                &update.platform.is_some(),
                &platform,
            ],
            records::project,
        )
        .await?)
    }

    async fn create_team(&self, org_id: OrgId, slug: &str, name: &str) -> Result<Team, StoreError> {
        let client = self.client().await?;
        Ok(teams::create(&client, org_id, slug, name).await?)
    }

    async fn team_by_slug(&self, org_id: OrgId, slug: &str) -> Result<Option<Team>, StoreError> {
        let client = self.client().await?;
        Ok(teams::by_slug(&client, org_id, slug).await?)
    }

    async fn teams(&self, org_id: OrgId) -> Result<Vec<Team>, StoreError> {
        let client = self.client().await?;
        Ok(teams::of_org(&client, org_id).await?)
    }

    async fn add_project_team(
        &self,
        project_id: ProjectId,
        team_id: TeamId,
    ) -> Result<bool, StoreError> {
        let client = self.client().await?;
        Ok(teams::add_project(&client, project_id, team_id).await?)
    }

    async fn remove_project_team(
        &self,
        project_id: ProjectId,
        team_id: TeamId,
    ) -> Result<bool, StoreError> {
        let client = self.client().await?;
        Ok(teams::remove_project(&client, project_id, team_id).await?)
    }

    async fn project_teams(&self, project_id: ProjectId) -> Result<Vec<Team>, StoreError> {
        let client = self.client().await?;
        Ok(teams::of_project(&client, project_id).await?)
    }

    async fn team_projects(&self, team_id: TeamId) -> Result<Vec<Project>, StoreError> {
        let client = self.client().await?;
        Ok(teams::projects(&client, team_id).await?)
    }

    async fn create_user(&self, user: &NewUser) -> Result<User, StoreError> {
        let client = self.client().await?;
        Ok(users::create(&client, user).await?)
    }

    async fn user(&self, id: UserId) -> Result<Option<User>, StoreError> {
        let client = self.client().await?;
        Ok(users::by_id(&client, id).await?)
    }

    async fn user_by_email(&self, email: &str) -> Result<Option<User>, StoreError> {
        let client = self.client().await?;
        Ok(users::by_email(&client, email).await?)
    }

    async fn users(&self) -> Result<Vec<User>, StoreError> {
        let client = self.client().await?;
        Ok(users::all(&client).await?)
    }

    async fn set_user_password(&self, id: UserId, password_hash: &str) -> Result<bool, StoreError> {
        let client = self.client().await?;
        Ok(users::set_password(&client, id, password_hash).await?)
    }

    async fn record_user_login(&self, id: UserId, at: Timestamp) -> Result<bool, StoreError> {
        let client = self.client().await?;
        Ok(users::record_login(&client, id, at).await?)
    }

    async fn add_org_member(
        &self,
        org_id: OrgId,
        user_id: UserId,
        role: OrgRole,
    ) -> Result<(), StoreError> {
        let client = self.client().await?;
        Ok(users::add_member(&client, org_id, user_id, role).await?)
    }

    async fn remove_org_member(&self, org_id: OrgId, user_id: UserId) -> Result<bool, StoreError> {
        let client = self.client().await?;
        Ok(users::remove_member(&client, org_id, user_id).await?)
    }

    async fn org_member(
        &self,
        org_id: OrgId,
        user_id: UserId,
    ) -> Result<Option<OrgMember>, StoreError> {
        let client = self.client().await?;
        Ok(users::member(&client, org_id, user_id).await?)
    }

    async fn org_members(&self, org_id: OrgId) -> Result<Vec<OrgMember>, StoreError> {
        let client = self.client().await?;
        Ok(users::members(&client, org_id).await?)
    }

    async fn user_orgs(&self, user_id: UserId) -> Result<Vec<OrgMembership>, StoreError> {
        let client = self.client().await?;
        Ok(users::memberships(&client, user_id).await?)
    }

    async fn create_session(&self, session: &WebSession) -> Result<(), StoreError> {
        let client = self.client().await?;
        Ok(users::create_session(&client, session).await?)
    }

    async fn session(
        &self,
        token_hash: &str,
        now: Timestamp,
    ) -> Result<Option<WebSession>, StoreError> {
        let client = self.client().await?;
        Ok(users::session(&client, token_hash, now).await?)
    }

    async fn delete_session(&self, token_hash: &str) -> Result<bool, StoreError> {
        let client = self.client().await?;
        Ok(users::delete_session(&client, token_hash).await?)
    }

    async fn delete_expired_sessions(&self, now: Timestamp) -> Result<u64, StoreError> {
        let client = self.client().await?;
        Ok(users::delete_expired_sessions(&client, now).await?)
    }

    async fn ensure_release(
        &self,
        org_id: OrgId,
        version: &str,
        project_ids: &[ProjectId],
    ) -> Result<Release, StoreError> {
        let mut client = self.client().await?;
        Ok(releases::ensure(&mut client, org_id, version, project_ids).await?)
    }

    async fn release_by_version(
        &self,
        org_id: OrgId,
        version: &str,
    ) -> Result<Option<Release>, StoreError> {
        let client = self.client().await?;
        Ok(releases::by_version(&client, org_id, version).await?)
    }

    async fn update_release(
        &self,
        org_id: OrgId,
        version: &str,
        update: &ReleaseUpdate,
    ) -> Result<Option<Release>, StoreError> {
        let client = self.client().await?;
        Ok(releases::update(&client, org_id, version, update).await?)
    }

    async fn releases(&self, query: &ReleaseQuery) -> Result<Page<Release>, StoreError> {
        let client = self.client().await?;
        Ok(releases::list(&client, query).await?)
    }

    async fn delete_release(&self, org_id: OrgId, version: &str) -> Result<bool, StoreError> {
        let client = self.client().await?;
        Ok(releases::delete(&client, org_id, version).await?)
    }

    async fn create_deploy(
        &self,
        release_id: ReleaseId,
        deploy: &NewDeploy,
    ) -> Result<Deploy, StoreError> {
        let client = self.client().await?;
        Ok(releases::create_deploy(&client, release_id, deploy).await?)
    }

    async fn deploys(&self, release_id: ReleaseId) -> Result<Vec<Deploy>, StoreError> {
        let client = self.client().await?;
        Ok(releases::deploys(&client, release_id).await?)
    }

    async fn ensure_environment(
        &self,
        project_id: ProjectId,
        name: &str,
    ) -> Result<Environment, StoreError> {
        let client = self.client().await?;
        Ok(environments::ensure(&client, project_id, name).await?)
    }

    async fn project_environments(
        &self,
        project_id: ProjectId,
    ) -> Result<Vec<Environment>, StoreError> {
        let client = self.client().await?;
        Ok(environments::of_project(&client, project_id).await?)
    }

    async fn org_environments(&self, org_id: OrgId) -> Result<Vec<Environment>, StoreError> {
        let client = self.client().await?;
        Ok(environments::of_org(&client, org_id).await?)
    }

    async fn upsert_monitor(
        &self,
        project_id: ProjectId,
        slug: &str,
        settings: &MonitorSettings,
    ) -> Result<Monitor, StoreError> {
        let client = self.client().await?;
        Ok(monitors::upsert(&client, project_id, slug, settings).await?)
    }

    async fn monitor(&self, id: MonitorId) -> Result<Option<Monitor>, StoreError> {
        let client = self.client().await?;
        Ok(monitors::by_id(&client, id).await?)
    }

    async fn monitor_by_slug(
        &self,
        project_id: ProjectId,
        slug: &str,
    ) -> Result<Option<Monitor>, StoreError> {
        let client = self.client().await?;
        Ok(monitors::by_slug(&client, project_id, slug).await?)
    }

    async fn project_monitors(&self, project_id: ProjectId) -> Result<Vec<Monitor>, StoreError> {
        let client = self.client().await?;
        Ok(monitors::of_project(&client, project_id).await?)
    }

    async fn org_monitors(&self, org_id: OrgId) -> Result<Vec<Monitor>, StoreError> {
        let client = self.client().await?;
        Ok(monitors::of_org(&client, org_id).await?)
    }

    async fn monitors_due(&self, before: Timestamp) -> Result<Vec<Monitor>, StoreError> {
        let client = self.client().await?;
        Ok(monitors::due(&client, before).await?)
    }

    async fn update_monitor_checkins(
        &self,
        id: MonitorId,
        last_checkin_at: Option<Timestamp>,
        next_checkin_at: Option<Timestamp>,
    ) -> Result<bool, StoreError> {
        let client = self.client().await?;
        Ok(monitors::update_checkins(&client, id, last_checkin_at, next_checkin_at).await?)
    }

    async fn delete_monitor(&self, id: MonitorId) -> Result<bool, StoreError> {
        let client = self.client().await?;
        Ok(monitors::delete(&client, id).await?)
    }

    async fn insert_checkin(&self, checkin: &CheckIn) -> Result<(), StoreError> {
        let client = self.client().await?;
        Ok(monitors::insert_checkin(&client, checkin).await?)
    }

    async fn update_checkin(
        &self,
        monitor_id: MonitorId,
        id: CheckInId,
        update: &CheckInUpdate,
    ) -> Result<Option<CheckIn>, StoreError> {
        let client = self.client().await?;
        Ok(monitors::update_checkin(&client, monitor_id, id, update).await?)
    }

    async fn monitor_checkins(
        &self,
        monitor_id: MonitorId,
        limit: u64,
    ) -> Result<Vec<CheckIn>, StoreError> {
        let client = self.client().await?;
        Ok(monitors::checkins(&client, monitor_id, limit).await?)
    }

    async fn checkins_in_progress(&self, limit: u64) -> Result<Vec<CheckIn>, StoreError> {
        let client = self.client().await?;
        Ok(monitors::checkins_in_progress(&client, limit).await?)
    }

    async fn create_alert_rule(
        &self,
        project_id: ProjectId,
        settings: &AlertRuleSettings,
    ) -> Result<AlertRule, StoreError> {
        let client = self.client().await?;
        Ok(alert_rules::create(&client, project_id, settings).await?)
    }

    async fn alert_rule(&self, id: RuleId) -> Result<Option<AlertRule>, StoreError> {
        let client = self.client().await?;
        Ok(alert_rules::by_id(&client, id).await?)
    }

    async fn alert_rules(&self, project_id: ProjectId) -> Result<Vec<AlertRule>, StoreError> {
        let client = self.client().await?;
        Ok(alert_rules::of_project(&client, project_id).await?)
    }

    async fn update_alert_rule(
        &self,
        id: RuleId,
        settings: &AlertRuleSettings,
    ) -> Result<Option<AlertRule>, StoreError> {
        let client = self.client().await?;
        Ok(alert_rules::update(&client, id, settings).await?)
    }

    async fn delete_alert_rule(&self, id: RuleId) -> Result<bool, StoreError> {
        let client = self.client().await?;
        Ok(alert_rules::delete(&client, id).await?)
    }

    async fn claim_rule_fire(
        &self,
        id: RuleId,
        now: Timestamp,
        min_interval: Duration,
    ) -> Result<bool, StoreError> {
        let client = self.client().await?;
        Ok(alert_rules::claim_fire(&client, id, now, min_interval).await?)
    }

    async fn claim_job_run(
        &self,
        name: &str,
        now: Timestamp,
        min_interval: Duration,
    ) -> Result<bool, StoreError> {
        let client = self.client().await?;
        // A second claimer waits for the first's row, then Postgres checks
        // the condition against what the first wrote.
        let claimed = sql::execute(
            &client,
            "INSERT INTO job_runs (name, last_run) VALUES ($1, $2) \
             ON CONFLICT (name) DO UPDATE SET last_run = excluded.last_run \
             WHERE job_runs.last_run <= $3",
            &[
                &name,
                &now.as_unix_micros(),
                &records::fire_threshold(now, min_interval),
            ],
        )
        .await?;
        Ok(claimed > 0)
    }
}
