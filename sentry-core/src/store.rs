//! The contracts every storage backend implements.
//!
//! Storage is split the way the deployments split it: a [`MetadataStore`]
//! (organizations, teams, projects, keys, tokens, users, issues, releases,
//! environments, settings, monitors, alert rules; SQLite or Postgres) and an
//! [`EventStore`] (event payloads; DuckDB, SQLite or ClickHouse). Large
//! content (attachments, debug files) goes to a [`BlobStore`] (files or
//! Postgres), and the metadata backends keep [`AttachmentStore`] records
//! pointing into it, as well as what ingest counts beside events:
//! [`OutcomeStore`] (what became of the items sent), [`QuotaStore`]
//! (rate limit counters), [`RawItemStore`] (items kept as they came),
//! [`SessionStore`]
//! (release health), [`UserReportStore`] (user feedback) and
//! [`ArtifactStore`] (sentry-cli's upload chunks and artifact bundles). Methods
//! return futures so that async drivers implement them directly and
//! synchronous ones wrap their calls in a blocking task. Lookups return
//! `Ok(None)` for absence; an `Err` is always a failure of the backend.

mod alert_rules;
mod environments;
mod monitors;
mod releases;
mod teams;
mod triage;
mod users;

use std::future::Future;
use std::time::Duration;

use serde::{Deserialize, Serialize};

pub use self::alert_rules::{AlertRule, AlertRuleSettings};
pub use self::environments::Environment;
pub use self::monitors::{
    CheckIn, CheckInStatus, CheckInUpdate, Monitor, MonitorSettings, MonitorStatus,
};
pub use self::releases::{Deploy, NewDeploy, Release, ReleaseQuery, ReleaseUpdate};
pub use self::teams::Team;
pub use self::triage::{
    FiledEvent, IssueChange, IssueStatusChange, IssueSubstatus, StatusDetails, ignore_expired,
    status_after_event,
};
pub use self::users::{NewUser, OrgMember, OrgMembership, OrgRole, User, WebSession, email_key};
use crate::grouping::{Grouping, GroupingHash};
use crate::ids::{
    CheckInId, EventId, IssueId, MonitorId, OrgId, ProjectId, ProjectKey, ReleaseId, RuleId,
    TeamId, UserId,
};
use crate::protocol::{Event, Level, Timestamp};
use crate::summary::{EventMetadata, summarize};
use crate::tags::event_tags;

mod artifacts;
mod attachments;
mod blobs;
mod outcomes;
mod quotas;
mod raw_items;
mod sessions;
mod user_reports;

pub use artifacts::*;
pub use attachments::*;
pub use blobs::*;
pub use outcomes::*;
pub use quotas::*;
pub use raw_items::*;
pub use sessions::*;
pub use user_reports::*;

/// A failure of a storage backend.
#[derive(Debug, thiserror::Error)]
#[error("{kind}")]
pub struct StoreError {
    kind: StoreErrorKind,
    #[source]
    source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

impl StoreError {
    /// Creates an error of a kind, keeping its cause.
    pub fn new(
        kind: StoreErrorKind,
        source: impl Into<Box<dyn std::error::Error + Send + Sync>>,
    ) -> Self {
        Self {
            kind,
            source: Some(source.into()),
        }
    }

    /// Creates an error of a kind without a cause.
    pub fn from_kind(kind: StoreErrorKind) -> Self {
        Self { kind, source: None }
    }

    /// Returns what kind of failure this is.
    pub fn kind(&self) -> StoreErrorKind {
        self.kind
    }
}

/// What kind of failure a [`StoreError`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StoreErrorKind {
    /// The backend cannot be reached or failed to answer.
    #[error("storage backend is unavailable")]
    Unavailable,
    /// Stored data is corrupt or of an unknown format version.
    #[error("stored data is corrupt or has an unknown format version")]
    Corrupt,
    /// A uniqueness rule was broken.
    #[error("conflict with existing data")]
    Conflict,
    /// The location or URL of a backend is invalid.
    #[error("invalid storage location")]
    InvalidLocation,
}

/// An organization.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Organization {
    /// Its id.
    pub id: OrgId,
    /// Its URL slug.
    pub slug: String,
    /// Its display name.
    pub name: String,
    /// When it was created.
    pub date_created: Timestamp,
}

/// A project.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Project {
    /// Its id, as in DSNs.
    pub id: ProjectId,
    /// The organization it belongs to.
    pub org_id: OrgId,
    /// Its URL slug, unique within the organization.
    pub slug: String,
    /// Its display name.
    pub name: String,
    /// Its platform, e.g. `python`.
    pub platform: Option<String>,
    /// When it was created.
    pub date_created: Timestamp,
}

