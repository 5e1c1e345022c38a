//! Every envelope in `fixtures/envelopes` parses, round-trips, and its event
//! payloads deserialize.

use std::path::{Path, PathBuf};

use bytes::Bytes;
use sentry_core::envelope::ItemType;
use sentry_core::{Envelope, Event};

fn fixture(path: &str) -> PathBuf {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fixtures")
        .join(path);
    assert!(path.exists(), "missing fixture {}", path.display());
    path
}

fn envelopes() -> Vec<(String, Bytes)> {
    let mut found = Vec::new();
    for dir in ["envelopes", "envelopes/clients"] {
        for entry in std::fs::read_dir(fixture(dir)).unwrap() {
            let path = entry.unwrap().path();
            let is_envelope = path
                .extension()
                .is_some_and(|ext| ext == "bin" || ext == "envelope");
            if is_envelope {
                let body = Bytes::from(std::fs::read(&path).unwrap());
                found.push((path.display().to_string(), body));
            }
        }
    }
    assert!(
        found.len() >= 11,
        "expected all fixture envelopes, found {}",
        found.len()
    );
    found
}

#[test]
fn every_fixture_envelope_parses_and_round_trips() {
    for (name, body) in envelopes() {
        let envelope = Envelope::parse(body).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(!envelope.items.is_empty(), "{name} has no items");
        let again = Envelope::parse(envelope.to_bytes()).unwrap();
        assert_eq!(again, envelope, "{name} does not round-trip");
        for item in envelope
            .items
            .iter()
            .filter(|item| item.headers.ty == ItemType::Event)
        {
            let event: Event =
                serde_json::from_slice(&item.payload).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert!(event.event_id.is_some(), "{name}: event without id");
        }
    }
}

#[test]
fn node_envelope_without_lengths_or_final_newline() {
    let body = std::fs::read(fixture("envelopes/clients/node-event-attachment.envelope")).unwrap();
    assert_ne!(body.last(), Some(&b'\n'));
    let envelope = Envelope::parse(Bytes::from(body)).unwrap();
    assert_eq!(envelope.items.len(), 2);
    assert_eq!(&envelope.items[1].payload[..], b"hello");
    let event: Event = serde_json::from_slice(&envelope.items[0].payload).unwrap();
    assert_eq!(event.breadcrumbs.unwrap().values.len(), 1);
}

#[test]
fn multi_line_payload_with_length() {
    let body = std::fs::read(fixture("envelopes/clients/cli-send-event-raw.envelope")).unwrap();
    let envelope = Envelope::parse(Bytes::from(body)).unwrap();
    let event: Event = serde_json::from_slice(&envelope.items[0].payload).unwrap();
    assert_eq!(event.platform.as_deref(), Some("native"));
}

#[test]
fn bench_event_keeps_every_field_on_a_round_trip() {
    for name in ["envelopes/event.json", "envelopes/event-rich.json"] {
        let text = std::fs::read_to_string(fixture(name)).unwrap();
        let original: serde_json::Value = serde_json::from_str(&text).unwrap();
        let event: Event = serde_json::from_str(&text).unwrap();
        let mut written = serde_json::to_value(&event).unwrap();
        // Timestamps are written as unix seconds; compare them as such.
        let stamp = written["timestamp"].take();
        assert!(stamp.is_f64());
        let mut expected = original.clone();
        expected["timestamp"] = serde_json::Value::Null;
        // Tags are written as a list of pairs, in the order given.
        if let Some(tags) = expected["tags"].as_object() {
            let pairs: Vec<serde_json::Value> = tags
                .iter()
                .map(|(k, v)| serde_json::json!([k, v]))
                .collect();
            expected["tags"] = serde_json::Value::Array(pairs);
        }
        strip_timestamps_and_nulls(&mut expected);
        strip_timestamps_and_nulls(&mut written);
        assert_eq!(written, expected, "{name}");
    }
}

/// Drops nulls (written as absent) and timestamps (written as numbers) before comparing.
fn strip_timestamps_and_nulls(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::Object(map) => {
            map.retain(|key, value| !value.is_null() && key != "timestamp");
            map.values_mut().for_each(strip_timestamps_and_nulls);
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(strip_timestamps_and_nulls),
        _ => {}
    }
}

/// Found by the `envelope_parse` fuzz target: an integer too large for u64
/// in an item header is read as a float, and must read back the same after
/// a write (serde_json's `float_roundtrip`).
#[test]
fn huge_integer_in_item_header_round_trips() {
    let body = std::fs::read(fixture(
        "envelopes/regressions/huge-integer-in-item-header.envelope",
    ))
    .unwrap();
    let envelope = Envelope::parse(Bytes::from(body)).unwrap();
    assert_eq!(Envelope::parse(envelope.to_bytes()).unwrap(), envelope);
}
