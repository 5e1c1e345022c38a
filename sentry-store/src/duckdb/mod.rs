//! The DuckDB backend: events in one DuckDB file (columnar, compressed),
//! the embedded default for events.
//!
//! The duckdb crate is synchronous, so calls run on tokio's blocking pool.
//! Writes go through one connection and reads through another to the same
//! database, so a large batch being appended does not hold up the API.
//! Batches are appended with DuckDB's Appender inside a transaction, as
//! Arrow record batches (whole columns).
//! DuckDB is compiled in (`bundled`) with no extensions, and nothing is
//! downloaded at run time.

mod batch;
mod events;
mod migrations;
mod tag_lists;

use std::path::Path;
use std::sync::{Arc, Mutex};

use duckdb::Connection;
use sentry_core::store::{StoreError, StoreErrorKind};

use crate::location::DuckdbOptions;

/// Settings of each connection: a page of events (up to 100 and one more
/// to learn whether more follow) is found by its sort columns first and
/// only its rows are read whole (late materialization; by default only up
/// to 50 rows), instead of reading the payload and tags of every event of
/// the issue.
const SESSION_SETTINGS: &str = "SET late_materialization_max_rows = 256";

/// A DuckDB database holding events.
#[derive(Clone)]
pub struct DuckdbStore {
    writer: Arc<Mutex<Connection>>,
    reader: Arc<Mutex<Connection>>,
}

impl DuckdbStore {
    /// Opens (creating if missing) and migrates a database file, with a
    /// memory limit (by default [`DuckdbOptions::DEFAULT_MEMORY_LIMIT`]),
    /// a checkpoint threshold (by default
    /// [`DuckdbOptions::DEFAULT_CHECKPOINT_THRESHOLD`]) and thread count.
    ///
    /// # Errors
    ///
    /// Fails when the file cannot be opened (another process holding it
    /// among the causes) or migrated, or DuckDB refuses an option.
    pub async fn open(path: &Path, options: &DuckdbOptions) -> Result<Self, StoreError> {
        let path = path.to_owned();
        let options = options.clone();
        blocking(move || {
            if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
                std::fs::create_dir_all(parent)
                    .map_err(|e| StoreError::new(StoreErrorKind::Unavailable, e))?;
            }
            let connection = Connection::open(&path).map_err(unavailable)?;
            // Both values were checked when the URL was read.
            let memory_limit = options
                .memory_limit
                .as_deref()
                .unwrap_or(DuckdbOptions::DEFAULT_MEMORY_LIMIT);
            let checkpoint_threshold = options
                .checkpoint_threshold
                .as_deref()
                .unwrap_or(DuckdbOptions::DEFAULT_CHECKPOINT_THRESHOLD);
            let mut settings = format!(
                "SET memory_limit = '{memory_limit}'; \
                 SET checkpoint_threshold = '{checkpoint_threshold}';"
            );
            if let Some(threads) = options.threads {
                settings.push_str(&format!(" SET threads = {threads};"));
            }
            connection.execute_batch(&settings).map_err(unavailable)?;
            Self::from_connection(connection)
        })
        .await
    }

    /// Opens a private in-memory database.
    ///
    /// # Errors
    ///
    /// Fails when DuckDB cannot allocate it.
    pub async fn open_in_memory() -> Result<Self, StoreError> {
        blocking(|| Self::from_connection(Connection::open_in_memory().map_err(unavailable)?)).await
    }

    fn from_connection(mut writer: Connection) -> Result<Self, StoreError> {
        migrations::migrate(&mut writer)?;
        let reader = writer.try_clone().map_err(unavailable)?;
        for connection in [&writer, &reader] {
            connection
                .execute_batch(SESSION_SETTINGS)
                .map_err(unavailable)?;
        }
        Ok(Self {
            writer: Arc::new(Mutex::new(writer)),
            reader: Arc::new(Mutex::new(reader)),
        })
    }

    /// Runs a closure with the write connection on the blocking pool.
    async fn write<T, F>(&self, work: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T, StoreError> + Send + 'static,
    {
        with_connection(Arc::clone(&self.writer), work).await
    }

    /// Runs a closure with the read connection on the blocking pool.
    async fn read<T, F>(&self, work: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T, StoreError> + Send + 'static,
    {
        with_connection(Arc::clone(&self.reader), work).await
    }
}

async fn with_connection<T, F>(connection: Arc<Mutex<Connection>>, work: F) -> Result<T, StoreError>
where
    T: Send + 'static,
    F: FnOnce(&mut Connection) -> Result<T, StoreError> + Send + 'static,
{
    blocking(move || {
        let mut guard = connection
            .lock()
            .map_err(|_| StoreError::from_kind(StoreErrorKind::Unavailable))?;
        work(&mut guard)
    })
    .await
}

async fn blocking<T, F>(work: F) -> Result<T, StoreError>
where
    T: Send + 'static,
    F: FnOnce() -> Result<T, StoreError> + Send + 'static,
{
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| StoreError::new(StoreErrorKind::Unavailable, e))?
}

/// Maps a duckdb error: constraint violations are conflicts, the rest unavailability.
fn unavailable(error: duckdb::Error) -> StoreError {
    let kind = match &error {
        duckdb::Error::DuckDBFailure(failure, _)
            if failure.code == duckdb::ErrorCode::ConstraintViolation =>
        {
            StoreErrorKind::Conflict
        }
        _ => StoreErrorKind::Unavailable,
    };
    StoreError::new(kind, error)
}
