//! Fuzzes `Envelope::parse` on arbitrary bytes.
//!
//! Properties:
//! - parsing never panics;
//! - whatever parses can be written with `to_bytes`, and parsing what was
//!   written gives the same envelope back.

#![no_main]

use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use sentry_core::Envelope;

fuzz_target!(|data: &[u8]| {
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
});
