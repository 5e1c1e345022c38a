//! Integration tests of `sentry-store` through its public API.

mod conformance;
