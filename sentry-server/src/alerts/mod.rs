//! Alerts: per-project rules on new, regressed, reappeared and busy
//! issues, whose actions post webhooks (Sentry's JSON or Slack's) and send
//! email. Rules are evaluated off the ingest path ([`engine`]), messages
//! are sent and retried in the background ([`delivery`]).

pub mod delivery;
pub mod engine;
pub mod message;
pub mod rules;

pub use engine::{Alerts, IssueSignal};
