//! Schema migrations, versioned by SQLite's `user_version`.
//!
//! Each entry of [`MIGRATIONS`] moves the schema from version `n` to
//! `n + 1`. Never edit a released entry; append a new one.

use rusqlite::Connection;
use sentry_core::store::StoreError;

use super::unavailable;

/// The migrations, in order. Version history:
///
/// 1: organizations, projects, keys, tokens, issues and their hashes and
///    users; events with lz4 payloads.
/// 2: per-project settings (`project_options`).
/// 3: event tags: a JSON copy on the event and one `event_tags` row each,
///    for filters and facets; events by project and time.
/// 4: teams and their projects; users, organization members and web
///    sessions; releases, their projects and deploys; environments; cron
///    monitors and check-ins; alert rules.
/// 5: attachment records (`attachments`); their content is in a blob store.
/// 6: issue triage: `substatus` and the conditions that end a status
///    (`ignore_until`, `ignore_until_times_seen`, `ignore_until_user_count`,
///    `resolved_in_release`); issues by first seen, events and users, for
///    sorting.
/// 7: outcome counts per hour (`outcomes`), release health counts
///    (`session_counts`), user feedback (`user_reports`), rate limit
///    counters (`quota_windows`) and items kept as they came (`raw_items`).
/// 8: sentry-cli's upload chunks (`upload_chunks`), artifact bundles
///    (`artifact_bundles`, their projects and their files) and debug files
///    (`debug_files`).
/// 9: filing records of events not yet in the event store
///    (`filed_events`); issue ids drawn from `id_sequences`, never reused;
///    the last run of each periodic job (`job_runs`).
const MIGRATIONS: &[&str] = &[
    r#"
CREATE TABLE organizations (
    id INTEGER PRIMARY KEY,
    slug TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    date_created INTEGER NOT NULL
);
CREATE TABLE projects (
    id INTEGER PRIMARY KEY,
    org_id INTEGER NOT NULL REFERENCES organizations(id),
    slug TEXT NOT NULL,
    name TEXT NOT NULL,
    platform TEXT,
    date_created INTEGER NOT NULL,
    next_short_number INTEGER NOT NULL DEFAULT 1,
    UNIQUE (org_id, slug)
);
CREATE TABLE project_keys (
    public_key TEXT PRIMARY KEY,
    project_id INTEGER NOT NULL REFERENCES projects(id),
    label TEXT NOT NULL,
    is_active INTEGER NOT NULL,
    date_created INTEGER NOT NULL
);
CREATE INDEX project_keys_project ON project_keys(project_id);
CREATE TABLE api_tokens (
    token TEXT PRIMARY KEY,
    org_id INTEGER NOT NULL REFERENCES organizations(id),
    scopes TEXT NOT NULL,
    name TEXT NOT NULL,
    date_created INTEGER NOT NULL
);
CREATE TABLE issues (
    id INTEGER PRIMARY KEY,
    project_id INTEGER NOT NULL,
    short_number INTEGER NOT NULL,
    title TEXT NOT NULL,
    culprit TEXT NOT NULL,
    level TEXT NOT NULL,
    type TEXT NOT NULL,
    platform TEXT NOT NULL,
    metadata TEXT NOT NULL,
    status TEXT NOT NULL,
    first_seen INTEGER NOT NULL,
    last_seen INTEGER NOT NULL,
    times_seen INTEGER NOT NULL,
    user_count INTEGER NOT NULL,
    grouping_config TEXT NOT NULL
);
CREATE INDEX issues_project_last_seen ON issues(project_id, last_seen DESC, id DESC);
CREATE TABLE issue_hashes (
    project_id INTEGER NOT NULL,
    hash TEXT NOT NULL,
    issue_id INTEGER NOT NULL,
    PRIMARY KEY (project_id, hash)
) WITHOUT ROWID;
CREATE TABLE issue_users (
    issue_id INTEGER NOT NULL,
    user TEXT NOT NULL,
    PRIMARY KEY (issue_id, user)
) WITHOUT ROWID;
CREATE TABLE events (
    project_id INTEGER NOT NULL,
    event_id BLOB NOT NULL,
    issue_id INTEGER NOT NULL,
    timestamp INTEGER NOT NULL,
    received INTEGER NOT NULL,
    hash TEXT NOT NULL,
    grouping_config TEXT NOT NULL,
    payload BLOB NOT NULL,
    UNIQUE (project_id, event_id)
);
CREATE INDEX events_issue_time ON events(issue_id, timestamp);
"#,
    r#"
CREATE TABLE project_options (
    project_id INTEGER NOT NULL,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (project_id, key)
) WITHOUT ROWID;
"#,
    r#"
ALTER TABLE events ADD COLUMN tags TEXT NOT NULL DEFAULT '[]';
CREATE INDEX events_project_time ON events(project_id, timestamp);
CREATE TABLE event_tags (
    project_id INTEGER NOT NULL,
    event_id BLOB NOT NULL,
    issue_id INTEGER NOT NULL,
    timestamp INTEGER NOT NULL,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (project_id, event_id, key)
) WITHOUT ROWID;
CREATE INDEX event_tags_issue ON event_tags(issue_id, key, value);
CREATE INDEX event_tags_project ON event_tags(project_id, key, value, timestamp);
"#,
    r#"
CREATE TABLE teams (
    id INTEGER PRIMARY KEY,
    org_id INTEGER NOT NULL REFERENCES organizations(id),
    slug TEXT NOT NULL,
    name TEXT NOT NULL,
    date_created INTEGER NOT NULL,
    UNIQUE (org_id, slug)
);
CREATE TABLE project_teams (
    project_id INTEGER NOT NULL REFERENCES projects(id),
    team_id INTEGER NOT NULL REFERENCES teams(id),
    PRIMARY KEY (project_id, team_id)
) WITHOUT ROWID;
CREATE INDEX project_teams_team ON project_teams(team_id);
CREATE TABLE users (
    id INTEGER PRIMARY KEY,
    email TEXT NOT NULL,
    email_key TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    password_hash TEXT,
    is_superuser INTEGER NOT NULL,
    date_joined INTEGER NOT NULL,
    last_login INTEGER
);
CREATE TABLE org_members (
    org_id INTEGER NOT NULL REFERENCES organizations(id),
    user_id INTEGER NOT NULL REFERENCES users(id),
    role TEXT NOT NULL,
    date_added INTEGER NOT NULL,
    PRIMARY KEY (org_id, user_id)
) WITHOUT ROWID;
CREATE INDEX org_members_user ON org_members(user_id);
CREATE TABLE user_sessions (
    token_hash TEXT PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users(id),
    date_created INTEGER NOT NULL,
    expires INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX user_sessions_expires ON user_sessions(expires);
CREATE INDEX user_sessions_user ON user_sessions(user_id);
CREATE TABLE releases (
    id INTEGER PRIMARY KEY,
    org_id INTEGER NOT NULL REFERENCES organizations(id),
    version TEXT NOT NULL,
    reference TEXT,
    url TEXT,
    date_created INTEGER NOT NULL,
    date_released INTEGER,
    UNIQUE (org_id, version)
);
CREATE INDEX releases_org_created ON releases(org_id, date_created DESC, id DESC);
CREATE TABLE release_projects (
    release_id INTEGER NOT NULL REFERENCES releases(id) ON DELETE CASCADE,
    project_id INTEGER NOT NULL REFERENCES projects(id),
    PRIMARY KEY (release_id, project_id)
) WITHOUT ROWID;
CREATE INDEX release_projects_project ON release_projects(project_id);
CREATE TABLE deploys (
    id INTEGER PRIMARY KEY,
    release_id INTEGER NOT NULL REFERENCES releases(id) ON DELETE CASCADE,
    environment TEXT NOT NULL,
    name TEXT,
    url TEXT,
    date_started INTEGER,
    date_finished INTEGER NOT NULL
);
CREATE INDEX deploys_release ON deploys(release_id, date_finished DESC, id DESC);
CREATE TABLE environments (
    project_id INTEGER NOT NULL REFERENCES projects(id),
    name TEXT NOT NULL,
    first_seen INTEGER NOT NULL,
    PRIMARY KEY (project_id, name)
) WITHOUT ROWID;
CREATE TABLE monitors (
    id INTEGER PRIMARY KEY,
    project_id INTEGER NOT NULL REFERENCES projects(id),
    slug TEXT NOT NULL,
    name TEXT NOT NULL,
    config TEXT NOT NULL,
    status TEXT NOT NULL,
    next_checkin_at INTEGER,
    last_checkin_at INTEGER,
    date_created INTEGER NOT NULL,
    UNIQUE (project_id, slug)
);
CREATE INDEX monitors_due ON monitors(next_checkin_at) WHERE status = 'active';
CREATE TABLE monitor_checkins (
    id BLOB PRIMARY KEY,
    monitor_id INTEGER NOT NULL REFERENCES monitors(id) ON DELETE CASCADE,
    status TEXT NOT NULL,
    duration_ms INTEGER,
    environment TEXT,
    date_created INTEGER NOT NULL,
    date_updated INTEGER NOT NULL
);
CREATE INDEX monitor_checkins_monitor ON monitor_checkins(monitor_id, date_created DESC);
CREATE TABLE alert_rules (
    id INTEGER PRIMARY KEY,
    project_id INTEGER NOT NULL REFERENCES projects(id),
    name TEXT NOT NULL,
    config TEXT NOT NULL,
    enabled INTEGER NOT NULL,
    date_created INTEGER NOT NULL,
    last_fired_at INTEGER
);
CREATE INDEX alert_rules_project ON alert_rules(project_id);
"#,
    r#"
CREATE TABLE attachments (
    id BLOB PRIMARY KEY,
    project_id INTEGER NOT NULL,
    event_id BLOB NOT NULL,
    name TEXT NOT NULL,
    content_type TEXT,
    attachment_type TEXT NOT NULL,
    size INTEGER NOT NULL,
    checksum BLOB NOT NULL,
    date_created INTEGER NOT NULL
);
CREATE INDEX attachments_event ON attachments(project_id, event_id);
CREATE INDEX attachments_project_created ON attachments(project_id, date_created);
CREATE INDEX attachments_checksum ON attachments(checksum);
"#,
    r#"
ALTER TABLE issues ADD COLUMN substatus TEXT;
ALTER TABLE issues ADD COLUMN ignore_until INTEGER;
ALTER TABLE issues ADD COLUMN ignore_until_times_seen INTEGER;
ALTER TABLE issues ADD COLUMN ignore_until_user_count INTEGER;
ALTER TABLE issues ADD COLUMN resolved_in_release TEXT;
CREATE INDEX issues_ignore_until ON issues(ignore_until) WHERE ignore_until IS NOT NULL;
CREATE INDEX issues_project_first_seen ON issues(project_id, first_seen DESC, id DESC);
CREATE INDEX issues_project_times_seen ON issues(project_id, times_seen DESC, id DESC);
CREATE INDEX issues_project_user_count ON issues(project_id, user_count DESC, id DESC);
"#,
    r#"
CREATE TABLE outcomes (
    project_id INTEGER NOT NULL,
    hour INTEGER NOT NULL,
    category TEXT NOT NULL,
    outcome TEXT NOT NULL,
    reason TEXT NOT NULL,
    quantity INTEGER NOT NULL,
    PRIMARY KEY (project_id, hour, category, outcome, reason)
) WITHOUT ROWID;
CREATE INDEX outcomes_hour ON outcomes(hour);
CREATE TABLE session_counts (
    project_id INTEGER NOT NULL,
    release TEXT NOT NULL,
    environment TEXT NOT NULL,
    hour INTEGER NOT NULL,
    metric TEXT NOT NULL,
    subject TEXT NOT NULL,
    quantity INTEGER NOT NULL,
    PRIMARY KEY (project_id, hour, release, environment, metric, subject)
) WITHOUT ROWID;
CREATE INDEX session_counts_hour ON session_counts(hour);
CREATE TABLE user_reports (
    project_id INTEGER NOT NULL,
    id BLOB NOT NULL,
    event_id BLOB,
    issue_id INTEGER,
    name TEXT NOT NULL,
    email TEXT NOT NULL,
    comments TEXT NOT NULL,
    environment TEXT,
    date_created INTEGER NOT NULL,
    PRIMARY KEY (project_id, id)
);
CREATE INDEX user_reports_created ON user_reports(project_id, date_created, id);
CREATE INDEX user_reports_issue ON user_reports(issue_id, date_created, id);
CREATE INDEX user_reports_event ON user_reports(project_id, event_id);
CREATE TABLE quota_windows (
    quota TEXT NOT NULL,
    window_start INTEGER NOT NULL,
    used INTEGER NOT NULL,
    PRIMARY KEY (quota, window_start)
);
CREATE INDEX quota_windows_start ON quota_windows(window_start);
CREATE TABLE raw_items (
    id INTEGER PRIMARY KEY,
    project_id INTEGER NOT NULL,
    item_type TEXT NOT NULL,
    received INTEGER NOT NULL,
    headers TEXT NOT NULL,
    payload BLOB NOT NULL
);
CREATE INDEX raw_items_project ON raw_items(project_id, item_type, received);
"#,
    r#"
CREATE TABLE upload_chunks (
    org_id INTEGER NOT NULL,
    sha1 BLOB NOT NULL,
    blob BLOB NOT NULL,
    size INTEGER NOT NULL,
    uploaded INTEGER NOT NULL,
    PRIMARY KEY (org_id, sha1)
) WITHOUT ROWID;
CREATE INDEX upload_chunks_uploaded ON upload_chunks(uploaded);
CREATE INDEX upload_chunks_blob ON upload_chunks(blob);
CREATE TABLE artifact_bundles (
    id INTEGER PRIMARY KEY,
    org_id INTEGER NOT NULL,
    checksum BLOB NOT NULL,
    blob BLOB NOT NULL,
    bundle_id BLOB,
    release TEXT,
    dist TEXT,
    date_uploaded INTEGER NOT NULL,
    UNIQUE (org_id, checksum)
);
CREATE INDEX artifact_bundles_blob ON artifact_bundles(blob);
CREATE TABLE artifact_bundle_projects (
    project_id INTEGER NOT NULL,
    bundle INTEGER NOT NULL REFERENCES artifact_bundles(id),
    PRIMARY KEY (project_id, bundle)
) WITHOUT ROWID;
CREATE TABLE artifact_files (
    bundle INTEGER NOT NULL REFERENCES artifact_bundles(id),
    path TEXT NOT NULL,
    url TEXT NOT NULL,
    kind TEXT NOT NULL,
    debug_id BLOB,
    source_map TEXT,
    PRIMARY KEY (bundle, path)
);
CREATE INDEX artifact_files_debug_id ON artifact_files(debug_id, kind) WHERE debug_id IS NOT NULL;
CREATE INDEX artifact_files_url ON artifact_files(url);
CREATE TABLE debug_files (
    project_id INTEGER NOT NULL,
    debug_id TEXT NOT NULL,
    checksum BLOB NOT NULL,
    code_id TEXT,
    object_name TEXT NOT NULL,
    format TEXT NOT NULL,
    arch TEXT NOT NULL,
    kind TEXT NOT NULL,
    features TEXT NOT NULL,
    blob BLOB NOT NULL,
    size INTEGER NOT NULL,
    date_uploaded INTEGER NOT NULL,
    PRIMARY KEY (project_id, debug_id, checksum)
);
CREATE INDEX debug_files_checksum ON debug_files(project_id, checksum);
CREATE INDEX debug_files_blob ON debug_files(blob);
"#,
    // 9: events filed under their issues but not yet in the event store,
    // so that filing them again after a crash counts nothing.
    r#"
CREATE TABLE filed_events (
    project_id INTEGER NOT NULL,
    event_id BLOB NOT NULL,
    issue_id INTEGER NOT NULL,
    change TEXT NOT NULL,
    PRIMARY KEY (project_id, event_id)
) WITHOUT ROWID;
CREATE INDEX filed_events_issue ON filed_events(issue_id);
-- Issue ids are never reused: the events of a deleted issue stay in the
-- event store until retention, and must not join a new issue.
CREATE TABLE id_sequences (name TEXT PRIMARY KEY, next INTEGER NOT NULL);
INSERT INTO id_sequences (name, next) SELECT 'issues', coalesce(max(id), 0) + 1 FROM issues;
-- When each periodic job last ran, so that processes sharing the
-- database run it once per interval between them.
CREATE TABLE job_runs (name TEXT PRIMARY KEY, last_run INTEGER NOT NULL);
"#,
];

/// Applies the migrations the database has not seen yet, each in a transaction.
pub(super) fn migrate(connection: &mut Connection) -> Result<(), StoreError> {
    let current: usize = connection
        .pragma_query_value(None, "user_version", |row| row.get(0))
        .map_err(unavailable)?;
    for (index, sql) in MIGRATIONS.iter().enumerate().skip(current) {
        let transaction = connection.transaction().map_err(unavailable)?;
        transaction.execute_batch(sql).map_err(unavailable)?;
        transaction
            .pragma_update(None, "user_version", index + 1)
            .map_err(unavailable)?;
        transaction.commit().map_err(unavailable)?;
        tracing::info!(version = index + 1, "migrated sqlite schema");
    }
    Ok(())
}
