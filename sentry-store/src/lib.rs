//! Storage backends for a Sentry-compatible error tracker.
//!
//! Each backend lives in its own module behind a cargo feature and implements
//! the traits of [`sentry_core::store`]. [`open_metadata`] and [`open_events`]
//! pick a backend by URL scheme:
//!
//! | feature | URL | stores |
//! | --- | --- | --- |
//! | `sqlite` | `sqlite://PATH`, `sqlite::memory:` | metadata and events |
//! | `postgres` | `postgres://USER[:PASSWORD]@HOST[:PORT]/DB`, `postgresql://…` | metadata |
//!
//! # Features
//!
//! - `sqlite` (default): SQLite through rusqlite, bundled.
//! - `postgres`: PostgreSQL through tokio-postgres and a deadpool pool, without TLS.
#![warn(missing_docs)]

mod any;
mod location;
#[cfg(feature = "postgres")]
pub mod postgres;
#[cfg(feature = "sqlite")]
pub mod sqlite;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
mod text_search;

pub use crate::any::{AnyEventStore, AnyMetadataStore, open_events, open_metadata};
pub use crate::location::{Location, ParseLocationError};
