//! SQL shared by the SQL event backends (SQLite, DuckDB): the `WHERE`
//! conditions of an [`EventFilter`], the queries built on them, and the
//! encoding of the columns both store the same way.
//!
//! Both backends have an `events` table (`project_id`, `event_id` as 16
//! bytes, `issue_id`, `timestamp` in microseconds, the payload, ...); they
//! differ in where the tags are, which [`TagLayout`] names: SQLite keeps
//! them as a JSON array of pairs on the event and one `event_tags` row each
//! (`project_id`, `event_id`, `issue_id`, `timestamp`, `key`, `value`) for
//! its indexes; DuckDB keeps them as parallel `tag_keys` and `tag_values`
//! lists on the event row, so that a batch is appended as one table's
//! columns.

use std::fmt::Write as _;

use sentry_core::protocol::Timestamp;
use sentry_core::store::{
    EventCounts, EventCursor, EventFilter, SeriesBucket, StoreError, StoreErrorKind, StoredEvent,
    TagFacet, TagValueCount,
};
use sentry_core::{EventId, GroupingHash, IssueId, ProjectId};

/// Where a backend keeps the tags that filters, counts and facets read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TagLayout {
    /// `events.tags` (JSON) and one `event_tags` row per tag (SQLite).
    Rows,
    /// `events.tag_keys` and `events.tag_values`, parallel lists in the
    /// event's order (DuckDB).
    // Only the DuckDB backend files events this way.
    #[cfg_attr(not(feature = "duckdb"), allow(dead_code))]
    Lists,
}

impl TagLayout {
    /// The columns of an event, as [`EventColumns`] reads them, on the
    /// alias `e`: eight, then the tags (one column or two).
    pub(crate) fn event_columns(self) -> &'static str {
        match self {
            Self::Rows => {
                "e.project_id, e.event_id, e.issue_id, e.timestamp, e.received, e.hash, \
                 e.grouping_config, e.payload, e.tags"
            }
            Self::Lists => {
                "e.project_id, e.event_id, e.issue_id, e.timestamp, e.received, e.hash, \
                 e.grouping_config, e.payload, e.tag_keys, e.tag_values"
            }
        }
    }

    /// The tables that hold rows of an event, the event's own last.
    pub(crate) fn tables(self) -> &'static [&'static str] {
        match self {
            Self::Rows => &["event_tags", "events"],
            Self::Lists => &["events"],
        }
    }
}

/// The value of a tag on `events` aliased `alias` in the [`TagLayout::Lists`]
/// layout (`NULL` without the tag), the key given as SQL text; a key is
/// there once (see [`StoredEvent::tags`]), else the first counts.
fn list_tag_value(alias: &str, key: &str) -> String {
    format!("list_extract({alias}.tag_values, list_position({alias}.tag_keys, {key}))")
}

/// A bound parameter.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum SqlValue {
    /// An integer.
    Int(i64),
    /// A string.
    Text(String),
    /// Bytes.
    Blob(Vec<u8>),
}

/// A SQL fragment with its `?` parameters, in order.
#[derive(Debug, Default, Clone, PartialEq)]
pub(crate) struct Sql {
    pub(crate) text: String,
    pub(crate) params: Vec<SqlValue>,
}

impl Sql {
    /// Appends text.
    pub(crate) fn push(&mut self, text: &str) {
        self.text.push_str(text);
    }

    /// Appends a `?` bound to a value.
    pub(crate) fn bind(&mut self, value: SqlValue) {
        self.text.push('?');
        self.params.push(value);
    }

    /// Appends `(?, ?, ...)` bound to values.
    pub(crate) fn bind_list(&mut self, values: impl IntoIterator<Item = SqlValue>) {
        self.text.push('(');
        for (index, value) in values.into_iter().enumerate() {
            if index > 0 {
                self.text.push_str(", ");
            }
            self.bind(value);
        }
        self.text.push(')');
    }

