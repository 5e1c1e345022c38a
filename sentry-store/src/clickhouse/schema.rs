//! The database and its one table, created on open.
//!
//! ClickHouse has no transactions, so the schema is made idempotent
//! instead of versioned in a table: `CREATE … IF NOT EXISTS`, then a check
//! that the table has the columns this build reads and writes. Processes
//! that open the store at once race harmlessly: a create that loses the
//! race is accepted once the object is seen to exist.
//!
//! Version history (of [`EVENTS_COLUMNS`]):
//!
//! 1: events with tags as parallel arrays, raw payloads, partitioned by day.
//!
//! A later version adds columns with `ALTER TABLE … ADD COLUMN` for the
//! ones [`check_columns`] finds missing; it never changes a column's type.

use super::error::ChError;
use super::http::Http;
use super::rowbinary::RowReader;
use super::sql::{identifier, string_literal};

/// The columns of the events table, with their types as `system.columns`
/// writes them.
pub(super) const EVENTS_COLUMNS: &[(&str, &str)] = &[
    ("project_id", "UInt64"),
    ("issue_id", "Int64"),
    ("timestamp", "Int64"),
    ("event_id", "FixedString(16)"),
    ("date", "Date"),
    ("received", "Int64"),
    ("hash", "String"),
    ("grouping_config", "String"),
    ("tag_keys", "Array(String)"),
    ("tag_values", "Array(String)"),
    ("payload", "String"),
];

/// The events table's name.
pub(super) const EVENTS_TABLE: &str = "events";

/// Creates the database and the events table if missing, then checks the
/// table's columns.
pub(super) async fn migrate(http: &Http, database: &str) -> Result<(), ChError> {
    let quoted_database = identifier(database);
    create(
        http,
        &format!("CREATE DATABASE IF NOT EXISTS {quoted_database}"),
        &format!(
            "SELECT toUInt64(count()) FROM system.databases WHERE name = {} FORMAT RowBinary",
            string_literal(database)
        ),
    )
    .await?;
    let columns = EVENTS_COLUMNS
        .iter()
        .map(|(name, ty)| format!("    {name} {ty}"))
        .collect::<Vec<_>>()
        .join(",\n");
    // ReplacingMergeTree: a duplicate that two processes insert at once
    // (see `insert_events`) has the same sorting key and merges away.
    let create_table = format!(
        "CREATE TABLE IF NOT EXISTS {quoted_database}.{table} (\n{columns}\n) \
         ENGINE = ReplacingMergeTree() \
         PARTITION BY date \
         ORDER BY (project_id, issue_id, timestamp, event_id) \
         SETTINGS index_granularity = 8192",
        table = identifier(EVENTS_TABLE),
    );
    create(
        http,
        &create_table,
        &format!(
            "SELECT toUInt64(count()) FROM system.tables WHERE database = {} AND name = {} \
             FORMAT RowBinary",
            string_literal(database),
            string_literal(EVENTS_TABLE)
        ),
    )
    .await?;
    check_columns(http, database).await
}

/// Runs a `CREATE … IF NOT EXISTS`; a failure is accepted when `exists`
/// (a count) shows that another process created the object meanwhile.
async fn create(http: &Http, statement: &str, exists: &str) -> Result<(), ChError> {
    let Err(error) = http.execute(statement).await else {
        return Ok(());
    };
    if let ChError::Server { .. } = error {
        let answer = http.select(exists).await?;
        if RowReader::new(&answer).u64()? > 0 {
            tracing::debug!(%error, "lost a race to create a clickhouse object; it exists");
            return Ok(());
        }
    }
    Err(error)
}

/// Checks that the events table has the columns this build uses, with
/// their types; more columns (a newer build's) are fine.
async fn check_columns(http: &Http, database: &str) -> Result<(), ChError> {
    let answer = http
        .select(&format!(
            "SELECT name, type FROM system.columns WHERE database = {} AND table = {} \
             FORMAT RowBinary",
            string_literal(database),
            string_literal(EVENTS_TABLE)
        ))
        .await?;
    let found = RowReader::new(&answer).rows(|row| Ok((row.string()?, row.string()?)))?;
    for (name, ty) in EVENTS_COLUMNS {
        match found.iter().find(|(found_name, _)| found_name == name) {
            None => {
                return Err(ChError::Schema {
                    table: EVENTS_TABLE,
                    detail: format!("column `{name}` is missing"),
                });
            }
            Some((_, found_ty)) if found_ty != ty => {
                return Err(ChError::Schema {
                    table: EVENTS_TABLE,
                    detail: format!("column `{name}` is `{found_ty}`, expected `{ty}`"),
                });
            }
            Some(_) => {}
        }
    }
    Ok(())
}
