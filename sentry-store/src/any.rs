//! One enum per store role, with a variant per compiled-in backend, so the
//! server holds a concrete type and never a trait object.

use std::time::Duration;

use sentry_core::protocol::Timestamp;
use sentry_core::store::{
    AlertRule, AlertRuleSettings, ApiToken, CheckIn, CheckInUpdate, Deploy, Environment,
    EventCounts, EventCursor, EventFilter, EventPick, EventStore, FiledEvent, Issue, IssueCounts,
    IssueEvent, IssueQuery, IssueStatusChange, KeyRecord, MetadataStore, Monitor, MonitorSettings,
    NewDeploy, NewUser, OrgMember, OrgMembership, OrgRole, Organization, Page, Project,
    ProjectUpdate, Release, ReleaseQuery, ReleaseUpdate, SeriesBucket, StoreError, StoreErrorKind,
    StoredEvent, TagFacet, Team, User, WebSession,
};
use sentry_core::{
    CheckInId, EventId, IssueId, MonitorId, OrgId, ProjectId, ProjectKey, ReleaseId, RuleId,
    TeamId, UserId,
};

#[cfg(feature = "clickhouse")]
use crate::clickhouse::ClickhouseStore;
#[cfg(feature = "duckdb")]
use crate::duckdb::DuckdbStore;
use crate::location::Location;
#[cfg(feature = "postgres")]
use crate::postgres::PostgresStore;
#[cfg(feature = "sqlite")]
use crate::sqlite::SqliteStore;

/// Any metadata backend.
#[derive(Clone)]
#[non_exhaustive]
pub enum AnyMetadataStore {
    /// SQLite.
    #[cfg(feature = "sqlite")]
    Sqlite(SqliteStore),
    /// PostgreSQL.
    #[cfg(feature = "postgres")]
    Postgres(PostgresStore),
}

/// Any event backend.
#[derive(Clone)]
#[non_exhaustive]
pub enum AnyEventStore {
    /// SQLite.
    #[cfg(feature = "sqlite")]
    Sqlite(SqliteStore),
    /// DuckDB.
    #[cfg(feature = "duckdb")]
    Duckdb(DuckdbStore),
    /// ClickHouse.
    #[cfg(feature = "clickhouse")]
    Clickhouse(ClickhouseStore),
}

fn invalid(error: impl std::error::Error + Send + Sync + 'static) -> StoreError {
    StoreError::new(StoreErrorKind::InvalidLocation, error)
}

