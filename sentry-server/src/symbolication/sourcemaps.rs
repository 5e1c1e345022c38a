//! Finding an event's source maps in the project's artifact bundles, and
//! keeping their lookup caches.
//!
//! A minified file is found by the debug ID the event's `debug_meta`
//! gives it, else by the event's release and distribution and the file's
//! URL ([`candidate_urls`]); its source map by the same debug ID, else by
//! the URL its `sourcemap` header or `sourceMappingURL` comment names,
//! resolved against the file's URL. A source map found through a debug ID
//! reports `resolved_with: "debug-id"`, one found through the release
//! `"release"`.
//!
//! Building a lookup cache means reading both files out of their bundles
//! and parsing the source map, which is the slow part; the caches are kept
//! in memory, by bundle and file, within half of
//! `max_symbolication_cache_memory`, the least recently used going first,
//! and on disk ([`DiskCache`]). A source map that cannot be
//! read is remembered as such, so that it is not parsed again for every
//! event. A file a release has no upload for is remembered as absent for
//! [`ABSENCE_TTL`] (apps that ship unminified code, or upload nothing,
//! would otherwise cost a lookup per file per event); an upload to this
//! server forgets every absence at once, one to another node of a cluster
//! is seen within the TTL.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use quick_cache::Weighter;
use quick_cache::sync::Cache;
use sentry_core::ProjectId;
use sentry_core::store::{ArtifactLookup, ArtifactStore, BlobChecksum, FoundArtifact, StoreError};
use sentry_core::symbolication::artifact_bundle::{ArtifactBundle, ArtifactKind};
use sentry_core::symbolication::javascript::{
    ModuleLookup, ModuleRef, ResolvedWith, SourceMapModule,
};
use sentry_core::symbolication::urls::{candidate_urls, join, source_mapping_url};

use super::debug_files::cache_metric;
use super::disk_cache::DiskCache;
use super::read_blob;
use crate::state::AppState;

/// A minified file and its source map, each by bundle and path.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct CacheKey {
    minified: (BlobChecksum, String),
    source_map: (BlobChecksum, String),
}

/// A built lookup cache, or why none could be built.
type Built = Result<Arc<[u8]>, String>;

/// How long a file a release has no upload for is not looked up again.
pub const ABSENCE_TTL: Duration = Duration::from_secs(60);

/// The most absences remembered.
const MAX_ABSENCES: usize = 100_000;

/// A minified file by project, release, distribution and URL.
type AbsenceKey = (ProjectId, String, Option<String>, String);

#[derive(Clone)]
struct BytesWeighter;

impl Weighter<CacheKey, Built> for BytesWeighter {
    fn weight(&self, key: &CacheKey, value: &Built) -> u64 {
        let own = key.minified.1.len() + key.source_map.1.len() + 128;
        let built = match value {
            Ok(cache) => cache.len(),
            Err(reason) => reason.len(),
        };
        (own + built) as u64
    }
}

/// The source maps of all projects: their lookup caches in memory.
pub struct SourceMaps {
    built: Cache<CacheKey, Built, BytesWeighter>,
    disk: Arc<DiskCache>,
    /// Files releases have no upload for, and since when.
    absent: Cache<AbsenceKey, Instant>,
}

