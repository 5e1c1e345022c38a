//! Schema version 2: tags as parallel lists of keys and values on the
//! event row, in the event's order, instead of a JSON copy on the event
//! and one `event_tags` row each, so that a batch is one table's columns.
//! Payloads (lz4 already) are stored as they are: compressing them again
//! at every checkpoint cost a quarter of the insert time for about a
//! quarter of their size.
//!
//! Existing events are copied in their order, a slice of rows at a time
//! so that the lists of a slice (gathered from `event_tags` in the order
//! its rows were appended) fit in the memory limit.

use duckdb::{Connection, params};

/// The events table of version 2, under a temporary name.
const CREATE: &str = r#"
CREATE TABLE events_v2 (
    project_id BIGINT NOT NULL,
    event_id BLOB NOT NULL,
    issue_id BIGINT NOT NULL,
    timestamp BIGINT NOT NULL,
    received BIGINT NOT NULL,
    hash VARCHAR NOT NULL,
    grouping_config VARCHAR NOT NULL,
    payload BLOB NOT NULL USING COMPRESSION uncompressed,
    tag_keys VARCHAR[] NOT NULL,
    tag_values VARCHAR[] NOT NULL,
    PRIMARY KEY (project_id, event_id)
);
"#;

/// Copies the events whose row number lies in `[$1, $2)`, with their tags.
const COPY_SLICE: &str = r#"
INSERT INTO events_v2
SELECT e.project_id, e.event_id, e.issue_id, e.timestamp, e.received, e.hash,
    e.grouping_config, e.payload,
    coalesce(t.tag_keys, []::VARCHAR[]), coalesce(t.tag_values, []::VARCHAR[])
FROM (SELECT rowid AS position, * FROM events WHERE rowid >= $1 AND rowid < $2) e
LEFT JOIN (
    SELECT g.project_id, g.event_id,
        list(g.key ORDER BY g.rowid) AS tag_keys, list(g.value ORDER BY g.rowid) AS tag_values
    FROM event_tags g
    SEMI JOIN (SELECT project_id, event_id FROM events WHERE rowid >= $1 AND rowid < $2) s
        ON g.project_id = s.project_id AND g.event_id = s.event_id
    GROUP BY g.project_id, g.event_id
) t ON t.project_id = e.project_id AND t.event_id = e.event_id
ORDER BY e.position
"#;

/// Events copied at a time: with 3 KB events and 8 tags each, a few
/// hundred megabytes of the default 1 GB memory limit.
const SLICE: i64 = 100_000;

/// Moves version 1's tags into lists on a new events table.
pub(super) fn move_tags_to_lists(connection: &Connection) -> duckdb::Result<()> {
    move_in_slices(connection, SLICE)
}

/// Moves version 1's tags into lists, `slice` events at a time.
fn move_in_slices(connection: &Connection, slice: i64) -> duckdb::Result<()> {
    connection.execute_batch(CREATE)?;
    let end: i64 = connection.query_row(
        "SELECT coalesce(max(rowid) + 1, 0) FROM events",
        [],
        |row| row.get(0),
    )?;
    let mut start = 0;
    while start < end {
        connection.execute(COPY_SLICE, params![start, start.saturating_add(slice)])?;
        start = start.saturating_add(slice);
    }
    connection.execute_batch(
        "DROP TABLE event_tags; DROP TABLE events; ALTER TABLE events_v2 RENAME TO events;",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slices_keep_the_order_of_events_and_of_their_tags() {
        let connection = Connection::open_in_memory().unwrap();
        connection
            .execute_batch(
                "CREATE TABLE events (project_id BIGINT, event_id BLOB, issue_id BIGINT, \
                 timestamp BIGINT, received BIGINT, hash VARCHAR, grouping_config VARCHAR, \
                 payload BLOB, tags VARCHAR); \
                 CREATE TABLE event_tags (project_id BIGINT, event_id BLOB, issue_id BIGINT, \
                 timestamp BIGINT, key VARCHAR, value VARCHAR);",
            )
            .unwrap();
        // Ids out of order, tags out of key order, one event without tags.
        for (id, tags) in [(9u8, &["z", "a"][..]), (3, &[]), (5, &["m", "b", "k"])] {
            let event_id = [id; 16];
            connection
                .execute(
                    "INSERT INTO events VALUES (1, ?, 1, 0, 0, 'h', 'c', 'p', '[]')",
                    params![&event_id[..]],
                )
                .unwrap();
            for key in tags {
                connection
                    .execute(
                        "INSERT INTO event_tags VALUES (1, ?, 1, 0, ?, upper(?))",
                        params![&event_id[..], key, key],
                    )
                    .unwrap();
            }
        }
        move_in_slices(&connection, 1).unwrap();
        let mut statement = connection
            .prepare(
                "SELECT event_id, array_to_string(tag_keys, ','), \
                 array_to_string(tag_values, ',') FROM events ORDER BY rowid",
            )
            .unwrap();
        let rows: Vec<(Vec<u8>, String, String)> = statement
            .query_map([], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        let rows: Vec<(u8, &str, &str)> = rows
            .iter()
            .map(|(id, keys, values)| (id[0], keys.as_str(), values.as_str()))
            .collect();
        assert_eq!(
            rows,
            [(9, "z,a", "Z,A"), (3, "", ""), (5, "m,b,k", "M,B,K")]
        );
    }
}
