//! Normalization: what happens to every event before scrubbing, grouping
//! and storage, following Relay's store normalization.
//!
//! Pure and deterministic: the caller passes the receive time and the
//! request facts (`sent_at`, the client address) in [`NormalizeConfig`].
//! Problems never reject an event: a value that cannot be kept is dropped
//! and recorded as a [`ProcessingError`] in the event's `errors`, and
//! trimmed values are noted in its `_meta`.
//!
//! The steps, each in its own module:
//!
//! - [`timestamps`]: clock drift from `sent_at`, clamping to the accepted
//!   window, `received`, a default `timestamp`.
//! - `ip`: `{{auto}}` becomes the client address.
//! - `request`: query strings and cookies become pairs.
//! - `logentry`: a plain `message` becomes `logentry.formatted`; templates
//!   are formatted from `params`.
//! - [`trimming`]: strings, tags, breadcrumbs, frames and data bags are
//!   cut to Sentry's maximums.

mod errors;
mod ip;
mod logentry;
mod request;
pub mod timestamps;
pub mod trimming;

use std::net::IpAddr;

pub use self::errors::{ErrorKind, ProcessingError};
pub use self::ip::AUTO_IP;

use crate::ids::EventId;
use crate::meta::MetaLog;
use crate::protocol::{Event, Level, Timestamp};
use crate::summary;

/// Facts about the request that carried an event, and the accepted window.
#[derive(Debug, Clone)]
pub struct NormalizeConfig {
    /// When the server received the event.
    pub received: Timestamp,
    /// The event id from the envelope header, used when the payload has none.
    pub envelope_event_id: Option<EventId>,
    /// When the SDK sent the envelope (its `sent_at` header), for clock
    /// drift correction.
    pub sent_at: Option<Timestamp>,
    /// The address the event came from; replaces `{{auto}}`.
    pub client_ip: Option<IpAddr>,
    /// How far in the past a timestamp may lie before it is clamped.
    pub max_secs_in_past: i64,
    /// How far in the future a timestamp may lie before it is clamped.
    pub max_secs_in_future: i64,
}

impl NormalizeConfig {
    /// Creates a config for an event received at `received`, with no
    /// request facts and Relay's default window (30 days back, 1 minute
    /// ahead).
    pub fn new(received: Timestamp) -> Self {
        Self {
            received,
            envelope_event_id: None,
            sent_at: None,
            client_ip: None,
            max_secs_in_past: timestamps::DEFAULT_MAX_SECS_IN_PAST,
            max_secs_in_future: timestamps::DEFAULT_MAX_SECS_IN_FUTURE,
        }
    }
}

/// Fills defaults, corrects and trims the event, and derives the fields
/// that grouping and the API rely on.
///
/// - `event_id` from the envelope, else random; `level` defaults to
///   `error`; `platform` to `other`; `type` is `error` when there is an
///   exception, else `default`; `culprit` is derived from the stack when
///   the SDK sent none.
/// - Timestamps, IP addresses, the request, the log entry and lengths as
///   the modules above describe.
pub fn normalize(event: &mut Event, config: &NormalizeConfig) {
    let mut errors = Vec::new();
    let mut meta = MetaLog::default();
    if event.event_id.is_none_or(|id| id.is_nil()) {
        event.event_id = Some(config.envelope_event_id.unwrap_or_else(EventId::new_random));
    }
    timestamps::normalize_timestamps(event, config, &mut errors);
    if event.level.is_none() {
        event.level = Some(Level::Error);
    }
    if event.platform.as_deref().is_none_or(str::is_empty) {
        event.platform = Some("other".to_owned());
    }
    ip::normalize_ip_addresses(event, config.client_ip, &mut errors);
    if let Some(request) = event.request.as_mut() {
        request::normalize_request(request);
    }
    logentry::normalize_logentry(event);
    if event.ty.is_none() {
        let has_exception = !event.exceptions().is_empty();
        event.ty = Some(if has_exception { "error" } else { "default" }.to_owned());
    }
    if event.culprit.is_none() {
        event.culprit = summary::culprit(event);
    }
    trimming::trim_event(event, &mut meta, &mut errors);
    errors::record(event, &errors);
    meta.write_to(event);
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn config() -> NormalizeConfig {
        NormalizeConfig::new(Timestamp::from_unix_seconds(1_700_000_000.0).unwrap())
    }

    #[test]
    fn fills_defaults() {
        let mut event = Event::default();
        normalize(&mut event, &config());
        assert!(event.event_id.is_some());
        assert_eq!(event.level, Some(Level::Error));
        assert_eq!(event.platform.as_deref(), Some("other"));
        assert_eq!(event.ty.as_deref(), Some("default"));
        assert_eq!(event.timestamp, event.received);
    }

    #[test]
    fn plain_message_becomes_formatted_logentry() {
        let mut event: Event = serde_json::from_str(r#"{"message":"hello"}"#).unwrap();
        normalize(&mut event, &config());
        assert_eq!(event.message, None);
        assert_eq!(event.logentry.unwrap().formatted.as_deref(), Some("hello"));
    }

    #[test]
    fn formats_params() {
        let mut event: Event = serde_json::from_str(
            r#"{"logentry":{"message":"User %s failed %d times, 100%%","params":["bob",3]}}"#,
        )
        .unwrap();
        normalize(&mut event, &config());
        assert_eq!(
            event.logentry.unwrap().formatted.as_deref(),
            Some("User bob failed 3 times, 100%")
        );
    }

    #[test]
    fn records_problems_on_the_event_instead_of_rejecting_it() {
        let received = config().received.as_unix_seconds();
        let mut event: Event = serde_json::from_value(json!({
            "timestamp": received + 86_400.0,
            "culprit": "c".repeat(250),
            "user": {"ip_address": "{{auto}}"},
        }))
        .unwrap();
        let config = NormalizeConfig {
            client_ip: "192.0.2.1".parse().ok(),
            ..config()
        };
        normalize(&mut event, &config);
        assert_eq!(event.timestamp, Some(config.received));
        assert_eq!(
            event.errors.as_ref().unwrap()[0]["type"],
            "future_timestamp"
        );
        assert_eq!(event.user.unwrap().ip_address.as_deref(), Some("192.0.2.1"));
        assert_eq!(event.other["_meta"]["culprit"][""]["len"], 250);
    }
}
