//! [`BlobStore`] for [`PostgresStore`]: blobs as rows of up to
//! [`CHUNK_SIZE`] bytes, so that server processes share them through the
//! metadata database.
//!
//! A put runs in one transaction. Its chunks go to `blob_chunks` under a
//! number drawn from the `blob_uploads` sequence (the checksum is known
//! only at the end of the content), and the `blobs` row that maps the
//! checksum to that number is written last: a put that fails, is dropped
//! or races a crash rolls back and leaves no row. When the content is
//! already stored, the put keeps the existing chunks, touches the `blobs`
//! row and deletes its own chunks, in the same transaction. A read takes
//! one chunk per query, on a pooled connection each time, so a slow
//! reader holds no connection.

use std::error::Error;

use bytes::{Bytes, BytesMut};
use futures_util::Stream;
use sentry_core::protocol::Timestamp;
use sentry_core::store::{
    BlobChecksum, BlobContent, BlobEntry, BlobStore, Page, PutBlobError, StoreError, StoredBlob,
};
use tokio_postgres::Row;

use super::error::PgError;
use super::metadata::{timestamp, unsigned};
use super::{PostgresStore, sql};
use crate::blobs::content::Content;

/// The largest chunk row, in bytes.
pub const CHUNK_SIZE: usize = 1024 * 1024;

/// Reads a checksum column.
pub(super) fn checksum(column: &'static str, bytes: &[u8]) -> Result<BlobChecksum, PgError> {
    BlobChecksum::try_from(bytes).map_err(|_| PgError::Value {
        column,
        value: format!("{} bytes", bytes.len()),
    })
}

fn entry_row(row: &Row) -> Result<BlobEntry, PgError> {
    Ok(BlobEntry {
        checksum: checksum("checksum", row.try_get(0)?)?,
        size: unsigned("size", row.try_get(1)?)?,
        created: timestamp("created", row.try_get(2)?)?,
    })
}

/// Writes one chunk of an upload.
async fn insert_chunk(
    transaction: &deadpool_postgres::Transaction<'_>,
    upload: i64,
    seq: i64,
    data: &[u8],
) -> Result<(), PgError> {
    sql::execute(
        transaction,
        "INSERT INTO blob_chunks (upload, seq, data) VALUES ($1, $2, $3)",
        &[&upload, &seq, &data],
    )
    .await?;
    Ok(())
}

impl PostgresStore {
    /// Deletes a blob created before `cutoff`, and its chunks.
    async fn delete_blob(&self, checksum: &BlobChecksum, cutoff: i64) -> Result<bool, PgError> {
        let mut client = self.client().await?;
        let transaction = client.transaction().await?;
        let deleted = sql::query_opt(
            &transaction,
            "DELETE FROM blobs WHERE checksum = $1 AND created < $2 RETURNING upload",
            &[&checksum.as_bytes().as_slice(), &cutoff],
        )
        .await?;
        let Some(row) = deleted else {
            return Ok(false);
        };
        let upload: i64 = row.try_get(0)?;
        sql::execute(
            &transaction,
            "DELETE FROM blob_chunks WHERE upload = $1",
            &[&upload],
        )
        .await?;
        transaction.commit().await?;
        Ok(true)
    }
}

/// Wraps a Postgres failure of a put.
fn store_error(error: PgError) -> PutBlobError {
    PutBlobError::Store(error.into())
}

