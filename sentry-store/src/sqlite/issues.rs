//! Issues: reading, listing with filters and orders, status changes,
//! expiry of ignores, deletion, earlier filings. Filing events under
//! issues is in `metadata.rs`, in the transaction that counts them.

use rusqlite::types::Value as SqlValue;
use rusqlite::{Connection, OptionalExtension, Row, params};
use sentry_core::protocol::{Level, Timestamp};
use sentry_core::store::{
    FiledEvent, Issue, IssueChange, IssueQuery, IssueSort, IssueStatus, IssueStatusChange,
    IssueSubstatus, Page, StatusDetails, StoreError,
};
use sentry_core::{IssueId, ProjectId};

use super::{corrupt, unavailable};
use crate::records::{self, signed};

/// The columns [`issue_row`] reads, in its order.
const ISSUE_COLUMNS: &str = "id, project_id, short_number, title, culprit, level, type, metadata, status, \
     first_seen, last_seen, times_seen, user_count, grouping_config, platform, substatus, \
     ignore_until, ignore_until_times_seen, ignore_until_user_count, resolved_in_release";

fn timestamp(micros: i64) -> rusqlite::Result<Timestamp> {
    Timestamp::from_unix_micros(micros).ok_or(rusqlite::Error::IntegralValueOutOfRange(0, micros))
}

fn issue_row(row: &Row<'_>) -> rusqlite::Result<Issue> {
    let conversion = |index: usize, text: &str| {
        rusqlite::Error::FromSqlConversionFailure(
            index,
            rusqlite::types::Type::Text,
            format!("unexpected value `{text}`").into(),
        )
    };
    let level: String = row.get(5)?;
    let metadata: String = row.get(7)?;
    let status: String = row.get(8)?;
    let substatus: Option<String> = row.get(15)?;
    let substatus = substatus
        .map(|text| IssueSubstatus::parse(&text).ok_or_else(|| conversion(15, &text)))
        .transpose()?;
    let ignore_until: Option<i64> = row.get(16)?;
    Ok(Issue {
        id: IssueId(row.get(0)?),
        project_id: ProjectId(row.get(1)?),
        short_number: row.get(2)?,
        title: row.get(3)?,
        culprit: row.get(4)?,
        level: Level::parse(&level).ok_or_else(|| conversion(5, &level))?,
        ty: row.get(6)?,
        metadata: serde_json::from_str(&metadata).map_err(|_| conversion(7, &metadata))?,
        status: IssueStatus::parse(&status).ok_or_else(|| conversion(8, &status))?,
        substatus,
        status_details: StatusDetails {
            ignore_until: ignore_until.map(timestamp).transpose()?,
            ignore_until_times_seen: row.get(17)?,
            ignore_until_user_count: row.get(18)?,
            resolved_in_release: row.get(19)?,
        },
        first_seen: timestamp(row.get(9)?)?,
        last_seen: timestamp(row.get(10)?)?,
        times_seen: row.get(11)?,
        user_count: row.get(12)?,
        grouping_config: row.get(13)?,
        platform: row.get(14)?,
    })
}

/// Returns an issue by id.
pub(super) fn select(connection: &Connection, id: i64) -> Result<Option<Issue>, StoreError> {
    connection
        .query_row(
            &format!("SELECT {ISSUE_COLUMNS} FROM issues WHERE id = ?1"),
            [id],
            issue_row,
        )
        .optional()
        .map_err(unavailable)
}

/// Sets an issue's status, substatus and end conditions.
pub(super) fn set_status(
    connection: &Connection,
    id: i64,
    change: &IssueStatusChange,
) -> Result<(), StoreError> {
    let details = &change.details;
    let count = |value: Option<u64>| value.map(signed);
    connection
        .execute(
            "UPDATE issues SET status = ?2, substatus = ?3, ignore_until = ?4, \
             ignore_until_times_seen = ?5, ignore_until_user_count = ?6, resolved_in_release = ?7 \
             WHERE id = ?1",
            params![
                id,
                change.status.as_str(),
                change.substatus.map(|substatus| substatus.as_str()),
                details.ignore_until.map(|until| until.as_unix_micros()),
                count(details.ignore_until_times_seen),
                count(details.ignore_until_user_count),
                details.resolved_in_release,
            ],
        )
        .map_err(unavailable)?;
    Ok(())
}

/// Unresolves the issues ignored until a time at or before `now`.
pub(super) fn unignore_expired(connection: &Connection, now: Timestamp) -> Result<u64, StoreError> {
    let changed = connection
        .execute(
            "UPDATE issues SET status = 'unresolved', substatus = 'escalating', ignore_until = NULL, \
             ignore_until_times_seen = NULL, ignore_until_user_count = NULL \
             WHERE ignore_until <= ?1 AND status = 'ignored'",
            [now.as_unix_micros()],
        )
        .map_err(unavailable)?;
    Ok(changed as u64)
}

