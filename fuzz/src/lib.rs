//! The properties the fuzz targets check, as plain functions: the targets
//! (`fuzz_targets/`) call them on libFuzzer's inputs, and `tests/corpus.rs`
//! replays the kept corpus through them on the stable toolchain.

use bytes::Bytes;
use sentry_core::encoding::ContentEncoding;
use sentry_core::grouping::{GroupingConfig, group};
use sentry_core::normalize::{NormalizeConfig, normalize};
use sentry_core::protocol::Timestamp;
use sentry_core::scrub::{ScrubbingSettings, scrub};
use sentry_core::{Envelope, Event, EventId};

/// `Envelope::parse` never panics; whatever parses can be written with
/// `to_bytes`, and parsing what was written gives the same envelope back.
///
/// # Panics
///
/// When a property does not hold.
pub fn envelope_parse(data: &[u8]) {
    let Ok(envelope) = Envelope::parse(Bytes::copy_from_slice(data)) else {
        return;
    };
    let written = envelope.to_bytes();
    let reparsed = match Envelope::parse(written.clone()) {
        Ok(reparsed) => reparsed,
        Err(err) => panic!(
            "written envelope does not parse: {err}\nwritten: {:?}",
            String::from_utf8_lossy(&written)
        ),
    };
    assert_eq!(
        reparsed,
        envelope,
        "write then parse is not the identity\nwritten: {:?}",
        String::from_utf8_lossy(&written)
    );
}

/// Deserializing, normalizing, scrubbing and grouping never panic; a
/// normalized event always serializes; grouping is deterministic.
///
/// # Panics
///
/// When a property does not hold.
pub fn event_json(data: &[u8]) {
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
}

/// Decoding a body in any content encoding never panics and never gives
/// more than the cap; what gzip encodes decodes back. The first byte picks
/// the encoding, the rest is the body.
///
/// # Panics
///
/// When a property does not hold.
pub fn decompression(data: &[u8]) {
    use std::io::Write as _;

    const LIMIT: usize = 64 * 1024;
    const ENCODINGS: [ContentEncoding; 5] = [
        ContentEncoding::Identity,
        ContentEncoding::Gzip,
        ContentEncoding::Deflate,
        ContentEncoding::Brotli,
        ContentEncoding::Zstd,
    ];
    let Some((&selector, body)) = data.split_first() else {
        return;
    };
    let encoding = ENCODINGS[usize::from(selector) % ENCODINGS.len()];
    if let Ok(decoded) = encoding.decode(body, LIMIT) {
        assert!(decoded.len() <= LIMIT, "{encoding:?} decoded past the cap");
    }
    if body.len() <= LIMIT {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        encoder.write_all(body).expect("writing to memory");
        let gzipped = encoder.finish().expect("writing to memory");
        let decoded = ContentEncoding::Gzip
            .decode(&gzipped, LIMIT)
            .expect("gzip of a body within the cap decodes");
        assert_eq!(&decoded[..], body, "gzip round trip");
    }
}
