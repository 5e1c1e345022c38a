//! Protocol types, envelope parsing, normalization, grouping and storage
//! traits for a Sentry-compatible error tracker.
//!
//! # Overview
//!
//! - [`Envelope`]: the SDK wire format; parse it with [`Envelope::parse`],
//!   write it back with [`Envelope::to_bytes`].
//! - [`Event`]: an error event and its interfaces ([`protocol`]).
//! - [`normalize::normalize`]: fills defaults, corrects timestamps, trims to
//!   Sentry's maximums and derives fields before grouping.
//! - [`scrub::scrub`]: Sentry's data scrubber, with a project's
//!   [`scrub::ScrubbingSettings`].
//! - [`grouping::group`]: assigns an event to an issue through its [`GroupingHash`].
//! - [`security_report::convert`]: turns browsers' CSP, HPKP, Expect-CT and
//!   Expect-Staple reports into events.
//! - [`items`]: sessions, client reports, user feedback and check-ins
//!   read from their envelope items.
//! - [`minidump_upload`]: the form of a minidump upload as an event.
//! - [`store`]: the contracts every storage backend implements.
//! - [`symbolication`]: frames of minified or compiled code mapped back to
//!   their sources (source maps, native debug files, ProGuard mappings),
//!   and minidumps read and their stacks walked.
//!
//! The crate does no I/O: the store and the server do.
#![warn(missing_docs)]

mod auth;
mod dsn;
mod ids;
mod meta;

pub mod encoding;
pub mod envelope;
pub mod grouping;
pub mod items;
pub mod minidump_upload;
pub mod normalize;
pub mod protocol;
pub mod scrub;
pub mod security_report;
pub mod store;
pub mod summary;
pub mod symbolication;
pub mod tags;

pub use crate::auth::{AuthError, ClientAuth};
pub use crate::dsn::{Dsn, ParseDsnError};
pub use crate::envelope::Envelope;
pub use crate::grouping::GroupingHash;
pub use crate::ids::{
    CheckInId, DeployId, EventId, IssueId, MonitorId, OrgId, ParseIdError, ProjectId, ProjectKey,
    ReleaseId, RuleId, TeamId, UserId,
};
pub use crate::protocol::Event;
