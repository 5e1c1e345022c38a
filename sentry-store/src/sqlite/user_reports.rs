//! [`UserReportStore`] for [`SqliteStore`]: one `user_reports` row per
//! project and id, ids as blobs.

use rusqlite::types::Value;
use rusqlite::{Row, params, params_from_iter};
use sentry_core::protocol::Timestamp;
use sentry_core::store::{StoreError, UserReport, UserReportQuery, UserReportStore};
use sentry_core::{EventId, IssueId, ProjectId};

use super::{SqliteStore, unavailable};

fn event_id(index: usize, bytes: &[u8]) -> rusqlite::Result<EventId> {
    <[u8; 16]>::try_from(bytes)
        .map(EventId::from_bytes)
        .map_err(|_| {
            rusqlite::Error::InvalidColumnType(index, "id".to_owned(), rusqlite::types::Type::Blob)
        })
}

fn report_row(row: &Row<'_>) -> rusqlite::Result<UserReport> {
    let micros: i64 = row.get(8)?;
    Ok(UserReport {
        project_id: ProjectId(row.get(0)?),
        id: event_id(1, &row.get::<_, Vec<u8>>(1)?)?,
        event_id: row
            .get::<_, Option<Vec<u8>>>(2)?
            .map(|bytes| event_id(2, &bytes))
            .transpose()?,
        issue_id: row.get::<_, Option<i64>>(3)?.map(IssueId),
        name: row.get(4)?,
        email: row.get(5)?,
        comments: row.get(6)?,
        environment: row.get(7)?,
        date_created: Timestamp::from_unix_micros(micros)
            .ok_or(rusqlite::Error::IntegralValueOutOfRange(8, micros))?,
    })
}

impl UserReportStore for SqliteStore {
    async fn upsert_user_report(&self, report: &UserReport) -> Result<(), StoreError> {
        let report = report.clone();
        self.run(move |connection| {
            connection
                .prepare_cached(
                    "INSERT INTO user_reports (project_id, id, event_id, issue_id, name, email, \
                     comments, environment, date_created) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) \
                     ON CONFLICT (project_id, id) DO UPDATE SET event_id = excluded.event_id, \
                     issue_id = excluded.issue_id, name = excluded.name, email = excluded.email, \
                     comments = excluded.comments, environment = excluded.environment, \
                     date_created = excluded.date_created",
                )
                .and_then(|mut statement| {
                    statement.execute(params![
                        report.project_id.0,
                        &report.id.as_bytes()[..],
                        report.event_id.as_ref().map(|id| id.as_bytes().to_vec()),
                        report.issue_id.map(|id| id.0),
                        report.name,
                        report.email,
                        report.comments,
                        report.environment,
                        report.date_created.as_unix_micros(),
                    ])
                })
                .map_err(unavailable)?;
            Ok(())
        })
        .await
    }

    async fn link_user_reports(
        &self,
        links: &[(ProjectId, EventId, IssueId)],
    ) -> Result<u64, StoreError> {
        let links = links.to_vec();
        self.run(move |connection| {
            let transaction = connection.transaction().map_err(unavailable)?;
            let mut linked = 0;
            {
                let mut statement = transaction
                    .prepare_cached(
                        "UPDATE user_reports SET issue_id = ?3 \
                         WHERE project_id = ?1 AND event_id = ?2 AND issue_id IS NULL",
                    )
                    .map_err(unavailable)?;
                for (project_id, event_id, issue_id) in &links {
                    linked += statement
                        .execute(params![project_id.0, &event_id.as_bytes()[..], issue_id.0])
                        .map_err(unavailable)? as u64;
                }
            }
            transaction.commit().map_err(unavailable)?;
            Ok(linked)
        })
        .await
    }

    async fn user_reports(&self, query: &UserReportQuery) -> Result<Vec<UserReport>, StoreError> {
        let query = query.clone();
        self.run(move |connection| {
            let Ok(project_id) = i64::try_from(query.project_id.0) else {
                return Ok(Vec::new());
            };
            let mut sql = String::from(
                "SELECT project_id, id, event_id, issue_id, name, email, comments, environment, \
                 date_created FROM user_reports WHERE project_id = ?1",
            );
            let mut values = vec![Value::Integer(project_id)];
            if let Some(issue_id) = query.issue_id {
                values.push(Value::Integer(issue_id.0));
                sql.push_str(&format!(" AND issue_id = ?{}", values.len()));
            }
            if let Some((time, id)) = query.before {
                values.push(Value::Integer(time.as_unix_micros()));
                values.push(Value::Blob(id.as_bytes().to_vec()));
                let (t, i) = (values.len() - 1, values.len());
                sql.push_str(&format!(
                    " AND (date_created < ?{t} OR (date_created = ?{t} AND id < ?{i}))"
                ));
            }
            values.push(Value::Integer(
                i64::try_from(query.limit).unwrap_or(i64::MAX),
            ));
            sql.push_str(&format!(
                " ORDER BY date_created DESC, id DESC LIMIT ?{}",
                values.len()
            ));
            let mut statement = connection.prepare_cached(&sql).map_err(unavailable)?;
            let rows = statement
                .query_map(params_from_iter(values), report_row)
                .map_err(unavailable)?;
            rows.collect::<Result<_, _>>().map_err(unavailable)
        })
        .await
    }

    async fn delete_user_reports_before(
        &self,
        project_id: ProjectId,
        before: Timestamp,
    ) -> Result<u64, StoreError> {
        self.delete_before("user_reports", "date_created", Some(project_id), before)
            .await
    }
}