/// The fields of a project an update may set; `None` keeps a field.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProjectUpdate {
    /// The display name.
    pub name: Option<String>,
    /// The URL slug.
    pub slug: Option<String>,
    /// The platform; `Some(None)` clears it.
    pub platform: Option<Option<String>>,
}

/// A DSN key of a project.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyRecord {
    /// The public key.
    pub public_key: ProjectKey,
    /// The project it sends to.
    pub project_id: ProjectId,
    /// Its label.
    pub label: String,
    /// Whether it is accepted.
    pub is_active: bool,
    /// When it was created.
    pub date_created: Timestamp,
}

/// An API token, as sent in `Authorization: Bearer <token>`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiToken {
    /// The token text (`sntryu_` and 64 hex digits).
    pub token: String,
    /// The organization it grants access to.
    pub org_id: OrgId,
    /// The scopes it grants, e.g. `project:read`.
    pub scopes: Vec<String>,
    /// Its label.
    pub name: String,
    /// When it was created.
    pub date_created: Timestamp,
}

impl ApiToken {
    /// Returns whether the token grants a scope.
    pub fn has_scope(&self, scope: &str) -> bool {
        self.scopes.iter().any(|granted| granted == scope)
    }
}

/// The triage status of an issue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum IssueStatus {
    /// Open: new or regressed.
    Unresolved,
    /// Marked fixed.
    Resolved,
    /// Muted.
    Ignored,
}

impl IssueStatus {
    /// Returns the API name.
    pub fn as_str(&self) -> &'static str {
        match self {
            IssueStatus::Unresolved => "unresolved",
            IssueStatus::Resolved => "resolved",
            IssueStatus::Ignored => "ignored",
        }
    }

    /// Reads an API name; `muted` is Sentry's older word for `ignored`.
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "unresolved" => Some(IssueStatus::Unresolved),
            "resolved" => Some(IssueStatus::Resolved),
            "ignored" | "muted" => Some(IssueStatus::Ignored),
            _ => None,
        }
    }
}

/// An issue: the events of a project that share a grouping hash.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Issue {
    /// Its id.
    pub id: IssueId,
    /// The project it belongs to.
    pub project_id: ProjectId,
    /// Its number within the project, shown as `PROJECT-<n>` (base 36 in Sentry).
    pub short_number: u64,
    /// Title of its latest event.
    pub title: String,
    /// Culprit of its latest event.
    pub culprit: String,
    /// Level of its latest event.
    pub level: Level,
    /// `error` or `default`.
    pub ty: String,
    /// Platform of its first event.
    pub platform: String,
    /// Metadata of its latest event.
    pub metadata: EventMetadata,
    /// Triage status.
    pub status: IssueStatus,
    /// Why it has its status, when the server knows.
    pub substatus: Option<IssueSubstatus>,
    /// What ends its status.
    pub status_details: StatusDetails,
    /// When its first event happened.
    pub first_seen: Timestamp,
    /// When its latest event happened.
    pub last_seen: Timestamp,
    /// How many events it has.
    pub times_seen: u64,
    /// How many distinct users its events affected.
    pub user_count: u64,
    /// The grouping config that created it.
    pub grouping_config: String,
}

/// What the metadata store needs to know to file an event under an issue.
#[derive(Debug, Clone)]
pub struct IssueEvent {
    /// The project of the event.
    pub project_id: ProjectId,
    /// The event's id, which makes filing it again count nothing.
    pub event_id: EventId,
    /// The grouping hashes of the event, primary first. The first one that
    /// already names an issue decides the issue; the others are attached to it.
    pub hashes: Vec<GroupingHash>,
    /// The grouping config that produced the hash.
    pub grouping_config: String,
    /// The event's title.
    pub title: String,
    /// The event's culprit.
    pub culprit: String,
    /// The event's level.
    pub level: Level,
    /// `error` or `default`.
    pub ty: String,
    /// The event's platform.
    pub platform: String,
    /// The event's metadata.
    pub metadata: EventMetadata,
    /// When the event happened.
    pub timestamp: Timestamp,
    /// The `user` tag value of the event, for counting distinct users.
    pub user: Option<String>,
    /// The event's release, which decides whether it regresses an issue
    /// resolved in the next release.
    pub release: Option<String>,
    /// When the server received the event, which decides whether an
    /// ignore has run out.
    pub received: Timestamp,
}