/// A URL of a backend that holds metadata only, given for events.
#[derive(Debug, thiserror::Error)]
#[error(
    "`{0}` stores metadata only; give the event store a duckdb://, clickhouse:// \
     or sqlite:// URL"
)]
struct MetadataOnly(&'static str);

/// Opens the metadata store at a URL, creating and migrating it as needed.
///
/// # Errors
///
/// Fails for an invalid URL or when the backend cannot be opened.
pub async fn open_metadata(url: &str) -> Result<AnyMetadataStore, StoreError> {
    match Location::parse(url).map_err(invalid)? {
        #[cfg(feature = "sqlite")]
        Location::SqliteFile(path) => Ok(AnyMetadataStore::Sqlite(SqliteStore::open(&path).await?)),
        #[cfg(feature = "sqlite")]
        Location::SqliteMemory => Ok(AnyMetadataStore::Sqlite(
            SqliteStore::open_in_memory().await?,
        )),
        #[cfg(feature = "postgres")]
        Location::Postgres(url) => Ok(AnyMetadataStore::Postgres(PostgresStore::open(&url).await?)),
        Location::DuckdbFile(..) | Location::DuckdbMemory => Err(invalid(EventsOnly("duckdb"))),
        Location::Clickhouse(_) => Err(invalid(EventsOnly("clickhouse"))),
        #[allow(unreachable_patterns)]
        _ => Err(StoreError::from_kind(StoreErrorKind::InvalidLocation)),
    }
}

/// A URL of a backend that holds events only, given for metadata.
#[derive(Debug, thiserror::Error)]
#[error("`{0}` stores events only; give the metadata store a sqlite:// or postgres:// URL")]
struct EventsOnly(&'static str);

/// Opens the event store at a URL, creating and migrating it as needed.
///
/// # Errors
///
/// Fails for an invalid URL, a backend that holds no events (Postgres), or
/// when the backend cannot be opened.
pub async fn open_events(url: &str) -> Result<AnyEventStore, StoreError> {
    match Location::parse(url).map_err(invalid)? {
        #[cfg(feature = "sqlite")]
        Location::SqliteFile(path) => Ok(AnyEventStore::Sqlite(SqliteStore::open(&path).await?)),
        #[cfg(feature = "sqlite")]
        Location::SqliteMemory => Ok(AnyEventStore::Sqlite(SqliteStore::open_in_memory().await?)),
        #[cfg(feature = "duckdb")]
        Location::DuckdbFile(path, options) => Ok(AnyEventStore::Duckdb(
            DuckdbStore::open(&path, &options).await?,
        )),
        #[cfg(feature = "duckdb")]
        Location::DuckdbMemory => Ok(AnyEventStore::Duckdb(DuckdbStore::open_in_memory().await?)),
        #[cfg(feature = "clickhouse")]
        Location::Clickhouse(url) => Ok(AnyEventStore::Clickhouse(
            ClickhouseStore::open(&url).await?,
        )),
        Location::Postgres(_) => Err(invalid(MetadataOnly("postgres"))),
        #[allow(unreachable_patterns)]
        _ => Err(StoreError::from_kind(StoreErrorKind::InvalidLocation)),
    }
}

/// Forwards a call to whichever metadata backend the enum holds.
macro_rules! dispatch {
    ($self:ident, $store:ident => $call:expr) => {
        match *$self {
            #[cfg(feature = "sqlite")]
            Self::Sqlite(ref $store) => $call.await,
            #[cfg(feature = "postgres")]
            Self::Postgres(ref $store) => $call.await,
        }
    };
}

/// Forwards a call to whichever event backend the enum holds.
macro_rules! dispatch_events {
    ($self:ident, $store:ident => $call:expr) => {
        match *$self {
            #[cfg(feature = "sqlite")]
            Self::Sqlite(ref $store) => $call.await,
            #[cfg(feature = "duckdb")]
            Self::Duckdb(ref $store) => $call.await,
            #[cfg(feature = "clickhouse")]
            Self::Clickhouse(ref $store) => $call.await,
        }
    };
}

// Without a metadata backend the enum is empty and the arguments go unused.
#[cfg_attr(
    not(any(feature = "sqlite", feature = "postgres")),
    allow(unused_variables)
)]
impl MetadataStore for AnyMetadataStore {
    async fn ensure_organization(&self, slug: &str) -> Result<Organization, StoreError> {
        dispatch!(self, s => s.ensure_organization(slug))
    }

    async fn organization_by_slug(&self, slug: &str) -> Result<Option<Organization>, StoreError> {
        dispatch!(self, s => s.organization_by_slug(slug))
    }

    async fn organizations(&self) -> Result<Vec<Organization>, StoreError> {
        dispatch!(self, s => s.organizations())
    }

    async fn organization(&self, id: OrgId) -> Result<Option<Organization>, StoreError> {
        dispatch!(self, s => s.organization(id))
    }

    async fn ensure_project(&self, org_id: OrgId, slug: &str) -> Result<Project, StoreError> {
        dispatch!(self, s => s.ensure_project(org_id, slug))
    }

    async fn project(&self, id: ProjectId) -> Result<Option<Project>, StoreError> {
        dispatch!(self, s => s.project(id))
    }

    async fn project_by_slug(
        &self,
        org_id: OrgId,
        slug: &str,
    ) -> Result<Option<Project>, StoreError> {
        dispatch!(self, s => s.project_by_slug(org_id, slug))
    }

    async fn projects(&self, org_id: OrgId) -> Result<Vec<Project>, StoreError> {
        dispatch!(self, s => s.projects(org_id))
    }

