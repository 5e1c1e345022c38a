//! Integration tests of `sentry-store` through its public API.

#![allow(clippy::unwrap_used, reason = "tests may unwrap")]

mod conformance;
#[cfg(any(feature = "sqlite", feature = "duckdb"))]
mod retention;
