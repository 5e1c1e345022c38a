//! A batch of events as one Arrow record batch in the column order of the
//! `events` table, so that the Appender takes each column whole instead of
//! one C call per value.

use std::collections::HashSet;
use std::sync::Arc;

use duckdb::arrow::array::{
    ArrayRef, BinaryBuilder, BooleanArray, Int64Array, ListBuilder, StringBuilder,
};
use duckdb::arrow::compute::filter_record_batch;
use duckdb::arrow::error::ArrowError;
use duckdb::arrow::record_batch::RecordBatch;
use sentry_core::store::{StoreError, StoreErrorKind, StoredEvent};

use crate::event_sql::project_param;

/// A project and event id, as stored.
pub(super) type EventKey = (i64, [u8; 16]);

/// Events encoded for the Appender, with the key of each row.
pub(super) struct EventBatch {
    /// The columns, payloads lz4-compressed (size prepended).
    pub(super) columns: RecordBatch,
    /// The key of each row, in order.
    pub(super) keys: Vec<EventKey>,
}

impl EventBatch {
    /// Encodes events.
    ///
    /// # Errors
    ///
    /// Fails for a project id beyond the signed range the column holds.
    pub(super) fn new(events: &[&StoredEvent]) -> Result<Self, StoreError> {
        let count = events.len();
        let mut keys = Vec::with_capacity(count);
        let mut event_ids = BinaryBuilder::with_capacity(count, count * 16);
        let mut hashes = StringBuilder::with_capacity(count, count * 32);
        let mut configs = StringBuilder::with_capacity(count, count * 16);
        let mut payloads = BinaryBuilder::with_capacity(count, count * 1024);
        let mut tag_keys = ListBuilder::with_capacity(StringBuilder::new(), count);
        let mut tag_values = ListBuilder::with_capacity(StringBuilder::new(), count);
        for event in events {
            let event_id = *event.event_id.as_bytes();
            keys.push((project_param(event.project_id)?, event_id));
            event_ids.append_value(event_id);
            hashes.append_value(event.hash.as_str());
            configs.append_value(&event.grouping_config);
            payloads.append_value(lz4_flex::compress_prepend_size(&event.payload));
            for (key, value) in &event.tags {
                tag_keys.values().append_value(key);
                tag_values.values().append_value(value);
            }
            tag_keys.append(true);
            tag_values.append(true);
        }
        let integers = |value: fn(&StoredEvent) -> i64| -> ArrayRef {
            Arc::new(Int64Array::from_iter_values(
                events.iter().map(|event| value(event)),
            ))
        };
        let project_ids: ArrayRef =
            Arc::new(Int64Array::from_iter_values(keys.iter().map(|key| key.0)));
        let columns = RecordBatch::try_from_iter([
            ("project_id", project_ids),
            ("event_id", Arc::new(event_ids.finish()) as ArrayRef),
            ("issue_id", integers(|event| event.issue_id.0)),
            (
                "timestamp",
                integers(|event| event.timestamp.as_unix_micros()),
            ),
            (
                "received",
                integers(|event| event.received.as_unix_micros()),
            ),
            ("hash", Arc::new(hashes.finish())),
            ("grouping_config", Arc::new(configs.finish())),
            ("payload", Arc::new(payloads.finish())),
            ("tag_keys", Arc::new(tag_keys.finish())),
            ("tag_values", Arc::new(tag_values.finish())),
        ])
        .map_err(arrow_failure)?;
        Ok(Self { columns, keys })
    }

    /// The number of events.
    pub(super) fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether it holds no event.
    pub(super) fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// The events whose key is not among `stored`.
    pub(super) fn without(&self, stored: &HashSet<EventKey>) -> Result<Self, StoreError> {
        let keep: BooleanArray = self
            .keys
            .iter()
            .map(|key| Some(!stored.contains(key)))
            .collect();
        Ok(Self {
            columns: filter_record_batch(&self.columns, &keep).map_err(arrow_failure)?,
            keys: self
                .keys
                .iter()
                .filter(|key| !stored.contains(*key))
                .copied()
                .collect(),
        })
    }
}

/// Arrow refuses only inconsistent arrays, which the code above never builds.
fn arrow_failure(error: ArrowError) -> StoreError {
    StoreError::new(StoreErrorKind::Unavailable, error)
}
