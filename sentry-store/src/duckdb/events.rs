//! The DuckDB event store: the shared SQL event store
//! ([`crate::sql_event_store`]) on duckdb, with batches appended through
//! the Appender and checkpoints to give space back.

use std::collections::HashSet;

use duckdb::types::{ToSqlOutput, Value};
use duckdb::{Connection, params};
use sentry_core::store::StoreError;

use super::{DuckdbStore, unavailable};
use crate::event_sql::{EventRow, Sql, SqlValue};
use crate::sql_event_store::sql_event_store;

impl duckdb::ToSql for SqlValue {
    fn to_sql(&self) -> duckdb::Result<ToSqlOutput<'_>> {
        Ok(match self {
            SqlValue::Int(value) => ToSqlOutput::Owned(Value::BigInt(*value)),
            SqlValue::Text(value) => ToSqlOutput::from(value.as_str()),
            SqlValue::Blob(value) => ToSqlOutput::from(value.as_slice()),
        })
    }
}

sql_event_store!(
    DuckdbStore,
    duckdb,
    duckdb::OptionalExt,
    read: read,
    write: write
);

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
        let mut sql = Sql::default();
        sql.push("SELECT event_id FROM events WHERE project_id = ");
        sql.bind(SqlValue::Int(project_id));
        sql.push(" AND event_id IN ");
        sql.bind_list(
            rows.iter()
                .filter(|row| row.project_id == project_id)
                .map(|row| SqlValue::Blob(row.event_id.to_vec())),
        );
        for id in query_rows(connection, &sql, |row| Ok(Ok(row.get::<_, Vec<u8>>(0)?)))? {
            if let Ok(id) = <[u8; 16]>::try_from(id.as_slice()) {
                stored.insert((project_id, id));
            }
        }
    }
    Ok(stored)
}

impl DuckdbStore {
    /// Appends events (distinct within the batch) and their tags; a batch
    /// the primary key refuses (an event already stored, as on a retry) is
    /// appended again without the stored events.
    async fn insert_rows(&self, rows: Vec<EventRow>) -> Result<u64, StoreError> {
        self.write(move |connection| {
            let all: Vec<&EventRow> = rows.iter().collect();
            match append(connection, &all) {
                Ok(()) => Ok(all.len() as u64),
                Err(error) => {
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

    /// Checkpoints: DuckDB frees the blocks of deleted rows for reuse and
    /// truncates free blocks at the end of the file.
    async fn compact_files(&self) -> Result<(), StoreError> {
        self.write(|connection| connection.execute_batch("CHECKPOINT").map_err(unavailable))
            .await
    }
}
