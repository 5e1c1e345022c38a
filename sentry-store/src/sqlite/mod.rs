//! The SQLite backend: metadata and events in SQLite files (WAL mode), or
//! in memory for tests.
//!
//! rusqlite is synchronous, so every call runs on tokio's blocking pool
//! while holding the one connection; callers only see futures. Event
//! payloads are stored lz4-compressed.

mod attachments;
mod events;
mod metadata;
mod migrations;

use std::path::Path;
use std::sync::{Arc, Mutex};

use rusqlite::Connection;
use sentry_core::store::{StoreError, StoreErrorKind};

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
