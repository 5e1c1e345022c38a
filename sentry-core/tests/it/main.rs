//! Integration tests of `sentry-core` through its public API.

#![allow(clippy::unwrap_used, reason = "tests may unwrap")]

mod envelope;
mod grouping;
#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
mod minidump;
