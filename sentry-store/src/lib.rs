//! Storage backends for a Sentry-compatible error tracker.
//!
//! Each backend lives in its own module behind a cargo feature and implements
//! the traits of [`sentry_core::store`]. [`open_metadata`] and [`open_events`]
//! pick a backend by URL scheme:
//!
//! | feature | URL | stores |
//! | --- | --- | --- |
//! | `sqlite` | `sqlite://PATH`, `sqlite::memory:` | metadata and events |
//!
//! # Features
//!
//! - `sqlite` (default): SQLite through rusqlite, bundled.
#![warn(missing_docs)]

mod any;
mod location;
#[cfg(feature = "sqlite")]
pub mod sqlite;

pub use crate::any::{AnyEventStore, AnyMetadataStore, open_events, open_metadata};
pub use crate::location::{Location, ParseLocationError};