/// Returns the filing of an event filed before and not forgotten since,
/// with its issue as it is now; `None` if there is none, or if its issue
/// was deleted since (the record is dropped and the event filed anew).
pub(super) fn filed_before(
    connection: &Connection,
    project_id: i64,
    event_id: &[u8],
) -> Result<Option<FiledEvent>, StoreError> {
    let filed: Option<(i64, String)> = connection
        .query_row(
            "SELECT issue_id, change FROM filed_events WHERE project_id = ?1 AND event_id = ?2",
            params![project_id, event_id],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .optional()
        .map_err(unavailable)?;
    let Some((issue_id, change)) = filed else {
        return Ok(None);
    };
    let change = IssueChange::parse(&change)
        .ok_or_else(|| corrupt(format!("unknown filing change {change:?}")))?;
    match select(connection, issue_id)? {
        Some(issue) => Ok(Some(FiledEvent { issue, change })),
        None => {
            connection
                .execute(
                    "DELETE FROM filed_events WHERE project_id = ?1 AND event_id = ?2",
                    params![project_id, event_id],
                )
                .map_err(unavailable)?;
            Ok(None)
        }
    }
}

/// Deletes issues, their hashes, users, user reports and filing records.
pub(super) fn delete(connection: &mut Connection, ids: &[IssueId]) -> Result<u64, StoreError> {
    let list: Vec<i64> = ids.iter().map(|id| id.0).collect();
    let list = serde_json::to_string(&list).map_err(corrupt)?;
    let transaction = connection.transaction().map_err(unavailable)?;
    for table in [
        "issue_hashes",
        "issue_users",
        "user_reports",
        "filed_events",
    ] {
        transaction
            .execute(
                &format!("DELETE FROM {table} WHERE issue_id IN (SELECT value FROM json_each(?1))"),
                [&list],
            )
            .map_err(unavailable)?;
    }
    let deleted = transaction
        .execute(
            "DELETE FROM issues WHERE id IN (SELECT value FROM json_each(?1))",
            [&list],
        )
        .map_err(unavailable)?;
    transaction.commit().map_err(unavailable)?;
    Ok(deleted as u64)
}

/// The column an order sorts by.
fn sort_column(sort: IssueSort) -> &'static str {
    match sort {
        IssueSort::LastSeen => "last_seen",
        IssueSort::FirstSeen => "first_seen",
        IssueSort::TimesSeen => "times_seen",
        IssueSort::UserCount => "user_count",
    }
}

/// Lists the issues that match a query, in its order; every value is bound.
pub(super) fn list(connection: &Connection, query: &IssueQuery) -> Result<Page<Issue>, StoreError> {
    if query.project_ids.is_empty() || query.ids.as_ref().is_some_and(Vec::is_empty) {
        return Ok(Page {
            items: Vec::new(),
            has_more: false,
        });
    }
    let mut sql = format!("SELECT {ISSUE_COLUMNS} FROM issues WHERE project_id IN (");
    let mut values: Vec<SqlValue> = Vec::new();
    for (index, project_id) in query.project_ids.iter().enumerate() {
        if index > 0 {
            sql.push_str(", ");
        }
        sql.push('?');
        values.push(SqlValue::Integer(
            i64::try_from(project_id.0).map_err(corrupt)?,
        ));
    }
    sql.push(')');
    if let Some(status) = query.status {
        sql.push_str(" AND status = ?");
        values.push(SqlValue::Text(status.as_str().to_owned()));
    }
    if let Some(ids) = &query.ids {
        sql.push_str(" AND id IN (SELECT value FROM json_each(?))");
        let list: Vec<i64> = ids.iter().map(|id| id.0).collect();
        values.push(SqlValue::Text(
            serde_json::to_string(&list).map_err(corrupt)?,
        ));
    }
    for word in &query.text {
        sql.push_str(" AND (title LIKE ? ESCAPE '\\' OR culprit LIKE ? ESCAPE '\\')");
        let pattern = crate::text_search::contains_pattern(word);
        values.push(SqlValue::Text(pattern.clone()));
        values.push(SqlValue::Text(pattern));
    }
    let bounds = [
        (
            "first_seen >= ?",
            query.first_seen.start.map(|t| t.as_unix_micros()),
        ),
        (
            "first_seen <= ?",
            query.first_seen.end.map(|t| t.as_unix_micros()),
        ),
        (
            "last_seen >= ?",
            query.last_seen.start.map(|t| t.as_unix_micros()),
        ),
        (
            "last_seen <= ?",
            query.last_seen.end.map(|t| t.as_unix_micros()),
        ),
        ("times_seen >= ?", query.times_seen.min.map(signed)),
        ("times_seen <= ?", query.times_seen.max.map(signed)),
    ];
    for (condition, bound) in bounds {
        if let Some(bound) = bound {
            sql.push_str(" AND ");
            sql.push_str(condition);
            values.push(SqlValue::Integer(bound));
        }
    }
    let column = sort_column(query.sort);
    sql.push_str(&format!(
        " ORDER BY {column} DESC, id DESC LIMIT ? OFFSET ?"
    ));
    let limit = i64::try_from(query.limit).unwrap_or(i64::MAX);
    values.push(SqlValue::Integer(limit.saturating_add(1)));
    values.push(SqlValue::Integer(
        i64::try_from(query.offset).unwrap_or(i64::MAX),
    ));
    let mut statement = connection.prepare(&sql).map_err(unavailable)?;
    let rows = statement
        .query_map(rusqlite::params_from_iter(values), issue_row)
        .map_err(unavailable)?;
    let items: Vec<Issue> = rows.collect::<Result<_, _>>().map_err(unavailable)?;
    Ok(records::page(items, query.limit))
}
