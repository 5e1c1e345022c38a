//! [`EventStore`] for ClickHouse: every method is one or a few statements
//! built by [`super::sql`] and answered in `RowBinary`.

use std::collections::{HashMap, HashSet};

use sentry_core::protocol::Timestamp;
use sentry_core::store::{
    EventCounts, EventCursor, EventFilter, EventPick, EventStore, Issue, IssueCounts, Page,
    SeriesBucket, StoreError, StoredEvent, TagFacet, TagValueCount,
};
use sentry_core::{EventId, IssueId, ProjectId};

use super::ClickhouseStore;
use super::error::ChError;
use super::rowbinary::RowReader;
use super::sql::{after_cursor, event_id_literal, filter_conditions, join, string_literal};
use super::table::{EventLocation, micros};

/// The most microseconds a series bucket spans, so that bucket arithmetic
/// cannot overflow (about 146,000 years).
const MAX_INTERVAL_MICROS: i64 = 1 << 62;

/// Event counts, in [`read_counts`]'s order; users are the distinct values
/// of the `user` tag.
const COUNTS: &str = "toUInt64(count()), \
    toUInt64(uniqExactIf(tag_values[indexOf(tag_keys, 'user')], has(tag_keys, 'user'))), \
    toInt64(min(timestamp)), toInt64(max(timestamp))";

/// Reads the columns of [`COUNTS`].
fn read_counts(row: &mut RowReader<'_>) -> Result<EventCounts, ChError> {
    let events = row.u64()?;
    let users = row.u64()?;
    let first = row.i64()?;
    let last = row.i64()?;
    // Over no rows, min and max are 0 rather than NULL.
    if events == 0 {
        return Ok(EventCounts::default());
    }
    Ok(EventCounts {
        events,
        users,
        first_seen: Some(micros(first, "timestamp")?),
        last_seen: Some(micros(last, "timestamp")?),
    })
}

impl EventStore for ClickhouseStore {
    async fn insert_events(&self, events: &[StoredEvent]) -> Result<u64, StoreError> {
        if events.is_empty() {
            return Ok(0);
        }
        let inner = &self.inner;
        let _guard = inner.insert_lock.lock().await;
        let mut seen = HashSet::with_capacity(events.len());
        let unique: Vec<&StoredEvent> = events
            .iter()
            .filter(|event| seen.insert((event.project_id, event.event_id)))
            .collect();
        let existing = inner.existing_ids(&unique).await?;
        let new: Vec<&StoredEvent> = unique
            .into_iter()
            .filter(|event| !existing.contains(&(event.project_id, event.event_id)))
            .collect();
        if !new.is_empty() {
            inner.write(&new).await?;
        }
        Ok(new.len() as u64)
    }

    async fn stored_event_ids(
        &self,
        project_id: ProjectId,
        event_ids: &[EventId],
    ) -> Result<Vec<EventId>, StoreError> {
        // The id table only: an event whose id row is missing (see
        // `Inner::write`) reads as missing, and may be stored again.
        Ok(self.inner.stored_ids(project_id, event_ids).await?)
    }

    async fn event(
        &self,
        project_id: ProjectId,
        event_id: EventId,
    ) -> Result<Option<StoredEvent>, StoreError> {
        let inner = &self.inner;
        let by_id = format!(
            "project_id = {project} AND event_id = {id}",
            project = project_id.0,
            id = event_id_literal(&event_id),
        );
        let locations = inner.locate(project_id, event_id).await?;
        let condition = if locations.is_empty() {
            // Stored before the id table existed, or by an insert that
            // stopped before writing the id: read every partition.
            tracing::debug!(
                project_id = project_id.0,
                %event_id,
                "event id not in the id table; scanning the project"
            );
            by_id
        } else {
            // One place in the primary key and one partition (or a few,
            // for unmerged duplicates). No row there means the event was
            // deleted after its id was read, or is being deleted.
            format!(
                "{by_id} AND ({})",
                locations
                    .iter()
                    .map(EventLocation::condition)
                    .collect::<Vec<_>>()
                    .join(" OR ")
            )
        };
        let events = inner.events(&condition, "LIMIT 1").await?;
        Ok(events.into_iter().next())
    }