impl IssueEvent {
    /// Describes a normalized, grouped event; `received` stands in for a
    /// missing timestamp.
    pub fn new(
        project_id: ProjectId,
        event_id: EventId,
        event: &Event,
        grouping: &Grouping,
        received: Timestamp,
    ) -> Self {
        let summary = summarize(event);
        Self {
            project_id,
            event_id,
            hashes: grouping.hashes.clone(),
            grouping_config: grouping.config.clone(),
            title: summary.title,
            culprit: summary.culprit,
            level: event.level.unwrap_or(Level::Error),
            ty: event.ty.clone().unwrap_or_else(|| "default".to_owned()),
            platform: event.platform.clone().unwrap_or_else(|| "other".to_owned()),
            metadata: summary.metadata,
            timestamp: event.timestamp.unwrap_or(received),
            user: event.user.as_ref().and_then(|user| user.tag_value()),
            release: event.release.clone(),
            received,
        }
    }
}

/// Filters and order for listing issues.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IssueQuery {
    /// Only issues of these projects.
    pub project_ids: Vec<ProjectId>,
    /// Only issues with this status; `None` for all.
    pub status: Option<IssueStatus>,
    /// Words that must all appear in the title or culprit (case-insensitive).
    pub text: Vec<String>,
    /// Only these issues (as found by an event search); `None` for all.
    pub ids: Option<Vec<IssueId>>,
    /// Only issues first seen in this range.
    pub first_seen: TimeRange,
    /// Only issues last seen in this range.
    pub last_seen: TimeRange,
    /// Only issues with a number of events in this range.
    pub times_seen: CountRange,
    /// The order.
    pub sort: IssueSort,
    /// How many issues to skip.
    pub offset: u64,
    /// How many issues to return at most.
    pub limit: u64,
}

/// A range of times; each bound is left out when `None`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TimeRange {
    /// At or after this time.
    pub start: Option<Timestamp>,
    /// At or before this time.
    pub end: Option<Timestamp>,
}

/// A range of counts, bounds included; each is left out when `None`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CountRange {
    /// At least this many.
    pub min: Option<u64>,
    /// At most this many.
    pub max: Option<u64>,
}

/// The order of an issue listing: always descending, ties by id, descending.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum IssueSort {
    /// Most recently seen first (Sentry's `date`).
    #[default]
    LastSeen,
    /// Most recently first seen first (`new`).
    FirstSeen,
    /// Most events first (`freq`).
    TimesSeen,
    /// Most users first (`user`).
    UserCount,
}

/// One page of a listing.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    /// The entries of the page.
    pub items: Vec<T>,
    /// Whether more entries follow.
    pub has_more: bool,
}

/// A stored event.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredEvent {
    /// The project.
    pub project_id: ProjectId,
    /// The event id.
    pub event_id: EventId,
    /// The issue it was filed under.
    pub issue_id: IssueId,
    /// When it happened.
    pub timestamp: Timestamp,
    /// When the server received it.
    pub received: Timestamp,
    /// The grouping hash.
    pub hash: GroupingHash,
    /// The grouping config that produced the hash.
    pub grouping_config: String,
    /// Its tags, each key once (see [`crate::tags::event_tags`]).
    pub tags: Vec<(String, String)>,
    /// The normalized event as JSON.
    pub payload: Vec<u8>,
}

impl StoredEvent {
    /// Serializes a normalized, grouped event for storage under an issue.
    ///
    /// # Errors
    ///
    /// Fails when the event cannot be serialized (a map key that is not a string).
    pub fn new(
        project_id: ProjectId,
        issue_id: IssueId,
        event: &Event,
        grouping: &Grouping,
        received: Timestamp,
    ) -> Result<Self, serde_json::Error> {
        Ok(Self {
            project_id,
            event_id: event.event_id.unwrap_or_else(EventId::new_random),
            issue_id,
            timestamp: event.timestamp.unwrap_or(received),
            received,
            hash: grouping.hash.clone(),
            grouping_config: grouping.config.clone(),
            tags: event_tags(event),
            payload: serde_json::to_vec(event)?,
        })
    }
}

/// Which event of an issue to fetch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventPick {
    /// The most recent by timestamp.
    Latest,
    /// The oldest by timestamp.
    Oldest,
}

/// Which events a query covers: all conditions hold at once.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventFilter {
    /// Only events of these projects; must not be empty.
    pub project_ids: Vec<ProjectId>,
    /// Only events of these issues; empty for all.
    pub issue_ids: Vec<IssueId>,
    /// Only events at or after this time.
    pub start: Option<Timestamp>,
    /// Only events before this time.
    pub end: Option<Timestamp>,
    /// Conditions on tags.
    pub tags: Vec<TagFilter>,
}

impl EventFilter {
    /// Covers every event of one issue of a project.
    pub fn issue(project_id: ProjectId, issue_id: IssueId) -> Self {
        Self {
            project_ids: vec![project_id],
            issue_ids: vec![issue_id],
            ..Self::default()
        }
    }

    /// Covers every event of some projects.
    pub fn projects(project_ids: impl IntoIterator<Item = ProjectId>) -> Self {
        Self {
            project_ids: project_ids.into_iter().collect(),
            ..Self::default()
        }
    }
}

