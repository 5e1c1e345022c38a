//! The event half of the SQLite backend: the shared SQL event store
//! ([`crate::sql_event_store`]) on rusqlite, with row-by-row inserts in one
//! transaction (`ON CONFLICT DO NOTHING` skips stored events) and
//! incremental vacuuming.

use rusqlite::params;
use rusqlite::types::ToSqlOutput;
use sentry_core::store::{StoreError, StoredEvent};

use super::{SqliteStore, unavailable};
use crate::event_sql::{EventRow, SqlValue, TagLayout, decode_tags, encode_tags};
use crate::sql_event_store::sql_event_store;

impl rusqlite::ToSql for SqlValue {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(match self {
            SqlValue::Int(value) => ToSqlOutput::from(*value),
            SqlValue::Text(value) => ToSqlOutput::from(value.as_str()),
            SqlValue::Blob(value) => ToSqlOutput::from(value.as_slice()),
        })
    }
}

sql_event_store!(
    SqliteStore,
    rusqlite,
    rusqlite::OptionalExtension,
    read: run,
    write: run,
    tags: TagLayout::Rows,
    read_tags: read_tags
);

/// Reads the tags of an event row: JSON in its ninth column.
fn read_tags(
    row: &rusqlite::Row<'_>,
) -> rusqlite::Result<Result<Vec<(String, String)>, StoreError>> {
    Ok(decode_tags(&row.get::<_, String>(8)?))
}

/// The value of `PRAGMA auto_vacuum` for incremental vacuuming.
const INCREMENTAL_VACUUM: i64 = 2;

impl SqliteStore {
    /// Inserts events (distinct within the batch) and their tags in one
    /// transaction; returns how many were not stored yet.
    async fn insert_rows(&self, events: Vec<&StoredEvent>) -> Result<u64, StoreError> {
        let rows = events
            .into_iter()
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
                            encode_tags(&row.tags),
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

    /// Frees the pages of deleted rows (files made before incremental
    /// vacuuming was the default are vacuumed whole, once) and truncates
    /// the write-ahead log.
    async fn compact_files(&self) -> Result<(), StoreError> {
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
