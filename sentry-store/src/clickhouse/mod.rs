//! The ClickHouse backend, for events only: payloads, tags and the counts,
//! series and facets over them, shared by several server processes.
//! Metadata goes to another backend.
//!
//! # Client
//!
//! ClickHouse is reached over its HTTP interface with `reqwest` and
//! `RowBinary` written and read by hand (module `rowbinary`), not with the
//! official `clickhouse` crate. That crate works with 18.16 only with its
//! schema validation turned off (otherwise it sends a setting and a format
//! 18.16 lacks), and its releases that have the validation switch need Rust
//! 1.89, newer than this workspace's `rust-version`; with validation off it
//! would give us little beyond serde-driven `RowBinary`, which for one
//! table of fixed columns is a hundred lines. 18.16 has no query parameters
//! either way, so values are escaped client-side (module `sql`) whatever the
//! client. `reqwest` is already a workspace dependency.
//!
//! # Storage
//!
//! One table, `events`, with types every version since 18.16 has (no
//! `DateTime64`, `Map`, `JSON` or `LowCardinality`):
//!
//! | column | type | |
//! | --- | --- | --- |
//! | `project_id` | `UInt64` | |
//! | `issue_id` | `Int64` | |
//! | `timestamp` | `Int64` | unix microseconds |
//! | `event_id` | `FixedString(16)` | the UUID's bytes |
//! | `date` | `Date` | UTC day of `timestamp`, clamped to `Date`'s range |
//! | `received` | `Int64` | unix microseconds |
//! | `hash`, `grouping_config` | `String` | |
//! | `tag_keys`, `tag_values` | `Array(String)` | parallel, in the event's order |
//! | `payload` | `String` | the JSON as given; ClickHouse compresses it per block |
//!
//! The engine is a `ReplacingMergeTree` `PARTITION BY date` and
//! `ORDER BY (project_id, issue_id, timestamp, event_id)`: queries by project,
//! and by project and issue, read a contiguous range, and time bounds prune
//! whole days (every filter adds a condition on `date` to its condition on
//! `timestamp`). Listings read in two steps: the keys (`project_id`,
//! `event_id`, `timestamp`) of a page, sorted with a partial sort that
//! keeps only the page, then the whole rows of those keys; 18.16 cannot
//! read in the table's order, and sorting whole rows would read every
//! payload that matches.
//!
//! # Semantics without unique keys or transactions
//!
//! - **Duplicates.** `insert_events` drops repeated ids within the batch,
//!   then looks the rest up and inserts only the missing ones, under a lock
//!   that a store shares with its clones, so they never store an id twice.
//!   Two processes inserting the same event at the same instant can: such
//!   rows have the same sorting key, so background merges fold them;
//!   meanwhile `event` and `list_events` show the event once (`LIMIT 1 BY`)
//!   and deletes count it once, while counts, series and facets count it
//!   twice.
//! - **Deletes** are mutations (`ALTER TABLE … DELETE WHERE`), asynchronous
//!   on 18.16 (no `mutations_sync`): each waits, polling `system.mutations`,
//!   until the mutations that appeared since it started are done, so a
//!   following read sees the result. They touch only the rows of their
//!   project. They never drop a partition, even one that holds only that
//!   project's old events: nothing stops another process from inserting an
//!   old event of another project into that day between the check and the
//!   drop. [`ClickhouseStore::drop_days_before`] drops whole days of every
//!   project instead, for a retention period that applies to all.
//! - **Cursors** are `(timestamp, event_id)`, newest first: a page is the
//!   rows strictly before the cursor in that order, which stays stable
//!   while events are inserted or deleted.
//! - **Reads after writes.** An insert returns once its rows are in a part
//!   on disk, and a delete once its mutation is done; reads then see them.

mod endpoint;
mod error;
mod events;
mod http;
mod rowbinary;
mod schema;
mod sql;
mod table;
#[cfg(test)]
mod tests;

use std::sync::Arc;

