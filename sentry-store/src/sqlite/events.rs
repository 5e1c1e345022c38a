//! The event half of the SQLite backend. Payloads are lz4 block-compressed
//! with the uncompressed size prepended (`lz4_flex::compress_prepend_size`).

use rusqlite::{OptionalExtension, Row, params};
use sentry_core::protocol::Timestamp;
use sentry_core::store::{EventPick, EventStore, StoreError, StoredEvent};
use sentry_core::{EventId, GroupingHash, IssueId, ProjectId};

use super::{SqliteStore, corrupt, unavailable};

const EVENT_COLUMNS: &str =
    "project_id, event_id, issue_id, timestamp, received, hash, grouping_config, payload";

fn event_row(row: &Row<'_>) -> rusqlite::Result<Result<StoredEvent, StoreError>> {
    let project_id: i64 = row.get(0)?;
    let event_id: Vec<u8> = row.get(1)?;
    let timestamp: i64 = row.get(3)?;
    let received: i64 = row.get(4)?;
    let compressed: Vec<u8> = row.get(7)?;
    let issue_id: i64 = row.get(2)?;
    let hash: String = row.get(5)?;
    let grouping_config: String = row.get(6)?;
    Ok((|| {
        let event_id = uuid_from_bytes(&event_id)?;
        Ok(StoredEvent {
            project_id: ProjectId(u64::try_from(project_id).map_err(corrupt)?),
            event_id,
            issue_id: IssueId(issue_id),
            timestamp: Timestamp::from_unix_micros(timestamp)
                .ok_or_else(|| corrupt("timestamp out of range"))?,
            received: Timestamp::from_unix_micros(received)
                .ok_or_else(|| corrupt("timestamp out of range"))?,
            hash: GroupingHash::from_hex(hash),
            grouping_config,
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

fn project_param(project_id: ProjectId) -> Result<i64, StoreError> {
    i64::try_from(project_id.0).map_err(corrupt)
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
        })
    }
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
                let mut statement = transaction
                    .prepare_cached(&format!(
                        "INSERT INTO events ({EVENT_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) \
                         ON CONFLICT (project_id, event_id) DO NOTHING"
                    ))
                    .map_err(unavailable)?;
                for row in &rows {
                    inserted += statement
                        .execute(params![
                            row.project_id,
                            &row.event_id[..],
                            row.issue_id,
                            row.timestamp,
                            row.received,
                            row.hash,
                            row.grouping_config,
                            row.payload
                        ])
                        .map_err(unavailable)? as u64;
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
                        "SELECT {EVENT_COLUMNS} FROM events WHERE project_id = ?1 AND event_id = ?2"
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
                        "SELECT {EVENT_COLUMNS} FROM events WHERE issue_id = ?1 \
                         ORDER BY timestamp {order}, rowid {order} LIMIT 1"
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
}