    /// Appends another fragment and its parameters.
    fn extend(&mut self, other: Sql) {
        self.text.push_str(&other.text);
        self.params.extend(other.params);
    }
}

fn corrupt(error: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> StoreError {
    StoreError::new(StoreErrorKind::Corrupt, error)
}

/// A project id as the signed integer the SQL engines store.
pub(crate) fn project_param(project_id: ProjectId) -> Result<i64, StoreError> {
    i64::try_from(project_id.0).map_err(corrupt)
}

/// Reads a stored timestamp in microseconds.
pub(crate) fn timestamp_from_micros(micros: i64) -> Result<Timestamp, StoreError> {
    Timestamp::from_unix_micros(micros).ok_or_else(|| corrupt("timestamp out of range"))
}

/// Encodes tags as a JSON array of pairs, which keeps their order.
pub(crate) fn encode_tags(tags: &[(String, String)]) -> String {
    serde_json::to_string(tags).unwrap_or_else(|_| "[]".to_owned())
}

/// Decodes tags stored by [`encode_tags`].
pub(crate) fn decode_tags(json: &str) -> Result<Vec<(String, String)>, StoreError> {
    serde_json::from_str(json).map_err(corrupt)
}

/// An event as the SQL backends store it: its columns, with the payload
/// lz4-compressed (size prepended).
pub(crate) struct EventRow {
    pub(crate) project_id: i64,
    pub(crate) event_id: [u8; 16],
    pub(crate) issue_id: i64,
    pub(crate) timestamp: i64,
    pub(crate) received: i64,
    pub(crate) hash: String,
    pub(crate) grouping_config: String,
    pub(crate) payload: Vec<u8>,
    pub(crate) tags: Vec<(String, String)>,
}

impl EventRow {
    /// Encodes an event.
    pub(crate) fn new(event: &StoredEvent) -> Result<Self, StoreError> {
        Ok(Self {
            project_id: project_param(event.project_id)?,
            event_id: *event.event_id.as_bytes(),
            issue_id: event.issue_id.0,
            timestamp: event.timestamp.as_unix_micros(),
            received: event.received.as_unix_micros(),
            hash: event.hash.as_str().to_owned(),
            grouping_config: event.grouping_config.clone(),
            payload: lz4_flex::compress_prepend_size(&event.payload),
            tags: event.tags.clone(),
        })
    }
}

/// The stored columns of an event, as read.
pub(crate) struct EventColumns {
    pub(crate) project_id: i64,
    pub(crate) event_id: Vec<u8>,
    pub(crate) issue_id: i64,
    pub(crate) timestamp: i64,
    pub(crate) received: i64,
    pub(crate) hash: String,
    pub(crate) grouping_config: String,
    pub(crate) payload: Vec<u8>,
    pub(crate) tags: Vec<(String, String)>,
}

/// The events of a batch, each once: the first copy of an id wins.
pub(crate) fn distinct_events(events: &[StoredEvent]) -> Vec<&StoredEvent> {
    let mut seen = std::collections::HashSet::new();
    events
        .iter()
        .filter(|event| seen.insert((event.project_id, event.event_id)))
        .collect()
}

/// Decodes an event stored as an [`EventRow`].
pub(crate) fn stored_event(columns: EventColumns) -> Result<StoredEvent, StoreError> {
    let event_id: [u8; 16] = columns
        .event_id
        .as_slice()
        .try_into()
        .map_err(|_| corrupt("event id is not 16 bytes"))?;
    Ok(StoredEvent {
        project_id: ProjectId(u64::try_from(columns.project_id).map_err(corrupt)?),
        event_id: EventId::from_bytes(event_id),
        issue_id: IssueId(columns.issue_id),
        timestamp: timestamp_from_micros(columns.timestamp)?,
        received: timestamp_from_micros(columns.received)?,
        hash: GroupingHash::from_hex(columns.hash),
        grouping_config: columns.grouping_config,
        tags: columns.tags,
        payload: lz4_flex::decompress_size_prepended(&columns.payload).map_err(corrupt)?,
    })
}

/// Reads a row of [`event_series`].
pub(crate) fn series_bucket(start: i64, events: i64) -> Result<SeriesBucket, StoreError> {
    Ok(SeriesBucket {
        start: timestamp_from_micros(start)?,
        events: u64::try_from(events).map_err(corrupt)?,
    })
}

/// The conditions of a filter on a table aliased `alias`: `events`, or in
/// the [`TagLayout::Rows`] layout also `event_tags`.
pub(crate) fn conditions(
    filter: &EventFilter,
    alias: &str,
    layout: TagLayout,
) -> Result<Sql, StoreError> {
    let mut sql = Sql::default();
    if filter.project_ids.is_empty() {
        sql.push("1 = 0");
        return Ok(sql);
    }
    // With issues given, the unary plus keeps SQLite from picking a
    // project index over the (far narrower) issue index.
    let plus = if filter.issue_ids.is_empty() { "" } else { "+" };
    let _ = write!(sql.text, "{plus}{alias}.project_id IN ");
    sql.bind_list(
        filter
            .project_ids
            .iter()
            .map(|id| project_param(*id).map(SqlValue::Int))
            .collect::<Result<Vec<_>, _>>()?,
    );
    if !filter.issue_ids.is_empty() {
        let _ = write!(sql.text, " AND {alias}.issue_id IN ");
        sql.bind_list(filter.issue_ids.iter().map(|id| SqlValue::Int(id.0)));
    }
    if let Some(start) = filter.start {
        let _ = write!(sql.text, " AND {alias}.timestamp >= ");
        sql.bind(SqlValue::Int(start.as_unix_micros()));
    }
    if let Some(end) = filter.end {
        let _ = write!(sql.text, " AND {alias}.timestamp < ");
        sql.bind(SqlValue::Int(end.as_unix_micros()));
    }
    for tag in &filter.tags {
        let not = if tag.negated { "NOT " } else { "" };
        match layout {
            TagLayout::Rows => {
                let _ = write!(
                    sql.text,
                    " AND {not}EXISTS (SELECT 1 FROM event_tags f WHERE f.project_id = \
                     {alias}.project_id AND f.event_id = {alias}.event_id AND f.key = "
                );
                sql.bind(SqlValue::Text(tag.key.clone()));
                if let Some(value) = &tag.value {
                    sql.push(" AND f.value = ");
                    sql.bind(SqlValue::Text(value.clone()));
                }
                sql.push(")");
            }
            TagLayout::Lists => match &tag.value {
                Some(value) => {
                    // An event without the tag compares as NULL: false, so
                    // that the negation holds for it.
                    let found = list_tag_value(alias, "?");
                    let _ = write!(sql.text, " AND {not}coalesce({found} = ");
                    sql.params.push(SqlValue::Text(tag.key.clone()));
                    sql.bind(SqlValue::Text(value.clone()));
                    sql.push(", false)");
                }
                None => {
                    let _ = write!(sql.text, " AND {not}list_contains({alias}.tag_keys, ");
                    sql.bind(SqlValue::Text(tag.key.clone()));
                    sql.push(")");
                }
            },
        }
    }
    Ok(sql)
}

/// `SELECT {columns} FROM events e WHERE <filter> AND <after cursor>
/// ORDER BY timestamp DESC, event_id DESC LIMIT ?`, asking one row more
/// than `limit` to learn whether more follow.
pub(crate) fn list_events(
    layout: TagLayout,
    filter: &EventFilter,
    after: Option<EventCursor>,
    limit: u64,
) -> Result<Sql, StoreError> {
    let mut sql = Sql::default();
    let _ = write!(
        sql.text,
        "SELECT {} FROM events e WHERE ",
        layout.event_columns()
    );
    sql.extend(conditions(filter, "e", layout)?);
    if let Some(cursor) = after {
        let micros = cursor.timestamp.as_unix_micros();
        sql.push(" AND (e.timestamp < ");
        sql.bind(SqlValue::Int(micros));
        sql.push(" OR (e.timestamp = ");
        sql.bind(SqlValue::Int(micros));
        sql.push(" AND e.event_id < ");
        sql.bind(SqlValue::Blob(cursor.event_id.as_bytes().to_vec()));
        sql.push("))");
    }
    sql.push(" ORDER BY e.timestamp DESC, e.event_id DESC LIMIT ");
    sql.bind(SqlValue::Int(
        i64::try_from(limit.saturating_add(1)).unwrap_or(i64::MAX),
    ));
    Ok(sql)
}

/// One row: the number of events, the oldest and newest timestamps
/// (`NULL` when none), and the number of distinct `user` tag values.
pub(crate) fn count_events(filter: &EventFilter, layout: TagLayout) -> Result<Sql, StoreError> {
    let mut sql = Sql::default();
    match layout {
        TagLayout::Rows => {
            sql.push("SELECT ");
            for aggregate in ["count(*)", "min(e.timestamp)", "max(e.timestamp)"] {
                let _ = write!(sql.text, "(SELECT {aggregate} FROM events e WHERE ");
                sql.extend(conditions(filter, "e", layout)?);
                sql.push("), ");
            }
            sql.push("(SELECT count(DISTINCT t.value) FROM event_tags t WHERE t.key = 'user' AND ");
            sql.extend(conditions(filter, "t", layout)?);
            sql.push(")");
        }
        TagLayout::Lists => {
            let _ = write!(
                sql.text,
                "SELECT count(*), min(e.timestamp), max(e.timestamp), count(DISTINCT {}) \
                 FROM events e WHERE ",
                list_tag_value("e", "'user'")
            );
            sql.extend(conditions(filter, "e", layout)?);
        }
    }
    Ok(sql)
}

/// `head`, the conditions of a filter on `alias`, then `tail`.
fn filtered(
    head: &str,
    filter: &EventFilter,
    alias: &str,
    layout: TagLayout,
    tail: &str,
) -> Result<Sql, StoreError> {
    let mut sql = Sql::default();
    sql.push(head);
    sql.extend(conditions(filter, alias, layout)?);
    sql.push(tail);
    Ok(sql)
}

/// Rows of issue id, event count, oldest and newest timestamp.
pub(crate) fn count_by_issue(filter: &EventFilter, layout: TagLayout) -> Result<Sql, StoreError> {
    filtered(
        "SELECT e.issue_id, count(*), min(e.timestamp), max(e.timestamp) FROM events e WHERE ",
        filter,
        "e",
        layout,
        " GROUP BY e.issue_id",
    )
}

/// Rows of issue id and distinct `user` tag values.
pub(crate) fn users_by_issue(filter: &EventFilter, layout: TagLayout) -> Result<Sql, StoreError> {
    match layout {
        TagLayout::Rows => filtered(
            "SELECT t.issue_id, count(DISTINCT t.value) FROM event_tags t \
             WHERE t.key = 'user' AND ",
            filter,
            "t",
            layout,
            " GROUP BY t.issue_id",
        ),
        TagLayout::Lists => {
            let user = list_tag_value("e", "'user'");
            filtered(
                &format!(
                    "SELECT e.issue_id, count(DISTINCT {user}) FROM events e \
                     WHERE {user} IS NOT NULL AND "
                ),
                filter,
                "e",
                layout,
                " GROUP BY e.issue_id",
            )
        }
    }
}

/// Rows of bucket start (microseconds, rounded down, also before 1970)
/// and event count, oldest first.
pub(crate) fn event_series(
    filter: &EventFilter,
    layout: TagLayout,
    interval_seconds: u64,
) -> Result<Sql, StoreError> {
    // Longer intervals than about 285,000 years put everything in one bucket anyway.
    let seconds = i64::try_from(interval_seconds.clamp(1, 9_000_000_000_000)).unwrap_or(1);
    let micros = seconds * 1_000_000;
    filtered(
        &format!(
            "SELECT e.timestamp - (((e.timestamp % {micros}) + {micros}) % {micros}) AS bucket, \
             count(*) FROM events e WHERE "
        ),
        filter,
        "e",
        layout,
        " GROUP BY bucket ORDER BY bucket",
    )
}

/// Rows of key, value, count, oldest and newest timestamp, the key's total
/// and its number of distinct values, for the `top` most frequent values
/// of each key.
pub(crate) fn tag_facets(
    filter: &EventFilter,
    layout: TagLayout,
    keys: &[String],
    top: u64,
) -> Result<Sql, StoreError> {
    let mut sql = Sql::default();
    sql.push(
        "SELECT key, value, n, first_seen, last_seen, total, distinct_values FROM (\
         SELECT key, value, n, first_seen, last_seen, \
         sum(n) OVER (PARTITION BY key) AS total, \
         count(*) OVER (PARTITION BY key) AS distinct_values, \
         row_number() OVER (PARTITION BY key ORDER BY n DESC, value ASC) AS rank \
         FROM (SELECT t.key AS key, t.value AS value, count(*) AS n, \
         min(t.timestamp) AS first_seen, max(t.timestamp) AS last_seen FROM ",
    );
    match layout {
        TagLayout::Rows => {
            sql.push("event_tags t WHERE ");
            sql.extend(conditions(filter, "t", layout)?);
        }
        TagLayout::Lists => {
            // Several lists unnested in one select are read in parallel.
            sql.push(
                "(SELECT unnest(e.tag_keys) AS key, unnest(e.tag_values) AS value, \
                 e.timestamp AS timestamp FROM events e WHERE ",
            );
            sql.extend(conditions(filter, "e", layout)?);
            sql.push(") t WHERE true");
        }
    }
    if !keys.is_empty() {
        sql.push(" AND t.key IN ");
        sql.bind_list(keys.iter().map(|key| SqlValue::Text(key.clone())));
    }
    sql.push(" GROUP BY t.key, t.value) grouped) ranked WHERE rank <= ");
    sql.bind(SqlValue::Int(i64::try_from(top).unwrap_or(i64::MAX)));
    Ok(sql)
}

/// The newest event of a project beyond the newest `keep`: one row of
/// timestamp and event id, or none when the project has at most `keep`.
pub(crate) const TRIM_CUTOFF: &str = "SELECT timestamp, event_id FROM events WHERE project_id = ? \
     ORDER BY timestamp DESC, event_id DESC LIMIT 1 OFFSET ?";

/// Deletes from `table` (one of [`TagLayout::tables`]) a project's rows at
/// or before a cutoff of timestamp and event id.
pub(crate) fn delete_through(table: &str) -> String {
    format!(
        "DELETE FROM {table} WHERE project_id = ? AND (timestamp < ? OR (timestamp = ? AND event_id <= ?))"
    )
}

/// Deletes from `table` (one of [`TagLayout::tables`]) a project's rows
/// older than a time.
pub(crate) fn delete_before(table: &str) -> String {
    format!("DELETE FROM {table} WHERE project_id = ? AND timestamp < ?")
}

/// One row of [`tag_facets`].
pub(crate) struct FacetRow {
    pub(crate) key: String,
    pub(crate) value: String,
    pub(crate) count: i64,
    pub(crate) first_seen: i64,
    pub(crate) last_seen: i64,
    pub(crate) total: i64,
    pub(crate) distinct: i64,
}

/// Gathers facet rows into facets: keys by total (descending) then key,
/// values by count (descending) then value.
pub(crate) fn gather_facets(rows: Vec<FacetRow>) -> Result<Vec<TagFacet>, StoreError> {
    let mut facets: Vec<TagFacet> = Vec::new();
    for row in rows {
        let value = TagValueCount {
            value: row.value,
            count: u64::try_from(row.count).map_err(corrupt)?,
            first_seen: timestamp_from_micros(row.first_seen)?,
            last_seen: timestamp_from_micros(row.last_seen)?,
        };
        match facets.iter_mut().find(|facet| facet.key == row.key) {
            Some(facet) => facet.top.push(value),
            None => facets.push(TagFacet {
                key: row.key,
                total: u64::try_from(row.total).map_err(corrupt)?,
                distinct: u64::try_from(row.distinct).map_err(corrupt)?,
                top: vec![value],
            }),
        }
    }
    for facet in &mut facets {
        facet
            .top
            .sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.value.cmp(&b.value)));
    }
    facets.sort_by(|a, b| b.total.cmp(&a.total).then_with(|| a.key.cmp(&b.key)));
    Ok(facets)
}

