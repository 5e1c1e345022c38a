//! Symbolication: frames of minified or compiled code turned back into
//! the source they came from.
//!
//! - [`artifact_bundle`]: the archives `sentry-cli sourcemaps upload`
//!   sends, read.
//! - [`javascript`]: frames rewritten through source maps.
//! - [`minidump`]: minidumps read and their stacks walked, into an
//!   event's exception, threads and debug images.
//! - [`native`]: frames rewritten through debug files (ELF, Mach-O,
//!   PDB, Breakpad), inlined calls included.
//! - [`proguard`]: obfuscated Java frames rewritten through ProGuard and
//!   R8 mappings.
//! - [`urls`]: where an artifact may be stored for a frame's URL, and how
//!   relative references resolve.
//!
//! Like the rest of the crate this does no I/O: the server finds the
//! files an event needs and hands them over.

mod context;

pub mod artifact_bundle;
pub mod javascript;
pub mod minidump;
pub mod native;
pub mod proguard;
pub mod urls;

use serde_json::Value;

use crate::protocol::{Event, Stacktrace};

/// The stack traces symbolication rewrites, each with the raw stack trace
/// slot of its exception or thread, where the frames as they came are
/// kept (the top-level stack trace has none).
pub(crate) fn stacktraces_mut(
    event: &mut Event,
) -> Vec<(&mut Stacktrace, Option<&mut Option<Stacktrace>>)> {
    let mut found = Vec::new();
    if let Some(exceptions) = event.exception.as_mut() {
        for exception in &mut exceptions.values {
            if let Some(stacktrace) = exception.stacktrace.as_mut() {
                found.push((stacktrace, Some(&mut exception.raw_stacktrace)));
            }
        }
    }
    if let Some(threads) = event.threads.as_mut() {
        for thread in &mut threads.values {
            if let Some(stacktrace) = thread.stacktrace.as_mut() {
                found.push((stacktrace, Some(&mut thread.raw_stacktrace)));
            }
        }
    }
    if let Some(stacktrace) = event.stacktrace.as_mut() {
        found.push((stacktrace, None));
    }
    found
}

/// Adds a processing error for the event's `errors`, once.
pub(crate) fn push_error(errors: &mut Vec<Value>, error: Value) {
    if !errors.contains(&error) {
        errors.push(error);
    }
}
