//! [`OutcomeStore`] for [`PostgresStore`]: one `outcomes` row per project,
//! hour, category, outcome and reason, its quantity added to, so that
//! every server of a cluster adds to the same counts.

use sentry_core::ProjectId;
use sentry_core::protocol::Timestamp;
use sentry_core::store::{Outcome, OutcomeCount, OutcomeQuery, OutcomeStore, StoreError};
use tokio_postgres::Row;

use super::error::PgError;
use super::metadata::{project_key, required_project_key, timestamp, unsigned};
use super::{PostgresStore, sql};

fn outcome_row(row: &Row) -> Result<OutcomeCount, PgError> {
    let outcome: String = row.try_get(3)?;
    Ok(OutcomeCount {
        project_id: ProjectId(unsigned("project_id", row.try_get(0)?)?),
        hour: timestamp("hour", row.try_get(1)?)?,
        category: row.try_get(2)?,
        outcome: Outcome::parse(&outcome).ok_or(PgError::Value {
            column: "outcome",
            value: outcome.clone(),
        })?,
        reason: row.try_get(4)?,
        quantity: unsigned("quantity", row.try_get(5)?)?,
    })
}

impl OutcomeStore for PostgresStore {
    async fn add_outcomes(&self, counts: &[OutcomeCount]) -> Result<(), StoreError> {
        let mut client = self.client().await?;
        let transaction = client.transaction().await.map_err(PgError::from)?;
        for count in counts {
            let project_id = required_project_key(count.project_id)?;
            let quantity = i64::try_from(count.quantity).unwrap_or(i64::MAX);
            sql::execute(
                &transaction,
                "INSERT INTO outcomes (project_id, hour, category, outcome, reason, quantity) \
                 VALUES ($1, $2, $3, $4, $5, $6) \
                 ON CONFLICT (project_id, hour, category, outcome, reason) \
                 DO UPDATE SET quantity = outcomes.quantity + excluded.quantity",
                &[
                    &project_id,
                    &count.hour.as_unix_micros(),
                    &count.category,
                    &count.outcome.as_str(),
                    &count.reason,
                    &quantity,
                ],
            )
            .await?;
        }
        transaction.commit().await.map_err(PgError::from)?;
        Ok(())
    }

    async fn outcomes(&self, query: &OutcomeQuery) -> Result<Vec<OutcomeCount>, StoreError> {
        let project_ids: Vec<i64> = query
            .project_ids
            .iter()
            .filter_map(|&id| project_key(id))
            .collect();
        let client = self.client().await?;
        let rows = sql::query(
            &client,
            "SELECT project_id, hour, category, outcome, reason, quantity FROM outcomes \
             WHERE project_id = ANY($1) AND hour >= $2 AND hour < $3",
            &[
                &project_ids,
                &query.since.as_unix_micros(),
                &query.until.as_unix_micros(),
            ],
        )
        .await?;
        let mut counts = rows
            .iter()
            .map(outcome_row)
            .collect::<Result<Vec<_>, _>>()?;
        counts.sort_by(|a, b| a.row_key().cmp(&b.row_key()));
        Ok(counts)
    }

    async fn delete_outcomes_before(&self, before: Timestamp) -> Result<u64, StoreError> {
        self.delete_before("outcomes", "hour", None, before).await
    }
}