impl BlobStore for PostgresStore {
    async fn put<S, E>(&self, content: S, max_size: Option<u64>) -> Result<StoredBlob, PutBlobError>
    where
        S: Stream<Item = Result<Bytes, E>> + Send,
        E: Into<Box<dyn Error + Send + Sync>> + Send,
    {
        let mut content = Content::new(content, max_size);
        let mut client = self.client().await.map_err(store_error)?;
        let transaction = client
            .transaction()
            .await
            .map_err(PgError::from)
            .map_err(store_error)?;
        let upload: i64 = sql::query_one(&transaction, "SELECT nextval('blob_uploads')", &[])
            .await
            .and_then(|row| Ok(row.try_get(0)?))
            .map_err(store_error)?;
        let mut buffer = BytesMut::new();
        let mut chunks: i64 = 0;
        loop {
            let chunk = content.next_chunk().await?;
            let at_end = chunk.is_none();
            if let Some(chunk) = chunk {
                buffer.extend_from_slice(&chunk);
            }
            while buffer.len() >= CHUNK_SIZE || (at_end && !buffer.is_empty()) {
                let data = buffer.split_to(buffer.len().min(CHUNK_SIZE));
                insert_chunk(&transaction, upload, chunks, &data)
                    .await
                    .map_err(store_error)?;
                chunks += 1;
            }
            if at_end {
                break;
            }
        }
        let digest = content.finish();
        let size = i64::try_from(digest.size).unwrap_or(i64::MAX);
        // On a conflict the row is touched, and `upload` names the chunks
        // stored before.
        let kept: i64 = sql::query_one(
            &transaction,
            "INSERT INTO blobs (checksum, upload, chunks, size, created) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (checksum) DO UPDATE SET created = GREATEST(blobs.created, excluded.created) \
             RETURNING upload",
            &[
                &digest.checksum.as_bytes().as_slice(),
                &upload,
                &chunks,
                &size,
                &Timestamp::now().as_unix_micros(),
            ],
        )
        .await
        .and_then(|row| Ok(row.try_get(0)?))
        .map_err(store_error)?;
        let already_stored = kept != upload;
        if already_stored {
            sql::execute(
                &transaction,
                "DELETE FROM blob_chunks WHERE upload = $1",
                &[&upload],
            )
            .await
            .map_err(store_error)?;
        }
        transaction
            .commit()
            .await
            .map_err(PgError::from)
            .map_err(store_error)?;
        Ok(StoredBlob {
            digest,
            already_stored,
        })
    }

    async fn get(&self, checksum: &BlobChecksum) -> Result<Option<BlobContent>, StoreError> {
        let client = self.client().await?;
        let row = sql::query_opt(
            &client,
            "SELECT upload, chunks, size FROM blobs WHERE checksum = $1",
            &[&checksum.as_bytes().as_slice()],
        )
        .await?;
        drop(client);
        let Some(row) = row else {
            return Ok(None);
        };
        let upload: i64 = row.try_get(0).map_err(PgError::from)?;
        let chunks: i64 = row.try_get(1).map_err(PgError::from)?;
        let size = unsigned("size", row.try_get(2).map_err(PgError::from)?)?;
        let store = self.clone();
        let stream = futures_util::stream::try_unfold(0i64, move |seq| {
            let store = store.clone();
            async move {
                if seq >= chunks {
                    return Ok(None);
                }
                let client = store.client().await?;
                let row = sql::query_opt(
                    &client,
                    "SELECT data FROM blob_chunks WHERE upload = $1 AND seq = $2",
                    &[&upload, &seq],
                )
                .await?;
                // Deleted while being read.
                let row = row.ok_or(PgError::Vanished("blob chunk"))?;
                let data: Vec<u8> = row.try_get(0).map_err(PgError::from)?;
                Ok::<_, StoreError>(Some((Bytes::from(data), seq + 1)))
            }
        });
        Ok(Some(BlobContent {
            size,
            stream: Box::pin(stream),
        }))
    }

    async fn exists(&self, checksum: &BlobChecksum) -> Result<bool, StoreError> {
        let client = self.client().await?;
        let row = sql::query_opt(
            &client,
            "SELECT 1 FROM blobs WHERE checksum = $1",
            &[&checksum.as_bytes().as_slice()],
        )
        .await?;
        Ok(row.is_some())
    }

    async fn delete(&self, checksum: &BlobChecksum) -> Result<bool, StoreError> {
        Ok(self.delete_blob(checksum, i64::MAX).await?)
    }

    async fn delete_if_created_before(
        &self,
        checksum: &BlobChecksum,
        cutoff: Timestamp,
    ) -> Result<bool, StoreError> {
        Ok(self.delete_blob(checksum, cutoff.as_unix_micros()).await?)
    }

