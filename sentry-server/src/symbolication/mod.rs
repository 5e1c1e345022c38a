//! Symbolication in the processing pipeline: before an event is grouped,
//! its minified JavaScript frames are mapped back to their sources
//! ([`sourcemaps`]) and its native frames' addresses to functions, files
//! and lines ([`native`]), so that one bug is one issue whatever build it
//! came from.
//!
//! Symbolication never refuses an event: what cannot be found or read is
//! recorded in the event's `errors`, and a store that fails leaves the
//! event as it came (with a warning in the log).

pub mod native;
pub mod sourcemaps;

use sentry_core::ProjectId;
use sentry_core::protocol::Event;
use sentry_core::symbolication::{javascript, native as native_frames};

use crate::state::AppState;

/// Symbolicates what can be of an event, in place.
pub async fn symbolicate(state: &AppState, project_id: ProjectId, event: &mut Event) {
    symbolicate_javascript(state, project_id, event).await;
    symbolicate_native(state, project_id, event).await;
}

async fn symbolicate_native(state: &AppState, project_id: ProjectId, event: &mut Event) {
    let images = native_frames::prepare(event);
    if images.is_empty() {
        return;
    }
    let started = std::time::Instant::now();
    let lookups = match state
        .native_symbols
        .resolve(state, project_id, &images)
        .await
    {
        Ok(lookups) => lookups,
        Err(error) => {
            tracing::warn!(%error, %project_id, "cannot look up debug files; the event stays unsymbolicated");
            return;
        }
    };
    let outcome = native_frames::symbolicate(event, &lookups);
    metrics::counter!("sentry_symbolicated_frames_total", "platform" => "native")
        .increment(outcome.symbolicated as u64);
    metrics::counter!("sentry_unsymbolicated_frames_total", "platform" => "native")
        .increment(outcome.unsymbolicated as u64);
    metrics::histogram!("sentry_symbolication_duration_seconds", "platform" => "native")
        .record(started.elapsed().as_secs_f64());
}

async fn symbolicate_javascript(state: &AppState, project_id: ProjectId, event: &mut Event) {
    let modules = javascript::prepare(event);
    if modules.is_empty() {
        return;
    }
    let started = std::time::Instant::now();
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
    metrics::counter!("sentry_symbolicated_frames_total", "platform" => "javascript")
        .increment(outcome.symbolicated as u64);
    metrics::counter!("sentry_unsymbolicated_frames_total", "platform" => "javascript")
        .increment(outcome.unsymbolicated as u64);
    metrics::histogram!("sentry_symbolication_duration_seconds", "platform" => "javascript")
        .record(started.elapsed().as_secs_f64());
}
