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
//! would give us little beyond serde-driven `RowBinary`, which for two
//! tables of fixed columns is a hundred lines. 18.16 has no query parameters
//! either way, so values are escaped client-side (module `sql`) whatever the
//! client. `reqwest` is already a workspace dependency.
//!
//! # Storage
//!
//! Two tables, with types every version since 18.16 has (no
//! `DateTime64`, `Map`, `JSON` or `LowCardinality`). `events` holds the
//! events:
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
//! `event_ids` finds an event by id, which the events' sorting key cannot
//! (a lookup by id alone would read the `event_id` column of the project in
//! every partition): one row per event with the same values as its row in
//! `events`,
//!
//! | column | type |
//! | --- | --- |
//! | `project_id` | `UInt64` |
//! | `event_id` | `FixedString(16)` |
//! | `issue_id` | `Int64` |
//! | `timestamp` | `Int64` |
//! | `date` | `Date` |
//!
//! in a `ReplacingMergeTree` `PARTITION BY toYYYYMM(date)` and
//! `ORDER BY (project_id, event_id)`, with granules of 1,024 rows.
//! `has_event` and the duplicate check of `insert_events` read a granule
//! of each of its parts; `event` reads the id's `issue_id`, `timestamp`
//! and `date` there, then the events' rows with that primary key in that
//! day's partition (a granule of each of its parts). Months rather than
//! days keep the parts few (a lookup without a date reads every part), and
//! let retention drop whole months of ids (see
//! [`ClickhouseStore::drop_days_before`]). The cost is a second `INSERT`
//! per write, of about 40 bytes an event.
//!
//! An id row is written after its event, and deleted before it; a process
//! that stops in between leaves an event without its id row, never an id
//! row without its event. Such an event, and every event stored before
//! the table existed and not filled in (below), is still found by `event`,
//! which reads every partition when the id has no row; `has_event` and
//! `insert_events` take it as missing, so a client that sends it again
//! stores it again: a duplicate, as below, which then has its id row.
//!
//! **Upgrades.** Opening a database without `event_ids` creates it and
//! fills it from `events` (`INSERT … SELECT`, a day per statement) before
//! the open returns, which for a large database takes a while. Only the
//! process that found the table missing fills it: processes that open at
//! once may each fill it, which writes duplicate id rows, merged like any
//! other duplicate. A fill cut short is not resumed, and events that a
//! process of an older version writes meanwhile get no id row; both are
//! found through the fallback above, and
//! `INSERT INTO event_ids SELECT project_id, event_id, issue_id, timestamp, date FROM events`
//! (with a condition on `date`) fills them in by hand.
//!
//! # Semantics without unique keys or transactions
//!
//! - **Duplicates.** `insert_events` drops repeated ids within the batch,
//!   then looks the rest up in `event_ids` and inserts only the missing
//!   ones, under a lock that a store shares with its clones, so they never
//!   store an id twice. Two processes inserting the same event at the same
//!   instant can, and so can an insert of an event whose id row is missing
//!   (above): such rows have the same sorting key, in both tables, so
//!   background merges fold them; meanwhile `event` and `list_events` show
//!   the event once (`LIMIT 1`, `LIMIT 1 BY`) and deletes count it once,
//!   while counts, series and facets count it twice.
//! - **Deletes** are mutations (`ALTER TABLE … DELETE WHERE`), one on
//!   `event_ids` then one on `events` with the same condition,
//!   asynchronous on 18.16 (no `mutations_sync`): each waits, polling
//!   `system.mutations`, until the mutations of its table that appeared
//!   since it started are done, so a following read sees the result. They
//!   touch only the rows of their project, and rewrite only the parts that
//!   hold such rows (18.16 links the others unchanged). They never drop a
//!   partition, even one that holds only that project's old events:
//!   nothing stops another process from inserting an old event of another
//!   project into that day between the check and the drop. [`ClickhouseStore::drop_days_before`] drops whole days of every
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
use self::schema::{EVENT_IDS_TABLE, EVENTS_TABLE};
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
    /// The event id table, quoted and qualified: `` `db`.`event_ids` ``.
    event_ids: String,
    /// Held while an insert looks up existing ids and writes the new ones.
    insert_lock: Mutex<()>,
}

impl ClickhouseStore {
    /// Connects to the server at a
    /// `clickhouse://[USER[:PASSWORD]@]HOST[:HTTP_PORT]/DB` URL (user,
    /// password and database percent-encoded; the port defaults to 8123),
    /// creates the database and the tables if missing, and checks the
    /// tables' columns. Several processes may open one database at once.
    /// A database written by a version without the event id table gets it,
    /// filled from the stored events, which takes a while for a large one
    /// (see the [module documentation](self)).
    ///
    /// # Errors
    ///
    /// Fails with [`InvalidLocation`] for a URL that cannot be read (the
    /// message masks its password), [`Unavailable`] when the server cannot
    /// be reached or refuses a statement, and [`Corrupt`] when a table
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
                event_ids: format!(
                    "{}.{}",
                    identifier(&endpoint.database),
                    identifier(EVENT_IDS_TABLE)
                ),
                database: endpoint.database,
                insert_lock: Mutex::new(()),
            }),
        })
    }

    /// Deletes the events of every project from the days (UTC) that end at
    /// or before `before`, by dropping their partitions; returns how many
    /// went. Cheaper than [`delete_events_before`], which rewrites data,
    /// for a retention period that applies to all projects. Their id rows
    /// go first: whole months are dropped, and the rows of the month that
    /// `before` cuts are deleted with a mutation, waited for.
    ///
    /// # Errors
    ///
    /// Fails with [`Unavailable`] when the server fails.
    ///
    /// [`delete_events_before`]: sentry_core::store::EventStore::delete_events_before
    /// [`Unavailable`]: sentry_core::store::StoreErrorKind::Unavailable
    pub async fn drop_days_before(&self, before: Timestamp) -> Result<u64, StoreError> {
        let inner = &self.inner;
        // The ids first, as in `delete_where`; always, so that a run that
        // stopped between the two, or ids a racing insert left, go too.
        let ids = inner.delete_ids_before_day(day(before)).await?;
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
        if dropped > 0 || ids > 0 {
            tracing::info!(events = dropped, ids, "dropped old days of events");
        }
        Ok(dropped)
    }
}
