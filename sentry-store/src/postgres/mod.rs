//! The PostgreSQL backend, for metadata (organizations, teams, projects,
//! keys, tokens, users, issues, releases, environments, settings,
//! monitors, alert rules and attachment records) and for blobs
//! ([`blobs`]), shared by several server processes. Event payloads go
//! to another backend.
//!
//! Connections come from a pool of tokio-postgres clients without TLS: the
//! database is expected on loopback or a private network. The schema mirrors
//! the SQLite backend's table for table, timestamps included (`BIGINT` unix
//! microseconds), and is migrated on open. Writers that race, in one process
//! or several, stay exact (see [`PostgresStore`]).

mod alert_rules;
mod artifacts;
mod attachments;
pub mod blobs;
mod environments;
mod error;
mod issues;
mod metadata;
mod migrations;
mod monitors;
mod outcomes;
mod quotas;
mod raw_items;
mod releases;
mod sessions;
mod sql;
mod teams;
mod user_reports;
mod users;

use std::time::Duration;

use deadpool_postgres::{Manager, ManagerConfig, Object, Pool, RecyclingMethod, Runtime};
use sentry_core::ProjectId;
use sentry_core::protocol::Timestamp;
use sentry_core::store::StoreError;
use tokio_postgres::NoTls;

use self::error::PgError;

/// How long to wait for a free pooled connection or a new one.
const POOL_TIMEOUT: Duration = Duration::from_secs(10);
/// How long to wait for the server when the URL does not say.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// A PostgreSQL database holding metadata, reached through a connection pool.
///
/// Cloning is cheap and shares the pool. Any number of stores, in one
/// process or several, may write to one database at once: `record_issue_event`
/// counts every event exactly once, creates one issue per hash however many
/// writers race to create it, and numbers each project's issues without gaps
/// or repeats; opening migrates the schema once however many open together.
#[derive(Clone)]
pub struct PostgresStore {
    pool: Pool,
}

impl PostgresStore {
    /// Connects to the database at a `postgres://` or `postgresql://` URL
    /// (libpq's URL or `key=value` form) and migrates it.
    ///
    /// # Errors
    ///
    /// Fails with [`InvalidLocation`] for a URL that cannot be read, and with
    /// [`Unavailable`] when the server cannot be reached or migrated.
    ///
    /// [`InvalidLocation`]: sentry_core::store::StoreErrorKind::InvalidLocation
    /// [`Unavailable`]: sentry_core::store::StoreErrorKind::Unavailable
    pub async fn open(url: &str) -> Result<Self, StoreError> {
        let store = Self { pool: pool(url)? };
        let mut client = store.client().await?;
        migrations::migrate(&mut client).await?;
        Ok(store)
    }

    /// Takes a connection from the pool.
    async fn client(&self) -> Result<Object, PgError> {
        Ok(self.pool.get().await?)
    }

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
        let client = self.client().await?;
        let deleted = match project_id {
            Some(project_id) => {
                let Some(project) = metadata::project_key(project_id) else {
                    return Ok(0);
                };
                sql::execute(
                    &client,
                    &format!("DELETE FROM {table} WHERE project_id = $1 AND {column} < $2"),
                    &[&project, &before],
                )
                .await?
            }
            None => {
                sql::execute(
                    &client,
                    &format!("DELETE FROM {table} WHERE {column} < $1"),
                    &[&before],
                )
                .await?
            }
        };
        Ok(deleted)
    }
}

/// Builds a pool for a URL; connects lazily.
fn pool(url: &str) -> Result<Pool, PgError> {
    let mut config: tokio_postgres::Config = url.parse().map_err(PgError::Url)?;
    if config.get_connect_timeout().is_none() {
        config.connect_timeout(CONNECT_TIMEOUT);
    }
    if config.get_application_name().is_none() {
        config.application_name("sentry-rs");
    }
    let manager = Manager::from_config(
        config,
        NoTls,
        ManagerConfig {
            recycling_method: RecyclingMethod::Fast,
        },
    );
    Ok(Pool::builder(manager)
        .runtime(Runtime::Tokio1)
        .wait_timeout(Some(POOL_TIMEOUT))
        .create_timeout(Some(POOL_TIMEOUT))
        .build()?)
}