use sentry_core::protocol::Timestamp;
use sentry_core::store::StoreError;
use tokio::sync::Mutex;

use self::endpoint::Endpoint;
use self::http::Http;
use self::rowbinary::RowReader;
use self::schema::EVENTS_TABLE;
use self::sql::{date_literal, day, identifier};

/// A ClickHouse database holding events, reached over HTTP.
///
/// Cloning is cheap and shares the connection pool and the insert lock.
/// Any number of stores, in one process or several, may use one database at
/// once; see the [module documentation](self) for what holds exactly.
#[derive(Clone)]
pub struct ClickhouseStore {
    inner: Arc<Inner>,
}

struct Inner {
    http: Http,
    /// The database name, as in the URL.
    database: String,
    /// The events table, quoted and qualified: `` `db`.`events` ``.
    events: String,
    /// Held while an insert looks up existing ids and writes the new ones.
    insert_lock: Mutex<()>,
}

impl ClickhouseStore {
    /// Connects to the server at a
    /// `clickhouse://[USER[:PASSWORD]@]HOST[:HTTP_PORT]/DB` URL (user,
    /// password and database percent-encoded; the port defaults to 8123),
    /// creates the database and the events table if missing, and checks the
    /// table's columns. Several processes may open one database at once.
    ///
    /// # Errors
    ///
    /// Fails with [`InvalidLocation`] for a URL that cannot be read (the
    /// message masks its password), [`Unavailable`] when the server cannot
    /// be reached or refuses a statement, and [`Corrupt`] when the table
    /// exists without a column this version uses, or with another type.
    ///
    /// [`InvalidLocation`]: sentry_core::store::StoreErrorKind::InvalidLocation
    /// [`Unavailable`]: sentry_core::store::StoreErrorKind::Unavailable
    /// [`Corrupt`]: sentry_core::store::StoreErrorKind::Corrupt
    pub async fn open(url: &str) -> Result<Self, StoreError> {
        let endpoint = Endpoint::parse(url)?;
        let http = Http::new(&endpoint)?;
        schema::migrate(&http, &endpoint.database).await?;
        tracing::debug!(
            address = %endpoint.address,
            database = %endpoint.database,
            "opened clickhouse event store"
        );
        Ok(Self {
            inner: Arc::new(Inner {
                http,
                events: format!(
                    "{}.{}",
                    identifier(&endpoint.database),
                    identifier(EVENTS_TABLE)
                ),
                database: endpoint.database,
                insert_lock: Mutex::new(()),
            }),
        })
    }

    /// Deletes the events of every project from the days (UTC) that end at
    /// or before `before`, by dropping their partitions; returns how many
    /// went. Cheaper than [`delete_events_before`], which rewrites data,
    /// for a retention period that applies to all projects.
    ///
    /// # Errors
    ///
    /// Fails with [`Unavailable`] when the server fails.
    ///
    /// [`delete_events_before`]: sentry_core::store::EventStore::delete_events_before
    /// [`Unavailable`]: sentry_core::store::StoreErrorKind::Unavailable
    pub async fn drop_days_before(&self, before: Timestamp) -> Result<u64, StoreError> {
        let inner = &self.inner;
        let answer = inner
            .http
            .select(&format!(
                "SELECT toUInt32(toYYYYMMDD(date)), toUInt64(count()) FROM {events} \
                 WHERE date < {before} GROUP BY date ORDER BY date FORMAT RowBinary",
                events = inner.events,
                before = date_literal(day(before)),
            ))
            .await?;
        let days = RowReader::new(&answer).rows(|row| Ok((row.u32()?, row.u64()?)))?;
        let mut dropped = 0;
        for (partition, count) in days {
            inner
                .http
                .execute(&format!(
                    "ALTER TABLE {events} DROP PARTITION ID '{partition}'",
                    events = inner.events
                ))
                .await?;
            tracing::info!(partition, events = count, "dropped a day of events");
            dropped += count;
        }
        Ok(dropped)
    }
}