    async fn issue_event(
        &self,
        issue: &Issue,
        pick: EventPick,
    ) -> Result<Option<StoredEvent>, StoreError> {
        let whole = EventFilter::issue(issue.project_id, issue.id);
        // At the bound first: it names the partition and the range of the
        // primary key to read.
        let (order, bounded) = match pick {
            EventPick::Latest => (
                "DESC",
                EventFilter {
                    start: Some(issue.last_seen),
                    ..whole.clone()
                },
            ),
            EventPick::Oldest => (
                "ASC",
                EventFilter {
                    end: Timestamp::from_unix_micros(
                        issue.first_seen.as_unix_micros().saturating_add(1),
                    ),
                    ..whole.clone()
                },
            ),
        };
        let inner = &self.inner;
        for filter in [bounded, whole] {
            let Some(condition) = filter_conditions(&filter) else {
                return Ok(None);
            };
            let keys = inner.keys(&condition, order, 1).await?;
            if let Some(event) = inner.fetch(&keys).await?.into_iter().next() {
                return Ok(Some(event));
            }
        }
        Ok(None)
    }

    async fn list_events(
        &self,
        filter: &EventFilter,
        after: Option<EventCursor>,
        limit: u64,
    ) -> Result<Page<StoredEvent>, StoreError> {
        let Some(mut condition) = filter_conditions(filter) else {
            return Ok(Page {
                items: Vec::new(),
                has_more: false,
            });
        };
        if let Some(cursor) = after {
            condition = format!("{condition} AND {}", after_cursor(&cursor));
        }
        let inner = &self.inner;
        let mut keys = inner
            .keys(&condition, "DESC", limit.saturating_add(1))
            .await?;
        let has_more = keys.len() as u64 > limit;
        keys.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
        let items = inner.fetch(&keys).await?;
        Ok(Page { items, has_more })
    }

    async fn count_events(&self, filter: &EventFilter) -> Result<EventCounts, StoreError> {
        let Some(condition) = filter_conditions(filter) else {
            return Ok(EventCounts::default());
        };
        let inner = &self.inner;
        let counts = inner
            .rows(
                &format!(
                    "SELECT {COUNTS} FROM {events} WHERE {condition} FORMAT RowBinary",
                    events = inner.events
                ),
                read_counts,
            )
            .await?;
        Ok(counts.into_iter().next().unwrap_or_default())
    }

    async fn count_by_issue(&self, filter: &EventFilter) -> Result<Vec<IssueCounts>, StoreError> {
        let Some(condition) = filter_conditions(filter) else {
            return Ok(Vec::new());
        };
        let inner = &self.inner;
        let counts = inner
            .rows(
                &format!(
                    "SELECT issue_id, {COUNTS} FROM {events} WHERE {condition} \
                     GROUP BY issue_id FORMAT RowBinary",
                    events = inner.events
                ),
                |row| {
                    Ok(IssueCounts {
                        issue_id: IssueId(row.i64()?),
                        counts: read_counts(row)?,
                    })
                },
            )
            .await?;
        Ok(counts)
    }

    async fn event_series(
        &self,
        filter: &EventFilter,
        interval_seconds: u64,
    ) -> Result<Vec<SeriesBucket>, StoreError> {
        let Some(condition) = filter_conditions(filter) else {
            return Ok(Vec::new());
        };
        let interval = i64::try_from(interval_seconds.max(1))
            .unwrap_or(i64::MAX)
            .saturating_mul(1_000_000)
            .min(MAX_INTERVAL_MICROS);
        let inner = &self.inner;
        // intDiv truncates toward zero; subtracting one for a negative
        // remainder floors, so buckets stay aligned before 1970 too. The
        // divisor is cast: 18.16 types `Int64 % UInt32` as `Int32`, and
        // overflows.
        let buckets = inner
            .rows(
                &format!(
                    "SELECT toInt64(intDiv(timestamp, toInt64({interval})) \
                     - (timestamp % toInt64({interval}) < 0)) AS bucket, toUInt64(count()) \
                     FROM {events} WHERE {condition} \
                     GROUP BY bucket ORDER BY bucket FORMAT RowBinary",
                    events = inner.events
                ),
                |row| Ok((row.i64()?, row.u64()?)),
            )
            .await?;
        let series = buckets
            .into_iter()
            .map(|(bucket, events)| {
                let start = bucket
                    .checked_mul(interval)
                    .and_then(Timestamp::from_unix_micros)
                    .ok_or(ChError::Value {
                        column: "timestamp",
                    })?;
                Ok(SeriesBucket { start, events })
            })
            .collect::<Result<Vec<_>, ChError>>()?;
        Ok(series)
    }

