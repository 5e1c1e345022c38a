//! The SQLite backend: metadata and events in SQLite files (WAL mode), or
//! in memory for tests.
//!
//! rusqlite is synchronous, so every call runs on tokio's blocking pool
//! while holding the one connection; callers only see futures. Event
//! payloads are stored lz4-compressed.

mod alert_rules;
mod artifacts;
mod attachments;
mod environments;
mod events;
mod issues;
mod metadata;
mod migrations;
mod monitors;
mod outcomes;
mod quotas;
mod raw_items;
mod releases;
mod sessions;
mod teams;
mod user_reports;
mod users;

use std::path::Path;
use std::sync::{Arc, Mutex};

use rusqlite::{Connection, Params};
use sentry_core::ProjectId;
use sentry_core::protocol::Timestamp;
use sentry_core::store::{StoreError, StoreErrorKind};

use crate::records::Reader;

/// A SQLite database holding metadata, events, or both.
#[derive(Clone)]
pub struct SqliteStore {
    connection: Arc<Mutex<Connection>>,
}

impl SqliteStore {
    /// Opens (creating if missing) and migrates a database file.
    ///
    /// # Errors
    ///
    /// Fails when the file cannot be opened or migrated.
    pub async fn open(path: &Path) -> Result<Self, StoreError> {
        let path = path.to_owned();
        let connection = tokio::task::spawn_blocking(move || -> Result<Connection, StoreError> {
            if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
                std::fs::create_dir_all(parent)
                    .map_err(|e| StoreError::new(StoreErrorKind::Unavailable, e))?;
            }
            let connection = Connection::open(&path).map_err(unavailable)?;
            // Takes effect on a new file only; `compact` frees deleted pages.
            connection
                .pragma_update(None, "auto_vacuum", "INCREMENTAL")
                .map_err(unavailable)?;
            connection
                .pragma_update(None, "journal_mode", "WAL")
                .map_err(unavailable)?;
            connection
                .pragma_update(None, "synchronous", "NORMAL")
                .map_err(unavailable)?;
            Ok(connection)
        })
        .await
        .map_err(|e| StoreError::new(StoreErrorKind::Unavailable, e))??;
        Self::from_connection(connection).await
    }

    /// Opens a private in-memory database.
    ///
    /// # Errors
    ///
    /// Fails when SQLite cannot allocate it.
    pub async fn open_in_memory() -> Result<Self, StoreError> {
        Self::from_connection(Connection::open_in_memory().map_err(unavailable)?).await
    }

    async fn from_connection(connection: Connection) -> Result<Self, StoreError> {
        connection
            .busy_timeout(std::time::Duration::from_secs(5))
            .map_err(unavailable)?;
        // Off by default in SQLite; on, the schema's references hold as in Postgres.
        connection
            .pragma_update(None, "foreign_keys", "ON")
            .map_err(unavailable)?;
        let store = Self {
            connection: Arc::new(Mutex::new(connection)),
        };
        store.run(migrations::migrate).await?;
        Ok(store)
    }

    /// Runs a closure with the connection on the blocking pool.
    async fn run<T, F>(&self, work: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T, StoreError> + Send + 'static,
    {
        let connection = Arc::clone(&self.connection);
        tokio::task::spawn_blocking(move || {
            let mut guard = connection
                .lock()
                .map_err(|_| StoreError::from_kind(StoreErrorKind::Unavailable))?;
            work(&mut guard)
        })
        .await
        .map_err(|e| StoreError::new(StoreErrorKind::Unavailable, e))?
    }
}

impl SqliteStore {
    /// Deletes the rows of a table whose time column is before `before`,
    /// of one project when one is given; returns how many went.
    async fn delete_before(
        &self,
        table: &'static str,
        column: &'static str,
        project_id: Option<ProjectId>,
        before: Timestamp,
    ) -> Result<u64, StoreError> {
        let before = before.as_unix_micros();
        self.run(move |connection| {
            let deleted = match project_id {
                Some(project_id) => {
                    let Ok(project) = i64::try_from(project_id.0) else {
                        return Ok(0);
                    };
                    connection.execute(
                        &format!("DELETE FROM {table} WHERE project_id = ?1 AND {column} < ?2"),
                        rusqlite::params![project, before],
                    )
                }
                None => connection.execute(
                    &format!("DELETE FROM {table} WHERE {column} < ?1"),
                    [before],
                ),
            }
            .map_err(unavailable)?;
            Ok(deleted as u64)
        })
        .await
    }
}

/// Maps a rusqlite error: constraint violations are conflicts, the rest unavailability.
fn unavailable(error: rusqlite::Error) -> StoreError {
    let kind = match &error {
        rusqlite::Error::SqliteFailure(failure, _)
            if failure.code == rusqlite::ErrorCode::ConstraintViolation =>
        {
            StoreErrorKind::Conflict
        }
        _ => StoreErrorKind::Unavailable,
    };
    StoreError::new(kind, error)
}

fn corrupt(error: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> StoreError {
    StoreError::new(StoreErrorKind::Corrupt, error)
}

/// Runs a query and reads its first row as a record, if there is one.
fn query_opt<T>(
    connection: &Connection,
    sql: &str,
    params: impl Params,
    read: Reader<T>,
) -> Result<Option<T>, StoreError> {
    let mut statement = connection.prepare_cached(sql).map_err(unavailable)?;
    let mut rows = statement.query(params).map_err(unavailable)?;
    match rows.next().map_err(unavailable)? {
        Some(row) => Ok(Some(read(row)?)),
        None => Ok(None),
    }
}

/// Runs a query and reads every row as a record.
fn query_all<T>(
    connection: &Connection,
    sql: &str,
    params: impl Params,
    read: Reader<T>,
) -> Result<Vec<T>, StoreError> {
    let mut statement = connection.prepare_cached(sql).map_err(unavailable)?;
    let mut rows = statement.query(params).map_err(unavailable)?;
    let mut records = Vec::new();
    while let Some(row) = rows.next().map_err(unavailable)? {
        records.push(read(row)?);
    }
    Ok(records)
}

/// Runs a query whose first row must exist, e.g. a row just written.
fn query_one<T>(
    connection: &Connection,
    sql: &str,
    params: impl Params,
    read: Reader<T>,
) -> Result<T, StoreError> {
    query_opt(connection, sql, params, read)?
        .ok_or_else(|| corrupt("a row just written or found is missing"))
}
