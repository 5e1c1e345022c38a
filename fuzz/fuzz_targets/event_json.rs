//! Fuzzes event deserialization, normalization, scrubbing and grouping on
//! arbitrary bytes.
//!
//! Properties:
//! - deserializing, normalizing, scrubbing and grouping never panic;
//! - a normalized event can always be serialized;
//! - grouping is deterministic: grouping the same event twice gives the same hash.

#![no_main]

use libfuzzer_sys::fuzz_target;
use sentry_core::grouping::{GroupingConfig, group};
use sentry_core::normalize::{NormalizeConfig, normalize};
use sentry_core::protocol::Timestamp;
use sentry_core::scrub::{ScrubbingSettings, scrub};
use sentry_core::{Event, EventId};

fuzz_target!(|data: &[u8]| {
    let Ok(mut event) = serde_json::from_slice::<Event>(data) else {
        return;
    };
    // Fixed inputs keep a run reproducible: no clock and no random event id.
    let config = NormalizeConfig {
        envelope_event_id: Some(
            "5e5e5e5e5e5e4e5e9e5e5e5e5e5e5e5e"
                .parse::<EventId>()
                .expect("valid event id"),
        ),
        sent_at: Timestamp::from_unix_seconds(1_794_000_000.0),
        client_ip: "192.0.2.1".parse().ok(),
        ..NormalizeConfig::new(
            Timestamp::from_unix_seconds(1_795_000_000.0).expect("timestamp in range"),
        )
    };
    normalize(&mut event, &config);
    let settings = ScrubbingSettings {
        sensitive_fields: vec!["id".to_owned()],
        safe_fields: vec!["data".to_owned()],
        scrub_ip_addresses: true,
        ..ScrubbingSettings::default()
    };
    scrub(&mut event, &settings);

    let grouping_config = GroupingConfig::default();
    let first = group(&event, &grouping_config);
    let second = group(&event, &grouping_config);
    assert_eq!(first.hash, second.hash, "grouping is not deterministic");
    assert_eq!(first.hash.as_str().len(), 64);

    if let Err(err) = serde_json::to_vec(&event) {
        panic!("normalized and scrubbed event does not serialize: {err}\nevent: {event:?}");
    }
});
