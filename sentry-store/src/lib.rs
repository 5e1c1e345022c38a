//! Storage backends for a Sentry-compatible error tracker.
//!
//! Each backend lives in its own module behind a cargo feature and implements
//! the traits of [`sentry_core::store`]. [`open_metadata`] and [`open_events`]
//! pick a backend by URL scheme, and [`open_blobs`] a blob store (a folder,
//! or Postgres; see [`blobs`]):
//!
//! | feature | URL | stores |
//! | --- | --- | --- |
//! | `sqlite` | `sqlite://PATH`, `sqlite::memory:` | metadata and events |
//! | `duckdb` | `duckdb://PATH`, `duckdb::memory:` | events |
//! | `postgres` | `postgres://USER[:PASSWORD]@HOST[:PORT]/DB`, `postgresql://…` | metadata, blobs |
//! | `clickhouse` | `clickhouse://[USER[:PASSWORD]@]HOST:HTTP_PORT/DB` | events |
//! | (none) | `file://PATH`, `file:///ABS/PATH`, a plain path | blobs |
//!
//! # Features
//!
//! - `sqlite` (default): SQLite through rusqlite, bundled.
//! - `duckdb`: DuckDB through the duckdb crate, bundled, no extensions.
//! - `postgres`: PostgreSQL through tokio-postgres and a deadpool pool, without TLS.
//! - `clickhouse`: ClickHouse over its HTTP interface (18.16 and later).
#![warn(missing_docs)]

mod any;
pub mod blobs;
#[cfg(feature = "clickhouse")]
pub mod clickhouse;
#[cfg(feature = "duckdb")]
pub mod duckdb;
#[cfg(any(feature = "sqlite", feature = "duckdb"))]
mod event_sql;
mod location;
#[cfg(feature = "postgres")]
pub mod postgres;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
mod records;
#[cfg(any(feature = "sqlite", feature = "duckdb"))]
mod sql_event_store;
#[cfg(feature = "sqlite")]
pub mod sqlite;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
mod text_search;

pub use crate::any::{AnyEventStore, AnyMetadataStore, open_events, open_metadata};
pub use crate::blobs::{AnyBlobStore, BlobLocation, FsBlobStore, open_blobs};
pub use crate::location::{DuckdbOptions, Location, ParseLocationError};
