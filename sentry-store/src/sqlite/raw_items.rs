//! [`RawItemStore`] for [`SqliteStore`]: one `raw_items` row per item, its
//! payload lz4-compressed.

use rusqlite::{Row, params};
use sentry_core::ProjectId;
use sentry_core::protocol::Timestamp;
use sentry_core::store::{RawItem, RawItemStore, StoreError};

use super::{SqliteStore, corrupt, unavailable};

fn item_row(row: &Row<'_>) -> rusqlite::Result<(u64, String, i64, String, Vec<u8>)> {
    Ok((
        row.get(0)?,
        row.get(1)?,
        row.get(2)?,
        row.get(3)?,
        row.get(4)?,
    ))
}

impl RawItemStore for SqliteStore {
    async fn insert_raw_items(&self, items: &[RawItem]) -> Result<(), StoreError> {
        let rows: Vec<(u64, String, i64, String, Vec<u8>)> = items
            .iter()
            .map(|item| {
                (
                    item.project_id.0,
                    item.item_type.clone(),
                    item.received.as_unix_micros(),
                    item.headers.clone(),
                    lz4_flex::compress_prepend_size(&item.payload),
                )
            })
            .collect();
        self.run(move |connection| {
            let transaction = connection.transaction().map_err(unavailable)?;
            {
                let mut statement = transaction
                    .prepare_cached(
                        "INSERT INTO raw_items (project_id, item_type, received, headers, payload) \
                         VALUES (?1, ?2, ?3, ?4, ?5)",
                    )
                    .map_err(unavailable)?;
                for row in &rows {
                    statement
                        .execute(params![row.0, row.1, row.2, row.3, row.4])
                        .map_err(unavailable)?;
                }
            }
            transaction.commit().map_err(unavailable)
        })
        .await
    }

    async fn raw_items(
        &self,
        project_id: ProjectId,
        item_type: &str,
        since: Timestamp,
        limit: u64,
    ) -> Result<Vec<RawItem>, StoreError> {
        let item_type = item_type.to_owned();
        self.run(move |connection| {
            let Ok(project) = i64::try_from(project_id.0) else {
                return Ok(Vec::new());
            };
            let mut statement = connection
                .prepare_cached(
                    "SELECT project_id, item_type, received, headers, payload FROM raw_items \
                     WHERE project_id = ?1 AND item_type = ?2 AND received >= ?3 \
                     ORDER BY received, id LIMIT ?4",
                )
                .map_err(unavailable)?;
            let rows = statement
                .query_map(
                    params![
                        project,
                        item_type,
                        since.as_unix_micros(),
                        i64::try_from(limit).unwrap_or(i64::MAX)
                    ],
                    item_row,
                )
                .map_err(unavailable)?;
            let mut items = Vec::new();
            for row in rows {
                let (project_id, item_type, received, headers, payload) =
                    row.map_err(unavailable)?;
                items.push(RawItem {
                    project_id: ProjectId(project_id),
                    item_type,
                    received: Timestamp::from_unix_micros(received)
                        .ok_or_else(|| corrupt(format!("received {received}")))?,
                    headers,
                    payload: lz4_flex::decompress_size_prepended(&payload).map_err(corrupt)?,
                });
            }
            Ok(items)
        })
        .await
    }

    async fn delete_raw_items_before(
        &self,
        project_id: ProjectId,
        before: Timestamp,
    ) -> Result<u64, StoreError> {
        self.delete_before("raw_items", "received", Some(project_id), before)
            .await
    }
}