/// Reads the row of [`count_events`].
pub(crate) fn event_counts(
    events: i64,
    first: Option<i64>,
    last: Option<i64>,
    users: i64,
) -> Result<EventCounts, StoreError> {
    Ok(EventCounts {
        events: u64::try_from(events).map_err(corrupt)?,
        users: u64::try_from(users).map_err(corrupt)?,
        first_seen: first.map(timestamp_from_micros).transpose()?,
        last_seen: last.map(timestamp_from_micros).transpose()?,
    })
}

#[cfg(test)]
mod tests {
    use sentry_core::store::TagFilter;

    use super::*;

    #[test]
    fn conditions_bind_every_value() {
        let filter = EventFilter {
            project_ids: vec![ProjectId(1), ProjectId(2)],
            issue_ids: vec![IssueId(7)],
            start: Timestamp::from_unix_micros(10),
            end: None,
            tags: vec![TagFilter {
                key: "k'".to_owned(),
                value: Some("v\"".to_owned()),
                negated: true,
            }],
        };
        let sql = conditions(&filter, "e", TagLayout::Rows).unwrap();
        assert_eq!(
            sql.text,
            "+e.project_id IN (?, ?) AND e.issue_id IN (?) AND e.timestamp >= ? AND NOT EXISTS \
             (SELECT 1 FROM event_tags f WHERE f.project_id = e.project_id AND f.event_id = \
             e.event_id AND f.key = ? AND f.value = ?)"
        );
        assert_eq!(sql.params.len(), 6);
        assert_eq!(sql.params[4], SqlValue::Text("k'".to_owned()));
    }