    async fn insert_key(&self, key: &KeyRecord) -> Result<(), StoreError> {
        dispatch!(self, s => s.insert_key(key))
    }

    async fn project_keys(&self, project_id: ProjectId) -> Result<Vec<KeyRecord>, StoreError> {
        dispatch!(self, s => s.project_keys(project_id))
    }

    async fn key(&self, public_key: &ProjectKey) -> Result<Option<KeyRecord>, StoreError> {
        dispatch!(self, s => s.key(public_key))
    }

    async fn insert_token(&self, token: &ApiToken) -> Result<(), StoreError> {
        dispatch!(self, s => s.insert_token(token))
    }

    async fn token(&self, token: &str) -> Result<Option<ApiToken>, StoreError> {
        dispatch!(self, s => s.token(token))
    }

    async fn org_tokens(&self, org_id: OrgId) -> Result<Vec<ApiToken>, StoreError> {
        dispatch!(self, s => s.org_tokens(org_id))
    }

    async fn record_issue_event(&self, event: &IssueEvent) -> Result<FiledEvent, StoreError> {
        dispatch!(self, s => s.record_issue_event(event))
    }

    async fn claim_job_run(
        &self,
        name: &str,
        now: Timestamp,
        min_interval: Duration,
    ) -> Result<bool, StoreError> {
        dispatch!(self, s => s.claim_job_run(name, now, min_interval))
    }

    async fn forget_filed_events(&self, events: &[(ProjectId, EventId)]) -> Result<(), StoreError> {
        dispatch!(self, s => s.forget_filed_events(events))
    }

    async fn issue(&self, id: IssueId) -> Result<Option<Issue>, StoreError> {
        dispatch!(self, s => s.issue(id))
    }

    async fn list_issues(&self, query: &IssueQuery) -> Result<Page<Issue>, StoreError> {
        dispatch!(self, s => s.list_issues(query))
    }

    async fn project_option(
        &self,
        project_id: ProjectId,
        key: &str,
    ) -> Result<Option<String>, StoreError> {
        dispatch!(self, s => s.project_option(project_id, key))
    }

    async fn set_project_option(
        &self,
        project_id: ProjectId,
        key: &str,
        value: Option<&str>,
    ) -> Result<(), StoreError> {
        dispatch!(self, s => s.set_project_option(project_id, key, value))
    }

    async fn set_issue_status(
        &self,
        id: IssueId,
        change: &IssueStatusChange,
    ) -> Result<Option<Issue>, StoreError> {
        dispatch!(self, s => s.set_issue_status(id, change))
    }

    async fn unignore_expired(&self, now: Timestamp) -> Result<u64, StoreError> {
        dispatch!(self, s => s.unignore_expired(now))
    }

    async fn delete_issues(&self, ids: &[IssueId]) -> Result<u64, StoreError> {
        dispatch!(self, s => s.delete_issues(ids))
    }

    async fn delete_project(&self, id: ProjectId) -> Result<bool, StoreError> {
        dispatch!(self, s => s.delete_project(id))
    }

    async fn update_project(
        &self,
        id: ProjectId,
        update: &ProjectUpdate,
    ) -> Result<Option<Project>, StoreError> {
        dispatch!(self, s => s.update_project(id, update))
    }

    async fn create_team(&self, org_id: OrgId, slug: &str, name: &str) -> Result<Team, StoreError> {
        dispatch!(self, s => s.create_team(org_id, slug, name))
    }

    async fn team_by_slug(&self, org_id: OrgId, slug: &str) -> Result<Option<Team>, StoreError> {
        dispatch!(self, s => s.team_by_slug(org_id, slug))
    }

    async fn teams(&self, org_id: OrgId) -> Result<Vec<Team>, StoreError> {
        dispatch!(self, s => s.teams(org_id))
    }

    async fn add_project_team(
        &self,
        project_id: ProjectId,
        team_id: TeamId,
    ) -> Result<bool, StoreError> {
        dispatch!(self, s => s.add_project_team(project_id, team_id))
    }

