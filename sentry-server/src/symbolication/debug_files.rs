//! Finding the project's debug files (native debug files and ProGuard
//! mappings) by debug ID, and keeping the caches built from them.
//!
//! A debug ID names the project's best debug file for it (one with debug
//! information over one with only symbols, the newest first). Building a
//! cache (a SymCache, a ProGuard cache) means reading the file's blob and
//! parsing it, the slow part; caches are kept in memory by blob and debug
//! ID, within half of `max_symbolication_cache_memory` (the source maps'
//! caches have the other half), the least recently used going first. A
//! file that cannot be read is remembered as such; a debug ID without a
//! file is looked up again next time (its upload may come later).

use std::sync::Arc;

use quick_cache::Weighter;
use quick_cache::sync::Cache;
use sentry_core::ProjectId;
use sentry_core::store::{ArtifactStore, BlobChecksum, StoreError};

use super::disk_cache::DiskCache;
use super::read_blob;
use crate::state::AppState;

/// Counts where a cache came from: `memory`, `disk` or `built`.
pub(super) fn cache_metric(kind: &'static str, result: &'static str) {
    metrics::counter!("sentry_symbolication_cache_total", "kind" => kind, "result" => result)
        .increment(1);
}

/// A built cache, or why none could be built.
type Built = Result<Arc<[u8]>, String>;

/// A kind of cache built from debug files.
pub struct CacheKind {
    /// Its name, part of its key on disk.
    pub name: &'static str,
    /// Builds it from a debug file's content and the debug ID wanted.
    pub build: fn(&[u8], &str) -> Result<Vec<u8>, String>,
    /// Whether bytes read back from disk are such a cache.
    pub check: fn(&[u8]) -> bool,
}

/// What was found for a debug ID.
#[derive(Debug, Clone)]
pub enum Found {
    /// The cache of its debug file.
    Cache(Arc<[u8]>),
    /// The project has no debug file with this debug ID.
    Missing,
    /// Its debug file cannot be read.
    Unreadable(String),
}

#[derive(Clone)]
struct BytesWeighter;

/// A cache by the kind of cache, the debug file's blob and the debug ID
/// (a debug file may hold several objects).
type CacheKey = (&'static str, BlobChecksum, String);

impl Weighter<CacheKey, Built> for BytesWeighter {
    fn weight(&self, key: &CacheKey, value: &Built) -> u64 {
        let built = match value {
            Ok(cache) => cache.len(),
            Err(reason) => reason.len(),
        };
        (key.2.len() + 64 + built) as u64
    }
}

/// The caches built from debug files of all projects.
pub struct DebugFileCaches {
    built: Cache<CacheKey, Built, BytesWeighter>,
    disk: Arc<DiskCache>,
}

impl DebugFileCaches {
    /// Keeps up to `memory` bytes of caches in memory, and those built
    /// also in `disk`.
    pub fn new(memory: usize, disk: Arc<DiskCache>) -> Self {
        let items = (memory / (256 * 1024)).max(16);
        Self {
            built: Cache::with_weighter(items, memory as u64, BytesWeighter),
            disk,
        }
    }

    /// The cache of the project's debug file for `debug_id`, built with
    /// `build` unless kept.
    ///
    /// # Errors
    ///
    /// Fails when a store fails.
    pub async fn find(
        &self,
        state: &AppState,
        project_id: ProjectId,
        debug_id: &str,
        kind: &CacheKind,
    ) -> Result<Found, StoreError> {
        let Some(file) = state.metadata.find_debug_file(project_id, debug_id).await? else {
            return Ok(Found::Missing);
        };
        let key = (kind.name, file.blob, debug_id.to_owned());
        let built = match self.built.get(&key) {
            Some(built) => {
                cache_metric(kind.name, "memory");
                built
            }
            None => {
                let disk_key = format!("{}:{}:{debug_id}", kind.name, file.blob);
                let built = match self.disk.get(&disk_key).await {
                    Some(cache) if (kind.check)(&cache) => {
                        cache_metric(kind.name, "disk");
                        Ok(cache)
                    }
                    _ => {
                        cache_metric(kind.name, "built");
                        let Some(built) =
                            build_from_blob(state, &file.blob, debug_id, kind.build).await?
                        else {
                            return Ok(Found::Missing);
                        };
                        if let Ok(cache) = &built {
                            self.disk.put(&disk_key, Arc::clone(cache)).await;
                        }
                        built
                    }
                };
                self.built.insert(key, built.clone());
                built
            }
        };
        Ok(match built {
            Ok(cache) => Found::Cache(cache),
            Err(reason) => Found::Unreadable(reason),
        })
    }
}

/// Builds the cache of a debug file's blob; `None` when the blob is gone
/// or larger than `max_debug_file_size`.
async fn build_from_blob(
    state: &AppState,
    blob: &BlobChecksum,
    debug_id: &str,
    build: fn(&[u8], &str) -> Result<Vec<u8>, String>,
) -> Result<Option<Built>, StoreError> {
    let Some(bytes) = read_blob(state, blob, state.limits.max_debug_file_size).await? else {
        return Ok(None);
    };
    let debug_id = debug_id.to_owned();
    let built = tokio::task::spawn_blocking(move || build(&bytes, &debug_id).map(Arc::from))
        .await
        .unwrap_or_else(|_| Err("building the cache failed".to_owned()));
    if let Err(reason) = &built {
        tracing::info!(%reason, "a debug file cannot be used");
    }
    Ok(Some(built))
}
