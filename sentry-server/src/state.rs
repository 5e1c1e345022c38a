//! What every request handler can reach.

use std::collections::HashSet;
use std::sync::Arc;

use ipnet::IpNet;
use sentry_core::envelope::ItemType;
use sentry_store::{AnyBlobStore, AnyEventStore, AnyMetadataStore};

use crate::alerts::Alerts;
use crate::config::IngestLimits;
use crate::grouping_configs::GroupingConfigs;
use crate::ingest::memory::MemoryBudget;
use crate::ingest::origins::OriginConfigs;
use crate::ingest::rate_limits::RateLimiter;
use crate::ingest::scrubbing::ScrubbingConfigs;
use crate::outcomes::Outcomes;
use crate::spool::Spool;
use crate::symbolication::debug_files::DebugFileCaches;
use crate::symbolication::sourcemaps::SourceMaps;

/// Shared, cheaply cloned server state.
#[derive(Clone)]
pub struct AppState {
    /// Organizations, projects, keys, tokens and issues.
    pub metadata: AnyMetadataStore,
    /// Event payloads.
    pub events: AnyEventStore,
    /// Attachment content, by checksum.
    pub blobs: AnyBlobStore,
    /// Where accepted requests wait for processing.
    pub spool: Spool,
    /// Ingest size limits.
    pub limits: IngestLimits,
    /// The memory request bodies may hold at once.
    pub memory: MemoryBudget,
    /// Item types stored as they came instead of dropped.
    pub store_items: Arc<HashSet<ItemType>>,
    /// Each project's grouping config.
    pub grouping: Arc<GroupingConfigs>,
    /// Each project's data scrubbing settings.
    pub scrubbing: Arc<ScrubbingConfigs>,
    /// Each project's allowed origins.
    pub origins: Arc<OriginConfigs>,
    /// Outcome counts not yet written to the store.
    pub outcomes: Arc<Outcomes>,
    /// Each project's and key's rate limits.
    pub rate_limits: Arc<RateLimiter>,
    /// The lookup caches of source maps.
    pub source_maps: Arc<SourceMaps>,
    /// The caches built from debug files (native and ProGuard).
    pub debug_files: Arc<DebugFileCaches>,
    /// Where stored events are signalled for alert rules.
    pub alerts: Alerts,
    /// The URL clients reach this server at, without a trailing slash; used
    /// in DSNs, permalinks and pagination links.
    pub public_url: String,
    /// The proxies whose `X-Forwarded-For` names the client.
    pub trusted_proxies: Arc<[IpNet]>,
}