    async fn remove_project_team(
        &self,
        project_id: ProjectId,
        team_id: TeamId,
    ) -> Result<bool, StoreError> {
        dispatch!(self, s => s.remove_project_team(project_id, team_id))
    }

    async fn project_teams(&self, project_id: ProjectId) -> Result<Vec<Team>, StoreError> {
        dispatch!(self, s => s.project_teams(project_id))
    }

    async fn team_projects(&self, team_id: TeamId) -> Result<Vec<Project>, StoreError> {
        dispatch!(self, s => s.team_projects(team_id))
    }

    async fn create_user(&self, user: &NewUser) -> Result<User, StoreError> {
        dispatch!(self, s => s.create_user(user))
    }

    async fn user(&self, id: UserId) -> Result<Option<User>, StoreError> {
        dispatch!(self, s => s.user(id))
    }

    async fn user_by_email(&self, email: &str) -> Result<Option<User>, StoreError> {
        dispatch!(self, s => s.user_by_email(email))
    }

    async fn users(&self) -> Result<Vec<User>, StoreError> {
        dispatch!(self, s => s.users())
    }

    async fn set_user_password(&self, id: UserId, password_hash: &str) -> Result<bool, StoreError> {
        dispatch!(self, s => s.set_user_password(id, password_hash))
    }

    async fn record_user_login(&self, id: UserId, at: Timestamp) -> Result<bool, StoreError> {
        dispatch!(self, s => s.record_user_login(id, at))
    }

    async fn add_org_member(
        &self,
        org_id: OrgId,
        user_id: UserId,
        role: OrgRole,
    ) -> Result<(), StoreError> {
        dispatch!(self, s => s.add_org_member(org_id, user_id, role))
    }

    async fn remove_org_member(&self, org_id: OrgId, user_id: UserId) -> Result<bool, StoreError> {
        dispatch!(self, s => s.remove_org_member(org_id, user_id))
    }

    async fn org_member(
        &self,
        org_id: OrgId,
        user_id: UserId,
    ) -> Result<Option<OrgMember>, StoreError> {
        dispatch!(self, s => s.org_member(org_id, user_id))
    }

    async fn org_members(&self, org_id: OrgId) -> Result<Vec<OrgMember>, StoreError> {
        dispatch!(self, s => s.org_members(org_id))
    }

    async fn user_orgs(&self, user_id: UserId) -> Result<Vec<OrgMembership>, StoreError> {
        dispatch!(self, s => s.user_orgs(user_id))
    }

    async fn create_session(&self, session: &WebSession) -> Result<(), StoreError> {
        dispatch!(self, s => s.create_session(session))
    }

    async fn session(
        &self,
        token_hash: &str,
        now: Timestamp,
    ) -> Result<Option<WebSession>, StoreError> {
        dispatch!(self, s => s.session(token_hash, now))
    }

    async fn delete_session(&self, token_hash: &str) -> Result<bool, StoreError> {
        dispatch!(self, s => s.delete_session(token_hash))
    }

    async fn delete_expired_sessions(&self, now: Timestamp) -> Result<u64, StoreError> {
        dispatch!(self, s => s.delete_expired_sessions(now))
    }

    async fn ensure_release(
        &self,
        org_id: OrgId,
        version: &str,
        project_ids: &[ProjectId],
    ) -> Result<Release, StoreError> {
        dispatch!(self, s => s.ensure_release(org_id, version, project_ids))
    }

    async fn release_by_version(
        &self,
        org_id: OrgId,
        version: &str,
    ) -> Result<Option<Release>, StoreError> {
        dispatch!(self, s => s.release_by_version(org_id, version))
    }

    async fn update_release(
        &self,
        org_id: OrgId,
        version: &str,
        update: &ReleaseUpdate,
    ) -> Result<Option<Release>, StoreError> {
        dispatch!(self, s => s.update_release(org_id, version, update))
    }

    async fn releases(&self, query: &ReleaseQuery) -> Result<Page<Release>, StoreError> {
        dispatch!(self, s => s.releases(query))
    }

