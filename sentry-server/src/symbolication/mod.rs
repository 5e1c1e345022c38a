//! Symbolication in the processing pipeline: before an event is grouped,
//! its minidump, if it came with one, is walked into its crash, threads
//! and modules (with the call frame information of the project's debug
//! files), its minified JavaScript frames are mapped back to their sources
//! ([`sourcemaps`]), its native frames' addresses to functions, files and
//! lines, and its obfuscated Java frames to their classes and methods
//! (both through the project's debug files, [`debug_files`]), so that one
//! bug is one issue whatever build it came from.
//!
//! Symbolication never refuses an event: what cannot be found or read is
//! recorded in the event's `errors`, and a store that fails leaves the
//! event as it came (with a warning in the log).

pub mod debug_files;
pub mod disk_cache;
pub mod sourcemaps;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use futures_util::StreamExt;
use sentry_core::ProjectId;
use sentry_core::protocol::Event;
use sentry_core::store::{BlobChecksum, BlobStore, StoreError};
use sentry_core::symbolication::minidump::{self, CfiModule};
use sentry_core::symbolication::native::{ImageLookup, SymCacheModule, build_symcache};
use sentry_core::symbolication::proguard::{self, MappingLookup, MappingModule};
use sentry_core::symbolication::{javascript, native};

use crate::state::AppState;
use debug_files::{CacheKind, Found};

/// Reads a blob whole, up to `limit` bytes; `None` when it is gone or
/// larger.
async fn read_blob(
    state: &AppState,
    checksum: &BlobChecksum,
    limit: usize,
) -> Result<Option<Vec<u8>>, StoreError> {
    let Some(blob) = state.blobs.get(checksum).await? else {
        return Ok(None);
    };
    let mut content = Vec::with_capacity(usize::try_from(blob.size).unwrap_or(0).min(limit));
    let mut stream = blob.stream;
    while let Some(part) = stream.next().await {
        let part = part?;
        if content.len() + part.len() > limit {
            return Ok(None);
        }
        content.extend_from_slice(&part);
    }
    Ok(Some(content))
}

/// Symbolicates what can be of an event, in place, its minidump (an
/// `event.minidump` attachment) first.
pub async fn symbolicate(
    state: &AppState,
    project_id: ProjectId,
    event: &mut Event,
    minidump: Option<Bytes>,
) {
    if let Some(dump) = minidump {
        process_minidump(state, project_id, event, dump).await;
    }
    symbolicate_javascript(state, project_id, event).await;
    symbolicate_native(state, project_id, event).await;
    symbolicate_java(state, project_id, event).await;
}

/// Records what symbolicating one platform did.
fn record(platform: &'static str, started: Instant, symbolicated: usize, unsymbolicated: usize) {
    metrics::counter!("sentry_symbolicated_frames_total", "platform" => platform)
        .increment(symbolicated as u64);
    metrics::counter!("sentry_unsymbolicated_frames_total", "platform" => platform)
        .increment(unsymbolicated as u64);
    metrics::histogram!("sentry_symbolication_duration_seconds", "platform" => platform)
        .record(started.elapsed().as_secs_f64());
}

fn cannot_look_up(project_id: ProjectId, error: &StoreError) {
    tracing::warn!(%error, %project_id, "cannot look up debug files; the event stays unsymbolicated");
}

async fn symbolicate_native(state: &AppState, project_id: ProjectId, event: &mut Event) {
    let images = native::prepare(event);
    if images.is_empty() {
        return;
    }
    let started = Instant::now();
    let kind = CacheKind {
        name: "symcache",
        build: |content, debug_id| {
            build_symcache(content, debug_id).map_err(|error| error.to_string())
        },
        check: |cache| SymCacheModule::from_cache(Arc::from(cache)).is_ok(),
    };
    let mut lookups = HashMap::with_capacity(images.len());
    for image in &images {
        let found = match state
            .debug_files
            .find(state, project_id, &image.debug_id, &kind)
            .await
        {
            Ok(found) => found,
            Err(error) => return cannot_look_up(project_id, &error),
        };
        let lookup = match found {
            Found::Cache(cache) => match SymCacheModule::from_cache(cache) {
                Ok(module) => ImageLookup::Found(module),
                Err(error) => ImageLookup::Malformed(error.to_string()),
            },
            Found::Missing => ImageLookup::Missing,
            Found::Unreadable(reason) => ImageLookup::Malformed(reason),
        };
        lookups.insert(image.debug_id.clone(), lookup);
    }
    let outcome = native::symbolicate(event, &lookups);
    record(
        "native",
        started,
        outcome.symbolicated,
        outcome.unsymbolicated,
    );
}

