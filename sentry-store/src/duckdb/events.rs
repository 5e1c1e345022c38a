//! The DuckDB event store. Payloads are lz4 block-compressed with the
//! uncompressed size prepended, as in SQLite; tags are kept as JSON on the
//! event and as `event_tags` rows for queries (see [`crate::event_sql`]).

use std::collections::HashSet;

use duckdb::types::{ToSqlOutput, Value};
use duckdb::{Connection, OptionalExt, Row, params, params_from_iter};
use sentry_core::protocol::Timestamp;
use sentry_core::store::{
    EventCounts, EventCursor, EventFilter, EventPick, EventStore, IssueCounts, Page, SeriesBucket,
    StoreError, StoredEvent, TagFacet,
};
use sentry_core::{EventId, GroupingHash, IssueId, ProjectId};

use super::{DuckdbStore, corrupt, unavailable};
use crate::event_sql::{self, FacetRow, Sql, SqlValue, project_param, timestamp_from_micros};

const EVENT_COLUMNS: &str = "e.project_id, e.event_id, e.issue_id, e.timestamp, e.received, \
     e.hash, e.grouping_config, e.payload, e.tags";

impl duckdb::ToSql for SqlValue {
    fn to_sql(&self) -> duckdb::Result<ToSqlOutput<'_>> {
        Ok(match self {
            SqlValue::Int(value) => ToSqlOutput::Owned(Value::BigInt(*value)),
            SqlValue::Text(value) => ToSqlOutput::from(value.as_str()),
            SqlValue::Blob(value) => ToSqlOutput::from(value.as_slice()),
        })
    }
}

fn event_row(row: &Row<'_>) -> duckdb::Result<Result<StoredEvent, StoreError>> {
    let project_id: i64 = row.get(0)?;
    let event_id: Vec<u8> = row.get(1)?;
    let issue_id: i64 = row.get(2)?;
    let timestamp: i64 = row.get(3)?;
    let received: i64 = row.get(4)?;
    let hash: String = row.get(5)?;
    let grouping_config: String = row.get(6)?;
    let compressed: Vec<u8> = row.get(7)?;
    let tags: String = row.get(8)?;
    Ok((|| {
        let event_id: [u8; 16] = event_id
            .as_slice()
            .try_into()
            .map_err(|_| corrupt("event id is not 16 bytes"))?;
        Ok(StoredEvent {
            project_id: ProjectId(u64::try_from(project_id).map_err(corrupt)?),
            event_id: EventId::from_bytes(event_id),
            issue_id: IssueId(issue_id),
            timestamp: timestamp_from_micros(timestamp)?,
            received: timestamp_from_micros(received)?,
            hash: GroupingHash::from_hex(hash),
            grouping_config,
            tags: event_sql::decode_tags(&tags)?,
            payload: lz4_flex::decompress_size_prepended(&compressed).map_err(corrupt)?,
        })
    })())
}

/// An event as its columns, with the payload compressed.
struct EventRow {
    project_id: i64,
    event_id: [u8; 16],
    issue_id: i64,
    timestamp: i64,
    received: i64,
    hash: String,
    grouping_config: String,
    payload: Vec<u8>,
    tags_json: String,
    tags: Vec<(String, String)>,
}

impl EventRow {
    fn new(event: &StoredEvent) -> Result<Self, StoreError> {
        Ok(Self {
            project_id: project_param(event.project_id)?,
            event_id: *event.event_id.as_bytes(),
            issue_id: event.issue_id.0,
            timestamp: event.timestamp.as_unix_micros(),
            received: event.received.as_unix_micros(),
            hash: event.hash.as_str().to_owned(),
            grouping_config: event.grouping_config.clone(),
            payload: lz4_flex::compress_prepend_size(&event.payload),
            tags_json: event_sql::encode_tags(&event.tags),
            tags: event.tags.clone(),
        })
    }
}

/// Appends events and their tags in one transaction.
fn append(connection: &mut Connection, rows: &[&EventRow]) -> Result<(), StoreError> {
    let transaction = connection.transaction().map_err(unavailable)?;
    {
        let mut appender = transaction.appender("events").map_err(unavailable)?;
        for row in rows {
            appender
                .append_row(params![
                    row.project_id,
                    &row.event_id[..],
                    row.issue_id,
                    row.timestamp,
                    row.received,
                    row.hash,
                    row.grouping_config,
                    row.payload,
                    row.tags_json,
                ])
                .map_err(unavailable)?;
        }
        appender.flush().map_err(unavailable)?;
    }
    {
        let mut appender = transaction.appender("event_tags").map_err(unavailable)?;
        for row in rows {
            let mut seen = HashSet::new();
            for (key, value) in &row.tags {
                if !seen.insert(key.as_str()) {
                    continue;
                }
                appender
                    .append_row(params![
                        row.project_id,
                        &row.event_id[..],
                        row.issue_id,
                        row.timestamp,
                        key,
                        value,
                    ])
                    .map_err(unavailable)?;
            }
        }
        appender.flush().map_err(unavailable)?;
    }
    transaction.commit().map_err(unavailable)
}

