//! The event half of the SQLite backend. Payloads are lz4 block-compressed
//! with the uncompressed size prepended (`lz4_flex::compress_prepend_size`);
//! tags are kept as JSON on the event and as `event_tags` rows for queries.

use rusqlite::types::ToSqlOutput;
use rusqlite::{Connection, OptionalExtension, Row, params, params_from_iter};
use sentry_core::protocol::Timestamp;
use sentry_core::store::{
    EventCounts, EventCursor, EventFilter, EventPick, EventStore, IssueCounts, Page, SeriesBucket,
    StoreError, StoredEvent, TagFacet,
};
use sentry_core::{EventId, GroupingHash, IssueId, ProjectId};

use super::{SqliteStore, corrupt, unavailable};
use crate::event_sql::{self, FacetRow, Sql, SqlValue, project_param, timestamp_from_micros};

const EVENT_COLUMNS: &str = "e.project_id, e.event_id, e.issue_id, e.timestamp, e.received, \
     e.hash, e.grouping_config, e.payload, e.tags";

impl rusqlite::ToSql for SqlValue {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(match self {
            SqlValue::Int(value) => ToSqlOutput::from(*value),
            SqlValue::Text(value) => ToSqlOutput::from(value.as_str()),
            SqlValue::Blob(value) => ToSqlOutput::from(value.as_slice()),
        })
    }
}

fn event_row(row: &Row<'_>) -> rusqlite::Result<Result<StoredEvent, StoreError>> {
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
        Ok(StoredEvent {
            project_id: ProjectId(u64::try_from(project_id).map_err(corrupt)?),
            event_id: uuid_from_bytes(&event_id)?,
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

fn uuid_from_bytes(bytes: &[u8]) -> Result<EventId, StoreError> {
    let bytes: [u8; 16] = bytes
        .try_into()
        .map_err(|_| corrupt("event id is not 16 bytes"))?;
    Ok(EventId::from_bytes(bytes))
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

/// Runs a query and maps every row.
fn query_rows<T>(
    connection: &Connection,
    sql: &Sql,
    mut map: impl FnMut(&Row<'_>) -> rusqlite::Result<Result<T, StoreError>>,
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

fn count(value: i64) -> Result<u64, StoreError> {
    u64::try_from(value).map_err(corrupt)
}

impl EventStore for SqliteStore {
    async fn insert_events(&self, events: &[StoredEvent]) -> Result<u64, StoreError> {
        let rows = events
            .iter()
            .map(EventRow::new)
            .collect::<Result<Vec<_>, _>>()?;
        self.run(move |connection| {
            let transaction = connection.transaction().map_err(unavailable)?;
            let mut inserted = 0;
            {
                let mut insert_event = transaction
                    .prepare_cached(
                        "INSERT INTO events (project_id, event_id, issue_id, timestamp, received, \
                         hash, grouping_config, payload, tags) \
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) \
                         ON CONFLICT (project_id, event_id) DO NOTHING",
                    )
                    .map_err(unavailable)?;
                let mut insert_tag = transaction
                    .prepare_cached(
                        "INSERT OR IGNORE INTO event_tags \
                         (project_id, event_id, issue_id, timestamp, key, value) \
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                    )
                    .map_err(unavailable)?;
                for row in &rows {
                    let new = insert_event
                        .execute(params![
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
                    if new == 0 {
                        continue;
                    }
                    inserted += 1;
                    for (key, value) in &row.tags {
                        insert_tag
                            .execute(params![
                                row.project_id,
                                &row.event_id[..],
                                row.issue_id,
                                row.timestamp,
                                key,
                                value
                            ])
                            .map_err(unavailable)?;
                    }
                }
            }
            transaction.commit().map_err(unavailable)?;
            Ok(inserted)
        })
        .await
    }

    async fn has_event(
        &self,
        project_id: ProjectId,
        event_id: EventId,
    ) -> Result<bool, StoreError> {
        let project_id = project_param(project_id)?;
        self.run(move |connection| {
            connection
                .query_row(
                    "SELECT 1 FROM events WHERE project_id = ?1 AND event_id = ?2",
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
        self.run(move |connection| {
            connection
                .query_row(
                    &format!(
                        "SELECT {EVENT_COLUMNS} FROM events e \
                         WHERE e.project_id = ?1 AND e.event_id = ?2"
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
        self.run(move |connection| {
            connection
                .query_row(
                    &format!(
                        "SELECT {EVENT_COLUMNS} FROM events e WHERE e.issue_id = ?1 \
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
        self.run(move |connection| {
            let mut items = query_rows(connection, &sql, event_row)?;
            let has_more = items.len() as u64 > limit;
            items.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
            Ok(Page { items, has_more })
        })
        .await
    }

    async fn count_events(&self, filter: &EventFilter) -> Result<EventCounts, StoreError> {
        let sql = event_sql::count_events(filter)?;
        self.run(move |connection| {
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
        self.run(move |connection| {
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
        self.run(move |connection| {
            query_rows(connection, &sql, |row| {
                let start: i64 = row.get(0)?;
                let events: i64 = row.get(1)?;
                Ok((|| {
                    Ok(SeriesBucket {
                        start: timestamp_from_micros(start)?,
                        events: count(events)?,
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
        self.run(move |connection| {
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
        self.run(move |connection| {
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
        self.run(move |connection| {
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

    /// Frees the pages of deleted rows (files made before incremental
    /// vacuuming was the default are vacuumed whole, once) and truncates
    /// the write-ahead log.
    async fn compact(&self) -> Result<(), StoreError> {
        self.run(|connection| {
            let mode: i64 = connection
                .pragma_query_value(None, "auto_vacuum", |row| row.get(0))
                .map_err(unavailable)?;
            if mode == INCREMENTAL_VACUUM {
                connection
                    .execute_batch("PRAGMA incremental_vacuum")
                    .map_err(unavailable)?;
            } else {
                connection
                    .execute_batch("PRAGMA auto_vacuum = INCREMENTAL; VACUUM")
                    .map_err(unavailable)?;
            }
            connection
                .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
                .map_err(unavailable)
        })
        .await
    }
}

/// The value of `PRAGMA auto_vacuum` for incremental vacuuming.
const INCREMENTAL_VACUUM: i64 = 2;