    #[test]
    fn list_conditions_bind_key_then_value() {
        let filter = EventFilter {
            tags: vec![TagFilter {
                key: "k".to_owned(),
                value: Some("v".to_owned()),
                negated: true,
            }],
            ..EventFilter::projects([ProjectId(1)])
        };
        let sql = conditions(&filter, "e", TagLayout::Lists).unwrap();
        assert_eq!(
            sql.text,
            "e.project_id IN (?) AND NOT coalesce(list_extract(e.tag_values, \
             list_position(e.tag_keys, ?)) = ?, false)"
        );
        assert_eq!(
            sql.params[1..],
            [
                SqlValue::Text("k".to_owned()),
                SqlValue::Text("v".to_owned())
            ]
        );
    }

    #[test]
    fn no_project_matches_nothing() {
        assert_eq!(
            conditions(&EventFilter::default(), "e", TagLayout::Lists)
                .unwrap()
                .text,
            "1 = 0"
        );
    }

    #[test]
    fn tags_round_trip_in_order() {
        let tags = vec![
            ("b".to_owned(), "2".to_owned()),
            ("a".to_owned(), "\"1\"".to_owned()),
        ];
        assert_eq!(decode_tags(&encode_tags(&tags)).unwrap(), tags);
        assert!(decode_tags("{").is_err());
    }
}
