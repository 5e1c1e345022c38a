//! [`UserReportStore`] for [`PostgresStore`]: one `user_reports` row per
//! project and id, ids as `BYTEA`.

use sentry_core::protocol::Timestamp;
use sentry_core::store::{StoreError, UserReport, UserReportQuery, UserReportStore};
use sentry_core::{EventId, IssueId, ProjectId};
use tokio_postgres::Row;

use super::error::PgError;
use super::metadata::{project_key, required_project_key, timestamp, unsigned};
use super::{PostgresStore, sql};

fn event_id(column: &'static str, bytes: &[u8]) -> Result<EventId, PgError> {
    <[u8; 16]>::try_from(bytes)
        .map(EventId::from_bytes)
        .map_err(|_| PgError::Value {
            column,
            value: format!("{} bytes", bytes.len()),
        })
}

fn report_row(row: &Row) -> Result<UserReport, PgError> {
    Ok(UserReport {
        project_id: ProjectId(unsigned("project_id", row.try_get(0)?)?),
        id: event_id("id", row.try_get(1)?)?,
        event_id: row
            .try_get::<_, Option<&[u8]>>(2)?
            .map(|bytes| event_id("event_id", bytes))
            .transpose()?,
        issue_id: row.try_get::<_, Option<i64>>(3)?.map(IssueId),
        name: row.try_get(4)?,
        email: row.try_get(5)?,
        comments: row.try_get(6)?,
        environment: row.try_get(7)?,
        date_created: timestamp("date_created", row.try_get(8)?)?,
    })
}

impl UserReportStore for PostgresStore {
    async fn upsert_user_report(&self, report: &UserReport) -> Result<(), StoreError> {
        let project_id = required_project_key(report.project_id)?;
        let client = self.client().await?;
        sql::execute(
            &client,
            "INSERT INTO user_reports (project_id, id, event_id, issue_id, name, email, \
             comments, environment, date_created) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
             ON CONFLICT (project_id, id) DO UPDATE SET event_id = excluded.event_id, \
             issue_id = excluded.issue_id, name = excluded.name, email = excluded.email, \
             comments = excluded.comments, environment = excluded.environment, \
             date_created = excluded.date_created",
            &[
                &project_id,
                &report.id.as_bytes().as_slice(),
                &report.event_id.as_ref().map(|id| id.as_bytes().as_slice()),
                &report.issue_id.map(|id| id.0),
                &report.name,
                &report.email,
                &report.comments,
                &report.environment,
                &report.date_created.as_unix_micros(),
            ],
        )
        .await?;
        Ok(())
    }

    async fn link_user_reports(
        &self,
        links: &[(ProjectId, EventId, IssueId)],
    ) -> Result<u64, StoreError> {
        let mut projects = Vec::with_capacity(links.len());
        let mut events = Vec::with_capacity(links.len());
        let mut issues = Vec::with_capacity(links.len());
        for (project_id, event_id, issue_id) in links {
            let Some(project_id) = project_key(*project_id) else {
                continue;
            };
            projects.push(project_id);
            events.push(event_id.as_bytes().as_slice());
            issues.push(issue_id.0);
        }
        if projects.is_empty() {
            return Ok(0);
        }
        let client = self.client().await?;
        Ok(sql::execute(
            &client,
            "UPDATE user_reports AS report SET issue_id = link.issue_id \
             FROM UNNEST($1::BIGINT[], $2::BYTEA[], $3::BIGINT[]) \
             AS link(project_id, event_id, issue_id) \
             WHERE report.project_id = link.project_id AND report.event_id = link.event_id \
             AND report.issue_id IS NULL",
            &[&projects, &events, &issues],
        )
        .await?)
    }

    async fn user_reports(&self, query: &UserReportQuery) -> Result<Vec<UserReport>, StoreError> {
        let Some(project_id) = project_key(query.project_id) else {
            return Ok(Vec::new());
        };
        let (before_time, before_id) = match &query.before {
            Some((time, id)) => (Some(time.as_unix_micros()), Some(id.as_bytes().as_slice())),
            None => (None, None),
        };
        let limit = i64::try_from(query.limit).unwrap_or(i64::MAX);
        let client = self.client().await?;
        let rows = sql::query(
            &client,
            "SELECT project_id, id, event_id, issue_id, name, email, comments, environment, \
             date_created FROM user_reports WHERE project_id = $1 \
             AND ($2::BIGINT IS NULL OR issue_id = $2) \
             AND ($3::BIGINT IS NULL OR date_created < $3 OR (date_created = $3 AND id < $4)) \
             ORDER BY date_created DESC, id DESC LIMIT $5",
            &[
                &project_id,
                &query.issue_id.map(|id| id.0),
                &before_time,
                &before_id,
                &limit,
            ],
        )
        .await?;
        Ok(rows.iter().map(report_row).collect::<Result<_, _>>()?)
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