/// Returns which of the rows' events are already stored.
fn stored_ids(
    connection: &Connection,
    rows: &[EventRow],
) -> Result<HashSet<(i64, [u8; 16])>, StoreError> {
    let mut stored = HashSet::new();
    let projects: HashSet<i64> = rows.iter().map(|row| row.project_id).collect();
    for project_id in projects {
        let ids: Vec<&[u8]> = rows
            .iter()
            .filter(|row| row.project_id == project_id)
            .map(|row| &row.event_id[..])
            .collect();
        let mut sql = Sql {
            text: "SELECT event_id FROM events WHERE project_id = ? AND event_id IN (".to_owned(),
            params: vec![SqlValue::Int(project_id)],
        };
        for (index, id) in ids.iter().enumerate() {
            sql.text.push_str(if index == 0 { "?" } else { ", ?" });
            sql.params.push(SqlValue::Blob(id.to_vec()));
        }
        sql.text.push(')');
        for id in query_rows(connection, &sql, |row| Ok(Ok(row.get::<_, Vec<u8>>(0)?)))? {
            if let Ok(id) = <[u8; 16]>::try_from(id.as_slice()) {
                stored.insert((project_id, id));
            }
        }
    }
    Ok(stored)
}

/// Runs a query and maps every row.
fn query_rows<T>(
    connection: &Connection,
    sql: &Sql,
    mut map: impl FnMut(&Row<'_>) -> duckdb::Result<Result<T, StoreError>>,
) -> Result<Vec<T>, StoreError> {
    let mut statement = connection.prepare_cached(&sql.text).map_err(unavailable)?;
    let mut rows = statement
        .query(params_from_iter(sql.params.iter()))
        .map_err(unavailable)?;
    let mut out = Vec::new();
    while let Some(row) = rows.next().map_err(unavailable)? {
        out.push(map(row).map_err(unavailable)??);
    }
    Ok(out)
}

impl EventStore for DuckdbStore {
    async fn insert_events(&self, events: &[StoredEvent]) -> Result<u64, StoreError> {
        let mut seen = HashSet::new();
        let mut rows = Vec::with_capacity(events.len());
        for event in events {
            if seen.insert((event.project_id, event.event_id)) {
                rows.push(EventRow::new(event)?);
            }
        }
        self.write(move |connection| {
            let all: Vec<&EventRow> = rows.iter().collect();
            match append(connection, &all) {
                Ok(()) => Ok(all.len() as u64),
                Err(error) => {
                    // Most likely an event that is already stored (a retry):
                    // append only the new ones. Any other failure recurs.
                    tracing::debug!(%error, "batch append failed; retrying without stored events");
                    let stored = stored_ids(connection, &rows)?;
                    let fresh: Vec<&EventRow> = rows
                        .iter()
                        .filter(|row| !stored.contains(&(row.project_id, row.event_id)))
                        .collect();
                    if !fresh.is_empty() {
                        append(connection, &fresh)?;
                    }
                    Ok(fresh.len() as u64)
                }
            }
        })
        .await
    }

    async fn has_event(
        &self,
        project_id: ProjectId,
        event_id: EventId,
    ) -> Result<bool, StoreError> {
        let project_id = project_param(project_id)?;
        self.read(move |connection| {
            connection
                .query_row(
                    "SELECT 1 FROM events WHERE project_id = ? AND event_id = ?",
                    params![project_id, &event_id.as_bytes()[..]],
                    |_| Ok(()),
                )
                .optional()
                .map(|found| found.is_some())
                .map_err(unavailable)
        })
        .await
    }

    async fn event(
        &self,
        project_id: ProjectId,
        event_id: EventId,
    ) -> Result<Option<StoredEvent>, StoreError> {
        let project_id = project_param(project_id)?;
        self.read(move |connection| {
            connection
                .query_row(
                    &format!(
                        "SELECT {EVENT_COLUMNS} FROM events e \
                         WHERE e.project_id = ? AND e.event_id = ?"
                    ),
                    params![project_id, &event_id.as_bytes()[..]],
                    event_row,
                )
                .optional()
                .map_err(unavailable)?
                .transpose()
        })
        .await
    }

    async fn issue_event(
        &self,
        issue_id: IssueId,
        pick: EventPick,
    ) -> Result<Option<StoredEvent>, StoreError> {
        let order = match pick {
            EventPick::Latest => "DESC",
            EventPick::Oldest => "ASC",
        };
        self.read(move |connection| {
            connection
                .query_row(
                    &format!(
                        "SELECT {EVENT_COLUMNS} FROM events e WHERE e.issue_id = ? \
                         ORDER BY e.timestamp {order}, e.event_id {order} LIMIT 1"
                    ),
                    [issue_id.0],
                    event_row,
                )
                .optional()
                .map_err(unavailable)?
                .transpose()
        })
        .await
    }

    async fn list_events(
        &self,
        filter: &EventFilter,
        after: Option<EventCursor>,
        limit: u64,
    ) -> Result<Page<StoredEvent>, StoreError> {
        let sql = event_sql::list_events(EVENT_COLUMNS, filter, after, limit)?;
        self.read(move |connection| {
            let mut items = query_rows(connection, &sql, event_row)?;
            let has_more = items.len() as u64 > limit;
            items.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
            Ok(Page { items, has_more })
        })
        .await
    }

    async fn count_events(&self, filter: &EventFilter) -> Result<EventCounts, StoreError> {
        let sql = event_sql::count_events(filter)?;
        self.read(move |connection| {
            let rows = query_rows(connection, &sql, |row| {
                Ok(event_sql::event_counts(
                    row.get(0)?,
                    row.get(1)?,
                    row.get(2)?,
                    row.get(3)?,
                ))
            })?;
            Ok(rows.into_iter().next().unwrap_or_default())
        })
        .await
    }

    async fn count_by_issue(&self, filter: &EventFilter) -> Result<Vec<IssueCounts>, StoreError> {
        let events = event_sql::count_by_issue(filter)?;
        let users = event_sql::users_by_issue(filter)?;
        self.read(move |connection| {
            let users = query_rows(connection, &users, |row| {
                Ok(Ok((row.get::<_, i64>(0)?, row.get::<_, i64>(1)?)))
            })?;
            query_rows(connection, &events, |row| {
                let issue_id: i64 = row.get(0)?;
                let events: i64 = row.get(1)?;
                let first: i64 = row.get(2)?;
                let last: i64 = row.get(3)?;
                let user_count = users
                    .iter()
                    .find(|(issue, _)| *issue == issue_id)
                    .map_or(0, |(_, count)| *count);
                Ok(
                    event_sql::event_counts(events, Some(first), Some(last), user_count).map(
                        |counts| IssueCounts {
                            issue_id: IssueId(issue_id),
                            counts,
                        },
                    ),
                )
            })
        })
        .await
    }

    async fn event_series(
        &self,
        filter: &EventFilter,
        interval_seconds: u64,
    ) -> Result<Vec<SeriesBucket>, StoreError> {
        let sql = event_sql::event_series(filter, interval_seconds)?;
        self.read(move |connection| {
            query_rows(connection, &sql, |row| {
                let start: i64 = row.get(0)?;
                let events: i64 = row.get(1)?;
                Ok((|| {
                    Ok(SeriesBucket {
                        start: timestamp_from_micros(start)?,
                        events: u64::try_from(events).map_err(corrupt)?,
                    })
                })())
            })
        })
        .await
    }

    async fn tag_facets(
        &self,
        filter: &EventFilter,
        keys: &[String],
        top: u64,
    ) -> Result<Vec<TagFacet>, StoreError> {
        let sql = event_sql::tag_facets(filter, keys, top)?;
        self.read(move |connection| {
            let rows = query_rows(connection, &sql, |row| {
                Ok(Ok(FacetRow {
                    key: row.get(0)?,
                    value: row.get(1)?,
                    count: row.get(2)?,
                    first_seen: row.get(3)?,
                    last_seen: row.get(4)?,
                    total: row.get(5)?,
                    distinct: row.get(6)?,
                }))
            })?;
            event_sql::gather_facets(rows)
        })
        .await
    }

    async fn delete_events_before(
        &self,
        project_id: ProjectId,
        before: Timestamp,
    ) -> Result<u64, StoreError> {
        let project_id = project_param(project_id)?;
        let before = before.as_unix_micros();
        self.write(move |connection| {
            let transaction = connection.transaction().map_err(unavailable)?;
            transaction
                .execute(
                    &event_sql::delete_before("event_tags"),
                    params![project_id, before],
                )
                .map_err(unavailable)?;
            let deleted = transaction
                .execute(
                    &event_sql::delete_before("events"),
                    params![project_id, before],
                )
                .map_err(unavailable)?;
            transaction.commit().map_err(unavailable)?;
            Ok(deleted as u64)
        })
        .await
    }

    async fn trim_events(&self, project_id: ProjectId, keep: u64) -> Result<u64, StoreError> {
        let project_id = project_param(project_id)?;
        let keep = i64::try_from(keep).unwrap_or(i64::MAX);
        self.write(move |connection| {
            let transaction = connection.transaction().map_err(unavailable)?;
            let cutoff: Option<(i64, Vec<u8>)> = transaction
                .query_row(event_sql::TRIM_CUTOFF, params![project_id, keep], |row| {
                    Ok((row.get(0)?, row.get(1)?))
                })
                .optional()
                .map_err(unavailable)?;
            let Some((timestamp, event_id)) = cutoff else {
                return Ok(0);
            };
            let bind = params![project_id, timestamp, timestamp, event_id];
            transaction
                .execute(&event_sql::delete_through("event_tags"), bind)
                .map_err(unavailable)?;
            let deleted = transaction
                .execute(&event_sql::delete_through("events"), bind)
                .map_err(unavailable)?;
            transaction.commit().map_err(unavailable)?;
            Ok(deleted as u64)
        })
        .await
    }

    /// Checkpoints: DuckDB frees the blocks of deleted rows for reuse and
    /// truncates free blocks at the end of the file.
    async fn compact(&self) -> Result<(), StoreError> {
        self.write(|connection| connection.execute_batch("CHECKPOINT").map_err(unavailable))
            .await
    }
}
