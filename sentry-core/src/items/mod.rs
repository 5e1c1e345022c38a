//! The payloads of envelope items other than events, read into what the
//! stores keep: session updates and aggregates ([`sessions`]), client
//! reports ([`client_report`]), user feedback ([`feedback`]) and cron
//! check-ins ([`check_in`]); and the data category each item type is
//! counted in ([`data_category`]).

pub mod check_in;
pub mod client_report;
pub mod feedback;
pub mod sessions;

use crate::envelope::{Item, ItemType};

/// An item payload that cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum ItemError {
    /// The payload is not the JSON the item type calls for.
    #[error("invalid {item} payload: {source}")]
    Json {
        /// The item type.
        item: &'static str,
        /// What serde_json found.
        #[source]
        source: serde_json::Error,
    },
    /// A field the item must have is missing or empty.
    #[error("{item} without {field}")]
    Missing {
        /// The item type.
        item: &'static str,
        /// The field.
        field: &'static str,
    },
    /// A field holds a value the protocol does not allow.
    #[error("{item} with an invalid {field}")]
    Invalid {
        /// The item type.
        item: &'static str,
        /// The field.
        field: &'static str,
    },
}

impl ItemError {
    /// The outcome reason Sentry gives for the item being dropped.
    pub fn reason(&self) -> &'static str {
        match self {
            ItemError::Json { .. } => "invalid_json",
            ItemError::Missing { .. } | ItemError::Invalid { .. } => "invalid_data",
        }
    }
}

pub(crate) fn json<'a, T: serde::Deserialize<'a>>(
    item: &'static str,
    payload: &'a [u8],
) -> Result<T, ItemError> {
    serde_json::from_slice(payload).map_err(|source| ItemError::Json { item, source })
}

/// The data category Sentry counts an item type in (its outcomes and rate
/// limits), or `None` for items that are not counted (client reports,
/// form data) and types this crate does not know.
pub fn data_category(ty: &ItemType) -> Option<&'static str> {
    Some(match ty {
        ItemType::Event => "error",
        ItemType::Transaction => "transaction",
        ItemType::Attachment => "attachment",
        ItemType::Session | ItemType::Sessions => "session",
        ItemType::UserReport | ItemType::Feedback => "user_report_v2",
        ItemType::CheckIn => "monitor",
        ItemType::Log => "log_item",
        ItemType::Span => "span",
        ItemType::TraceMetric => "trace_metric",
        ItemType::Profile => "profile",
        ItemType::ProfileChunk => "profile_chunk",
        ItemType::ReplayEvent | ItemType::ReplayRecording | ItemType::ReplayVideo => "replay",
        ItemType::Security => "security",
        ItemType::ClientReport | ItemType::FormData | ItemType::Unknown(_) => return None,
    })
}

/// How many of its data category an item counts for: bytes for an
/// attachment, records for a container (`item_count`), else one.
pub fn quantity(item: &Item) -> u64 {
    match item.headers.ty {
        ItemType::Attachment => item.payload.len() as u64,
        _ => item.headers.item_count.unwrap_or(1).max(1),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn items_are_counted_in_sentrys_categories() {
        assert_eq!(data_category(&ItemType::Event), Some("error"));
        assert_eq!(data_category(&ItemType::Sessions), Some("session"));
        assert_eq!(data_category(&ItemType::Feedback), Some("user_report_v2"));
        assert_eq!(data_category(&ItemType::CheckIn), Some("monitor"));
        assert_eq!(data_category(&ItemType::ClientReport), None);
        assert_eq!(data_category(&ItemType::Unknown("future".to_owned())), None);
    }
}
