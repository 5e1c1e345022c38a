//! Fuzzes `Envelope::parse` on arbitrary bytes; the properties are
//! [`sentry_fuzz::envelope_parse`]'s.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| sentry_fuzz::envelope_parse(data));
