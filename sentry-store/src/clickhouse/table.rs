//! Statements on the tables that the [`EventStore`] methods share: id
//! lookups, batched inserts, reads of keys then rows, and mutations.
//!
//! [`EventStore`]: sentry_core::store::EventStore

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::time::{Duration, Instant};

use sentry_core::protocol::Timestamp;
use sentry_core::store::StoredEvent;
use sentry_core::{EventId, GroupingHash, IssueId, ProjectId};

use super::Inner;
use super::error::ChError;
use super::rowbinary::{RowReader, RowWriter};
use super::schema::{EVENT_IDS_TABLE, EVENTS_TABLE};
use super::sql::{
    date_literal, day, event_id_literal, identifier, ids_condition, ids_set_condition, join,
    string_literal,
};

/// The columns [`read_event`] reads, in its order.
const SELECT_COLUMNS: &str = "project_id, event_id, issue_id, timestamp, received, hash, \
                              grouping_config, tag_keys, tag_values, payload";
/// The columns [`write_event`] writes, in its order.
const INSERT_COLUMNS: &str = "project_id, issue_id, timestamp, event_id, date, received, hash, \
                              grouping_config, tag_keys, tag_values, payload";
/// The columns [`write_id`] writes, in its order.
const ID_COLUMNS: &str = "project_id, event_id, issue_id, timestamp, date";
/// The most id rows [`Inner::locate`] reads: more than one only while
/// racing processes' duplicates are not merged yet.
const MAX_LOCATIONS: usize = 8;
/// The most ids looked up in one statement, to stay far below `max_query_size`.
const LOOKUP_CHUNK: usize = 1000;
/// From this many ids, [`Inner::existing_ids`] sends them as an array
/// (see [`ids_set_condition`]).
const SET_LOOKUP_MIN: usize = 16;
/// The most days in one insert: ClickHouse refuses a block that spans more
/// than `max_partitions_per_insert_block` (100) partitions.
const DAYS_PER_INSERT: usize = 50;
/// How long a delete waits for its mutation.
const MUTATION_TIMEOUT: Duration = Duration::from_secs(600);
/// The longest pause between two looks at `system.mutations`.
const MUTATION_POLL_MAX: Duration = Duration::from_millis(500);

/// Where an event is, and its place in time order.
#[derive(Debug, Clone, Copy)]
pub(super) struct EventKey {
    pub(super) project_id: ProjectId,
    pub(super) issue_id: IssueId,
    pub(super) event_id: EventId,
    pub(super) timestamp: i64,
}

/// Reads unix microseconds of a column.
pub(super) fn micros(value: i64, column: &'static str) -> Result<Timestamp, ChError> {
    Timestamp::from_unix_micros(value).ok_or(ChError::Value { column })
}

/// Reads the columns of [`SELECT_COLUMNS`].
fn read_event(row: &mut RowReader<'_>) -> Result<StoredEvent, ChError> {
    let project_id = ProjectId(row.u64()?);
    let event_id = EventId::from_bytes(row.fixed::<16>()?);
    let issue_id = IssueId(row.i64()?);
    let timestamp = micros(row.i64()?, "timestamp")?;
    let received = micros(row.i64()?, "received")?;
    let hash = GroupingHash::from_hex(row.string()?);
    let grouping_config = row.string()?;
    let keys = row.strings()?;
    let values = row.strings()?;
    if keys.len() != values.len() {
        return Err(ChError::Value {
            column: "tag_values",
        });
    }
    let payload = row.bytes()?.to_vec();
    Ok(StoredEvent {
        project_id,
        event_id,
        issue_id,
        timestamp,
        received,
        hash,
        grouping_config,
        tags: keys.into_iter().zip(values).collect(),
        payload,
    })
}