    async fn list_blobs(
        &self,
        after: Option<&BlobChecksum>,
        limit: u64,
    ) -> Result<Page<BlobEntry>, StoreError> {
        // Every checksum sorts after the empty string.
        let after: &[u8] = after.map_or(&[], |checksum| checksum.as_bytes().as_slice());
        let fetch = i64::try_from(limit.saturating_add(1)).unwrap_or(i64::MAX);
        let client = self.client().await?;
        let rows = sql::query(
            &client,
            "SELECT checksum, size, created FROM blobs WHERE checksum > $1 \
             ORDER BY checksum LIMIT $2",
            &[&after, &fetch],
        )
        .await?;
        let mut items = rows.iter().map(entry_row).collect::<Result<Vec<_>, _>>()?;
        let has_more = items.len() as u64 > limit;
        items.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
        Ok(Page { items, has_more })
    }
}

#[cfg(test)]
mod tests {
    use futures_util::stream;

    use super::*;

    /// Needs the server of `scripts/test-services`, as the conformance suite does.
    async fn open() -> PostgresStore {
        let url = std::env::var("TEST_POSTGRES_URL")
            .expect("TEST_POSTGRES_URL is not set; run through scripts/test-services");
        PostgresStore::open(&url).await.unwrap()
    }

    /// Chunk rows that no blob names: what a put that failed halfway
    /// would leave if it did not roll back.
    async fn orphan_chunks(store: &PostgresStore) -> i64 {
        let client = store.client().await.unwrap();
        sql::query_one(
            &client,
            "SELECT COUNT(*) FROM blob_chunks c \
             WHERE NOT EXISTS (SELECT 1 FROM blobs b WHERE b.upload = c.upload)",
            &[],
        )
        .await
        .unwrap()
        .get(0)
    }

    #[tokio::test]
    async fn a_failed_put_leaves_no_rows() {
        let store = open().await;
        // Three chunk rows are written before the stream fails.
        let mut parts: Vec<Result<Bytes, std::io::Error>> = (0..3u8)
            .map(|seed| Ok(Bytes::from(vec![seed; CHUNK_SIZE])))
            .collect();
        parts.push(Err(std::io::Error::other("connection reset")));
        let error = store.put(stream::iter(parts), None).await.unwrap_err();
        assert!(matches!(error, PutBlobError::Content(_)), "{error:?}");
        let too_large =
            (0..3u8).map(|seed| Ok::<_, std::io::Error>(Bytes::from(vec![seed; CHUNK_SIZE])));
        let error = store
            .put(stream::iter(too_large), Some(2 * CHUNK_SIZE as u64 + 1))
            .await
            .unwrap_err();
        assert!(matches!(error, PutBlobError::TooLarge { .. }), "{error:?}");
        assert_eq!(orphan_chunks(&store).await, 0);
    }

    #[tokio::test]
    async fn a_repeated_put_keeps_one_set_of_chunks() {
        let store = open().await;
        let content = Bytes::from(format!("{:?}", Timestamp::now()).repeat(100_000));
        let first = store
            .put(
                stream::iter([Ok::<_, std::io::Error>(content.clone())]),
                None,
            )
            .await
            .unwrap();
        let second = store
            .put(stream::iter([Ok::<_, std::io::Error>(content)]), None)
            .await
            .unwrap();
        assert!(second.already_stored);
        let client = store.client().await.unwrap();
        let chunks: i64 = sql::query_one(
            &client,
            "SELECT COUNT(*) FROM blob_chunks c JOIN blobs b ON b.upload = c.upload \
             WHERE b.checksum = $1",
            &[&first.digest.checksum.as_bytes().as_slice()],
        )
        .await
        .unwrap()
        .get(0);
        let expected = first.digest.size.div_ceil(CHUNK_SIZE as u64);
        assert_eq!(chunks, i64::try_from(expected).unwrap());
        assert_eq!(orphan_chunks(&store).await, 0);
    }
}
