//! The server as a value: its stores opened, its background tasks
//! started (the worker behind the spool, alert evaluation, outcome
//! counts, retention, cron monitor checks, the end of timed ignores) and
//! its routes, for `serve` or for an application that mounts them in its
//! own axum router (`examples/mounted.rs`).

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use axum::Router;
use sentry_store::{AnyBlobStore, AnyEventStore, AnyMetadataStore};
use tokio::task::JoinHandle;

use crate::alerts::Alerts;
use crate::alerts::delivery::Deliverer;
use crate::config::{CleanupConfig, KeptItemType, ServeConfig, StoreConfig, redact_password};
use crate::grouping_configs::GroupingConfigs;
use crate::ingest::memory::MemoryBudget;
use crate::ingest::origins::OriginConfigs;
use crate::ingest::rate_limits::RateLimiter;
use crate::ingest::scrubbing::ScrubbingConfigs;
use crate::spool::Spool;
use crate::state::AppState;
use crate::symbolication::debug_files::DebugFileCaches;
use crate::symbolication::disk_cache::DiskCache;
use crate::symbolication::sourcemaps::SourceMaps;

/// How often outcome counts are written to the store.
const OUTCOME_FLUSH_INTERVAL: Duration = Duration::from_secs(1);

/// Opens the metadata store a configuration names.
pub(crate) async fn open_metadata(stores: &StoreConfig) -> anyhow::Result<AnyMetadataStore> {
    sentry_store::open_metadata(&stores.metadata_url)
        .await
        .with_context(|| {
            format!(
                "opening metadata store {}",
                redact_password(&stores.metadata_url)
            )
        })
}

/// The three stores, open.
pub(crate) struct Stores {
    pub(crate) metadata: AnyMetadataStore,
    pub(crate) events: AnyEventStore,
    pub(crate) blobs: AnyBlobStore,
}

/// Opens the three stores a configuration names.
pub(crate) async fn open_stores(stores: &StoreConfig) -> anyhow::Result<Stores> {
    let metadata = open_metadata(stores).await?;
    let events = sentry_store::open_events(&stores.events_url)
        .await
        .with_context(|| {
            format!(
                "opening event store {}",
                redact_password(&stores.events_url)
            )
        })?;
    let blobs = sentry_store::open_blobs(&stores.blobs_url)
        .await
        .with_context(|| format!("opening blob store {}", redact_password(&stores.blobs_url)))?;
    Ok(Stores {
        metadata,
        events,
        blobs,
    })
}

/// A running server: its state and background tasks. Serve
/// [`Server::router`] with `into_make_service_with_connect_info::<SocketAddr>()`
/// (ingest reads the client's address), then [`Server::stop`].
pub struct Server {
    state: AppState,
    tasks: Vec<JoinHandle<()>>,
}

impl Server {
    /// Opens the stores and the spool and starts the background tasks.
    /// `public_url` is where clients reach the routes, prefix included
    /// when they are mounted under one (DSNs and links are made from it).
    ///
    /// # Errors
    ///
    /// When a store or the spool cannot be opened, or alert delivery
    /// cannot be set up.
    pub async fn start(
        stores: &StoreConfig,
        config: &ServeConfig,
        cleanup: CleanupConfig,
        public_url: &str,
    ) -> anyhow::Result<Self> {
        let Stores {
            metadata,
            events,
            blobs,
        } = open_stores(stores).await?;
        let (spool, spooled) = Spool::open(&config.spool)
            .with_context(|| format!("opening the spool in {}", config.spool.dir.display()))?;
        let public_url = public_url.trim_end_matches('/').to_owned();
        let deliverer = Deliverer::new(&config.alerts).context("preparing alert delivery")?;
        let (alerts, alert_engine) = Alerts::start(
            metadata.clone(),
            events.clone(),
            Arc::new(deliverer),
            public_url.clone(),
        );
        let symbolication_disk = Arc::new(DiskCache::open(
            config.symbolication_cache_dir.clone(),
            config.limits.max_symbolication_cache_disk as u64,
        ));
        let state = AppState {
            metadata,
            events,
            blobs,
            spool,
            limits: config.limits,
            memory: MemoryBudget::new(config.limits.max_request_memory),
            store_items: Arc::new(
                config
                    .store_items
                    .iter()
                    .map(KeptItemType::item_type)
                    .collect(),
            ),
            grouping: Arc::new(GroupingConfigs::with_ttl(config.settings_ttl)),
            scrubbing: Arc::new(ScrubbingConfigs::with_ttl(config.settings_ttl)),
            origins: Arc::new(OriginConfigs::with_ttl(config.settings_ttl)),
            outcomes: Arc::default(),
            rate_limits: Arc::new(RateLimiter::with_ttl(config.settings_ttl)),
            source_maps: Arc::new(SourceMaps::new(
                config.limits.max_symbolication_cache_memory / 2,
                Arc::clone(&symbolication_disk),
            )),
            debug_files: Arc::new(DebugFileCaches::new(
                config.limits.max_symbolication_cache_memory / 2,
                symbolication_disk,
            )),
            alerts,
            public_url,
            trusted_proxies: Arc::from(config.trusted_proxies.as_slice()),
        };
        let mut tasks = vec![
            alert_engine,
            tokio::spawn(crate::metrics::run_upkeep()),
            tokio::spawn(crate::ingest::worker::run(state.clone(), spooled)),
            tokio::spawn(crate::outcomes::run_periodically(
                Arc::clone(&state.outcomes),
                state.metadata.clone(),
                OUTCOME_FLUSH_INTERVAL,
            )),
            tokio::spawn(crate::ignore_expiry::run_periodically(
                state.metadata.clone(),
                crate::ignore_expiry::EXPIRY_INTERVAL,
            )),
        ];
        if let Some(interval) = config.cleanup_interval {
            tasks.push(tokio::spawn(crate::cleanup::run_periodically(
                state.metadata.clone(),
                state.events.clone(),
                state.blobs.clone(),
                interval,
                cleanup,
            )));
        }
        if let Some(interval) = config.monitor_check_interval {
            tasks.push(tokio::spawn(crate::monitors::watch::run_periodically(
                state.clone(),
                interval,
            )));
        }
        Ok(Self { state, tasks })
    }

    /// The server's state, shared by its routes and tasks: the stores
    /// among others.
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Every route: ingest, the web API, the web UI, health and metrics.
    pub fn router(&self) -> Router {
        crate::app(self.state.clone())
    }

    /// Stops the background tasks and writes the last outcome counts.
    /// What the worker has not processed stays in the spool for the next
    /// start.
    pub async fn stop(self) {
        for task in &self.tasks {
            task.abort();
        }
        if let Err(error) = self.state.outcomes.flush(&self.state.metadata).await {
            tracing::warn!(%error, "cannot write the last outcome counts");
        }
    }
}
