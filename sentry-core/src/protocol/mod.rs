//! Error event types, as Sentry documents them in its SDK developer docs
//! ("Event Payloads" and the interface pages).
//!
//! Field names are the wire names. Every object that SDKs may extend keeps
//! the fields it does not know in `other`, so an event written back out
//! carries everything it was given. Fields that SDKs send in more than one
//! shape (timestamps, `exception`, `breadcrumbs`, `tags`) are read leniently
//! by the types in `lenient`, and written in one canonical shape.

mod breadcrumb;
mod debug_meta;
mod event;
mod exception;
mod lenient;
mod request;
mod sdk;
mod stacktrace;
mod thread;
mod user;

pub use self::breadcrumb::Breadcrumb;
pub use self::debug_meta::DebugMeta;
pub use self::event::{Event, Level, LogEntry, Message};
pub use self::exception::{Exception, Mechanism};
pub use self::lenient::{Tags, Timestamp, Values};
pub use self::request::Request;
pub use self::sdk::ClientSdk;
pub use self::stacktrace::{Frame, Stacktrace};
pub use self::thread::Thread;
pub use self::user::User;

/// Fields of an object that this crate does not model, kept as they came.
pub type Other = serde_json::Map<String, serde_json::Value>;