/// A condition on a tag: the event has the tag with this value (with any
/// value when `value` is `None`) or, when negated, does not (which includes
/// lacking the tag).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TagFilter {
    /// The tag key.
    pub key: String,
    /// The value it must (or must not) have; `None` for any.
    pub value: Option<String>,
    /// Whether the condition is negated (`!key:value`).
    pub negated: bool,
}

/// Where a listing of events, newest first, goes on: after the event with
/// this timestamp and id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventCursor {
    /// The timestamp of the last event of the previous page.
    pub timestamp: Timestamp,
    /// Its id, which orders events with the same timestamp (descending).
    pub event_id: EventId,
}

impl EventCursor {
    /// The cursor after an event.
    pub fn after(event: &StoredEvent) -> Self {
        Self {
            timestamp: event.timestamp,
            event_id: event.event_id,
        }
    }
}

/// Counts over a set of events.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EventCounts {
    /// How many events.
    pub events: u64,
    /// How many distinct `user` tag values.
    pub users: u64,
    /// The oldest event's timestamp, if any.
    pub first_seen: Option<Timestamp>,
    /// The newest event's timestamp, if any.
    pub last_seen: Option<Timestamp>,
}

/// Counts over the events of one issue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IssueCounts {
    /// The issue.
    pub issue_id: IssueId,
    /// Its counts among the events that matched.
    pub counts: EventCounts,
}

/// One bucket of a time series: the events from `start` for the series' interval.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SeriesBucket {
    /// The start of the bucket, a multiple of the interval since the Unix epoch.
    pub start: Timestamp,
    /// How many events fell into it.
    pub events: u64,
}

/// The values of one tag key over a set of events.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TagFacet {
    /// The tag key.
    pub key: String,
    /// How many events have the tag.
    pub total: u64,
    /// How many distinct values it has.
    pub distinct: u64,
    /// The most frequent values, most frequent first, ties by value.
    pub top: Vec<TagValueCount>,
}

/// How often a tag value occurs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TagValueCount {
    /// The value.
    pub value: String,
    /// How many events have it.
    pub count: u64,
    /// The oldest of those events' timestamps.
    pub first_seen: Timestamp,
    /// The newest of those events' timestamps.
    pub last_seen: Timestamp,
}

/// Organizations, teams, projects, keys, tokens, users, issues, releases,
/// environments, settings, monitors and alert rules.
///
/// Creating something whose unique name (a slug, an email, a version) is
/// taken fails with [`StoreErrorKind::Conflict`], as does naming an
/// organization, project, user, monitor or release that does not exist where
/// one is written.
pub trait MetadataStore: Send + Sync {
    /// Returns the organization with a slug, creating it if missing.
    fn ensure_organization(
        &self,
        slug: &str,
    ) -> impl Future<Output = Result<Organization, StoreError>> + Send;

    /// Returns an organization by slug.
    fn organization_by_slug(
        &self,
        slug: &str,
    ) -> impl Future<Output = Result<Option<Organization>, StoreError>> + Send;

    /// Returns every organization, by slug.
    fn organizations(&self) -> impl Future<Output = Result<Vec<Organization>, StoreError>> + Send;

    /// Returns an organization by id.
    fn organization(
        &self,
        id: OrgId,
    ) -> impl Future<Output = Result<Option<Organization>, StoreError>> + Send;

    /// Returns the project with a slug in an organization, creating it if missing.
    fn ensure_project(
        &self,
        org_id: OrgId,
        slug: &str,
    ) -> impl Future<Output = Result<Project, StoreError>> + Send;

    /// Returns a project by id.
    fn project(
        &self,
        id: ProjectId,
    ) -> impl Future<Output = Result<Option<Project>, StoreError>> + Send;

    /// Returns a project by organization and project slug.
    fn project_by_slug(
        &self,
        org_id: OrgId,
        slug: &str,
    ) -> impl Future<Output = Result<Option<Project>, StoreError>> + Send;

    /// Returns the projects of an organization, by slug.
    fn projects(
        &self,
        org_id: OrgId,
    ) -> impl Future<Output = Result<Vec<Project>, StoreError>> + Send;

    /// Adds a DSN key.
    fn insert_key(&self, key: &KeyRecord) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Returns the keys of a project, oldest first.
    fn project_keys(
        &self,
        project_id: ProjectId,
    ) -> impl Future<Output = Result<Vec<KeyRecord>, StoreError>> + Send;

    /// Returns a key by its public part.
    fn key(
        &self,
        public_key: &ProjectKey,
    ) -> impl Future<Output = Result<Option<KeyRecord>, StoreError>> + Send;