    async fn delete_release(&self, org_id: OrgId, version: &str) -> Result<bool, StoreError> {
        dispatch!(self, s => s.delete_release(org_id, version))
    }

    async fn create_deploy(
        &self,
        release_id: ReleaseId,
        deploy: &NewDeploy,
    ) -> Result<Deploy, StoreError> {
        dispatch!(self, s => s.create_deploy(release_id, deploy))
    }

    async fn deploys(&self, release_id: ReleaseId) -> Result<Vec<Deploy>, StoreError> {
        dispatch!(self, s => s.deploys(release_id))
    }

    async fn ensure_environment(
        &self,
        project_id: ProjectId,
        name: &str,
    ) -> Result<Environment, StoreError> {
        dispatch!(self, s => s.ensure_environment(project_id, name))
    }

    async fn project_environments(
        &self,
        project_id: ProjectId,
    ) -> Result<Vec<Environment>, StoreError> {
        dispatch!(self, s => s.project_environments(project_id))
    }

    async fn org_environments(&self, org_id: OrgId) -> Result<Vec<Environment>, StoreError> {
        dispatch!(self, s => s.org_environments(org_id))
    }

    async fn upsert_monitor(
        &self,
        project_id: ProjectId,
        slug: &str,
        settings: &MonitorSettings,
    ) -> Result<Monitor, StoreError> {
        dispatch!(self, s => s.upsert_monitor(project_id, slug, settings))
    }

    async fn monitor(&self, id: MonitorId) -> Result<Option<Monitor>, StoreError> {
        dispatch!(self, s => s.monitor(id))
    }

    async fn monitor_by_slug(
        &self,
        project_id: ProjectId,
        slug: &str,
    ) -> Result<Option<Monitor>, StoreError> {
        dispatch!(self, s => s.monitor_by_slug(project_id, slug))
    }

    async fn project_monitors(&self, project_id: ProjectId) -> Result<Vec<Monitor>, StoreError> {
        dispatch!(self, s => s.project_monitors(project_id))
    }

    async fn org_monitors(&self, org_id: OrgId) -> Result<Vec<Monitor>, StoreError> {
        dispatch!(self, s => s.org_monitors(org_id))
    }

    async fn monitors_due(&self, before: Timestamp) -> Result<Vec<Monitor>, StoreError> {
        dispatch!(self, s => s.monitors_due(before))
    }

    async fn update_monitor_checkins(
        &self,
        id: MonitorId,
        last_checkin_at: Option<Timestamp>,
        next_checkin_at: Option<Timestamp>,
    ) -> Result<bool, StoreError> {
        dispatch!(self, s => s.update_monitor_checkins(id, last_checkin_at, next_checkin_at))
    }

    async fn delete_monitor(&self, id: MonitorId) -> Result<bool, StoreError> {
        dispatch!(self, s => s.delete_monitor(id))
    }

    async fn insert_checkin(&self, checkin: &CheckIn) -> Result<(), StoreError> {
        dispatch!(self, s => s.insert_checkin(checkin))
    }

    async fn update_checkin(
        &self,
        monitor_id: MonitorId,
        id: CheckInId,
        update: &CheckInUpdate,
    ) -> Result<Option<CheckIn>, StoreError> {
        dispatch!(self, s => s.update_checkin(monitor_id, id, update))
    }

    async fn monitor_checkins(
        &self,
        monitor_id: MonitorId,
        limit: u64,
    ) -> Result<Vec<CheckIn>, StoreError> {
        dispatch!(self, s => s.monitor_checkins(monitor_id, limit))
    }

    async fn checkins_in_progress(&self, limit: u64) -> Result<Vec<CheckIn>, StoreError> {
        dispatch!(self, s => s.checkins_in_progress(limit))
    }

    async fn create_alert_rule(
        &self,
        project_id: ProjectId,
        settings: &AlertRuleSettings,
    ) -> Result<AlertRule, StoreError> {
        dispatch!(self, s => s.create_alert_rule(project_id, settings))
    }

