//! [`SessionStore`] for [`PostgresStore`]: `session_counts` rows, kept
//! once per subject or added up when they have none.

use sentry_core::ProjectId;
use sentry_core::protocol::Timestamp;
use sentry_core::store::{
    SessionCount, SessionMetric, SessionQuery, SessionStore, SessionTotal, StoreError,
};
use tokio_postgres::Row;

use super::error::PgError;
use super::metadata::{project_key, required_project_key, timestamp, unsigned};
use super::{PostgresStore, sql};

fn total_row(row: &Row, query: &SessionQuery) -> Result<SessionTotal, PgError> {
    let metric: String = row.try_get(4)?;
    Ok(SessionTotal {
        project_id: ProjectId(unsigned("project_id", row.try_get(0)?)?),
        release: query.by_release.then(|| row.try_get(1)).transpose()?,
        environment: query.by_environment.then(|| row.try_get(2)).transpose()?,
        bucket: timestamp("bucket", row.try_get(3)?)?,
        metric: SessionMetric::parse(&metric).ok_or(PgError::Value {
            column: "metric",
            value: metric.clone(),
        })?,
        quantity: unsigned("quantity", row.try_get(5)?)?,
    })
}

impl SessionStore for PostgresStore {
    async fn record_sessions(&self, counts: &[SessionCount]) -> Result<(), StoreError> {
        let mut client = self.client().await?;
        let transaction = client.transaction().await.map_err(PgError::from)?;
        for count in counts {
            let project_id = required_project_key(count.project_id)?;
            let quantity = if count.subject.is_empty() {
                i64::try_from(count.quantity).unwrap_or(i64::MAX)
            } else {
                1
            };
            sql::execute(
                &transaction,
                "INSERT INTO session_counts \
                 (project_id, release, environment, hour, metric, subject, quantity) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7) \
                 ON CONFLICT (project_id, hour, release, environment, metric, subject) \
                 DO UPDATE SET quantity = session_counts.quantity + excluded.quantity \
                 WHERE excluded.subject = ''",
                &[
                    &project_id,
                    &count.release,
                    &count.environment,
                    &count.hour.as_unix_micros(),
                    &count.metric.as_str(),
                    &count.subject,
                    &quantity,
                ],
            )
            .await?;
        }
        transaction.commit().await.map_err(PgError::from)?;
        Ok(())
    }

    async fn session_totals(&self, query: &SessionQuery) -> Result<Vec<SessionTotal>, StoreError> {
        let project_ids: Vec<i64> = query
            .project_ids
            .iter()
            .filter_map(|&id| project_key(id))
            .collect();
        let release = if query.by_release { "release" } else { "''" };
        let environment = if query.by_environment {
            "environment"
        } else {
            "''"
        };
        // A missing list matches every value; `$5`/`$6` say whether one was given.
        let sql = format!(
            "SELECT project_id, {release}, {environment}, \
             $2 + ((hour - $2) / $3) * $3 AS bucket, metric, \
             (SUM(CASE WHEN subject = '' THEN quantity ELSE 0 END) \
              + COUNT(DISTINCT CASE WHEN subject <> '' THEN subject END))::BIGINT \
             FROM session_counts WHERE project_id = ANY($1) AND hour >= $2 AND hour < $4 \
             AND (NOT $5 OR release = ANY($7)) AND (NOT $6 OR environment = ANY($8)) \
             GROUP BY 1, 2, 3, 4, 5"
        );
        let releases = query.releases.clone().unwrap_or_default();
        let environments = query.environments.clone().unwrap_or_default();
        let client = self.client().await?;
        let rows = sql::query(
            &client,
            &sql,
            &[
                &project_ids,
                &query.since.as_unix_micros(),
                &query.interval_micros(),
                &query.until.as_unix_micros(),
                &query.releases.is_some(),
                &query.environments.is_some(),
                &releases,
                &environments,
            ],
        )
        .await?;
        let mut totals = rows
            .iter()
            .map(|row| total_row(row, query))
            .collect::<Result<Vec<_>, _>>()?;
        totals.sort_by(|a, b| a.row_key().cmp(&b.row_key()));
        Ok(totals)
    }

    async fn delete_sessions_before(&self, before: Timestamp) -> Result<u64, StoreError> {
        self.delete_before("session_counts", "hour", None, before)
            .await
    }
}
