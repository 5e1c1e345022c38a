//! [`OutcomeStore`] for [`SqliteStore`]: one `outcomes` row per project,
//! hour, category, outcome and reason, its quantity added to.

use rusqlite::{Row, params};
use sentry_core::ProjectId;
use sentry_core::protocol::Timestamp;
use sentry_core::store::{Outcome, OutcomeCount, OutcomeQuery, OutcomeStore, StoreError};

use super::{SqliteStore, corrupt, unavailable};

/// The stored form of a count, which SQLite keeps as a signed integer.
fn stored_quantity(quantity: u64) -> i64 {
    i64::try_from(quantity).unwrap_or(i64::MAX)
}

fn outcome_row(row: &Row<'_>) -> rusqlite::Result<(i64, i64, String, String, String, i64)> {
    Ok((
        row.get(0)?,
        row.get(1)?,
        row.get(2)?,
        row.get(3)?,
        row.get(4)?,
        row.get(5)?,
    ))
}

fn outcome_count(
    (project_id, hour, category, outcome, reason, quantity): (
        i64,
        i64,
        String,
        String,
        String,
        i64,
    ),
) -> Result<OutcomeCount, StoreError> {
    Ok(OutcomeCount {
        project_id: ProjectId(
            u64::try_from(project_id).map_err(|_| corrupt(format!("project id {project_id}")))?,
        ),
        hour: Timestamp::from_unix_micros(hour).ok_or_else(|| corrupt(format!("hour {hour}")))?,
        category,
        outcome: Outcome::parse(&outcome).ok_or_else(|| corrupt(format!("outcome {outcome}")))?,
        reason,
        quantity: u64::try_from(quantity).unwrap_or(0),
    })
}

impl OutcomeStore for SqliteStore {
    async fn add_outcomes(&self, counts: &[OutcomeCount]) -> Result<(), StoreError> {
        let counts = counts.to_vec();
        self.run(move |connection| {
            let transaction = connection.transaction().map_err(unavailable)?;
            {
                let mut statement = transaction
                    .prepare_cached(
                        "INSERT INTO outcomes (project_id, hour, category, outcome, reason, quantity) \
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6) \
                         ON CONFLICT (project_id, hour, category, outcome, reason) \
                         DO UPDATE SET quantity = quantity + excluded.quantity",
                    )
                    .map_err(unavailable)?;
                for count in &counts {
                    statement
                        .execute(params![
                            count.project_id.0,
                            count.hour.as_unix_micros(),
                            count.category,
                            count.outcome.as_str(),
                            count.reason,
                            stored_quantity(count.quantity),
                        ])
                        .map_err(unavailable)?;
                }
            }
            transaction.commit().map_err(unavailable)
        })
        .await
    }

    async fn outcomes(&self, query: &OutcomeQuery) -> Result<Vec<OutcomeCount>, StoreError> {
        let query = query.clone();
        self.run(move |connection| {
            let mut statement = connection
                .prepare_cached(
                    "SELECT project_id, hour, category, outcome, reason, quantity FROM outcomes \
                     WHERE project_id = ?1 AND hour >= ?2 AND hour < ?3",
                )
                .map_err(unavailable)?;
            let mut counts = Vec::new();
            for project_id in &query.project_ids {
                let Ok(project_id) = i64::try_from(project_id.0) else {
                    continue;
                };
                let rows = statement
                    .query_map(
                        params![
                            project_id,
                            query.since.as_unix_micros(),
                            query.until.as_unix_micros()
                        ],
                        outcome_row,
                    )
                    .map_err(unavailable)?;
                for row in rows {
                    counts.push(outcome_count(row.map_err(unavailable)?)?);
                }
            }
            counts.sort_by(|a, b| a.row_key().cmp(&b.row_key()));
            Ok(counts)
        })
        .await
    }

    async fn delete_outcomes_before(&self, before: Timestamp) -> Result<u64, StoreError> {
        self.delete_before("outcomes", "hour", None, before).await
    }
}