    async fn alert_rule(&self, id: RuleId) -> Result<Option<AlertRule>, StoreError> {
        dispatch!(self, s => s.alert_rule(id))
    }

    async fn alert_rules(&self, project_id: ProjectId) -> Result<Vec<AlertRule>, StoreError> {
        dispatch!(self, s => s.alert_rules(project_id))
    }

    async fn update_alert_rule(
        &self,
        id: RuleId,
        settings: &AlertRuleSettings,
    ) -> Result<Option<AlertRule>, StoreError> {
        dispatch!(self, s => s.update_alert_rule(id, settings))
    }

    async fn delete_alert_rule(&self, id: RuleId) -> Result<bool, StoreError> {
        dispatch!(self, s => s.delete_alert_rule(id))
    }

    async fn claim_rule_fire(
        &self,
        id: RuleId,
        now: Timestamp,
        min_interval: Duration,
    ) -> Result<bool, StoreError> {
        dispatch!(self, s => s.claim_rule_fire(id, now, min_interval))
    }
}

// Without an event backend the enum is empty and the arguments go unused.
#[cfg_attr(
    not(any(feature = "sqlite", feature = "duckdb", feature = "clickhouse")),
    allow(unused_variables)
)]
impl EventStore for AnyEventStore {
    async fn insert_events(&self, events: &[StoredEvent]) -> Result<u64, StoreError> {
        dispatch_events!(self, s => s.insert_events(events))
    }

    async fn stored_event_ids(
        &self,
        project_id: ProjectId,
        event_ids: &[EventId],
    ) -> Result<Vec<EventId>, StoreError> {
        dispatch_events!(self, s => s.stored_event_ids(project_id, event_ids))
    }

    async fn event(
        &self,
        project_id: ProjectId,
        event_id: EventId,
    ) -> Result<Option<StoredEvent>, StoreError> {
        dispatch_events!(self, s => s.event(project_id, event_id))
    }

    async fn issue_event(
        &self,
        issue: &Issue,
        pick: EventPick,
    ) -> Result<Option<StoredEvent>, StoreError> {
        dispatch_events!(self, s => s.issue_event(issue, pick))
    }

    async fn list_events(
        &self,
        filter: &EventFilter,
        after: Option<EventCursor>,
        limit: u64,
    ) -> Result<Page<StoredEvent>, StoreError> {
        dispatch_events!(self, s => s.list_events(filter, after, limit))
    }

    async fn count_events(&self, filter: &EventFilter) -> Result<EventCounts, StoreError> {
        dispatch_events!(self, s => s.count_events(filter))
    }

    async fn count_by_issue(&self, filter: &EventFilter) -> Result<Vec<IssueCounts>, StoreError> {
        dispatch_events!(self, s => s.count_by_issue(filter))
    }

    async fn event_series(
        &self,
        filter: &EventFilter,
        interval_seconds: u64,
    ) -> Result<Vec<SeriesBucket>, StoreError> {
        dispatch_events!(self, s => s.event_series(filter, interval_seconds))
    }

    async fn tag_facets(
        &self,
        filter: &EventFilter,
        keys: &[String],
        top: u64,
    ) -> Result<Vec<TagFacet>, StoreError> {
        dispatch_events!(self, s => s.tag_facets(filter, keys, top))
    }

    async fn delete_events_before(
        &self,
        project_id: ProjectId,
        before: Timestamp,
    ) -> Result<u64, StoreError> {
        dispatch_events!(self, s => s.delete_events_before(project_id, before))
    }

    async fn trim_events(&self, project_id: ProjectId, keep: u64) -> Result<u64, StoreError> {
        dispatch_events!(self, s => s.trim_events(project_id, keep))
    }

    async fn compact(&self) -> Result<(), StoreError> {
        dispatch_events!(self, s => s.compact())
    }
}

// After the macros, which they use.
mod artifacts;
mod attachments;
mod outcomes;
mod quotas;
mod raw_items;
mod sessions;
mod user_reports;
