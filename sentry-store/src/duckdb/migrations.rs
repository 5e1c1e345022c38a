//! Schema migrations, versioned in a one-row `schema_version` table.
//!
//! Each entry of [`MIGRATIONS`] moves the schema from version `n` to
//! `n + 1`. Never edit a released entry; append a new one.

use duckdb::{Connection, OptionalExt};
use sentry_core::store::StoreError;

use super::unavailable;

/// The migrations, in order. Version history:
///
/// 1: events (lz4 payloads, tags as JSON) with a primary key on project and
///    event id, and `event_tags`, one row per tag, for filters and facets.
const MIGRATIONS: &[&str] = &[r#"
CREATE TABLE events (
    project_id BIGINT NOT NULL,
    event_id BLOB NOT NULL,
    issue_id BIGINT NOT NULL,
    timestamp BIGINT NOT NULL,
    received BIGINT NOT NULL,
    hash VARCHAR NOT NULL,
    grouping_config VARCHAR NOT NULL,
    payload BLOB NOT NULL,
    tags VARCHAR NOT NULL,
    PRIMARY KEY (project_id, event_id)
);
CREATE TABLE event_tags (
    project_id BIGINT NOT NULL,
    event_id BLOB NOT NULL,
    issue_id BIGINT NOT NULL,
    timestamp BIGINT NOT NULL,
    key VARCHAR NOT NULL,
    value VARCHAR NOT NULL
);
"#];

/// Applies the migrations the database has not seen yet, each in a transaction.
pub(super) fn migrate(connection: &mut Connection) -> Result<(), StoreError> {
    connection
        .execute_batch("CREATE TABLE IF NOT EXISTS schema_version (version BIGINT NOT NULL)")
        .map_err(unavailable)?;
    let current: i64 = connection
        .query_row("SELECT max(version) FROM schema_version", [], |row| {
            row.get::<_, Option<i64>>(0)
        })
        .optional()
        .map_err(unavailable)?
        .flatten()
        .unwrap_or(0);
    let current = usize::try_from(current).unwrap_or(0);
    for (index, sql) in MIGRATIONS.iter().enumerate().skip(current) {
        let transaction = connection.transaction().map_err(unavailable)?;
        transaction.execute_batch(sql).map_err(unavailable)?;
        transaction
            .execute("DELETE FROM schema_version", [])
            .map_err(unavailable)?;
        transaction
            .execute(
                "INSERT INTO schema_version VALUES (?)",
                [i64::try_from(index + 1).unwrap_or(i64::MAX)],
            )
            .map_err(unavailable)?;
        transaction.commit().map_err(unavailable)?;
        tracing::info!(version = index + 1, "migrated duckdb schema");
    }
    Ok(())
}
