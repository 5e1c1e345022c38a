//! Finding the debug files of an event's images in the project's uploads,
//! and keeping their symbolication caches.
//!
//! An image is found by its debug ID among the project's debug files
//! (one with debug information preferred over one with only symbols).
//! Building its SymCache means reading the file's blob and parsing it,
//! the slow part; the caches are kept in memory by blob and debug ID,
//! within half of `max_symbolication_cache_memory` (the source maps'
//! caches have the other half), the least recently used going first. A file
//! that cannot be read is remembered as such; an image without a debug
//! file is looked up again next time.

use std::collections::HashMap;
use std::sync::Arc;

use futures_util::StreamExt;
use quick_cache::Weighter;
use quick_cache::sync::Cache;
use sentry_core::ProjectId;
use sentry_core::store::{ArtifactStore, BlobChecksum, BlobStore, StoreError};
use sentry_core::symbolication::native::{ImageLookup, ImageRef, SymCacheModule, build_symcache};

use crate::state::AppState;

/// A built cache, or why none could be built.
type Built = Result<Arc<[u8]>, String>;

#[derive(Clone)]
struct BytesWeighter;

impl Weighter<(BlobChecksum, String), Built> for BytesWeighter {
    fn weight(&self, key: &(BlobChecksum, String), value: &Built) -> u64 {
        let built = match value {
            Ok(cache) => cache.len(),
            Err(reason) => reason.len(),
        };
        (key.1.len() + 64 + built) as u64
    }
}

/// The symbolication caches of debug files of all projects.
pub struct NativeSymbols {
    built: Cache<(BlobChecksum, String), Built, BytesWeighter>,
}

impl NativeSymbols {
    /// Keeps up to `memory` bytes of caches.
    pub fn new(memory: usize) -> Self {
        let items = (memory / (256 * 1024)).max(16);
        Self {
            built: Cache::with_weighter(items, memory as u64, BytesWeighter),
        }
    }

    /// Finds the cache of each image: `Missing` when the project has no
    /// debug file for it.
    ///
    /// # Errors
    ///
    /// Fails when a store fails.
    pub async fn resolve(
        &self,
        state: &AppState,
        project_id: ProjectId,
        images: &[ImageRef],
    ) -> Result<HashMap<String, ImageLookup>, StoreError> {
        let mut lookups = HashMap::with_capacity(images.len());
        for image in images {
            let Some(file) = state
                .metadata
                .find_debug_file(project_id, &image.debug_id)
                .await?
            else {
                lookups.insert(image.debug_id.clone(), ImageLookup::Missing);
                continue;
            };
            let key = (file.blob, image.debug_id.clone());
            let built = match self.built.get(&key) {
                Some(built) => built,
                None => {
                    let Some(built) = build(state, &file.blob, &image.debug_id).await? else {
                        lookups.insert(image.debug_id.clone(), ImageLookup::Missing);
                        continue;
                    };
                    self.built.insert(key, built.clone());
                    built
                }
            };
            let lookup = match built.map(SymCacheModule::from_cache) {
                Ok(Ok(module)) => ImageLookup::Found(module),
                Ok(Err(error)) => ImageLookup::Malformed(error.to_string()),
                Err(reason) => ImageLookup::Malformed(reason),
            };
            lookups.insert(image.debug_id.clone(), lookup);
        }
        Ok(lookups)
    }
}

/// Builds the cache of one object of a debug file; `None` when the blob is
/// gone or larger than `max_debug_file_size`.
async fn build(
    state: &AppState,
    blob: &BlobChecksum,
    debug_id: &str,
) -> Result<Option<Built>, StoreError> {
    let Some(content) = state.blobs.get(blob).await? else {
        return Ok(None);
    };
    let limit = state.limits.max_debug_file_size;
    let mut bytes = Vec::with_capacity(usize::try_from(content.size).unwrap_or(0).min(limit));
    let mut stream = content.stream;
    while let Some(part) = stream.next().await {
        let part = part?;
        if bytes.len() + part.len() > limit {
            return Ok(None);
        }
        bytes.extend_from_slice(&part);
    }
    let debug_id = debug_id.to_owned();
    let built = tokio::task::spawn_blocking(move || {
        build_symcache(&bytes, &debug_id)
            .map(Arc::from)
            .map_err(|error| error.to_string())
    })
    .await
    .unwrap_or_else(|_| Err("building the symbolication cache failed".to_owned()));
    if let Err(reason) = &built {
        tracing::info!(%reason, "a debug file cannot be used");
    }
    Ok(Some(built))
}
