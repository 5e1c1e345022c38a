//! Statement helpers: every statement is prepared once per connection and
//! cached, and failures come back as [`PgError`].

use deadpool_postgres::GenericClient;
use tokio_postgres::Row;
use tokio_postgres::types::ToSql;

use super::error::PgError;
use crate::records::Reader;

/// Statement parameters.
pub(super) type Params<'a> = &'a [&'a (dyn ToSql + Sync)];

/// Runs a statement; returns how many rows it changed.
pub(super) async fn execute<C: GenericClient>(
    client: &C,
    sql: &str,
    params: Params<'_>,
) -> Result<u64, PgError> {
    let statement = client.prepare_cached(sql).await?;
    Ok(client.execute(&statement, params).await?)
}

/// Runs a query that returns exactly one row.
pub(super) async fn query_one<C: GenericClient>(
    client: &C,
    sql: &str,
    params: Params<'_>,
) -> Result<Row, PgError> {
    let statement = client.prepare_cached(sql).await?;
    Ok(client.query_one(&statement, params).await?)
}

/// Runs a query that returns at most one row.
pub(super) async fn query_opt<C: GenericClient>(
    client: &C,
    sql: &str,
    params: Params<'_>,
) -> Result<Option<Row>, PgError> {
    let statement = client.prepare_cached(sql).await?;
    Ok(client.query_opt(&statement, params).await?)
}

/// Runs a query that returns any number of rows.
pub(super) async fn query<C: GenericClient>(
    client: &C,
    sql: &str,
    params: Params<'_>,
) -> Result<Vec<Row>, PgError> {
    let statement = client.prepare_cached(sql).await?;
    Ok(client.query(&statement, params).await?)
}

/// Runs a query and reads its first row as a record, if there is one.
pub(super) async fn read_opt<C: GenericClient, T>(
    client: &C,
    sql: &str,
    params: Params<'_>,
    read: Reader<T>,
) -> Result<Option<T>, PgError> {
    let row = query_opt(client, sql, params).await?;
    Ok(row.as_ref().map(|row| read(row)).transpose()?)
}

/// Runs a query whose first row must exist, e.g. a row just written.
pub(super) async fn read_one<C: GenericClient, T>(
    client: &C,
    sql: &str,
    params: Params<'_>,
    read: Reader<T>,
) -> Result<T, PgError> {
    let row = query_one(client, sql, params).await?;
    Ok(read(&row)?)
}

/// Runs a query and reads every row as a record.
pub(super) async fn read_all<C: GenericClient, T>(
    client: &C,
    sql: &str,
    params: Params<'_>,
    read: Reader<T>,
) -> Result<Vec<T>, PgError> {
    let rows = query(client, sql, params).await?;
    let mut records = Vec::with_capacity(rows.len());
    for row in &rows {
        records.push(read(row)?);
    }
    Ok(records)
}
