//! [`QuotaStore`] for [`PostgresStore`]: one `quota_windows` row per quota
//! and window, its counter added to in one statement, so that the servers
//! of a cluster share each limit.

use sentry_core::protocol::Timestamp;
use sentry_core::store::{QuotaStore, StoreError};

use super::metadata::unsigned;
use super::{PostgresStore, sql};

impl QuotaStore for PostgresStore {
    async fn consume_quota(
        &self,
        key: &str,
        window_start: Timestamp,
        quantity: u64,
    ) -> Result<u64, StoreError> {
        let quantity = i64::try_from(quantity).unwrap_or(i64::MAX);
        let client = self.client().await?;
        let row = sql::query_one(
            &client,
            "INSERT INTO quota_windows (quota, window_start, used) VALUES ($1, $2, $3) \
             ON CONFLICT (quota, window_start) \
             DO UPDATE SET used = quota_windows.used + excluded.used RETURNING used",
            &[&key, &window_start.as_unix_micros(), &quantity],
        )
        .await?;
        Ok(unsigned(
            "used",
            row.try_get(0).map_err(super::error::PgError::from)?,
        )?)
    }

    async fn delete_quota_windows_before(&self, before: Timestamp) -> Result<u64, StoreError> {
        self.delete_before("quota_windows", "window_start", None, before)
            .await
    }
}
