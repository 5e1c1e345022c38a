//! A Sentry-compatible error tracking server.
//!
//! # The path of an event
//!
//! 1. An SDK posts an envelope to `POST /api/<project_id>/envelope/`
//!    (or a bare event to `/store/`). [`routes::ingest`] reads the body:
//!    [`ingest::body`] caps its size and undoes `Content-Encoding`.
//! 2. [`auth`] finds the DSN key in `X-Sentry-Auth`, `Authorization: Sentry`,
//!    the `sentry_key` query parameter or the envelope's `dsn` header, and
//!    the metadata store confirms that it belongs to the project.
//! 3. [`sentry_core::Envelope::parse`] splits the envelope into items
//!    without copying them; [`ingest::accept_envelope`] checks the event
//!    items' sizes and JSON and settles the event id.
//! 4. The request goes into the [`spool`], a write-ahead log in the data
//!    directory; once it is fsync'd (together with whatever else arrived
//!    meanwhile) the SDK gets `{"id": "<event_id>"}`. A full spool answers
//!    429 with `Retry-After`.
//! 5. [`ingest::worker`] reads the spool back in batches: it deserializes
//!    each event, normalizes it ([`sentry_core::normalize`]) with the
//!    client address and the envelope's `sent_at` ([`ingest::client`]),
//!    scrubs it with the project's settings ([`ingest::scrubbing`]), derives its
//!    title and culprit ([`sentry_core::summary`]) and groups it
//!    ([`sentry_core::grouping`]); the metadata store files it under the
//!    issue of its grouping hash, and the event store keeps the batch's
//!    payloads in one write. Attachments, sessions, user feedback,
//!    check-ins and client reports are handled beside them
//!    ([`ingest::items`]), and every item meets an outcome ([`outcomes`]).
//! 6. After each stored batch, [`alerts`] evaluates the projects' alert
//!    rules on what the events did to their issues, off the ingest path,
//!    and sends webhooks and emails in the background; [`monitors`]
//!    checks cron monitors for missed and timed-out runs.
//! 7. People and tools read issues and events through Sentry's web API
//!    under `/api/0/` ([`routes::issues`], [`routes::events`]), with a
//!    bearer token, and in the web UI ([`ui`]), whose pages run the same
//!    queries for a logged-in browser.
//!
//! Errors become JSON `{"detail": ...}` answers in one place, [`error`].

pub mod alerts;
pub mod auth;
pub mod cleanup;
pub mod cli;
pub mod config;
pub mod credentials;
pub mod error;
pub mod grouping_configs;
pub mod ignore_expiry;
pub mod ingest;
pub mod init;
pub mod logging;
pub mod metrics;
pub mod monitors;
pub mod outcomes;
pub mod periodic;
pub mod project_cache;
pub mod routes;
pub mod search;
pub mod server;
pub mod spool;
pub mod state;
pub mod symbolication;
pub mod ui;

pub use crate::routes::app;
pub use crate::state::AppState;
