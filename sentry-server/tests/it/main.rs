//! Integration tests of `sentry-server`: the binary on a real socket, driven
//! through its command line and HTTP, and by the real Sentry clients.

#![allow(clippy::unwrap_used, reason = "tests may unwrap")]

mod alerts;
mod api;
mod bad_input;
mod cleanup;
mod clients;
mod common;
mod config;
mod cors;
mod debug_files;
mod durability;
mod grouping;
mod issue_events;
mod issue_workflow;
mod items;
mod management;
mod minidump;
mod monitors;
mod openapi;
mod proguard;
#[cfg(all(feature = "postgres", feature = "clickhouse"))]
mod scale_out;
mod scrubbing;
mod security;
mod sentry_cli;
mod sourcemaps;
mod ui;
