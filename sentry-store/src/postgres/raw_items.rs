//! [`RawItemStore`] for [`PostgresStore`]: one `raw_items` row per item,
//! its payload lz4-compressed.

use sentry_core::ProjectId;
use sentry_core::protocol::Timestamp;
use sentry_core::store::{RawItem, RawItemStore, StoreError};
use tokio_postgres::Row;

use super::error::PgError;
use super::metadata::{project_key, required_project_key, timestamp, unsigned};
use super::{PostgresStore, sql};

fn item_row(row: &Row) -> Result<RawItem, PgError> {
    let payload: &[u8] = row.try_get(4)?;
    Ok(RawItem {
        project_id: ProjectId(unsigned("project_id", row.try_get(0)?)?),
        item_type: row.try_get(1)?,
        received: timestamp("received", row.try_get(2)?)?,
        headers: row.try_get(3)?,
        payload: lz4_flex::decompress_size_prepended(payload).map_err(|_| PgError::Value {
            column: "payload",
            value: format!("{} bytes that do not decompress", payload.len()),
        })?,
    })
}

impl RawItemStore for PostgresStore {
    async fn insert_raw_items(&self, items: &[RawItem]) -> Result<(), StoreError> {
        let mut client = self.client().await?;
        let transaction = client.transaction().await.map_err(PgError::from)?;
        for item in items {
            let project_id = required_project_key(item.project_id)?;
            let payload = lz4_flex::compress_prepend_size(&item.payload);
            sql::execute(
                &transaction,
                "INSERT INTO raw_items (project_id, item_type, received, headers, payload) \
                 VALUES ($1, $2, $3, $4, $5)",
                &[
                    &project_id,
                    &item.item_type,
                    &item.received.as_unix_micros(),
                    &item.headers,
                    &payload,
                ],
            )
            .await?;
        }
        transaction.commit().await.map_err(PgError::from)?;
        Ok(())
    }

    async fn raw_items(
        &self,
        project_id: ProjectId,
        item_type: &str,
        since: Timestamp,
        limit: u64,
    ) -> Result<Vec<RawItem>, StoreError> {
        let Some(project_id) = project_key(project_id) else {
            return Ok(Vec::new());
        };
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let client = self.client().await?;
        let rows = sql::query(
            &client,
            "SELECT project_id, item_type, received, headers, payload FROM raw_items \
             WHERE project_id = $1 AND item_type = $2 AND received >= $3 \
             ORDER BY received, id LIMIT $4",
            &[&project_id, &item_type, &since.as_unix_micros(), &limit],
        )
        .await?;
        Ok(rows.iter().map(item_row).collect::<Result<_, _>>()?)
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