/// Walks a minidump's stacks into the event, with the call frame
/// information of the modules the project has debug files for.
async fn process_minidump(state: &AppState, project_id: ProjectId, event: &mut Event, dump: Bytes) {
    let started = Instant::now();
    let modules = match minidump::list_modules(&dump) {
        Ok(modules) => modules,
        Err(error) => return minidump::record_failure(event, &error),
    };
    let kind = CacheKind {
        name: "cfi",
        build: |content, debug_id| {
            minidump::build_cfi(content, debug_id).map_err(|error| error.to_string())
        },
        check: |cache| CfiModule::from_cache(cache).is_ok(),
    };
    let mut cfi = HashMap::new();
    for debug_id in modules.iter().filter_map(|module| module.debug_id.as_ref()) {
        if cfi.contains_key(debug_id) {
            continue;
        }
        match state
            .debug_files
            .find(state, project_id, debug_id, &kind)
            .await
        {
            Ok(Found::Cache(cache)) => {
                // Modules without CFI are walked by frame pointers and
                // stack scanning.
                if let Ok(module) = CfiModule::from_cache(&cache) {
                    cfi.insert(debug_id.clone(), module);
                }
            }
            Ok(Found::Missing | Found::Unreadable(_)) => {}
            Err(error) => {
                cannot_look_up(project_id, &error);
                break;
            }
        }
    }
    let walked = tokio::task::spawn_blocking(move || minidump::process(&dump, &cfi)).await;
    match walked {
        Ok(Ok(processed)) => processed.apply(event),
        Ok(Err(error)) => minidump::record_failure(event, &error),
        Err(error) => tracing::warn!(%error, %project_id, "minidump processing stopped"),
    }
    metrics::histogram!("sentry_minidump_duration_seconds").record(started.elapsed().as_secs_f64());
}

async fn symbolicate_java(state: &AppState, project_id: ProjectId, event: &mut Event) {
    let uuids = proguard::prepare(event);
    if uuids.is_empty() {
        return;
    }
    let started = Instant::now();
    let kind = CacheKind {
        name: "proguard",
        build: |content, _| proguard::build_cache(content).map_err(|error| error.to_string()),
        check: |cache| MappingModule::from_cache(Arc::from(cache)).is_ok(),
    };
    let mut lookups = HashMap::with_capacity(uuids.len());
    for uuid in uuids {
        let found = match state
            .debug_files
            .find(state, project_id, &uuid, &kind)
            .await
        {
            Ok(found) => found,
            Err(error) => return cannot_look_up(project_id, &error),
        };
        let lookup = match found {
            Found::Cache(cache) => match MappingModule::from_cache(cache) {
                Ok(module) => MappingLookup::Found(module),
                Err(error) => MappingLookup::Malformed(error.to_string()),
            },
            Found::Missing => MappingLookup::Missing,
            Found::Unreadable(reason) => MappingLookup::Malformed(reason),
        };
        lookups.insert(uuid, lookup);
    }
    let outcome = proguard::symbolicate(event, &lookups);
    record(
        "java",
        started,
        outcome.symbolicated,
        outcome.unsymbolicated,
    );
}

async fn symbolicate_javascript(state: &AppState, project_id: ProjectId, event: &mut Event) {
    let modules = javascript::prepare(event);
    if modules.is_empty() {
        return;
    }
    let started = Instant::now();
    let release = event.release.clone();
    let dist = event.dist.clone();
    let lookups = match state
        .source_maps
        .resolve(
            state,
            project_id,
            release.as_deref(),
            dist.as_deref(),
            &modules,
        )
        .await
    {
        Ok(lookups) => lookups,
        Err(error) => {
            tracing::warn!(%error, %project_id, "cannot look up source maps; the event stays minified");
            return;
        }
    };
    let outcome = javascript::symbolicate(event, &lookups);
    record(
        "javascript",
        started,
        outcome.symbolicated,
        outcome.unsymbolicated,
    );
}