/// Writes the columns of [`INSERT_COLUMNS`].
fn write_event(writer: &mut RowWriter, event: &StoredEvent) {
    writer.u64(event.project_id.0);
    writer.i64(event.issue_id.0);
    writer.i64(event.timestamp.as_unix_micros());
    writer.fixed(event.event_id.as_bytes());
    writer.u16(day(event.timestamp));
    writer.i64(event.received.as_unix_micros());
    writer.string(event.hash.as_str().as_bytes());
    writer.string(event.grouping_config.as_bytes());
    writer.strings(event.tags.iter().map(|(key, _)| key.as_str()));
    writer.strings(event.tags.iter().map(|(_, value)| value.as_str()));
    writer.string(&event.payload);
}

/// Writes the columns of [`ID_COLUMNS`].
fn write_id(writer: &mut RowWriter, event: &StoredEvent) {
    writer.u64(event.project_id.0);
    writer.fixed(event.event_id.as_bytes());
    writer.i64(event.issue_id.0);
    writer.i64(event.timestamp.as_unix_micros());
    writer.u16(day(event.timestamp));
}

/// Where an event's row is: the rest of its sorting key, and its partition.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(super) struct EventLocation {
    pub(super) issue_id: IssueId,
    pub(super) timestamp: i64,
    pub(super) day: u16,
}

impl EventLocation {
    /// The condition that a row of the events table is at this place,
    /// which the primary key and the partition key both answer.
    pub(super) fn condition(&self) -> String {
        format!(
            "(issue_id = {issue} AND timestamp = {timestamp} AND date = {date})",
            issue = self.issue_id.0,
            timestamp = self.timestamp,
            date = date_literal(self.day),
        )
    }
}

impl Inner {
    /// Returns the `(project, id)` pairs of `events` that are stored, from
    /// the event id table: a few granules per id, whatever the project's
    /// size. An event whose id row is missing (its insert stopped between
    /// the two tables) counts as not stored, so it may be stored again;
    /// see the module documentation.
    pub(super) async fn existing_ids(
        &self,
        events: &[&StoredEvent],
    ) -> Result<HashSet<(ProjectId, EventId)>, ChError> {
        let pairs: Vec<(ProjectId, EventId)> = events
            .iter()
            .map(|event| (event.project_id, event.event_id))
            .collect();
        self.existing_pairs(&pairs).await
    }

    /// The `(project, id)` pairs of some that are stored.
    async fn existing_pairs(
        &self,
        pairs: &[(ProjectId, EventId)],
    ) -> Result<HashSet<(ProjectId, EventId)>, ChError> {
        let mut existing = HashSet::new();
        for chunk in pairs.chunks(LOOKUP_CHUNK) {
            let pairs = chunk.iter().copied();
            let condition = if chunk.len() >= SET_LOOKUP_MIN {
                ids_set_condition(pairs)
            } else {
                ids_condition(pairs)
            };
            let Some(ids) = condition else {
                continue;
            };
            let answer = self
                .http
                .select(&format!(
                    "SELECT project_id, event_id FROM {event_ids} WHERE {ids} FORMAT RowBinary",
                    event_ids = self.event_ids,
                ))
                .await?;
            let found = RowReader::new(&answer).rows(|row| {
                Ok((
                    ProjectId(row.u64()?),
                    EventId::from_bytes(row.fixed::<16>()?),
                ))
            })?;
            existing.extend(found);
        }
        Ok(existing)
    }

    /// Returns which of some ids of one project are stored, as
    /// [`Inner::existing_ids`] finds them.
    pub(super) async fn stored_ids(
        &self,
        project_id: ProjectId,
        event_ids: &[EventId],
    ) -> Result<Vec<EventId>, ChError> {
        let pairs: Vec<(ProjectId, EventId)> =
            event_ids.iter().map(|id| (project_id, *id)).collect();
        Ok(self
            .existing_pairs(&pairs)
            .await?
            .into_iter()
            .map(|(_, id)| id)
            .collect())
    }