/// Why source maps could not be looked up.
#[derive(Debug, thiserror::Error)]
#[error("source map lookup failed")]
pub struct LookupError(#[from] StoreError);

impl SourceMaps {
    /// Keeps up to `memory` bytes of lookup caches in memory, and those
    /// built also in `disk`.
    pub fn new(memory: usize, disk: Arc<DiskCache>) -> Self {
        let items = (memory / (64 * 1024)).max(16);
        Self {
            built: Cache::with_weighter(items, memory as u64, BytesWeighter),
            disk,
            absent: Cache::new(MAX_ABSENCES),
        }
    }

    /// Forgets which files had no upload: something was uploaded.
    pub fn forget_absences(&self) {
        self.absent.clear();
    }

    /// Finds the source map of each minified file; files nothing is
    /// known of (no debug ID, no release) are left out.
    ///
    /// # Errors
    ///
    /// Fails when a store fails.
    pub async fn resolve(
        &self,
        state: &AppState,
        project_id: ProjectId,
        release: Option<&str>,
        dist: Option<&str>,
        modules: &[ModuleRef],
    ) -> Result<HashMap<String, ModuleLookup>, LookupError> {
        let mut lookups = HashMap::with_capacity(modules.len());
        for module in modules {
            let found = match module.debug_id {
                Some(debug_id) => Some(
                    self.by_debug_id(state, project_id, module, debug_id)
                        .await?,
                ),
                None => match release {
                    Some(release) => {
                        self.by_release(state, project_id, module, release, dist)
                            .await?
                    }
                    None => None,
                },
            };
            if let Some(found) = found {
                lookups.insert(module.abs_path.clone(), found);
            }
        }
        Ok(lookups)
    }

    async fn by_debug_id(
        &self,
        state: &AppState,
        project_id: ProjectId,
        module: &ModuleRef,
        debug_id: uuid::Uuid,
    ) -> Result<ModuleLookup, LookupError> {
        let find = |kind| ArtifactLookup::DebugId { debug_id, kind };
        let Some(minified) = state
            .metadata
            .find_artifact(project_id, &find(ArtifactKind::MinifiedSource))
            .await?
        else {
            return Ok(ModuleLookup::MissingSource);
        };
        let Some(source_map) = state
            .metadata
            .find_artifact(project_id, &find(ArtifactKind::SourceMap))
            .await?
        else {
            return Ok(ModuleLookup::MissingSourceMap);
        };
        self.module(state, module, &minified, &source_map, ResolvedWith::DebugId)
            .await
    }

    async fn by_release(
        &self,
        state: &AppState,
        project_id: ProjectId,
        module: &ModuleRef,
        release: &str,
        dist: Option<&str>,
    ) -> Result<Option<ModuleLookup>, LookupError> {
        let by_url = |url: &str| ArtifactLookup::Url {
            release: release.to_owned(),
            dist: dist.map(str::to_owned),
            urls: candidate_urls(url),
        };
        let absence = (
            project_id,
            release.to_owned(),
            dist.map(str::to_owned),
            module.abs_path.clone(),
        );
        if self
            .absent
            .get(&absence)
            .is_some_and(|since| since.elapsed() < ABSENCE_TTL)
        {
            return Ok(None);
        }
        let Some(minified) = state
            .metadata
            .find_artifact(project_id, &by_url(&module.abs_path))
            .await?
        else {
            // Nothing was uploaded for this file: not an error, many apps
            // ship unminified code.
            self.absent.insert(absence, Instant::now());
            return Ok(None);
        };
        let source_map = match minified.file.debug_id {
            Some(debug_id) => {
                let lookup = ArtifactLookup::DebugId {
                    debug_id,
                    kind: ArtifactKind::SourceMap,
                };
                state.metadata.find_artifact(project_id, &lookup).await?
            }
            None => {
                let reference = match &minified.file.source_map {
                    Some(reference) => Some(reference.clone()),
                    None => self.source_mapping_url(state, &minified).await?,
                };
                match reference {
                    Some(reference) => {
                        let url = join(&module.abs_path, &reference);
                        state
                            .metadata
                            .find_artifact(project_id, &by_url(&url))
                            .await?
                    }
                    None => None,
                }
            }
        };
        let Some(source_map) = source_map else {
            return Ok(Some(ModuleLookup::MissingSourceMap));
        };
        self.module(state, module, &minified, &source_map, ResolvedWith::Release)
            .await
            .map(Some)
    }

    /// The `sourceMappingURL` comment of a minified file.
    async fn source_mapping_url(
        &self,
        state: &AppState,
        minified: &FoundArtifact,
    ) -> Result<Option<String>, LookupError> {
        let Some(bundle) = read_bundle(state, &minified.bundle_blob).await? else {
            return Ok(None);
        };
        let limit = state.limits.max_source_file_size as u64;
        let path = minified.file.path.clone();
        let found = tokio::task::spawn_blocking(move || {
            let mut bundle = ArtifactBundle::open(&bundle).ok()?;
            let content = bundle.read(&path, limit).ok()?;
            source_mapping_url(&String::from_utf8_lossy(&content)).map(str::to_owned)
        })
        .await
        .ok()
        .flatten();
        Ok(found)
    }

    /// The lookup cache of a minified file and its source map, built
    /// unless kept.
    async fn module(
        &self,
        state: &AppState,
        module: &ModuleRef,
        minified: &FoundArtifact,
        source_map: &FoundArtifact,
        resolved_with: ResolvedWith,
    ) -> Result<ModuleLookup, LookupError> {
        let reference = minified
            .file
            .source_map
            .clone()
            .unwrap_or_else(|| file_name(&source_map.file.url).to_owned());
        let source_map_url = join(&module.abs_path, &reference);
        let key = CacheKey {
            minified: (minified.bundle_blob, minified.file.path.clone()),
            source_map: (source_map.bundle_blob, source_map.file.path.clone()),
        };
        let built = match self.built.get(&key) {
            Some(built) => {
                cache_metric("sourcemap", "memory");
                built
            }
            None => {
                let disk_key = format!(
                    "sourcemap:{}:{}:{}:{}",
                    key.minified.0, key.minified.1, key.source_map.0, key.source_map.1
                );
                let kept = self.disk.get(&disk_key).await.filter(|cache| {
                    SourceMapModule::from_cache(Arc::clone(cache), String::new(), resolved_with)
                        .is_ok()
                });
                let built = match kept {
                    Some(cache) => {
                        cache_metric("sourcemap", "disk");
                        Ok(cache)
                    }
                    None => {
                        cache_metric("sourcemap", "built");
                        let Some(built) = build(state, minified, source_map).await? else {
                            return Ok(ModuleLookup::MissingSource);
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
            Ok(cache) => {
                match SourceMapModule::from_cache(cache, source_map_url.clone(), resolved_with) {
                    Ok(module) => ModuleLookup::Found(module),
                    Err(_) => ModuleLookup::MalformedSourceMap {
                        url: source_map_url,
                    },
                }
            }
            Err(_) => ModuleLookup::MalformedSourceMap {
                url: source_map_url,
            },
        })
    }
}

/// The last segment of a URL.
fn file_name(url: &str) -> &str {
    url.rsplit('/').next().unwrap_or(url)
}

/// Reads a bundle's blob whole, up to `max_artifact_bundle_size`; `None`
/// when it is gone or larger.
async fn read_bundle(
    state: &AppState,
    checksum: &BlobChecksum,
) -> Result<Option<Arc<[u8]>>, StoreError> {
    let limit = state.limits.max_artifact_bundle_size;
    Ok(read_blob(state, checksum, limit).await?.map(Arc::from))
}

/// Builds the lookup cache of a minified file and its source map; `None`
/// when a bundle is gone.
async fn build(
    state: &AppState,
    minified: &FoundArtifact,
    source_map: &FoundArtifact,
) -> Result<Option<Built>, StoreError> {
    let Some(minified_bundle) = read_bundle(state, &minified.bundle_blob).await? else {
        return Ok(None);
    };
    let map_bundle = if source_map.bundle_blob == minified.bundle_blob {
        Arc::clone(&minified_bundle)
    } else {
        let Some(bundle) = read_bundle(state, &source_map.bundle_blob).await? else {
            return Ok(None);
        };
        bundle
    };
    let limit = state.limits.max_source_file_size as u64;
    let minified_path = minified.file.path.clone();
    let map_path = source_map.file.path.clone();
    let built = tokio::task::spawn_blocking(move || -> Built {
        let read = |content: &[u8], path: &str| -> Result<String, String> {
            let mut bundle = ArtifactBundle::open(content).map_err(|error| error.to_string())?;
            let bytes = bundle
                .read(path, limit)
                .map_err(|error| error.to_string())?;
            String::from_utf8(bytes).map_err(|_| format!("`{path}` is not UTF-8"))
        };
        let minified = read(&minified_bundle, &minified_path)?;
        let source_map = read(&map_bundle, &map_path)?;
        SourceMapModule::build(&minified, &source_map)
            .map(Arc::from)
            .map_err(|error| error.to_string())
    })
    .await
    .unwrap_or_else(|_| Err("building the source map cache failed".to_owned()));
    if let Err(reason) = &built {
        tracing::info!(%reason, path = %source_map.file.path, "a source map cannot be used");
    }
    Ok(Some(built))
}
