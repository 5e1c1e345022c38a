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
/// 4: attachment records (`attachments`); their content is in a blob store.
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