    /// Adds an API token.
    fn insert_token(&self, token: &ApiToken)
    -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Returns a token by its text.
    fn token(
        &self,
        token: &str,
    ) -> impl Future<Output = Result<Option<ApiToken>, StoreError>> + Send;

    /// Returns the tokens of an organization, oldest first.
    fn org_tokens(
        &self,
        org_id: OrgId,
    ) -> impl Future<Output = Result<Vec<ApiToken>, StoreError>> + Send;

    /// Files an event under the issue of the first of its hashes that names
    /// one, creating the issue if none does, attaches the event's other
    /// hashes to it, and updates its counters; returns the issue after the
    /// update and what the event did to it (created, reopened or counted).
    ///
    /// Filing is idempotent by event id until [`Self::forget_filed_events`]:
    /// the filing is recorded in the same transaction as the counts, and
    /// an event filed again (its batch was interrupted by a crash before
    /// its events were stored, and is processed again from the spool)
    /// counts nothing and gets the issue and the change of its first
    /// filing.
    fn record_issue_event(
        &self,
        event: &IssueEvent,
    ) -> impl Future<Output = Result<FiledEvent, StoreError>> + Send;

    /// Forgets the filing records of events, once they are kept in the
    /// event store, which recognizes them from then on.
    fn forget_filed_events(
        &self,
        events: &[(ProjectId, EventId)],
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Returns an issue by id.
    fn issue(&self, id: IssueId) -> impl Future<Output = Result<Option<Issue>, StoreError>> + Send;

    /// Lists the issues that match a query, in its order.
    fn list_issues(
        &self,
        query: &IssueQuery,
    ) -> impl Future<Output = Result<Page<Issue>, StoreError>> + Send;

    /// Returns a project setting, e.g. `fingerprintingRules`.
    fn project_option(
        &self,
        project_id: ProjectId,
        key: &str,
    ) -> impl Future<Output = Result<Option<String>, StoreError>> + Send;

    /// Sets a project setting; `None` removes it.
    fn set_project_option(
        &self,
        project_id: ProjectId,
        key: &str,
        value: Option<&str>,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Sets the status of an issue, with its reason and end conditions;
    /// returns the issue, or `None` if missing.
    fn set_issue_status(
        &self,
        id: IssueId,
        change: &IssueStatusChange,
    ) -> impl Future<Output = Result<Option<Issue>, StoreError>> + Send;

    /// Unresolves (as escalating) every issue, of any project, ignored
    /// until a time at or before `now`; returns how many.
    fn unignore_expired(
        &self,
        now: Timestamp,
    ) -> impl Future<Output = Result<u64, StoreError>> + Send;

    /// Deletes issues with their hashes, user counts, user reports and
    /// filing records (not their events); returns how many existed.
    fn delete_issues(
        &self,
        ids: &[IssueId],
    ) -> impl Future<Output = Result<u64, StoreError>> + Send;

    /// Deletes a project and what the metadata store holds of it: keys,
    /// settings, issues, team and release links, environments, monitors
    /// and their check-ins, alert rules, attachment records, user reports,
    /// filing records, session counts and raw items (not its outcome counts, which are the
    /// organization's usage); returns whether it existed. Its events and
    /// blobs are the event and blob stores' to delete.
    fn delete_project(
        &self,
        id: ProjectId,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Renames a project or changes its slug or platform; returns it, or
    /// `None` if missing; fails with [`StoreErrorKind::Conflict`] when
    /// another project of the organization has the slug.
    fn update_project(
        &self,
        id: ProjectId,
        update: &ProjectUpdate,
    ) -> impl Future<Output = Result<Option<Project>, StoreError>> + Send;

    // Teams.

    /// Creates a team; fails with [`StoreErrorKind::Conflict`] when the
    /// organization has a team with the slug.
    fn create_team(
        &self,
        org_id: OrgId,
        slug: &str,
        name: &str,
    ) -> impl Future<Output = Result<Team, StoreError>> + Send;

    /// Returns a team by organization and team slug.
    fn team_by_slug(
        &self,
        org_id: OrgId,
        slug: &str,
    ) -> impl Future<Output = Result<Option<Team>, StoreError>> + Send;

    /// Returns the teams of an organization, by slug.
    fn teams(&self, org_id: OrgId) -> impl Future<Output = Result<Vec<Team>, StoreError>> + Send;

    /// Gives a project to a team (again: no change); returns `false`, and
    /// changes nothing, when either is missing or they belong to different
    /// organizations.
    fn add_project_team(
        &self,
        project_id: ProjectId,
        team_id: TeamId,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Takes a project from a team; returns whether the team had it.
    fn remove_project_team(
        &self,
        project_id: ProjectId,
        team_id: TeamId,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Returns the teams a project belongs to, by slug.
    fn project_teams(
        &self,
        project_id: ProjectId,
    ) -> impl Future<Output = Result<Vec<Team>, StoreError>> + Send;

    /// Returns the projects of a team, by slug.
    fn team_projects(
        &self,
        team_id: TeamId,
    ) -> impl Future<Output = Result<Vec<Project>, StoreError>> + Send;

    // Users, memberships and web sessions.

    /// Creates a user account joined now; fails with
    /// [`StoreErrorKind::Conflict`] when another account has the email,
    /// whatever its case.
    fn create_user(&self, user: &NewUser) -> impl Future<Output = Result<User, StoreError>> + Send;

    /// Returns a user by id.
    fn user(&self, id: UserId) -> impl Future<Output = Result<Option<User>, StoreError>> + Send;

    /// Returns a user by email, whatever its case.
    fn user_by_email(
        &self,
        email: &str,
    ) -> impl Future<Output = Result<Option<User>, StoreError>> + Send;

    /// Returns every user, by email (lowercase).
    fn users(&self) -> impl Future<Output = Result<Vec<User>, StoreError>> + Send;

    /// Replaces a user's password hash; returns `false` when the user is missing.
    fn set_user_password(
        &self,
        id: UserId,
        password_hash: &str,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Records that a user logged in at a time; returns `false` when the user is missing.
    fn record_user_login(
        &self,
        id: UserId,
        at: Timestamp,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Makes a user a member of an organization with a role, joined now, or
    /// changes the role of a member (keeping when they joined).
    fn add_org_member(
        &self,
        org_id: OrgId,
        user_id: UserId,
        role: OrgRole,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Removes a user from an organization; returns whether they were a member.
    fn remove_org_member(
        &self,
        org_id: OrgId,
        user_id: UserId,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Returns a user's membership of an organization.
    fn org_member(
        &self,
        org_id: OrgId,
        user_id: UserId,
    ) -> impl Future<Output = Result<Option<OrgMember>, StoreError>> + Send;

    /// Returns the members of an organization, by email (lowercase).
    fn org_members(
        &self,
        org_id: OrgId,
    ) -> impl Future<Output = Result<Vec<OrgMember>, StoreError>> + Send;

    /// Returns the organizations a user belongs to, by slug.
    fn user_orgs(
        &self,
        user_id: UserId,
    ) -> impl Future<Output = Result<Vec<OrgMembership>, StoreError>> + Send;

    /// Opens a web session; fails with [`StoreErrorKind::Conflict`] when its
    /// token hash is taken.
    fn create_session(
        &self,
        session: &WebSession,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Returns the session with a token hash, unless it has expired by `now`.
    fn session(
        &self,
        token_hash: &str,
        now: Timestamp,
    ) -> impl Future<Output = Result<Option<WebSession>, StoreError>> + Send;

    /// Closes a session; returns whether it was open.
    fn delete_session(
        &self,
        token_hash: &str,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Deletes the sessions that expired by `now`; returns how many went.
    fn delete_expired_sessions(
        &self,
        now: Timestamp,
    ) -> impl Future<Output = Result<u64, StoreError>> + Send;

    // Releases and deploys.

    /// Returns the release with a version in an organization, creating it
    /// (now) if missing, after linking it to those of the given projects
    /// that belong to the organization (others are left out).
    fn ensure_release(
        &self,
        org_id: OrgId,
        version: &str,
        project_ids: &[ProjectId],
    ) -> impl Future<Output = Result<Release, StoreError>> + Send;

    /// Returns a release by organization and version.
    fn release_by_version(
        &self,
        org_id: OrgId,
        version: &str,
    ) -> impl Future<Output = Result<Option<Release>, StoreError>> + Send;

    /// Sets the fields of a release that the update gives; returns the
    /// release, or `None` if missing.
    fn update_release(
        &self,
        org_id: OrgId,
        version: &str,
        update: &ReleaseUpdate,
    ) -> impl Future<Output = Result<Option<Release>, StoreError>> + Send;

    /// Lists the releases of an organization, newest first.
    fn releases(
        &self,
        query: &ReleaseQuery,
    ) -> impl Future<Output = Result<Page<Release>, StoreError>> + Send;

    /// Deletes a release, its project links and its deploys; returns whether it existed.
    fn delete_release(
        &self,
        org_id: OrgId,
        version: &str,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Records a deploy of a release.
    fn create_deploy(
        &self,
        release_id: ReleaseId,
        deploy: &NewDeploy,
    ) -> impl Future<Output = Result<Deploy, StoreError>> + Send;

    /// Returns the deploys of a release, most recently finished first.
    fn deploys(
        &self,
        release_id: ReleaseId,
    ) -> impl Future<Output = Result<Vec<Deploy>, StoreError>> + Send;

    // Environments.

    /// Returns a project's environment with a name, recording it as first
    /// seen now if missing; called for every event that names one.
    fn ensure_environment(
        &self,
        project_id: ProjectId,
        name: &str,
    ) -> impl Future<Output = Result<Environment, StoreError>> + Send;

    /// Returns the environments of a project, by name.
    fn project_environments(
        &self,
        project_id: ProjectId,
    ) -> impl Future<Output = Result<Vec<Environment>, StoreError>> + Send;

    /// Returns the environments of every project of an organization, by
    /// name, then project (a name shared by projects comes once per project).
    fn org_environments(
        &self,
        org_id: OrgId,
    ) -> impl Future<Output = Result<Vec<Environment>, StoreError>> + Send;

    // Cron monitors and check-ins.

    /// Creates the monitor with a slug in a project (now), or updates its
    /// settings, keeping its check-in times; returns it.
    fn upsert_monitor(
        &self,
        project_id: ProjectId,
        slug: &str,
        settings: &MonitorSettings,
    ) -> impl Future<Output = Result<Monitor, StoreError>> + Send;

    /// Returns a monitor by id.
    fn monitor(
        &self,
        id: MonitorId,
    ) -> impl Future<Output = Result<Option<Monitor>, StoreError>> + Send;

    /// Returns a monitor by project and monitor slug.
    fn monitor_by_slug(
        &self,
        project_id: ProjectId,
        slug: &str,
    ) -> impl Future<Output = Result<Option<Monitor>, StoreError>> + Send;

    /// Returns the monitors of a project, by slug.
    fn project_monitors(
        &self,
        project_id: ProjectId,
    ) -> impl Future<Output = Result<Vec<Monitor>, StoreError>> + Send;

    /// Returns the monitors of every project of an organization, by slug, then project.
    fn org_monitors(
        &self,
        org_id: OrgId,
    ) -> impl Future<Output = Result<Vec<Monitor>, StoreError>> + Send;

    /// Returns the active monitors, of every project, whose next check-in
    /// was due at or before a time, most overdue first.
    fn monitors_due(
        &self,
        before: Timestamp,
    ) -> impl Future<Output = Result<Vec<Monitor>, StoreError>> + Send;

    /// Sets when a monitor last checked in (`None` keeps what is stored)
    /// and when its next check-in is due (`None`: none is); returns `false`
    /// when the monitor is missing.
    fn update_monitor_checkins(
        &self,
        id: MonitorId,
        last_checkin_at: Option<Timestamp>,
        next_checkin_at: Option<Timestamp>,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Deletes a monitor and its check-ins; returns whether it existed.
    fn delete_monitor(
        &self,
        id: MonitorId,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Adds a check-in; fails with [`StoreErrorKind::Conflict`] when its id
    /// is taken or its monitor is missing.
    fn insert_checkin(
        &self,
        checkin: &CheckIn,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Changes a check-in of a monitor, e.g. closes one that is in
    /// progress; returns it, or `None` when the monitor has no check-in
    /// with the id.
    fn update_checkin(
        &self,
        monitor_id: MonitorId,
        id: CheckInId,
        update: &CheckInUpdate,
    ) -> impl Future<Output = Result<Option<CheckIn>, StoreError>> + Send;

    /// Returns the latest check-ins of a monitor, newest first; at most `limit`.
    fn monitor_checkins(
        &self,
        monitor_id: MonitorId,
        limit: u64,
    ) -> impl Future<Output = Result<Vec<CheckIn>, StoreError>> + Send;

    /// Returns the check-ins still in progress of every active monitor,
    /// oldest first; at most `limit`.
    fn checkins_in_progress(
        &self,
        limit: u64,
    ) -> impl Future<Output = Result<Vec<CheckIn>, StoreError>> + Send;

    // Alert rules.

    /// Creates an alert rule of a project (now), never fired.
    fn create_alert_rule(
        &self,
        project_id: ProjectId,
        settings: &AlertRuleSettings,
    ) -> impl Future<Output = Result<AlertRule, StoreError>> + Send;

    /// Returns an alert rule by id.
    fn alert_rule(
        &self,
        id: RuleId,
    ) -> impl Future<Output = Result<Option<AlertRule>, StoreError>> + Send;

    /// Returns the alert rules of a project, oldest first.
    fn alert_rules(
        &self,
        project_id: ProjectId,
    ) -> impl Future<Output = Result<Vec<AlertRule>, StoreError>> + Send;

    /// Replaces the settings of an alert rule; returns it, or `None` if missing.
    fn update_alert_rule(
        &self,
        id: RuleId,
        settings: &AlertRuleSettings,
    ) -> impl Future<Output = Result<Option<AlertRule>, StoreError>> + Send;

    /// Deletes an alert rule; returns whether it existed.
    fn delete_alert_rule(
        &self,
        id: RuleId,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Claims the right to fire a rule at `now`: records `now` as when it
    /// last fired and returns `true` if it never fired or last fired at
    /// least `min_interval` before `now`; otherwise changes nothing and
    /// returns `false` (also for a missing rule). Atomic: of any number of
    /// claims racing, in one process or several, at most one wins per
    /// interval, so server nodes rate-limit a rule together.
    fn claim_rule_fire(
        &self,
        id: RuleId,
        now: Timestamp,
        min_interval: Duration,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Claims a run of a periodic job (retention, cron monitor checks) at
    /// `now`: records `now` as its last run and returns `true` if it never
    /// ran or last ran at least `min_interval` before `now`; otherwise
    /// changes nothing and returns `false`. Atomic, as
    /// [`Self::claim_rule_fire`] is, so that server nodes sharing a store
    /// run each job once per interval between them.
    fn claim_job_run(
        &self,
        name: &str,
        now: Timestamp,
        min_interval: Duration,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;
}

/// Event payloads.
pub trait EventStore: Send + Sync {
    /// Stores events; an event whose id is already stored for its project is skipped.
    /// Returns how many were new.
    fn insert_events(
        &self,
        events: &[StoredEvent],
    ) -> impl Future<Output = Result<u64, StoreError>> + Send;

    /// Returns which of some event ids a project has stored, in no set
    /// order: one lookup for a whole batch of events.
    fn stored_event_ids(
        &self,
        project_id: ProjectId,
        event_ids: &[EventId],
    ) -> impl Future<Output = Result<Vec<EventId>, StoreError>> + Send;

    /// Returns whether an event is stored.
    fn has_event(
        &self,
        project_id: ProjectId,
        event_id: EventId,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send {
        async move {
            Ok(!self
                .stored_event_ids(project_id, &[event_id])
                .await?
                .is_empty())
        }
    }

    /// Returns an event by id.
    fn event(
        &self,
        project_id: ProjectId,
        event_id: EventId,
    ) -> impl Future<Output = Result<Option<StoredEvent>, StoreError>> + Send;

    /// Returns the latest or oldest event of an issue. The issue's last
    /// (or first) seen narrows the search where an engine can use it; an
    /// event beyond it is found all the same.
    fn issue_event(
        &self,
        issue: &Issue,
        pick: EventPick,
    ) -> impl Future<Output = Result<Option<StoredEvent>, StoreError>> + Send;

    /// Lists the events that match a filter, newest first (ties by event id,
    /// descending), starting after a cursor; at most `limit`.
    fn list_events(
        &self,
        filter: &EventFilter,
        after: Option<EventCursor>,
        limit: u64,
    ) -> impl Future<Output = Result<Page<StoredEvent>, StoreError>> + Send;

    /// Counts the events that match a filter.
    fn count_events(
        &self,
        filter: &EventFilter,
    ) -> impl Future<Output = Result<EventCounts, StoreError>> + Send;

    /// Counts the events that match a filter per issue, in no set order.
    fn count_by_issue(
        &self,
        filter: &EventFilter,
    ) -> impl Future<Output = Result<Vec<IssueCounts>, StoreError>> + Send;

    /// Counts the events that match a filter per bucket of `interval_seconds`
    /// (aligned to the Unix epoch), oldest first; empty buckets are left out.
    fn event_series(
        &self,
        filter: &EventFilter,
        interval_seconds: u64,
    ) -> impl Future<Output = Result<Vec<SeriesBucket>, StoreError>> + Send;

    /// Returns the tag facets of the events that match a filter: every key
    /// (or only `keys` when not empty), most frequent first (ties by key),
    /// each with its `top` most frequent values.
    fn tag_facets(
        &self,
        filter: &EventFilter,
        keys: &[String],
        top: u64,
    ) -> impl Future<Output = Result<Vec<TagFacet>, StoreError>> + Send;

    /// Deletes a project's events older than `before`; returns how many went.
    fn delete_events_before(
        &self,
        project_id: ProjectId,
        before: Timestamp,
    ) -> impl Future<Output = Result<u64, StoreError>> + Send;

    /// Deletes all but the newest `keep` events of a project; returns how many went.
    fn trim_events(
        &self,
        project_id: ProjectId,
        keep: u64,
    ) -> impl Future<Output = Result<u64, StoreError>> + Send;

    /// Gives the space of deleted events back, for engines that do not do
    /// so by themselves; the others keep this default, which does nothing.
    fn compact(&self) -> impl Future<Output = Result<(), StoreError>> + Send {
        async { Ok(()) }
    }
}
