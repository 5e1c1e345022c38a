//! Integration tests of `sentry-core` through its public API.

#![allow(clippy::unwrap_used, reason = "tests may unwrap")]

mod envelope;
mod grouping;
