//! [`SessionStore`] for [`SqliteStore`]: `session_counts` rows, kept once
//! per subject or added up when they have none.

use rusqlite::types::Value;
use rusqlite::{Row, params, params_from_iter};
use sentry_core::ProjectId;
use sentry_core::protocol::Timestamp;
use sentry_core::store::{
    SessionCount, SessionMetric, SessionQuery, SessionStore, SessionTotal, StoreError,
};

use super::{SqliteStore, corrupt, unavailable};

struct TotalRow {
    project_id: i64,
    release: String,
    environment: String,
    bucket: i64,
    metric: String,
    quantity: i64,
}

fn total_row(row: &Row<'_>) -> rusqlite::Result<TotalRow> {
    Ok(TotalRow {
        project_id: row.get(0)?,
        release: row.get(1)?,
        environment: row.get(2)?,
        bucket: row.get(3)?,
        metric: row.get(4)?,
        quantity: row.get(5)?,
    })
}

fn session_total(row: TotalRow, query: &SessionQuery) -> Result<SessionTotal, StoreError> {
    Ok(SessionTotal {
        project_id: ProjectId(
            u64::try_from(row.project_id)
                .map_err(|_| corrupt(format!("project id {}", row.project_id)))?,
        ),
        release: query.by_release.then_some(row.release),
        environment: query.by_environment.then_some(row.environment),
        bucket: Timestamp::from_unix_micros(row.bucket)
            .ok_or_else(|| corrupt(format!("bucket {}", row.bucket)))?,
        metric: SessionMetric::parse(&row.metric)
            .ok_or_else(|| corrupt(format!("session metric {}", row.metric)))?,
        quantity: u64::try_from(row.quantity).unwrap_or(0),
    })
}

/// The totals statement of a query, and its parameters after the project id.
fn totals_sql(query: &SessionQuery) -> (String, Vec<Value>) {
    let release = if query.by_release { "release" } else { "''" };
    let environment = if query.by_environment {
        "environment"
    } else {
        "''"
    };
    let since = query.since.as_unix_micros();
    let interval = query.interval_micros();
    let mut values = vec![
        Value::Integer(since),
        Value::Integer(interval),
        Value::Integer(query.until.as_unix_micros()),
    ];
    let mut sql = format!(
        "SELECT project_id, {release}, {environment}, \
         ?2 + ((hour - ?2) / ?3) * ?3 AS bucket, metric, \
         SUM(CASE WHEN subject = '' THEN quantity ELSE 0 END) \
         + COUNT(DISTINCT CASE WHEN subject <> '' THEN subject END) \
         FROM session_counts WHERE project_id = ?1 AND hour >= ?2 AND hour < ?4"
    );
    for (column, list) in [
        ("release", &query.releases),
        ("environment", &query.environments),
    ] {
        if let Some(list) = list {
            let first = values.len() + 2;
            let placeholders: Vec<String> = (first..first + list.len())
                .map(|n| format!("?{n}"))
                .collect();
            if placeholders.is_empty() {
                sql.push_str(" AND 0");
            } else {
                sql.push_str(&format!(" AND {column} IN ({})", placeholders.join(", ")));
            }
            values.extend(list.iter().cloned().map(Value::Text));
        }
    }
    sql.push_str(" GROUP BY 1, 2, 3, 4, 5");
    (sql, values)
}

impl SessionStore for SqliteStore {
    async fn record_sessions(&self, counts: &[SessionCount]) -> Result<(), StoreError> {
        let counts = counts.to_vec();
        self.run(move |connection| {
            let transaction = connection.transaction().map_err(unavailable)?;
            {
                let mut statement = transaction
                    .prepare_cached(
                        "INSERT INTO session_counts \
                         (project_id, release, environment, hour, metric, subject, quantity) \
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) \
                         ON CONFLICT (project_id, hour, release, environment, metric, subject) \
                         DO UPDATE SET quantity = quantity + excluded.quantity \
                         WHERE excluded.subject = ''",
                    )
                    .map_err(unavailable)?;
                for count in &counts {
                    let quantity = if count.subject.is_empty() {
                        i64::try_from(count.quantity).unwrap_or(i64::MAX)
                    } else {
                        1
                    };
                    statement
                        .execute(params![
                            count.project_id.0,
                            count.release,
                            count.environment,
                            count.hour.as_unix_micros(),
                            count.metric.as_str(),
                            count.subject,
                            quantity,
                        ])
                        .map_err(unavailable)?;
                }
            }
            transaction.commit().map_err(unavailable)
        })
        .await
    }

    async fn session_totals(&self, query: &SessionQuery) -> Result<Vec<SessionTotal>, StoreError> {
        let query = query.clone();
        self.run(move |connection| {
            let (sql, values) = totals_sql(&query);
            let mut statement = connection.prepare_cached(&sql).map_err(unavailable)?;
            let mut totals = Vec::new();
            for project_id in &query.project_ids {
                let Ok(project_id) = i64::try_from(project_id.0) else {
                    continue;
                };
                let parameters =
                    std::iter::once(Value::Integer(project_id)).chain(values.iter().cloned());
                let rows = statement
                    .query_map(params_from_iter(parameters), total_row)
                    .map_err(unavailable)?;
                for row in rows {
                    totals.push(session_total(row.map_err(unavailable)?, &query)?);
                }
            }
            totals.sort_by(|a, b| a.row_key().cmp(&b.row_key()));
            Ok(totals)
        })
        .await
    }

    async fn delete_sessions_before(&self, before: Timestamp) -> Result<u64, StoreError> {
        self.delete_before("session_counts", "hour", None, before)
            .await
    }
}