    /// Returns where the rows of an event are, from the event id table:
    /// one place, or several while duplicates that racing processes wrote
    /// with different values are not merged; none when the id has no row.
    pub(super) async fn locate(
        &self,
        project_id: ProjectId,
        event_id: EventId,
    ) -> Result<Vec<EventLocation>, ChError> {
        let rows = self
            .rows(
                &format!(
                    "SELECT issue_id, timestamp, date FROM {event_ids} \
                     WHERE project_id = {project} AND event_id = {id} \
                     LIMIT {MAX_LOCATIONS} FORMAT RowBinary",
                    event_ids = self.event_ids,
                    project = project_id.0,
                    id = event_id_literal(&event_id),
                ),
                |row| {
                    Ok(EventLocation {
                        issue_id: IssueId(row.i64()?),
                        timestamp: row.i64()?,
                        day: row.u16()?,
                    })
                },
            )
            .await?;
        let mut seen = HashSet::with_capacity(rows.len());
        Ok(rows
            .into_iter()
            .filter(|location| seen.insert(*location))
            .collect())
    }

    /// Inserts events, at most [`DAYS_PER_INSERT`] days per statement, and
    /// their id rows, each group's ids right after its events: a process
    /// that stops in between leaves events without ids, which `event`
    /// still finds and an insert may store again (harmless, see the module
    /// documentation), never an id without its event, which would make
    /// `insert_events` skip an event that is not stored.
    pub(super) async fn write(&self, events: &[&StoredEvent]) -> Result<(), ChError> {
        let mut by_day: BTreeMap<u16, Vec<&StoredEvent>> = BTreeMap::new();
        for event in events {
            by_day.entry(day(event.timestamp)).or_default().push(event);
        }
        let days: Vec<Vec<&StoredEvent>> = by_day.into_values().collect();
        let statement = format!(
            "INSERT INTO {events} ({INSERT_COLUMNS}) FORMAT RowBinary",
            events = self.events
        );
        let ids_statement = format!(
            "INSERT INTO {event_ids} ({ID_COLUMNS}) FORMAT RowBinary",
            event_ids = self.event_ids
        );
        for group in days.chunks(DAYS_PER_INSERT) {
            let size: usize = group
                .iter()
                .flatten()
                .map(|event| event.payload.len() + 256)
                .sum();
            let mut writer = RowWriter::with_capacity(size);
            let mut ids = RowWriter::with_capacity(group.iter().map(Vec::len).sum::<usize>() * 42);
            for event in group.iter().flatten() {
                write_event(&mut writer, event);
                write_id(&mut ids, event);
            }
            self.http.insert(&statement, writer.into_bytes()).await?;
            self.http.insert(&ids_statement, ids.into_bytes()).await?;
        }
        Ok(())
    }

