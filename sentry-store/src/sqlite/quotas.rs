//! [`QuotaStore`] for [`SqliteStore`]: one `quota_windows` row per quota
//! and window, its counter added to in one statement.

use rusqlite::params;
use sentry_core::protocol::Timestamp;
use sentry_core::store::{QuotaStore, StoreError};

use super::{SqliteStore, unavailable};

impl QuotaStore for SqliteStore {
    async fn consume_quota(
        &self,
        key: &str,
        window_start: Timestamp,
        quantity: u64,
    ) -> Result<u64, StoreError> {
        let key = key.to_owned();
        let quantity = i64::try_from(quantity).unwrap_or(i64::MAX);
        self.run(move |connection| {
            let used: i64 = connection
                .prepare_cached(
                    "INSERT INTO quota_windows (quota, window_start, used) VALUES (?1, ?2, ?3) \
                     ON CONFLICT (quota, window_start) DO UPDATE SET used = used + excluded.used \
                     RETURNING used",
                )
                .and_then(|mut statement| {
                    statement.query_row(
                        params![key, window_start.as_unix_micros(), quantity],
                        |row| row.get(0),
                    )
                })
                .map_err(unavailable)?;
            Ok(u64::try_from(used).unwrap_or(0))
        })
        .await
    }

    async fn delete_quota_windows_before(&self, before: Timestamp) -> Result<u64, StoreError> {
        self.delete_before("quota_windows", "window_start", None, before)
            .await
    }
}