    async fn tag_facets(
        &self,
        filter: &EventFilter,
        keys: &[String],
        top: u64,
    ) -> Result<Vec<TagFacet>, StoreError> {
        let Some(mut condition) = filter_conditions(filter) else {
            return Ok(Vec::new());
        };
        if !keys.is_empty() {
            condition = format!(
                "{condition} AND tag_key IN ({})",
                join(keys.iter().map(|key| string_literal(key)))
            );
        }
        let inner = &self.inner;
        let from = format!(
            "FROM {events} ARRAY JOIN tag_keys AS tag_key, tag_values AS tag_value \
             WHERE {condition}",
            events = inner.events
        );
        let totals = inner
            .rows(
                &format!(
                    "SELECT tag_key, toUInt64(count()), toUInt64(uniqExact(tag_value)) {from} \
                     GROUP BY tag_key FORMAT RowBinary"
                ),
                |row| Ok((row.string()?, row.u64()?, row.u64()?)),
            )
            .await?;
        let mut values: HashMap<String, Vec<TagValueCount>> = HashMap::new();
        if top > 0 && !totals.is_empty() {
            let rows = inner
                .rows(
                    &format!(
                        "SELECT tag_key, tag_value, toUInt64(count()) AS events, \
                         toInt64(min(timestamp)), toInt64(max(timestamp)) {from} \
                         GROUP BY tag_key, tag_value \
                         ORDER BY tag_key, events DESC, tag_value LIMIT {top} BY tag_key \
                         FORMAT RowBinary"
                    ),
                    |row| {
                        let key = row.string()?;
                        let value = TagValueCount {
                            value: row.string()?,
                            count: row.u64()?,
                            first_seen: micros(row.i64()?, "timestamp")?,
                            last_seen: micros(row.i64()?, "timestamp")?,
                        };
                        Ok((key, value))
                    },
                )
                .await?;
            for (key, value) in rows {
                values.entry(key).or_default().push(value);
            }
        }
        let mut facets: Vec<TagFacet> = totals
            .into_iter()
            .map(|(key, total, distinct)| {
                let mut top = values.remove(&key).unwrap_or_default();
                top.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.value.cmp(&b.value)));
                TagFacet {
                    key,
                    total,
                    distinct,
                    top,
                }
            })
            .collect();
        facets.sort_by(|a, b| b.total.cmp(&a.total).then_with(|| a.key.cmp(&b.key)));
        Ok(facets)
    }

    async fn delete_events_before(
        &self,
        project_id: ProjectId,
        before: Timestamp,
    ) -> Result<u64, StoreError> {
        let deleted = self
            .inner
            .delete_where(&format!(
                "project_id = {project} AND timestamp < {before}",
                project = project_id.0,
                before = before.as_unix_micros()
            ))
            .await?;
        if deleted > 0 {
            tracing::info!(project_id = project_id.0, deleted, "deleted old events");
        }
        Ok(deleted)
    }

    async fn trim_events(&self, project_id: ProjectId, keep: u64) -> Result<u64, StoreError> {
        let inner = &self.inner;
        let project = project_id.0;
        // The newest event that goes: the first after the `keep` newest.
        let first_gone = inner
            .rows(
                &format!(
                    "SELECT timestamp, event_id FROM {events} WHERE project_id = {project} \
                     ORDER BY timestamp DESC, event_id DESC LIMIT 1 BY event_id \
                     LIMIT {keep}, 1 FORMAT RowBinary",
                    events = inner.events
                ),
                |row| Ok((row.i64()?, EventId::from_bytes(row.fixed::<16>()?))),
            )
            .await?;
        let Some((timestamp, event_id)) = first_gone.into_iter().next() else {
            return Ok(0);
        };
        let deleted = inner
            .delete_where(&format!(
                "project_id = {project} AND (timestamp < {timestamp} OR \
                 (timestamp = {timestamp} AND event_id <= {id}))",
                id = event_id_literal(&event_id)
            ))
            .await?;
        if deleted > 0 {
            tracing::info!(project_id = project, deleted, keep, "trimmed events");
        }
        Ok(deleted)
    }
}
