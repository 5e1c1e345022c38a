//! Integration tests of `sentry-core` through its public API.

mod envelope;
