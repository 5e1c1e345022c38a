//! The database and its tables, created on open.
//!
//! ClickHouse has no transactions, so the schema is made idempotent
//! instead of versioned in a table: `CREATE … IF NOT EXISTS`, then a check
//! that each table has the columns this build reads and writes. Processes
//! that open the store at once race harmlessly: a create that loses the
//! race is accepted once the object is seen to exist.
//!
//! Version history:
//!
//! 1: events with tags as parallel arrays, raw payloads, partitioned by day.
//! 2: the `event_ids` lookup table ([`EVENT_IDS_COLUMNS`]). A database of
//!    version 1 gets it on open, filled from the events already stored
//!    ([`backfill_event_ids`]).
//!
//! A later version adds columns with `ALTER TABLE … ADD COLUMN` for the
//! ones [`check_columns`] finds missing; it never changes a column's type.

use std::time::Instant;

use super::error::ChError;
use super::http::Http;
use super::rowbinary::RowReader;
use super::sql::{date_literal, identifier, string_literal};

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

/// The columns of the event id table: where each event is in the events
/// table (its sorting key and partition), by project and id. The same
/// values as the event's row, so a condition on `project_id`, `event_id`,
/// `timestamp` or `date` selects the same events in both tables.
pub(super) const EVENT_IDS_COLUMNS: &[(&str, &str)] = &[
    ("project_id", "UInt64"),
    ("event_id", "FixedString(16)"),
    ("issue_id", "Int64"),
    ("timestamp", "Int64"),
    ("date", "Date"),
];

/// The event id table's name.
pub(super) const EVENT_IDS_TABLE: &str = "event_ids";

/// Rows per mark of the event id table, an eighth of the default: a lookup
/// of one id reads a granule of every part, so fewer rows (on 18.16 the
/// latency differs little: the statement's overhead dominates), while the
/// in-memory primary key (24 bytes a granule) stays small: 24 MB for a
/// billion ids.
const EVENT_IDS_GRANULARITY: u32 = 1024;

/// Creates the database and the tables if missing, checks the tables'
/// columns, and fills a just created event id table from the events.
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
    // ReplacingMergeTree: a duplicate that two processes insert at once
    // (see `insert_events`) has the same sorting key and merges away.
    create_table(
        http,
        database,
        EVENTS_TABLE,
        EVENTS_COLUMNS,
        "ENGINE = ReplacingMergeTree() \
         PARTITION BY date \
         ORDER BY (project_id, issue_id, timestamp, event_id) \
         SETTINGS index_granularity = 8192",
    )
    .await?;
    // Partitioned by month, not by day: a lookup reads a granule of every
    // part, and months make few parts; retention drops whole months and
    // rewrites only the parts of the month it cuts (see `drop_days_before`).
    let ids_existed = table_exists(http, database, EVENT_IDS_TABLE).await?;
    if !ids_existed {
        create_table(
            http,
            database,
            EVENT_IDS_TABLE,
            EVENT_IDS_COLUMNS,
            &format!(
                "ENGINE = ReplacingMergeTree() \
                 PARTITION BY toYYYYMM(date) \
                 ORDER BY (project_id, event_id) \
                 SETTINGS index_granularity = {EVENT_IDS_GRANULARITY}"
            ),
        )
        .await?;
    }
    check_columns(http, database, EVENTS_TABLE, EVENTS_COLUMNS).await?;
    check_columns(http, database, EVENT_IDS_TABLE, EVENT_IDS_COLUMNS).await?;
    if !ids_existed {
        backfill_event_ids(http, database).await?;
    }
    Ok(())
}

/// Creates a table if missing, with its columns and `ENGINE …` clause.
async fn create_table(
    http: &Http,
    database: &str,
    table: &str,
    columns: &[(&str, &str)],
    engine: &str,
) -> Result<(), ChError> {
    let columns = columns
        .iter()
        .map(|(name, ty)| format!("    {name} {ty}"))
        .collect::<Vec<_>>()
        .join(",\n");
    create(
        http,
        &format!(
            "CREATE TABLE IF NOT EXISTS {}.{} (\n{columns}\n) {engine}",
            identifier(database),
            identifier(table),
        ),
        &table_count(database, table),
    )
    .await
}

/// The statement that counts the tables of this name (0 or 1).
fn table_count(database: &str, table: &str) -> String {
    format!(
        "SELECT toUInt64(count()) FROM system.tables WHERE database = {} AND name = {} \
         FORMAT RowBinary",
        string_literal(database),
        string_literal(table)
    )
}

/// Whether a table exists.
async fn table_exists(http: &Http, database: &str, table: &str) -> Result<bool, ChError> {
    let answer = http.select(&table_count(database, table)).await?;
    Ok(RowReader::new(&answer).u64()? > 0)
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

/// Checks that a table has the columns this build uses, with their types;
/// more columns (a newer build's) are fine.
async fn check_columns(
    http: &Http,
    database: &str,
    table: &'static str,
    columns: &[(&str, &str)],
) -> Result<(), ChError> {
    let answer = http
        .select(&format!(
            "SELECT name, type FROM system.columns WHERE database = {} AND table = {} \
             FORMAT RowBinary",
            string_literal(database),
            string_literal(table)
        ))
        .await?;
    let found = RowReader::new(&answer).rows(|row| Ok((row.string()?, row.string()?)))?;
    for (name, ty) in columns {
        match found.iter().find(|(found_name, _)| found_name == name) {
            None => {
                return Err(ChError::Schema {
                    table,
                    detail: format!("column `{name}` is missing"),
                });
            }
            Some((_, found_ty)) if found_ty != ty => {
                return Err(ChError::Schema {
                    table,
                    detail: format!("column `{name}` is `{found_ty}`, expected `{ty}`"),
                });
            }
            Some(_) => {}
        }
    }
    Ok(())
}

/// Writes the id rows of the events already stored, a day of events per
/// statement, so that each stays far below the request timeout (the days
/// are read from `system.parts`, without reading the table). Runs when
/// this process created the event id table: two processes that both did
/// write every id twice, which is harmless (see the module documentation
/// of `clickhouse`). A fill cut short is not resumed; `event` still finds
/// the events it missed, by reading every partition.
async fn backfill_event_ids(http: &Http, database: &str) -> Result<(), ChError> {
    let answer = http
        .select(&format!(
            "SELECT DISTINCT min_date AS day FROM system.parts \
             WHERE database = {} AND table = {} AND active ORDER BY day FORMAT RowBinary",
            string_literal(database),
            string_literal(EVENTS_TABLE)
        ))
        .await?;
    let days = RowReader::new(&answer).rows(|row| row.u16())?;
    if days.is_empty() {
        return Ok(());
    }
    tracing::info!(
        days = days.len(),
        "filling the clickhouse event id table from the stored events"
    );
    let columns = EVENT_IDS_COLUMNS
        .iter()
        .map(|(name, _)| *name)
        .collect::<Vec<_>>()
        .join(", ");
    let started = Instant::now();
    for day in days {
        // One partition of events, which `date = …` selects.
        http.execute(&format!(
            "INSERT INTO {database}.{ids} ({columns}) SELECT {columns} FROM {database}.{events} \
             WHERE date = {date}",
            database = identifier(database),
            ids = identifier(EVENT_IDS_TABLE),
            events = identifier(EVENTS_TABLE),
            date = date_literal(day),
        ))
        .await?;
        tracing::debug!(day = %date_literal(day), "filled the event ids of a day");
    }
    tracing::info!(
        elapsed_ms = started.elapsed().as_millis() as u64,
        "filled the clickhouse event id table"
    );
    Ok(())
}