    /// Runs a select and reads every row with `row`.
    pub(super) async fn rows<T>(
        &self,
        sql: &str,
        row: impl FnMut(&mut RowReader<'_>) -> Result<T, ChError>,
    ) -> Result<Vec<T>, ChError> {
        let answer = self.http.select(sql).await?;
        RowReader::new(&answer).rows(row)
    }

    /// Runs a select of events.
    pub(super) async fn events(
        &self,
        condition: &str,
        tail: &str,
    ) -> Result<Vec<StoredEvent>, ChError> {
        self.rows(
            &format!(
                "SELECT {SELECT_COLUMNS} FROM {events} WHERE {condition} {tail} FORMAT RowBinary",
                events = self.events
            ),
            read_event,
        )
        .await
    }

    /// Returns the keys of the first `limit` events that match a condition,
    /// by timestamp and then id in `order` (`ASC` or `DESC`), each event
    /// once. Only the narrow key columns are read and sorted, with a
    /// partial sort that keeps `limit` rows: 18.16 cannot read in the
    /// table's order, and would otherwise read and sort every payload.
    pub(super) async fn keys(
        &self,
        condition: &str,
        order: &str,
        limit: u64,
    ) -> Result<Vec<EventKey>, ChError> {
        let mut asked = limit;
        loop {
            let rows = self
                .rows(
                    &format!(
                        "SELECT project_id, issue_id, event_id, timestamp FROM {events} WHERE {condition} \
                         ORDER BY timestamp {order}, event_id {order} LIMIT {asked} \
                         FORMAT RowBinary",
                        events = self.events
                    ),
                    |row| {
                        Ok(EventKey {
                            project_id: ProjectId(row.u64()?),
                            issue_id: IssueId(row.i64()?),
                            event_id: EventId::from_bytes(row.fixed::<16>()?),
                            timestamp: row.i64()?,
                        })
                    },
                )
                .await?;
            let complete = (rows.len() as u64) < asked || asked == u64::MAX;
            let mut seen = HashSet::with_capacity(rows.len());
            let mut keys: Vec<EventKey> = rows
                .into_iter()
                .filter(|key| seen.insert((key.project_id, key.event_id)))
                .collect();
            if keys.len() as u64 >= limit || complete {
                keys.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
                return Ok(keys);
            }
            // Duplicates (see the module docs) took places: ask for more.
            asked = asked.saturating_mul(2);
        }
    }

    /// Fetches whole events by key, in the keys' order; an event deleted
    /// since its key was read is left out.
    pub(super) async fn fetch(&self, keys: &[EventKey]) -> Result<Vec<StoredEvent>, ChError> {
        let mut found: HashMap<(ProjectId, EventId), StoredEvent> = HashMap::new();
        for chunk in keys.chunks(LOOKUP_CHUNK) {
            let (Some(oldest), Some(newest)) = (
                chunk.iter().map(|key| key.timestamp).min(),
                chunk.iter().map(|key| key.timestamp).max(),
            ) else {
                continue;
            };
            let Some(ids) = ids_condition(chunk.iter().map(|key| (key.project_id, key.event_id)))
            else {
                continue;
            };
            // The issues and the time range give the primary key's range,
            // so only the granules of these events are read.
            let issues: BTreeSet<i64> = chunk.iter().map(|key| key.issue_id.0).collect();
            let mut condition = format!(
                "{ids} AND issue_id IN ({}) AND timestamp >= {oldest} AND timestamp <= {newest}",
                join(issues.iter().map(i64::to_string))
            );
            if let (Some(first), Some(last)) = (
                Timestamp::from_unix_micros(oldest),
                Timestamp::from_unix_micros(newest),
            ) {
                condition = format!(
                    "{condition} AND date >= {} AND date <= {}",
                    date_literal(day(first)),
                    date_literal(day(last))
                );
            }
            let events = self
                .events(&condition, "LIMIT 1 BY project_id, event_id")
                .await?;
            found.extend(
                events
                    .into_iter()
                    .map(|event| ((event.project_id, event.event_id), event)),
            );
        }
        Ok(keys
            .iter()
            .filter_map(|key| found.remove(&(key.project_id, key.event_id)))
            .collect())
    }

    /// Counts the events (of one project) that match a condition; a row
    /// duplicated by racing processes and not yet merged counts once.
    async fn count_one_project(&self, condition: &str) -> Result<u64, ChError> {
        let counts = self
            .rows(
                &format!(
                    "SELECT toUInt64(uniqExact(event_id)) FROM {events} WHERE {condition} \
                     FORMAT RowBinary",
                    events = self.events
                ),
                |row| row.u64(),
            )
            .await?;
        counts
            .first()
            .copied()
            .ok_or(ChError::Decode("a count has no row"))
    }

    /// Deletes the events (of one project) that match a condition, which
    /// may use only the columns both tables have; returns how many there
    /// were. The ids go first: a process that stops in between leaves
    /// events without ids (found by `event` still, and deleted by the next
    /// delete), never ids of deleted events, which would make
    /// `insert_events` skip an event that is not stored.
    pub(super) async fn delete_where(&self, condition: &str) -> Result<u64, ChError> {
        let count = self.count_one_project(condition).await?;
        if count == 0 {
            return Ok(0);
        }
        let command = format!("DELETE WHERE {condition}");
        self.mutate(EVENT_IDS_TABLE, &command).await?;
        self.mutate(EVENTS_TABLE, &command).await?;
        Ok(count)
    }

    /// Deletes the id rows of the days (UTC) before `before`, of every
    /// project: drops the months that end before it, then deletes the rest
    /// with a mutation, which rewrites only the parts that hold such rows
    /// (those of the month that `before` cuts). Returns how many id rows
    /// went (duplicates not merged yet included). A month that `before`
    /// cuts is never dropped, even when it holds only older rows: another
    /// process may be inserting a newer id into it.
    pub(super) async fn delete_ids_before_day(&self, before: u16) -> Result<u64, ChError> {
        let before = date_literal(before);
        let months = self
            .rows(
                &format!(
                    "SELECT partition_id, toUInt64(sum(rows)) FROM system.parts \
                     WHERE database = {database} AND table = {table} AND active \
                     AND toUInt32(partition_id) < toYYYYMM(toDate({before})) \
                     GROUP BY partition_id ORDER BY partition_id FORMAT RowBinary",
                    database = string_literal(&self.database),
                    table = string_literal(EVENT_IDS_TABLE),
                ),
                |row| Ok((row.string()?, row.u64()?)),
            )
            .await?;
        let mut deleted = 0;
        for (month, rows) in months {
            self.http
                .execute(&format!(
                    "ALTER TABLE {event_ids} DROP PARTITION ID {partition}",
                    event_ids = self.event_ids,
                    partition = string_literal(&month),
                ))
                .await?;
            tracing::debug!(partition = %month, rows, "dropped a month of event ids");
            deleted += rows;
        }
        let condition = format!("date < {before}");
        let counts = self
            .rows(
                &format!(
                    "SELECT toUInt64(count()) FROM {event_ids} WHERE {condition} \
                     FORMAT RowBinary",
                    event_ids = self.event_ids
                ),
                |row| row.u64(),
            )
            .await?;
        let count = counts.first().copied().unwrap_or(0);
        if count > 0 {
            self.mutate(EVENT_IDS_TABLE, &format!("DELETE WHERE {condition}"))
                .await?;
        }
        Ok(deleted + count)
    }

    /// Runs `ALTER TABLE <table> <command>` and waits until the mutations
    /// of that table that appeared meanwhile (ours, and any another process
    /// started) are done, so that the next read sees the result.
    pub(super) async fn mutate(&self, table: &'static str, command: &str) -> Result<(), ChError> {
        let mutations = format!(
            "SELECT mutation_id, toUInt8(is_done) FROM system.mutations \
             WHERE database = {} AND table = {} FORMAT RowBinary",
            string_literal(&self.database),
            string_literal(table)
        );
        let read = |row: &mut RowReader<'_>| Ok((row.string()?, row.u8()? != 0));
        let earlier: HashSet<String> = self
            .rows(&mutations, read)
            .await?
            .into_iter()
            .map(|(id, _)| id)
            .collect();
        self.http
            .execute(&format!(
                "ALTER TABLE {}.{} {command}",
                identifier(&self.database),
                identifier(table)
            ))
            .await?;
        let started = Instant::now();
        let mut pause = Duration::from_millis(5);
        loop {
            let pending = self
                .rows(&mutations, read)
                .await?
                .into_iter()
                .filter(|(id, done)| !done && !earlier.contains(id))
                .count();
            if pending == 0 {
                tracing::debug!(
                    table,
                    elapsed_ms = started.elapsed().as_millis() as u64,
                    "clickhouse mutation done"
                );
                return Ok(());
            }
            if started.elapsed() > MUTATION_TIMEOUT {
                return Err(ChError::MutationTimeout {
                    table,
                    waited: MUTATION_TIMEOUT,
                });
            }
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(MUTATION_POLL_MAX);
        }
    }
}
