//! What every request handler can reach.

use sentry_core::grouping::GroupingConfig;
use sentry_store::{AnyEventStore, AnyMetadataStore};

use crate::config::IngestLimits;

/// Shared, cheaply cloned server state.
#[derive(Clone)]
pub struct AppState {
    /// Organizations, projects, keys, tokens and issues.
    pub metadata: AnyMetadataStore,
    /// Event payloads.
    pub events: AnyEventStore,
    /// Ingest size limits.
    pub limits: IngestLimits,
    /// The grouping config applied to new events.
    pub grouping: GroupingConfig,
    /// The URL clients reach this server at, without a trailing slash; used
    /// in DSNs, permalinks and pagination links.
    pub public_url: String,
}
