//! Schema migrations, versioned in a one-row `schema_version` table.
//!
//! Each entry of [`MIGRATIONS`] moves the schema from version `n` to
//! `n + 1`. Never edit a released entry; append a new one.

use duckdb::{Connection, OptionalExt};
use sentry_core::store::StoreError;

use super::unavailable;

/// The migrations, in order. Version history:
///
/// 1: events (lz4 payloads, tags as JSON) with a primary key on project and
///    event id, and `event_tags`, one row per tag, for filters and facets.
/// 2: tags as parallel lists of keys and values on the event row instead
///    of JSON and `event_tags`, payloads not compressed again (see
///    [`super::tag_lists`]).
const MIGRATIONS: &[Migration] = &[
    Migration::Sql(
        r#"
CREATE TABLE events (
    project_id BIGINT NOT NULL,
    event_id BLOB NOT NULL,
    issue_id BIGINT NOT NULL,
    timestamp BIGINT NOT NULL,
    received BIGINT NOT NULL,
    hash VARCHAR NOT NULL,
    grouping_config VARCHAR NOT NULL,
    payload BLOB NOT NULL,
    tags VARCHAR NOT NULL,
    PRIMARY KEY (project_id, event_id)
);
CREATE TABLE event_tags (
    project_id BIGINT NOT NULL,
    event_id BLOB NOT NULL,
    issue_id BIGINT NOT NULL,
    timestamp BIGINT NOT NULL,
    key VARCHAR NOT NULL,
    value VARCHAR NOT NULL
);
"#,
    ),
    Migration::Code(super::tag_lists::move_tags_to_lists),
];

/// One step of the schema.
enum Migration {
    /// Statements run as one batch.
    Sql(&'static str),
    /// Code, for a step that one statement could not do within the memory
    /// limit.
    Code(fn(&Connection) -> duckdb::Result<()>),
}

/// Applies the migrations the database has not seen yet, each in a transaction.
pub(super) fn migrate(connection: &mut Connection) -> Result<(), StoreError> {
    migrate_to(connection, MIGRATIONS.len())
}

/// Applies the migrations the database has not seen yet up to `version`.
fn migrate_to(connection: &mut Connection, version: usize) -> Result<(), StoreError> {
    connection
        .execute_batch("CREATE TABLE IF NOT EXISTS schema_version (version BIGINT NOT NULL)")
        .map_err(unavailable)?;
    let current: i64 = connection
        .query_row("SELECT max(version) FROM schema_version", [], |row| {
            row.get::<_, Option<i64>>(0)
        })
        .optional()
        .map_err(unavailable)?
        .flatten()
        .unwrap_or(0);
    let current = usize::try_from(current).unwrap_or(0);
    for (index, migration) in MIGRATIONS.iter().enumerate().take(version).skip(current) {
        let transaction = connection.transaction().map_err(unavailable)?;
        match migration {
            Migration::Sql(sql) => transaction.execute_batch(sql),
            Migration::Code(step) => step(&transaction),
        }
        .map_err(unavailable)?;
        transaction
            .execute("DELETE FROM schema_version", [])
            .map_err(unavailable)?;
        transaction
            .execute(
                "INSERT INTO schema_version VALUES (?)",
                [i64::try_from(index + 1).unwrap_or(i64::MAX)],
            )
            .map_err(unavailable)?;
        transaction.commit().map_err(unavailable)?;
        tracing::info!(version = index + 1, "migrated duckdb schema");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use sentry_core::store::{EventFilter, EventStore, StoredEvent, TagFilter};
    use sentry_core::{EventId, ProjectId};

    use super::*;
    use crate::DuckdbOptions;
    use crate::duckdb::DuckdbStore;

    /// Writes an event as version 1 stored it: JSON tags on the row and
    /// one `event_tags` row each.
    fn insert_v1(connection: &Connection, id: u8, seconds: i64, tags: &[(&str, &str)]) {
        let event_id = [id; 16];
        let json = serde_json::to_string(tags).unwrap();
        let payload = lz4_flex::compress_prepend_size(format!("{{\"n\":{id}}}").as_bytes());
        connection
            .execute(
                "INSERT INTO events VALUES (1, ?, 7, ?, ?, 'h', 'c', ?, ?)",
                duckdb::params![
                    &event_id[..],
                    seconds * 1_000_000,
                    seconds * 1_000_000,
                    payload,
                    json
                ],
            )
            .unwrap();
        for (key, value) in tags {
            connection
                .execute(
                    "INSERT INTO event_tags VALUES (1, ?, 7, ?, ?, ?)",
                    duckdb::params![&event_id[..], seconds * 1_000_000, key, value],
                )
                .unwrap();
        }
    }

    async fn event(store: &DuckdbStore, id: u8) -> StoredEvent {
        store
            .event(ProjectId(1), EventId::from_bytes([id; 16]))
            .await
            .unwrap()
            .unwrap()
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn version_1_tags_become_lists_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("events.duckdb");
        {
            let mut connection = Connection::open(&path).unwrap();
            migrate_to(&mut connection, 1).unwrap();
            insert_v1(&connection, 1, 10, &[("b", "2"), ("a", "1")]);
            insert_v1(&connection, 2, 30, &[]);
            insert_v1(&connection, 3, 20, &[("a", "1'; --")]);
        }
        let store = DuckdbStore::open(&path, &DuckdbOptions::default())
            .await
            .unwrap();
        let first = event(&store, 1).await;
        assert_eq!(
            first.tags,
            [
                ("b".to_owned(), "2".to_owned()),
                ("a".to_owned(), "1".to_owned())
            ]
        );
        assert_eq!(first.payload, b"{\"n\":1}");
        assert!(event(&store, 2).await.tags.is_empty());
        let by_tag = |key: &str, value: &str| EventFilter {
            tags: vec![TagFilter {
                key: key.to_owned(),
                value: Some(value.to_owned()),
                negated: false,
            }],
            ..EventFilter::projects([ProjectId(1)])
        };
        let listed = store
            .list_events(&by_tag("a", "1'; --"), None, 10)
            .await
            .unwrap();
        assert_eq!(listed.items.len(), 1);
        assert_eq!(listed.items[0].event_id, EventId::from_bytes([3; 16]));
        let facets = store
            .tag_facets(&EventFilter::projects([ProjectId(1)]), &[], 10)
            .await
            .unwrap();
        assert_eq!((facets[0].key.as_str(), facets[0].total), ("a", 2));
        assert_eq!(
            store.insert_events(&[first]).await.unwrap(),
            0,
            "the primary key still holds"
        );
        let order: Vec<u8> = store
            .read(|connection| {
                let mut statement = connection
                    .prepare("SELECT event_id FROM events ORDER BY rowid")
                    .map_err(unavailable)?;
                let rows = statement
                    .query_map([], |row| row.get::<_, Vec<u8>>(0))
                    .map_err(unavailable)?;
                rows.map(|row| row.map(|id| id[0]).map_err(unavailable))
                    .collect()
            })
            .await
            .unwrap();
        assert_eq!(order, [1, 2, 3], "rows keep their order");
    }
}
