//! Symbolication: frames of minified or compiled code turned back into
//! the source they came from.
//!
//! - [`artifact_bundle`]: the archives `sentry-cli sourcemaps upload`
//!   sends, read.
//! - [`javascript`]: frames rewritten through source maps.
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
pub mod native;
pub mod proguard;
pub mod urls;
