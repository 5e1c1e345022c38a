//! Fuzzes event deserialization, normalization, scrubbing and grouping on
//! arbitrary bytes; the properties are [`sentry_fuzz::event_json`]'s.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| sentry_fuzz::event_json(data));
