//! Fuzzes event deserialization, normalization and grouping on arbitrary bytes.
//!
//! Properties:
//! - deserializing, normalizing and grouping never panic;
//! - a normalized event can always be serialized;
//! - grouping is deterministic: grouping the same event twice gives the same hash.

#![no_main]

use libfuzzer_sys::fuzz_target;
use sentry_core::grouping::{GroupingConfig, group};
use sentry_core::normalize::{NormalizeConfig, normalize};
use sentry_core::protocol::Timestamp;
use sentry_core::{Event, EventId};

fuzz_target!(|data: &[u8]| {
    let Ok(mut event) = serde_json::from_slice::<Event>(data) else {
        return;
    };
    // Fixed inputs keep a run reproducible: no clock and no random event id.
    let config = NormalizeConfig {
        received: Timestamp::from_unix_seconds(1_795_000_000.0).expect("timestamp in range"),
        envelope_event_id: Some(
            "5e5e5e5e5e5e4e5e9e5e5e5e5e5e5e5e"
                .parse::<EventId>()
                .expect("valid event id"),
        ),
    };
    normalize(&mut event, &config);

    let grouping_config = GroupingConfig::default();
    let first = group(&event, &grouping_config);
    let second = group(&event, &grouping_config);
    assert_eq!(first.hash, second.hash, "grouping is not deterministic");
    assert_eq!(first.hash.as_str().len(), 64);

    if let Err(err) = serde_json::to_vec(&event) {
        panic!("normalized event does not serialize: {err}\nevent: {event:?}");
    }
});
