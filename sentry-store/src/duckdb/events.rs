//! The DuckDB event store: the shared SQL event store
//! ([`crate::sql_event_store`]) on duckdb, tags as lists on the event row,
//! batches appended as Arrow record batches, and checkpoints to give space
//! back.

use std::collections::HashSet;

use duckdb::Connection;
use duckdb::types::{ToSqlOutput, Value};
use sentry_core::store::{StoreError, StoreErrorKind, StoredEvent};

use super::batch::{EventBatch, EventKey};
use super::{DuckdbStore, unavailable};
use crate::event_sql::{Sql, SqlValue, TagLayout};
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
    write: write,
    tags: TagLayout::Lists,
    read_tags: read_tags
);

/// Reads the tags of an event row: the lists of keys and values in its
/// ninth and tenth columns.
fn read_tags(row: &duckdb::Row<'_>) -> duckdb::Result<Result<Vec<(String, String)>, StoreError>> {
    Ok(tag_pairs(row.get(8)?, row.get(9)?))
}

/// Pairs parallel lists of tag keys and values.
fn tag_pairs(keys: Value, values: Value) -> Result<Vec<(String, String)>, StoreError> {
    let corrupt = |what: &str| StoreError::new(StoreErrorKind::Corrupt, what.to_owned());
    let (Value::List(keys), Value::List(values)) = (keys, values) else {
        return Err(corrupt("event tags are not lists"));
    };
    if keys.len() != values.len() {
        return Err(corrupt("event tag keys and values differ in number"));
    }
    keys.into_iter()
        .zip(values)
        .map(|pair| match pair {
            (Value::Text(key), Value::Text(value)) => Ok((key, value)),
            _ => Err(corrupt("an event tag is not text")),
        })
        .collect()
}

/// Appends a batch in one transaction.
fn append(connection: &mut Connection, batch: &EventBatch) -> Result<(), StoreError> {
    let transaction = connection.transaction().map_err(unavailable)?;
    {
        let mut appender = transaction.appender("events").map_err(unavailable)?;
        appender
            .append_record_batch(batch.columns.clone())
            .map_err(unavailable)?;
        appender.flush().map_err(unavailable)?;
    }
    transaction.commit().map_err(unavailable)
}

/// Returns which of the keys are already stored.
fn stored_keys(
    connection: &Connection,
    keys: &[EventKey],
) -> Result<HashSet<EventKey>, StoreError> {
    let mut stored = HashSet::new();
    let projects: HashSet<i64> = keys.iter().map(|key| key.0).collect();
    for project_id in projects {
        let mut sql = Sql::default();
        sql.push("SELECT event_id FROM events WHERE project_id = ");
        sql.bind(SqlValue::Int(project_id));
        sql.push(" AND event_id IN ");
        sql.bind_list(
            keys.iter()
                .filter(|key| key.0 == project_id)
                .map(|key| SqlValue::Blob(key.1.to_vec())),
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
    /// Appends events (distinct within the batch); a batch the primary key
    /// refuses (an event already stored, as on a retry) is appended again
    /// without the stored events.
    async fn insert_rows(&self, events: Vec<&StoredEvent>) -> Result<u64, StoreError> {
        if events.is_empty() {
            return Ok(0);
        }
        let batch = EventBatch::new(&events)?;
        self.write(move |connection| match append(connection, &batch) {
            Ok(()) => Ok(batch.len() as u64),
            Err(error) => {
                tracing::debug!(%error, "batch append failed; retrying without stored events");
                let fresh = batch.without(&stored_keys(connection, &batch.keys)?)?;
                if !fresh.is_empty() {
                    append(connection, &fresh)?;
                }
                Ok(fresh.len() as u64)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_pair_up_in_order() {
        let text = |items: &[&str]| {
            Value::List(
                items
                    .iter()
                    .map(|item| Value::Text((*item).to_owned()))
                    .collect(),
            )
        };
        assert_eq!(
            tag_pairs(text(&["b", "a"]), text(&["2", "1"])).unwrap(),
            [
                ("b".to_owned(), "2".to_owned()),
                ("a".to_owned(), "1".to_owned())
            ]
        );
        assert!(tag_pairs(text(&["a"]), text(&[])).is_err());
        assert!(tag_pairs(Value::Null, text(&[])).is_err());
        assert!(tag_pairs(Value::List(vec![Value::Int(1)]), text(&["1"])).is_err());
    }
}
